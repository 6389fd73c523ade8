"""Multi-warehouse distribution planning (多地分仓): demand per warehouse and region, where to hold stock, and
transfer proposals between warehouses. Computed on read; applying a proposal books an internal transfer.

Per active stocked SKU with demand, for every active warehouse:

* **Demand** = the confirmed (or done) sales-order quantity of the last `lookback_days` (90) (ERP sales
  `demand_by_order`), by the order's warehouse (an OMS channel order's warehouse is its ERP sales order's);
  an order without a warehouse counts for the warehouse nearest its ship-to province. The **region** is the
  ship-to province: the OMS fulfilment's receiver province when the OMS has one, else the customer's.
  **Daily demand** = demand / lookback days; when the latest approved (or published) forecast run has the
  SKU, the forecast's daily quantity × the warehouse's share of the SKU's demand instead.
* **Target stock** = daily demand × `cover_days` (30) + safety stock: the warehouse's own (an ERP planning
  policy for that warehouse), else its share of the SKU's (the company-wide planning policy's, else
  `scm.policy`'s on the forecast run used, else 0).
* **Position** = available (on hand − reservations, inventory `stock_by_warehouse`); **surplus** = available −
  target when positive (what may leave without taking the warehouse below its target), **shortage** = target −
  available when positive.

**Transfer proposals** solve, per SKU, a transportation problem in whole units: surplus warehouses supply
⌊surplus⌋, shortage warehouses take ⌈shortage⌉, the arc cost is the great-circle distance between the
warehouses' provinces (capitals, km; unknown provinces cost the same for every pair) + 1; OR-Tools' min-cost
flow moves the most units at the least cost (`solve_max_flow_with_min_cost`). A flow below the minimum
transfer quantity (`min_qty`, 1) is not proposed: that arc is removed and the SKU solved again, until every
flow is at least the minimum. A source therefore never goes below its own target.

Applying one (`apply_transfer`, permission scm.plan) re-reads the source's stock and target in the same
transaction and refuses a proposal the stock has moved under; else it books the transfer through inventory
`transfer_between_warehouses` (free stock only) and audits it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from sqlalchemy import select

from opensupply.core.audit import record
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory import stock_stats
from opensupply.masterdata import models as md
from opensupply.masterdata.addresses import province_distance_km, province_key

from . import policy, risk

DEFAULTS = {"lookback_days": 90, "cover_days": 30, "min_qty": 1}
UNKNOWN_REGION = _l("未知地区")
ZERO = Decimal(0)
Q2, Q4 = Decimal("0.01"), Decimal("0.0001")
REF_TYPE = "scm.distribution"


def params(**raw) -> dict:
    """Validated parameters (defaults in `DEFAULTS`)."""
    out = {}
    for key, name, hi in (("lookback_days", _("回看天数"), 730), ("cover_days", _("覆盖天数"), 365),
                          ("min_qty", _("最小调拨数量"), 1_000_000)):
        value = raw.get(key) if raw.get(key) not in (None, "") else DEFAULTS[key]
        try:
            n = int(value)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(_("{name} 须为整数", name=name), field=key) from exc
        if not 1 <= n <= hi:
            raise ValidationFailed(_("{name} 应在 {lo} 到 {hi} 之间", name=name, lo=1, hi=hi), field=key)
        out[key] = n
    return out


def warehouses(uow: UnitOfWork) -> list[dict]:
    return [{"id": i, "code": c, "name": n, "province": p} for i, c, n, p in uow.session.execute(
        select(md.Warehouse.id, md.Warehouse.code, md.Warehouse.name, md.Warehouse.province)
        .where(md.Warehouse.company_id == uow.company_id, md.Warehouse.active.is_(True)).order_by(md.Warehouse.code))]


def _oms_provinces(uow: UnitOfWork, since: dt.date, until: dt.date) -> dict[int, str]:
    from opensupply.core.modules import enabled_for

    if "oms" not in enabled_for(uow):
        return {}
    from opensupply.oms.fulfilments import ship_to_provinces

    return ship_to_provinces(uow, since=since, until=until)


def _nearest(whs: list[dict], province: str | None) -> int | None:
    if not whs or province_key(province) is None:
        return None
    return min(whs, key=lambda w: (province_distance_km(w["province"], province), w["code"]))["id"]


def warehouse_cost(a: dict, b: dict) -> int:
    """Unit cost of moving goods from warehouse a to b: province distance in km + 1."""
    return round(province_distance_km(a["province"], b["province"])) + 1


def _demand(uow: UnitOfWork, whs: list[dict], since: dt.date, until: dt.date, product_ids: set[int] | None):
    from opensupply.erp.sales import service as sales

    rows = [r for r in sales.demand_by_order(uow, since=since, until=until)
            if r["quantity"] > 0 and (product_ids is None or r["product_id"] in product_ids)]
    oms = _oms_provinces(uow, since, until) if rows else {}
    known = {w["id"] for w in whs}
    by_wh: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    by_region: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    unassigned = ZERO
    for r in rows:
        province = oms.get(r["sales_order_id"]) or r["province"]
        wh = r["warehouse_id"] if r["warehouse_id"] in known else _nearest(whs, province)
        by_region[(r["product_id"], province_key(province) or "")] += r["quantity"]
        if wh is None:
            unassigned += r["quantity"]
            continue
        by_wh[(r["product_id"], wh)] += r["quantity"]
    return by_wh, by_region, unassigned


def _safety(uow: UnitOfWork, run, product_ids: set[int]) -> dict[int, Decimal]:
    from opensupply.erp.planning.policies import planning_parameters

    out = {}
    if run is not None:
        out = {r["product_id"]: Decimal(r["safety_stock"]) for r in policy.inventory_policy(uow, run.id, lead_time=1)}
    for pid, plan in planning_parameters(uow).items():
        if plan.get("safety_stock"):
            out[pid] = plan["safety_stock"]
    return {pid: out[pid] for pid in product_ids if pid in out}


def positions(uow: UnitOfWork, *, product_ids: set[int] | None = None, **raw) -> dict:
    """Demand, target and stock per SKU and warehouse (see the module docstring):
    {"params", "today", "warehouses", "skus": [{"product_id", "sku", "name", "daily_demand", "demand",
    "safety_stock", "demand_source", "regions": [(province, qty, share)], "rows": [{"warehouse_id", "share",
    "demand", "daily_demand", "target", "on_hand", "available", "surplus", "shortage"}]}], "unassigned",
    "forecast_run"}."""
    uow.actor.require("scm.read")
    p = params(**raw)
    today = company_today(uow)
    whs = warehouses(uow)
    by_wh, by_region, unassigned = _demand(uow, whs, today - dt.timedelta(days=p["lookback_days"] - 1), today,
                                           product_ids)
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (pid, _w), qty in by_wh.items():
        totals[pid] += qty
    ids = {pid for pid, qty in totals.items() if qty > 0}
    run = risk.latest_approved_run(uow)
    forecast = risk.forecast_daily(uow, run) if run is not None and ids else {}
    safety = _safety(uow, run, ids) if ids else {}
    from opensupply.erp.planning.policies import warehouse_safety_stocks

    own_safety = warehouse_safety_stocks(uow) if ids else {}
    stock = stock_stats.stock_by_warehouse(uow, sorted(ids))
    products = {pid: (sku, name) for pid, sku, name in uow.session.execute(
        select(md.Product.id, md.Product.sku, md.Product.name).where(
            md.Product.company_id == uow.company_id, md.Product.active.is_(True), md.Product.product_type != "service",
            md.Product.id.in_(ids or [0])))}
    regions: dict[int, list] = defaultdict(list)
    for (pid, prov), qty in by_region.items():
        regions[pid].append((prov or str(UNKNOWN_REGION), qty))
    skus = []
    for pid, (sku, name) in products.items():
        total = totals[pid]
        daily_total = Decimal(forecast[pid]) if pid in forecast else total / p["lookback_days"]
        ss = safety.get(pid, ZERO)
        rows = []
        for w in whs:
            qty = by_wh.get((pid, w["id"]), ZERO)
            share = qty / total
            daily = daily_total * share
            wss = own_safety.get((pid, w["id"]), ss * share)
            target = (daily * p["cover_days"] + wss).quantize(Q2, ROUND_HALF_UP)
            on_hand, available = stock.get((w["id"], pid), (ZERO, ZERO))
            rows.append({"warehouse_id": w["id"], "warehouse": w["code"], "share": share.quantize(Q4, ROUND_HALF_UP),
                         "demand": qty, "daily_demand": daily.quantize(Q4, ROUND_HALF_UP), "target": target,
                         "on_hand": on_hand, "available": available,
                         "surplus": max(available - target, ZERO), "shortage": max(target - available, ZERO)})
        region_total = sum((q for _p, q in regions[pid]), ZERO)
        skus.append({"product_id": pid, "sku": sku, "name": name, "demand": total,
                     "daily_demand": daily_total.quantize(Q4, ROUND_HALF_UP), "safety_stock": ss.quantize(Q2),
                     "demand_source": "forecast" if pid in forecast else "history", "rows": rows,
                     "regions": sorted(((prov, q, (q / region_total).quantize(Q4, ROUND_HALF_UP))
                                        for prov, q in regions[pid]), key=lambda x: (-x[1], x[0]))})
    skus.sort(key=lambda s: (-s["demand"], s["sku"]))
    return {"params": p, "today": today, "warehouses": whs, "skus": skus, "unassigned": unassigned,
            "forecast_run": {"id": run.id, "number": run.number} if run is not None else None}


def solve_transfers(supply: dict[int, int], demand: dict[int, int], cost: dict[tuple[int, int], int],
                    min_qty: int = 1) -> dict[tuple[int, int], int]:
    """Pure: whole units from supply nodes to demand nodes, the most units at the least cost, every flow ≥
    `min_qty` (a smaller flow's arc is removed and the problem solved again). {(from, to): units}."""
    from ortools.graph.python import min_cost_flow

    src = sorted(k for k, v in supply.items() if v > 0)
    dst = sorted(k for k, v in demand.items() if v > 0)
    banned: set[tuple[int, int]] = set()
    while True:
        arcs = [(i, j) for i in src for j in dst if i != j and (i, j) not in banned]
        if not arcs:
            return {}
        node = {k: n for n, k in enumerate(src + [j for j in dst if j not in src])}
        mcf = min_cost_flow.SimpleMinCostFlow()
        for i, j in arcs:
            mcf.add_arc_with_capacity_and_unit_cost(node[i], node[j], min(supply[i], demand[j]), cost[(i, j)])
        for i in src:
            mcf.set_node_supply(node[i], supply[i])
        for j in dst:
            mcf.set_node_supply(node[j], -demand[j])
        if mcf.solve_max_flow_with_min_cost() != mcf.OPTIMAL:
            return {}
        flows = {arc: mcf.flow(a) for a, arc in enumerate(arcs) if mcf.flow(a) > 0}
        small = {arc for arc, q in flows.items() if q < min_qty}
        if not small:
            return flows
        banned |= small


def _units(value: Decimal, rounding) -> int:
    return int(value.to_integral_value(rounding=rounding))


def plan(uow: UnitOfWork, *, product_ids: set[int] | None = None, **raw) -> dict:
    """The positions and the transfer proposals: {**positions, "proposals": [{"product_id", "sku", "name",
    "from_warehouse_id", "from_warehouse", "to_warehouse_id", "to_warehouse", "quantity", "distance_km",
    "source_available", "source_target", "dest_available", "dest_target", "reason"}]}."""
    pos = positions(uow, product_ids=product_ids, **raw)
    whs = {w["id"]: w for w in pos["warehouses"]}
    cost = {(a, b): warehouse_cost(whs[a], whs[b]) for a in whs for b in whs if a != b}
    proposals = []
    for s in pos["skus"]:
        rows = {r["warehouse_id"]: r for r in s["rows"]}
        supply = {w: _units(r["surplus"], ROUND_FLOOR) for w, r in rows.items()}
        need = {w: _units(r["shortage"], ROUND_CEILING) for w, r in rows.items()}
        for (i, j), qty in sorted(solve_transfers(supply, need, cost, pos["params"]["min_qty"]).items()):
            a, b = rows[i], rows[j]
            proposals.append({
                "product_id": s["product_id"], "sku": s["sku"], "name": s["name"],
                "from_warehouse_id": i, "from_warehouse": whs[i]["code"], "to_warehouse_id": j,
                "to_warehouse": whs[j]["code"], "quantity": Decimal(qty), "distance_km": cost[(i, j)] - 1,
                "source_available": a["available"], "source_target": a["target"],
                "dest_available": b["available"], "dest_target": b["target"],
                "reason": _("{src} 可用 {sa}，高于目标 {st}；{dst} 可用 {da}，低于目标 {dt}（缺 {short}）",
                            src=whs[i]["code"], sa=_fmt(a["available"]), st=_fmt(a["target"]), dst=whs[j]["code"],
                            da=_fmt(b["available"]), dt=_fmt(b["target"]), short=_fmt(b["shortage"]))})
    return {**pos, "proposals": proposals}


def _fmt(value: Decimal) -> str:
    return inv.fmt_qty(value)


def summary(data: dict) -> dict:
    rows = [r for s in data["skus"] for r in s["rows"]]
    moved = sum((p["quantity"] for p in data["proposals"]), ZERO)
    shortage = sum((r["shortage"] for r in rows), ZERO)
    return {"skus": len(data["skus"]), "warehouses": len(data["warehouses"]), "proposals": len(data["proposals"]),
            "transfer_qty": moved, "shortage_qty": shortage, "surplus_qty": sum((r["surplus"] for r in rows), ZERO),
            "uncovered_qty": max(shortage - moved, ZERO), "unassigned_demand": data["unassigned"]}


def _match(p: dict, q: str, warehouse_id: int | None) -> bool:
    if warehouse_id is not None and warehouse_id not in (p["from_warehouse_id"], p["to_warehouse_id"]):
        return False
    if q:
        text = q.strip().lower()
        return any(text in (v or "").lower() for v in (p["sku"], p["name"], p["from_warehouse"], p["to_warehouse"]))
    return True


def distribution(uow: UnitOfWork, *, q: str = "", warehouse_id: int | None = None, limit: int = 50, offset: int = 0,
                 **raw) -> dict:
    """One page of proposals (search by SKU, name or warehouse code; `warehouse_id`: those from or to it) with
    the summary of the whole plan and the demand shares per SKU: {"items", "total", "summary", "skus",
    "warehouses", "params", "today", "forecast_run"}."""
    wh = int(warehouse_id) if warehouse_id not in (None, "") else None
    data = plan(uow, **raw)
    shown = [p for p in data["proposals"] if _match(p, q, wh)]
    limit, offset = max(1, min(int(limit), 500)), max(0, int(offset))
    skus = [s for s in data["skus"] if not q or q.strip().lower() in (s["sku"] + " " + s["name"]).lower()]
    return {"items": shown[offset:offset + limit], "total": len(shown), "summary": summary(data), "skus": skus,
            "warehouses": data["warehouses"], "params": data["params"], "today": data["today"],
            "forecast_run": data["forecast_run"]}


def _decimal(value, field: str) -> Decimal:
    try:
        out = Decimal(str(value))
    except Exception as exc:
        raise ValidationFailed(_("数量格式不正确"), field=field) from exc
    if not out.is_finite() or out <= 0:
        raise ValidationFailed(_("调拨数量须大于 0"), field=field)
    return out


def apply_transfer(uow: UnitOfWork, *, product_id: int, from_warehouse_id: int, to_warehouse_id: int, quantity,
                   expected_available=None, **raw) -> dict:
    """Book one proposal as an internal transfer, in the caller's transaction. The source's stock and target are
    read again (under the quant locks the transfer takes): a proposal is refused when the source's available
    stock is no longer what the proposal saw (`expected_available`) or when moving `quantity` would take the
    source below its target. Returns {"move_ids", "reference", ...the transfer}."""
    uow.actor.require("scm.plan")
    qty = _decimal(quantity, "quantity")
    pid, src, dst = int(product_id), int(from_warehouse_id), int(to_warehouse_id)
    whs = {w["id"]: w for w in warehouses(uow)}
    for wid in (src, dst):
        if wid not in whs:
            raise NotFound(_("仓库不存在：#{id}", id=wid), field="warehouse")
    product = uow.session.get(md.Product, pid)
    if product is None or product.company_id != uow.company_id:
        raise NotFound(_("商品不存在：#{id}", id=pid), field="product_id")
    inv.lock_warehouse_stock(uow, [pid], src)  # what is read below holds until the transfer is booked
    pos = positions(uow, product_ids={pid}, **raw)
    row = next((r for s in pos["skus"] for r in s["rows"] if r["warehouse_id"] == src), None)
    available = stock_stats.stock_by_warehouse(uow, [pid]).get((src, pid), (ZERO, ZERO))[1]
    target = row["target"] if row is not None else ZERO
    if expected_available not in (None, "") and _decimal_or_none(expected_available) != available:
        raise Conflict(_("库存已变动：{sku} 在仓库 {wh} 的可用数量由 {before} 变为 {now}，请重新计算调拨建议",
                         sku=product.sku, wh=whs[src]["code"], before=_fmt(Decimal(str(expected_available))),
                         now=_fmt(available)), code="stale_proposal")
    if available - qty < target:
        raise Conflict(_("库存已变动：{sku} 在仓库 {wh} 可用 {now}，目标库存 {target}，调出 {qty} 后将低于目标，"
                         "请重新计算调拨建议", sku=product.sku, wh=whs[src]["code"], now=_fmt(available),
                         target=_fmt(target), qty=_fmt(qty)), code="stale_proposal")
    reference = f"DIST-{whs[src]['code']}-{whs[dst]['code']}"
    move_ids = inv.transfer_between_warehouses(
        uow, [inv.WarehouseTransfer(pid, qty, src, dst)], reference=reference, ref_type=REF_TYPE,
        note=_("分仓调拨建议：{src} → {dst}", src=whs[src]["code"], dst=whs[dst]["code"]))
    out = {"product_id": pid, "sku": product.sku, "from_warehouse_id": src, "to_warehouse_id": dst,
           "quantity": str(qty), "reference": reference, "move_ids": move_ids,
           "source_available_before": str(available), "source_target": str(target)}
    record(uow.session, "apply", "scm.distribution_transfer", move_ids[0] if move_ids else pid, after=out)
    return out


def _decimal_or_none(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except Exception:
        return None


EXPORT_HEADER = (_l("物料编码"), _l("名称"), _l("调出仓库"), _l("调入仓库"), _l("调拨数量"), _l("距离（公里）"),
                 _l("调出仓可用"), _l("调出仓目标"), _l("调入仓可用"), _l("调入仓目标"), _l("原因"))


def export_rows(uow: UnitOfWork, *, q: str = "", warehouse_id: int | None = None, **raw) -> tuple[list[str], list]:
    wh = int(warehouse_id) if warehouse_id not in (None, "") else None
    rows = [[p["sku"], p["name"], p["from_warehouse"], p["to_warehouse"], p["quantity"], p["distance_km"],
             p["source_available"], p["source_target"], p["dest_available"], p["dest_target"], p["reason"]]
            for p in plan(uow, **raw)["proposals"] if _match(p, q, wh)]
    return [str(h) for h in EXPORT_HEADER], rows


def chart(data: dict, top: int = 15) -> dict:
    """ECharts data: demand share per warehouse (stacked bars, %) of the biggest SKUs."""
    skus = data["skus"][:top]
    return {"skus": [s["sku"] for s in skus],
            "series": [{"name": w["code"], "data": [float(next(r["share"] for r in s["rows"]
                                                                 if r["warehouse_id"] == w["id"]) * 100)
                                                    for s in skus]} for w in data["warehouses"]]}
