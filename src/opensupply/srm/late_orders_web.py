"""/srm/late-orders: the late purchase-order list (search, minimum days late, pagination, XLSX/CSV export)."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import render

from . import late_orders as svc
from .suppliers_api import download

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission("srm.read"))
PAGE_SIZE = 50


def _filters(qp) -> dict:
    return {"q": (qp.get("q") or "").strip(), "min_days": (qp.get("min_days") or "").strip()}


def _rows(uow, f: dict, limit: int, offset: int):
    days = f["min_days"]
    if days and not days.isdigit():
        raise DomainError(_("逾期天数应为非负整数"), field="min_days")
    return svc.late_orders(uow, q=f["q"] or None, min_days=int(days or 1), limit=limit, offset=offset)


@router.get("/srm/late-orders")
def late_orders_page(request: Request, p: Page = READ):
    qp = request.query_params
    offset = int(qp.get("offset")) if (qp.get("offset") or "").isdigit() else 0
    f, error = _filters(qp), None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            items, total = _rows(uow, f, PAGE_SIZE, offset)
        except DomainError as exc:
            items, total, error = [], 0, exc.message
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "srm/late_orders.html", status_code=422 if error else 200, title=_("逾期采购订单"),
                  items=items, total=total, offset=offset, limit=PAGE_SIZE, filters=f, keep=keep, error=error)


@router.get("/srm/late-orders/export")
def late_orders_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, _total = _rows(uow, _filters(request.query_params), 100000, 0)
    header = [_("采购单号"), _("供应商编码"), _("供应商"), _("下单日期"), _("预计到货"), _("供应商承诺"),
              _("应到日期"), _("逾期天数"), _("订购数量"), _("已收数量"), _("未收数量"), _("在途数量"),
              _("预计到货（发货通知）")]
    rows = [[r["number"], r["supplier_code"], r["supplier"], r["order_date"], r["expected_date"] or "",
             r["promised_date"] or "", r["due_date"], r["days_late"], r["ordered"], r["received"],
             r["open_quantity"], r["in_transit"] if r["in_transit"] is not None else "", r["arriving"] or ""]
            for r in items]
    return download(header, rows, "csv" if format == "csv" else "xlsx", "late-purchase-orders")
