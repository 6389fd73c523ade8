"""REST API under /api/v1/scm: forecast runs, their series (per SKU) and lines, overrides, approval, publishing
to MRP, export. Thin: `scm.service`."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel

from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork

from . import service

router = APIRouter(prefix="/scm", tags=["scm"])
READ = Depends(require("scm.read"))
PLAN = Depends(require("scm.plan"))


class RunIn(BaseModel):
    bucket: str = "month"
    horizon: int = 12
    history_periods: int = 36


class OverrideIn(BaseModel):
    quantity: str | None = None
    reason: str | None = None


@router.get("/forecasts", summary="Forecast runs, newest first")
def list_runs(limit: int = 50, offset: int = 0, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = service.list_runs(uow, limit=limit, offset=offset)
        return {"items": [service.run_dict(r) for r in items], "total": total}


@router.post("/forecasts", status_code=202, summary="Start a forecast run (background job)")
def start_run(body: RunIn, actor: Actor = PLAN) -> dict:
    with UnitOfWork(actor) as uow:
        run = service.start_forecast(uow, bucket=body.bucket, horizon=body.horizon,
                                     history_periods=body.history_periods)
        out = service.run_dict(run)
    return out


@router.get("/forecasts/{run_id}", summary="One run")
def get_run(run_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return service.run_dict(service.get_run(uow, run_id))


@router.get("/forecasts/{run_id}/series", summary="The run's SKUs (search by SKU or name, filter by model)")
def list_series(run_id: int, q: str = "", model: str = "", overridden: bool = False, limit: int = 50,
                offset: int = 0, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = service.list_series(uow, run_id, q=q, model=model, overridden=overridden, limit=limit,
                                           offset=offset)
        return {"items": [service.series_dict(s) for s in items], "total": total}


@router.get("/forecast-series/{series_id}", summary="One SKU of a run with its lines and chart data")
def get_series(series_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        s = service.get_series(uow, series_id)
        run = service.get_run(uow, s.run_id)
        return {**service.series_dict(s, lines=True), "chart": service.chart_data(run, s)}


@router.post("/forecast-lines/{line_id}/override", summary="Set or clear the planner's quantity for a period")
def override(line_id: int, body: OverrideIn, actor: Actor = PLAN) -> dict:
    with UnitOfWork(actor) as uow:
        ln = service.override_line(uow, line_id, quantity=body.quantity, reason=body.reason)
        return {"id": ln.id, "override_qty": None if ln.override_qty is None else str(ln.override_qty),
                "override_reason": ln.override_reason, "final_qty": str(ln.final_qty)}


@router.post("/forecasts/{run_id}/approve", summary="Approve a reviewed run")
def approve(run_id: int, actor: Actor = PLAN) -> dict:
    with UnitOfWork(actor) as uow:
        return service.run_dict(service.approve_run(uow, run_id))


@router.post("/forecasts/{run_id}/publish", summary="Publish an approved run to MRP as independent demand")
def publish(run_id: int, actor: Actor = PLAN) -> dict:
    with UnitOfWork(actor) as uow:
        return service.run_dict(service.publish_to_mrp(uow, run_id))


@router.get("/forecasts/{run_id}/export", summary="The run's lines as XLSX or CSV")
def export(run_id: int, format: str = "xlsx", actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        number = service.get_run(uow, run_id).number
        header, rows = service.export_rows(uow, run_id)
    if format == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{number}.csv"'})
    return Response(write_xlsx(header, rows, _("需求预测")),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{number}.xlsx"'})


@router.get("/forecasts/{run_id}/policy", summary="Safety stock, reorder point and ABC/XYZ class per SKU of a run")
def inventory_policy(run_id: int, service_level: float = 0.95, lead_time: float = 1, lead_time_std: float = 0,
                     actor: Actor = READ) -> dict:
    from . import policy

    with UnitOfWork(actor, readonly=True) as uow:
        rows = policy.inventory_policy(uow, run_id, service_level=service_level, lead_time=lead_time,
                                       lead_time_std=lead_time_std)
    items = [{k: str(v) if hasattr(v, "quantize") else v for k, v in r.items()} for r in rows]
    return {"items": items, "total": len(items)}


from . import risk_api  # noqa: E402  (the inventory risk dashboard, in its own file)

router.include_router(risk_api.router)

from . import distribution_api  # noqa: E402  (multi-warehouse distribution planning, in its own file)

router.include_router(distribution_api.router)
