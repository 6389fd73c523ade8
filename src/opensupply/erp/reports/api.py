"""进销存 report endpoints under /api/v1/erp/reports/ (amounts and quantities as decimal strings)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import performance, service

router = APIRouter(tags=["erp reports"])
READ = Depends(require("erp.reports"))


def out(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: out(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [out(v) for v in value]
    return value


@router.get("/erp/reports/stock-summary")
def stock_summary(date_from: dt.date | None = None, date_to: dt.date | None = None, q: str | None = None,
                  actor: Actor = READ) -> dict:
    """收发存汇总表: per product opening / in / out / closing quantity and value for the period."""
    with UnitOfWork(actor, readonly=True) as uow:
        return out(service.stock_summary(uow, date_from, date_to, q=q))


@router.get("/erp/reports/purchases")
def purchases(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "supplier",
              supplier_id: int | None = None, q: str | None = None, actor: Actor = READ) -> dict:
    """Goods received by supplier, product or month."""
    with UnitOfWork(actor, readonly=True) as uow:
        return out(service.purchases(uow, date_from, date_to, by=by, supplier_id=supplier_id, q=q))


@router.get("/erp/reports/sales")
def sales(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "customer",
          customer_id: int | None = None, q: str | None = None, actor: Actor = READ) -> dict:
    """Invoiced sales by customer, product, channel or month."""
    with UnitOfWork(actor, readonly=True) as uow:
        return out(service.sales(uow, date_from, date_to, by=by, customer_id=customer_id, q=q))


@router.get("/erp/reports/gross-margin")
def gross_margin(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "product",
                 q: str | None = None, actor: Actor = READ) -> dict:
    """Revenue, cost, gross margin and margin % by product, customer or channel."""
    with UnitOfWork(actor, readonly=True) as uow:
        return out(service.gross_margin(uow, date_from, date_to, by=by, q=q))


@router.get("/erp/reports/salespeople")
def salespeople(date_from: dt.date | None = None, date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    """Per salesperson: revenue, cost, margin, invoiced, collected and overdue for the period's invoices."""
    with UnitOfWork(actor, readonly=True) as uow:
        return out(performance.salespeople(uow, date_from, date_to))


@router.get("/erp/reports/buyers")
def buyers(date_from: dt.date | None = None, date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    """Per buyer: receipt lines in the period, on time vs late against the order's expected date, value received."""
    with UnitOfWork(actor, readonly=True) as uow:
        return out(performance.buyers(uow, date_from, date_to))
