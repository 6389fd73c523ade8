"""Picking: confirm a pick task from a PDA scan, or report it short.

* ``confirm_pick(uow, task_id, *, bin_code, product_code, quantity, lot=None, client_scan_id=None)``
  checks the scanned bin and item against the task (a wrong SKU is refused: "扫描的商品 X 与拣货任务
  要求的 Y 不符"), then moves the goods bin → pack station with `inventory.transfer_reserved`, so they
  stay reserved for the same sales order line. The task row is locked, and a scan carrying a
  `client_scan_id` runs once (`wms.scans.scan_once`): a resubmitted scan replays its first answer,
  nothing is picked twice.
* ``short_pick(uow, task_id, found_qty, reason)`` — the bin holds less than planned: what is there is
  picked, the missing part of the reservation is released at that bin and reserved again in the
  nearest bin with free stock of the same product (same sales order line as reference), with a new
  task slotted into the walking order; when no bin has it, the shortage is recorded on the task and
  the OMS timeline (the fulfilment then ships what was packed and OMS backorders the rest).

An intercepted fulfilment (refund after picking started) is not picked any further: its open tasks
are cancelled and the scan answers with a warning instead of moving stock.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from opensupply.core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot, StockReservation
from opensupply.masterdata import models as md
from opensupply.oms import fulfilments as oms_ful

from . import bins as wbins
from .models import WmsBin, WmsTask, WmsWave
from .scans import scan_once
from .waves import OPEN, cancel_open_tasks, pack_location_id, refresh_wave_state, resequence

ZERO = Decimal(0)
SOURCE_TYPES = ("pick", "reserve", "bulk")


def _qty(value, field: str = "quantity", *, allow_zero: bool = False) -> Decimal:
    try:
        qty = Decimal(str(value).strip())
    except (InvalidOperation, AttributeError):
        raise ValidationFailed(_("数量格式不正确：{value}", value=str(value)[:20]), field=field) from None
    if not qty.is_finite() or qty < 0 or (qty == 0 and not allow_zero):
        raise ValidationFailed(_("数量必须大于 0") if not allow_zero else _("数量不能为负"), field=field)
    return qty


def _fmt(q: Decimal) -> str:
    return inv.fmt_qty(q)


def _task(uow: UnitOfWork, task_id: int) -> WmsTask:
    task = uow.get(WmsTask, int(task_id), for_update=True)
    if task.kind != "pick":
        raise ValidationFailed(_("任务 #{id} 不是拣货任务", id=task.id), field="task")
    if task.state not in OPEN:
        raise Conflict(_("拣货任务 #{id} 已{state}，不能再拣", id=task.id,
                         state=_("完成") if task.state == "done" else _("关闭")), field="task", code="task_closed")
    return task


def bin_code_of(uow: UnitOfWork, location_id: int) -> str:
    b = wbins.bins_by_location(uow, [location_id]).get(location_id)
    if b is not None:
        return b.code
    loc = uow.session.get(md.Location, location_id)
    return loc.code if loc else str(location_id)


def _check_bin(uow: UnitOfWork, task: WmsTask, scanned: str | None) -> None:
    expected = bin_code_of(uow, task.source_location_id)
    text = (scanned or "").strip()
    if not text:
        raise ValidationFailed(_("请扫描库位 {code}", code=expected), field="bin", code="wrong_bin")
    if text.rsplit("/", 1)[-1].upper() != expected.upper():
        raise ValidationFailed(_("扫描的库位 {scanned} 与拣货任务要求的 {expected} 不符", scanned=text,
                                 expected=expected), field="bin", code="wrong_bin")


def _check_item(uow: UnitOfWork, task: WmsTask, scanned: str | None) -> md.Product:
    expected = uow.session.get(md.Product, task.product_id)
    text = (scanned or "").strip()
    if not text:
        raise ValidationFailed(_("请扫描商品 {sku}", sku=expected.sku), field="item", code="wrong_item")
    base = select(md.Product).where(md.Product.company_id == uow.company_id)
    prod = uow.session.scalars(base.where(md.Product.barcode == text)).first() \
        or uow.session.scalars(base.where(md.Product.sku == text)).first()
    if prod is None or prod.id != expected.id:
        raise ValidationFailed(_("扫描的商品 {scanned} 与拣货任务要求的 {expected} 不符",
                                 scanned=prod.sku if prod else text, expected=expected.sku),
                               field="item", code="wrong_item")
    return prod


def _check_lot(uow: UnitOfWork, task: WmsTask, lot: str | None) -> None:
    text = (lot or "").strip()
    if not text or not task.lot_id:
        return
    name = uow.session.scalar(select(StockLot.name).where(StockLot.id == task.lot_id))
    if name and text != name:
        raise ValidationFailed(_("扫描的批次 {scanned} 与拣货任务要求的 {expected} 不符", scanned=text, expected=name),
                               field="lot", code="wrong_lot")


def _slices(uow: UnitOfWork, task: WmsTask) -> list:
    """The active reservations this task picks from: its fulfilment line's slices in its bin (and
    lot). A partial pick leaves the rest under a new reservation id, so they are looked up afresh."""
    out = []
    for need in oms_ful.pick_plan(uow, task.fulfilment_id):
        if need.fulfilment_line_id != task.fulfilment_line_id:
            continue
        for s in need.reservations:
            if s.location_id == task.source_location_id and (not task.lot_id or s.lot_id == task.lot_id) \
                    and Decimal(s.quantity) > 0:
                out.append(s)
    out.sort(key=lambda s: (s.reservation_id != task.reservation_id, s.reservation_id))
    return out


def _to_pack(uow: UnitOfWork, task: WmsTask, wave: WmsWave, qty: Decimal) -> list[int]:
    """Move `qty` of the task's reserved goods from its bin to the pack station."""
    transfers, left = [], qty
    for s in _slices(uow, task):
        if left <= 0:
            break
        take = min(left, Decimal(s.quantity))
        transfers.append((s.reservation_id, take))
        left -= take
    if left > 0:
        raise InsufficientStock(_("库位 {bin} 为此任务预留的数量不足：还差 {q}",
                                  bin=bin_code_of(uow, task.source_location_id), q=_fmt(left)), field="quantity")
    pack = task.dest_location_id or pack_location_id(uow, task.warehouse_id)
    done = inv.transfer_reserved(uow, transfers, pack, reference=wave.number, ref_type="wms.task", ref_id=task.id)
    moves = [m for m, _r in done]
    task.move_ids = list(task.move_ids or []) + moves
    return moves


