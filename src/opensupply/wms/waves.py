"""Waves: allocated OMS fulfilments grouped into one picking run, with pick tasks in walking order.

* ``build_wave(uow, warehouse_id, *, carrier_id, ship_by_before, order_type, zone, max_orders, pick_mode)``
  takes the fulfilments OMS says are ready (`oms.fulfilments.ready_fulfilments`) and makes them members
  of a new draft wave, one cart slot each. Membership rows carry a unique (fulfilment_id, active_key):
  a fulfilment is in at most one live wave, whoever builds waves at the same time (a concurrent
  builder's insert of the same fulfilment fails in its savepoint and that fulfilment is skipped).
* ``release_wave(uow, wave_id)`` hands the fulfilments to picking (`oms.fulfilments.start_picking`
  locks them and refuses an intercepted one) and creates one pick task per reservation slice of
  `oms.fulfilments.pick_plan` — bin, product, lot, quantity, fulfilment line, cart slot — numbered in
  the walking order `wms.pickpath.optimize` finds over the bins' coordinates. The route length and the
  S-shape baseline's are stored on the wave, so the page shows the saving.
* ``cancel_wave(uow, wave_id, reason)`` — before anything was picked: tasks cancelled, fulfilments back
  to the pool (`oms.fulfilments.return_to_pool`), membership cleared (active_key NULL).

A fulfilment is never picked twice: membership is unique per live wave, `start_picking` accepts only
`allocated` fulfilments, and a pick task is confirmed under a row lock once (see `picking.py`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory.service import fmt_qty
from opensupply.masterdata import models as md
from opensupply.oms import fulfilments as oms_ful
from opensupply.oms.models import OmsFulfilment

from . import bins as wbins
from .models import WmsBin, WmsLayout, WmsTask, WmsWave, WmsWaveFulfilment

log = logging.getLogger(__name__)
register_sequence("WMS_WAVE", "WV{year}-", 5)
ZERO = Decimal(0)
PICK_MODES = ("cluster", "single")
WAVE_STATE_LABELS = {"draft": _l("草稿"), "released": _l("已下发"), "picking": _l("拣货中"), "picked": _l("已拣完"),
                     "done": _l("已完成"), "cancelled": _l("已取消")}
PICK_MODE_LABELS = {"cluster": _l("批量拣货（播种车）"), "single": _l("按单拣货")}
TASK_STATE_LABELS = {"open": _l("待拣"), "assigned": _l("已分配"), "done": _l("已拣"), "short": _l("缺货"),
                     "cancelled": _l("已取消")}
OPEN = ("open", "assigned")


def wave_state_label(state: str) -> str:
    return str(WAVE_STATE_LABELS.get(state, state))


def task_state_label(state: str) -> str:
    return str(TASK_STATE_LABELS.get(state, state))


# ------------------------------------------------------------------ helpers shared by the outbound area
def pack_location_id(uow: UnitOfWork, warehouse_id: int) -> int:
    """The pack station's location (PACK), where picks go."""
    return wbins.ensure_special_bins(uow, warehouse_id)["pack"].location_id


def live_members(uow: UnitOfWork, wave_id: int) -> list[WmsWaveFulfilment]:
    return list(uow.session.scalars(select(WmsWaveFulfilment).where(
        WmsWaveFulfilment.company_id == uow.company_id, WmsWaveFulfilment.wave_id == wave_id,
        WmsWaveFulfilment.active_key == 1).order_by(WmsWaveFulfilment.slot)))


def wave_tasks(uow: UnitOfWork, wave_id: int) -> list[WmsTask]:
    return list(uow.session.scalars(select(WmsTask).where(
        WmsTask.company_id == uow.company_id, WmsTask.wave_id == wave_id, WmsTask.kind == "pick")
        .order_by(WmsTask.sequence, WmsTask.id)))


def live_wave_of(uow: UnitOfWork, fulfilment_id: int) -> WmsWave | None:
    wid = uow.session.scalar(select(WmsWaveFulfilment.wave_id).where(
        WmsWaveFulfilment.company_id == uow.company_id, WmsWaveFulfilment.fulfilment_id == fulfilment_id,
        WmsWaveFulfilment.active_key == 1))
    return uow.get(WmsWave, wid) if wid else None


