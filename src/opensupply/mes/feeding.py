"""Material-feeding reminders (上料提醒): keep a line's staging location (线边库位) from running dry.

For every running operation, the components its work order consumes there (the component's operation, or
the order's first operation when it names none) are used at `quantity_per_unit ÷ run_minutes` per minute.
What is staged at the line (on hand at the work center's staging location) divided by the line's use per
minute — all running orders that use the material there together — is how long it lasts. Below the work
center's `feeding_alert_minutes` a feeding task (`SL2026-000001`) asks the warehouse to bring
`feeding_cover_minutes` worth, never more than the work order still needs, once per work center and
material while a task is open.

Completing a task (`complete_feeding_task`, permission mes.feed) is the work order's 领料
(`work_orders.issue_materials`): the material moves from its bin to the staging location and stays reserved
for the work order there; what is not yet reserved is reserved first. The check runs after an operation
starts or reports (event handlers, idempotent: a second run finds the open task), on demand, and as the job
`mes.check_feeding` for a periodic sweep.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import func, or_, select

from opensupply.core.errors import Conflict, InsufficientStock, ValidationFailed
from opensupply.core.events import Event, subscribe
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.jobs import JobContext, job
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockMove, StockReservation
from opensupply.masterdata import models as md

from . import work_orders as wos
from .models import FeedingTask, WorkCenter, WorkOrder, WorkOrderComponent, WorkOrderOperation

register_sequence("MES_FEED", "SL{year}-", 6)

FEED_PERMISSION = "mes.feed"
STATE_LABELS = {"open": "待上料", "done": "已上料", "cancelled": "已取消"}
SIX = Decimal("0.000001")


def state_label(state: str) -> str:
    return _(STATE_LABELS.get(state, state))


def _fmt(value) -> str:
    return inv.fmt_qty(to_decimal(value or 0))


# ------------------------------------------------------------------ what the lines use
@dataclass
class Consumer:
    """One running operation that uses a material at a line."""

    operation: WorkOrderOperation
    work_order: WorkOrder
    component: WorkOrderComponent
    use_per_minute: Decimal
    still_needed: Decimal  # what the work order has not yet brought to the line


@dataclass
class LineNeed:
    """A material at a work center: what is staged, how fast the running operations use it, how long it lasts."""

    work_center: WorkCenter
    product_id: int
    staged: Decimal = ZERO
    use_per_minute: Decimal = ZERO
    consumers: list[Consumer] = field(default_factory=list)

    @property
    def minutes_left(self) -> Decimal | None:
        if self.use_per_minute <= 0:
            return None
        return (self.staged / self.use_per_minute).quantize(SIX)


def _consumed_at(wo: WorkOrder, op: WorkOrderOperation) -> list[WorkOrderComponent]:
    """The components used at this operation — as `work_orders` stages them: the named operation, else the first."""
    ops = sorted(wo.operations, key=lambda o: o.sequence)
    if not ops:
        return []
    sequences = {o.sequence for o in ops}
    first = ops[0]
    return [c for c in wo.components if not c.is_byproduct and (
        c.operation_sequence == op.sequence
        or ((c.operation_sequence is None or c.operation_sequence not in sequences) and op.id == first.id))]


def _still_needed(comp: WorkOrderComponent) -> Decimal:
    # backflushed units never pass through `issued_qty`, so what was consumed counts as delivered too
    done = max(to_decimal(comp.issued_qty), to_decimal(comp.consumed_qty))
    return max(to_decimal(comp.required_qty) - done, ZERO)


def running_operations(uow: UnitOfWork, work_center_ids: list[int] | None = None) -> list[WorkOrderOperation]:
    stmt = select(WorkOrderOperation).where(WorkOrderOperation.company_id == uow.company_id,
                                            WorkOrderOperation.state == "running")
    if work_center_ids is not None:
        stmt = stmt.where(WorkOrderOperation.work_center_id.in_([int(i) for i in work_center_ids] or [0]))
    return list(uow.session.scalars(stmt.order_by(WorkOrderOperation.actual_start, WorkOrderOperation.id)))


def line_needs(uow: UnitOfWork, work_center_ids: list[int] | None = None) -> list[LineNeed]:
    """Per work center × material used by a running operation: staged quantity and use per minute (reads only)."""
    needs: dict[tuple[int, int], LineNeed] = {}
    for op in running_operations(uow, work_center_ids):
        wo = op.work_order
        run = to_decimal(op.run_minutes)
        if wo.state not in ("released", "in_progress") or run <= 0:
            continue  # without a run time there is no rate to extrapolate from
        for comp in _consumed_at(wo, op):
            if comp.product.product_type == "service":
                continue
            key = (op.work_center_id, comp.product_id)
            need = needs.get(key)
            if need is None:
                need = needs[key] = LineNeed(op.work_center, comp.product_id)
            use = to_decimal(comp.quantity_per_unit) / run
            need.use_per_minute += use
            need.consumers.append(Consumer(op, wo, comp, use, _still_needed(comp)))
    for need in needs.values():
        loc = need.work_center.staging_location_id
        need.staged = inv.on_hand(uow, need.product_id, loc) if loc else ZERO
    return sorted(needs.values(), key=lambda n: (n.work_center.code, n.product_id))


def _round_up(qty: Decimal, product: md.Product) -> Decimal:
    step = to_decimal(product.uom.rounding or 0) if product.uom else ZERO
    if step <= 0:
        return qty.quantize(SIX, rounding=ROUND_CEILING)
    return ((qty / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(SIX)


def _reserved_outside(uow: UnitOfWork, comp_id: int, staging_id: int) -> list[tuple[int, Decimal]]:
    """(location, quantity) the work order holds for the component away from the line, largest first."""
    r = StockReservation
    rows = uow.session.execute(select(r.location_id, func.sum(r.quantity)).where(
        r.company_id == uow.company_id, r.ref_type == wos.COMPONENT_REF, r.ref_id == comp_id, r.state == "active",
        r.location_id != staging_id).group_by(r.location_id)).all()
    return sorted(((loc, to_decimal(q or 0)) for loc, q in rows), key=lambda x: -x[1])


def _source_location(uow: UnitOfWork, comp: WorkOrderComponent, wo: WorkOrder, staging_id: int) -> int | None:
    """Where the warehouse will take it from: the work order's reservation, else the bin with most available."""
    held = _reserved_outside(uow, comp.id, staging_id)
    if held:
        return held[0][0]
    rows, _total = inv.on_hand_rows(uow, warehouse=wo.warehouse_id, product=comp.product_id, limit=200)
    rows = [r for r in rows if r["location_id"] != staging_id and r["available"] > 0]
    return max(rows, key=lambda r: r["available"])["location_id"] if rows else None