def _intercepted(uow: UnitOfWork, task: WmsTask) -> dict | None:
    if not task.fulfilment_id or not oms_ful.is_intercepted(uow, task.fulfilment_id):
        return None
    cancel_open_tasks(uow, fulfilment_id=task.fulfilment_id, wave_id=task.wave_id, note=_("发货单已拦截"))
    wave = uow.get(WmsWave, task.wave_id)
    refresh_wave_state(uow, wave)
    return {"ok": False, "warning": True, "intercepted": True, "task_id": task.id, "state": "cancelled",
            "message": _("发货单已拦截（退款/取消），停止拣货：请勿拣此格 {slot} 的商品", slot=task.slot or "-"),
            "next_task_id": next_task_id(uow, task.wave_id)}


def next_task_id(uow: UnitOfWork, wave_id: int) -> int | None:
    return uow.session.scalar(select(WmsTask.id).where(
        WmsTask.company_id == uow.company_id, WmsTask.wave_id == wave_id, WmsTask.kind == "pick",
        WmsTask.state.in_(OPEN)).order_by(WmsTask.sequence, WmsTask.id).limit(1))


def _wave_for_pick(uow: UnitOfWork, task: WmsTask) -> WmsWave:
    wave = uow.get(WmsWave, task.wave_id, for_update=True)
    if wave.state not in ("released", "picking"):
        raise Conflict(_("波次 {n} 未下发或已结束，不能拣货", n=wave.number), field="state")
    return wave