def _carrier(uow: UnitOfWork, carrier_id: int | None) -> int | None:
    if carrier_id in (None, "", 0):
        return None
    partner = uow.get(md.Partner, int(carrier_id))
    if not partner.is_carrier:
        raise ValidationFailed(_("{name} 不是承运商", name=partner.name), field="carrier_id")
    return partner.id


# ------------------------------------------------------------------ routes
@dataclass
class Stop:
    location_id: int
    x: float
    y: float
    zone: str | None
    sort_key: tuple


def _stops(uow: UnitOfWork, location_ids: set[int]) -> dict[int, Stop]:
    """Coordinates of the bins behind locations; a location without a WMS bin sorts last at the depot."""
    found = wbins.bins_by_location(uow, location_ids)
    codes = dict(uow.session.execute(select(md.Location.id, md.Location.code).where(
        md.Location.id.in_(location_ids))).all()) if location_ids else {}
    out = {}
    for loc in location_ids:
        b = found.get(loc)
        if b is not None:
            out[loc] = Stop(loc, b.x, b.y, b.zone, (0, b.zone or "", b.block, b.aisle or 0, b.position or 0, b.level,
                                                    b.code))
        else:
            out[loc] = Stop(loc, 0.0, 0.0, None, (1, "", 0, 0, 0, 0, codes.get(loc, "")))
    return out


def _zone_route(uow: UnitOfWork, warehouse_id: int, zone: str | None, stops: list[Stop]
                ) -> tuple[list[Stop], float | None, float | None]:
    """Stops of one zone in walking order with the route length and the S-shape length (None when
    the zone has no layout to measure on)."""
    if len(stops) <= 1 or zone is None:
        ordered = sorted(stops, key=lambda s: s.sort_key)
        return ordered, (None if zone is None else _out_and_back(uow, warehouse_id, zone, ordered)), None
    try:
        from . import pickpath

        geo = wbins.geometry_for(uow, warehouse_id, zone)
        layout = uow.session.scalars(select(WmsLayout).where(
            WmsLayout.company_id == uow.company_id, WmsLayout.warehouse_id == warehouse_id,
            WmsLayout.zone == zone)).first()
        depot = (layout.depot_x, layout.depot_y) if layout else None
        points = [(s.x, s.y) for s in stops]
        route = pickpath.optimize(geo, points, depot=depot)
        base = pickpath.sshape(geo, points, depot=depot)
        base_len = float(getattr(base, "length_m", base))
        return [stops[i] for i in route.order], float(route.length_m), base_len
    except Exception:  # no optimizer or geometry for this zone: walk by code, length unknown
        log.exception("pick path for zone %s not computed", zone)
        return sorted(stops, key=lambda s: s.sort_key), None, None


def _out_and_back(uow: UnitOfWork, warehouse_id: int, zone: str, stops: list[Stop]) -> float | None:
    try:
        geo = wbins.geometry_for(uow, warehouse_id, zone)
        layout = uow.session.scalars(select(WmsLayout).where(
            WmsLayout.company_id == uow.company_id, WmsLayout.warehouse_id == warehouse_id,
            WmsLayout.zone == zone)).first()
        depot = (layout.depot_x, layout.depot_y) if layout else (0.0, 0.0)
        length, at = 0.0, depot
        for s in stops:
            length += geo.distance(at, (s.x, s.y))
            at = (s.x, s.y)
        return length + geo.distance(at, depot)
    except Exception:
        return None


def plan_route(uow: UnitOfWork, warehouse_id: int, location_ids: list[int]
               ) -> tuple[list[int], float | None, float | None]:
    """Walking order of the locations (each once), route length and S-shape length in metres.
    Zones are walked one after another (alphabetically); lengths add up over zones."""
    stops = _stops(uow, set(location_ids))
    by_zone: dict[str | None, list[Stop]] = {}
    for s in stops.values():
        by_zone.setdefault(s.zone, []).append(s)
    order: list[int] = []
    total: float | None = 0.0
    base: float | None = 0.0
    for zone in sorted(by_zone, key=lambda z: (z is None, z or "")):
        ordered, length, sshape = _zone_route(uow, warehouse_id, zone, by_zone[zone])
        order += [s.location_id for s in ordered]
        if zone is None:
            continue
        total = None if total is None or length is None else total + length
        if sshape is None and length is not None and len(ordered) <= 1:
            sshape = length
        base = None if base is None or sshape is None else base + sshape
    return order, total, base


