"""WMS inbound-side REST endpoints under /api/v1/wms/: receiving (scan or whole lines), QC holds,
putaway tasks and suggestions, bin moves and transfers, replenishment, cycle counts and reports.
Thin: parse, call the service in one unit of work, return plain JSON (quantities as strings).
Scans accept `client_scan_id`: a resubmitted scan returns the first answer and acts once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory.service import fmt_qty
from opensupply.masterdata import models as md

from . import counts as cc
from . import inbound, internal, pda, reports
from . import putaway as pw
from .models import WmsCount, WmsTask

router = APIRouter(prefix="/wms", tags=["wms inbound"])
READ = Depends(require("wms.read"))
WRITE = Depends(require("wms.write"))
APPROVE = Depends(require("wms.approve"))


def q(v) -> str | None:
    return None if v is None else fmt_qty(Decimal(v))


def _warehouse(uow: UnitOfWork, warehouse_id: int | None) -> int:
    if warehouse_id:
        return uow.get(md.Warehouse, warehouse_id).id
    wid = uow.session.scalar(select(md.Warehouse.id).where(md.Warehouse.company_id == uow.company_id,
                                                           md.Warehouse.active.is_(True)).order_by(md.Warehouse.id))
    if wid is None:
        raise ValidationFailed(_("还没有仓库"), field="warehouse_id")
    return wid


def _scan(actor: Actor, client_scan_id: str | None, flow: str, code: str, fn, **kw) -> dict:
    result = pda.run_scan(actor, client_scan_id, flow, code, fn, **kw)
    if not result.get("ok", True):  # refused: the same error the service raised (status, code, message)
        err = DomainError(result["message"], field=result.get("field"), code=result.get("code"))
        err.status = result.get("status", 422)
        raise err
    return result


def task_out(t: WmsTask, codes: dict[int, str] | None = None, skus: dict[int, str] | None = None) -> dict:
    codes, skus = codes or {}, skus or {}
    return {"id": t.id, "kind": t.kind, "state": t.state, "warehouse_id": t.warehouse_id, "product_id": t.product_id,
            "sku": skus.get(t.product_id), "lot_id": t.lot_id, "quantity": q(t.quantity), "qty_done": q(t.qty_done),
            "source_location_id": t.source_location_id, "source_bin": codes.get(t.source_location_id),
            "dest_location_id": t.dest_location_id, "dest_bin": codes.get(t.dest_location_id),
            "reference": t.reference, "note": t.note, "move_ids": t.move_ids or [],
            "done_at": t.done_at.isoformat() if t.done_at else None}


def tasks_out(uow: UnitOfWork, tasks: list[WmsTask]) -> list[dict]:
    locs = {i for t in tasks for i in (t.source_location_id, t.dest_location_id) if i}
    pids = {t.product_id for t in tasks}
    codes = dict(uow.session.execute(select(md.Location.id, md.Location.code).where(
        md.Location.id.in_(locs))).all()) if locs else {}
    skus = dict(uow.session.execute(select(md.Product.id, md.Product.sku).where(
        md.Product.id.in_(pids))).all()) if pids else {}
    return [task_out(t, codes, skus) for t in tasks]


# ------------------------------------------------------------------ receiving
class ReceiveLineIn(BaseModel):
    product: int | str = Field(description="product id, SKU or barcode")
    quantity: Decimal
    lot: str | None = None
    expiry_date: dt.date | None = None
    qc: bool = False


class ReceiveIn(BaseModel):
    order: int | str = Field(description="purchase order id or number")
    warehouse_id: int | None = None
    lines: list[ReceiveLineIn]
    receipt_date: dt.date | None = None


class ReceiveScanIn(BaseModel):
    order: int | str
    code: str = Field(description="scanned barcode or SKU")
    quantity: Decimal = Decimal(1)
    lot: str | None = None
    qc: bool = False
    client_scan_id: str | None = None


def _result_out(uow: UnitOfWork, r: inbound.ReceiveResult) -> dict:
    return {"receipts": [{"id": x.id, "number": x.number, "location_id": x.location_id} for x in r.receipts],
            "putaway_tasks": tasks_out(uow, r.tasks),
            "qc_lines": [{"product_id": ln["product_id"], "lot_id": ln["lot_id"], "quantity": q(ln["quantity"])}
                         for ln in r.qc_lines]}


@router.get("/receiving/{order}", summary="What a purchase order still expects (scan its number)")
def receiving_order(order: str, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        po = inbound.find_order(uow, order)
        lines = inbound.order_lines(uow, po)
        drafts = inbound.draft_lines(uow, po.id)
        return {"id": po.id, "number": po.number, "state": po.state,
                "lines": [{k: (q(v) if isinstance(v, Decimal) else v) for k, v in ln.items()} for ln in lines],
                "scanned": [{"scan_id": d["scan_id"], "sku": d["sku"], "quantity": q(d["quantity"]), "lot": d["lot"],
                             "qc": d["qc"]} for d in drafts]}


@router.post("/receiving/scan", summary="Scan one item into a PO's receipt (a draft line)")
def receiving_scan(body: ReceiveScanIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        po_id = inbound.find_order(uow, body.order).id
    return _scan(actor, body.client_scan_id, "receive", body.code,
                 lambda uow: inbound.scan_receive_line(uow, po_id, body.code, body.quantity, lot=body.lot, qc=body.qc),
                 note=inbound._draft_key(po_id))


@router.post("/receiving/{order}/complete", status_code=201, summary="完成收货: post the scanned lines")
def receiving_complete(order: str, warehouse_id: int | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        po = inbound.find_order(uow, order)
        return _result_out(uow, inbound.complete_receipt(uow, po.id, _warehouse(uow, warehouse_id)))


@router.post("/receipts", status_code=201, summary="Receive lines against a PO into the dock / QC, with putaway tasks")
def receive(body: ReceiveIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        po = inbound.find_order(uow, body.order)
        r = inbound.receive(uow, po.id, _warehouse(uow, body.warehouse_id),
                            [inbound.ReceiveLine(ln.product, ln.quantity, ln.lot, ln.expiry_date, ln.qc)
                             for ln in body.lines], receipt_date=body.receipt_date)
        return _result_out(uow, r)


class QcReleaseIn(BaseModel):
    warehouse_id: int | None = None
    product: int | str
    quantity: Decimal
    passed: bool
    lot_id: int | None = None
    reason: str | None = None
    disposal: str = Field("scrap", description="scrap | return (to the supplier), when failed")


@router.get("/qc-holds", summary="Goods held in QC")
def qc_holds(warehouse_id: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = inbound.qc_holds(uow, _warehouse(uow, warehouse_id))
        return {"items": [{**h, "quantity": q(h["quantity"])} for h in items], "total": len(items)}


@router.post("/qc-holds/release", summary="Pass (→ putaway) or fail (→ scrap / return) goods in QC")
def qc_release(body: QcReleaseIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return inbound.release_qc(uow, _warehouse(uow, body.warehouse_id), body.product, body.quantity,
                                  passed=body.passed, lot_id=body.lot_id, reason=body.reason, disposal=body.disposal)


# ------------------------------------------------------------------ putaway
def _task_list(uow: UnitOfWork, kind: str, warehouse_id: int | None, state: str | None, qtext: str | None,
               limit: int, offset: int) -> dict:
    stmt = select(WmsTask).where(WmsTask.company_id == uow.company_id, WmsTask.kind == kind)
    if warehouse_id:
        stmt = stmt.where(WmsTask.warehouse_id == warehouse_id)
    if state == "open":
        stmt = stmt.where(WmsTask.state.in_(("open", "assigned")))
    elif state:
        stmt = stmt.where(WmsTask.state == state)
    if qtext:
        like = f"%{qtext.strip()}%"
        stmt = stmt.where(WmsTask.reference.ilike(like) | WmsTask.product_id.in_(select(md.Product.id).where(
            md.Product.company_id == uow.company_id, md.Product.sku.ilike(like) | md.Product.name.ilike(like))))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(WmsTask.id.desc()).limit(limit).offset(offset)))
    return {"items": tasks_out(uow, rows), "total": total}


@router.get("/putaway-tasks", summary="Putaway tasks (state=open|done|cancelled)")
def putaway_tasks(warehouse_id: int | None = None, state: str | None = None, q: str | None = None,
                  limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return _task_list(uow, "putaway", warehouse_id, state, q, limit, offset)


@router.get("/putaway-suggestions", summary="Where to put a quantity of a product (no stock moves)")
def putaway_suggestions(product: str, quantity: Decimal = Decimal(1), warehouse_id: int | None = None,
                        actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        prod = pda.scan_product(uow, product)
        plan = pw.suggest_for(uow, _warehouse(uow, warehouse_id), prod.id, quantity)
        return {"items": [{"bin_id": s.bin_id, "bin": s.code, "quantity": q(s.quantity), "rule": s.rule,
                           "rule_label": s.rule_label} for s in plan], "total": len(plan)}


class PutawayConfirmIn(BaseModel):
    bin: str
    quantity: Decimal | None = None
    item: str | None = None
    client_scan_id: str | None = None


@router.post("/putaway-tasks/{task_id}/confirm", summary="Confirm a putaway by scanning the bin (never over capacity)")
def putaway_confirm(task_id: int, body: PutawayConfirmIn, actor: Actor = WRITE) -> dict:
    def handle(uow):
        r = pw.confirm_putaway(uow, task_id, body.bin, body.quantity, item_code=body.item)
        return pda.ok(r.warning or _("已上架 {qty} 到 {bin}", qty=fmt_qty(r.quantity), bin=r.bin_code),
                      task_id=r.task.id, state=r.task.state, bin=r.bin_code, quantity=fmt_qty(r.quantity),
                      warning=r.warning, move_id=r.move_id)

    return _scan(actor, body.client_scan_id, "putaway", body.bin, handle, task_id=task_id)


# ------------------------------------------------------------------ moves and replenishment
class MoveIn(BaseModel):
    warehouse_id: int | None = None
    from_bin: str
    item: str
    quantity: Decimal
    to_bin: str
    lot: str | None = None
    to_warehouse_id: int | None = Field(None, description="another warehouse: a bin → bin transfer")
    client_scan_id: str | None = None


@router.post("/moves", status_code=201, summary="Move stock bin → bin (or to another warehouse's bin)")
def move(body: MoveIn, actor: Actor = WRITE) -> dict:
    def handle(uow):
        t = internal.move_stock(uow, _warehouse(uow, body.warehouse_id), body.from_bin, body.item, body.quantity,
                                body.to_bin, lot=body.lot, to_warehouse_id=body.to_warehouse_id)
        return pda.ok(t.reference, task=tasks_out(uow, [t])[0], task_id=t.id)

    return _scan(actor, body.client_scan_id, "move", body.item, handle)


@router.get("/replenishment", summary="Pick faces at or below their minimum")
def replenishment(warehouse_id: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = internal.replenishment_needs(uow, _warehouse(uow, warehouse_id))
        return {"items": [{k: (q(v) if isinstance(v, Decimal) else v) for k, v in n.items()} for n in items],
                "total": len(items)}


@router.post("/replenishment/generate", status_code=201, summary="Create replenish tasks from reserve bins")
def replenishment_generate(warehouse_id: int | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        tasks = internal.generate_replenishment(uow, _warehouse(uow, warehouse_id))
        return {"items": tasks_out(uow, tasks), "total": len(tasks)}


@router.get("/replenishment-tasks", summary="Replenish tasks")
def replenishment_tasks(warehouse_id: int | None = None, state: str | None = None, q: str | None = None,
                        limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                        actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return _task_list(uow, "replenish", warehouse_id, state, q, limit, offset)


class ReplenishConfirmIn(BaseModel):
    from_bin: str | None = None
    item: str | None = None
    quantity: Decimal | None = None
    to_bin: str | None = None
    client_scan_id: str | None = None


@router.post("/replenishment-tasks/{task_id}/confirm", summary="Do a replenish task (reserve → pick face)")
def replenishment_confirm(task_id: int, body: ReplenishConfirmIn, actor: Actor = WRITE) -> dict:
    def handle(uow):
        t = internal.confirm_replenishment(uow, task_id, from_bin=body.from_bin, item=body.item,
                                           quantity=body.quantity, to_bin=body.to_bin)
        return pda.ok(_("补货完成"), task=tasks_out(uow, [t])[0], task_id=t.id)

    return _scan(actor, body.client_scan_id, "move", body.to_bin or body.from_bin or "", handle, task_id=task_id)


# ------------------------------------------------------------------ cycle counts
def count_out(uow: UnitOfWork, c: WmsCount, *, lines: bool = True, show_book: bool = True) -> dict:
    out = {"id": c.id, "number": c.number, "warehouse_id": c.warehouse_id, "state": c.state,
           "state_label": cc.state_label(c.state), "blind": c.blind, "abc_class": c.abc_class, "reason": c.reason,
           "adjustment_id": c.adjustment_id, "approved_at": c.approved_at.isoformat() if c.approved_at else None,
           **{k: (q(v) if isinstance(v, Decimal) else v) for k, v in cc.summary(c).items()}}
    if lines:
        hide = c.blind and c.state in ("open", "counted") and not show_book
        out["lines"] = [{**{k: (q(v) if isinstance(v, Decimal) else v) for k, v in ln.items() if k != "counted_at"},
                         **({"book_qty": None, "difference": None} if hide else {})}
                        for ln in cc.variances(uow, c)]
    return out


class CountIn(BaseModel):
    warehouse_id: int | None = None
    bins: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list, description="SKUs (count them in every bin)")
    blind: bool = True


@router.get("/counts", summary="Cycle counts")
def list_counts(q: str | None = None, state: str | None = None, warehouse_id: int | None = None,
                limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = cc.list_counts(uow, q=q, state=state, warehouse_id=warehouse_id, limit=limit, offset=offset)
        return {"items": [count_out(uow, c, lines=False) for c in rows], "total": total}


@router.post("/counts", status_code=201, summary="Create a count of bins or products")
def create_count(body: CountIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        pids = [pda.scan_product(uow, s).id for s in body.products]
        c = cc.create_count(uow, _warehouse(uow, body.warehouse_id), bin_codes=body.bins or None,
                            product_ids=pids or None, blind=body.blind)
        return count_out(uow, c, show_book=actor.can("wms.approve"))


class ScheduleIn(BaseModel):
    warehouse_id: int | None = None
    frequency: dict[str, int] | None = Field(None, description='days per ABC class, e.g. {"A": 30, "B": 90, "C": 365}')
    blind: bool = True


@router.post("/counts/schedule", status_code=201, summary="Create the counts that are due by ABC frequency")
def schedule_counts(body: ScheduleIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        made = cc.schedule_counts(uow, _warehouse(uow, body.warehouse_id), body.frequency, blind=body.blind)
        return {"items": [count_out(uow, c, lines=False) for c in made], "total": len(made)}


@router.get("/counts/{count_id}", summary="One count (book quantities hidden from counters while blind)")
def get_count(count_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return count_out(uow, uow.get(WmsCount, count_id), show_book=actor.can("wms.approve"))


class CountEntryIn(BaseModel):
    bin: str
    item: str
    quantity: Decimal
    lot: str | None = None
    client_scan_id: str | None = None


@router.post("/counts/{count_id}/entries", summary="Record a counted quantity (scan bin, item, qty)")
def count_entry(count_id: int, body: CountEntryIn, actor: Actor = WRITE) -> dict:
    def handle(uow):
        ln = cc.enter_count(uow, count_id, body.bin, body.item, body.quantity, lot=body.lot)
        counted = fmt_qty(ln.counted_qty)
        return pda.ok(_("已记录 {qty}", qty=counted), line_id=ln.id, counted_qty=counted)

    return _scan(actor, body.client_scan_id, "count", body.item, handle)


class ApproveIn(BaseModel):
    reason: str | None = None


@router.post("/counts/{count_id}/approve", summary="Approve: variances → one inventory adjustment (once)")
def approve_count(count_id: int, body: ApproveIn, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        return count_out(uow, cc.approve_count(uow, count_id, body.reason))


# ------------------------------------------------------------------ reports
def _plain(v):
    if isinstance(v, Decimal):
        return fmt_qty(v)
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


@router.get("/reports/inout", summary="出入库报表 per day / sku / bin / operator")
def report_inout(group: str = "day", warehouse_id: int | None = None, date_from: dt.date | None = None,
                 date_to: dt.date | None = None, q: str | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        r = reports.inout(uow, _warehouse(uow, warehouse_id), group=group, date_from=date_from, date_to=date_to, q=q)
        return _plain({"items": r["rows"], "total": len(r["rows"]), "totals": r["totals"], "group": r["group"],
                       "date_from": r["date_from"], "date_to": r["date_to"]})


@router.get("/reports/ageing", summary="Stock ageing 0-30 / 31-60 / 61-90 / 90+ days")
def report_ageing(warehouse_id: int | None = None, q: str | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        r = reports.ageing(uow, _warehouse(uow, warehouse_id), q=q)
        return _plain({"items": r["rows"], "total": len(r["rows"]), "totals": r["totals"], "as_of": r["as_of"]})


@router.get("/reports/utilisation", summary="Bin utilisation")
def report_utilisation(warehouse_id: int | None = None, zone: str | None = None, bin_type: str | None = None,
                       actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        r = reports.utilisation(uow, _warehouse(uow, warehouse_id), zone=zone, bin_type=bin_type)
        return _plain({"items": r["rows"], "total": len(r["rows"]), "summary": r["summary"], "totals": r["totals"]})


@router.get("/reports/productivity", summary="Picker productivity (lines per hour)")
def report_productivity(warehouse_id: int | None = None, date_from: dt.date | None = None,
                        date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        r = reports.productivity(uow, _warehouse(uow, warehouse_id), date_from=date_from, date_to=date_to)
        return _plain({"items": r["rows"], "total": len(r["rows"]), "totals": r["totals"]})

