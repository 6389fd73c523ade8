"""Route-planning pages under /tms/route-plans: the list with the form that starts a plan (depot, day, time
limit → the background job), and one plan: the routes drawn from coordinates with ECharts (one colour per
vehicle, no map tiles), the stop lists with ETA / load / distance, the job's progress (htmx polling), re-plan,
and 调度 (a driver per route, then dispatch). Thin: `tms.planning` / `tms.dispatch`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import dispatch, fleet, planning

router = APIRouter(prefix="/tms", include_in_schema=False)
READ = Depends(page_permission("tms.read"))
WRITE = Depends(page_permission("tms.write"))
PAGE_SIZE = 50


@router.get("/route-plans")
def plans_page(request: Request, q: str | None = None, status: str | None = None, offset: int = 0, p: Page = READ):
    offset = max(0, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = planning.list_plans(uow, q=q, status=status or None, limit=PAGE_SIZE, offset=offset)
        items = [planning.plan_dict(uow, x, routes=False) for x in rows]
        depots = fleet.depots(uow)
        today = company_today(uow)
    return render(p, "tms/route_plans.html", title=_("排线调度"), items=items, total=total, offset=offset,
                  limit=PAGE_SIZE, q=q or "", status=status or "", statuses=planning.PLAN_LABELS, depots=depots,
                  today=(today + dt.timedelta(days=1)).isoformat(), can_write=p.actor.can("tms.write"))


@router.post("/route-plans")
async def plan_create(request: Request, p: Page = WRITE):
    form = await request.form()

    def run():
        try:
            depot_id = int(form.get("depot_id") or 0)
            day = dt.date.fromisoformat((form.get("day") or "").strip())
            limit = float(form.get("time_limit_s") or 10)
        except ValueError as exc:
            raise DomainError(_("请填写站点、配送日期和求解时限")) from exc
        with UnitOfWork(p.actor) as uow:
            return planning.start_plan(uow, depot_id, day, time_limit_s=limit).id

    try:
        plan_id = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/tms/route-plans", exc.message, "error")
    return redirect(f"/tms/route-plans/{plan_id}", _("已开始排线"))


def _map_data(plan: dict, positions: dict) -> dict:
    return {"depot": [plan["depot_lon"], plan["depot_lat"], plan["depot"]],
            "positions": [[pos["lon"], pos["lat"], r["vehicle"]] for r in plan.get("routes", [])
                          if (pos := positions.get(r["id"]))],
            "routes": [{"name": f"{r['vehicle']} {r['plate'] or ''}".strip(),
                        "stops": [[s["lon"], s["lat"], s["sequence"], s["receiver"] or s["number"], s["eta"]]
                                  for s in r["stops"]]} for r in plan.get("routes", [])]}


@router.get("/route-plans/{plan_id}")
def plan_page(plan_id: int, p: Page = READ, error: str | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        plan = planning.plan_dict(uow, planning.get_plan(uow, plan_id))
        drivers = fleet.active_drivers(uow)
        positions = dispatch.last_positions(uow, [r["id"] for r in plan["routes"]])
    data = script_json(_map_data(plan, positions))
    return render(p, "tms/route_plan.html", title=_("排线计划 {n}", n=plan["number"]), plan=plan, map_json=data,
                  drivers=drivers, positions=positions, error=error, can_write=p.actor.can("tms.write"))


EXPORT_HEADER = ["车辆", "车牌", "司机", "站序", "运单", "参考号", "收货人", "电话", "地址", "预计到达", "重量(kg)",
                 "累计装载(kg)", "状态"]


@router.get("/route-plans/{plan_id}/export")
def plan_export(plan_id: int, format: str = "xlsx", p: Page = READ):
    """The plan's stops per vehicle (装车 / 派送 list) as XLSX or CSV."""
    with UnitOfWork(p.actor, readonly=True) as uow:
        plan = planning.plan_dict(uow, planning.get_plan(uow, plan_id))
    rows = [[r["vehicle"], r["plate"], r["driver"], s["sequence"], s["number"], s["reference"], s["receiver"],
             s["phone"], s["address"], s["eta"], s["weight_kg"], s["load_kg"], s["status_label"]]
            for r in plan["routes"] for s in r["stops"]]
    header = [_(h) for h in EXPORT_HEADER]
    name = plan["number"]
    if format == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(write_xlsx(header, rows, name),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/route-plans/{plan_id}/progress")
def plan_progress(plan_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        plan = planning.plan_dict(uow, planning.get_plan(uow, plan_id), routes=False)
    resp = render(p, "tms/route_progress.html", plan=plan)
    if plan["status"] != "planning":
        resp.headers["HX-Refresh"] = "true"
    return resp


@router.post("/route-plans/{plan_id}/replan")
def plan_replan(plan_id: int, p: Page = WRITE):
    try:
        with UnitOfWork(p.actor) as uow:
            planning.replan(uow, plan_id)
    except DomainError as exc:
        return redirect(f"/tms/route-plans/{plan_id}", exc.message, "error")
    return redirect(f"/tms/route-plans/{plan_id}", _("已重新开始排线"))


@router.post("/route-plans/{plan_id}/cancel")
def plan_cancel(plan_id: int, p: Page = WRITE):
    try:
        with UnitOfWork(p.actor) as uow:
            planning.cancel_planning(uow, plan_id)
    except DomainError as exc:
        return redirect(f"/tms/route-plans/{plan_id}", exc.message, "error")
    return redirect(f"/tms/route-plans/{plan_id}", _("已取消排线"))


@router.post("/route-plans/{plan_id}/dispatch")
async def plan_dispatch(plan_id: int, request: Request, p: Page = WRITE):
    form = await request.form()

    def run():
        with UnitOfWork(p.actor) as uow:
            plan = planning.get_plan(uow, plan_id)
            for r in plan.routes:
                value = (form.get(f"driver_{r.id}") or "").strip()
                if value or plan.status == "planned":
                    dispatch.assign(uow, r.id, int(value) if value else None)
            if form.get("action") != "assign":
                dispatch.dispatch_plan(uow, plan_id)
                return _("已调度：司机可在司机任务页看到各自的站点")
            return _("已保存司机分配")

    try:
        message = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/tms/route-plans/{plan_id}", exc.message, "error")
    return redirect(f"/tms/route-plans/{plan_id}", message)
