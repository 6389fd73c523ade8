"""What rough-cut capacity planning (ERP production planning, `erp/planning/capacity.py`) reads from MES, as
set-based read functions: the work centers, the minutes each can work per planning period (roster × parallel
units), the routing operations of the released BOM version of many products at once, and the standard minutes
open work orders still need at each work center.

* **Available minutes** of a work center in a period = the minutes its roster works in the period (shift
  windows with the break taken out, `calendar.working_windows`) × its parallel units (`calendar.parallel_units`:
  active machines, or the work center's capacity when it has none). A work center without roster entries in a
  period has no available minutes there.
* **Routing of a product**: the active routing of its released BOM version, else its routing for every version
  (`routings.routing_for`, batched).
* **Open work-order load**: per open operation (pending / running / paused) of a draft, released or in-progress
  work order, the remaining standard minutes (`calendar.remaining_minutes`: setup unless started + run × units
  not reported yet) and the local day it is planned to start (the operation's planned start, else the work
  order's, else its due date; None when it has none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import select

from opensupply.core.types import to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import calendar
from .models import Routing, RoutingOperation, WorkCenter, WorkOrder, WorkOrderOperation
from .work_orders import OPEN_STATES

OPEN_OP_STATES = calendar.OPEN_OP_STATES


def work_centers(uow: UnitOfWork) -> list[dict]:
    """Active work centers, by code: id, code, name."""
    return [{"id": i, "code": c, "name": n} for i, c, n in uow.session.execute(
        select(WorkCenter.id, WorkCenter.code, WorkCenter.name)
        .where(WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True)).order_by(WorkCenter.code))]


def available_minutes(uow: UnitOfWork, work_center_ids: Iterable[int], period_starts: Sequence[dt.date],
                      period_days: int) -> dict[int, list[Decimal]]:
    """Per work center, the minutes it can work in each period [start, start + period_days) of local days:
    rostered minutes (breaks taken out) × parallel units."""
    ids = list(dict.fromkeys(int(i) for i in work_center_ids))
    out: dict[int, list[Decimal]] = {i: [Decimal(0)] * len(period_starts) for i in ids}
    if not ids or not period_starts:
        return out
    tz = calendar.company_tz(uow)

    def bound(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)

    bounds = [(bound(d), bound(d + dt.timedelta(days=period_days))) for d in period_starts]
    windows = calendar.working_windows(uow, ids, bounds[0][0], bounds[-1][1])
    units = calendar.parallel_units(uow, ids)
    for wc_id, intervals in windows.items():
        for k, (lo, hi) in enumerate(bounds):
            secs = calendar.seconds(calendar.clip(intervals, lo, hi))
            out[wc_id][k] = Decimal(secs) / 60 * units[wc_id]
    return out


def routing_operations(uow: UnitOfWork, product_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Per product, the operations of the routing for its released BOM version (else its routing for every
    version): sequence, name, work_center_id, setup_minutes (once per order), run_minutes (per unit).
    Products without a routing are left out. Three queries whatever the number of products."""
    ids = list(dict.fromkeys(int(i) for i in product_ids))
    if not ids:
        return {}
    released = dict(uow.session.execute(select(md.Bom.product_id, md.Bom.id).where(
        md.Bom.company_id == uow.company_id, md.Bom.state == "released", md.Bom.product_id.in_(ids))).all())
    chosen: dict[int, int] = {}
    generic: dict[int, int] = {}
    for rid, pid, bom_id in uow.session.execute(
            select(Routing.id, Routing.product_id, Routing.bom_id)
            .where(Routing.company_id == uow.company_id, Routing.active.is_(True), Routing.product_id.in_(ids))
            .order_by(Routing.id)):  # the newest wins, as in routings.routing_for
        if bom_id is None:
            generic[pid] = rid
        elif bom_id == released.get(pid):
            chosen[pid] = rid
    for pid, rid in generic.items():
        chosen.setdefault(pid, rid)
    by_routing: dict[int, list[dict]] = {}
    if chosen:
        for op in uow.session.execute(
                select(RoutingOperation.routing_id, RoutingOperation.sequence, RoutingOperation.name,
                       RoutingOperation.work_center_id, RoutingOperation.setup_minutes, RoutingOperation.run_minutes)
                .where(RoutingOperation.routing_id.in_(set(chosen.values())))
                .order_by(RoutingOperation.routing_id, RoutingOperation.sequence, RoutingOperation.id)):
            by_routing.setdefault(op.routing_id, []).append(
                {"sequence": op.sequence, "name": op.name, "work_center_id": op.work_center_id,
                 "setup_minutes": to_decimal(op.setup_minutes or 0), "run_minutes": to_decimal(op.run_minutes or 0)})
    return {pid: by_routing[rid] for pid, rid in chosen.items() if rid in by_routing}


def _local_day(moment: dt.datetime | None, tz) -> dt.date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(tz).date()


def open_operation_load(uow: UnitOfWork) -> list[dict]:
    """Remaining standard minutes of every open operation of an open work order, one query: work_order_id,
    number, product_id, state, operation (sequence and name), work_center_id, minutes, day (local date it is
    planned to start, else the due date, else None)."""
    tz = calendar.company_tz(uow)
    out = []
    rows = uow.session.execute(
        select(WorkOrderOperation, WorkOrder.id, WorkOrder.number, WorkOrder.product_id, WorkOrder.state,
               WorkOrder.quantity, WorkOrder.planned_start, WorkOrder.due_date)
        .join(WorkOrder, WorkOrder.id == WorkOrderOperation.work_order_id)
        .where(WorkOrder.company_id == uow.company_id, WorkOrder.state.in_(OPEN_STATES),
               WorkOrderOperation.state.in_(OPEN_OP_STATES))
        .order_by(WorkOrder.id, WorkOrderOperation.sequence)).all()
    for op, wid, number, pid, state, qty, wo_start, due in rows:
        minutes = calendar.remaining_minutes(op, qty)
        if minutes <= 0:
            continue
        day = _local_day(op.planned_start, tz) or _local_day(wo_start, tz) or due
        out.append({"work_order_id": wid, "number": number, "product_id": pid, "state": state,
                    "sequence": op.sequence, "operation": op.name, "work_center_id": op.work_center_id,
                    "minutes": minutes, "day": day})
    return out
