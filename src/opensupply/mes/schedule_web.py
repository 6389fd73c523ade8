"""The scheduling page /mes/schedule: a Gantt chart (ECharts custom series — one row per machine, one bar per
operation coloured by work order, late orders outlined in red with their due-date marker), the form that starts
a scheduling run with htmx progress, the last runs, and per-operation freeze / unfreeze (optionally pinned at a
start and machine) so that re-running keeps them in place. Thin: `mes.schedule_job`."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import calendar, schedule_job
from .models import Equipment, WorkCenter

READ = Depends(page_permission("mes.read"))
WRITE = Depends(page_permission("mes.write"))

router = APIRouter(prefix="/mes", include_in_schema=False)


def _ms(value: str | None, tz) -> int | None:
    """Epoch milliseconds of the company's wall-clock time: the chart runs in UTC mode, so it shows exactly the
    company's local times whatever the browser's zone."""
    if not value:
        return None
    at = dt.datetime.fromisoformat(value)
    return int((at.timestamp() + at.astimezone(tz).utcoffset().total_seconds()) * 1000)


def _safe_back(value: str | None) -> str:
    value = (value or "").strip()
    return value if value.startswith("/mes/schedule") and "//" not in value else "/mes/schedule"


@router.get("/schedule")
def schedule_page(request: Request, start: str | None = None, days: str | None = None,
                  work_center_id: str | None = None, run: str | None = None, p: Page = READ):
    wc_id = int(work_center_id) if work_center_id and work_center_id.isdigit() else None
    n = int(days) if days and days.isdigit() and 1 <= int(days) <= 60 else 7
    with UnitOfWork(p.actor, readonly=True) as uow:
        tz = calendar.company_tz(uow)
        today = company_today(uow)
        try:
            first = dt.date.fromisoformat(start[:10]) if start else today
        except ValueError:
            first = today
        lo = dt.datetime.combine(first, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
        hi = dt.datetime.combine(first + dt.timedelta(days=n), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
        view = schedule_job.schedule_view(uow, lo, hi, work_center_id=wc_id)
        runs, _total = schedule_job.list_runs(uow, limit=8)
        runs = [schedule_job.run_to_dict(uow, r) for r in runs]
        current = next((r for r in runs if str(r["id"]) == (run or "")), runs[0] if runs else None)
        wcs = uow.session.execute(select(WorkCenter.id, WorkCenter.code, WorkCenter.name).where(
            WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True)).order_by(WorkCenter.code)).all()
        machines = uow.session.execute(select(Equipment.id, Equipment.code, Equipment.work_center_id).where(
            Equipment.company_id == uow.company_id, Equipment.active.is_(True)).order_by(Equipment.code)).all()
        now_local = utcnow().astimezone(tz)
    chart = {"rows": [r["label"] for r in view["rows"]], "start": _ms(view["start"], tz), "end": _ms(view["end"], tz),
             "now": _ms(utcnow().isoformat(), tz),
             "bars": [{"value": [o["row"], _ms(o["planned_start"], tz), _ms(o["planned_end"], tz), o["colour"]],
                       "wo": o["work_order"], "op": f'{o["sequence"]} {o["name"]}', "sku": o["sku"],
                       "late": o["late"], "frozen": o["frozen"], "state": o["state_label"], "due": o["due_date"]}
                      for o in view["operations"]],
             "dues": [], "late_label": _("延期"), "frozen_label": _("冻结"), "due_label": _("交期")}
    last_row: dict[int, int] = {}
    for o in view["operations"]:
        last_row[o["work_order_id"]] = o["row"]
    for order in view["orders"]:
        if order["due"]:
            chart["dues"].append({"value": [_ms(order["due"], tz), last_row[order["id"]]], "wo": order["number"],
                                  "late": order["late"]})
    keep = urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k != "run" and v})
    return render(p, "mes/schedule_gantt.html", title=_("排产甘特图"), view=view, runs=runs, run=current,
                  start=first.isoformat(), days=n, work_center_id=wc_id, work_centers=wcs, machines=machines,
                  now_local=now_local.strftime("%Y-%m-%dT%H:%M"), keep=keep,
                  back=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                  chart_json=script_json(chart),
                  can_write=p.actor.can("mes.write"))


@router.post("/schedule/runs")
async def run_create(request: Request, p: Page = WRITE):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            start = calendar.parse_moment(uow, form.get("horizon_start"), "horizon_start")
            run = schedule_job.start_schedule(uow, horizon_start=start, time_limit_s=form.get("time_limit_s") or 10,
                                              horizon_days=form.get("horizon_days") or
                                              schedule_job.DEFAULT_HORIZON_DAYS)
            run_id = run.id
    except DomainError as exc:
        return redirect("/mes/schedule", exc.message, "error")
    return redirect(f"/mes/schedule?run={run_id}", _("已开始排产"))


@router.get("/schedule/runs/{run_id}/progress")
def run_progress(run_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        run = schedule_job.run_to_dict(uow, schedule_job.get_run(uow, run_id))
    resp = render(p, "mes/schedule_progress.html", run=run)
    if run["state"] != "running":
        resp.headers["HX-Refresh"] = "true"
    return resp


@router.post("/schedule/operations/{op_id}/{action}")
async def operation_action(op_id: int, action: str, request: Request, p: Page = WRITE):
    form = await request.form()
    back = _safe_back(form.get("next"))
    if action not in ("freeze", "unfreeze"):
        return redirect(back, _("未知操作"), "error")
    try:
        with UnitOfWork(p.actor) as uow:
            if action == "unfreeze":
                op = schedule_job.unfreeze_operation(uow, op_id)
                message = _("已解冻：{op}", op=op.name)
            else:
                start = calendar.parse_moment(uow, form.get("planned_start"), "planned_start")
                eq = (form.get("equipment_id") or "").strip()
                op = schedule_job.freeze_operation(uow, op_id, planned_start=start,
                                                   equipment_id=int(eq) if eq.isdigit() else None)
                message = _("已冻结：{op}（重新排产时保持不动）", op=op.name)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(back, exc.message, "error")
    return redirect(back, message)