def confirm_pick(uow: UnitOfWork, task_id: int, *, bin_code: str | None, product_code: str | None, quantity,
                 lot: str | None = None, client_scan_id: str | None = None) -> dict:
    """Confirm a pick scanned on the PDA (bin, item, optional lot, quantity). Returns the scan's
    answer: {"ok", "message", "task_id", "state", "qty_done", "next_task_id"}."""

    def handle() -> dict:
        task = _task(uow, task_id)
        wave = _wave_for_pick(uow, task)
        _check_bin(uow, task, bin_code)
        prod = _check_item(uow, task, product_code)
        _check_lot(uow, task, lot)
        remaining = Decimal(task.quantity) - Decimal(task.qty_done)
        qty = _qty(quantity if quantity not in (None, "") else remaining)
        if qty > remaining:
            raise ValidationFailed(_("拣货数量 {q} 超过任务剩余数量 {r}", q=_fmt(qty), r=_fmt(remaining)), field="qty")
        stop = _intercepted(uow, task)
        if stop:
            return stop
        _to_pack(uow, task, wave, qty)
        now = utcnow()
        task.qty_done = Decimal(task.qty_done) + qty
        task.started_at = task.started_at or now
        task.done_by_id = uow.actor.user_id
        if task.qty_done >= Decimal(task.quantity):
            task.state = "done"
            task.done_at = now
        uow.flush()
        refresh_wave_state(uow, wave)
        uow.emit("wms.pick_confirmed", task_id=task.id, wave_id=wave.id, fulfilment_id=task.fulfilment_id,
                 product_id=task.product_id, quantity=qty)
        return {"ok": True, "task_id": task.id, "state": task.state, "qty_done": _fmt(task.qty_done),
                "message": _("已拣 {sku} × {q}，放入第 {slot} 格", sku=prod.sku, q=_fmt(qty), slot=task.slot or "-"),
                "next_task_id": next_task_id(uow, wave.id), "wave_state": wave.state}

    return scan_once(uow, client_scan_id, "pick", f"{bin_code or ''}|{product_code or ''}", handle, task_id=task_id)


# ------------------------------------------------------------------ short picks
def _substitutes(uow: UnitOfWork, task: WmsTask, wanted: Decimal) -> list[tuple[int, int | None, Decimal]]:
    """Bins with free stock of the task's product (nearest to the short bin first):
    [(location_id, lot_id, quantity)] covering up to `wanted`."""
    rows, _total = inv.on_hand_rows(uow, warehouse=task.warehouse_id, product=task.product_id, limit=1000)
    rows = [r for r in rows if r["available"] > 0 and r["location_id"] != task.source_location_id]
    if not rows:
        return []
    bins = wbins.bins_by_location(uow, {r["location_id"] for r in rows})
    here = wbins.bins_by_location(uow, [task.source_location_id]).get(task.source_location_id)
    lot_ids = inv.lots_by_name(uow, [(task.product_id, r["lot"]) for r in rows if r["lot"]]) \
        if any(r["lot"] for r in rows) else {}

    def distance(b: WmsBin) -> float:
        if here is None:
            return 0.0
        return abs(b.x - here.x) + abs(b.y - here.y)

    usable = []
    for r in rows:
        b = bins.get(r["location_id"])
        if b is None or b.blocked or not b.active or b.bin_type not in SOURCE_TYPES:
            continue
        usable.append((distance(b), b.code, r))
    usable.sort(key=lambda x: (x[0], x[1]))
    out, left = [], wanted
    for _d, _code, r in usable:
        if left <= 0:
            break
        take = min(left, r["available"])
        lot_id = lot_ids.get((task.product_id, r["lot"])) if r["lot"] else None
        out.append((r["location_id"], lot_id, take))
        left -= take
    return out


