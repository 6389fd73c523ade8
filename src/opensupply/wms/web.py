"""Mounts the WMS areas' page routers under /wms/."""

import importlib

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _area in ("layout_web", "inbound_web", "outbound_web"):
    try:
        router.include_router(importlib.import_module(f"opensupply.wms.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.wms.{_area}":
            raise
