"""Mounts the OMS areas' page routers under /oms/."""

import importlib

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _area in ("orders_web", "intake_web", "settlement_web"):
    try:
        router.include_router(importlib.import_module(f"opensupply.oms.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.oms.{_area}":
            raise
