"""Putaway: where received goods go, and confirming that they went there.

The rules are pure functions over plain data (`BinState`, `Item`), so they can be tested and
reasoned about without a database; `load_bins` / `suggest_for` read that data, and
`confirm_putaway` is the scan that moves the stock.

Rules, in order (`suggest`):

1. **fixed bin** — a bin whose fixed product (固定库位) is the SKU;
2. **same SKU nearby** — bins already holding the SKU, nearest to the dock first;
3. **nearest empty fitting bin** — for a fast mover (class A by pick velocity over 30 days) the
   nearest empty bins of the near-dispatch distance class first; slower movers leave those for
   the fast ones and take the nearest empty bins of the other classes first;
4. anything else with room, nearest first.

A bin takes at most its room (`room_for`: the tightest of units, volume and weight capacities,
none for a blocked or inactive bin or a fixed bin of another product); a quantity that does not
fit one bin is split over several. Only storage bins (pick, reserve, bulk) take putaways.

Confirming a putaway (scan the bin, then the quantity) may go to another bin than suggested if
it fits — the reply carries a warning — but never beyond capacity: the bin row is locked and
its room checked against the ledger in the same transaction (Conflict otherwise).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import func, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockMove, StockQuant
from opensupply.masterdata import models as md

from . import bins as wms_bins
from .models import WmsBin, WmsTask

ZERO = Decimal(0)
STORAGE_TYPES = ("pick", "reserve", "bulk")
RULE_LABELS = {"fixed": _l("固定库位"), "same_sku": _l("同 SKU 就近"), "empty_near": _l("最近空库位"),
               "fast_mover": _l("快动销近发货区"), "any": _l("有空间的库位")}


# ------------------------------------------------------------------ plain data
@dataclass(frozen=True)
class BinState:
    id: int
    code: str
    location_id: int = 0
    bin_type: str = "pick"
    distance: float = 0.0  # walking metres from the dock / dispatch
    distance_class: str = "C"  # A near dispatch … C far
    capacity_units: Decimal | None = None
    capacity_volume_m3: Decimal | None = None
    capacity_weight_kg: Decimal | None = None
    fixed_product_id: int | None = None
    blocked: bool = False
    active: bool = True
    units: Decimal = ZERO  # on hand now
    volume: Decimal = ZERO
    weight: Decimal = ZERO
    products: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Item:
    product_id: int
    volume_m3: Decimal | None = None
    weight_kg: Decimal | None = None
    velocity_class: str | None = None  # A fast … C slow (None: unknown, treated as C)


@dataclass(frozen=True)
class Suggestion:
    bin_id: int
    code: str
    quantity: Decimal
    rule: str

    @property
    def rule_label(self) -> str:
        return str(RULE_LABELS.get(self.rule, self.rule))


def room_for(b: BinState, item: Item) -> Decimal | None:
    """Units of `item` that still fit in `b` (None = no limit), same arithmetic as
    `bins.capacity_left`."""
    if b.blocked or not b.active:
        return ZERO
    if b.fixed_product_id is not None and b.fixed_product_id != item.product_id:
        return ZERO
    limits = []
    if b.capacity_units is not None:
        limits.append(Decimal(b.capacity_units) - b.units)
    if b.capacity_volume_m3 is not None and item.volume_m3:
        limits.append(((Decimal(b.capacity_volume_m3) - b.volume) / Decimal(item.volume_m3))
                      .to_integral_value(rounding=ROUND_FLOOR))
    if b.capacity_weight_kg is not None and item.weight_kg:
        limits.append(((Decimal(b.capacity_weight_kg) - b.weight) / Decimal(item.weight_kg))
                      .to_integral_value(rounding=ROUND_FLOOR))
    if not limits:
        return None
    return max(min(limits), ZERO)


def after_putaway(b: BinState, item: Item, qty: Decimal) -> BinState:
    """The bin once `qty` of `item` is in it."""
    return replace(b, units=b.units + qty, volume=b.volume + qty * Decimal(item.volume_m3 or 0),
                   weight=b.weight + qty * Decimal(item.weight_kg or 0), products=b.products | {item.product_id})


def distance_classes(distances: dict[int, float], *, a_share: float = 0.2, b_share: float = 0.3) -> dict[int, str]:
    """Bins ranked by distance from dispatch: nearest `a_share` → A, next `b_share` → B, rest C."""
    ranked = sorted(distances, key=lambda i: (distances[i], i))
    n = len(ranked)
    a_end, b_end = math.ceil(n * a_share), math.ceil(n * (a_share + b_share))
    return {bid: ("A" if i < a_end else "B" if i < b_end else "C") for i, bid in enumerate(ranked)}


def abc_classes(velocity: dict[int, float], *, a_cut: float = 0.8, b_cut: float = 0.95) -> dict[int, str]:
    """Pareto ABC by pick velocity: the products making the first 80 % of picks are A, the next 15 %
    B, the rest (and anything never picked) C."""
    total = sum(v for v in velocity.values() if v > 0)
    out = {pid: "C" for pid in velocity}
    if total <= 0:
        return out
    running = 0.0
    for pid in sorted((p for p, v in velocity.items() if v > 0), key=lambda p: (-velocity[p], p)):
        share_before = running / total
        running += velocity[pid]
        out[pid] = "A" if share_before < a_cut else "B" if share_before < b_cut else "C"
    return out


def _ranked(bins: list[BinState], item: Item) -> list[tuple[str, BinState]]:
    """Candidate bins in rule order, each once, tagged with the rule that picked it."""
    storage = [b for b in bins if b.bin_type in STORAGE_TYPES]
    near = sorted(storage, key=lambda b: (b.distance, b.code))
    order: list[tuple[str, BinState]] = []
    seen: set[int] = set()

    def take(rule: str, candidates: Iterable[BinState]) -> None:
        for b in candidates:
            if b.id not in seen:
                seen.add(b.id)
                order.append((rule, b))

    take("fixed", (b for b in near if b.fixed_product_id == item.product_id))
    take("same_sku", (b for b in near if item.product_id in b.products))
    empty = [b for b in near if b.units <= 0 and not b.products and b.fixed_product_id is None]
    if (item.velocity_class or "C") == "A":
        take("fast_mover", (b for b in empty if b.distance_class == "A"))
        take("empty_near", empty)
    else:  # leave the near-dispatch bins to the fast movers while others are free
        take("empty_near", (b for b in empty if b.distance_class != "A"))
        take("empty_near", empty)
    take("any", (b for b in near if b.fixed_product_id in (None, item.product_id)))
    return order


def suggest(bins: list[BinState], item: Item, quantity: Decimal, *, limit_bins: int = 10) -> list[Suggestion]:
    """Where to put `quantity` of `item`: a plan over at most `limit_bins` bins that never exceeds
    any bin's room. The plan may cover less than `quantity` when the warehouse is full."""
    left = Decimal(quantity)
    plan: list[Suggestion] = []
    for rule, b in _ranked(bins, item):
        if left <= 0 or len(plan) >= limit_bins:
            break
        room = room_for(b, item)
        take = left if room is None else min(left, room)
        if take <= 0:
            continue
        plan.append(Suggestion(b.id, b.code, take, rule))
        left -= take
    return plan


