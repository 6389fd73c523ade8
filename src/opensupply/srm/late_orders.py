"""Late purchase orders (fulfilment tracking): confirmed orders with something still to receive whose due date —
the date the supplier promised through the portal, else the order's expected date — has passed. Read-only:
orders come from ERP purchasing, promised dates from SRM's PO confirmations, goods on the way from the supplier's
advance ship notices (an order whose goods are shipped is still late, but the buyer sees when they should come)."""

from __future__ import annotations

import datetime as dt

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing

from . import asn, portal


def late_orders(uow: UnitOfWork, *, today: dt.date | None = None, q: str | None = None,
                supplier_id: int | None = None, min_days: int = 1, include_unconfirmed: bool = True,
                limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """(rows, total) of open orders at least `min_days` past their due date, most overdue first. An order with
    neither a promised nor an expected date has no due date and is never late."""
    uow.actor.require("srm.read")
    if int(min_days) < 0:
        raise ValidationFailed(_("逾期天数不能为负数"), field="min_days")
    today = today or company_today(uow)
    orders = purchasing.open_orders_for_tracking(uow)
    promised = portal.promised_dates(uow, [o["id"] for o in orders])
    needle = (q or "").strip().lower()
    rows = []
    for o in orders:
        if supplier_id and o["supplier_id"] != int(supplier_id):
            continue
        p = promised.get(o["id"])
        if p is None and not include_unconfirmed:
            continue
        due = p or o["expected_date"]
        if due is None or (today - due).days < int(min_days):
            continue
        if needle and not any(needle in (v or "").lower() for v in (o["number"], o["supplier"], o["supplier_code"])):
            continue
        rows.append({**o, "promised_date": p, "due_date": due, "days_late": (today - due).days,
                     "open_quantity": o["ordered"] - o["received"], "confirmed": p is not None})
    rows.sort(key=lambda r: (-r["days_late"], r["number"]))
    page = rows[offset:offset + limit]
    transit = asn.in_transit_by_order(uow, [r["id"] for r in page])
    for r in page:
        t = transit.get(r["id"])
        r["in_transit"] = t["quantity"] if t else None
        r["arriving"] = t["expected_date"] if t else None
    return page, len(rows)
