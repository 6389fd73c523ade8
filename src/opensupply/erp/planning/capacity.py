"""Rough-cut capacity check (产能粗算): load per work center and week against the minutes it can work.

Read-only, computed on every call (nothing is stored):

* **Periods**: `weeks` week buckets (Monday to Sunday, company time) from the Monday of `start` (default today).
* **Load from planned work orders**: the planned orders of kind `production` still in state 计划 of the latest
  finished MRP run. Each one loads, at every work center of its routing (the routing of the product's released
  BOM version, read from MES), setup + run × quantity standard minutes, all in the week of its release date
  (when production starts). A release date before the first week (past due) loads the first week.
* **Load from open MES work orders** (draft, released, in progress): the remaining standard minutes of their
  open operations, in the week the operation is planned to start (else the work order's planned start, else its
  due date; none of them or before the first week: the first week). Firmed planned orders are counted here,
  as the work orders they became, never twice.
* **Available**: the work center's rostered minutes in the week (shift calendar, breaks taken out) × its parallel
  units (active machines, or its capacity), from MES.
* **Utilisation** = load / available × 100; a cell is **overloaded** when load > available (also when load
  meets no roster at all).

Work centers, routings and shift calendars live in MES: when the MES module is switched off (or not installed)
the check says so and returns no rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork

from .models import MrpRun, PlannedOrder
from .service import product_labels

DEFAULT_WEEKS = 12
MAX_WEEKS = 52
M2 = Decimal("0.01")
P1 = Decimal("0.1")
SOURCE_LABELS = {"planned_order": _l("计划生产订单"), "work_order": _l("生产工单")}


def _mes():
    """The MES read functions, or None when MES is not installed."""
    try:
        from opensupply.mes import capacity_periods
    except ModuleNotFoundError:
        return None
    return capacity_periods


def mes_enabled(uow: UnitOfWork) -> bool:
    from opensupply.core.modules import enabled_for

    return _mes() is not None and "mes" in enabled_for(uow)


def work_centers(uow: UnitOfWork) -> list[dict]:
    """The active work centers (id, code, name) when MES is on, else none."""
    return _mes().work_centers(uow) if mes_enabled(uow) else []


def _weeks(weeks) -> int:
    try:
        n = int(weeks)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("周数须为整数"), field="weeks") from exc
    if not 1 <= n <= MAX_WEEKS:
        raise ValidationFailed(_("周数应在 1 到 {n} 之间", n=MAX_WEEKS), field="weeks")
    return n


def periods(uow: UnitOfWork, weeks: int, start: dt.date | None = None) -> list[dt.date]:
    """The Mondays of the week buckets."""
    day = start or company_today(uow)
    first = day - dt.timedelta(days=day.weekday())
    return [first + dt.timedelta(weeks=k) for k in range(weeks)]


def latest_run(uow: UnitOfWork) -> MrpRun | None:
    return uow.session.scalar(select(MrpRun).where(MrpRun.company_id == uow.company_id, MrpRun.state == "done")
                              .order_by(MrpRun.id.desc()).limit(1))


def _bucket(day: dt.date | None, first: dt.date, weeks: int) -> tuple[int | None, bool]:
    """(bucket index or None beyond the horizon, past due)."""
    if day is None:
        return 0, False
    if day < first:
        return 0, True
    k = (day - first).days // 7
    return (k if k < weeks else None), False


def load_lines(uow: UnitOfWork, starts: list[dt.date]) -> tuple[MrpRun | None, list[dict], list[int]]:
    """Every contribution to the load inside the horizon: (latest run, lines, products of planned orders that
    have no routing). A line: source (planned_order | work_order), id, number, product_id, quantity,
    work_center_id, operation, minutes, day, bucket, past_due."""
    mes = _mes()
    first, weeks = starts[0], len(starts)
    run = latest_run(uow)
    lines: list[dict] = []
    no_routing: set[int] = set()
    if run is not None:
        po = PlannedOrder
        orders = uow.session.execute(
            select(po.id, po.product_id, po.quantity, po.release_date, po.due_date)
            .where(po.company_id == uow.company_id, po.run_id == run.id, po.kind == "production",
                   po.state == "planned").order_by(po.release_date, po.id)).all()
        ops = mes.routing_operations(uow, {o.product_id for o in orders})
        for o in orders:
            k, late = _bucket(o.release_date, first, weeks)
            if k is None:
                continue
            if o.product_id not in ops:
                no_routing.add(o.product_id)
                continue
            qty = Decimal(o.quantity)
            for op in ops[o.product_id]:
                minutes = op["setup_minutes"] + op["run_minutes"] * qty
                if minutes > 0:
                    lines.append({"source": "planned_order", "id": o.id, "number": f"#{o.id}",
                                  "product_id": o.product_id, "quantity": qty, "work_center_id": op["work_center_id"],
                                  "operation": op["name"], "minutes": minutes, "day": o.release_date,
                                  "due_date": o.due_date, "bucket": k, "past_due": late})
    for w in mes.open_operation_load(uow):
        k, late = _bucket(w["day"], first, weeks)
        if k is None:
            continue
        lines.append({"source": "work_order", "id": w["work_order_id"], "number": w["number"],
                      "product_id": w["product_id"], "quantity": None, "work_center_id": w["work_center_id"],
                      "operation": w["operation"], "minutes": w["minutes"], "day": w["day"], "due_date": None,
                      "bucket": k, "past_due": late})
    return run, lines, sorted(no_routing)


def _pct(load: Decimal, available: Decimal) -> Decimal | None:
    return (load / available * 100).quantize(P1, ROUND_HALF_UP) if available > 0 else None


def _cell(load: Decimal, available: Decimal) -> dict:
    return {"load_minutes": load.quantize(M2, ROUND_HALF_UP),
            "available_minutes": available.quantize(M2, ROUND_HALF_UP),
            "utilisation_pct": _pct(load, available), "overloaded": load > available}


def rough_cut_capacity(uow: UnitOfWork, *, weeks=DEFAULT_WEEKS, start: dt.date | None = None,
                       work_center_id: int | None = None) -> dict:
    """Load vs available minutes per work center and week (see the module docstring).

    Returns {"mes_enabled", "run" (number and id of the MRP run used, or None), "periods" (Mondays),
    "work_centers": [{"id", "code", "name", "cells": [{"period", "load_minutes", "available_minutes",
    "utilisation_pct", "overloaded"}], "load_minutes", "available_minutes", "utilisation_pct", "overloaded"}],
    "no_routing": [{"product_id", "sku", "name"}] (planned work orders that load nothing for want of a routing)}.
    """
    uow.actor.require("erp.planning")
    n = _weeks(weeks)
    starts = periods(uow, n, start)
    out = {"mes_enabled": mes_enabled(uow), "run": None, "periods": starts, "work_centers": [], "no_routing": []}
    if not out["mes_enabled"]:
        return out
    mes = _mes()
    run, lines, no_routing = load_lines(uow, starts)
    if run is not None:
        out["run"] = {"id": run.id, "number": run.number, "finished_at": run.finished_at}
    wcs = mes.work_centers(uow)
    if work_center_id:
        wcs = [w for w in wcs if w["id"] == int(work_center_id)]
    available = mes.available_minutes(uow, [w["id"] for w in wcs], starts, 7)
    load: dict[tuple[int, int], Decimal] = {}
    for ln in lines:
        key = (ln["work_center_id"], ln["bucket"])
        load[key] = load.get(key, Decimal(0)) + ln["minutes"]
    for w in wcs:
        cells = []
        for k, day in enumerate(starts):
            cell = _cell(load.get((w["id"], k), Decimal(0)), available[w["id"]][k])
            cells.append({"period": day, **cell})
        total_load = sum((load.get((w["id"], k), Decimal(0)) for k in range(n)), Decimal(0))
        total_av = sum(available[w["id"]], Decimal(0))
        out["work_centers"].append({**w, "cells": cells, **_cell(total_load, total_av)})
    skus = product_labels(uow, no_routing)
    out["no_routing"] = [{"product_id": p, "sku": skus.get(p, ("", ""))[0], "name": skus.get(p, ("", ""))[1]}
                         for p in no_routing]
    return out


def capacity_orders(uow: UnitOfWork, work_center_id: int, period: dt.date, *, weeks=DEFAULT_WEEKS,
                    start: dt.date | None = None) -> list[dict]:
    """The orders loading one work center in the week containing `period` (drill-down of a cell), biggest first,
    one row per order: source, source_label, id, number, sku, name, quantity, operation (its operations at the
    work center), minutes, day, past_due."""
    uow.actor.require("erp.planning")
    starts = periods(uow, _weeks(weeks), start)
    monday = period - dt.timedelta(days=period.weekday())
    if monday not in starts or not mes_enabled(uow):
        return []
    k = starts.index(monday)
    _run, lines, _none = load_lines(uow, starts)
    orders: dict[tuple[str, int], dict] = {}
    for ln in lines:
        if ln["work_center_id"] != int(work_center_id) or ln["bucket"] != k:
            continue
        o = orders.get((ln["source"], ln["id"]))
        if o is None:
            orders[(ln["source"], ln["id"])] = {**ln, "operations": [ln["operation"]]}
        else:
            o["minutes"] += ln["minutes"]
            o["operations"].append(ln["operation"])
    skus = product_labels(uow, {o["product_id"] for o in orders.values()})
    out = []
    for o in sorted(orders.values(), key=lambda x: (-x["minutes"], x["source"], x["id"])):
        sku, name = skus.get(o["product_id"], ("", ""))
        out.append({**o, "operation": "、".join(o["operations"]), "source_label": str(SOURCE_LABELS[o["source"]]),
                    "sku": sku, "name": name, "minutes": o["minutes"].quantize(M2, ROUND_HALF_UP)})
    return out


def export_rows(uow: UnitOfWork, *, weeks=DEFAULT_WEEKS, start: dt.date | None = None) -> tuple[list[str], list[list]]:
    """One row per work center and week, for XLSX/CSV."""
    data = rough_cut_capacity(uow, weeks=weeks, start=start)
    header = [_("工作中心"), _("名称"), _("周开始"), _("负荷（分钟）"), _("可用（分钟）"), _("负荷率 %"), _("超负荷")]
    rows = []
    for w in data["work_centers"]:
        for c in w["cells"]:
            rows.append([w["code"], w["name"], c["period"].isoformat(), c["load_minutes"], c["available_minutes"],
                         c["utilisation_pct"], _("是") if c["overloaded"] else ""])
    return [str(h) for h in header], rows
