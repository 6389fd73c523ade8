"""Warehouse reports, all derived from the stock ledger and the WMS tasks (read-only):

* 出入库报表 `inout` — quantities in and out per day, SKU, bin or operator over a date range.
  Per day/SKU/operator it counts moves crossing the warehouse's boundary (receipts, deliveries,
  adjustments, transfers to/from other warehouses); per bin every move into or out of the bin
  (putaway, picks and internal moves included).
* 库龄 `ageing` — on-hand per product split into 0-30 / 31-60 / 61-90 / 90+ days by the dates it
  came into the warehouse, first-in-first-out: what is left is what arrived last.
* 库位利用率 `utilisation` — per bin units on hand against capacity; totals per zone and type.
* 拣货效率 `productivity` — done pick tasks per picker: lines, units, active hours (the span from
  the first to the last pick of each day) and lines per hour.

Each returns plain dicts (rows + totals) for the pages, the API and XLSX export.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from opensupply.core.auth import User
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.uow import UnitOfWork
from opensupply.inventory.models import StockMove, StockQuant
from opensupply.masterdata import models as md

from .models import WmsBin, WmsTask

ZERO = Decimal(0)
GROUPS = {"day": _l("日期"), "sku": _l("商品"), "bin": _l("库位"), "operator": _l("操作员")}
AGE_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def _tz(uow: UnitOfWork) -> ZoneInfo:
    company = uow.get(md.Company, uow.company_id)
    try:
        return ZoneInfo(company.timezone or "Asia/Shanghai")
    except Exception:  # an unknown zone name falls back to China time
        return ZoneInfo("Asia/Shanghai")


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _range(uow: UnitOfWork, date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date,
                                                                                          dt.datetime, dt.datetime]:
    tz = _tz(uow)
    today = dt.datetime.now(tz).date()
    date_to = date_to or today
    date_from = date_from or (date_to - dt.timedelta(days=29))
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    start = dt.datetime.combine(date_from, dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    return date_from, date_to, start, end


def _warehouse_locations(uow: UnitOfWork, warehouse_id: int) -> set[int]:
    return set(uow.session.scalars(select(md.Location.id).where(
        md.Location.company_id == uow.company_id, md.Location.warehouse_id == warehouse_id,
        md.Location.usage == "internal")))


def _usernames(uow: UnitOfWork, ids) -> dict[int, str]:
    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    return {i: (d or u) for i, u, d in uow.session.execute(select(User.id, User.username, User.display_name)
                                                           .where(User.id.in_(ids)))}


def _products(uow: UnitOfWork, ids) -> dict[int, tuple[str, str]]:
    ids = list(set(ids))
    if not ids:
        return {}
    out = {}
    for i in range(0, len(ids), 900):
        out.update({p: (s, n) for p, s, n in uow.session.execute(
            select(md.Product.id, md.Product.sku, md.Product.name).where(md.Product.id.in_(ids[i:i + 900])))})
    return out


def inout(uow: UnitOfWork, warehouse_id: int, *, group: str = "day", date_from: dt.date | None = None,
          date_to: dt.date | None = None, q: str | None = None) -> dict:
    """出入库报表: rows {key, label, in_qty, out_qty, net, moves} ordered by key; totals."""
    group = group if group in GROUPS else "day"
    date_from, date_to, start, end = _range(uow, date_from, date_to)
    locs = _warehouse_locations(uow, warehouse_id)
    tz = _tz(uow)
    stmt = (select(StockMove.date_done, StockMove.product_id, StockMove.source_location_id,
                   StockMove.dest_location_id, StockMove.quantity, StockMove.created_by_id)
            .where(StockMove.company_id == uow.company_id, StockMove.state == "done",
                   StockMove.date_done >= start, StockMove.date_done < end,
                   (StockMove.source_location_id.in_(locs)) | (StockMove.dest_location_id.in_(locs))))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(StockMove.product_id.in_(select(md.Product.id).where(
            md.Product.company_id == uow.company_id, md.Product.sku.ilike(like) | md.Product.name.ilike(like))))
    rows = uow.session.execute(stmt).all() if locs else []
    agg: dict = defaultdict(lambda: {"in_qty": ZERO, "out_qty": ZERO, "moves": 0})
    for done, pid, src, dst, qty, user_id in rows:
        qty = Decimal(qty)
        if group == "bin":
            for loc, side in ((dst, "in_qty"), (src, "out_qty")):
                if loc in locs:
                    agg[loc][side] += qty
                    agg[loc]["moves"] += 1
            continue
        inside_src, inside_dst = src in locs, dst in locs
        if inside_src and inside_dst:
            continue  # internal: neither in nor out of the warehouse
        if group == "day":
            key = _aware(done).astimezone(tz).date().isoformat()
        else:
            key = pid if group == "sku" else (user_id or 0)
        agg[key]["in_qty" if inside_dst else "out_qty"] += qty
        agg[key]["moves"] += 1
    labels: dict = {}
    if group == "sku":
        labels = {k: f"{s} {n}" for k, (s, n) in _products(uow, agg).items()}
    elif group == "operator":
        labels = _usernames(uow, agg)
        labels[0] = str(_l("系统"))
    elif group == "bin":
        bins = {b.location_id: b.code for b in uow.session.scalars(select(WmsBin).where(
            WmsBin.company_id == uow.company_id, WmsBin.location_id.in_(list(agg))))} if agg else {}
        codes = dict(uow.session.execute(select(md.Location.id, md.Location.code).where(
            md.Location.id.in_(list(agg)))).all()) if agg else {}
        labels = {k: bins.get(k) or codes.get(k, str(k)) for k in agg}
    if group == "day":  # every day of the range, also the quiet ones (the chart needs them)
        d = date_from
        while d <= date_to:
            agg[d.isoformat()]
            d += dt.timedelta(days=1)
    out = []
    for key, v in agg.items():
        label = labels.get(key, str(key))
        out.append({"key": key, "label": label, "in_qty": v["in_qty"], "out_qty": v["out_qty"],
                    "net": v["in_qty"] - v["out_qty"], "moves": v["moves"]})
    out.sort(key=lambda r: r["key"] if group == "day" else r["label"])
    totals = {"in_qty": sum((r["in_qty"] for r in out), ZERO), "out_qty": sum((r["out_qty"] for r in out), ZERO),
              "moves": sum(r["moves"] for r in out)}
    totals["net"] = totals["in_qty"] - totals["out_qty"]
    return {"group": group, "date_from": date_from, "date_to": date_to, "rows": out, "totals": totals}


def ageing(uow: UnitOfWork, warehouse_id: int, *, as_of: dt.date | None = None, q: str | None = None) -> dict:
    """库龄: per product on hand split into age buckets by FIFO over its arrivals into the warehouse."""
    locs = _warehouse_locations(uow, warehouse_id)
    tz = _tz(uow)
    today = as_of or dt.datetime.now(tz).date()
    if not locs:
        return {"rows": [], "totals": {b: ZERO for b, *_r in AGE_BUCKETS} | {"on_hand": ZERO}, "as_of": today}
    stock_stmt = (select(StockQuant.product_id, func.sum(StockQuant.quantity))
                  .where(StockQuant.company_id == uow.company_id, StockQuant.location_id.in_(locs))
                  .group_by(StockQuant.product_id))
    on_hand = {pid: Decimal(qty) for pid, qty in uow.session.execute(stock_stmt) if qty and qty > 0}
    names = _products(uow, on_hand)
    if q:
        needle = q.strip().lower()
        on_hand = {p: v for p, v in on_hand.items() if needle in (names[p][0] + names[p][1]).lower()}
    arrivals: dict[int, list[tuple[dt.datetime, Decimal]]] = defaultdict(list)
    pids = list(on_hand)
    for i in range(0, len(pids), 500):
        for pid, done, qty in uow.session.execute(
                select(StockMove.product_id, StockMove.date_done, StockMove.quantity).where(
                    StockMove.company_id == uow.company_id, StockMove.state == "done",
                    StockMove.product_id.in_(pids[i:i + 500]), StockMove.dest_location_id.in_(locs),
                    StockMove.source_location_id.not_in(locs))
                .order_by(StockMove.product_id, StockMove.date_done.desc(), StockMove.id.desc())):
            arrivals[pid].append((done, Decimal(qty)))
    rows = []
    totals = {b: ZERO for b, *_r in AGE_BUCKETS} | {"on_hand": ZERO}
    for pid, qty in on_hand.items():
        left = qty
        buckets = {b: ZERO for b, *_r in AGE_BUCKETS}
        oldest = None
        for done, arrived in arrivals.get(pid, []):  # newest first: FIFO leaves the newest on the shelf
            if left <= 0:
                break
            take = min(left, arrived)
            days = (today - _aware(done).astimezone(tz).date()).days
            buckets[_bucket(days)] += take
            oldest = days
            left -= take
        if left > 0:  # older than the ledger shows (opening stock): the oldest bucket
            buckets["90+"] += left
            oldest = max(oldest or 0, 91)
        sku, name = names[pid]
        rows.append({"product_id": pid, "sku": sku, "name": name, "on_hand": qty, **buckets,
                     "oldest_days": oldest})
        for b in buckets:
            totals[b] += buckets[b]
        totals["on_hand"] += qty
    rows.sort(key=lambda r: (-(r["oldest_days"] or 0), r["sku"]))
    return {"rows": rows, "totals": totals, "as_of": today}


def _bucket(days: int) -> str:
    for name, lo, hi in AGE_BUCKETS:
        if days >= lo and (hi is None or days <= hi):
            return name
    return AGE_BUCKETS[0][0]


def utilisation(uow: UnitOfWork, warehouse_id: int, *, zone: str | None = None, bin_type: str | None = None) -> dict:
    """库位利用率: per bin units / capacity; per zone+type: bins, occupied bins, capacity use."""
    stmt = select(WmsBin).where(WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == warehouse_id)
    if zone:
        stmt = stmt.where(WmsBin.zone == zone)
    if bin_type:
        stmt = stmt.where(WmsBin.bin_type == bin_type)
    bins = list(uow.session.scalars(stmt.order_by(WmsBin.zone, WmsBin.aisle, WmsBin.position, WmsBin.code)))
    units: dict[int, Decimal] = defaultdict(lambda: ZERO)
    skus: dict[int, set] = defaultdict(set)
    locs = [b.location_id for b in bins]
    for i in range(0, len(locs), 900):
        for loc, pid, qty in uow.session.execute(
                select(StockQuant.location_id, StockQuant.product_id, StockQuant.quantity).where(
                    StockQuant.company_id == uow.company_id, StockQuant.location_id.in_(locs[i:i + 900]),
                    StockQuant.quantity != 0)):
            units[loc] += Decimal(qty)
            skus[loc].add(pid)
    rows, groups = [], {}
    for b in bins:
        u = units[b.location_id]
        cap = Decimal(b.capacity_units) if b.capacity_units is not None else None
        pct = float(u / cap * 100) if cap else None
        rows.append({"bin_id": b.id, "code": b.code, "zone": b.zone or "", "bin_type": b.bin_type, "units": u,
                     "skus": len(skus[b.location_id]), "capacity_units": cap, "pct": pct, "blocked": b.blocked})
        g = groups.setdefault((b.zone or "", b.bin_type), {"zone": b.zone or "", "bin_type": b.bin_type, "bins": 0,
                                                           "occupied": 0, "units": ZERO, "capacity": ZERO,
                                                           "capacity_bins": 0})
        g["bins"] += 1
        g["occupied"] += 1 if u > 0 else 0
        g["units"] += u
        if cap is not None:
            g["capacity"] += cap
            g["capacity_bins"] += 1
    summary = []
    for g in groups.values():
        g["occupancy_pct"] = g["occupied"] * 100.0 / g["bins"] if g["bins"] else 0.0
        g["capacity_pct"] = float(g["units"] / g["capacity"] * 100) if g["capacity"] else None
        summary.append(g)
    total_bins = len(rows)
    occupied = sum(1 for r in rows if r["units"] > 0)
    return {"rows": rows, "summary": summary,
            "totals": {"bins": total_bins, "occupied": occupied,
                       "occupancy_pct": occupied * 100.0 / total_bins if total_bins else 0.0}}


def productivity(uow: UnitOfWork, warehouse_id: int, *, date_from: dt.date | None = None,
                 date_to: dt.date | None = None, kind: str = "pick") -> dict:
    """拣货效率: per picker, done pick lines and units, active hours (first → last pick of each
    working day, at least one minute per pick) and lines per hour."""
    date_from, date_to, start, end = _range(uow, date_from, date_to)
    tz = _tz(uow)
    rows = uow.session.execute(
        select(WmsTask.done_by_id, WmsTask.done_at, WmsTask.started_at, WmsTask.qty_done).where(
            WmsTask.company_id == uow.company_id, WmsTask.warehouse_id == warehouse_id, WmsTask.kind == kind,
            WmsTask.state.in_(("done", "short")), WmsTask.done_at >= start, WmsTask.done_at < end)).all()
    per: dict = defaultdict(lambda: {"lines": 0, "units": ZERO, "days": defaultdict(list)})
    for user_id, done, started, qty in rows:
        p = per[user_id or 0]
        p["lines"] += 1
        p["units"] += Decimal(qty or 0)
        local = _aware(done).astimezone(tz)
        p["days"][local.date()].append((_aware(started).astimezone(tz) if started else local, local))
    names = _usernames(uow, per)
    out = []
    for uid, p in per.items():
        seconds = 0.0
        for picks in p["days"].values():
            first = min(s for s, _d in picks)
            last = max(d for _s, d in picks)
            seconds += max((last - first).total_seconds(), 60.0 * len(picks))
        hours = seconds / 3600.0
        out.append({"user_id": uid, "picker": names.get(uid, str(_l("系统")) if not uid else str(uid)),
                    "lines": p["lines"], "units": p["units"], "days": len(p["days"]), "hours": round(hours, 2),
                    "lines_per_hour": round(p["lines"] / hours, 1) if hours else None})
    out.sort(key=lambda r: -(r["lines_per_hour"] or 0))
    return {"rows": out, "date_from": date_from, "date_to": date_to,
            "totals": {"lines": sum(r["lines"] for r in out), "units": sum((r["units"] for r in out), ZERO)}}


def productivity_by_user(uow: UnitOfWork, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
                         user_ids: set[int] | None = None) -> dict[int, dict]:
    """拣货效率 per user over every warehouse of the company (as in `productivity`, warehouse by warehouse, then
    added up): {user_id: {"lines", "units", "hours", "lines_per_hour"}} — what another module's view (the
    employee performance page) reads instead of the task table."""
    warehouse_ids = uow.session.scalars(select(md.Warehouse.id).where(md.Warehouse.company_id == uow.company_id)
                                        .order_by(md.Warehouse.id))
    out: dict[int, dict] = {}
    for wh_id in list(warehouse_ids):
        for r in productivity(uow, wh_id, date_from=date_from, date_to=date_to)["rows"]:
            if not r["user_id"] or (user_ids is not None and r["user_id"] not in user_ids):
                continue
            agg = out.setdefault(r["user_id"], {"lines": 0, "units": ZERO, "hours": 0.0})
            agg["lines"] += r["lines"]
            agg["units"] += r["units"]
            agg["hours"] += r["hours"]
    for agg in out.values():
        agg["hours"] = round(agg["hours"], 2)
        agg["lines_per_hour"] = round(agg["lines"] / agg["hours"], 1) if agg["hours"] else None
    return out


def floor_summary(uow: UnitOfWork, *, date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict:
    """The warehouse floor over a period, all warehouses together: waves made (by state) and finished, pick lines
    and units done with the pickers' active hours and lines per hour (as in `productivity`), and the backlog now —
    fulfilments ready for a wave but in none, and pick lines still open in released waves."""
    from opensupply.oms import fulfilments as oms_ful

    from .models import WmsWave, WmsWaveFulfilment

    date_from, date_to, start, end = _range(uow, date_from, date_to)
    w = WmsWave
    by_state = dict(uow.session.execute(select(w.state, func.count()).where(
        w.company_id == uow.company_id, w.created_at >= start, w.created_at < end).group_by(w.state)).all())
    finished = uow.session.scalar(select(func.count()).select_from(w).where(
        w.company_id == uow.company_id, w.state == "done", w.finished_at >= start, w.finished_at < end))
    lines, units, hours, pickers = 0, ZERO, 0.0, {}
    warehouse_ids = list(uow.session.scalars(select(md.Warehouse.id).where(md.Warehouse.company_id == uow.company_id)
                                             .order_by(md.Warehouse.id)))
    waiting = 0
    for wh_id in warehouse_ids:
        p = productivity(uow, wh_id, date_from=date_from, date_to=date_to)
        for r in p["rows"]:
            lines += r["lines"]
            units += r["units"]
            hours += r["hours"]
            agg = pickers.setdefault(r["picker"], {"picker": r["picker"], "lines": 0, "hours": 0.0})
            agg["lines"] += r["lines"]
            agg["hours"] += r["hours"]
        ready = [f.id for f in oms_ful.ready_fulfilments(uow, wh_id, limit=5000)]
        if ready:
            waved = uow.session.scalar(select(func.count()).select_from(WmsWaveFulfilment).where(
                WmsWaveFulfilment.company_id == uow.company_id, WmsWaveFulfilment.active_key == 1,
                WmsWaveFulfilment.fulfilment_id.in_(ready)))
            waiting += len(ready) - int(waved or 0)
    open_lines, open_units = uow.session.execute(
        select(func.count(), func.coalesce(func.sum(WmsTask.quantity - WmsTask.qty_done), 0)).where(
            WmsTask.company_id == uow.company_id, WmsTask.kind == "pick",
            WmsTask.state.in_(("open", "assigned")))).one()
    for r in pickers.values():
        r["lines_per_hour"] = round(r["lines"] / r["hours"], 1) if r["hours"] else None
    return {"date_from": date_from, "date_to": date_to,
            "waves": {"by_state": {k: int(v) for k, v in by_state.items()}, "created": sum(by_state.values()),
                      "finished": int(finished or 0)},
            "picks": {"lines": lines, "units": units, "hours": round(hours, 2),
                      "lines_per_hour": round(lines / hours, 1) if hours else None,
                      "pickers": sorted(pickers.values(), key=lambda r: -(r["lines_per_hour"] or 0))},
            "backlog": {"fulfilments_waiting": waiting, "open_pick_lines": int(open_lines or 0),
                        "open_pick_units": Decimal(open_units or 0)}}