def _open_keys(uow: UnitOfWork, work_center_ids: set[int]) -> set[tuple[int, int]]:
    return {(wc, p) for wc, p in uow.session.execute(select(FeedingTask.work_center_id, FeedingTask.product_id).where(
        FeedingTask.company_id == uow.company_id, FeedingTask.state == "open",
        FeedingTask.work_center_id.in_(work_center_ids or {0})))}


def check_feeding(uow: UnitOfWork, work_center_ids: list[int] | None = None,
                  now: dt.datetime | None = None) -> list[FeedingTask]:
    """Open a feeding task for every material that will run out at a line within its alert time and has no
    open task yet. Returns the tasks opened now (none when nothing is short: safe to run any number of times)."""
    now = now or utcnow()
    stmt = select(WorkOrderOperation.work_center_id).where(WorkOrderOperation.company_id == uow.company_id,
                                                           WorkOrderOperation.state == "running").distinct()
    if work_center_ids is not None:
        stmt = stmt.where(WorkOrderOperation.work_center_id.in_([int(i) for i in work_center_ids] or [0]))
    centers = sorted(uow.session.scalars(stmt))
    for wc_id in centers:  # two checks of one line at once (start + report events) must not both open a task,
        uow.get(WorkCenter, wc_id, for_update=True)  # so each line is locked before its stock is read
    needs = line_needs(uow, centers)
    open_keys = _open_keys(uow, set(centers))
    created = []
    for need in needs:
        wc = need.work_center
        left = need.minutes_left
        if left is None or left >= Decimal(wc.feeding_alert_minutes or 0):
            continue
        if (wc.id, need.product_id) in open_keys:
            continue
        consumer = next((c for c in need.consumers if c.still_needed > 0), None)
        if consumer is None:
            continue  # every order using it has all it needs at the line already
        wo, comp = consumer.work_order, consumer.component
        want = _round_up(need.use_per_minute * Decimal(wc.feeding_cover_minutes or 0), comp.product)
        qty = min(want, consumer.still_needed)
        if qty <= 0:
            continue
        staging = wos.staging_location(uow, wc, uow.get(md.Warehouse, wo.warehouse_id))
        task = uow.add(FeedingTask(
            number=next_number(uow, "MES_FEED"), work_center_id=wc.id, work_order_id=wo.id,
            product_id=need.product_id, quantity=qty, source_location_id=_source_location(uow, comp, wo, staging),
            dest_location_id=staging, minutes_left=left, state="open",
            run_out_at=now + dt.timedelta(minutes=float(left))))
        uow.flush()
        open_keys.add((wc.id, need.product_id))
        created.append(task)
        uow.emit("mes.feeding_requested", task_id=task.id, number=task.number, work_center_id=wc.id,
                 work_order_id=wo.id, product_id=need.product_id, quantity=str(qty), minutes_left=str(left))
    return created