# ------------------------------------------------------------------ loading the data
def _distances(uow: UnitOfWork, warehouse_id: int, rows: list[WmsBin]) -> dict[int, float]:
    """Walking distance from the depot (dispatch / receiving) to each bin, per zone geometry when
    the zone has a layout, else rectilinear from the depot."""
    geos: dict[str | None, object] = {}
    out = {}
    for b in rows:
        if b.zone not in geos:
            try:
                geos[b.zone] = wms_bins.geometry_for(uow, warehouse_id, b.zone)
            except (NotFound, ValidationFailed):
                geos[b.zone] = None
        geo = geos[b.zone]
        try:
            out[b.id] = geo.distance(geo.depot, (b.x, b.y)) if geo is not None else abs(b.x) + abs(b.y)
        except (ValidationFailed, ValueError, IndexError, StopIteration):
            out[b.id] = abs(b.x) + abs(b.y)
    return out


def load_bins(uow: UnitOfWork, warehouse_id: int, *, bin_ids: Iterable[int] | None = None,
              storage_only: bool = True) -> list[BinState]:
    """The warehouse's bins with what they hold now (units, volume, weight, products)."""
    stmt = select(WmsBin).where(WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == warehouse_id)
    if storage_only:
        stmt = stmt.where(WmsBin.bin_type.in_(STORAGE_TYPES))
    if bin_ids is not None:
        stmt = stmt.where(WmsBin.id.in_(list(bin_ids)))
    rows = list(uow.session.scalars(stmt))
    if not rows:
        return []
    by_loc = {b.location_id: b for b in rows}
    units: dict[int, Decimal] = defaultdict(lambda: ZERO)
    volume: dict[int, Decimal] = defaultdict(lambda: ZERO)
    weight: dict[int, Decimal] = defaultdict(lambda: ZERO)
    products: dict[int, set[int]] = defaultdict(set)
    locs = list(by_loc)
    for i in range(0, len(locs), 900):
        for loc, pid, qty, vol, wt in uow.session.execute(
                select(StockQuant.location_id, StockQuant.product_id, func.sum(StockQuant.quantity),
                       md.Product.volume_m3, md.Product.weight_kg)
                .join(md.Product, md.Product.id == StockQuant.product_id)
                .where(StockQuant.company_id == uow.company_id, StockQuant.location_id.in_(locs[i:i + 900]))
                .group_by(StockQuant.location_id, StockQuant.product_id, md.Product.volume_m3, md.Product.weight_kg)):
            qty = Decimal(qty or 0)
            if qty == 0:
                continue
            units[loc] += qty
            volume[loc] += qty * Decimal(vol or 0)
            weight[loc] += qty * Decimal(wt or 0)
            products[loc].add(pid)
    dist = _distances(uow, warehouse_id, rows)
    classes = distance_classes(dist)
    return [BinState(id=b.id, code=b.code, location_id=b.location_id, bin_type=b.bin_type, distance=dist[b.id],
                     distance_class=b.abc_class or classes[b.id], capacity_units=b.capacity_units,
                     capacity_volume_m3=b.capacity_volume_m3, capacity_weight_kg=b.capacity_weight_kg,
                     fixed_product_id=b.fixed_product_id, blocked=b.blocked, active=b.active,
                     units=units[b.location_id], volume=volume[b.location_id], weight=weight[b.location_id],
                     products=frozenset(products[b.location_id])) for b in rows]