# ------------------------------------------------------------------ build
def build_wave(uow: UnitOfWork, warehouse_id: int, *, carrier_id: int | None = None,
               ship_by_before: dt.datetime | None = None, order_type: str | None = None, zone: str | None = None,
               max_orders: int = 30, pick_mode: str = "cluster") -> WmsWave:
    """A draft wave of up to `max_orders` ready fulfilments (OMS's priority order), one cart slot
    each. `zone` keeps only fulfilments whose reserved stock lies entirely in that zone."""
    if pick_mode not in PICK_MODES:
        raise ValidationFailed(_("拣货方式只能是 cluster（批量）或 single（按单）"), field="pick_mode")
    try:
        max_orders = int(max_orders)
    except (TypeError, ValueError):
        raise ValidationFailed(_("每波次订单数须为整数"), field="max_orders") from None
    if not 1 <= max_orders <= 500:
        raise ValidationFailed(_("每波次订单数须在 1 到 500 之间"), field="max_orders")
    wh = uow.get(md.Warehouse, int(warehouse_id))
    carrier_id = _carrier(uow, carrier_id)
    zone = (zone or "").strip().upper() or None
    order_type = (order_type or "").strip() or None
    if ship_by_before is not None and ship_by_before.tzinfo is None:
        ship_by_before = ship_by_before.replace(tzinfo=dt.UTC)
    ready = oms_ful.ready_fulfilments(uow, wh.id, carrier_id=carrier_id, ship_by_before=ship_by_before,
                                      order_type=order_type, limit=max(500, max_orders))
    ids = [f.id for f in ready]
    taken = set(uow.session.scalars(select(WmsWaveFulfilment.fulfilment_id).where(
        WmsWaveFulfilment.company_id == uow.company_id, WmsWaveFulfilment.active_key == 1,
        WmsWaveFulfilment.fulfilment_id.in_(ids)))) if ids else set()
    candidates = [f for f in ready if f.id not in taken]
    if zone:
        candidates = [f for f in candidates if _all_in_zone(uow, f.id, zone)]
    if not candidates:
        raise Conflict(_("没有符合条件的待拣货发货单"), code="nothing_ready")
    wave = uow.add(WmsWave(number=next_number(uow, "WMS_WAVE"), warehouse_id=wh.id, state="draft", pick_mode=pick_mode,
                           carrier_id=carrier_id, cutoff=ship_by_before,
                           criteria={"carrier_id": carrier_id, "order_type": order_type, "zone": zone,
                                     "ship_by_before": ship_by_before.isoformat() if ship_by_before else None,
                                     "max_orders": max_orders, "pick_mode": pick_mode}))
    uow.flush()
    slot = 0
    for f in candidates:
        if slot >= max_orders:
            break
        member = WmsWaveFulfilment(wave_id=wave.id, fulfilment_id=f.id, slot=slot + 1, active_key=1)
        try:
            with uow.session.begin_nested():  # a concurrent builder took it: skip, keep the rest
                uow.add(member)
                uow.flush()
        except IntegrityError:
            continue
        slot += 1
    if slot == 0:
        raise Conflict(_("没有符合条件的待拣货发货单（已被其他波次占用）"), code="nothing_ready")
    uow.emit("wms.wave_built", wave_id=wave.id, number=wave.number, warehouse_id=wh.id, fulfilments=slot)
    return wave


def _all_in_zone(uow: UnitOfWork, fulfilment_id: int, zone: str) -> bool:
    locs = {s.location_id for need in oms_ful.pick_plan(uow, fulfilment_id) for s in need.reservations}
    if not locs:
        return False
    found = wbins.bins_by_location(uow, locs)
    return all(loc in found and (found[loc].zone or "").upper() == zone for loc in locs)