def short_pick(uow: UnitOfWork, task_id: int, found_qty, reason: str | None = None, *,
               client_scan_id: str | None = None) -> dict:
    """The bin holds only `found_qty` of the task: pick that, re-reserve the missing part in a
    substitute bin (a new task in walking order) or record the shortage."""

    def handle() -> dict:
        task = _task(uow, task_id)
        wave = _wave_for_pick(uow, task)
        remaining = Decimal(task.quantity) - Decimal(task.qty_done)
        found = _qty(found_qty if found_qty not in (None, "") else 0, "found_qty", allow_zero=True)
        if found >= remaining:
            raise ValidationFailed(_("实拣数量 {f} 不少于任务剩余数量 {r}，请直接确认拣货", f=_fmt(found),
                                     r=_fmt(remaining)), field="found_qty")
        stop = _intercepted(uow, task)
        if stop:
            return stop
        why = (reason or "").strip()[:200] or _("库位实物不足")
        if found > 0:
            _to_pack(uow, task, wave, found)
        missing = remaining - found
        # give the missing part of the reservation back at this bin
        slices = _slices(uow, task)
        held = sum((Decimal(s.quantity) for s in slices), ZERO)
        source = uow.session.get(StockReservation, task.reservation_id) if task.reservation_id else None
        if slices:
            inv.release(uow, [s.reservation_id for s in slices])
            keep = held - missing
            if keep > 0 and source is not None:
                inv.reserve(uow, [inv.ReservationRequest(task.product_id, task.source_location_id, keep,
                                                         lot_id=task.lot_id, ref_type=source.ref_type,
                                                         ref_id=source.ref_id, reference=source.reference)])
        # a substitute bin for what is missing
        new_tasks = []
        covered = ZERO
        if source is not None:
            for loc, lot_id, qty in _substitutes(uow, task, missing):
                got = inv.reserve(uow, [inv.ReservationRequest(task.product_id, loc, qty, lot_id=lot_id,
                                                               ref_type=source.ref_type, ref_id=source.ref_id,
                                                               reference=source.reference)], partial=True)
                if not got:
                    continue
                taken = Decimal(uow.session.get(StockReservation, got[0]).quantity)
                new_tasks.append(uow.add(WmsTask(
                    kind="pick", state="open", warehouse_id=task.warehouse_id, product_id=task.product_id,
                    lot_id=lot_id, quantity=taken, qty_done=ZERO, source_location_id=loc,
                    dest_location_id=task.dest_location_id, wave_id=task.wave_id, fulfilment_id=task.fulfilment_id,
                    fulfilment_line_id=task.fulfilment_line_id, reservation_id=got[0], sequence=task.sequence,
                    slot=task.slot, reference=task.reference, ref_type=task.ref_type, ref_id=task.ref_id,
                    note=_("替代库位（任务 #{id} 缺货）", id=task.id))))
                covered += taken
        now = utcnow()
        task.qty_done = Decimal(task.qty_done) + found
        task.state = "short"
        task.done_at = now
        task.started_at = task.started_at or now
        task.done_by_id = uow.actor.user_id
        unfilled = missing - covered
        task.note = (_("缺货 {q}：{why}", q=_fmt(missing), why=why))[:300]
        uow.flush()
        if new_tasks:
            resequence(uow, wave, start_location_id=task.source_location_id)
        refresh_wave_state(uow, wave)
        bin_code = bin_code_of(uow, task.source_location_id)
        sku = uow.session.get(md.Product, task.product_id).sku
        if unfilled > 0:
            _timeline(uow, task.fulfilment_id, _("拣货缺货：{sku} 在 {bin} 缺 {q}（{why}），将部分发货并补发",
                                                 sku=sku, bin=bin_code, q=_fmt(unfilled), why=why), "short_pick")
        uow.emit("wms.pick_short", task_id=task.id, wave_id=wave.id, fulfilment_id=task.fulfilment_id,
                 product_id=task.product_id, found=found, missing=missing, unfilled=unfilled,
                 substitute_task_ids=[t.id for t in new_tasks])
        if new_tasks:
            msg = _("{sku} 缺 {q}：已改从替代库位 {bins} 拣货", sku=sku, q=_fmt(missing),
                    bins="、".join(bin_code_of(uow, t.source_location_id) for t in new_tasks))
        else:
            msg = _("{sku} 缺 {q}：没有可替代的库位，已记录缺货", sku=sku, q=_fmt(missing))
        return {"ok": True, "warning": unfilled > 0, "task_id": task.id, "state": task.state, "found": _fmt(found),
                "missing": _fmt(missing), "unfilled": _fmt(unfilled), "substitute_task_ids": [t.id for t in new_tasks],
                "message": msg, "next_task_id": next_task_id(uow, wave.id), "wave_state": wave.state}

    return scan_once(uow, client_scan_id, "pick", f"short|{task_id}|{found_qty}", handle, task_id=task_id)


def _timeline(uow: UnitOfWork, fulfilment_id: int | None, message: str, kind: str = "wms") -> None:
    if not fulfilment_id:
        return
    try:
        from opensupply.oms import orders as oms_orders
    except ImportError:  # OMS timeline not available: the task note keeps the record
        return
    oms_orders.add_event(uow, fulfilment_id=fulfilment_id, kind=kind, message=message[:500])


def task_for_scan(uow: UnitOfWork, wave_id: int, task_id: int | None = None) -> WmsTask | None:
    """The task the PDA shows: the given open one, else the wave's next open task."""
    if task_id:
        try:
            t = uow.get(WmsTask, task_id)
        except NotFound:
            t = None
        if t is not None and t.wave_id == wave_id and t.state in OPEN:
            return t
    nid = next_task_id(uow, wave_id)
    return uow.get(WmsTask, nid) if nid else None
