"""All ERP tables, so the registry and Alembic see them through one import."""

import importlib

for _area in ("purchasing", "sales", "planning", "intercompany"):
    try:
        importlib.import_module(f"opensupply.erp.{_area}.models")
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.erp.{_area}.models":
            raise
