"""Performance views (绩效) drawn from what the documents already record — nothing is typed in
for them, so they cannot drift from the books.

- Salespeople: per employee on the sales order (`salesperson_id`): invoiced revenue (untaxed,
  credit notes negative, by invoice date), the cost the deliveries of those orders took out of
  stock (by delivery date), margin, what has been collected on the period's invoices, and what
  of them is overdue today.
- Buyers: per employee linked to the user who created the purchase order: receipt lines in the
  period and how many arrived on or before the order's expected date (on-time rate), plus the
  value received.

Orders without a salesperson, and purchase orders whose creator has no employee record, are
grouped under 未指定 so the totals still equal the 销售报表 / 采购报表 of the period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import case, select

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today
from opensupply.core.types import ZERO
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from .service import _d, _grouped, _start, period

UNASSIGNED = ("-", _l("未指定"))


def salespeople(uow: UnitOfWork, date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict:
    from opensupply.erp.sales.models import CustomerInvoice, SalesDelivery, SalesDeliveryLine, SalesOrder

    date_from, date_to = period(date_from, date_to, company_today(uow))
    today = company_today(uow)
    groups: dict = defaultdict(lambda: {"revenue": ZERO, "cost": ZERO, "invoiced": ZERO, "collected": ZERO,
                                        "overdue": ZERO, "documents": set()})
    labels: dict = {}
    emp = md.Employee
    inv = CustomerInvoice
    sign = case((inv.kind == "credit_note", -1), else_=1)
    rows = uow.session.execute(
        select(SalesOrder.salesperson_id, emp.code, emp.name, inv.id, inv.kind, inv.amount_untaxed * sign,
               inv.amount_total * sign, inv.amount_paid, inv.due_date, inv.state)
        .select_from(inv).join(SalesOrder, SalesOrder.id == inv.order_id)
        .outerjoin(emp, emp.id == SalesOrder.salesperson_id)
        .where(inv.company_id == uow.company_id, inv.invoice_date >= date_from, inv.invoice_date <= date_to))
    for sp, code, name, iid, kind, untaxed, total, paid, due, state in rows:
        key = sp or 0
        labels[key] = (code, name) if sp else UNASSIGNED
        g = groups[key]
        g["revenue"] += _d(untaxed)
        g["invoiced"] += _d(total)
        g["documents"].add(iid)
        if kind != "credit_note":
            g["collected"] += _d(paid)
            open_amount = _d(total) - _d(paid)
            if state == "posted" and open_amount > 0 and due < today:
                g["overdue"] += open_amount
    d, dl = SalesDelivery, SalesDeliveryLine
    for sp, code, name, cost in uow.session.execute(
            select(SalesOrder.salesperson_id, emp.code, emp.name, dl.cost_value)
            .select_from(d).join(dl, dl.delivery_id == d.id).join(SalesOrder, SalesOrder.id == d.order_id)
            .outerjoin(emp, emp.id == SalesOrder.salesperson_id)
            .where(d.company_id == uow.company_id, d.state == "done", d.date_done >= _start(uow, date_from),
                   d.date_done < _start(uow, date_to + dt.timedelta(days=1)))):
        key = sp or 0
        labels.setdefault(key, (code, name) if sp else UNASSIGNED)
        groups[key]["cost"] += _d(cost)
    for g in groups.values():
        g["margin"] = g["revenue"] - g["cost"]
    out = _grouped("salesperson", date_from, date_to, groups, labels,
                   ("cost", "margin", "invoiced", "collected", "overdue", "revenue"))
    for row in [*out["lines"], out["totals"]]:
        row["margin_pct"] = _pct(row["margin"], row["revenue"])
        row["collection_pct"] = _pct(row["collected"], row["invoiced"])
    return out


def buyers(uow: UnitOfWork, date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict:
    from opensupply.erp.purchasing.models import GoodsReceipt, GoodsReceiptLine, PurchaseOrder

    date_from, date_to = period(date_from, date_to, company_today(uow))
    groups: dict = defaultdict(lambda: {"lines": ZERO, "on_time": ZERO, "late": ZERO, "amount": ZERO,
                                        "documents": set()})
    labels: dict = {}
    emp = md.Employee
    r, rl, po = GoodsReceipt, GoodsReceiptLine, PurchaseOrder
    rows = uow.session.execute(
        select(emp.id, emp.code, emp.name, po.id, po.expected_date, r.receipt_date, rl.quantity, rl.unit_cost)
        .select_from(r).join(rl, rl.receipt_id == r.id).join(po, po.id == r.order_id)
        .outerjoin(emp, (emp.user_id == po.created_by_id) & (emp.company_id == po.company_id))
        .where(r.company_id == uow.company_id, r.state == "done", r.receipt_date >= date_from,
               r.receipt_date <= date_to))
    for eid, code, name, po_id, expected, received, qty, cost in rows:
        key = eid or 0
        labels[key] = (code, name) if eid else UNASSIGNED
        g = groups[key]
        g["lines"] += 1
        if expected is None or received <= expected:
            g["on_time"] += 1
        else:
            g["late"] += 1
        g["amount"] += (_d(qty) * _d(cost)).quantize(Decimal("0.01"))
        g["documents"].add(po_id)
    out = _grouped("buyer", date_from, date_to, groups, labels, ("on_time", "late", "amount", "lines"))
    for row in [*out["lines"], out["totals"]]:
        row["on_time_pct"] = _pct(row["on_time"], row["lines"])
    return out


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole * 100).quantize(Decimal("0.1")) if whole else None
