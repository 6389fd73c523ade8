"""Mounts the PLM areas' page routers under /plm/."""

import importlib

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _area in ("lifecycle_web", "eco_web", "documents_web"):
    try:
        router.include_router(importlib.import_module(f"opensupply.plm.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.plm.{_area}":
            raise
