"""Internal warehouse work: bin → bin moves, transfers between warehouses, and replenishment of
pick faces from reserve bins by min/max.

* `move_stock` — scan the from-bin, the item (and lot), the quantity and the to-bin; the goods
  move in the ledger at once and a done `wms_task` (kind move) records who did it. The to-bin is
  locked and its room checked: capacity is never exceeded (Conflict).
* Transfers between warehouses are the same move with the to-bin in the other warehouse
  (bin → bin): the inventory ledger has no in-transit stock yet (see the known limit in
  `inventory/service.py`), so the goods are in the destination bin as soon as they are booked.
* Replenishment: a pick face (bin type pick with `min_qty`/`max_qty` and a fixed product, or
  holding one product) at or below its minimum gets a replenish task for `max − on hand`, from
  reserve/bulk bins that hold the product (fullest first; lots earliest expiry first). Confirming
  it moves the stock reserve → pick face.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot, StockQuant
from opensupply.masterdata import models as md

from . import bins as wms_bins
from . import pda
from .models import WmsBin, WmsTask

ZERO = Decimal(0)
RESERVE_TYPES = ("reserve", "bulk")


def _lot_id(uow: UnitOfWork, product: md.Product, lot: str | None) -> int | None:
    lot = (lot or "").strip()
    if product.tracking == "none":
        return None
    if not lot:
        raise ValidationFailed(_("商品 {sku} 按批次管理，请扫描批次号", sku=product.sku), field="lot")
    return inv.lots_by_name(uow, [(product.id, lot)])[(product.id, lot)]


def _check_room(uow: UnitOfWork, target: WmsBin, product: md.Product, qty: Decimal) -> None:
    from .putaway import check_room

    check_room(uow, target, product, qty, field="to_bin")


def _free_at(uow: UnitOfWork, product_id: int, location_id: int, lot_id: int | None) -> Decimal:
    """On hand minus active reservations at a bin (what may be moved away)."""
    return inv.on_hand(uow, product_id, location_id, lot_id) - inv.reserved(uow, product_id, location_id, lot_id)


def move_stock(uow: UnitOfWork, warehouse_id: int, from_bin: str, item: str, quantity, to_bin: str, *,
               lot: str | None = None, to_warehouse_id: int | None = None, note: str | None = None) -> WmsTask:
    """Move goods bin → bin (in this warehouse, or into `to_warehouse_id`'s bin: a transfer)."""
    uow.actor.require("wms.write")
    source = wms_bins.bin_by_code(uow, warehouse_id, from_bin)
    product = pda.scan_product(uow, item)
    qty = pda.scan_qty(quantity)
    lot_id = _lot_id(uow, product, lot)
    target = wms_bins.bin_by_code(uow, to_warehouse_id or warehouse_id, to_bin)
    if target.id == source.id:
        raise ValidationFailed(_("目标库位与来源库位相同：{code}", code=target.code), field="to_bin")
    free = _free_at(uow, product.id, source.location_id, lot_id)
    if qty > free:
        raise ValidationFailed(_("库位 {code} 的 {sku} 可移数量只有 {free}（已扣除预留），不能移 {qty}",
                                 code=source.code, sku=product.sku, free=inv.fmt_qty(max(free, ZERO)),
                                 qty=inv.fmt_qty(qty)), field="qty")
    target = uow.get(WmsBin, target.id, for_update=True)
    _check_room(uow, target, product, qty)
    transfer = target.warehouse_id != source.warehouse_id
    ref = (_("调拨 {a} → {b}", a=source.code, b=target.code) if transfer
           else _("移库 {a} → {b}", a=source.code, b=target.code))
    task = uow.add(WmsTask(kind="move", state="done", warehouse_id=source.warehouse_id, product_id=product.id,
                           lot_id=lot_id, quantity=qty, qty_done=qty, source_location_id=source.location_id,
                           dest_location_id=target.location_id, reference=ref[:80],
                           ref_type="wms.transfer" if transfer else "wms.move", done_by_id=uow.actor.user_id,
                           started_at=utcnow(), done_at=utcnow(), note=(note or "")[:300] or None))
    uow.flush()
    move_id = inv.move(uow, product.id, qty, source.location_id, target.location_id, lot_id=lot_id,
                       ref_type="wms.task", ref_id=task.id, reference=ref[:80])
    task.move_ids = [move_id]
    uow.flush()
    uow.emit("wms.stock_moved", task_id=task.id, product_id=product.id, quantity=str(qty),
             from_location_id=source.location_id, to_location_id=target.location_id, transfer=transfer)
    return task


# ------------------------------------------------------------------ replenishment
def _pick_faces(uow: UnitOfWork, warehouse_id: int) -> list[WmsBin]:
    return list(uow.session.scalars(select(WmsBin).where(
        WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == warehouse_id, WmsBin.bin_type == "pick",
        WmsBin.min_qty.is_not(None), WmsBin.max_qty.is_not(None), WmsBin.active.is_(True),
        WmsBin.blocked.is_(False)).order_by(WmsBin.code)))


def _on_hand_by_location(uow: UnitOfWork, location_ids: list[int]) -> dict[int, dict[int, Decimal]]:
    out: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    if location_ids:
        for loc, pid, qty in uow.session.execute(
                select(StockQuant.location_id, StockQuant.product_id, func.sum(StockQuant.quantity)).where(
                    StockQuant.company_id == uow.company_id, StockQuant.location_id.in_(location_ids))
                .group_by(StockQuant.location_id, StockQuant.product_id)):
            if qty:
                out[loc][pid] += Decimal(qty)
    return out


def _reserve_sources(uow: UnitOfWork, warehouse_id: int, product_id: int) -> list[tuple[WmsBin, int | None, Decimal]]:
    """(reserve bin, lot, free quantity) holding the product, lots by earliest expiry, fuller bins first."""
    rows = uow.session.execute(
        select(WmsBin, StockQuant.lot_id, StockQuant.quantity, StockLot.expiry_date)
        .join(StockQuant, StockQuant.location_id == WmsBin.location_id)
        .outerjoin(StockLot, StockLot.id == StockQuant.lot_id)
        .where(WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == warehouse_id,
               WmsBin.bin_type.in_(RESERVE_TYPES), WmsBin.active.is_(True), StockQuant.product_id == product_id,
               StockQuant.quantity > 0)).all()
    reserved: dict[int, Decimal] = {}
    for b, *_rest in rows:
        if b.location_id not in reserved:
            reserved[b.location_id] = inv.reserved(uow, product_id, b.location_id)
    out = []
    for b, lot_id, qty, _expiry in sorted(rows, key=lambda r: (r[3] is None, r[3] or 0, -Decimal(r[2]), r[0].code)):
        free = Decimal(qty) - reserved[b.location_id]  # a bin's reservations use up its first lots
        reserved[b.location_id] = max(reserved[b.location_id] - Decimal(qty), ZERO)
        if free > 0:
            out.append((b, lot_id, free))
    return out


def replenishment_needs(uow: UnitOfWork, warehouse_id: int) -> list[dict]:
    """Pick faces at or below their minimum: bin, product, on hand, min, max, quantity wanted
    (max − on hand, less what open replenish tasks already bring)."""
    faces = _pick_faces(uow, warehouse_id)
    stock = _on_hand_by_location(uow, [b.location_id for b in faces])
    incoming: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for loc, pid, qty, done in uow.session.execute(
            select(WmsTask.dest_location_id, WmsTask.product_id, WmsTask.quantity, WmsTask.qty_done).where(
                WmsTask.company_id == uow.company_id, WmsTask.warehouse_id == warehouse_id,
                WmsTask.kind == "replenish", WmsTask.state.in_(("open", "assigned")))):
        incoming[(loc, pid)] += Decimal(qty) - Decimal(done or 0)
    products = {p.id: p for p in uow.session.scalars(select(md.Product).where(md.Product.company_id == uow.company_id,
                                                                              md.Product.id.in_(
        {b.fixed_product_id for b in faces if b.fixed_product_id} | {p for b in faces for p in stock[b.location_id]})))}
    out = []
    for b in faces:
        held = stock[b.location_id]
        pid = b.fixed_product_id or (next(iter(held)) if len(held) == 1 else None)
        if pid is None:
            continue
        have = held.get(pid, ZERO)
        if have + incoming[(b.location_id, pid)] > Decimal(b.min_qty):
            continue
        want = Decimal(b.max_qty) - have - incoming[(b.location_id, pid)]
        if want <= 0:
            continue
        p = products.get(pid)
        out.append({"bin_id": b.id, "bin": b.code, "location_id": b.location_id, "product_id": pid,
                    "sku": p.sku if p else "", "name": p.name if p else "", "on_hand": have, "min_qty": b.min_qty,
                    "max_qty": b.max_qty, "incoming": incoming[(b.location_id, pid)], "quantity": want})
    return out


def generate_replenishment(uow: UnitOfWork, warehouse_id: int) -> list[WmsTask]:
    """Replenish tasks for every pick face at or below its minimum, sourced from reserve bins."""
    uow.actor.require("wms.write")
    tasks = []
    for need in replenishment_needs(uow, warehouse_id):
        left = need["quantity"]
        for src, lot_id, free in _reserve_sources(uow, warehouse_id, need["product_id"]):
            if left <= 0:
                break
            take = min(left, free)
            tasks.append(uow.add(WmsTask(kind="replenish", state="open", warehouse_id=warehouse_id,
                                         product_id=need["product_id"], lot_id=lot_id, quantity=take,
                                         source_location_id=src.location_id, dest_location_id=need["location_id"],
                                         reference=_("补货 {bin}", bin=need["bin"])[:80], ref_type="wms.replenish")))
            left -= take
    uow.flush()
    if tasks:
        uow.emit("wms.replenishment_generated", warehouse_id=warehouse_id, task_ids=[t.id for t in tasks])
    return tasks


def confirm_replenishment(uow: UnitOfWork, task_id: int, *, from_bin: str | None = None, item: str | None = None,
                          quantity=None, to_bin: str | None = None) -> WmsTask:
    """Do a replenish task (scans optional but checked when given): moves reserve → pick face."""
    uow.actor.require("wms.write")
    task = uow.get(WmsTask, task_id, for_update=True)
    if task.kind != "replenish":
        raise ValidationFailed(_("任务 #{id} 不是补货任务", id=task.id))
    if task.state not in ("open", "assigned"):
        raise Conflict(_("补货任务 #{id} 已完成或已取消", id=task.id), field="state")
    bins = wms_bins.bins_by_location(uow, [task.source_location_id, task.dest_location_id])
    src, dst = bins[task.source_location_id], bins[task.dest_location_id]
    if from_bin and wms_bins.bin_by_code(uow, task.warehouse_id, from_bin).id != src.id:
        raise pda.wrong_bin(pda.norm(from_bin), src.code)
    product = uow.get(md.Product, task.product_id)
    if item:
        pda.expect_product(uow, item, product)
    if to_bin and wms_bins.bin_by_code(uow, task.warehouse_id, to_bin).id != dst.id:
        raise pda.wrong_bin(pda.norm(to_bin), dst.code)
    left = Decimal(task.quantity) - Decimal(task.qty_done or 0)
    qty = pda.scan_qty(quantity, default=left)
    if qty > left:
        raise ValidationFailed(_("补货数量 {qty} 超过任务剩余数量 {left}", qty=inv.fmt_qty(qty),
                                 left=inv.fmt_qty(left)), field="qty")
    dst = uow.get(WmsBin, dst.id, for_update=True)
    _check_room(uow, dst, product, qty)
    move_id = inv.move(uow, product.id, qty, src.location_id, dst.location_id, lot_id=task.lot_id,
                       ref_type="wms.task", ref_id=task.id, reference=task.reference)
    task.qty_done = Decimal(task.qty_done or 0) + qty
    task.move_ids = [*(task.move_ids or []), move_id]
    task.done_by_id, task.started_at = uow.actor.user_id, task.started_at or utcnow()
    if task.qty_done >= task.quantity:
        task.state, task.done_at = "done", utcnow()
    uow.flush()
    return task


def cancel_task(uow: UnitOfWork, task_id: int) -> WmsTask:
    uow.actor.require("wms.write")
    task = uow.get(WmsTask, task_id, for_update=True)
    if task.state not in ("open", "assigned"):
        raise Conflict(_("任务 #{id} 已完成或已取消", id=task.id), field="state")
    task.state = "cancelled"
    uow.flush()
    return task


def open_tasks(uow: UnitOfWork, warehouse_id: int | None, kind: str, *, limit: int = 200) -> list[WmsTask]:
    stmt = select(WmsTask).where(WmsTask.company_id == uow.company_id, WmsTask.kind == kind,
                                 WmsTask.state.in_(("open", "assigned")))
    if warehouse_id:
        stmt = stmt.where(WmsTask.warehouse_id == warehouse_id)
    return list(uow.session.scalars(stmt.order_by(WmsTask.id).limit(limit)))
