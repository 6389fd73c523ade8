"""Mounts the SRM areas' REST routers under /api/v1/srm/."""

import importlib

from fastapi import APIRouter

router = APIRouter()
for _area in ("suppliers_api", "contracts_api", "complaints_api", "rfq_api", "portal_api", "scorecard_api",
              "late_orders_api", "asn_api"):
    try:
        router.include_router(importlib.import_module(f"opensupply.srm.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.srm.{_area}":
            raise
