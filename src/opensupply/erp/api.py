"""Mounts the ERP areas' REST routers under /api/v1/erp/."""

import importlib

from fastapi import APIRouter

router = APIRouter()
for _area, _name in (("purchasing", "api"), ("sales", "api"), ("reports", "api"), ("planning", "api"),
                     ("planning", "capacity_api"), ("intercompany", "api")):
    try:
        router.include_router(importlib.import_module(f"opensupply.erp.{_area}.{_name}").router)
    except ModuleNotFoundError as exc:
        if exc.name not in (f"opensupply.erp.{_area}", f"opensupply.erp.{_area}.{_name}"):
            raise