def pick_velocity(uow: UnitOfWork, warehouse_id: int, *, days: int = 30) -> dict[int, float]:
    """Units per product that left the warehouse to customers over the last `days` days — what
    was picked and shipped (a unit picked to the pack station counts once, when it ships)."""
    since = utcnow() - dt.timedelta(days=days)
    internal = select(md.Location.id).where(md.Location.company_id == uow.company_id,
                                            md.Location.warehouse_id == warehouse_id)
    customer = select(md.Location.id).where(md.Location.company_id == uow.company_id,
                                            md.Location.usage == "customer")
    rows = uow.session.execute(
        select(StockMove.product_id, func.sum(StockMove.quantity)).where(
            StockMove.company_id == uow.company_id, StockMove.state == "done", StockMove.date_done >= since,
            StockMove.source_location_id.in_(internal), StockMove.dest_location_id.in_(customer))
        .group_by(StockMove.product_id))
    return {pid: float(q or 0) for pid, q in rows}


def velocity_class(uow: UnitOfWork, warehouse_id: int, product_id: int, *, days: int = 30) -> str:
    return abc_classes(pick_velocity(uow, warehouse_id, days=days)).get(product_id, "C")


def item_for(uow: UnitOfWork, warehouse_id: int, product_id: int) -> Item:
    p = uow.get(md.Product, product_id)
    return Item(p.id, p.volume_m3, p.weight_kg, velocity_class(uow, warehouse_id, p.id))


