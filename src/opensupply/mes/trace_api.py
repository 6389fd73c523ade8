"""Lot trace under /api/v1/mes/trace: one call gives both directions of a lot — backward to the supplier lots,
receipts and purchase orders in it, forward to the lots made from it and the customers and orders that
received them — plus the quality checks recorded on it; `/export` gives the recall list as XLSX/CSV."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork

from . import genealogy

router = APIRouter(prefix="/mes", tags=["mes trace"])
READ = Depends(require("mes.read"))


@router.get("/trace", summary="Trace a lot backward and forward")
def trace(lot: str | None = None, product: str | None = None, lot_id: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        found = genealogy.find_lot(uow, lot_id=lot_id, lot=lot, product=product)
        return genealogy.trace(uow, found.id)


@router.get("/trace/export", summary="The recall list (customers and orders reached) as XLSX or CSV")
def export(lot: str | None = None, product: str | None = None, lot_id: int | None = None, format: str = "xlsx",
           actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        found = genealogy.find_lot(uow, lot_id=lot_id, lot=lot, product=product)
        header, rows = genealogy.recall_rows(uow, found.id)
    name = f"recall-{found.name}".replace('"', "")
    if format == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(write_xlsx(header, rows, _("召回清单")),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
