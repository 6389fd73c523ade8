"""Perpetual inventory: every valued stock move posts to the general ledger in the same
transaction, so the stock accounts always equal the valuation of on-hand stock.

The inventory service reports each batch of valued moves through its valuation hook;
the counterpart account follows from where the goods came from or went to."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from opensupply.core.types import ZERO
from opensupply.core.uow import UnitOfWork

from .service import EntryLine, money, post_entry

# far side of the move → account role (see chart.ROLES)
COUNTERPART = {
    "supplier": "grni",  # goods received not yet invoiced: cleared by the vendor bill
    "customer": "cogs",  # goods delivered: cost of goods sold (a customer return credits it)
    "inventory": "inventory_loss",  # count differences wait in 待处理财产损溢 for approval
    "scrap": "inventory_loss",
    "production": "wip",
    "transit": "goods_in_transit",
}


def local_date(uow: UnitOfWork, when: dt.datetime) -> dt.date:
    from opensupply.masterdata.models import Company

    company = uow.session.get(Company, uow.company_id)
    return when.astimezone(ZoneInfo(company.timezone if company else "Asia/Shanghai")).date()


def post_stock_valuation(uow: UnitOfWork, postings: list[dict]) -> None:
    """`postings`: one dict per valued move — product_id, value (positive: into stock,
    negative: out of stock), counterpart_usage, reference, date_done (aware datetime),
    and optionally counterpart (an account role or code chosen by the business document).
    One voucher per (date, reference, counterpart) group, one line per product and side."""
    groups: dict[tuple, dict[tuple[str, int], Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for p in postings:
        value = money(p["value"])
        if value == 0:
            continue
        counterpart = p.get("counterpart") or COUNTERPART.get(p["counterpart_usage"])
        if counterpart is None:
            continue  # internal transfer: same stock account on both sides
        key = (local_date(uow, p["date_done"]), p.get("reference") or "", counterpart)
        groups[key][("inventory", p["product_id"])] += value
        groups[key][(counterpart, p["product_id"])] -= value
    for (day, reference, _cp), amounts in groups.items():
        lines = [EntryLine(account=acc, debit=max(v, ZERO), credit=max(-v, ZERO), product_id=pid)
                 for (acc, pid), v in sorted(amounts.items(), key=lambda kv: (kv[0][0], kv[0][1])) if v != 0]
        if lines:
            post_entry(uow, journal="STK", date=day, lines=lines, memo="存货计价", reference=reference or None,
                       ref_type="stock")
