"""Mounts the TMS areas' page routers under /tms/."""

import importlib

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _area in ("shipments_web", "rates_web", "freight_web", "fleet_web", "routes_web", "driver_web"):
    try:
        router.include_router(importlib.import_module(f"opensupply.tms.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.tms.{_area}":
            raise
