"""REST endpoints of the rough-cut capacity check under /api/v1/erp/planning/capacity: load vs available
minutes per work center and week, the orders behind one cell, XLSX/CSV export. Thin: `capacity`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork

from . import capacity

router = APIRouter(prefix="/erp", tags=["erp planning"])
READ = Depends(require("erp.planning"))
WEEKS = Query(capacity.DEFAULT_WEEKS, ge=1, le=capacity.MAX_WEEKS)


def _num(v):
    return None if v is None else str(v)


def cell_out(c: dict) -> dict:
    return {"period": c["period"].isoformat(), "load_minutes": str(c["load_minutes"]),
            "available_minutes": str(c["available_minutes"]), "utilisation_pct": _num(c["utilisation_pct"]),
            "overloaded": c["overloaded"]}


@router.get("/planning/capacity", summary="Rough-cut capacity: load vs available minutes per work center and week")
def rough_cut(weeks: int = WEEKS, start: dt.date | None = None, work_center_id: int | None = None,
              actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        data = capacity.rough_cut_capacity(uow, weeks=weeks, start=start, work_center_id=work_center_id)
    items = [{"work_center_id": w["id"], "code": w["code"], "name": w["name"],
              "load_minutes": str(w["load_minutes"]), "available_minutes": str(w["available_minutes"]),
              "utilisation_pct": _num(w["utilisation_pct"]), "overloaded": w["overloaded"],
              "cells": [cell_out(c) for c in w["cells"]]} for w in data["work_centers"]]
    run = data["run"]
    return {"mes_enabled": data["mes_enabled"], "run": run and {"id": run["id"], "number": run["number"]},
            "periods": [d.isoformat() for d in data["periods"]], "items": items, "total": len(items),
            "no_routing": data["no_routing"]}


@router.get("/planning/capacity/orders", summary="The orders loading one work center in one week")
def cell_orders(work_center_id: int, period: dt.date, weeks: int = WEEKS, start: dt.date | None = None,
                actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows = capacity.capacity_orders(uow, work_center_id, period, weeks=weeks, start=start)
    items = [{"source": r["source"], "id": r["id"], "number": r["number"], "product_id": r["product_id"],
              "sku": r["sku"], "name": r["name"], "quantity": _num(r["quantity"]), "operation": r["operation"],
              "minutes": str(r["minutes"]), "day": r["day"].isoformat() if r["day"] else None,
              "past_due": r["past_due"]} for r in rows]
    return {"items": items, "total": len(items)}


@router.get("/planning/capacity/export", summary="Rough-cut capacity as XLSX or CSV")
def export(weeks: int = WEEKS, start: dt.date | None = None, format: str = "xlsx", actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = capacity.export_rows(uow, weeks=weeks, start=start)
    return tabular_response(header, rows, format, "capacity", _("产能粗算"))


def tabular_response(header: list[str], rows: list[list], fmt: str, name: str, title: str) -> Response:
    if fmt == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(write_xlsx(header, rows, title),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
