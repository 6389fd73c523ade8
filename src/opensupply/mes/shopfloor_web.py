"""Shop-floor pages: work centers and equipment (resource pages at /mes/work-centers and /mes/equipment), the
status board /mes/equipment-board (change a machine's status there), the downtime log /mes/downtime (filters,
pagination, XLSX/CSV export) and the OEE report /mes/oee (ECharts bars per machine). Thin: `mes.shopfloor`,
`mes.oee`."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _, format_datetime
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json
from opensupply.web.resource_pages import resource_pages

from . import calendar, oee, resources, shopfloor
from .models import Equipment, WorkCenter
from .shopfloor_api import export

READ = Depends(page_permission("mes.read"))
REPORT = Depends(page_permission("mes.report"))
PAGE_SIZE = 50

router = APIRouter(include_in_schema=False)
area = APIRouter(prefix="/mes", include_in_schema=False)


def _choices(uow: UnitOfWork) -> dict:
    wcs = uow.session.execute(select(WorkCenter.id, WorkCenter.code, WorkCenter.name).where(
        WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True)).order_by(WorkCenter.code)).all()
    eqs = uow.session.execute(select(Equipment.id, Equipment.code, Equipment.name).where(
        Equipment.company_id == uow.company_id).order_by(Equipment.code)).all()
    return {"work_centers": [(i, f"{c} {n}") for i, c, n in wcs], "machines": [(i, f"{c} {n}") for i, c, n in eqs]}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


@area.get("/equipment-board")
def board_page(work_center_id: str | None = None, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        groups = shopfloor.equipment_board(uow, work_center_id=_int(work_center_id))
        choices = _choices(uow)
    return render(p, "mes/equipment_board.html", title=_("设备看板"), groups=groups,
                  statuses=shopfloor.status_choices(), colours=shopfloor.STATUS_COLOURS,
                  work_center_id=_int(work_center_id), can_report=p.actor.can("mes.report"),
                  can_admin=p.actor.can("mes.admin"), **choices)


@area.post("/equipment-board/{equipment_id}/status")
async def board_status(equipment_id: int, request: Request, p: Page = REPORT):
    form = await request.form()
    back = "/mes/equipment-board"
    if (form.get("work_center_id") or "").strip().isdigit():
        back += f"?work_center_id={form.get('work_center_id')}"
    try:
        with UnitOfWork(p.actor) as uow:
            eq = shopfloor.change_status(uow, equipment_id, (form.get("status") or "").strip(),
                                         reason=form.get("reason"), work_order=form.get("work_order"))
            message = _("{code} 已改为{status}", code=eq.code, status=shopfloor.status_label(eq.status))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(back, exc.message, "error")
    return redirect(back, message)


def _downtime_query(request: Request) -> dict:
    return {k: v for k, v in request.query_params.items() if k != "offset" and v}


@area.get("/downtime")
def downtime_page(request: Request, equipment_id: str | None = None, work_center_id: str | None = None,
                  status: str | None = None, start: str | None = None, end: str | None = None, q: str | None = None,
                  offset: int = 0, p: Page = READ):
    offset = max(0, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        choices = _choices(uow)
        today = company_today(uow)
        try:
            lo, hi = calendar.local_period(uow, start, end, default_days=30)
            data = shopfloor.downtime(uow, equipment_id=_int(equipment_id), work_center_id=_int(work_center_id),
                                      status=status or None, start=lo, end=hi, q=q, limit=PAGE_SIZE, offset=offset)
        except DomainError as exc:
            return render(p, "error.html", status_code=422, status=422, message=exc.message)
    params = _downtime_query(request)
    return render(p, "mes/equipment_downtime.html", title=_("停机记录"), data=data, offset=offset, limit=PAGE_SIZE,
                  equipment_id=_int(equipment_id), work_center_id=_int(work_center_id), status=status or "",
                  start=start or (today - dt.timedelta(days=29)).isoformat(), end=end or today.isoformat(),
                  q=q or "", page_query=urllib.parse.urlencode(params),
                  export_query=urllib.parse.urlencode({k: v for k, v in params.items() if k != "format"}),
                  kinds=[(s, shopfloor.status_label(s)) for s in shopfloor.DOWNTIME_STATUSES], **choices)


@area.get("/downtime/export")
def downtime_export(equipment_id: str | None = None, work_center_id: str | None = None, status: str | None = None,
                    start: str | None = None, end: str | None = None, q: str | None = None, format: str = "xlsx",
                    p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            lo, hi = calendar.local_period(uow, start, end, default_days=30)
            data = shopfloor.downtime(uow, equipment_id=_int(equipment_id), work_center_id=_int(work_center_id),
                                      status=status or None, start=lo, end=hi, q=q, limit=100000)
        except DomainError as exc:
            return render(p, "error.html", status_code=422, status=422, message=exc.message)
        header, rows = shopfloor.downtime_rows(uow, data["items"], format_datetime)
    return export(header, rows, "downtime", "csv" if format == "csv" else "xlsx")


def _pct(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


@area.get("/oee")
def oee_page(start: str | None = None, end: str | None = None, work_center_id: str | None = None, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        choices = _choices(uow)
        today = company_today(uow)
        start = start or (today - dt.timedelta(days=6)).isoformat()
        end = end or today.isoformat()
        try:
            lo, hi = calendar.local_period(uow, start, end)
            data = oee.oee(uow, lo, hi, work_center_id=_int(work_center_id))
        except DomainError as exc:
            return render(p, "error.html", status_code=422, status=422, message=exc.message)
    items = data["items"]
    chart = {"machines": [i.code for i in items],
             "series": {key: [None if getattr(i, key) is None else float(getattr(i, key)) * 100 for i in items]
                        for key in ("availability", "performance", "quality", "oee")}}
    return render(p, "mes/oee_report.html", title=_("设备综合效率 OEE"), items=items, plant=data["plant"], start=start,
                  end=end, work_center_id=_int(work_center_id), pct=_pct,
                  chart_json=script_json(chart), **choices)


router.include_router(area)
router.include_router(resource_pages(resources.work_centers))
router.include_router(resource_pages(resources.equipment))
