"""Mounts the ERP areas' REST routers under /api/v1/erp/."""

import importlib

from fastapi import APIRouter

router = APIRouter()
for _area in ("purchasing", "sales", "reports", "planning"):
    try:
        router.include_router(importlib.import_module(f"opensupply.erp.{_area}.api").router)
    except ModuleNotFoundError as exc:
        if exc.name not in (f"opensupply.erp.{_area}", f"opensupply.erp.{_area}.api"):
            raise
