"""CRM's only door into ERP sales: quotes and orders are made by ERP's sales service, order
history is read through it. Everything ERP-specific CRM needs sits in this one file, so a
change in ERP's service touches nothing else here."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from decimal import Decimal

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork


@dataclass(frozen=True)
class OrderFact:
    order_id: int
    number: str
    partner_id: int
    date: dt.date
    amount: Decimal
    state: str = ""


def _sales():
    try:
        return importlib.import_module("opensupply.erp.sales.service")
    except ModuleNotFoundError as exc:
        if exc.name not in ("opensupply.erp.sales.service", "opensupply.erp.sales"):
            raise
        return None


def available() -> bool:
    svc = _sales()
    return svc is not None and hasattr(svc, "create_sales_order")


def _need():
    svc = _sales()
    if svc is None or not hasattr(svc, "create_sales_order"):
        raise ValidationFailed(_("进销存销售模块尚未启用，无法生成报价或订单"), field="lines")
    return svc


def order_facts(uow: UnitOfWork, partner_ids: list[int] | None = None) -> list[OrderFact]:
    """Confirmed (not cancelled) sales orders of the company: who, when, how much."""
    svc = _sales()
    if svc is None:
        return []
    try:
        models = importlib.import_module("opensupply.erp.sales.models")
    except ModuleNotFoundError:
        return []
    from sqlalchemy import select

    so = getattr(models, "SalesOrder", None)
    if so is None:
        return []
    amount_col = next((getattr(so, c) for c in ("amount_total", "total", "amount") if hasattr(so, c)), None)
    date_col = next((getattr(so, c) for c in ("order_date", "date", "date_order") if hasattr(so, c)), None)
    partner_col = next((getattr(so, c) for c in ("customer_id", "partner_id") if hasattr(so, c)), None)
    if amount_col is None or date_col is None or partner_col is None:
        return []
    stmt = select(so.id, so.number, partner_col, date_col, amount_col, so.state).where(
        so.company_id == uow.company_id, so.state.not_in(("draft", "cancelled")))
    if partner_ids is not None:
        stmt = stmt.where(partner_col.in_(partner_ids))
    out = []
    for oid, number, pid, day, amount, state in uow.session.execute(stmt.order_by(date_col, so.id)):
        if isinstance(day, dt.datetime):
            day = day.date()
        out.append(OrderFact(oid, number, pid, day, Decimal(amount or 0), state))
    return out


@dataclass(frozen=True)
class DocRef:
    """An ERP document CRM links to."""

    id: int
    number: str
    amount: Decimal | None


def _lines(svc, lines) -> list:
    out = []
    for ln in lines:
        product = ln.product
        kw = {"product_id": product} if isinstance(product, int) else {"sku": str(product)}
        out.append(svc.SalesLineIn(quantity=ln.quantity, unit_price=ln.unit_price,
                                   discount_pct=ln.discount_pct or 0, **kw))
    return out


def make_quote(uow: UnitOfWork, *, partner_id: int, lines, valid_until: dt.date | None = None,
               reference: str | None = None, notes: str | None = None) -> DocRef:
    svc = _need()
    quote = svc.create_quote(uow, customer_id=partner_id, lines=_lines(svc, lines), valid_until=valid_until,
                             source_ref=reference, notes=notes)
    return DocRef(quote.id, quote.number, Decimal(quote.amount_total or 0))


def quote_to_order(uow: UnitOfWork, quote_id: int) -> DocRef:
    """The quote becomes a confirmed sales order (ERP reserves stock, OMS hears of it)."""
    svc = _need()
    order = svc.quote_to_order(uow, quote_id, confirm=True)
    return DocRef(order.id, order.number, Decimal(order.amount_total or 0))


def make_order(uow: UnitOfWork, *, partner_id: int, lines, reference: str | None = None) -> DocRef:
    svc = _need()
    order = svc.create_sales_order(uow, customer_id=partner_id, lines=_lines(svc, lines), source_ref=reference,
                                   confirm=True, created_by_module="crm")
    return DocRef(order.id, order.number, Decimal(order.amount_total or 0))
