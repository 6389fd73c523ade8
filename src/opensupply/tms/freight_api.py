"""Freight bills under /api/v1/tms/: upload a carrier's bill, see it matched per waybill, approve lines and
the bill, post it to the books; the freight-cost-per-order report. Thin: parse, call `tms.freight`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import freight

router = APIRouter(prefix="/tms", tags=["tms freight"])
READ = Depends(require("tms.read"))
SETTLE = Depends(require("tms.settle"))


class ApproveLineIn(BaseModel):
    use: str = "billed"  # billed | expected | amount
    amount: Decimal | None = None
    note: str | None = None


class PostIn(BaseModel):
    date: dt.date | None = None


@router.get("/freight-bills", summary="Freight bills")
def list_bills(q: str | None = None, state: str | None = None, carrier_id: int | None = None,
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = freight.list_bills(uow, q=q, state=state, carrier_id=carrier_id, limit=limit, offset=offset)
        return {"items": [freight.bill_dict(uow, b) for b in rows], "total": total}


@router.post("/freight-bills", status_code=201, summary="Upload a carrier's freight bill (CSV/XLSX)")
async def upload_bill(carrier_id: int = Form(...), tolerance_pct: Decimal = Form(Decimal(5)),
                      file: UploadFile = File(...), actor: Actor = SETTLE) -> dict:
    data = await file.read()

    def run():
        with UnitOfWork(actor) as uow:
            bill = freight.import_bill(uow, carrier_id, file.filename or "", data, tolerance_pct=tolerance_pct)
            return freight.bill_dict(uow, bill, lines=True)

    return await run_in_threadpool(run)


@router.get("/freight-bills/{bill_id}", summary="One freight bill with its lines matched per waybill")
def get_bill(bill_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return freight.bill_dict(uow, freight.get_bill(uow, bill_id), lines=True)


@router.post("/freight-bills/lines/{line_id}/approve", summary="Approve one line at billed / expected / an amount")
def approve_line(line_id: int, body: ApproveLineIn, actor: Actor = SETTLE) -> dict:
    with UnitOfWork(actor) as uow:
        ln = freight.approve_line(uow, line_id, use=body.use, amount=body.amount, note=body.note)
        return freight.bill_dict(uow, freight.get_bill(uow, ln.bill_id), lines=True)


@router.post("/freight-bills/{bill_id}/approve", summary="Approve the bill (matched lines at their billed amount)")
def approve_bill(bill_id: int, actor: Actor = SETTLE) -> dict:
    with UnitOfWork(actor) as uow:
        return freight.bill_dict(uow, freight.approve_bill(uow, bill_id), lines=True)


@router.post("/freight-bills/{bill_id}/post", summary="Post: Dr 销售费用-运费 / Cr 应付账款 (carrier)")
def post_bill(bill_id: int, body: PostIn | None = None, actor: Actor = SETTLE) -> dict:
    with UnitOfWork(actor) as uow:
        return freight.bill_dict(uow, freight.post_bill(uow, bill_id, date=(body or PostIn()).date), lines=True)


@router.get("/reports/freight-cost", summary="Freight cost per order by customer and channel")
def freight_cost(date_from: dt.date | None = None, date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = freight.freight_cost_report(uow, date_from=date_from, date_to=date_to)
        return {"items": items, "total": len(items)}