# ------------------------------------------------------------------ release
def release_wave(uow: UnitOfWork, wave_id: int) -> WmsWave:
    """Start picking: fulfilments → 拣货中 in OMS, pick tasks in walking order. An intercepted
    fulfilment is dropped from the wave first (it goes nowhere); the rest are released."""
    wave = uow.get(WmsWave, wave_id, for_update=True)
    if wave.state != "draft":
        raise Conflict(_("波次 {n} 状态为{s}，不能下发", n=wave.number, s=wave_state_label(wave.state)), field="state")
    members = live_members(uow, wave.id)
    dropped = []
    for m in members:
        if oms_ful.is_intercepted(uow, m.fulfilment_id):
            m.active_key = None
            dropped.append(m.fulfilment_id)
    members = [m for m in members if m.active_key == 1]
    if not members:
        raise Conflict(_("波次 {n} 没有可拣货的发货单", n=wave.number), field="state")
    oms_ful.start_picking(uow, [m.fulfilment_id for m in members], wave_number=wave.number)
    pack_loc = pack_location_id(uow, wave.warehouse_id)
    slices = []  # (member, need, slice)
    for m in members:
        for need in oms_ful.pick_plan(uow, m.fulfilment_id):
            for s in need.reservations:
                if s.location_id != pack_loc and Decimal(s.quantity) > 0:
                    slices.append((m, need, s))
    if not slices:
        raise Conflict(_("波次 {n} 的发货单没有预留库存，无法拣货", n=wave.number), field="state")
    if wave.pick_mode == "single":
        groups = [[x for x in slices if x[0].id == m.id] for m in members]
    else:
        groups = [slices]
    seq, total, base = 0, 0.0, 0.0
    for group in groups:
        if not group:
            continue
        order, length, sshape = plan_route(uow, wave.warehouse_id, [s.location_id for _m, _n, s in group])
        rank = {loc: i for i, loc in enumerate(order)}
        group.sort(key=lambda x: (rank[x[2].location_id], x[0].slot, x[1].product_id))
        total = None if total is None or length is None else total + length
        base = None if base is None or sshape is None else base + sshape
        for m, need, s in group:
            seq += 1
            uow.add(WmsTask(kind="pick", state="open", warehouse_id=wave.warehouse_id, product_id=need.product_id,
                            lot_id=s.lot_id, quantity=Decimal(s.quantity), qty_done=ZERO,
                            source_location_id=s.location_id, dest_location_id=pack_loc, wave_id=wave.id,
                            fulfilment_id=m.fulfilment_id, fulfilment_line_id=need.fulfilment_line_id,
                            reservation_id=s.reservation_id, sequence=seq, slot=m.slot, reference=wave.number,
                            ref_type="wms.wave", ref_id=wave.id))
    wave.route_length_m = round(total, 2) if total is not None else None
    wave.sshape_length_m = round(base, 2) if base is not None else None
    wave.state = "released"
    if dropped:
        wave.criteria = {**(wave.criteria or {}), "dropped_intercepted": dropped}
    uow.flush()
    uow.emit("wms.wave_released", wave_id=wave.id, number=wave.number, warehouse_id=wave.warehouse_id,
             fulfilment_ids=[m.fulfilment_id for m in members], tasks=seq)
    return wave


def resequence(uow: UnitOfWork, wave: WmsWave, *, start_location_id: int | None = None) -> None:
    """Put the wave's open tasks back in walking order after the last closed one (a substitute bin
    was added by a short pick). The route is re-planned over the open tasks' bins."""
    tasks = wave_tasks(uow, wave.id)
    closed = [t for t in tasks if t.state not in OPEN]
    todo = [t for t in tasks if t.state in OPEN]
    if not todo:
        return
    order, _len, _base = plan_route(uow, wave.warehouse_id, [t.source_location_id for t in todo])
    rank = {loc: i for i, loc in enumerate(order)}
    todo.sort(key=lambda t: (rank.get(t.source_location_id, 0), t.slot or 0, t.id))
    seq = max((t.sequence for t in closed), default=0)
    for t in todo:
        seq += 1
        t.sequence = seq


