"""Mounts the MES areas' page routers under /mes/."""

import importlib

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _area in ("work_orders_web", "routings_web", "terminal_web", "quality_web", "feeding_web", "trace_web",
              "shopfloor_web", "calendar_web", "schedule_web"):
    try:
        router.include_router(importlib.import_module(f"opensupply.mes.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.mes.{_area}":
            raise
