"""Work orders under /api/v1/mes/: list (`?q=&state=&kind=&product_id=&open=&limit=&offset=`), one, create (by
hand, or from a sales order — make to order), change, release, reserve, issue (领料), complete (完工入库), close,
cancel, export. Thin: parse, call `mes.work_orders` in one unit of work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from opensupply.core.http import require
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork

from . import work_orders as wos

router = APIRouter(prefix="/mes", tags=["mes work orders"])
READ = Depends(require("mes.read"))
WRITE = Depends(require("mes.write"))


class WorkOrderIn(BaseModel):
    product: int | str = Field(description="product id or SKU")
    quantity: Decimal
    kind: str = "normal"
    due_date: dt.date | None = None
    warehouse_id: int | None = None
    bom_id: int | None = None
    routing_id: int | None = None
    lot_name: str | None = Field(None, max_length=80)
    priority: int = 0
    notes: str | None = Field(None, max_length=2000)
    dest_location: int | str | None = None
    consumption: str | None = Field(None, description="backflush (倒冲) or pick (领料)")


class WorkOrderChange(BaseModel):
    quantity: Decimal | None = None
    due_date: dt.date | None = None
    priority: int | None = None
    lot_name: str | None = Field(None, max_length=80)
    notes: str | None = Field(None, max_length=2000)


class IssueIn(BaseModel):
    quantities: dict[int, Decimal] | None = Field(None, description="component id → quantity; default all 领料 lines")


class CompleteIn(BaseModel):
    qty_good: Decimal
    qty_scrap: Decimal = Decimal(0)
    lot: str | None = Field(None, max_length=80)
    close: bool | None = None
    client_key: str | None = Field(None, max_length=64)


class CancelIn(BaseModel):
    reason: str | None = Field(None, max_length=200)


class FromSalesOrderIn(BaseModel):
    sales_order_id: int


@router.get("/work-orders", summary="Work orders")
def list_work_orders(q: str | None = None, state: str | None = None, kind: str | None = None,
                     product_id: int | None = None, bom_id: int | None = None, work_center_id: int | None = None,
                     open: bool = False, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                     actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = wos.list_work_orders(uow, q=q, state=state, kind=kind, product_id=product_id, bom_id=bom_id,
                                           work_center_id=work_center_id, open_only=open, limit=limit, offset=offset)
        return {"items": [wos.work_order_to_dict(uow, w, detail=False) for w in rows], "total": total}


@router.get("/work-orders/export", summary="Work orders as XLSX or CSV")
def export_work_orders(q: str | None = None, state: str | None = None, format: str = "xlsx", actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = wos.export_rows(uow, q=q, state=state)
    if format == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="work-orders.csv"'})
    return Response(write_xlsx(header, rows, "work-orders"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="work-orders.xlsx"'})


@router.post("/work-orders", status_code=201, summary="Create a draft work order")
def create_work_order(body: WorkOrderIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        wo = wos.create_work_order(uow, **body.model_dump())
        return wos.work_order_to_dict(uow, wo)


@router.post("/work-orders/from-sales-order", status_code=201, summary="Make to order: work orders for a sales order")
def from_sales_order(body: FromSalesOrderIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        created = wos.create_from_sales_order(uow, body.sales_order_id)
        return {"items": [wos.work_order_to_dict(uow, w, detail=False) for w in created], "total": len(created)}


@router.get("/work-orders/{work_order_id}", summary="One work order with materials, operations and completions")
def get_work_order(work_order_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return wos.work_order_to_dict(uow, wos.get_work_order(uow, work_order_id))


@router.patch("/work-orders/{work_order_id}", summary="Change a work order")
def update_work_order(work_order_id: int, body: WorkOrderChange, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        wo = wos.update_work_order(uow, work_order_id, body.model_dump(exclude_unset=True))
        return wos.work_order_to_dict(uow, wo)


def _act(actor: Actor, work_order_id: int, fn, *args, **kwargs) -> dict:
    with UnitOfWork(actor) as uow:
        fn(uow, work_order_id, *args, **kwargs)
        uow.flush()
        uow.session.expire_all()
        return wos.work_order_to_dict(uow, wos.get_work_order(uow, work_order_id))


@router.post("/work-orders/{work_order_id}/release", summary="Release (下达): reserve materials")
def release(work_order_id: int, actor: Actor = WRITE) -> dict:
    return _act(actor, work_order_id, wos.release_work_order)


@router.post("/work-orders/{work_order_id}/reserve", summary="Reserve what is still missing")
def reserve(work_order_id: int, actor: Actor = WRITE) -> dict:
    return _act(actor, work_order_id, wos.reserve_materials)


@router.post("/work-orders/{work_order_id}/issue", summary="Issue (领料) reserved materials to the line")
def issue(work_order_id: int, body: IssueIn | None = None, actor: Actor = WRITE) -> dict:
    return _act(actor, work_order_id, wos.issue_materials, (body.quantities if body else None))


@router.post("/work-orders/{work_order_id}/complete", summary="Complete (完工入库) good and scrapped units")
def complete(work_order_id: int, body: CompleteIn, actor: Actor = WRITE) -> dict:
    return _act(actor, work_order_id, wos.complete_work_order, body.qty_good, qty_scrap=body.qty_scrap, lot=body.lot,
                close=body.close, client_key=body.client_key)


@router.post("/work-orders/{work_order_id}/close", summary="Close: return leftovers, nothing more is made")
def close(work_order_id: int, actor: Actor = WRITE) -> dict:
    return _act(actor, work_order_id, wos.close_work_order)


@router.post("/work-orders/{work_order_id}/cancel", summary="Cancel a work order with nothing completed")
def cancel(work_order_id: int, body: CancelIn | None = None, actor: Actor = WRITE) -> dict:
    return _act(actor, work_order_id, wos.cancel_work_order, body.reason if body else None)