def refresh_wave_state(uow: UnitOfWork, wave: WmsWave) -> None:
    """released → picking at the first pick, → picked when no task is open."""
    counts = dict(uow.session.execute(select(WmsTask.state, func.count()).where(
        WmsTask.company_id == uow.company_id, WmsTask.wave_id == wave.id, WmsTask.kind == "pick")
        .group_by(WmsTask.state)).all())
    open_ = counts.get("open", 0) + counts.get("assigned", 0)
    if wave.state in ("released", "picking"):
        if not open_:
            wave.state = "picked"
            wave.finished_at = utcnow()
        elif wave.state == "released" and (counts.get("done", 0) or counts.get("short", 0)):
            wave.state = "picking"
        if wave.started_at is None and wave.state != "released":
            wave.started_at = utcnow()
            wave.picker_id = uow.actor.user_id


# ------------------------------------------------------------------ cancel
def cancel_open_tasks(uow: UnitOfWork, *, wave_id: int | None = None, fulfilment_id: int | None = None,
                      note: str | None = None) -> int:
    """Cancel the open pick tasks of a wave and/or a fulfilment (ORM writes: audited)."""
    stmt = select(WmsTask).where(WmsTask.company_id == uow.company_id, WmsTask.kind == "pick",
                                 WmsTask.state.in_(OPEN))
    if wave_id is not None:
        stmt = stmt.where(WmsTask.wave_id == wave_id)
    if fulfilment_id is not None:
        stmt = stmt.where(WmsTask.fulfilment_id == fulfilment_id)
    tasks = list(uow.session.scalars(stmt.with_for_update()))
    for t in tasks:
        t.state = "cancelled"
        if note:
            t.note = note[:300]
    uow.flush()
    return len(tasks)


def cancel_wave(uow: UnitOfWork, wave_id: int, *, reason: str | None = None) -> WmsWave:
    """Cancel a wave while nothing of it has been picked (short picks of nothing do not count); its
    fulfilments return to the pool."""
    wave = uow.get(WmsWave, wave_id, for_update=True)
    if wave.state not in ("draft", "released", "picking"):
        raise Conflict(_("波次 {n} 状态为{s}，不能取消", n=wave.number, s=wave_state_label(wave.state)), field="state")
    picked = uow.session.scalar(select(func.count()).select_from(WmsTask).where(
        WmsTask.company_id == uow.company_id, WmsTask.wave_id == wave.id, WmsTask.qty_done > 0))
    if picked:
        raise Conflict(_("波次 {n} 已有商品拣出，不能取消；请完成拣货或将商品退回库位", n=wave.number), field="state")
    members = live_members(uow, wave.id)
    ids = [m.fulfilment_id for m in members]
    now = utcnow()
    cancel_open_tasks(uow, wave_id=wave.id)
    for m in members:
        m.active_key = None
    if wave.state in ("released", "picking") and ids:
        oms_ful.return_to_pool(uow, ids, reason=(reason or "").strip() or _("波次 {n} 已取消", n=wave.number))
    wave.state = "cancelled"
    wave.finished_at = now
    wave.criteria = {**(wave.criteria or {}), "cancel_reason": (reason or "").strip()[:200] or None}
    uow.emit("wms.wave_cancelled", wave_id=wave.id, number=wave.number, fulfilment_ids=ids)
    return wave


# ------------------------------------------------------------------ queries
def list_waves(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, warehouse_id: int | None = None,
               limit: int = 50, offset: int = 0) -> tuple[list[WmsWave], int]:
    stmt = select(WmsWave).where(WmsWave.company_id == uow.company_id)
    if q:
        stmt = stmt.where(WmsWave.number.ilike(f"%{q.strip()}%"))
    if state:
        stmt = stmt.where(WmsWave.state == state)
    if warehouse_id:
        stmt = stmt.where(WmsWave.warehouse_id == warehouse_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(WmsWave.id.desc()).limit(limit).offset(offset)))
    return rows, total


def saving_pct(wave: WmsWave) -> float | None:
    if not wave.route_length_m or not wave.sshape_length_m:
        return None
    return round((wave.sshape_length_m - wave.route_length_m) / wave.sshape_length_m * 100, 1)