def suggest_for(uow: UnitOfWork, warehouse_id: int, product_id: int, quantity: Decimal) -> list[Suggestion]:
    """Putaway plan for `quantity` of a product in a warehouse, from the bins as they are now."""
    return suggest(load_bins(uow, warehouse_id), item_for(uow, warehouse_id, product_id), Decimal(quantity))


# ------------------------------------------------------------------ tasks
def create_putaway_tasks(uow: UnitOfWork, warehouse_id: int, source_location_id: int,
                         lines: list[tuple[int, Decimal, int | None]], *, reference: str | None = None,
                         ref_type: str | None = None, ref_id: int | None = None) -> list[WmsTask]:
    """Putaway tasks for goods waiting at `source_location_id` (dock or QC): one per suggested
    bin of each (product, quantity, lot) line; what no bin has room for gets a task without a
    destination (the operator scans a bin with room)."""
    bins_now = load_bins(uow, warehouse_id)
    by_id = {b.id: b for b in bins_now}
    velocity = abc_classes(pick_velocity(uow, warehouse_id))
    tasks = []
    for product_id, qty, lot_id in lines:
        p = uow.get(md.Product, product_id)
        item = Item(p.id, p.volume_m3, p.weight_kg, velocity.get(p.id, "C"))
        plan = suggest(list(by_id.values()), item, Decimal(qty))
        planned = ZERO
        for s in plan:
            b = by_id[s.bin_id]
            by_id[s.bin_id] = after_putaway(b, item, s.quantity)  # the next line sees the bin as planned
            tasks.append(WmsTask(kind="putaway", state="open", warehouse_id=warehouse_id, product_id=p.id,
                                 lot_id=lot_id, quantity=s.quantity, source_location_id=source_location_id,
                                 dest_location_id=b.location_id, reference=reference, ref_type=ref_type,
                                 ref_id=ref_id, note=str(RULE_LABELS.get(s.rule, s.rule))))
            planned += s.quantity
        if planned < Decimal(qty):
            tasks.append(WmsTask(kind="putaway", state="open", warehouse_id=warehouse_id, product_id=p.id,
                                 lot_id=lot_id, quantity=Decimal(qty) - planned, source_location_id=source_location_id,
                                 dest_location_id=None, reference=reference, ref_type=ref_type, ref_id=ref_id,
                                 note=_("没有合适的空库位")))
    for t in tasks:
        uow.add(t)
    uow.flush()
    return tasks


@dataclass
class PutawayResult:
    task: WmsTask
    bin_code: str
    quantity: Decimal
    warning: str | None
    move_id: int


def check_room(uow: UnitOfWork, target: WmsBin, product: md.Product, qty: Decimal, *, field: str = "bin") -> None:
    """Refuse a bin that cannot take `qty` of `product`: blocked or inactive, another SKU's fixed bin,
    or not enough room (units, volume or weight). Call with the bin row locked."""
    if target.blocked or not target.active:
        raise Conflict(_("库位 {code} 已锁定或停用", code=target.code), field=field, code="bin_blocked")
    if target.fixed_product_id is not None and target.fixed_product_id != product.id:
        owner = uow.get(md.Product, target.fixed_product_id)
        raise Conflict(_("库位 {code} 是 {sku} 的固定库位，不能放 {other}", code=target.code, sku=owner.sku,
                         other=product.sku), field=field, code="fixed_bin")
    room = wms_bins.capacity_left(uow, target.id, product.id)
    if room is not None and qty > room:
        raise Conflict(_("库位 {code} 容量不足：还能放 {room} 件 {sku}，本次 {qty} 件",
                         code=target.code, room=inv.fmt_qty(room), sku=product.sku, qty=inv.fmt_qty(qty)),
                       field=field, code="capacity")


