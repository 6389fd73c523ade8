"""/srm/asns: advance ship notices for buyers — the list (search, state, pagination, XLSX/CSV export) and one
notice with a receive button that books its ERP goods receipt. Suppliers send notices from the portal
(`portal_web`)."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import asn as svc
from .suppliers_api import download

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission(svc.READ))
PAGE_SIZE = 50


def _filters(qp) -> dict:
    return {"q": (qp.get("q") or "").strip(), "state": (qp.get("state") or "").strip()}


def _rows(uow, f: dict, limit: int, offset: int):
    return svc.asn_rows(uow, q=f["q"] or None, state=f["state"] or None, limit=limit, offset=offset)


@router.get("/srm/asns")
def asns_page(request: Request, p: Page = READ):
    qp = request.query_params
    offset = int(qp.get("offset")) if (qp.get("offset") or "").isdigit() else 0
    f, error = _filters(qp), None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            items, total = _rows(uow, f, PAGE_SIZE, offset)
        except DomainError as exc:
            items, total, error = [], 0, exc.message
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "srm/asns.html", status_code=422 if error else 200, title=_("发货通知"), items=items,
                  total=total, offset=offset, limit=PAGE_SIZE, filters=f, keep=keep, error=error, states=svc.STATES)


@router.get("/srm/asns/export")
def asns_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, _total = _rows(uow, _filters(request.query_params), 100000, 0)
    header = [_("发货通知"), _("采购单号"), _("供应商编码"), _("供应商"), _("发货日期"), _("预计到货"), _("承运商"),
              _("运单号"), _("商品编码"), _("商品名称"), _("数量"), _("批号"), _("状态")]
    rows = [[a["number"], a["order"], a["supplier_code"], a["supplier"], a["ship_date"], a["expected_date"],
             a["carrier"], a["tracking_no"], ln["sku"], ln["product_name"], ln["quantity"], ln["lot"], a["state_label"]]
            for a in items for ln in a["lines"]]
    return download(header, rows, "csv" if format == "csv" else "xlsx", "advance-ship-notices")


@router.get("/srm/asns/{asn_id}")
def asn_page(asn_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        a = svc.asn_detail(uow, asn_id)
        today = company_today(uow).isoformat()
    return render(p, "srm/asn_detail.html", title=a["number"], a=a, today=today,
                  can_receive=a["state"] == "shipped" and p.actor.can(svc.RECEIVE))


@router.post("/srm/asns/{asn_id}/receive")
async def asn_receive(asn_id: int, request: Request, p: Page = Depends(page_permission(svc.RECEIVE))):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            r = svc.receive_asn(uow, asn_id, location=str(form.get("location") or "").strip() or None,
                                receipt_date=str(form.get("receipt_date") or "").strip() or None)
            rid, number = r.id, r.number
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/srm/asns/{asn_id}", exc.message, "error")
    return redirect(f"/erp/receipts/{rid}", _("已按发货通知收货 {n}", n=number))