def wave_counts(uow: UnitOfWork, wave_ids: list[int]) -> dict[int, dict]:
    """Per wave: fulfilments (live), tasks, tasks closed."""
    out = {i: {"fulfilments": 0, "tasks": 0, "closed": 0} for i in wave_ids}
    if not wave_ids:
        return out
    for wid, n in uow.session.execute(select(WmsWaveFulfilment.wave_id, func.count()).where(
            WmsWaveFulfilment.wave_id.in_(wave_ids), WmsWaveFulfilment.active_key == 1)
            .group_by(WmsWaveFulfilment.wave_id)):
        out[wid]["fulfilments"] = n
    for wid, state, n in uow.session.execute(select(WmsTask.wave_id, WmsTask.state, func.count()).where(
            WmsTask.wave_id.in_(wave_ids), WmsTask.kind == "pick", WmsTask.state != "cancelled")
            .group_by(WmsTask.wave_id, WmsTask.state)):
        out[wid]["tasks"] += n
        if state not in OPEN:
            out[wid]["closed"] += n
    return out


def wave_dict(uow: UnitOfWork, wave: WmsWave, counts: dict | None = None) -> dict:
    c = counts or wave_counts(uow, [wave.id])[wave.id]
    wh = uow.session.get(md.Warehouse, wave.warehouse_id)
    carrier = uow.session.get(md.Partner, wave.carrier_id) if wave.carrier_id else None
    return {"id": wave.id, "number": wave.number, "state": wave.state, "state_label": wave_state_label(wave.state),
            "warehouse_id": wave.warehouse_id, "warehouse": wh.code if wh else None, "pick_mode": wave.pick_mode,
            "pick_mode_label": str(PICK_MODE_LABELS.get(wave.pick_mode, wave.pick_mode)),
            "carrier_id": wave.carrier_id, "carrier": carrier.name if carrier else None,
            "cutoff": wave.cutoff.isoformat() if wave.cutoff else None, "criteria": wave.criteria or {},
            "route_length_m": wave.route_length_m, "sshape_length_m": wave.sshape_length_m,
            "saving_pct": saving_pct(wave), "fulfilments": c["fulfilments"], "tasks": c["tasks"],
            "tasks_closed": c["closed"], "created_at": wave.created_at.isoformat() if wave.created_at else None,
            "started_at": wave.started_at.isoformat() if wave.started_at else None,
            "finished_at": wave.finished_at.isoformat() if wave.finished_at else None}


def task_dicts(uow: UnitOfWork, tasks: list[WmsTask]) -> list[dict]:
    """Tasks for pages, the API and the pick list: bin code and coordinates, product, lot, slot,
    fulfilment number."""
    from opensupply.inventory.models import StockLot

    locs = {t.source_location_id for t in tasks if t.source_location_id}
    bins = wbins.bins_by_location(uow, locs)
    loc_codes = dict(uow.session.execute(select(md.Location.id, md.Location.code).where(
        md.Location.id.in_(locs))).all()) if locs else {}
    pids = {t.product_id for t in tasks}
    products = {p.id: p for p in uow.session.scalars(select(md.Product).where(md.Product.id.in_(pids)))} if pids else {}
    lot_ids = {t.lot_id for t in tasks if t.lot_id}
    lots = dict(uow.session.execute(select(StockLot.id, StockLot.name).where(StockLot.id.in_(lot_ids))).all()) \
        if lot_ids else {}
    fids = {t.fulfilment_id for t in tasks if t.fulfilment_id}
    fnums = dict(uow.session.execute(select(OmsFulfilment.id, OmsFulfilment.number).where(
        OmsFulfilment.id.in_(fids))).all()) if fids else {}
    out = []
    for t in tasks:
        b = bins.get(t.source_location_id)
        p = products.get(t.product_id)
        out.append({"id": t.id, "sequence": t.sequence, "state": t.state, "state_label": task_state_label(t.state),
                    "bin": b.code if b else loc_codes.get(t.source_location_id), "bin_id": b.id if b else None,
                    "x": b.x if b else None, "y": b.y if b else None, "zone": b.zone if b else None,
                    "product_id": t.product_id, "sku": p.sku if p else None, "product_name": p.name if p else None,
                    "barcode": p.barcode if p else None, "lot": lots.get(t.lot_id), "quantity": fmt_qty(t.quantity),
                    "qty_done": fmt_qty(t.qty_done), "slot": t.slot, "fulfilment_id": t.fulfilment_id,
                    "fulfilment": fnums.get(t.fulfilment_id), "fulfilment_line_id": t.fulfilment_line_id,
                    "note": t.note})
    return out


