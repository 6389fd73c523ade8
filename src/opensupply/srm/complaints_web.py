"""Complaint pages under /srm/complaints: list (search, state, overdue, pagination, XLSX/CSV export), a new
complaint, one complaint with its next step (corrective action, verification, close). Thin: `srm.complaints`
in one unit of work; errors come back on the page."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import complaints as svc
from .models import COMPLAINT_SEVERITIES
from .suppliers_api import download

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission("srm.read"))
WRITE = Depends(page_permission("srm.write"))
PAGE_SIZE = 50
FORM_KEYS = ("partner", "title", "severity", "product", "lot", "receipt_ref", "defect_description",
             "defect_quantity", "owner", "supplier_contact", "reported_on", "due_date")


def _int(value) -> int | None:
    return int(value) if str(value or "").strip().isdigit() else None


def _query(uow, qp, limit, offset):
    f = {k: (qp.get(k) or "").strip() for k in ("q", "state", "overdue")}
    today = company_today(uow)
    items, total = svc.complaint_rows(uow, q=f["q"] or None, state=f["state"] or None, overdue=f["overdue"] == "1",
                                      today=today, limit=limit, offset=offset)
    return f, [svc.complaint_dict(c, today) for c in items], total


@router.get("/srm/complaints")
def complaints_page(request: Request, p: Page = READ):
    offset = _int(request.query_params.get("offset")) or 0
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            f, items, total = _query(uow, request.query_params, PAGE_SIZE, offset)
        except DomainError as exc:
            f, items, total, error = {"q": "", "state": "", "overdue": ""}, [], 0, exc.message
        names = dict(uow.session.execute(svc.select(svc.suppliers.Supplier.partner_id,
                                                    svc.suppliers.Supplier.partner_name)
                                         .where(svc.suppliers.Supplier.company_id == uow.company_id)).all())
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "srm/complaints.html", status_code=422 if error else 200, title=_("供应商投诉"), items=items,
                  names=names, total=total, offset=offset, limit=PAGE_SIZE, filters=f, keep=keep, error=error,
                  states=[(k, str(v)) for k, v in svc.STATE_LABELS.items()], can_write=p.actor.can("srm.write"))


@router.get("/srm/complaints/export")
def complaints_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        _f, items, _total = _query(uow, request.query_params, 100000, 0)
        names = dict(uow.session.execute(svc.select(svc.suppliers.Supplier.partner_id,
                                                    svc.suppliers.Supplier.partner_name)
                                         .where(svc.suppliers.Supplier.company_id == uow.company_id)).all())
    header = [_("投诉单号"), _("供应商"), _("标题"), _("严重程度"), _("批次"), _("收货单/订单号"), _("我方负责人"),
              _("供应商联系人"), _("投诉日期"), _("要求完成日期"), _("状态"), _("逾期")]
    rows = [[c["number"], names.get(c["partner_id"], ""), c["title"], c["severity_label"], c["lot"] or "",
             c["receipt_ref"] or "", c["owner"] or "", c["supplier_contact"] or "", c["reported_on"], c["due_date"],
             c["state_label"], _("是") if c["overdue"] else _("否")] for c in items]
    return download(header, rows, "csv" if format == "csv" else "xlsx", "complaints")


def _form(p: Page, values: dict, error: DomainError | None = None):
    return render(p, "srm/complaint_form.html", status_code=422 if error else 200, title=_("新建投诉"), values=values,
                  severities=[(s, str(svc.SEVERITY_LABELS[s])) for s in COMPLAINT_SEVERITIES],
                  error=error.message if error else None, error_field=error.field if error else None)


@router.get("/srm/complaints/new")
def new_complaint_page(request: Request, p: Page = WRITE):
    return _form(p, {"partner": request.query_params.get("partner", ""), "severity": "major",
                     "owner": p.actor.username})


@router.post("/srm/complaints/new")
async def create_complaint(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in FORM_KEYS}
    try:
        with UnitOfWork(p.actor) as uow:
            c = svc.open_complaint(uow, values)
            cid, number = c.id, c.number
    except DomainError as exc:
        return _form(p, values, exc)
    return redirect(f"/srm/complaints/{cid}", _("投诉单 {n} 已创建", n=number))


@router.get("/srm/complaints/{complaint_id}")
def complaint_page(complaint_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        c = uow.get(svc.Complaint, complaint_id)
        d = svc.complaint_dict(c, company_today(uow))
        sup = uow.get(svc.suppliers.Supplier, c.supplier_id)
        sku = svc.inv.resolve_product(uow, c.product_id).sku if c.product_id else None
    return render(p, "srm/complaint_detail.html", title=d["number"], c=d, supplier=sup, sku=sku,
                  can_write=p.actor.can("srm.write"))


@router.post("/srm/complaints/{complaint_id}/{step}")
async def complaint_step(complaint_id: int, step: str, request: Request, p: Page = WRITE):
    form = await request.form()
    text = str(form.get("text") or "")
    try:
        with UnitOfWork(p.actor) as uow:
            if step == "action":
                svc.propose_action(uow, complaint_id, text)
            elif step == "verify":
                svc.verify_action(uow, complaint_id, text, effective=form.get("effective") != "0")
            elif step == "close":
                svc.close_complaint(uow, complaint_id)
            else:
                return redirect(f"/srm/complaints/{complaint_id}", _("页面或记录不存在"), "error")
            label = svc.state_label(uow.get(svc.Complaint, complaint_id).state)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/srm/complaints/{complaint_id}", exc.message, "error")
    return redirect(f"/srm/complaints/{complaint_id}", _("投诉单状态：{state}", state=label))
