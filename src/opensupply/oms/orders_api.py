"""OMS order-flow endpoints under /api/v1/oms/: orders (list, detail, bulk approve / allocate /
hold / release / cancel, merge, split, refund, address), fulfilments (list, detail, ship, deliver,
intercept, cancel), returns and the dashboard figures. Thin: parse, call the service in one unit
of work, return plain JSON. Buyer data is masked for callers without ``oms.buyer_data``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import allocation, returns
from . import fulfilments as ful
from . import orders as oo

router = APIRouter(prefix="/oms", tags=["oms orders"])
READ = Depends(require("oms.read"))
WRITE = Depends(require("oms.write"))


class OrderIds(BaseModel):
    order_ids: list[int] = Field(min_length=1)


class HoldIn(OrderIds):
    kind: str = "manual"
    note: str | None = None


class CancelIn(OrderIds):
    reason: str


class SplitIn(BaseModel):
    parts: list[dict[str, Decimal]]


class RefundIn(BaseModel):
    reason: str
    line_ids: list[int] | None = None
    cancelled: bool = False


class AddressIn(BaseModel):
    address: str
    receiver_name: str | None = None
    phone: str | None = None


class ReasonIn(BaseModel):
    reason: str


class ShipIn(BaseModel):
    tracking_number: str
    carrier_id: int | None = None
    weight_kg: Decimal | None = None
    packages: int = 1
    lines: list[tuple[int, Decimal]] | None = None


class ReturnIn(BaseModel):
    order_id: int
    reason: str
    lines: list[tuple[int, Decimal]] | None = None
    refund_amount: Decimal | None = None
    tracking_number: str | None = None


class ReceiveIn(BaseModel):
    disposition: str | dict[str, str] = "restock"
    warehouse_id: int | None = None


class RefundReturnIn(BaseModel):
    amount: Decimal | None = None


def _buyer(actor: Actor) -> bool:
    return actor.can("oms.buyer_data")


# ------------------------------------------------------------------ orders
@router.get("/orders", summary="Channel orders (filters: q, channel, shop_id, status, hold, dates, province, sku)")
def list_orders(q: str | None = None, channel: str | None = None, shop_id: int | None = None,
                status: str | None = None, hold: str | None = None, date_from: dt.date | None = None,
                date_to: dt.date | None = None, province: str | None = None, sku: str | None = None,
                refund: str | None = None, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                actor: Actor = READ) -> dict:
    flt = oo.OrderFilters(q=q, channel=channel, shop_id=shop_id, status=status, hold=hold, date_from=date_from,
                          date_to=date_to, province=province, sku=sku, refund=refund, limit=limit, offset=offset)
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = oo.list_orders(uow, flt)
        shops = oo.shop_names(uow)
        return {"items": [oo.order_dict(o, buyer_data=_buyer(actor), shops=shops) for o in rows], "total": total}


@router.get("/orders/{order_id}", summary="One order with lines, holds, fulfilments and timeline")
def get_order(order_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return oo.order_detail(uow, order_id, buyer_data=_buyer(actor))


def _bulk(actor: Actor, fn) -> dict:
    with UnitOfWork(actor) as uow:
        results = fn(uow)
    return {"results": results, "ok": sum(1 for r in results if r["ok"]),
            "failed": sum(1 for r in results if not r["ok"])}


@router.post("/orders/approve", summary="Approve orders (per-order results)")
def approve(body: OrderIds, actor: Actor = WRITE) -> dict:
    return _bulk(actor, lambda uow: oo.approve_orders(uow, body.order_ids))


@router.post("/orders/allocate", summary="Allocate approved orders to warehouses (per-order results)")
def allocate(body: OrderIds, actor: Actor = WRITE) -> dict:
    return _bulk(actor, lambda uow: allocation.allocate_orders(uow, body.order_ids))


@router.post("/orders/hold", summary="Hold orders")
def hold(body: HoldIn, actor: Actor = WRITE) -> dict:
    return _bulk(actor, lambda uow: oo.hold_orders(uow, body.order_ids, body.kind, body.note))


@router.post("/orders/release", summary="Release every hold of the orders")
def release(body: OrderIds, actor: Actor = WRITE) -> dict:
    return _bulk(actor, lambda uow: oo.release_orders(uow, body.order_ids))


@router.post("/orders/cancel", summary="Cancel orders (intercepts those being picked)")
def cancel(body: CancelIn, actor: Actor = WRITE) -> dict:
    return _bulk(actor, lambda uow: oo.cancel_orders(uow, body.order_ids, body.reason))


@router.post("/orders/merge", summary="Merge orders of one recipient into one shipment")
def merge(body: OrderIds, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        master = oo.merge_orders(uow, body.order_ids)
        return {"master_id": master.id, "number": master.number,
                "order_ids": [o.id for o in oo.merge_group(uow, master)]}


@router.post("/orders/{order_id}/unmerge", summary="Take an order out of its merge")
def unmerge(order_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return {"order_ids": [o.id for o in oo.unmerge_order(uow, order_id)]}


@router.post("/orders/{order_id}/split", summary="Split an order into parcels: parts=[{line_id: qty}]")
def split(order_id: int, body: SplitIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        oo.split_order(uow, order_id, body.parts)
        return oo.order_detail(uow, order_id, buyer_data=_buyer(actor))


@router.post("/orders/{order_id}/deallocate", summary="Undo an allocation not yet picked")
def deallocate(order_id: int, body: ReasonIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        allocation.deallocate_order(uow, order_id, body.reason if body else None)
        return oo.order_detail(uow, order_id, buyer_data=_buyer(actor))


@router.post("/orders/{order_id}/refund", summary="Apply a platform refund or cancellation")
def refund(order_id: int, body: RefundIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        outcome = oo.apply_platform_refund(uow, order_id, line_ids=body.line_ids, reason=body.reason,
                                           cancelled=body.cancelled)
    return {"outcome": outcome}


@router.post("/orders/{order_id}/address", summary="Fix the address (releases an address hold)")
def address(order_id: int, body: AddressIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        oo.update_address(uow, order_id, body.address, receiver_name=body.receiver_name, phone=body.phone)
        return oo.order_detail(uow, order_id, buyer_data=_buyer(actor))


@router.post("/holds/{hold_id}/release", summary="Release one hold")
def release_hold(hold_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        h = oo.release_hold(uow, hold_id)
        return oo.hold_dict(h)


# ------------------------------------------------------------------ fulfilments
@router.get("/fulfilments", summary="Fulfilments (filters: q, status, warehouse_id, intercepted)")
def list_fulfilments(q: str | None = None, status: str | None = None, warehouse_id: int | None = None,
                     intercepted: bool | None = None, limit: int = Query(50, ge=1, le=1000),
                     offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = ful.list_fulfilments(uow, q=q, status=status, warehouse_id=warehouse_id,
                                           intercepted=intercepted, limit=limit, offset=offset)
        return {"items": [ful.fulfilment_dict(uow, f, buyer_data=_buyer(actor), lines=False) for f in rows],
                "total": total}


def _ful_out(uow: UnitOfWork, actor: Actor, fid: int) -> dict:
    f = ful.get_fulfilment(uow, fid)
    d = ful.fulfilment_dict(uow, f, buyer_data=_buyer(actor))
    d["timeline"] = [oo.event_dict(e) for e in oo.timeline(uow, fulfilment_id=f.id) if e.order_id is None]
    return d


@router.get("/fulfilments/{fulfilment_id}", summary="One fulfilment with lines and timeline")
def get_fulfilment(fulfilment_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return _ful_out(uow, actor, fulfilment_id)


@router.post("/fulfilments/{fulfilment_id}/ship", summary="Ship (tracking number; ERP delivery)")
def ship(fulfilment_id: int, body: ShipIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ful.ship(uow, fulfilment_id, tracking_number=body.tracking_number, carrier_id=body.carrier_id,
                 weight_kg=body.weight_kg, packages=body.packages, lines=body.lines)
        return _ful_out(uow, actor, fulfilment_id)


@router.post("/fulfilments/{fulfilment_id}/reserve", summary="Backorder: reserve stock that has arrived since")
def reserve(fulfilment_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ful.top_up_reservations(uow, [fulfilment_id])
        return _ful_out(uow, actor, fulfilment_id)


@router.post("/fulfilments/{fulfilment_id}/deliver", summary="Mark signed for (已签收)")
def deliver(fulfilment_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ful.mark_delivered(uow, fulfilment_id)
        return _ful_out(uow, actor, fulfilment_id)


@router.post("/fulfilments/{fulfilment_id}/intercept", summary="Intercept (拦截) a fulfilment")
def intercept(fulfilment_id: int, body: ReasonIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ful.intercept_fulfilment(uow, fulfilment_id, body.reason)
        return _ful_out(uow, actor, fulfilment_id)


@router.post("/fulfilments/{fulfilment_id}/cancel", summary="Cancel an allocated or intercepted fulfilment")
def cancel_fulfilment(fulfilment_id: int, body: ReasonIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ful.cancel_fulfilment(uow, fulfilment_id, body.reason)
        return _ful_out(uow, actor, fulfilment_id)


# ------------------------------------------------------------------ returns
def _ret_out(uow: UnitOfWork, rid: int) -> dict:
    r = returns.get_return(uow, rid)
    return returns.return_dict(uow, r)


@router.get("/returns", summary="Returns (售后)")
def list_returns(q: str | None = None, status: str | None = None, limit: int = Query(50, ge=1, le=1000),
                 offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = returns.list_returns(uow, q=q, status=status, limit=limit, offset=offset)
        return {"items": [returns.return_dict(uow, r, order=o, lines=False) for r, o in rows], "total": total}


@router.post("/returns", status_code=201, summary="Create a return for shipped order lines")
def create_return(body: ReturnIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        r = returns.create_return(uow, body.order_id, body.lines, reason=body.reason,
                                  refund_amount=body.refund_amount, tracking_number=body.tracking_number)
        return _ret_out(uow, r.id)


@router.get("/returns/{return_id}", summary="One return")
def get_return(return_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return _ret_out(uow, return_id)


@router.post("/returns/{return_id}/receive", summary="Receive the parcel: restock or scrap")
def receive_return(return_id: int, body: ReceiveIn, actor: Actor = WRITE) -> dict:
    disposition = body.disposition if isinstance(body.disposition, str) else \
        {int(k): v for k, v in body.disposition.items()}
    with UnitOfWork(actor) as uow:
        returns.receive_return(uow, return_id, disposition=disposition, warehouse_id=body.warehouse_id)
        return _ret_out(uow, return_id)


@router.post("/returns/{return_id}/refund", summary="Refund the buyer (credit note when invoiced)")
def refund_return(return_id: int, body: RefundReturnIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        returns.refund_return(uow, return_id, amount=body.amount if body else None)
        return _ret_out(uow, return_id)


@router.post("/returns/{return_id}/cancel", summary="Cancel a return not yet received")
def cancel_return(return_id: int, body: ReasonIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        returns.cancel_return(uow, return_id, body.reason)
        return _ret_out(uow, return_id)


@router.get("/dashboard", summary="Orders per channel per day, backlog by status, holds by kind")
def dashboard(days: int = Query(14, ge=1, le=90), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return oo.dashboard(uow, days)
