"""Inventory risk dashboard (库存风险): per SKU, how long the stock lasts and what is at risk. Computed on read.

Per active stocked product (on hand ≠ 0 or some demand), for the whole company or one warehouse:

* **On hand**: internal locations (inventory), of the warehouse when one is chosen.
* **Average daily demand**: the final quantities of the latest approved (or published) forecast run over its
  horizon / the days the horizon covers, for the SKUs of such a run when no warehouse is chosen; else the
  confirmed sales-order demand of the last 90 days / 90 (ERP sales `demand_history`, of the chosen warehouse's
  orders when one is chosen); a SKU without sales in that window (a component) takes what was issued from stock
  to production in it / 90.
* **Days of cover** = on hand / daily demand (none without demand).
* **Lead time**: the product's ERP planning policy, else `lead_time_days` (14). **Safety stock**: the planning
  policy's when set, else `scm.policy` on the forecast run used (service level, lead time one period), else 0.
* **ABC**: `scm.policy.abc_classes` on the last 365 days' sales and issues to production × unit cost.
* **Risk kind**, the first that applies:
  呆滞 dead — stock and no stock movement in `dead_days` (180); 滞销 slow — stock and no sale nor issue to
  production in `slow_days` (90);
  缺货风险 stockout — demand and (cover < lead time or on hand < safety stock); 积压 overstock — cover >
  `overstock_days` (180); else 正常.
* **Quantity at risk**: dead and slow: all on hand; stockout: max(safety stock, lead time × daily demand) − on
  hand (what is missing); overstock: on hand − `overstock_days` × daily demand (the excess). **Value at risk** =
  quantity at risk × unit cost (inventory valuation layers; the product's standard cost when no stock is valued).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import policy
from .models import ForecastLine, ForecastRun
from .service import shift

KINDS = {"dead": _l("呆滞"), "slow": _l("滞销"), "stockout": _l("缺货风险"), "overstock": _l("积压"), "ok": _l("正常")}
COVER_BUCKETS = (("0-7", 0, 7), ("7-30", 7, 30), ("30-90", 30, 90), ("90-180", 90, 180), ("180+", 180, None))
NO_DEMAND = "none"
HISTORY_DAYS = 90
ABC_DAYS = 365
DEFAULTS = {"overstock_days": 180, "slow_days": 90, "dead_days": 180, "lead_time_days": 14, "service_level": 0.95}
ZERO = Decimal(0)
Q2, Q1, Q4 = Decimal("0.01"), Decimal("0.1"), Decimal("0.0001")


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def _int_param(value, name: str, lo: int, hi: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("{name} 须为整数", name=name), field=name) from exc
    if not lo <= n <= hi:
        raise ValidationFailed(_("{name} 应在 {lo} 到 {hi} 之间", name=name, lo=lo, hi=hi), field=name)
    return n


def params(**raw) -> dict:
    """Validated thresholds (defaults in `DEFAULTS`)."""
    out = {}
    for key in ("overstock_days", "slow_days", "dead_days", "lead_time_days"):
        out[key] = _int_param(raw.get(key) if raw.get(key) not in (None, "") else DEFAULTS[key], key, 1, 3650)
    sl = raw.get("service_level")
    try:
        out["service_level"] = float(sl) if sl not in (None, "") else DEFAULTS["service_level"]
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("服务水平须在 50% 到 99.9% 之间"), field="service_level") from exc
    if not 0.5 <= out["service_level"] < 1:
        raise ValidationFailed(_("服务水平须在 50% 到 99.9% 之间"), field="service_level")
    return out


def latest_approved_run(uow: UnitOfWork) -> ForecastRun | None:
    return uow.session.scalar(select(ForecastRun).where(ForecastRun.company_id == uow.company_id,
                                                        ForecastRun.state.in_(("approved", "published")))
                              .order_by(ForecastRun.id.desc()).limit(1))


def forecast_daily(uow: UnitOfWork, run: ForecastRun) -> dict[int, Decimal]:
    """Per product, the run's final quantities over its horizon / the days the horizon covers."""
    days = (shift(run.first_period, run.bucket, run.horizon) - run.first_period).days
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for ln in uow.session.scalars(select(ForecastLine).where(ForecastLine.run_id == run.id)):
        totals[ln.product_id] += ln.final_qty
    return {p: q / days for p, q in totals.items()} if days > 0 else {}


def _local_date(moment: dt.datetime | None, tz) -> dt.date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(tz).date()


def _classify(on_hand: Decimal, daily: Decimal, cover: Decimal | None, lead: int, safety: Decimal,
              sold_recently: bool, moved_recently: bool, p: dict) -> tuple[str, Decimal]:
    if on_hand > 0 and not moved_recently:
        return "dead", on_hand
    if on_hand > 0 and not sold_recently:
        return "slow", on_hand
    if daily > 0 and (cover < lead or on_hand < safety):
        return "stockout", max(max(safety, daily * lead) - on_hand, ZERO)
    if cover is not None and cover > p["overstock_days"]:
        return "overstock", on_hand - daily * p["overstock_days"]
    return "ok", ZERO