# ------------------------------------------------------------------ the warehouse's side
def get_task(uow: UnitOfWork, task_id: int, *, for_update: bool = False) -> FeedingTask:
    return uow.get(FeedingTask, task_id, for_update=for_update)


def _component_for(wo: WorkOrder, product_id: int) -> WorkOrderComponent:
    comps = [c for c in wo.components if c.product_id == product_id and not c.is_byproduct]
    if not comps:
        raise Conflict(_("工单 {n} 不再使用该物料，请取消此上料任务", n=wo.number), field="state")
    return next((c for c in comps if _still_needed(c) > 0), comps[0])


def complete_feeding_task(uow: UnitOfWork, task_id: int, quantity: Any = None) -> FeedingTask:
    """完成上料: the warehouse brought the material to the line. Issues it to the work order (bin → staging,
    still reserved for it), reserving first what is not yet reserved. `quantity` when it differs from the
    task's. On a shortage nothing changes."""
    uow.actor.require(FEED_PERMISSION)
    task = get_task(uow, task_id, for_update=True)
    if task.state != "open":
        raise Conflict(_("上料任务 {n} {state}", n=task.number, state=state_label(task.state)), field="state")
    if not task.work_order_id:
        raise Conflict(_("上料任务 {n} 没有关联工单", n=task.number), field="state")
    wo = wos.get_work_order(uow, task.work_order_id, for_update=True)
    if wo.state not in ("released", "in_progress"):
        raise Conflict(_("工单 {n} {state}，请取消此上料任务", n=wo.number, state=wos.state_label(wo.state)),
                       field="state")
    comp = _component_for(wo, task.product_id)
    qty = to_decimal(task.quantity) if quantity in (None, "") else wos._qty(quantity, "quantity", _("上料数量"))
    with uow.session.begin_nested():  # a shortage leaves no reservation behind, whoever catches the error
        held = sum((q for _loc, q in _reserved_outside(uow, comp.id, task.dest_location_id)), ZERO)
        if held < qty:
            wos.reserve_materials(uow, wo.id)
            held = sum((q for _loc, q in _reserved_outside(uow, comp.id, task.dest_location_id)), ZERO)
        if held < qty:
            raise InsufficientStock(_(
                "{sku} 库存不足：上料需要 {need}，工单 {n} 在仓库可领 {have}（请先补货或改小上料数量）",
                sku=comp.product.sku, need=_fmt(qty), n=wo.number, have=_fmt(held)), field="quantity")
        move_ids = wos.issue_materials(uow, wo.id, {comp.id: qty})
    first = uow.session.get(StockMove, move_ids[0]) if move_ids else None
    task.state, task.quantity = "done", qty
    task.done_at, task.done_by_id = utcnow(), uow.actor.user_id
    task.move_id = first.id if first else None
    if first is not None:
        task.source_location_id = first.source_location_id  # where it really came from
    uow.flush()
    uow.emit("mes.feeding_done", task_id=task.id, number=task.number, work_center_id=task.work_center_id,
             work_order_id=wo.id, product_id=task.product_id, quantity=str(qty))
    return task


