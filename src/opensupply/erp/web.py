"""Mounts the ERP areas' page routers under /erp/."""

import importlib

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _area, _name in (("purchasing", "web"), ("sales", "web"), ("reports", "web"), ("planning", "web"),
                     ("planning", "capacity_web"), ("intercompany", "web")):
    try:
        router.include_router(importlib.import_module(f"opensupply.erp.{_area}.{_name}").router)
    except ModuleNotFoundError as exc:
        if exc.name not in (f"opensupply.erp.{_area}", f"opensupply.erp.{_area}.{_name}"):
            raise
