"""MRP use cases: run a regeneration (at once or as the background job `erp.mrp`), list planned orders,
firm one into a draft purchase order (ERP purchasing) or a work order (MES), cancel, firm in bulk.

A run reads everything with a few set-based queries (released structure, policies, available stock, open
sales order lines, open purchase order lines, open work orders, independent demand), plans in memory
(`engine.plan`, pure) and writes planned orders and pegging with bulk inserts. It first deletes the previous
runs' planned orders that were not firmed: firmed ones became real documents and come back as supply.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import delete, func, or_, select

from opensupply.core import jobs
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.masterdata import boms
from opensupply.masterdata import models as md

from . import engine
from .models import LOT_RULES, MAKE_OR_BUY, IndependentDemand, MrpRun, Pegging, PlannedOrder, PlanningPolicy

register_sequence("ERP_MRP", "MRP{year}-", 5)
JOB_KIND = "erp.mrp"
SCALE = engine.SCALE
Q6 = Decimal("0.000001")
KIND_LABELS = {"purchase": _l("计划采购"), "production": _l("计划生产")}
STATE_LABELS = {"planned": _l("计划"), "firmed": _l("已确认"), "cancelled": _l("已取消")}
SOURCE_LABELS = {"sales_order_line": _l("销售订单"), "independent_demand": _l("独立需求"),
                 "planned_order": _l("上层计划订单"), "work_order": _l("生产工单用料"), "safety_stock": _l("安全库存")}


def _micro(value) -> int:
    return int((Decimal(value) * SCALE).to_integral_value(rounding="ROUND_CEILING")) if value else 0


def _dec(micro: int) -> Decimal:
    return (Decimal(micro) / SCALE).quantize(Q6)


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _released_structure(uow: UnitOfWork) -> dict[int, list[tuple[int, Decimal]]]:
    """Product → [(component, quantity per unit of the product, scrap included)] of the released BOMs, as
    `masterdata.boms.released_structure` gives it, read with one Core query (the ORM version loads every
    line as an object, seconds on a large plant). Lines in another unit than the component's are converted
    through master data."""
    b, ln, pt = md.Bom.__table__, md.BomLine.__table__, md.Product.__table__
    out: dict[int, list] = {}
    odd: list[int] = []
    for pid, bqty, cid, qty, scrap, luom, cuom in uow.session.execute(
            select(b.c.product_id, b.c.quantity, ln.c.component_id, ln.c.quantity, ln.c.scrap_pct, ln.c.uom_id,
                   pt.c.uom_id).join(ln, ln.c.bom_id == b.c.id).join(pt, pt.c.id == ln.c.component_id)
            .where(b.c.company_id == uow.company_id, b.c.state == "released", ln.c.is_byproduct.is_(False))):
        if luom != cuom:
            odd.append(pid)
            continue
        out.setdefault(pid, []).append((cid, Decimal(qty) * (1 + Decimal(scrap or 0) / 100) / Decimal(bqty)))
    if odd:
        for pid, lines in boms.released_structure(uow, set(odd)).items():
            out[pid] = [(sl.component_id, sl.per_unit) for sl in lines]
    return out


POLICY_FIELDS = ("lead_time_days", "lot_rule", "fixed_qty", "eoq_qty", "annual_demand", "order_cost", "holding_cost",
                 "poq_periods", "min_qty", "multiple", "safety_stock", "make_or_buy", "preferred_supplier_id")


def set_policy(uow: UnitOfWork, values: dict) -> PlanningPolicy:
    """Create or replace the company-wide planning policy of `values["product_id"]`; fields left out keep
    their defaults (a new policy) or current values."""
    uow.actor.require("erp.planning_run")
    lot_rule = values.get("lot_rule", "lot_for_lot")
    if lot_rule not in LOT_RULES:
        raise ValidationFailed(_("批量规则无效：{value}", value=lot_rule), field="lot_rule")
    make_or_buy = values.get("make_or_buy", "auto")
    if make_or_buy not in MAKE_OR_BUY:
        raise ValidationFailed(_("自制/外购无效：{value}", value=make_or_buy), field="make_or_buy")
    for key in ("fixed_qty", "eoq_qty", "min_qty", "multiple", "safety_stock"):
        v = values.get(key)
        if v is not None and v < 0:
            raise ValidationFailed(_("数量不能为负数"), field=key)
    if lot_rule == "fixed" and not values.get("fixed_qty"):
        raise ValidationFailed(_("固定批量规则需要填写固定批量"), field="fixed_qty")
    if lot_rule == "eoq" and not values.get("eoq_qty") and not all(
            values.get(k) for k in ("annual_demand", "order_cost", "holding_cost")):
        raise ValidationFailed(_("经济批量规则需要填写经济批量，或年需求量、每次订货成本和单位年持有成本"),
                               field="eoq_qty")
    if lot_rule == "poq" and not values.get("poq_periods"):
        raise ValidationFailed(_("周期批量规则需要填写合并期数"), field="poq_periods")
    if int(values.get("lead_time_days") or 0) < 0:
        raise ValidationFailed(_("提前期不能为负数"), field="lead_time_days")
    if values.get("preferred_supplier_id") not in (None, ""):  # this company's supplier, never another's
        values = dict(values, preferred_supplier_id=purchasing.resolve_supplier(
            uow, int(values["preferred_supplier_id"])).id)
    product_id = int(values["product_id"])
    uow.get(md.Product, product_id)
    row = uow.session.scalar(select(PlanningPolicy).where(PlanningPolicy.company_id == uow.company_id,
                                                          PlanningPolicy.product_id == product_id,
                                                          PlanningPolicy.warehouse_id.is_(None)))
    if row is None:
        row = uow.add(PlanningPolicy(product_id=product_id))
    for k in POLICY_FIELDS:
        if k in values:
            setattr(row, k, values[k])
    uow.flush()
    return row


def delete_policy(uow: UnitOfWork, policy_id: int) -> None:
    """Remove a planning policy: the product is planned with the defaults again (lot for lot, no lead time)."""
    uow.actor.require("erp.planning_run")
    uow.session.delete(uow.get(PlanningPolicy, policy_id))  # another company's policy is not found


def load_problem(uow: UnitOfWork, *, bucket: str = "week", horizon: int = 52,
                 start: dt.date | None = None) -> tuple[engine.Problem, dict]:
    """Everything a run plans from, as plain data (see `engine.Problem`)."""
    if bucket not in ("week", "day"):
        raise ValidationFailed(_("时段只能是周或日"), field="bucket")
    if not 1 <= int(horizon) <= 730:
        raise ValidationFailed(_("计划时段数应在 1 到 730 之间"), field="horizon")
    today = start or company_today(uow)
    start = _week_start(today) if bucket == "week" else today
    bd = 7 if bucket == "week" else 1
    c = uow.company_id
    structure = _released_structure(uow)
    pt = md.Product.__table__
    products = {pid: sku for pid, sku in uow.session.execute(
        select(pt.c.id, pt.c.sku).where(pt.c.company_id == c, pt.c.active.is_(True), pt.c.product_type != "service"))}
    pol = PlanningPolicy.__table__
    policies = {r.product_id: r for r in uow.session.execute(
        select(pol).where(pol.c.company_id == c, pol.c.active.is_(True), pol.c.warehouse_id.is_(None)))}
    items: dict[int, engine.Item] = {}
    for pid in set(products) | set(structure):
        p = policies.get(pid)
        comps = [(c_id, Fraction(per)) for c_id, per in structure.get(pid, ())]
        mob = p.make_or_buy if p is not None else "auto"
        make = (mob == "make") or (mob == "auto" and pid in structure)
        it = engine.Item(pid, make, components=comps if make else [])
        if p is not None:
            it.lead_days = int(p.lead_time_days or 0)
            it.lot_rule = p.lot_rule
            it.fixed_qty = _micro(p.fixed_qty)
            eoq = p.eoq_qty or Decimal(repr(engine.economic_order_quantity(p.annual_demand, p.order_cost,
                                                                             p.holding_cost)))
            it.eoq_qty = _micro(eoq)
            it.poq_periods = int(p.poq_periods or 1)
            it.min_qty = _micro(p.min_qty)
            it.multiple = _micro(p.multiple)
            it.safety_stock = _micro(p.safety_stock)
        items[pid] = it
    for it in items.values():  # a component missing from the product list (inactive) is still planned
        for cid, _q in it.components:
            if cid not in items:
                items[cid] = engine.Item(cid, False)

    def bucket_of(day: dt.date | None) -> int:
        if day is None or day < start:
            return 0
        return (day - start).days // bd

    problem = engine.Problem(start, bd, int(horizon), items)
    problem.available = {p: _micro(max(q, Decimal(0))) for p, q in inv.available_by_product(uow).items()
                         if p in items}
    receipts = problem.receipts
    for pid, day, qty in purchasing.open_order_lines_for_planning(uow):
        b = bucket_of(day)
        if pid in items and b < horizon and qty > 0:
            receipts.setdefault(pid, []).append((b, _micro(qty)))
    po_t = PlannedOrder.__table__
    for pid, day, qty in uow.session.execute(  # firmed, its document still to come (an RFQ in SRM): supply
            select(po_t.c.product_id, po_t.c.due_date, po_t.c.quantity).where(
                po_t.c.company_id == c, po_t.c.state == "firmed", po_t.c.purchase_order_id.is_(None),
                po_t.c.work_order_id.is_(None))):
        b = bucket_of(day)
        if pid in items and b < horizon and qty > 0:
            receipts.setdefault(pid, []).append((b, _micro(qty)))
    demands = problem.demands
    try:
        from opensupply.mes import work_orders
    except ModuleNotFoundError:
        work_orders = None
    if work_orders is not None:
        wo_supply, wo_demand = work_orders.open_work_orders_for_planning(uow)
        for _i, pid, due, qty in wo_supply:
            b = bucket_of(due)
            if pid in items and b < horizon and qty > 0:
                receipts.setdefault(pid, []).append((b, _micro(qty)))
        for wid, pid, due, qty in wo_demand:
            b = bucket_of(due)
            if pid in items and b < horizon and qty > 0:
                demands.setdefault(pid, []).append((b, _micro(qty), "work_order", wid))
    for lid, _num, pid, _wh, day, qty in sales.open_lines_for_planning(uow):
        b = bucket_of(day)
        if pid in items and b < horizon and qty > 0:
            demands.setdefault(pid, []).append((b, _micro(qty), "sales_order_line", lid))
    d = IndependentDemand.__table__
    end = start + dt.timedelta(days=bd * int(horizon))
    for rid, pid, day, qty in uow.session.execute(
            select(d.c.id, d.c.product_id, d.c.demand_date, d.c.quantity)
            .where(d.c.company_id == c, d.c.demand_date < end)):
        if pid in items and qty:
            demands.setdefault(pid, []).append((bucket_of(day), _micro(qty), "independent_demand", rid))
    return problem, {"skus": products, "policies": policies}


def run_mrp(uow: UnitOfWork, *, bucket: str = "week", horizon: int = 52, start: dt.date | None = None,
            run: MrpRun | None = None, progress=None) -> MrpRun:
    """A full regeneration in the caller's unit of work; returns the finished run."""
    uow.actor.require("erp.planning_run")
    t0 = time.perf_counter()
    if run is None:
        run = uow.add(MrpRun(number=next_number(uow, "ERP_MRP"), state="running", bucket=bucket, horizon=horizon,
                             start_date=start or company_today(uow), started_at=utcnow()))
        uow.flush()
    problem, ctx = load_problem(uow, bucket=bucket, horizon=horizon, start=start)
    t_load = time.perf_counter()
    if progress:
        progress(30, _("已读取数据"))
    try:
        result = engine.plan(problem)
    except engine.BomCycle as exc:
        skus = [ctx["skus"].get(p, str(p)) for p in exc.product_ids]
        raise Conflict(_("物料清单存在循环引用：{skus}", skus="、".join(skus[:20])), field="bom") from None
    t_plan = time.perf_counter()
    if progress:
        progress(60, _("已完成计算"))
    run.start_date = problem.start
    save_result(uow, run, result, ctx)
    run.state, run.finished_at = "done", utcnow()
    run.products = len(problem.items)
    run.levels = (max(result.levels.values()) + 1) if result.levels else 0
    run.planned_orders = len(result.orders)
    run.late_orders = sum(1 for o in result.orders if o.past_due)
    uow.flush()
    t_save = time.perf_counter()
    uow.session.info["mrp_phases"] = {"load_s": round(t_load - t0, 3), "plan_s": round(t_plan - t_load, 3),
                                      "save_s": round(t_save - t_plan, 3)}
    return run