def cancel_feeding_task(uow: UnitOfWork, task_id: int, reason: str | None = None) -> FeedingTask:
    """取消 an open task (the order finished, the line changed over); the next check may raise a new one."""
    uow.actor.require(FEED_PERMISSION)
    task = get_task(uow, task_id, for_update=True)
    if task.state != "open":
        raise Conflict(_("上料任务 {n} {state}", n=task.number, state=state_label(task.state)), field="state")
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationFailed(_("原因最多 200 个字符"), field="reason")
    task.state, task.cancel_reason = "cancelled", reason or None
    task.done_at, task.done_by_id = utcnow(), uow.actor.user_id
    uow.flush()
    uow.emit("mes.feeding_cancelled", task_id=task.id, number=task.number, work_center_id=task.work_center_id)
    return task


# ------------------------------------------------------------------ queries
def list_tasks(uow: UnitOfWork, *, state: str | None = None, work_center_id: int | None = None,
               q: str | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None,
               limit: int = 50, offset: int = 0) -> tuple[list[FeedingTask], int]:
    """Tasks, open ones by run-out time (most urgent first), others newest first."""
    from .quality import _utc_bounds

    t, p = FeedingTask, md.Product
    stmt = (select(t).join(p, p.id == t.product_id).outerjoin(WorkOrder, WorkOrder.id == t.work_order_id)
            .where(t.company_id == uow.company_id))
    if state:
        if state not in STATE_LABELS:
            raise ValidationFailed(_("状态无效：{value}", value=state[:20]), field="state")
        stmt = stmt.where(t.state == state)
    if work_center_id:
        stmt = stmt.where(t.work_center_id == work_center_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(t.number.ilike(like), p.sku.ilike(like), p.name.ilike(like),
                              WorkOrder.number.ilike(like)))
    start, end = _utc_bounds(uow, date_from, date_to)
    if start:
        stmt = stmt.where(t.created_at >= start)
    if end:
        stmt = stmt.where(t.created_at < end)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    order = (t.run_out_at, t.id) if state == "open" else (t.id.desc(),)
    items = list(uow.session.scalars(stmt.order_by(*order).limit(max(1, min(limit, 100000)))
                                     .offset(max(0, offset))))
    return items, total


