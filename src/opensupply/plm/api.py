"""Mounts the PLM areas' REST routers under /api/v1/plm/."""

import importlib

from fastapi import APIRouter

router = APIRouter()
for _area in ("lifecycle_api", "eco_api", "documents_api"):
    try:
        router.include_router(importlib.import_module(f"opensupply.plm.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.plm.{_area}":
            raise
