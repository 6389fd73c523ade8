"""The MRP calculation, pure: plain data in, planned orders and pegging out; no database.

Quantities are integers in millionths of a unit (the 6 places of the Qty columns), so netting is exact
and fast. Products are planned once each, in low-level-code order (every parent before its
components), bucket by bucket:

* gross requirements = independent demand + open sales order lines (less what is reserved for them)
  + open work orders' components + dependent demand from the parents' planned orders (exploded at their
  release bucket: parent quantity × per-unit quantity, scrap included, rounded up);
* supply = available stock (on hand − reserved) at bucket 0 and scheduled receipts (open purchase order
  lines, open work orders) in their bucket; safety stock is a demand at bucket 0 that stock covers first;
* demand is matched to supply first in, first out (a receipt only covers demand on or after its bucket);
  what is left uncovered becomes a planned order due in that bucket, sized by the product's lot rule
  (lot-for-lot; fixed quantity: the smallest multiple of it that covers the need; EOQ: at least the EOQ;
  periodic: the net need of N buckets), then raised to the minimum and rounded up to the order multiple;
* release = due date − lead time (days); a release before the start is flagged past due and its
  dependent demand lands in bucket 0.

Every planned order is pegged to the demand elements it covers (a lot-size surplus stays unpegged).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction

SCALE = 1_000_000


@dataclass
class Item:
    product_id: int
    make: bool
    lead_days: int = 0
    lot_rule: str = "lot_for_lot"
    fixed_qty: int = 0
    eoq_qty: int = 0
    poq_periods: int = 1
    min_qty: int = 0
    multiple: int = 0
    safety_stock: int = 0
    components: list[tuple[int, Fraction]] = field(default_factory=list)  # component id, per unit of this


@dataclass
class Problem:
    start: dt.date
    bucket_days: int
    buckets: int
    items: dict[int, Item]
    available: dict[int, int] = field(default_factory=dict)
    receipts: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # product → (bucket, qty)
    # product → (bucket, qty, source kind, source id)
    demands: dict[int, list[tuple[int, int, str, int | None]]] = field(default_factory=dict)


@dataclass
class PlannedOrder:
    index: int
    product_id: int
    kind: str  # purchase | production
    quantity: int
    due_bucket: int
    due_date: dt.date
    release_date: dt.date
    past_due: bool
    level: int


@dataclass
class Result:
    orders: list[PlannedOrder]
    pegging: list[tuple[int, str, int | None, int, int]]  # order index, source kind, source id, qty, bucket
    levels: dict[int, int]


class BomCycle(ValueError):
    def __init__(self, product_ids: list[int]):
        super().__init__(f"BOM cycle among products {product_ids}")
        self.product_ids = product_ids


def low_level_codes(items: dict[int, Item]) -> dict[int, int]:
    """Deepest level at which each product appears (0 = end item); raises BomCycle when the released
    structure loops, naming the products on the loop."""
    indeg: dict[int, int] = dict.fromkeys(items, 0)
    for it in items.values():
        for c, _q in it.components:
            indeg[c] = indeg.get(c, 0) + 1
    level = dict.fromkeys(indeg, 0)
    todo = deque(p for p, n in indeg.items() if n == 0)
    seen = 0
    while todo:
        p = todo.popleft()
        seen += 1
        it = items.get(p)
        if it is None:
            continue
        for c, _q in it.components:
            if level[c] < level[p] + 1:
                level[c] = level[p] + 1
            indeg[c] -= 1
            if indeg[c] == 0:
                todo.append(c)
    if seen < len(indeg):
        raise BomCycle(sorted(p for p, n in indeg.items() if n > 0))
    return level


def lot_size(it: Item, need: int, horizon_need: int) -> int:
    """The order quantity for a net need (`horizon_need`: net need of the POQ periods)."""
    rule = it.lot_rule
    qty = need
    if rule == "fixed" and it.fixed_qty > 0:
        qty = -(-need // it.fixed_qty) * it.fixed_qty
    elif rule == "eoq" and it.eoq_qty > 0:
        qty = max(need, it.eoq_qty)
    elif rule == "poq":
        qty = max(need, horizon_need)
    if it.min_qty and qty < it.min_qty:
        qty = it.min_qty
    if it.multiple > 0:
        qty = -(-qty // it.multiple) * it.multiple
    return qty


def economic_order_quantity(annual_demand, order_cost, holding_cost) -> float:
    """Wilson's EOQ √(2DS/H); 0 when a figure is missing."""
    if not annual_demand or not order_cost or not holding_cost or holding_cost <= 0:
        return 0.0
    return math.sqrt(2 * float(annual_demand) * float(order_cost) / float(holding_cost))


def plan(problem: Problem) -> Result:
    items = problem.items
    levels = low_level_codes(items)
    H, bd, start = problem.buckets, problem.bucket_days, problem.start
    demands = problem.demands
    orders: list[PlannedOrder] = []
    pegging: list[tuple[int, str, int | None, int, int]] = []
    dates = [start + dt.timedelta(days=bd * b) for b in range(H)]
    for pid in sorted(levels, key=levels.__getitem__):
        it = items.get(pid)
        dem = demands.get(pid)
        if it is None or (not dem and not it.safety_stock):
            continue
        dem = sorted(dem or (), key=lambda d: d[0])
        if it.safety_stock:
            dem.insert(0, (0, it.safety_stock, "safety_stock", None))
        avail = problem.available.get(pid, 0)
        incoming = sorted(problem.receipts.get(pid, ()))
        ri = 0
        pool: deque[list] = deque()  # [bucket, remaining, order index or -1 for stock and receipts]
        if avail > 0:
            pool.append([0, avail, -1])
        remaining = [d[1] for d in dem]
        kind = "production" if it.make else "purchase"
        for i, (b, _qty, skind, sref) in enumerate(dem):
            while ri < len(incoming) and incoming[ri][0] <= b:
                pool.append([incoming[ri][0], incoming[ri][1], -1])
                ri += 1
            q = remaining[i]
            while q > 0:
                if not pool:
                    need = q  # the whole uncovered need of this bucket: one order per bucket
                    j = i + 1
                    while j < len(dem) and dem[j][0] == b:
                        need += remaining[j]
                        j += 1
                    horizon_need = 0
                    if it.lot_rule == "poq":
                        end = b + max(it.poq_periods, 1)
                        j = i
                        while j < len(dem) and dem[j][0] < end:
                            horizon_need += remaining[j]
                            j += 1
                        k = ri
                        while k < len(incoming) and incoming[k][0] < end:
                            horizon_need -= incoming[k][1]
                            k += 1
                    size = lot_size(it, need, horizon_need)
                    due = dates[b]
                    release = due - dt.timedelta(days=it.lead_days)
                    idx = len(orders)
                    orders.append(PlannedOrder(idx, pid, kind, size, b, due, release, release < start,
                                               levels[pid]))
                    pool.append([b, size, idx])
                    if it.make and it.components:
                        rb = max(0, (release - start).days // bd)
                        for cid, per in it.components:
                            need = -(-(size * per.numerator) // per.denominator)
                            demands.setdefault(cid, []).append((rb, need, "planned_order", idx))
                s = pool[0]
                take = s[1] if s[1] < q else q
                s[1] -= take
                q -= take
                if s[2] >= 0:
                    pegging.append((s[2], skind, sref, take, b))
                if s[1] == 0:
                    pool.popleft()
            remaining[i] = 0
    return Result(orders, pegging, levels)
