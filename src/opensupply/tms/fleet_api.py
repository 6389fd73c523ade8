"""Own-fleet master data under /api/v1/tms/fleet/: depots, vehicles, drivers — list (`?q=&limit=&offset=`),
one, create, change, delete (a used vehicle / driver is switched off), XLSX/CSV export. Thin: the `tms.fleet`
service in one unit of work."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from opensupply.core.http import require
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork

from . import fleet

router = APIRouter(prefix="/tms/fleet", tags=["tms fleet"])
READ = Depends(require("tms.read"))
ADMIN = Depends(require("tms.admin"))


@router.get("/{kind}")
def list_records(kind: str, q: str | None = None, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                 actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = fleet.search(uow, kind, q=q, limit=limit, offset=offset)
        return {"items": [fleet.as_dict(uow, kind, r) for r in rows], "total": total}


@router.get("/{kind}/export")
def export(kind: str, q: str | None = None, format: str = "xlsx", actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        rows = fleet.export_rows(uow, kind, q=q)
    if format == "csv":
        return Response(write_csv(fleet.header(kind), rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
    return Response(write_xlsx(fleet.header(kind), rows, kind),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{kind}.xlsx"'})


@router.get("/{kind}/{record_id}")
def get_record(kind: str, record_id: int, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        model = fleet.KINDS[kind][0] if kind in fleet.KINDS else None
        fleet._kind(kind)
        return fleet.as_dict(uow, kind, uow.get(model, record_id))


@router.post("/{kind}", status_code=201)
def create_record(kind: str, data: dict = Body(...), actor: Actor = ADMIN):
    with UnitOfWork(actor) as uow:
        return fleet.as_dict(uow, kind, fleet.save(uow, kind, data))


@router.patch("/{kind}/{record_id}")
def update_record(kind: str, record_id: int, data: dict = Body(...), actor: Actor = ADMIN):
    with UnitOfWork(actor) as uow:
        return fleet.as_dict(uow, kind, fleet.save(uow, kind, data, record_id))


@router.delete("/{kind}/{record_id}", status_code=204)
def delete_record(kind: str, record_id: int, actor: Actor = ADMIN):
    with UnitOfWork(actor) as uow:
        fleet.delete(uow, kind, record_id)
    return Response(status_code=204)
