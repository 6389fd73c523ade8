"""Forecast review pages under /scm: run list (start a run), run detail (SKUs with search/filter, approve,
publish to MRP, export) and one SKU (ECharts chart of history + forecast + override, per-period overrides).
Thin: `scm.service`."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import service

router = APIRouter(prefix="/scm", include_in_schema=False)
READ = Depends(page_permission("scm.read"))
PLAN = Depends(page_permission("scm.plan"))
LIMIT = 50


def _int(value, default: int = 0) -> int:
    return int(value) if str(value or "").isdigit() else default


@router.get("/forecasts")
def runs_page(request: Request, p: Page = READ):
    offset = _int(request.query_params.get("offset"))
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, total = service.list_runs(uow, limit=LIMIT, offset=offset)
        runs = [service.run_dict(r) for r in items]
    return render(p, "scm/forecast_runs.html", title=_("需求预测"), runs=runs, total=total, offset=offset,
                  limit=LIMIT, buckets=service.BUCKETS, can_plan=p.actor.can("scm.plan"))


@router.post("/forecasts")
async def run_create(request: Request, p: Page = PLAN):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            run = service.start_forecast(uow, bucket=form.get("bucket") or "month",
                                         horizon=_int(form.get("horizon"), -1),
                                         history_periods=_int(form.get("history_periods"), -1))
            run_id = run.id
    except DomainError as exc:
        return redirect("/scm/forecasts", exc.message, "error")
    return redirect(f"/scm/forecasts/{run_id}", _("已开始预测"))


@router.get("/forecasts/{run_id}")
def run_page(run_id: int, request: Request, p: Page = READ):
    qp = request.query_params
    q, model, overridden = (qp.get("q") or "").strip(), qp.get("model") or "", qp.get("overridden") == "1"
    offset = _int(qp.get("offset"))
    try:
        with UnitOfWork(p.actor, readonly=True) as uow:
            run = service.run_dict(service.get_run(uow, run_id))
            items, total = service.list_series(uow, run_id, q=q, model=model, overridden=overridden, limit=LIMIT,
                                               offset=offset)
            series = [service.series_dict(s) for s in items]
    except DomainError as exc:
        return render(p, "error.html", status_code=404, status=404, message=exc.message)
    keep = urllib.parse.urlencode({k: v for k, v in (("q", q), ("model", model), ("overridden", "1" if overridden
                                                                                  else "")) if v})
    return render(p, "scm/forecast_run.html", title=_("需求预测 {n}", n=run["number"]), run=run, series=series,
                  total=total, offset=offset, limit=LIMIT, q=q, model=model, overridden=overridden, keep=keep,
                  models=service.MODELS, can_plan=p.actor.can("scm.plan"), mrp=service.mrp_available())


@router.post("/forecasts/{run_id}/{action}")
async def run_action(run_id: int, action: str, p: Page = PLAN):
    back = f"/scm/forecasts/{run_id}"
    try:
        with UnitOfWork(p.actor) as uow:
            if action == "approve":
                service.approve_run(uow, run_id)
                message = _("预测已审核")
            elif action == "publish":
                run = service.publish_to_mrp(uow, run_id)
                message = _("已发布到 MRP：{n} 行", n=run.published_rows)
            else:
                return redirect(back, _("未知操作"), "error")
    except DomainError as exc:
        return redirect(back, exc.message, "error")
    return redirect(back, message)


@router.get("/forecast-series/{series_id}")
def series_page(series_id: int, p: Page = READ):
    try:
        with UnitOfWork(p.actor, readonly=True) as uow:
            s = service.get_series(uow, series_id)
            run_obj = service.get_run(uow, s.run_id)
            chart = service.chart_data(run_obj, s)
            run, series = service.run_dict(run_obj), service.series_dict(s, lines=True)
    except DomainError as exc:
        return render(p, "error.html", status_code=404, status=404, message=exc.message)
    editable = p.actor.can("scm.plan") and run["state"] in ("done", "approved")
    return render(p, "scm/forecast_series.html", title=f"{series['sku']} {series['name']}", run=run, s=series,
                  chart_json=script_json(chart), editable=editable)


@router.post("/forecast-lines/{line_id}/override")
async def override(line_id: int, request: Request, p: Page = PLAN):
    form = await request.form()
    back = f"/scm/forecast-series/{_int(form.get('series_id'))}"
    try:
        with UnitOfWork(p.actor) as uow:
            service.override_line(uow, line_id, quantity=None if form.get("clear") else form.get("quantity"),
                                  reason=form.get("reason"))
    except DomainError as exc:
        return redirect(back, exc.message, "error")
    return redirect(back, _("已保存调整"))


@router.get("/forecasts/{run_id}/policy")
def policy_page(run_id: int, request: Request, p: Page = READ):
    from . import policy

    qp = request.query_params
    params = {"service_level": qp.get("service_level") or "0.95", "lead_time": qp.get("lead_time") or "1",
              "lead_time_std": qp.get("lead_time_std") or "0"}
    error, rows, run = None, [], None
    try:
        with UnitOfWork(p.actor, readonly=True) as uow:
            run = service.run_dict(service.get_run(uow, run_id))
            rows = policy.inventory_policy(uow, run_id, **params)
    except DomainError as exc:
        if run is None:
            return render(p, "error.html", status_code=404, status=404, message=exc.message)
        error = exc.message
    return render(p, "scm/policy.html", status_code=422 if error else 200,
                  title=_("安全库存与再订货点 {n}", n=run["number"]), run=run, rows=rows, error=error, **params)


from . import risk_web  # noqa: E402  (the inventory risk dashboard, in its own file)

router.include_router(risk_web.router)

from . import distribution_web  # noqa: E402  (multi-warehouse distribution planning, in its own file)

router.include_router(distribution_web.router)
