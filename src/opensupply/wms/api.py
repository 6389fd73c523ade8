"""Mounts the WMS areas' REST routers under /api/v1/wms/."""

import importlib

from fastapi import APIRouter

router = APIRouter()
for _area in ("layout_api", "inbound_api", "outbound_api"):
    try:
        router.include_router(importlib.import_module(f"opensupply.wms.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.wms.{_area}":
            raise
