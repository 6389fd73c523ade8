"""Shipment pages under /tms/shipments: the list (filters: status, carrier, late, date, province; pagination;
XLSX/CSV export) and the detail (packages, the carrier comparison with the cheapest highlighted and the
ineligible cards with their reasons, choose / book / cancel, tracking timeline with a typed-in event, label PDF).
Same services as the API."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render
from opensupply.web.pdf import pdf_response

from . import rates, shipments
from .shipments_api import detail

router = APIRouter(prefix="/tms", include_in_schema=False)
READ = Depends(page_permission("tms.read"))
WRITE = Depends(page_permission("tms.write"))
PAGE_SIZE = 50


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _keep(request: Request) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k not in ("offset", "format")
                                   and v})


def _query(uow: UnitOfWork, request: Request, *, limit: int, offset: int):
    qp = request.query_params
    late = {"1": True, "0": False}.get(qp.get("late") or "")
    return shipments.list_shipments(uow, q=qp.get("q") or None, status=qp.get("status") or None,
                                    carrier_id=_int(qp.get("carrier")), late=late,
                                    date_from=_date(qp.get("date_from")), date_to=_date(qp.get("date_to")),
                                    province=qp.get("province") or None, mode=qp.get("mode") or None,
                                    limit=limit, offset=max(0, offset))


def _carriers(uow: UnitOfWork) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from opensupply.masterdata import models as md

    return list(uow.session.execute(select(md.Partner.id, md.Partner.name).where(
        md.Partner.company_id == uow.company_id, md.Partner.is_carrier.is_(True)).order_by(md.Partner.code)).all())


@router.get("/shipments")
def shipments_page(request: Request, p: Page = READ):
    offset = _int(request.query_params.get("offset")) or 0
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = _query(uow, request, limit=PAGE_SIZE, offset=offset)
        except DomainError as exc:
            rows, total = [], 0
            p.request.state.error = exc.message
        names = shipments.carrier_names(uow, {r.carrier_id for r in rows})
        items = [shipments.shipment_dict(uow, r, carriers=names) for r in rows]
        carriers = _carriers(uow)
    from opensupply.masterdata.regions import PROVINCES

    return render(p, "tms/shipments.html", title=_("运单"), items=items, total=total, offset=offset,
                  limit=PAGE_SIZE, filters=request.query_params, keep=_keep(request), carriers=carriers,
                  statuses=[(k, str(v)) for k, v in shipments.STATUS_LABELS.items()], provinces=PROVINCES,
                  error=getattr(p.request.state, "error", None), can_write=p.actor.can("tms.write"))


@router.get("/shipments/export")
def shipments_export(request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _total = _query(uow, request, limit=100000, offset=0)
        names = shipments.carrier_names(uow, {r.carrier_id for r in rows})
        data = [[d["number"], d["status_label"], d["carrier"] or "", d["tracking_number"] or "", d["reference"] or "",
                 d["receiver_name"] or "", d["province"] or "", d["city"] or "", d["weight_kg"], d["quoted_cost"] or "",
                 d["actual_cost"] or "", d["promised_date"] or "", _("是") if d["late"] else "", d["created_at"] or ""]
                for d in (shipments.shipment_dict(uow, r, carriers=names) for r in rows)]
    header = [_("运单"), _("状态"), _("承运商"), _("运单号"), _("参考号"), _("收件人"), _("省"), _("市"), _("重量(kg)"),
              _("报价运费"), _("实际运费"), _("承诺送达"), _("延误"), _("创建时间")]
    if request.query_params.get("format") == "csv":
        return Response(write_csv(header, data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="shipments.csv"'})
    return Response(write_xlsx(header, data, "shipments"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="shipments.xlsx"'})


@router.get("/shipments/{shipment_id}")
def shipment_page(shipment_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        s = detail(uow, shipment_id)
        carriers = _carriers(uow)
        connector = bool(s["carrier_id"] and rates.connector_configured(uow, s["carrier_id"]))
    for e in s["timeline"]:
        e["at_dt"] = dt.datetime.fromisoformat(e["at"])
    return render(p, "tms/shipment_detail.html", title=s["number"], s=s, carriers=carriers, connector=connector,
                  event_statuses=[(k, str(v)) for k, v in shipments.STATUS_LABELS.items()
                                  if k not in ("draft", "booked", "cancelled")] + [("info", _("物流信息"))],
                  can_write=p.actor.can("tms.write"))


async def _act(p: Page, shipment_id: int, fn, ok: str):
    def run():
        with UnitOfWork(p.actor) as uow:
            fn(uow)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/tms/shipments/{shipment_id}", exc.message, "error")
    return redirect(f"/tms/shipments/{shipment_id}", ok)


@router.post("/shipments/{shipment_id}/quote")
async def shipment_quote(shipment_id: int, p: Page = WRITE):
    return await _act(p, shipment_id, lambda uow: rates.quote(uow, shipment_id), _("已重新报价"))


@router.post("/shipments/{shipment_id}/choose")
async def shipment_choose(shipment_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    by = str(form.get("by") or "cost")
    return await _act(p, shipment_id, lambda uow: rates.choose(uow, shipment_id, by=by), _("已选择承运商"))


@router.post("/shipments/{shipment_id}/book")
async def shipment_book(shipment_id: int, p: Page = WRITE):
    return await _act(p, shipment_id, lambda uow: shipments.book_waybill(uow, shipment_id), _("已获取运单号"))


@router.post("/shipments/{shipment_id}/cancel")
async def shipment_cancel(shipment_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    reason = str(form.get("reason") or "")
    return await _act(p, shipment_id, lambda uow: shipments.cancel_shipment(uow, shipment_id, reason),
                      _("运单已取消"))


@router.post("/shipments/{shipment_id}/events")
async def shipment_event(shipment_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    status = str(form.get("status") or "")
    location = str(form.get("location") or "") or None
    description = str(form.get("description") or "")
    return await _act(p, shipment_id, lambda uow: shipments.add_tracking_event(
        uow, shipment_id, status=status, at=None, location=location, description=description), _("已记录跟踪事件"))


@router.post("/shipments/{shipment_id}/refresh")
async def shipment_refresh(shipment_id: int, p: Page = WRITE):
    from . import tracking

    return await _act(p, shipment_id, lambda uow: tracking.refresh(uow, shipment_id), _("已从承运商更新跟踪信息"))


@router.post("/shipments/flag-late")
async def shipments_flag_late(p: Page = WRITE):
    def run() -> int:
        with UnitOfWork(p.actor) as uow:
            return shipments.flag_late(uow)

    n = await run_in_threadpool(run)
    return redirect("/tms/shipments?late=1", _("已标记 {n} 个延误运单", n=n))


@router.get("/shipments/{shipment_id}/label.pdf")
async def shipment_label(shipment_id: int, p: Page = READ):
    def run():
        with UnitOfWork(p.actor, readonly=True) as uow:
            return shipments.label_pdf(uow, shipment_id)

    try:
        data, name = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/tms/shipments/{shipment_id}", exc.message, "error")
    return pdf_response(data, name)
