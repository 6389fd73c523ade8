"""The supplier portal's API under /api/v1/srm/portal/ (srm.portal, acting for the caller's own supplier only:
anything of another supplier is 404) and the buyer's management of portal logins under
/api/v1/srm/portal-accounts (srm.read / srm.write)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import portal, rfq, scorecard

router = APIRouter(tags=["srm portal"])
PORTAL = Depends(require(portal.PORTAL))
READ = Depends(require(rfq.READ))
WRITE = Depends(require(rfq.WRITE))


class BidLine(BaseModel):
    rfq_line_id: int
    unit_price: Decimal | None = None
    lead_time_days: int | None = Field(None, ge=0, le=3650)


class BidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[BidLine]
    payment_terms: str = Field("", max_length=120)
    validity_days: int = Field(30, ge=1, le=3650)
    note: str | None = Field(None, max_length=2000)


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    promised_date: dt.date
    note: str | None = Field(None, max_length=500)


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: int | str = Field(description="supplier partner id or code")
    username: str = Field(max_length=80)
    display_name: str = Field("", max_length=120)
    email: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=200, description="empty: one is generated and returned once")


@router.get("/srm/portal/rfqs", summary="RFQs my supplier is invited to")
def my_rfqs(open: bool = False, actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = portal.my_rfqs(uow, only_open=open)
        return {"items": items, "total": len(items)}


@router.get("/srm/portal/rfqs/{rfq_id}", summary="One RFQ with my own bid")
def my_rfq(rfq_id: int, actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return portal.my_rfq(uow, rfq_id)


@router.put("/srm/portal/rfqs/{rfq_id}/bid", summary="Submit or revise my bid (until the deadline)")
def submit_bid(rfq_id: int, body: BidIn, actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor) as uow:
        portal.submit_bid(uow, rfq_id, [portal.BidLineIn(ln.rfq_line_id, ln.unit_price, ln.lead_time_days)
                                        for ln in body.lines], payment_terms=body.payment_terms,
                          validity_days=body.validity_days, note=body.note)
        return portal.my_rfq(uow, rfq_id)


@router.get("/srm/portal/bids", summary="My submitted bids")
def my_bids(actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = portal.my_bids(uow)
        return {"items": items, "total": len(items)}


@router.get("/srm/portal/orders", summary="My purchase orders (?q=&state=&limit=&offset=)")
def my_orders(q: str | None = None, state: str | None = None, limit: int = Query(50, ge=1, le=1000),
              offset: int = Query(0, ge=0), actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = portal.my_orders(uow, q=q, state=state, limit=limit, offset=offset)
        return {"items": items, "total": total}


@router.get("/srm/portal/orders/{order_id}", summary="One of my purchase orders")
def my_order(order_id: int, actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return portal.my_order(uow, order_id)


@router.post("/srm/portal/orders/{order_id}/confirm", summary="Confirm my purchase order with a promised date")
def confirm_order(order_id: int, body: ConfirmIn, actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor) as uow:
        portal.confirm_order(uow, order_id, body.promised_date, body.note)
        return portal.my_order(uow, order_id)


@router.get("/srm/portal/scorecard", summary="My supplier's scorecards (trend)")
def my_scorecard(kind: str = "month", actor: Actor = PORTAL) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return scorecard.trend(uow, portal.portal_partner(uow), kind, check=False)


@router.get("/srm/portal-accounts", summary="Supplier portal logins")
def accounts(partner_id: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = portal.portal_accounts(uow, partner_id)
        return {"items": items, "total": len(items)}


@router.post("/srm/portal-accounts", status_code=201, summary="Invite a supplier user (creates the login)")
def invite(body: AccountIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        acc, password = portal.invite_supplier_user(uow, body.partner, username=body.username,
                                                    display_name=body.display_name, email=body.email,
                                                    password=body.password)
        row = next(a for a in portal.portal_accounts(uow) if a["id"] == acc.id)
        return dict(row, password=None if body.password else password)
