"""REST endpoints of the inventory risk dashboard under /api/v1/scm/risk (mounted by `scm.api`): one page of SKUs
with the summary, and XLSX/CSV export. Thin: `scm.risk`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork

from . import risk

router = APIRouter(tags=["scm"])  # included by scm.api under /scm
READ = Depends(require("scm.read"))


def _s(v):
    return None if v is None else str(v) if not hasattr(v, "isoformat") else v.isoformat()


def row_out(r: dict) -> dict:
    return {k: (_s(v) if k not in ("product_id", "lead_time_days") else v) for k, v in r.items()}


def summary_out(s: dict) -> dict:
    return {"skus": s["skus"], "stock_value": str(s["stock_value"]), "value_at_risk": str(s["value_at_risk"]),
            "by_kind": {k: {"count": v["count"], "value_at_risk": str(v["value_at_risk"]),
                            "label": risk.kind_label(k)} for k, v in s["by_kind"].items()},
            "cover": s["cover"]}


@router.get("/risk", summary="Inventory risk per SKU: cover, stockout, overstock, slow and dead stock, value at risk")
def inventory_risk(q: str = "", warehouse_id: int | None = None, abc: str | None = None, kind: str | None = None,
                   overstock_days: int | None = None, slow_days: int | None = None, dead_days: int | None = None,
                   lead_time_days: int | None = None, service_level: float | None = None,
                   limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        data = risk.inventory_risk(uow, q=q, warehouse_id=warehouse_id, abc=abc or None, kind=kind or None,
                                   limit=limit, offset=offset, overstock_days=overstock_days, slow_days=slow_days,
                                   dead_days=dead_days, lead_time_days=lead_time_days, service_level=service_level)
    return {"items": [row_out(r) for r in data["items"]], "total": data["total"],
            "summary": summary_out(data["summary"]), "params": data["params"], "today": data["today"].isoformat(),
            "demand_source": data["demand_source"], "forecast_run": data["forecast_run"]}


@router.get("/risk/export", summary="Inventory risk as XLSX or CSV")
def export(q: str = "", warehouse_id: int | None = None, abc: str | None = None, kind: str | None = None,
           format: str = "xlsx", actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = risk.export_rows(uow, q=q, warehouse_id=warehouse_id, abc=abc or None, kind=kind or None)
    return tabular(header, rows, format)


def tabular(header: list[str], rows: list[list], fmt: str) -> Response:
    if fmt == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="inventory-risk.csv"'})
    return Response(write_xlsx(header, rows, _("库存风险")),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="inventory-risk.xlsx"'})
