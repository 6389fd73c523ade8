"""Freight bill pages under /tms/freight-bills: list with upload (bad rows listed by line), detail with every
line matched to its waybill's quote (over / under / unknown flagged), approve a line at the billed or the quoted
amount, approve and post the bill; /tms/freight-cost: freight cost per order by customer and channel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render

from . import freight
from .rates import ImportRejected

router = APIRouter(prefix="/tms", include_in_schema=False)
READ = Depends(page_permission("tms.read"))
SETTLE = Depends(page_permission("tms.settle"))
PAGE_SIZE = 50


def _list(p: Page, request: Request, *, error: str | None = None, rejected: list | None = None, status: int = 200):
    qp = request.query_params
    offset = int(qp["offset"]) if (qp.get("offset") or "").isdigit() else 0
    carrier = int(qp["carrier"]) if (qp.get("carrier") or "").isdigit() else None
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = freight.list_bills(uow, q=qp.get("q") or None, state=qp.get("state") or None,
                                         carrier_id=carrier, limit=PAGE_SIZE, offset=offset)
        items = [freight.bill_dict(uow, b) for b in rows]
        carriers = list(uow.session.execute(select(md.Partner.id, md.Partner.name).where(
            md.Partner.company_id == uow.company_id, md.Partner.is_carrier.is_(True)).order_by(md.Partner.code)))
    return render(p, "tms/freight_bills.html", status_code=status, title=_("运费对账"), items=items, total=total,
                  offset=offset, limit=PAGE_SIZE, filters=qp, carriers=carriers, error=error, rejected=rejected or [],
                  states=[(k, str(v)) for k, v in freight.STATE_LABELS.items()])


@router.get("/freight-bills")
def freight_bills_page(request: Request, p: Page = SETTLE):
    return _list(p, request)


@router.post("/freight-bills")
async def freight_bill_upload(request: Request, p: Page = SETTLE):
    form = await request.form()
    upload = form.get("file")

    def run() -> int:
        carrier = str(form.get("carrier_id") or "")
        if not carrier.isdigit():
            raise ValidationFailed(_("请选择承运商"), field="carrier_id")
        if upload is None or not getattr(upload, "filename", None):
            raise ValidationFailed(_("请选择文件"), field="file")
        data = upload.file.read()
        with UnitOfWork(p.actor) as uow:
            return freight.import_bill(uow, int(carrier), upload.filename, data,
                                       tolerance_pct=str(form.get("tolerance_pct") or "5")).id

    try:
        bid = await run_in_threadpool(run)
    except ImportRejected as exc:
        return _list(p, request, error=exc.message, rejected=exc.rejected, status=422)
    except DomainError as exc:
        return _list(p, request, error=exc.message, status=422)
    return redirect(f"/tms/freight-bills/{bid}", _("账单已导入并逐单核对"))


@router.get("/freight-bills/{bill_id}")
def freight_bill_page(bill_id: int, request: Request, p: Page = SETTLE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        b = freight.bill_dict(uow, freight.get_bill(uow, bill_id), lines=True)
    only = request.query_params.get("status")
    lines = [ln for ln in b["lines"] if not only or ln["status"] == only]
    return render(p, "tms/freight_bill_detail.html", title=b["number"], b=b, lines=lines, only=only or "",
                  statuses=[(k, str(v)) for k, v in freight.STATUS_LABELS.items() if k != "approved"])


async def _act(p: Page, bill_id: int, fn, ok: str):
    def run():
        with UnitOfWork(p.actor) as uow:
            fn(uow)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/tms/freight-bills/{bill_id}", exc.message, "error")
    return redirect(f"/tms/freight-bills/{bill_id}", ok)


@router.post("/freight-bills/{bill_id}/lines/{line_id}/approve")
async def freight_line_approve(bill_id: int, line_id: int, request: Request, p: Page = SETTLE):
    form = await request.form()
    use = str(form.get("use") or "billed")
    amount = str(form.get("amount") or "").strip()

    def fn(uow):
        ln = freight.approve_line(uow, line_id, use=use, amount=Decimal(amount) if amount and use == "amount"
                                  else None, note=str(form.get("note") or "") or None)
        if ln.bill_id != bill_id:
            raise ValidationFailed(_("账单行不属于此账单"))

    return await _act(p, bill_id, fn, _("已核准该行"))


@router.post("/freight-bills/{bill_id}/approve")
async def freight_bill_approve(bill_id: int, p: Page = SETTLE):
    return await _act(p, bill_id, lambda uow: freight.approve_bill(uow, bill_id), _("账单已核准"))


@router.post("/freight-bills/{bill_id}/post")
async def freight_bill_post(bill_id: int, p: Page = SETTLE):
    return await _act(p, bill_id, lambda uow: freight.post_bill(uow, bill_id), _("账单已入账"))


def _date(v: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(v) if v else None
    except ValueError:
        return None


@router.get("/freight-cost")
def freight_cost_page(request: Request, p: Page = READ):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        items = freight.freight_cost_report(uow, date_from=_date(qp.get("date_from")), date_to=_date(qp.get("date_to")))
    if qp.get("format") == "xlsx":
        header = [_("客户"), _("渠道"), _("订单数"), _("运单数"), _("运费"), _("单均运费")]
        rows = [[r["customer"] or "", r["channel"] or "", r["orders"], r["shipments"], r["freight"], r["per_order"]]
                for r in items]
        return Response(write_xlsx(header, rows, "freight-cost"),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="freight-cost.xlsx"'})
    return render(p, "tms/freight_cost.html", title=_("订单运费分析"), items=items, filters=qp)
