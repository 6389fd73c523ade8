"""Mounts the SRM areas' page routers under /srm/."""

import importlib

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _area in ("suppliers_web", "contracts_web", "complaints_web", "rfq_web", "portal_web", "scorecard_web",
              "late_orders_web", "asn_web"):
    try:
        router.include_router(importlib.import_module(f"opensupply.srm.{_area}").router)
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.srm.{_area}":
            raise
