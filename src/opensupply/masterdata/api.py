"""Master-data REST endpoints: /api/v1/products, /partners, /warehouses, /locations, …"""

from fastapi import APIRouter

from opensupply.core.resource_api import resource_router

from . import bom_api, hr_api, resources

router = APIRouter()
for _res in (resources.companies, resources.uom_categories, resources.uoms, resources.product_categories,
             resources.products, resources.partners, resources.warehouses, resources.locations, resources.departments,
             resources.employees, resources.currency_rates):
    router.include_router(resource_router(_res))
router.include_router(bom_api.router)
router.include_router(hr_api.router)
