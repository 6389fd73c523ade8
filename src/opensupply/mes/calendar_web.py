"""Calendar pages: shift templates (resource pages at /mes/shifts), the roster week grid /mes/roster (add an entry,
apply a weekly pattern to many lines, open an entry to set its crew), and capacity vs load /mes/capacity (ECharts
bars per day). Thin: `mes.calendar`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render, script_json
from opensupply.web.resource_pages import resource_pages

from . import calendar, resources
from .models import Shift, ShiftAssignment, WorkCenter

READ = Depends(page_permission("mes.read"))
ADMIN = Depends(page_permission("mes.admin"))
CREW_ROWS = 3

router = APIRouter(include_in_schema=False)
area = APIRouter(prefix="/mes", include_in_schema=False)


def _day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip()[:10]) if value else default
    except ValueError:
        return default


def _options(uow: UnitOfWork) -> dict:
    wcs = uow.session.execute(select(WorkCenter.id, WorkCenter.code, WorkCenter.name).where(
        WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True)).order_by(WorkCenter.code)).all()
    shifts = list(uow.session.scalars(select(Shift).where(Shift.company_id == uow.company_id)
                                      .order_by(Shift.start_time, Shift.code)))
    employees = uow.session.execute(select(md.Employee.code, md.Employee.name).where(
        md.Employee.company_id == uow.company_id, md.Employee.active.is_(True)).order_by(md.Employee.code)
        .limit(5000)).all()
    return {"work_centers": [(i, c, n) for i, c, n in wcs],
            "shifts": [{"id": s.id, "code": s.code, "name": s.name, "start": s.start_time.strftime("%H:%M"),
                        "end": s.end_time.strftime("%H:%M"), "break_minutes": s.break_minutes, "active": s.active,
                        "overnight": s.end_time <= s.start_time} for s in shifts],
            "employees": [(c, n) for c, n in employees]}


def _roster(p: Page, week: str | None, *, error: DomainError | None = None, form: dict | None = None,
            report: dict | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        today = company_today(uow)
        grid = calendar.roster_week(uow, _day(week, today))
        options = _options(uow)
    monday = dt.date.fromisoformat(grid["week_start"])
    return render(p, "mes/shift_roster.html", status_code=422 if error else 200, title=_("产线排班"), grid=grid,
                  prev_week=(monday - dt.timedelta(days=7)).isoformat(),
                  next_week=(monday + dt.timedelta(days=7)).isoformat(), today=today.isoformat(),
                  weekday_names=[calendar.weekday_label(i) for i in range(7)], error=error.message if error else None,
                  error_field=error.field if error else None, form=form or {}, report=report,
                  can_admin=p.actor.can("mes.admin"), **options)


@area.get("/roster")
def roster_page(week: str | None = None, p: Page = READ):
    return _roster(p, week)


@area.post("/roster/new")
async def roster_add(request: Request, p: Page = ADMIN):
    form = await request.form()
    data = {k: (form.get(k) or "").strip() for k in ("work_center", "date", "shift", "headcount", "crew", "notes")}
    crew = [c.strip() for c in data["crew"].replace("，", ",").split(",") if c.strip()]
    try:
        with UnitOfWork(p.actor) as uow:
            a = calendar.assign_shift(uow, work_center=data["work_center"], day=data["date"], shift=data["shift"],
                                      headcount=data["headcount"] or None, crew=crew, notes=data["notes"])
            message = _("已排班：{wc} {d} {shift}", wc=data["work_center"], d=a.date.isoformat(), shift=a.shift.name)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _roster(p, data["date"], error=exc, form=data)
    return redirect(f"/mes/roster?week={data['date']}", message)


@area.post("/roster/pattern")
async def roster_pattern(request: Request, p: Page = ADMIN):
    form = await request.form()
    data = {k: (form.get(k) or "").strip() for k in ("shift", "start", "weeks", "headcount")}
    wcs = [v for v in form.getlist("work_centers") if v]
    days = [v for v in form.getlist("weekdays") if v != ""]
    try:
        with UnitOfWork(p.actor) as uow:
            report = calendar.apply_pattern(uow, shift=data["shift"], work_centers=[int(v) for v in wcs if v.isdigit()],
                                            start=data["start"], weeks=data["weeks"] or 4, weekdays=days,
                                            headcount=data["headcount"] or None, replace=form.get("replace") == "1")
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _roster(p, data["start"], error=exc, form={**data, "pattern": True})
    message = _("已排 {c} 个班次（已存在 {e} 个，替换 {r} 个，冲突 {x} 个）", c=report["created"], e=report["existing"],
                r=report["replaced"], x=len(report["conflicts"]))
    if report["conflicts"]:
        return _roster(p, data["start"], report=report)
    return redirect(f"/mes/roster?week={data['start']}", message)


def _assignment_page(p: Page, assignment_id: int, *, error: DomainError | None = None, values: dict | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        a = calendar.assignment_to_dict(uow, uow.get(ShiftAssignment, assignment_id))
        options = _options(uow)
    crew = values["crew"] if values else [{"employee": c["code"], "role": c["role"] or ""} for c in a["crew"]]
    crew = crew + [{"employee": "", "role": ""} for _i in range(max(1, CREW_ROWS - len(crew)))]
    return render(p, "mes/shift_assignment.html", status_code=422 if error else 200, title=_("排班"), a=a,
                  crew=crew, values=values or {"headcount": a["headcount"], "notes": a["notes"] or ""},
                  error=error.message if error else None, error_field=error.field if error else None,
                  can_admin=p.actor.can("mes.admin"), **options)


@area.get("/roster/{assignment_id}")
def assignment_page(assignment_id: int, p: Page = READ):
    return _assignment_page(p, assignment_id)


@area.post("/roster/{assignment_id}")
async def assignment_update(assignment_id: int, request: Request, p: Page = ADMIN):
    form = await request.form()
    crew = [{"employee": e.strip(), "role": (r or "").strip()} for e, r in zip(
        form.getlist("crew_employee"), form.getlist("crew_role"), strict=False) if e.strip()]
    values = {"headcount": (form.get("headcount") or "").strip(), "notes": (form.get("notes") or "").strip(),
              "crew": crew}
    try:
        with UnitOfWork(p.actor) as uow:
            a = calendar.update_assignment(uow, assignment_id, {"headcount": values["headcount"] or None,
                                                                "notes": values["notes"], "crew": crew})
            week = a.date.isoformat()
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _assignment_page(p, assignment_id, error=exc, values=values)
    return redirect(f"/mes/roster?week={week}", _("已保存"))


@area.post("/roster/{assignment_id}/delete")
def assignment_delete(assignment_id: int, p: Page = ADMIN):
    with UnitOfWork(p.actor) as uow:
        week = uow.get(ShiftAssignment, assignment_id).date.isoformat()
        calendar.remove_assignment(uow, assignment_id)
    return redirect(f"/mes/roster?week={week}", _("已删除"))


@area.get("/capacity")
def capacity_page(start: str | None = None, days: str | None = None, work_center_id: str | None = None,
                  p: Page = READ):
    wc_id = int(work_center_id) if work_center_id and work_center_id.isdigit() else None
    n = int(days) if days and days.isdigit() and 1 <= int(days) <= 92 else 14
    with UnitOfWork(p.actor, readonly=True) as uow:
        first = _day(start, company_today(uow))
        options = _options(uow)
        try:
            items = calendar.capacity(uow, first, first + dt.timedelta(days=n - 1),
                                      work_center_ids=[wc_id] if wc_id else None)
        except DomainError as exc:
            return render(p, "error.html", status_code=422, status=422, message=exc.message)
    dates = [d["date"] for d in items[0]["days"]] if items else []
    def total(key: str) -> list[float]:
        return [round(sum(float(w["days"][i][key]) for w in items), 2) for i in range(len(dates))]

    chart = {"dates": dates, "available": total("available_hours"), "load": total("load_hours")}
    return render(p, "mes/calendar_capacity.html", title=_("产能负荷"), items=items, dates=dates,
                  start=first.isoformat(), days=n, work_center_id=wc_id,
                  chart_json=script_json(chart), **options)


router.include_router(area)
router.include_router(resource_pages(resources.shifts))
