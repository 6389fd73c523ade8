"""RFQ pages under /srm/rfqs (buyers: srm.read to look, srm.write to act): list with search, state filter,
pagination and XLSX/CSV export; the new-RFQ form (deadline typed in the company's zone); one RFQ with who has
bid (no prices while sealed); the comparison with the award form once unsealed. Thin over `srm.rfq`."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render

from . import rfq
from .rfq_api import download

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission(rfq.READ))
WRITE = Depends(page_permission(rfq.WRITE))
PAGE_SIZE = 50
BLANK_LINES = 5


def _int(v) -> int | None:
    return int(v) if str(v or "").strip().isdigit() else None


@router.get("/srm/rfqs")
def rfqs_page(request: Request, p: Page = READ):
    qp = request.query_params
    f = {"q": (qp.get("q") or "").strip(), "state": (qp.get("state") or "").strip()}
    offset = _int(qp.get("offset")) or 0
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = rfq.rfq_rows(uow, q=f["q"] or None, state=f["state"] or None, limit=PAGE_SIZE, offset=offset)
        items = rfq.rfq_dicts(uow, rows)
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "srm/rfqs.html", title=_("询价招标"), items=items, total=total, offset=offset, limit=PAGE_SIZE,
                  filters=f, keep=keep, states=[(k, str(v)) for k, v in rfq.STATES.items()],
                  can_write=p.actor.can(rfq.WRITE))


@router.get("/srm/rfqs/export")
def rfqs_export(request: Request, format: str = "xlsx", p: Page = READ):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = rfq.export_rows(uow, q=qp.get("q") or None, state=qp.get("state") or None)
    return download(header, rows, "csv" if format == "csv" else "xlsx", "rfqs")


def _suppliers(uow: UnitOfWork) -> list[tuple[int, str]]:
    return [(pid, f"{code} {name}") for pid, code, name in uow.session.execute(
        select(md.Partner.id, md.Partner.code, md.Partner.name).where(
            md.Partner.company_id == uow.company_id, md.Partner.is_supplier.is_(True),
            md.Partner.active.is_(True)).order_by(md.Partner.code))]


def _form(p: Page, values: dict, error: DomainError | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        suppliers = _suppliers(uow)
    return render(p, "srm/rfq_form.html", status_code=422 if error else 200, title=_("新建询价单"), values=values,
                  suppliers=suppliers, error=error.message if error else None,
                  error_field=error.field if error else None)


def _planned(p: Page, planned_order_id) -> dict | None:
    """The MRP planned purchase an RFQ is started from (发起询价 on the planning page), for the form."""
    if _int(planned_order_id) is None:
        return None
    with UnitOfWork(p.actor, readonly=True) as uow:
        return rfq.planned_purchase(uow, _int(planned_order_id))


@router.get("/srm/rfqs/new")
def new_rfq_page(request: Request, p: Page = WRITE):
    planned = _planned(p, request.query_params.get("planned_order"))
    with UnitOfWork(p.actor, readonly=True) as uow:
        tomorrow = company_today(uow) + dt.timedelta(days=3)
    lines = [{"product": "", "quantity": "", "unit": "", "required_date": ""} for _i in range(BLANK_LINES)]
    return _form(p, {"title": planned["title"] if planned else "", "deadline": f"{tomorrow.isoformat()}T17:00",
                     "terms": "", "suppliers": [], "lines": [] if planned else lines, "planned": planned})


def _deadline(uow: UnitOfWork, text: str) -> dt.datetime:
    company_today(uow)
    tz: ZoneInfo = uow.session.info["company_tz"]
    try:
        local = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(_("请输入投标截止时间"), field="deadline") from None
    return (local if local.tzinfo else local.replace(tzinfo=tz)).astimezone(dt.UTC)


@router.post("/srm/rfqs/new")
async def create_rfq(request: Request, p: Page = WRITE):
    form = await request.form()
    lines, i = [], 0
    while f"product_{i}" in form:
        row = {k: str(form.get(f"{k}_{i}") or "").strip() for k in ("product", "quantity", "unit", "required_date")}
        lines.append(row)
        i += 1
    values = {k: str(form.get(k) or "").strip() for k in ("title", "deadline", "terms")}
    values["suppliers"] = [int(x) for x in form.getlist("suppliers") if str(x).isdigit()]
    values["lines"] = lines
    values["planned"] = _planned(p, form.get("planned_order"))
    try:
        with UnitOfWork(p.actor) as uow:
            if values["planned"]:
                r = rfq.create_rfq_from_planned_order(
                    uow, values["planned"]["id"], suppliers=values["suppliers"], title=values["title"],
                    deadline=_deadline(uow, values["deadline"]), terms=values["terms"])
            else:
                items = []
                for n, ln in enumerate(x for x in lines if x["product"] or x["quantity"]):
                    try:
                        day = dt.date.fromisoformat(ln["required_date"]) if ln["required_date"] else None
                    except ValueError:
                        raise ValidationFailed(_("第 {n} 行：日期格式不正确", n=n + 1),
                                               field="required_date") from None
                    items.append(rfq.RfqLineIn(ln["product"], ln["quantity"], ln["unit"] or None, day))
                r = rfq.create_rfq(uow, title=values["title"], deadline=_deadline(uow, values["deadline"]),
                                   suppliers=values["suppliers"], lines=items, terms=values["terms"])
            if form.get("send"):
                rfq.open_rfq(uow, r.id)
            rid, number = r.id, r.number
    except DomainError as exc:
        return _form(p, values, exc)
    if values["planned"]:
        return redirect(f"/srm/rfqs/{rid}", _("询价单 {n} 已保存，计划订单已确认", n=number))
    return redirect(f"/srm/rfqs/{rid}", _("询价单 {n} 已保存", n=number))


@router.get("/srm/rfqs/{rfq_id}")
def rfq_page(rfq_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        obj = rfq.get_rfq(uow, rfq_id)
        r = rfq.rfq_dict(uow, obj)
        planned = {ln.id: ln.planned_order_id for ln in obj.lines if ln.planned_order_id}
        bids = rfq.bid_status(uow, rfq_id)
        orders = rfq.rfq_orders(uow, rfq_id)
    return render(p, "srm/rfq_detail.html", title=r["number"], r=r, bids=bids, orders=orders, planned=planned,
                  can_write=p.actor.can(rfq.WRITE))


@router.post("/srm/rfqs/{rfq_id}/{action}")
async def rfq_action(rfq_id: int, action: str, request: Request, p: Page = WRITE):
    form = await request.form()
    target = f"/srm/rfqs/{rfq_id}"
    try:
        with UnitOfWork(p.actor) as uow:
            if action == "open":
                rfq.open_rfq(uow, rfq_id)
                msg = _("询价单已发布，供应商可在门户报价")
            elif action == "close":
                rfq.close_rfq(uow, rfq_id)
                msg = _("已截标，可以比价")
                target += "/compare"
            elif action == "cancel":
                rfq.cancel_rfq(uow, rfq_id, str(form.get("reason") or ""))
                msg = _("询价单已取消")
            elif action == "award":
                if form.get("supplier_id"):
                    out = rfq.award_all(uow, rfq_id, int(form.get("supplier_id")))
                elif form.get("lowest"):
                    out = rfq.award_lowest(uow, rfq_id)
                else:
                    allocations = []
                    for key in form:
                        if key.startswith("award_") and str(form.get(key) or "").isdigit():
                            line_id = int(key[6:])
                            qty = str(form.get(f"qty_{line_id}") or "").strip() or None
                            allocations.append(rfq.AwardIn(line_id, int(form.get(key)), qty))
                    out = rfq.award(uow, rfq_id, allocations)
                msg = _("已授标，生成采购订单：{n}", n="、".join(o["number"] for o in out["orders"]))
                target = f"/srm/rfqs/{rfq_id}"
            else:
                return render(p, "error.html", status_code=404, status=404, message=_("页面或记录不存在"))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(target if action != "award" else f"/srm/rfqs/{rfq_id}/compare", exc.message, "error")
    return redirect(target, msg)


@router.get("/srm/rfqs/{rfq_id}/compare")
def compare_page(rfq_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        r = rfq.get_rfq(uow, rfq_id)
        if rfq.is_sealed(r):  # the service would refuse too; say so on the page, with who has bid
            d = rfq.rfq_dict(uow, r)
            return render(p, "srm/rfq_detail.html", status_code=409, title=d["number"], r=d,
                          bids=rfq.bid_status(uow, rfq_id), orders=[], can_write=p.actor.can(rfq.WRITE),
                          sealed_message=True)
        cmp = rfq.comparison(uow, rfq_id)
    return render(p, "srm/rfq_compare.html", title=_("比价 {n}", n=cmp["number"]), c=cmp,
                  can_award=p.actor.can(rfq.WRITE) and cmp["state"] == "closed")


@router.get("/srm/rfqs/{rfq_id}/compare/export")
def compare_export(rfq_id: int, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = rfq.comparison_export(uow, rfq_id)
    return download(header, rows, "csv" if format == "csv" else "xlsx", f"rfq-{rfq_id}-bids")