def members_dicts(uow: UnitOfWork, wave_id: int) -> list[dict]:
    rows = uow.session.execute(
        select(WmsWaveFulfilment.slot, OmsFulfilment.id, OmsFulfilment.number, OmsFulfilment.status,
               OmsFulfilment.receiver_name, OmsFulfilment.province, OmsFulfilment.city, OmsFulfilment.intercepted)
        .join(OmsFulfilment, OmsFulfilment.id == WmsWaveFulfilment.fulfilment_id)
        .where(WmsWaveFulfilment.company_id == uow.company_id, WmsWaveFulfilment.wave_id == wave_id,
               WmsWaveFulfilment.active_key == 1).order_by(WmsWaveFulfilment.slot)).all()
    return [{"slot": r.slot, "fulfilment_id": r.id, "number": r.number, "status": r.status,
             "status_label": oms_ful.status_label(r.status), "receiver": r.receiver_name,
             "region": " ".join(x for x in (r.province, r.city) if x),
             "intercepted": r.intercepted} for r in rows]


def _walk(cross_ys: list[float], a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    """Corners of the walk from a to b along aisle centre lines and the best cross-aisle."""
    if abs(a[0] - b[0]) < 1e-6 or not cross_ys:
        return [b]
    c = min(cross_ys, key=lambda y: abs(a[1] - y) + abs(b[1] - y))
    return [(a[0], c), (b[0], c), b]


def route_svg_data(uow: UnitOfWork, wave: WmsWave, tasks: list[dict]) -> dict | None:
    """What the wave page draws: the racks beside the aisles, the stops in walking order and the
    walk itself along aisles and cross-aisles (depot → stops → depot)."""
    stops, seen = [], set()
    for t in tasks:
        if t["x"] is None or t["state"] == "cancelled":
            continue
        key = (t["x"], t["y"])
        if key not in seen:
            seen.add(key)
            stops.append({"x": t["x"], "y": t["y"], "bin": t["bin"], "seq": t["sequence"]})
    if not stops:
        return None
    grid = uow.session.execute(select(WmsBin.x, WmsBin.y).where(
        WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == wave.warehouse_id,
        WmsBin.bin_type.in_(("pick", "reserve", "bulk")), WmsBin.active.is_(True)).distinct()).all()
    depot, cross_ys, offset = (0.0, 0.0), [], 0.8
    try:
        geo = wbins.geometry_for(uow, wave.warehouse_id)
        depot, cross_ys = (float(geo.depot[0]), float(geo.depot[1])), list(geo.cross_y)
        if geo.spec is not None:
            offset = min(geo.spec.aisle_spacing_m * 0.3, 1.0)
    except Exception:  # no layout: straight lines between the stops
        cross_ys = []
    path, at = [depot], depot
    for s in [*stops, {"x": depot[0], "y": depot[1]}]:
        nxt = (float(s["x"]), float(s["y"]))
        path += _walk(cross_ys, at, nxt)
        at = nxt
    racks = [{"x": float(x) + dx, "y": float(y)} for x, y in grid for dx in (-offset, offset)]
    pts = [(r["x"], r["y"]) for r in racks] + path
    min_x, max_x = min(p[0] for p in pts), max(p[0] for p in pts)
    min_y, max_y = min(p[1] for p in pts), max(p[1] for p in pts)
    return {"bins": racks, "stops": stops, "path": [{"x": x, "y": y} for x, y in path],
            "min_x": min_x - 2, "min_y": min_y - 2, "width": max(max_x - min_x + 4, 1),
            "height": max(max_y - min_y + 4, 1), "depot": {"x": depot[0], "y": depot[1]}}
