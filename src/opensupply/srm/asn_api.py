"""Advance ship notices over the API: the supplier portal sends and cancels its own (/api/v1/srm/portal/…,
srm.portal; another supplier's order or notice is 404); buyers list, read and receive them (/api/v1/srm/asns,
srm.read; receiving needs erp.purchase)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import asn as svc
from . import portal

router = APIRouter(tags=["srm asn"])
PORTAL = Depends(require(portal.PORTAL))
READ = Depends(require(svc.READ))
RECEIVE = Depends(require(svc.RECEIVE))


class AsnLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_line_id: int
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=6)
    lot: str | None = Field(None, max_length=80)


class AsnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[AsnLine] = Field(min_length=1, max_length=500)
    ship_date: dt.date | None = Field(None, description="default: today")
    expected_date: dt.date
    carrier: str | None = Field(None, max_length=80)
    tracking_no: str | None = Field(None, max_length=80)
    note: str | None = Field(None, max_length=500)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class ReceiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location: str | None = Field(None, max_length=80, description="location code or id; default: the order's")
    receipt_date: dt.date | None = None


def _mine(uow: UnitOfWork, asn_id: int) -> dict:
    return next(a for a in svc.my_asns(uow) if a["id"] == asn_id)


@router.post("/srm/portal/orders/{order_id}/asns", status_code=201, summary="Send an advance ship notice")
def create_asn(order_id: int, body: AsnIn, actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor) as uow:
        a = svc.create_asn(uow, order_id, [svc.AsnLineIn(ln.order_line_id, ln.quantity, ln.lot) for ln in body.lines],
                           ship_date=body.ship_date, expected_date=body.expected_date, carrier=body.carrier,
                           tracking_no=body.tracking_no, note=body.note)
        return _mine(uow, a.id)


@router.get("/srm/portal/asns", summary="My advance ship notices (?order_id=)")
def my_asns(order_id: int | None = None, actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = svc.my_asns(uow, order_id)
        return {"items": items, "total": len(items)}


@router.post("/srm/portal/asns/{asn_id}/cancel", summary="Withdraw one of my notices before it is received")
def cancel_asn(asn_id: int, body: CancelIn, actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor) as uow:
        svc.cancel_asn(uow, asn_id, body.reason)
        return _mine(uow, asn_id)


@router.get("/srm/asns", summary="Advance ship notices (?q=&state=shipped|received|cancelled&supplier_id=&order_id=)")
def list_asns(q: str | None = None, state: str | None = None, supplier_id: int | None = None,
              order_id: int | None = None, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
              actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = svc.asn_rows(uow, q=q, state=state, partner_id=supplier_id, order_id=order_id, limit=limit,
                                    offset=offset)
        return {"items": items, "total": total}


@router.get("/srm/asns/{asn_id}", summary="One advance ship notice")
def get_asn(asn_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return svc.asn_detail(uow, asn_id)


@router.post("/srm/asns/{asn_id}/receive", summary="Receive what the notice announced (books an ERP goods receipt)")
def receive_asn(asn_id: int, body: ReceiveIn | None = None, actor: Actor = RECEIVE) -> dict:
    body = body or ReceiveIn()
    with UnitOfWork(actor) as uow:
        r = svc.receive_asn(uow, asn_id, location=body.location, receipt_date=body.receipt_date)
        return dict(svc.asn_detail(uow, asn_id), receipt_number=r.number)
