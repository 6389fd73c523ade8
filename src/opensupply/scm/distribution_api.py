"""REST endpoints of multi-warehouse distribution planning under /api/v1/scm/distribution (mounted by `scm.api`):
the transfer proposals with the summary and demand shares, XLSX/CSV export, and applying one proposal.
Thin: `scm.distribution`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory.service import fmt_qty

from . import distribution

router = APIRouter(tags=["scm"])  # included by scm.api under /scm
READ = Depends(require("scm.read"))
PLAN = Depends(require("scm.plan"))


class ApplyIn(BaseModel):
    product_id: int
    from_warehouse_id: int
    to_warehouse_id: int
    quantity: str
    expected_available: str | None = None
    lookback_days: int | None = None
    cover_days: int | None = None


def _s(v):
    return v if v is None or isinstance(v, int | bool) else str(v)


def proposal_out(p: dict) -> dict:
    return {k: _s(v) for k, v in p.items()}


def sku_out(s: dict) -> dict:
    return {"product_id": s["product_id"], "sku": s["sku"], "name": s["name"], "demand": str(s["demand"]),
            "daily_demand": str(s["daily_demand"]), "safety_stock": str(s["safety_stock"]),
            "demand_source": s["demand_source"],
            "regions": [{"province": p, "quantity": str(q), "share": str(sh)} for p, q, sh in s["regions"]],
            "warehouses": [{k: _s(v) for k, v in r.items()} for r in s["rows"]]}


@router.get("/distribution", summary="Multi-warehouse distribution: demand shares, targets and transfer proposals")
def proposals(q: str = "", warehouse_id: int | None = None, lookback_days: int | None = None,
              cover_days: int | None = None, min_qty: int | None = None, limit: int = Query(50, ge=1, le=500),
              offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        data = distribution.distribution(uow, q=q, warehouse_id=warehouse_id, limit=limit, offset=offset,
                                         lookback_days=lookback_days, cover_days=cover_days, min_qty=min_qty)
    return {"items": [proposal_out(p) for p in data["items"]], "total": data["total"],
            "summary": {k: v if isinstance(v, int) else fmt_qty(v) for k, v in data["summary"].items()},
            "skus": [sku_out(s) for s in data["skus"]],
            "warehouses": data["warehouses"], "params": data["params"], "today": data["today"].isoformat(),
            "forecast_run": data["forecast_run"]}


@router.get("/distribution/export", summary="Transfer proposals as XLSX or CSV")
def export(q: str = "", warehouse_id: int | None = None, lookback_days: int | None = None,
           cover_days: int | None = None, min_qty: int | None = None, format: str = "xlsx", actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = distribution.export_rows(uow, q=q, warehouse_id=warehouse_id, lookback_days=lookback_days,
                                                cover_days=cover_days, min_qty=min_qty)
    return tabular(header, rows, format)


@router.post("/distribution/apply", summary="Book one transfer proposal as an internal stock transfer")
def apply(body: ApplyIn, actor: Actor = PLAN) -> dict:
    with UnitOfWork(actor) as uow:
        return distribution.apply_transfer(uow, **body.model_dump())


def tabular(header: list[str], rows: list[list], fmt: str) -> Response:
    if fmt == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="distribution.csv"'})
    return Response(write_xlsx(header, rows, _("调拨建议")),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="distribution.xlsx"'})
