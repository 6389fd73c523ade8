"""批量开票: invoice, in one transaction, every sales order delivered but not (fully) invoiced that matches a
filter — the channel orders of a shop at the end of the day or month, a wholesale customer's deliveries.

* ``preview_batch(uow, BatchFilter(...), invoice_type="normal") -> dict`` — writes nothing: the orders that
  would be invoiced, each with what its invoice would bill (net, VAT, gross of the delivered, not yet invoiced
  quantities, exactly as ``service.invoice_order`` computes them), the orders that cannot be invoiced with the
  reason (a 专票 for a customer without a valid tax id, a foreign currency without a rate), and the totals.
* ``invoice_batch(uow, BatchFilter(...), invoice_type="normal", invoice_date=None, expected_total=None)
  -> dict`` — one invoice per order through ``service.invoice_order`` (its own gap-free number, its own
  balanced voucher, the customer's credit applied), all in the caller's unit of work.

The documented behaviour: **all or nothing**. If any matching order cannot be invoiced, the whole request is
refused (``BatchRejected``, naming every such order and why) and nothing is written — narrow the filter or
pass ``order_ids`` (the preview's invoiceable orders) to leave them out. With ``expected_total`` (the preview's
gross total) a batch whose amounts changed since the preview is refused too. Orders with nothing left to
invoice are not an error: they are reported as skipped, so replaying a batch (a retried request, a second
click) invoices nothing and changes nothing. Another company's order ids are not found.

The filter: customer (id, code or name — an OMS shop's platform customer), channel, order date range,
optionally explicit order ids. At most ``MAX_ORDERS`` orders per batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import exists, select

from opensupply.accounting import fx
from opensupply.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.types import ZERO, to_decimal
from opensupply.core.uow import UnitOfWork

from . import service as svc
from .models import SalesOrder, SalesOrderLine

MAX_ORDERS = 1000


class BatchRejected(Conflict):
    """The batch was refused because some orders cannot be invoiced; `problems` names them."""

    code = "batch_rejected"

    def __init__(self, problems: list[dict]):
        first = problems[0]
        super().__init__(_("{n} 个订单不能开票，本批未开票：{order}：{reason}", n=len(problems),
                           order=first["order_number"], reason=first["reason"]), field="order_ids")
        self.problems = problems

    def as_dict(self) -> dict:
        out = super().as_dict()
        out["error"]["problems"] = self.problems
        return out


@dataclass
class BatchFilter:
    customer: int | str | None = None
    channel: str | None = None
    date_from: dt.date | None = None  # order date
    date_to: dt.date | None = None
    order_ids: list[int] | None = field(default=None)

    def is_empty(self) -> bool:
        return not (self.customer not in (None, "") or self.channel or self.date_from or self.date_to
                    or self.order_ids)


def _candidates(uow: UnitOfWork, flt: BatchFilter, *, lock: bool, limit: int) -> list[int]:
    """Ids of the company's confirmed/done orders matching the filter with delivered, not invoiced quantities."""
    o, ln = SalesOrder, SalesOrderLine
    stmt = select(o.id).where(o.company_id == uow.company_id, o.state.in_(("confirmed", "done")),
                              exists().where(ln.order_id == o.id, ln.qty_delivered > ln.qty_invoiced))
    if flt.customer not in (None, ""):
        stmt = stmt.where(svc._customer_filter(uow, o.customer_id, flt.customer))
    if flt.channel:
        stmt = stmt.where(o.channel == flt.channel.strip().lower())
    if flt.date_from:
        stmt = stmt.where(o.order_date >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(o.order_date <= flt.date_to)
    if flt.order_ids is not None:
        stmt = stmt.where(o.id.in_({int(i) for i in flt.order_ids}))
    stmt = stmt.order_by(o.id).limit(limit)
    if lock:  # in id order: two batches over the same orders wait for each other instead of deadlocking
        stmt = stmt.with_for_update(of=o)
    return list(uow.session.scalars(stmt))


def _check_ids(uow: UnitOfWork, flt: BatchFilter) -> None:
    if flt.order_ids is None:
        return
    wanted = {int(i) for i in flt.order_ids}
    if not wanted:
        raise ValidationFailed(_("请至少选择一个订单"), field="order_ids")
    found = set(uow.session.scalars(select(SalesOrder.id).where(SalesOrder.company_id == uow.company_id,
                                                                SalesOrder.id.in_(wanted))))
    if wanted - found:
        raise NotFound(_("销售订单不存在：#{id}", id=min(wanted - found)), field="order_ids")


def _validate(flt: BatchFilter, invoice_type: str) -> None:
    if invoice_type not in svc.INVOICE_TYPE_LABELS:
        raise ValidationFailed(_("发票类型只能是专票（special）或普票（normal）"), field="invoice_type")
    if flt.is_empty():
        raise ValidationFailed(_("请至少选择一个筛选条件（客户、渠道、日期或订单）"), field="customer")
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        raise ValidationFailed(_("开始日期不能晚于结束日期"), field="date_from")


def _row(uow: UnitOfWork, order: SalesOrder, invoice_type: str, day: dt.date) -> dict:
    parts = svc.uninvoiced_parts(uow, order)
    net = sum((p.net for _ln, _q, p in parts), ZERO)
    tax = sum((p.tax for _ln, _q, p in parts), ZERO)
    gross = sum((p.gross for _ln, _q, p in parts), ZERO)
    reason = None
    try:
        svc.invoice_buyer_tax_id(order, invoice_type)
        fx.document_rate(uow, order.currency_code, day)
    except DomainError as exc:
        reason = exc.message
    return {"order_id": order.id, "order_number": order.number, "order_date": order.order_date,
            "customer_id": order.customer_id, "customer_name": order.customer.name, "channel": order.channel,
            "channel_label": svc.channel_label(order.channel), "source_ref": order.source_ref,
            "currency_code": order.currency_code, "lines": len(parts),
            "quantity": sum((q for _ln, q, _p in parts), ZERO), "amount_untaxed": net, "amount_tax": tax,
            "amount_total": gross, "reason": reason}


def _orders(uow: UnitOfWork, ids: list[int]) -> list[SalesOrder]:
    if not ids:
        return []
    return list(uow.session.scalars(select(SalesOrder).where(SalesOrder.company_id == uow.company_id,
                                                             SalesOrder.id.in_(ids)).order_by(SalesOrder.id)))


def _totals(rows: list[dict]) -> dict:
    return {"count": len(rows), "amount_untaxed": sum((r["amount_untaxed"] for r in rows), ZERO),
            "amount_tax": sum((r["amount_tax"] for r in rows), ZERO),
            "amount_total": sum((r["amount_total"] for r in rows), ZERO),
            "currencies": sorted({r["currency_code"] for r in rows})}


def preview_batch(uow: UnitOfWork, flt: BatchFilter, *, invoice_type: str = "normal",
                  invoice_date: dt.date | None = None) -> dict:
    """What `invoice_batch` with the same arguments would do now; writes nothing."""
    _validate(flt, invoice_type)
    _check_ids(uow, flt)
    day = invoice_date or company_today(uow)
    ids = _candidates(uow, flt, lock=False, limit=MAX_ORDERS + 1)
    too_many = len(ids) > MAX_ORDERS
    rows = [_row(uow, o, invoice_type, day) for o in _orders(uow, ids[:MAX_ORDERS])]
    ok = [r for r in rows if r["reason"] is None]
    return {"invoice_type": invoice_type, "invoice_date": day, "orders": ok,
            "blocked": [r for r in rows if r["reason"] is not None], "too_many": too_many,
            "max_orders": MAX_ORDERS, **_totals(ok)}


def invoice_batch(uow: UnitOfWork, flt: BatchFilter, *, invoice_type: str = "normal",
                  invoice_date: dt.date | None = None, expected_total: Decimal | str | None = None) -> dict:
    """Invoice every matching order, one invoice each, all or nothing (see the module docstring)."""
    _validate(flt, invoice_type)
    _check_ids(uow, flt)
    day = invoice_date or company_today(uow)
    ids = _candidates(uow, flt, lock=True, limit=MAX_ORDERS + 1)
    if len(ids) > MAX_ORDERS:
        raise ValidationFailed(_("一次最多开 {n} 张发票，请缩小筛选范围", n=MAX_ORDERS), field="date_to")
    rows = [_row(uow, o, invoice_type, day) for o in _orders(uow, ids)]  # read after the locks: current amounts
    rows = [r for r in rows if r["lines"]]
    skipped = sorted(set(flt.order_ids or ()) - {r["order_id"] for r in rows})
    if not rows:  # nothing (left) to invoice: a replayed batch is a no-op
        return {"invoices": [], "skipped": skipped, "invoice_date": day, **_totals([])}
    problems = [{"order_id": r["order_id"], "order_number": r["order_number"], "reason": r["reason"]}
                for r in rows if r["reason"] is not None]
    if problems:
        raise BatchRejected(problems)
    if expected_total not in (None, ""):
        try:
            expected = to_decimal(expected_total)
        except (ArithmeticError, ValueError):
            raise ValidationFailed(_("数字格式不正确：{v}", v=expected_total), field="expected_total") from None
        now = sum((r["amount_total"] for r in rows), ZERO)
        if expected != now:
            raise Conflict(_("待开票金额已变化（预览 {a}，现在 {b}），请重新预览", a=f"{expected:,.2f}",
                             b=f"{now:,.2f}"), field="expected_total")
    out = []
    for r in rows:
        try:
            invoice = svc.invoice_order(uow, r["order_id"], invoice_type=invoice_type, invoice_date=day)
        except DomainError as exc:  # the unit of work rolls back every invoice of the batch
            raise BatchRejected([{"order_id": r["order_id"], "order_number": r["order_number"],
                                  "reason": exc.message}]) from None
        out.append({**r, "invoice_id": invoice.id, "invoice_number": invoice.number,
                    "amount_untaxed": to_decimal(invoice.amount_untaxed), "amount_tax": to_decimal(invoice.amount_tax),
                    "amount_total": to_decimal(invoice.amount_total), "state": invoice.state})
    return {"invoices": out, "skipped": skipped, "invoice_date": day, **_totals(out)}