def risk_rows(uow: UnitOfWork, *, warehouse_id: int | None = None, abc: str | None = None, q: str = "",
              **raw) -> tuple[list[dict], dict]:
    """Every SKU's row (see the module docstring) for the warehouse, class and search, biggest value at risk
    first, and the context: {"params", "today", "demand_source": "forecast" | "history", "forecast_run"}."""
    uow.actor.require("scm.read")
    from opensupply.erp.planning.policies import planning_parameters
    from opensupply.erp.sales import service as sales
    from opensupply.inventory import stock_stats

    p = params(**raw)
    today = company_today(uow)  # also caches the company's time zone on the session
    tz = uow.session.info.get("company_tz") or ZoneInfo("Asia/Shanghai")
    wh = int(warehouse_id) if warehouse_id not in (None, "") else None
    on_hand = stock_stats.on_hand_by_warehouse(uow, wh)
    moved = stock_stats.last_movement(uow, wh)
    costs = stock_stats.unit_costs(uow)
    lookback = max(ABC_DAYS, p["slow_days"])
    hist_qty: dict[int, Decimal] = defaultdict(lambda: ZERO)
    abc_qty: dict[int, Decimal] = defaultdict(lambda: ZERO)
    last_sale: dict[int, dt.date] = {}
    history_since = today - dt.timedelta(days=HISTORY_DAYS - 1)
    abc_since = today - dt.timedelta(days=ABC_DAYS - 1)
    for r in sales.demand_history(uow, since=today - dt.timedelta(days=lookback - 1), until=today):
        if wh is not None and r["warehouse_id"] != wh:
            continue
        pid, day, qty = r["product_id"], r["date"], r["quantity"]
        if qty <= 0:
            continue
        if day >= history_since:
            hist_qty[pid] += qty
        if day >= abc_since:
            abc_qty[pid] += qty
        if pid not in last_sale or day > last_sale[pid]:
            last_sale[pid] = day
    def window(days: int) -> dt.datetime:
        return dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(0), tzinfo=tz)

    # components are not sold but issued to production: that is their demand
    used = stock_stats.consumption(uow, window(HISTORY_DAYS), wh)
    used_abc = stock_stats.consumption(uow, window(ABC_DAYS), wh)
    used_slow = used_abc if p["slow_days"] <= ABC_DAYS else stock_stats.consumption(uow, window(p["slow_days"]), wh)
    last_used = {pid: _local_date(last, tz) for pid, (_q, last) in used_slow.items()}
    for pid, (qty, _last) in used_abc.items():
        abc_qty[pid] += qty
    run = latest_approved_run(uow)
    daily = {pid: qty / HISTORY_DAYS for pid, (qty, _last) in used.items() if qty > 0}
    daily.update({pid: qty / HISTORY_DAYS for pid, qty in hist_qty.items()})  # sales win over consumption
    forecast: dict[int, Decimal] = {}
    if run is not None and wh is None:
        forecast = forecast_daily(uow, run)
        daily.update(forecast)  # SKUs the run did not forecast keep their sales history
    source = "forecast" if forecast else "history"
    planning = planning_parameters(uow)
    run_ss = {}
    if run is not None:
        run_ss = {r["product_id"]: r["safety_stock"]
                  for r in policy.inventory_policy(uow, run.id, service_level=p["service_level"], lead_time=1)}
    values = {pid: float(qty * (costs.get(pid) or 1)) for pid, qty in abc_qty.items()}
    classes = policy.abc_classes({k: v for k, v in values.items() if v > 0})
    ids = {pid for pid, qty in on_hand.items() if qty != 0} | {pid for pid, d in daily.items() if d > 0}
    stmt = select(md.Product.id, md.Product.sku, md.Product.name).where(
        md.Product.company_id == uow.company_id, md.Product.active.is_(True), md.Product.product_type != "service",
        md.Product.id.in_(ids or [0]))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(md.Product.sku.ilike(like) | md.Product.name.ilike(like))
    rows = []
    for pid, sku, name in uow.session.execute(stmt):
        cls = classes.get(pid, "C")
        if abc and cls != abc:
            continue
        oh, d = on_hand.get(pid, ZERO), Decimal(daily.get(pid, ZERO))
        cover = (oh / d) if d > 0 else None
        plan = planning.get(pid, {})
        lead = plan.get("lead_time_days") or p["lead_time_days"]
        safety = plan.get("safety_stock") or Decimal(run_ss.get(pid, ZERO))
        sale, use = last_sale.get(pid), last_used.get(pid)
        latest = max((x for x in (sale, use) if x is not None), default=None)
        move = _local_date(moved.get(pid), tz)
        kind, qty_at_risk = _classify(oh, d, cover, lead, safety,
                                      latest is not None and (today - latest).days < p["slow_days"],
                                      move is not None and (today - move).days < p["dead_days"], p)
        cost = costs.get(pid, ZERO)
        rows.append({"product_id": pid, "sku": sku, "name": name, "abc": cls, "on_hand": oh, "unit_cost": cost,
                     "stock_value": (oh * cost).quantize(Q2, ROUND_HALF_UP),
                     "daily_demand": d.quantize(Q4, ROUND_HALF_UP),
                     "cover_days": None if cover is None else cover.quantize(Q1, ROUND_HALF_UP),
                     "demand_source": "forecast" if pid in forecast else "history", "lead_time_days": lead,
                     "safety_stock": safety.quantize(Q2, ROUND_HALF_UP), "last_sale": sale, "last_consumed": use,
                     "last_movement": move, "kind": kind, "kind_label": kind_label(kind),
                     "qty_at_risk": qty_at_risk.quantize(Q2, ROUND_HALF_UP),
                     "value_at_risk": (qty_at_risk * cost).quantize(Q2, ROUND_HALF_UP)})
    rows.sort(key=lambda r: (-r["value_at_risk"], r["sku"]))
    return rows, {"params": p, "today": today, "demand_source": source,
                  "forecast_run": {"id": run.id, "number": run.number} if run is not None else None}