def _bin_of_location(uow: UnitOfWork, location_id: int | None) -> WmsBin | None:
    if location_id is None:
        return None
    return uow.session.scalar(select(WmsBin).where(WmsBin.company_id == uow.company_id,
                                                   WmsBin.location_id == location_id))


def confirm_putaway(uow: UnitOfWork, task_id: int, bin_code: str, quantity: Decimal | None = None, *,
                    item_code: str | None = None) -> PutawayResult:
    """Put (part of) a putaway task's goods into the scanned bin: moves stock source → bin.
    Another bin than the suggested one is accepted when it fits (with a warning); a bin without
    room for the quantity is refused (Conflict) — capacity is never exceeded."""
    from . import pda

    task = uow.get(WmsTask, task_id, for_update=True)
    if task.kind != "putaway":
        raise ValidationFailed(_("任务 #{id} 不是上架任务", id=task.id))
    if task.state not in ("open", "assigned"):
        raise Conflict(_("上架任务 #{id} 已完成或已取消", id=task.id), field="state")
    product = uow.get(md.Product, task.product_id)
    if item_code:
        pda.expect_product(uow, item_code, product)
    remaining = Decimal(task.quantity) - Decimal(task.qty_done or 0)
    qty = remaining if quantity is None else Decimal(quantity)
    if qty <= 0:
        raise ValidationFailed(_("数量必须大于 0"), field="qty")
    if qty > remaining:
        raise ValidationFailed(_("上架数量 {qty} 超过任务剩余数量 {left}", qty=inv.fmt_qty(qty),
                                 left=inv.fmt_qty(remaining)), field="qty")
    target = wms_bins.bin_by_code(uow, task.warehouse_id, bin_code)
    target = uow.get(WmsBin, target.id, for_update=True)  # two scanners, one bin: the second waits
    if target.bin_type not in STORAGE_TYPES:
        raise ValidationFailed(_("库位 {code} 不是存储库位，不能上架", code=target.code), field="bin")
    if target.location_id == task.source_location_id:
        raise ValidationFailed(_("目标库位与来源库位相同：{code}", code=target.code), field="bin")
    check_room(uow, target, product, qty, field="bin")
    warning = None
    suggested = _bin_of_location(uow, task.dest_location_id)
    if suggested is not None and suggested.id != target.id:
        warning = _("已放入 {code}（建议库位为 {suggested}）", code=target.code, suggested=suggested.code)
    move_id = inv.move(uow, product.id, qty, task.source_location_id, target.location_id, lot_id=task.lot_id,
                       ref_type="wms.task", ref_id=task.id, reference=task.reference)
    task.qty_done = Decimal(task.qty_done or 0) + qty
    task.move_ids = [*(task.move_ids or []), move_id]
    task.done_by_id = uow.actor.user_id
    task.started_at = task.started_at or utcnow()
    if task.qty_done >= task.quantity:
        task.state, task.done_at = "done", utcnow()
    if suggested is None or suggested.id != target.id:
        task.dest_location_id = target.location_id if task.state == "done" else task.dest_location_id
    uow.flush()
    uow.emit("wms.putaway_done", task_id=task.id, product_id=product.id, quantity=str(qty),
             location_id=target.location_id, warehouse_id=task.warehouse_id)
    return PutawayResult(task, target.code, qty, warning, move_id)


def open_putaways(uow: UnitOfWork, warehouse_id: int | None = None, *, limit: int = 200) -> list[WmsTask]:
    stmt = select(WmsTask).where(WmsTask.company_id == uow.company_id, WmsTask.kind == "putaway",
                                 WmsTask.state.in_(("open", "assigned")))
    if warehouse_id:
        stmt = stmt.where(WmsTask.warehouse_id == warehouse_id)
    return list(uow.session.scalars(stmt.order_by(WmsTask.id).limit(limit)))
