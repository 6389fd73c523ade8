"""Mounts the MES areas' REST routers under /api/v1/mes/."""

import importlib

from fastapi import APIRouter

router = APIRouter()
for _area in ("work_orders_api", "routings_api", "terminal_api", "quality_api", "feeding_api", "trace_api",
              "shopfloor_api", "calendar_api", "schedule_api"):
    try:
        router.include_router(importlib.import_module(f"opensupply.mes.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.mes.{_area}":
            raise