def summary(rows: list[dict]) -> dict:
    """Count and value at risk per kind, the stock value, and how many SKUs fall in each cover band."""
    by_kind = {k: {"count": 0, "value_at_risk": Decimal("0.00")} for k in KINDS}
    cover = {label: 0 for label, _lo, _hi in COVER_BUCKETS} | {NO_DEMAND: 0}
    for r in rows:
        by_kind[r["kind"]]["count"] += 1
        by_kind[r["kind"]]["value_at_risk"] += r["value_at_risk"]
        c = r["cover_days"]
        if c is None:
            cover[NO_DEMAND] += 1
            continue
        for label, lo, hi in COVER_BUCKETS:
            if c >= lo and (hi is None or c < hi):
                cover[label] += 1
                break
    return {"by_kind": by_kind, "cover": cover, "skus": len(rows),
            "stock_value": sum((r["stock_value"] for r in rows), Decimal("0.00")),
            "value_at_risk": sum((r["value_at_risk"] for r in rows), Decimal("0.00"))}


def _check_filters(abc: str | None, kind: str | None) -> None:
    if abc and abc not in ("A", "B", "C"):
        raise ValidationFailed(_("ABC 分类无效：{value}", value=abc), field="abc")
    if kind and kind not in KINDS:
        raise ValidationFailed(_("风险类型无效：{value}", value=kind), field="kind")


def inventory_risk(uow: UnitOfWork, *, warehouse_id: int | None = None, abc: str | None = None,
                   kind: str | None = None, q: str = "", limit: int = 50, offset: int = 0, **raw) -> dict:
    """One page of the dashboard: {"items", "total", "summary" (of every kind, before the kind filter),
    "params", "today", "demand_source", "forecast_run"}."""
    _check_filters(abc, kind)
    rows, ctx = risk_rows(uow, warehouse_id=warehouse_id, abc=abc, q=q, **raw)
    shown = [r for r in rows if r["kind"] == kind] if kind else rows
    limit, offset = max(1, min(int(limit), 500)), max(0, int(offset))
    return {"items": shown[offset:offset + limit], "total": len(shown), "summary": summary(rows), **ctx}


def warehouses(uow: UnitOfWork) -> list[tuple[int, str, str]]:
    return list(uow.session.execute(select(md.Warehouse.id, md.Warehouse.code, md.Warehouse.name)
                                    .where(md.Warehouse.company_id == uow.company_id).order_by(md.Warehouse.code)))


EXPORT_HEADER = (_l("物料编码"), _l("名称"), "ABC", _l("在库数量"), _l("单位成本"), _l("库存金额"), _l("日均需求"),
                 _l("可供天数"), _l("提前期（天）"), _l("安全库存"), _l("最近销售"), _l("最近领用"), _l("最近出入库"),
                 _l("风险类型"), _l("风险数量"), _l("风险金额"))


def export_rows(uow: UnitOfWork, *, kind: str | None = None, **filters) -> tuple[list[str], list[list]]:
    _check_filters(filters.get("abc"), kind)
    rows, _ctx = risk_rows(uow, **filters)
    if kind:
        rows = [r for r in rows if r["kind"] == kind]
    out = [[r["sku"], r["name"], r["abc"], r["on_hand"], r["unit_cost"], r["stock_value"], r["daily_demand"],
            r["cover_days"], r["lead_time_days"], r["safety_stock"],
            r["last_sale"].isoformat() if r["last_sale"] else "",
            r["last_consumed"].isoformat() if r["last_consumed"] else "",
            r["last_movement"].isoformat() if r["last_movement"] else "", r["kind_label"], r["qty_at_risk"],
            r["value_at_risk"]] for r in rows]
    return [str(h) for h in EXPORT_HEADER], out