def tasks_to_dicts(uow: UnitOfWork, tasks: list[FeedingTask], now: dt.datetime | None = None) -> list[dict]:
    if not tasks:
        return []
    from opensupply.core.auth import User

    now = now or utcnow()

    def by_id(model, ids, *cols):
        ids = {i for i in ids if i}
        return {r[0]: r for r in uow.session.execute(select(model.id, *cols).where(model.id.in_(ids or {0})))}

    prods = by_id(md.Product, {t.product_id for t in tasks}, md.Product.sku, md.Product.name, md.Product.uom_id)
    uoms = dict(uow.session.execute(select(md.Uom.id, md.Uom.code)).all())
    locs = by_id(md.Location, {t.source_location_id for t in tasks} | {t.dest_location_id for t in tasks},
                 md.Location.full_code, md.Location.code, md.Location.name)
    wcs = by_id(WorkCenter, {t.work_center_id for t in tasks}, WorkCenter.code, WorkCenter.name)
    orders = by_id(WorkOrder, {t.work_order_id for t in tasks}, WorkOrder.number)
    users = by_id(User, {t.done_by_id for t in tasks}, User.username)
    out = []
    for t in tasks:
        src, dst = locs.get(t.source_location_id), locs.get(t.dest_location_id)
        minutes_to_run_out = None
        if t.state == "open" and t.run_out_at:
            minutes_to_run_out = int((t.run_out_at - now).total_seconds() // 60)
        out.append({
            "id": t.id, "number": t.number, "state": t.state, "state_label": state_label(t.state),
            "work_center_id": t.work_center_id, "work_center": wcs[t.work_center_id][1],
            "work_center_name": wcs[t.work_center_id][2], "work_order_id": t.work_order_id,
            "work_order": orders[t.work_order_id][1] if t.work_order_id in orders else None,
            "product_id": t.product_id, "sku": prods[t.product_id][1], "product_name": prods[t.product_id][2],
            "uom": uoms.get(prods[t.product_id][3]), "quantity": _fmt(t.quantity),
            "source_location_id": t.source_location_id, "source": src[1] if src else None,
            "source_code": src[2] if src else None, "dest_location_id": t.dest_location_id,
            "dest": dst[1] if dst else None, "dest_name": dst[3] if dst else None,
            "minutes_left": _fmt(to_decimal(t.minutes_left).quantize(Decimal("0.1"))) if t.minutes_left is not None
            else None,
            "run_out_at": t.run_out_at.isoformat() if t.run_out_at else None,
            "minutes_to_run_out": minutes_to_run_out,
            "overdue": minutes_to_run_out is not None and minutes_to_run_out < 0,
            "created_at": t.created_at.isoformat() if t.created_at else None,
            "done_at": t.done_at.isoformat() if t.done_at else None,
            "done_by": users[t.done_by_id][1] if t.done_by_id in users else None,
            "cancel_reason": t.cancel_reason, "move_id": t.move_id,
        })
    return out


def level(minutes_left: Decimal | None, alert_minutes: int) -> str:
    """Colour of a line's material: `danger` below the alert time, `warn` below twice it, else `ok`."""
    if minutes_left is None:
        return "idle"
    alert = Decimal(alert_minutes or 0)
    if minutes_left < alert:
        return "danger"
    if minutes_left < alert * 2:
        return "warn"
    return "ok"


def feeding_board(uow: UnitOfWork, work_center_ids: list[int] | None = None, now: dt.datetime | None = None
                  ) -> list[dict]:
    """The line board: per work center its running operations, each material's staged quantity, use per hour,
    minutes left (with a colour) and the open tasks. Work centers with nothing running or open are left out."""
    now = now or utcnow()
    needs = line_needs(uow, work_center_ids)
    stmt = select(FeedingTask).where(FeedingTask.company_id == uow.company_id, FeedingTask.state == "open")
    if work_center_ids is not None:
        stmt = stmt.where(FeedingTask.work_center_id.in_([int(i) for i in work_center_ids] or [0]))
    open_tasks = tasks_to_dicts(uow, list(uow.session.scalars(stmt.order_by(FeedingTask.run_out_at))), now)
    tasks_by_wc: dict[int, list[dict]] = defaultdict(list)
    for t in open_tasks:
        tasks_by_wc[t["work_center_id"]].append(t)
    ops = running_operations(uow, work_center_ids)
    wc_ids = {n.work_center.id for n in needs} | set(tasks_by_wc) | {o.work_center_id for o in ops}
    centers = {wc.id: wc for wc in uow.session.scalars(select(WorkCenter).where(WorkCenter.id.in_(wc_ids or {0})))}
    products = {p.id: p for p in uow.session.scalars(select(md.Product).where(
        md.Product.id.in_({n.product_id for n in needs} or {0})))}
    staging_codes = dict(uow.session.execute(select(md.Location.id, md.Location.full_code).where(
        md.Location.id.in_({wc.staging_location_id for wc in centers.values() if wc.staging_location_id} or {0})))
        .all())
    board = []
    for wc in sorted(centers.values(), key=lambda w: w.code):
        open_by_product = {t["product_id"]: t for t in tasks_by_wc.get(wc.id, [])}
        lines = []
        for n in (x for x in needs if x.work_center.id == wc.id):
            prod = products[n.product_id]
            left = n.minutes_left
            lines.append({
                "product_id": prod.id, "sku": prod.sku, "product_name": prod.name, "uom": prod.uom.code,
                "staged": _fmt(n.staged), "use_per_hour": _fmt((n.use_per_minute * 60).quantize(Decimal("0.01"))),
                "minutes_left": _fmt(left.quantize(Decimal("0.1"))) if left is not None else None,
                "run_out_at": (now + dt.timedelta(minutes=float(left))).isoformat() if left is not None else None,
                "level": level(left, wc.feeding_alert_minutes),
                "work_orders": sorted({c.work_order.number for c in n.consumers}),
                "open_task": open_by_product.get(prod.id)})
        lines.sort(key=lambda ln: (ln["minutes_left"] is None, to_decimal(ln["minutes_left"] or 0)))
        board.append({
            "id": wc.id, "code": wc.code, "name": wc.name, "alert_minutes": wc.feeding_alert_minutes,
            "cover_minutes": wc.feeding_cover_minutes, "staging": staging_codes.get(wc.staging_location_id),
            "operations": [{"id": o.id, "work_order_id": o.work_order_id, "work_order": o.work_order.number,
                            "sku": o.work_order.product.sku, "product_name": o.work_order.product.name,
                            "sequence": o.sequence, "name": o.name,
                            "started_at": o.actual_start.isoformat() if o.actual_start else None,
                            "qty_good": _fmt(o.qty_good), "quantity": _fmt(o.work_order.quantity)}
                           for o in ops if o.work_center_id == wc.id],
            "lines": lines, "open_tasks": tasks_by_wc.get(wc.id, []),
            "worst": next((ln["level"] for ln in lines if ln["level"] in ("danger", "warn")), "ok"),
        })
    return board


EXPORT_HEADER = (_l("上料单号"), _l("状态"), _l("工作中心"), _l("工单"), _l("商品编码"), _l("商品"), _l("数量"),
                 _l("单位"), _l("来源库位"), _l("线边库位"), _l("剩余分钟"), _l("预计断料"), _l("创建时间"),
                 _l("完成/取消时间"), _l("操作人"), _l("取消原因"))


def export_rows(uow: UnitOfWork, **filters) -> tuple[list[str], list[list]]:
    from opensupply.core.i18n import format_datetime

    def when(value):
        return format_datetime(dt.datetime.fromisoformat(value)) if value else ""

    items, _total = list_tasks(uow, limit=100000, **filters)
    rows = [[d["number"], d["state_label"], d["work_center"], d["work_order"] or "", d["sku"], d["product_name"],
             d["quantity"], d["uom"] or "", d["source"] or "", d["dest"] or "", d["minutes_left"] or "",
             when(d["run_out_at"]), when(d["created_at"]), when(d["done_at"]), d["done_by"] or "",
             d["cancel_reason"] or ""] for d in tasks_to_dicts(uow, items)]
    return [str(h) for h in EXPORT_HEADER], rows


# ------------------------------------------------------------------ triggers
@subscribe("mes.operation_started", "mes.feeding.on_operation_started")
def on_operation_started(uow: UnitOfWork, event: Event) -> None:
    """A line started an operation: its materials may already be short."""
    wc = event.payload.get("work_center_id")
    check_feeding(uow, [int(wc)] if wc else None)


@subscribe("mes.operation_reported", "mes.feeding.on_operation_reported")
def on_operation_reported(uow: UnitOfWork, event: Event) -> None:
    """Units came off the line, so staged material went down (backflush consumes on completion)."""
    wc = event.payload.get("work_center_id")
    check_feeding(uow, [int(wc)] if wc else None)


@job("mes.check_feeding")
def check_feeding_job(ctx: JobContext) -> dict:
    """The periodic sweep (params: {"work_center_ids": [...]} optional): lines run down between scans too."""
    ids = ctx.params.get("work_center_ids")
    with ctx.uow() as uow:
        tasks = check_feeding(uow, [int(i) for i in ids] if ids else None)
        return {"created": len(tasks), "tasks": [t.number for t in tasks]}


__all__ = ["cancel_feeding_task", "check_feeding", "complete_feeding_task", "feeding_board", "line_needs",
           "list_tasks", "tasks_to_dicts"]
