"""RFQs under /api/v1/srm/rfqs: list, create (201; also from an MRP planned purchase, `/from-planned-order`), one,
open/close/cancel, who has bid (`/bids`, never a price while sealed), the side-by-side comparison (409 `sealed`
before the deadline) and the award → draft POs. Read with srm.read, change with srm.write. Thin: parse, call
`srm.rfq`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from opensupply.core.http import require
from opensupply.core.tabular import table_response as download
from opensupply.core.uow import Actor, UnitOfWork

from . import rfq

router = APIRouter(tags=["srm rfqs"])
READ = Depends(require(rfq.READ))
WRITE = Depends(require(rfq.WRITE))


class LineIn(BaseModel):
    product: int | str
    quantity: Decimal
    unit: str | None = Field(None, max_length=20)
    required_date: dt.date | None = None


class RfqIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=200)
    deadline: dt.datetime = Field(description="ISO 8601 with a zone offset (stored in UTC)")
    suppliers: list[int | str] = Field(description="partner ids or codes")
    lines: list[LineIn]
    terms: str | None = Field(None, max_length=4000)
    currency_code: str | None = Field(None, max_length=3)


class FromPlannedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    planned_order_id: int = Field(description="an MRP planned purchase (state planned)")
    deadline: dt.datetime = Field(description="ISO 8601 with a zone offset (stored in UTC)")
    suppliers: list[int | str] = Field(description="partner ids or codes")
    title: str | None = Field(None, max_length=200)
    terms: str | None = Field(None, max_length=4000)


class AwardLineIn(BaseModel):
    rfq_line_id: int
    partner_id: int
    quantity: Decimal | None = Field(None, description="default: the whole line")


class AwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allocations: list[AwardLineIn] | None = None
    supplier_id: int | None = Field(None, description="everything to this supplier instead of allocations")
    lowest: bool = Field(False, description="each line to its lowest bidder")
    location: int | str | None = None


class CancelIn(BaseModel):
    reason: str | None = Field(None, max_length=300)


def _one(uow: UnitOfWork, rid: int) -> dict:
    return dict(rfq.rfq_dict(uow, rfq.get_rfq(uow, rid)), bids=rfq.bid_status(uow, rid),
                orders=rfq.rfq_orders(uow, rid))


@router.get("/srm/rfqs", summary="RFQs (?q=&state=&limit=&offset=); no prices in lists")
def list_rfqs(q: str | None = None, state: str | None = None, limit: int = Query(50, ge=1, le=1000),
              offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = rfq.rfq_rows(uow, q=q, state=state, limit=limit, offset=offset)
        return {"items": rfq.rfq_dicts(uow, rows), "total": total}


@router.get("/srm/rfqs/export", summary="Export RFQs as CSV or XLSX")
def export_rfqs(format: str = Query("csv", pattern="^(csv|xlsx)$"), q: str | None = None,
                state: str | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = rfq.export_rows(uow, q=q, state=state)
    return download(header, rows, format, "rfqs")


@router.post("/srm/rfqs", status_code=201, summary="Create a draft RFQ")
def create_rfq(body: RfqIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        r = rfq.create_rfq(uow, title=body.title, deadline=body.deadline, suppliers=body.suppliers,
                           terms=body.terms, currency_code=body.currency_code,
                           lines=[rfq.RfqLineIn(ln.product, ln.quantity, ln.unit, ln.required_date)
                                  for ln in body.lines])
        return _one(uow, r.id)


@router.post("/srm/rfqs/from-planned-order", status_code=201,
             summary="Start a draft RFQ from an MRP planned purchase (firms the planned order)")
def create_rfq_from_planned_order(body: FromPlannedIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        r = rfq.create_rfq_from_planned_order(uow, body.planned_order_id, suppliers=body.suppliers,
                                              deadline=body.deadline, title=body.title, terms=body.terms)
        return _one(uow, r.id)


@router.get("/srm/rfqs/{rfq_id}", summary="One RFQ with its lines, invited suppliers and who has bid")
def get_rfq(rfq_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return _one(uow, rfq_id)


@router.get("/srm/rfqs/{rfq_id}/bids", summary="Who has bid and when (prices only in the comparison, once unsealed)")
def bids(rfq_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = rfq.bid_status(uow, rfq_id)
        return {"items": items, "total": len(items)}


@router.post("/srm/rfqs/{rfq_id}/open", summary="Send a draft RFQ to the invited suppliers")
def open_rfq(rfq_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        rfq.open_rfq(uow, rfq_id)
        return _one(uow, rfq_id)


@router.post("/srm/rfqs/{rfq_id}/close", summary="Close bidding now (bids unseal)")
def close_rfq(rfq_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        rfq.close_rfq(uow, rfq_id)
        return _one(uow, rfq_id)


@router.post("/srm/rfqs/{rfq_id}/cancel", summary="Cancel an RFQ")
def cancel_rfq(rfq_id: int, body: CancelIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        rfq.cancel_rfq(uow, rfq_id, body.reason if body else None)
        return _one(uow, rfq_id)


@router.get("/srm/rfqs/{rfq_id}/comparison", summary="Bids side by side (409 sealed before the deadline)")
def comparison(rfq_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return rfq.comparison(uow, rfq_id)


@router.get("/srm/rfqs/{rfq_id}/comparison/export", summary="The comparison as CSV or XLSX (409 while sealed)")
def comparison_export(rfq_id: int, format: str = Query("csv", pattern="^(csv|xlsx)$"), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = rfq.comparison_export(uow, rfq_id)
    return download(header, rows, format, f"rfq-{rfq_id}-bids")


@router.post("/srm/rfqs/{rfq_id}/award", summary="Award to one supplier, each line's lowest bidder, or split")
def award(rfq_id: int, body: AwardIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        if body.supplier_id:
            return rfq.award_all(uow, rfq_id, body.supplier_id, location=body.location)
        if body.lowest:
            return rfq.award_lowest(uow, rfq_id, location=body.location)
        return rfq.award(uow, rfq_id, [rfq.AwardIn(a.rfq_line_id, a.partner_id, a.quantity)
                                       for a in body.allocations or []], location=body.location)


