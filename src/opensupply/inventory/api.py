"""REST endpoints of the stock ledger under /api/v1/inventory/."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork, atomic

from . import schemas as s
from . import service as inv

router = APIRouter(prefix="/inventory", tags=["inventory"])
READ = Depends(require("inventory.read"))
WRITE = Depends(require("inventory.write"))
ADJUST = Depends(require("inventory.adjust"))


def _lines(body: s.ReceiptIn) -> list[inv.StockLine]:
    return [inv.StockLine(product=ln.product, quantity=ln.quantity, lot=ln.lot, unit_cost=ln.unit_cost, uom=ln.uom,
                          expiry_date=ln.expiry_date, location=ln.location) for ln in body.lines]


@router.get("/on-hand", summary="On-hand, reserved and available per product × location × lot")
def on_hand(q: str | None = None, warehouse: str | None = None, location: str | None = None,
            product: str | None = None, sku: str | None = None, lot: str | None = None,
            limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = inv.on_hand_rows(uow, q=q, warehouse=warehouse, location=location, product=product or sku,
                                        lot=lot, limit=limit, offset=offset)
        return {"items": [s.on_hand_out(r) for r in items], "total": total}


@router.get("/moves", summary="Stock move history, newest first")
def moves(q: str | None = None, product: str | None = None, location: str | None = None,
          reference: str | None = None, state: str | None = None, date_from: dt.date | None = None,
          date_to: dt.date | None = None, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
          actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = inv.move_rows(uow, q=q, product=product, location=location, reference=reference, state=state,
                                     date_from=date_from, date_to=date_to, limit=limit, offset=offset)
        return {"items": [s.move_out(r) for r in items], "total": total}


@router.post("/receipts", status_code=201, summary="Receive goods from the supplier into a location")
def receive(body: s.ReceiptIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ids = inv.receive(uow, _lines(body), body.location, reference=body.reference)
        items, _t = inv.move_rows(uow, ids=ids, limit=len(ids))
    by_id = {m["id"]: m for m in items}
    return {"move_ids": ids, "moves": [s.move_out(by_id[i]) for i in ids if i in by_id]}


@router.post("/deliveries", status_code=201, summary="Ship goods from a location to the customer")
def deliver(body: s.DeliveryIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ids = inv.deliver(uow, _lines(body), body.location, reference=body.reference)
        items, _t = inv.move_rows(uow, ids=ids, limit=len(ids))
    by_id = {m["id"]: m for m in items}
    return {"move_ids": ids, "moves": [s.move_out(by_id[i]) for i in ids if i in by_id]}


@router.get("/reservations", summary="Reservations (filter by state, product, reference)")
def reservations(state: str | None = None, product: str | None = None, reference: str | None = None,
                 limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = inv.reservation_rows(uow, state=state, product=product, reference=reference, limit=limit,
                                            offset=offset)
        return {"items": [s.reservation_out(r) for r in items], "total": total}


def _reserve(uow: UnitOfWork, body: s.ReserveIn) -> list[dict]:
    requests = []
    for ln in body.lines:
        prod = inv.resolve_product(uow, ln.product)
        loc = inv.resolve_location(uow, ln.location)
        lot_id = inv.lots_by_name(uow, [(prod.id, ln.lot)])[(prod.id, ln.lot.strip())] if ln.lot else None
        requests.append(inv.ReservationRequest(prod.id, loc.id, inv.to_decimal(ln.quantity), lot_id=lot_id,
                                               ref_type=body.ref_type, ref_id=body.ref_id, reference=body.reference))
    ids = inv.reserve(uow, requests, partial=body.partial)
    return inv.get_reservations(uow, ids)


@router.post("/reservations", status_code=201, summary="Reserve stock (all or nothing unless partial)")
def reserve(body: s.ReserveIn, actor: Actor = WRITE) -> dict:
    rows = atomic(actor, _reserve, body)  # bounded retries of serialization failures and deadlocks
    return {"items": [s.reservation_out(r) for r in rows], "total": len(rows)}


@router.get("/reservations/{reservation_id}", summary="One reservation")
def get_reservation(reservation_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.reservation_out(inv.get_reservations(uow, [reservation_id])[0])


@router.post("/reservations/{reservation_id}/release", summary="Release a reservation")
def release(reservation_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        inv.release(uow, [reservation_id])
        return s.reservation_out(inv.get_reservations(uow, [reservation_id])[0])


@router.get("/adjustments", summary="Inventory adjustments (stock counts)")
def adjustments(q: str | None = None, state: str | None = None, limit: int = Query(50, ge=1, le=1000),
                offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = inv.adjustment_rows(uow, q=q, state=state, limit=limit, offset=offset)
        return {"items": [s.adjustment_out(inv.adjustment_dict(uow, a)) for a in rows], "total": total}


@router.post("/adjustments", status_code=201, summary="Create a draft inventory adjustment")
def create_adjustment(body: s.AdjustmentIn, actor: Actor = ADJUST) -> dict:
    with UnitOfWork(actor) as uow:
        adj = inv.create_adjustment(uow, body.reason, [inv.AdjustmentLineIn(ln.product, ln.location,
                                                                            ln.counted_quantity, ln.lot)
                                                       for ln in body.lines])
        return s.adjustment_out(inv.adjustment_dict(uow, adj))


@router.get("/adjustments/{adjustment_id}", summary="One inventory adjustment")
def get_adjustment(adjustment_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.adjustment_out(inv.adjustment_dict(uow, uow.get(inv.InventoryAdjustment, adjustment_id)))


@router.post("/adjustments/{adjustment_id}/done", summary="Validate: post the counted differences")
def validate_adjustment(adjustment_id: int, actor: Actor = ADJUST) -> dict:
    with UnitOfWork(actor) as uow:
        adj = inv.validate_adjustment(uow, adjustment_id)
        return s.adjustment_out(inv.adjustment_dict(uow, adj))


@router.get("/lots", summary="Lots and serial numbers with their on-hand")
def lots(q: str | None = None, product: str | None = None, limit: int = Query(50, ge=1, le=1000),
         offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = inv.lot_rows(uow, q=q, product=product, limit=limit, offset=offset)
        return {"items": [s.lot_out(r) for r in items], "total": total}


@router.post("/lots", status_code=201, summary="Create a lot or serial number")
def create_lot(body: s.LotIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        prod = inv.resolve_product(uow, body.product)
        lot = inv.create_lot(uow, prod.id, body.name, body.expiry_date, body.notes)
        items, _t = inv.lot_rows(uow, q=lot.name, product=prod.id)
        return s.lot_out(next(r for r in items if r["id"] == lot.id))


@router.post("/moves/{move_id}/reverse", status_code=201, summary="Correct a done move with its opposite")
def reverse_move(move_id: int, actor: Actor = ADJUST) -> dict:
    with UnitOfWork(actor) as uow:
        ids = inv.reverse_moves(uow, [move_id])
        items, _t = inv.move_rows(uow, ids=ids, limit=len(ids))
    return {"move_ids": ids, "moves": [s.move_out(m) for m in items]}


@router.get("/ledger-check", summary="Compare on-hand with Σ done moves (empty differences = healthy)")
def ledger_check(actor: Actor = ADJUST) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        diffs = inv.check_ledger(uow)
    return {"ok": not diffs, "differences": [{**d, "on_hand": s.dec(d["on_hand"]), "from_moves": s.dec(d["from_moves"]),
                                              "difference": s.dec(d["difference"])} for d in diffs]}


@router.get("/valuation", summary="Value of stock on hand and the general ledger's inventory balance")
def valuation(actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.valuation_out(inv.valuation(uow))
