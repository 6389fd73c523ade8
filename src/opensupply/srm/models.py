"""SRM tables. Tables only; behaviour lives in the services.

Supplier-side tables (this file); RFQ/tender, portal and scorecard tables live in `tender_models.py`.
"""

from __future__ import annotations

from opensupply.core.db import Base  # noqa: F401

# RFQ / tender / portal / scorecard tables, kept in their own file by their own engineer.
try:
    import opensupply.srm.tender_models  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - until that file exists
    if exc.name != "opensupply.srm.tender_models":
        raise
