"""Mounts the TMS areas' REST routers under /api/v1/tms/ (and its carrier webhooks under /api/v1/webhooks/)."""

import importlib

from fastapi import APIRouter

router = APIRouter()
for _area in ("shipments_api", "rates_api", "freight_api", "webhooks", "fleet_api", "routes_api"):
    try:
        router.include_router(importlib.import_module(f"opensupply.tms.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.tms.{_area}":
            raise