def save_result(uow: UnitOfWork, run: MrpRun, result: engine.Result, ctx: dict) -> None:
    """Replace the unfirmed planned orders with the run's, and write their pegging. Rows go to the driver
    directly (ids taken up front, values already in the column formats): the ORM's per-value type
    processing would cost more than the whole calculation on a 10,000-SKU plant."""
    c = uow.company_id
    po_t, peg_t = PlannedOrder.__table__, Pegging.__table__
    old = select(po_t.c.id).where(po_t.c.company_id == c, po_t.c.state != "firmed").scalar_subquery()
    uow.session.execute(delete(peg_t).where(peg_t.c.company_id == c, peg_t.c.planned_order_id.in_(old)))
    uow.session.execute(delete(po_t).where(po_t.c.company_id == c, po_t.c.state != "firmed"))
    if not result.orders:
        return
    policies = ctx["policies"]
    conn = uow.session.connection()
    sqlite = conn.dialect.name == "sqlite"
    n = len(result.orders)
    if sqlite:  # the delete above holds the database's write lock, so max(id) is ours until commit
        first = (conn.execute(select(func.max(po_t.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + n))
    else:
        ids = list(conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{po_t.name}', 'id')) FROM generate_series(1, {n})").scalars())  # noqa: S608
    now = utcnow()
    stamp = now.replace(tzinfo=None).isoformat(sep=" ") if sqlite else now
    uid = uow.actor.user_id

    def d(v):  # a date as the driver takes it
        return v.isoformat() if sqlite else v

    def q(micro: int):  # whole units as int (SQLite stores them without parsing text), else exact text
        whole, frac = divmod(micro, SCALE)
        if frac == 0:
            return whole
        return str(_dec(micro))

    rows = [(ids[o.index], c, run.id, o.product_id, o.kind, q(o.quantity), d(o.release_date), d(o.due_date),
             o.past_due, o.level, "planned",
             policies[o.product_id].preferred_supplier_id if o.kind == "purchase" and o.product_id in policies
             else None, stamp, stamp, uid, uid) for o in result.orders]
    cols = ("id", "company_id", "run_id", "product_id", "kind", "quantity", "release_date", "due_date", "past_due",
            "level", "state", "supplier_id", "created_at", "updated_at", "created_by_id", "updated_by_id")
    _bulk(conn, po_t.name, cols, rows, sqlite)
    start, bd = run.start_date, 7 if run.bucket == "week" else 1
    day = [d(start + dt.timedelta(days=bd * b)) for b in range(run.horizon)]
    peg = [(c, ids[idx], kind, ids[ref] if kind == "planned_order" else ref, q(qty), day[b])
           for idx, kind, ref, qty, b in result.pegging]
    _bulk(conn, peg_t.name, ("company_id", "planned_order_id", "source_kind", "source_id", "quantity",
                             "demand_date"), peg, sqlite)


def _bulk(conn, table: str, cols: tuple[str, ...], rows: list[tuple], sqlite: bool) -> None:
    if not rows:
        return
    raw = conn.connection.driver_connection
    if sqlite:
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608
        raw.executemany(sql, rows)
        return
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        # text format built here: one write per chunk instead of adapting every value in the driver
        for i in range(0, len(rows), 20000):
            cp.write("".join("\t".join(r"\N" if v is None else str(v) for v in r) + "\n"
                             for r in rows[i:i + 20000]))


@jobs.job(JOB_KIND)
def _mrp_job(ctx: jobs.JobContext) -> dict:
    p = ctx.params
    try:
        with ctx.uow() as uow:
            run = uow.get(MrpRun, int(p["run_id"]))
            run_mrp(uow, bucket=run.bucket, horizon=run.horizon, run=run, progress=ctx.progress)
            return {"run_id": run.id, "planned_orders": run.planned_orders}
    except Exception as exc:  # the run's own transaction rolled back: record why on the run, then fail the job
        with ctx.uow() as uow:
            run = uow.get(MrpRun, int(p["run_id"]))
            run.state, run.finished_at = "failed", utcnow()
            run.error = str(getattr(exc, "message", exc))[:2000]
        raise


def start_mrp(uow: UnitOfWork, *, bucket: str = "week", horizon: int = 52) -> MrpRun:
    """Record a run and hand it to the job queue; the page polls the job's progress."""
    uow.actor.require("erp.planning_run")
    run = uow.add(MrpRun(number=next_number(uow, "ERP_MRP"), state="running", bucket=bucket, horizon=int(horizon),
                         start_date=company_today(uow), started_at=utcnow()))
    uow.flush()
    j = jobs.enqueue(uow, JOB_KIND, {"run_id": run.id})
    run.job_id = j.id
    return run


# --------------------------------------------------------------------- planned orders
def product_labels(uow: UnitOfWork, ids) -> dict[int, tuple[str, str]]:
    """Product id → (SKU, name) for the planning pages and the capacity check, in one query."""
    ids = set(ids)
    if not ids:
        return {}
    return {i: (s, n) for i, s, n in uow.session.execute(
        select(md.Product.id, md.Product.sku, md.Product.name).where(md.Product.company_id == uow.company_id,
                                                                      md.Product.id.in_(ids)))}


def list_planned_orders(uow: UnitOfWork, *, kind: str | None = None, state: str | None = None,
                        product_id: int | None = None, late: bool | None = None, q: str | None = None,
                        limit: int = 50, offset: int = 0) -> tuple[list[PlannedOrder], int]:
    uow.actor.require("erp.planning")
    stmt = select(PlannedOrder).where(PlannedOrder.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(PlannedOrder.product_id.in_(select(md.Product.id).where(
            md.Product.company_id == uow.company_id, or_(md.Product.sku.ilike(like), md.Product.name.ilike(like)))))
    if kind:
        stmt = stmt.where(PlannedOrder.kind == kind)
    if state:
        stmt = stmt.where(PlannedOrder.state == state)
    if product_id:
        stmt = stmt.where(PlannedOrder.product_id == product_id)
    if late is not None:
        stmt = stmt.where(PlannedOrder.past_due.is_(late))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(uow.session.scalars(stmt.order_by(PlannedOrder.release_date, PlannedOrder.id)
                                     .limit(limit).offset(offset)))
    return items, total


def pegging_of(uow: UnitOfWork, planned_order_id: int) -> list[Pegging]:
    uow.actor.require("erp.planning")
    uow.get(PlannedOrder, planned_order_id)
    return list(uow.session.scalars(select(Pegging).where(Pegging.company_id == uow.company_id,
                                                          Pegging.planned_order_id == planned_order_id)
                                    .order_by(Pegging.demand_date, Pegging.id)))


def firm_planned_order(uow: UnitOfWork, planned_order_id: int, *, supplier: int | str | None = None):
    """Turn a planned order into a draft purchase order (preferred supplier, else the last one the product
    was bought from, else `supplier`) or a draft work order; returns the document."""
    uow.actor.require("erp.planning_run")
    po = uow.get(PlannedOrder, planned_order_id, for_update=True)
    if po.state != "planned":
        raise Conflict(_("只有计划状态的计划订单可以确认"), field="state")
    if po.kind == "purchase":
        uow.actor.require("erp.purchase")
        sup = supplier or po.supplier_id
        if sup in (None, ""):
            policy = uow.session.scalar(select(PlanningPolicy.preferred_supplier_id).where(
                PlanningPolicy.company_id == uow.company_id, PlanningPolicy.product_id == po.product_id))
            sup = policy or purchasing.last_supplier_by_product(uow, [po.product_id]).get(po.product_id)
        if sup in (None, ""):
            raise ValidationFailed(_("请为计划采购指定供应商（计划参数中没有首选供应商，也没有采购记录）"),
                                   field="supplier")
        doc = purchasing.create_order(uow, sup, [purchasing.OrderLineIn(po.product_id, po.quantity)],
                                      expected_date=po.due_date,
                                      notes=_("计划订单 #{id}", id=po.id))
        po.purchase_order_id, po.supplier_id = doc.id, doc.supplier_id
    else:
        from opensupply.core.modules import enabled_for

        if "mes" not in enabled_for(uow):  # a work order nobody can open is worse than a clear no
            raise Conflict(_("未启用生产模块，不能生成生产工单"), field="kind")
        from opensupply.mes import work_orders
        doc = work_orders.create_work_order(uow, product=po.product_id, quantity=po.quantity, due_date=po.due_date,
                                            source="planned_order", source_ref=f"PLN-{po.id}")
        po.work_order_id = doc.id
    po.state, po.firmed_at = "firmed", utcnow()
    uow.flush()
    uow.emit("erp.planned_order_firmed", planned_order_id=po.id, kind=po.kind,
             purchase_order_id=po.purchase_order_id, work_order_id=po.work_order_id)
    return doc


def get_planned_order(uow: UnitOfWork, planned_order_id: int) -> PlannedOrder:
    uow.actor.require("erp.planning")
    return uow.get(PlannedOrder, planned_order_id)


def firm_for_sourcing(uow: UnitOfWork, planned_order_id: int) -> PlannedOrder:
    """Firm a planned purchase whose supplier is still to be chosen — SRM starts an RFQ from it (发起询价). It leaves
    the plan like any firmed order (a regeneration keeps it, and counts it as supply on its due date until it has
    a document) and gets its purchase order when the RFQ is awarded (`link_purchase_order`), or goes back to the
    plan when the RFQ is cancelled (`return_to_plan`)."""
    uow.actor.require("erp.planning_run")
    po = uow.get(PlannedOrder, planned_order_id, for_update=True)
    if po.state != "planned":
        raise Conflict(_("只有计划状态的计划订单可以确认"), field="state")
    if po.kind != "purchase":
        raise Conflict(_("只有计划采购可以发起询价"), field="kind")
    po.state, po.firmed_at = "firmed", utcnow()
    uow.flush()
    uow.emit("erp.planned_order_firmed", planned_order_id=po.id, kind=po.kind, purchase_order_id=None,
             work_order_id=None)
    return po


def return_to_plan(uow: UnitOfWork, planned_order_id: int) -> PlannedOrder:
    """The RFQ started from a firmed planned purchase was cancelled before it made a purchase order: the planned
    order is planned again (the next run replaces it), instead of standing for supply that will never come."""
    po = uow.get(PlannedOrder, planned_order_id, for_update=True)
    if po.state == "firmed" and po.purchase_order_id is None and po.work_order_id is None:
        po.state, po.firmed_at = "planned", None
        uow.flush()
    return po


def link_purchase_order(uow: UnitOfWork, planned_order_id: int, purchase_order_id: int) -> PlannedOrder:
    """The purchase order a firmed planned purchase became later (an awarded RFQ)."""
    po = uow.get(PlannedOrder, planned_order_id, for_update=True)
    if po.state != "firmed" or po.kind != "purchase":
        raise Conflict(_("计划订单 #{id} 不是已确认的计划采购", id=po.id), field="state")
    doc = purchasing.order_summaries(uow, [purchase_order_id]).get(purchase_order_id)
    po.purchase_order_id = purchase_order_id
    if doc:
        po.supplier_id = doc["supplier_id"]
    uow.flush()
    return po


def firm_planned_orders(uow: UnitOfWork, ids: list[int]) -> list:
    """Firm several planned orders at once, all or none: the first that cannot be firmed stops the lot, and the
    error names it."""
    if not ids:
        raise ValidationFailed(_("请选择要确认的计划订单"), field="order_ids")
    docs = []
    for i in dict.fromkeys(int(x) for x in ids):
        try:
            docs.append(firm_planned_order(uow, i))
        except (Conflict, ValidationFailed, NotFound) as exc:
            exc.message = _("计划订单 #{id}：", id=i) + exc.message
            raise
    return docs


def cancel_planned_order(uow: UnitOfWork, planned_order_id: int) -> PlannedOrder:
    uow.actor.require("erp.planning_run")
    po = uow.get(PlannedOrder, planned_order_id, for_update=True)
    if po.state != "planned":
        raise Conflict(_("只有计划状态的计划订单可以取消"), field="state")
    po.state = "cancelled"
    uow.flush()
    return po
