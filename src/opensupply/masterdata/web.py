"""Master-data pages: /products, /partners, /warehouses, /locations, …"""

from fastapi import APIRouter

from opensupply.web.resource_pages import resource_pages

from . import bom_web, hr_web, resources

router = APIRouter(include_in_schema=False)
router.include_router(bom_web.router)
router.include_router(hr_web.router)
for _res in (resources.companies, resources.uom_categories, resources.uoms, resources.product_categories,
             resources.products, resources.partners, resources.warehouses, resources.locations, resources.departments,
             resources.employees, resources.currency_rates):
    router.include_router(resource_pages(_res))
