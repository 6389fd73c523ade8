"""Shop floor under /api/v1/mes/: work centers and equipment (declarative resources: list, read, create,
update, archive, import, export), the status board, status changes, the downtime log (and its export) and OEE.
Thin: `mes.resources`, `mes.shopfloor`, `mes.oee`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from opensupply.core.http import require
from opensupply.core.i18n import format_datetime
from opensupply.core.resource_api import resource_router
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork

from . import calendar, oee, resources, shopfloor
from .equipment import status_label

READ = Depends(require("mes.read"))
REPORT = Depends(require("mes.report"))

router = APIRouter()
router.include_router(resource_router(resources.work_centers))
router.include_router(resource_router(resources.equipment))
area = APIRouter(prefix="/mes", tags=["mes shop floor"])


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    reason: str | None = None
    work_order: str | int | None = None
    at: dt.datetime | None = None


def _machine(eq) -> dict:
    return {"id": eq.id, "code": eq.code, "name": eq.name, "work_center_id": eq.work_center_id,
            "status": eq.status, "status_label": status_label(eq.status), "reason": eq.status_reason,
            "since": eq.status_since.isoformat() if eq.status_since else None}


def _public(group: dict) -> dict:
    return {**group, "machines": [{k: v for k, v in m.items() if k != "since_dt"} for m in group["machines"]]}


@area.get("/equipment-board", summary="Machines grouped by work center with their status")
def board(work_center_id: int | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        groups = shopfloor.equipment_board(uow, work_center_id=work_center_id)
        return {"items": [_public(g) for g in groups], "total": sum(len(g["machines"]) for g in groups)}


@area.post("/equipment/{equipment_id}/status", summary="Change a machine's status (故障/保养 need a reason)")
def change_status(equipment_id: int, body: StatusIn, actor: Actor = REPORT):
    with UnitOfWork(actor) as uow:
        eq = shopfloor.change_status(uow, equipment_id, body.status, reason=body.reason,
                                     work_order=body.work_order, at=body.at)
        return _machine(eq)


def _downtime(uow, equipment_id, work_center_id, status, start, end, q, limit, offset) -> dict:
    lo, hi = calendar.local_period(uow, start, end, default_days=30)
    return shopfloor.downtime(uow, equipment_id=equipment_id, work_center_id=work_center_id, status=status or None,
                              start=lo, end=hi, q=q, limit=limit, offset=offset)


def _clean(row: dict) -> dict:
    return {k: (str(v) if k.startswith("minutes") else v) for k, v in row.items() if not k.endswith("_dt")}


@area.get("/downtime", summary="Breakdown and maintenance periods (filter by machine, work center, kind, period)")
def downtime(equipment_id: int | None = None, work_center_id: int | None = None, status: str | None = None,
             start: str | None = None, end: str | None = None, q: str | None = None,
             limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        data = _downtime(uow, equipment_id, work_center_id, status, start, end, q, limit, offset)
        return {**data, "items": [_clean(r) for r in data["items"]]}


@area.get("/downtime/export", summary="The downtime log as XLSX or CSV")
def downtime_export(equipment_id: int | None = None, work_center_id: int | None = None, status: str | None = None,
                    start: str | None = None, end: str | None = None, q: str | None = None,
                    format: str = Query("xlsx", pattern="^(csv|xlsx)$"), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        data = _downtime(uow, equipment_id, work_center_id, status, start, end, q, 100000, 0)
        header, rows = shopfloor.downtime_rows(uow, data["items"], format_datetime)
    return export(header, rows, "downtime", format)


def export(header: list[str], rows: list[list], name: str, fmt: str) -> Response:
    if fmt == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(write_xlsx(header, rows, name),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@area.get("/oee", summary="OEE per machine over a period (availability × performance × quality)")
def oee_report(start: str | None = None, end: str | None = None, work_center_id: int | None = None,
               equipment_id: int | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        lo, hi = calendar.local_period(uow, start, end, default_days=7)
        data = oee.oee(uow, lo, hi, work_center_id=work_center_id,
                       equipment_ids=[equipment_id] if equipment_id else None)
        return {"start": data["start"], "end": data["end"], "counted_until": data["counted_until"],
                "items": [i.as_dict() for i in data["items"]], "plant": data["plant"].as_dict()}


router.include_router(area)
