"""Mounts the OMS areas' REST routers under /api/v1/oms/ (and its webhooks under /api/v1/webhooks/)."""

import importlib

from fastapi import APIRouter

router = APIRouter()
for _area in ("orders_api", "intake_api", "settlement_api", "webhooks"):
    try:
        router.include_router(importlib.import_module(f"opensupply.oms.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.oms.{_area}":
            raise
