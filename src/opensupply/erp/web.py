"""Mounts the ERP areas' page routers under /erp/."""

import importlib

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _area in ("purchasing", "sales", "reports", "planning"):
    try:
        router.include_router(importlib.import_module(f"opensupply.erp.{_area}.web").router)
    except ModuleNotFoundError as exc:
        if exc.name not in (f"opensupply.erp.{_area}", f"opensupply.erp.{_area}.web"):
            raise
