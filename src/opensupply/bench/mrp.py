"""`opensupply bench mrp`: a generated plant of N SKUs (20 % finished goods, up to 5 BOM levels, components
shared by 1–20 parents, a mix of lot rules, stock, open purchase and work orders) with 52 weekly buckets of
demand, bulk-loaded into a fresh database (not timed), then one full MRP regeneration timed from loading
to saving planned orders with pegging (`erp.planning.service.run_mrp`)."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from decimal import Decimal

from sqlalchemy import insert, select

LEVEL_SHARE = (0.2, 0.3, 0.25, 0.15, 0.10)  # finished goods, then levels 1–4
MAX_PARENTS = 20
DEMAND_WEEKS = 0.35  # share of weeks a finished good has demand in (lumpy, as make-to-stock lines are)


def _chunks(t, rows, conn, size=5000):
    for i in range(0, len(rows), size):
        conn.execute(insert(t), rows[i:i + size])


def generate(db, skus: int, seed: int, buckets: int = 52) -> dict:
    """Load the plant; returns the company id and counts."""
    from opensupply.core.types import utcnow
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning.models import IndependentDemand, PlanningPolicy
    from opensupply.erp.purchasing.models import PurchaseOrder, PurchaseOrderLine
    from opensupply.inventory.models import StockQuant
    from opensupply.masterdata import models as md
    from opensupply.masterdata.service import setup_company
    from opensupply.mes.models import WorkOrder

    rnd = random.Random(seed)
    with UnitOfWork(Actor.system(), db=db) as uow:
        company = setup_company(uow, code="BENCH", name="MRP 基准工厂")
        cid = company.id
        uow.flush()
        wh = uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == cid)).first()
        wh_id, loc_id = wh.id, wh.stock_location_id
        pcs = uow.session.scalar(select(md.Uom.id).where(md.Uom.code == "pcs"))
        sup = md.Partner(company_id=cid, code="S-BENCH", name="基准供应商", is_supplier=True)
        uow.add(sup)
        uow.flush()
        sup_id = sup.id
    now = utcnow()
    stamp = {"company_id": cid, "created_at": now, "updated_at": now}
    counts = [int(skus * s) for s in LEVEL_SHARE]
    counts[-1] = skus - sum(counts[:-1])
    levels: list[list[int]] = []
    with db.engine.begin() as conn:
        pt = md.Product.__table__
        rows, n = [], 0
        for lv, k in enumerate(counts):
            for _i in range(k):
                n += 1
                rows.append({**stamp, "sku": f"L{lv}-{n:06d}", "name": f"物料 {n}", "uom_id": pcs, "tracking": "none",
                             "product_type": "stock", "cost": Decimal(10), "list_price": Decimal(20),
                             "lifecycle_stage": "mass", "active": True})
        _chunks(pt, rows, conn)
        ids = list(conn.execute(select(pt.c.id).where(pt.c.company_id == cid).order_by(pt.c.id)).scalars())
        pos = 0
        for k in counts:
            levels.append(ids[pos:pos + k])
            pos += k
        # structure: every parent of levels 0–3 that is made gets 2–5 components from the next level
        # (sometimes two levels down); each component gets at least one parent and at most MAX_PARENTS
        parents_of: dict[int, int] = {}
        made = set(levels[0])
        for lv in (1, 2, 3):
            made |= {p for p in levels[lv] if rnd.random() < 0.85}
        bom_lines: dict[int, list[tuple[int, Decimal, Decimal]]] = {}
        for lv in range(4):
            below = levels[lv + 1]
            parents = [p for p in levels[lv] if p in made]
            if not parents:
                continue
            for j, c in enumerate(below):  # everyone below is used once first
                bom_lines.setdefault(parents[j % len(parents)], []).append((c, Decimal(rnd.choice((1, 1, 2, 4))),
                                                                            Decimal(rnd.choice((0, 0, 2, 5)))))
                parents_of[c] = 1
            for p in parents:
                want = rnd.randint(2, 5) - len(bom_lines.get(p, ()))
                pool = below if lv == 3 or rnd.random() < 0.8 else levels[min(lv + 2, 4)]
                for _t in range(max(want, 0)):
                    c = rnd.choice(pool)
                    if parents_of.get(c, 0) >= MAX_PARENTS or any(x[0] == c for x in bom_lines.get(p, ())):
                        continue
                    parents_of[c] = parents_of.get(c, 0) + 1
                    bom_lines.setdefault(p, []).append((c, Decimal(rnd.choice((1, 2, 3))), Decimal(0)))
        bt, blt = md.Bom.__table__, md.BomLine.__table__
        _chunks(bt, [{**stamp, "product_id": p, "version": "V1.0", "state": "released",
                      "quantity": Decimal(1)} for p in bom_lines], conn)
        bom_ids = dict(conn.execute(select(bt.c.product_id, bt.c.id).where(bt.c.company_id == cid)).all())
        lines = [{"created_at": now, "updated_at": now, "bom_id": bom_ids[p], "sequence": 10 * (i + 1),
                  "component_id": c, "quantity": q, "uom_id": pcs, "scrap_pct": s, "is_byproduct": False}
                 for p, ls in bom_lines.items() for i, (c, q, s) in enumerate(ls)]
        _chunks(blt, lines, conn)
        # policies: a mix of lot rules and lead times; a preferred supplier on bought items
        pol = []
        for p in ids:
            r = rnd.random()
            rule = "lot_for_lot" if r < 0.2 else "fixed" if r < 0.45 else "eoq" if r < 0.7 else "poq"
            pol.append({**stamp, "product_id": p, "lead_time_days": rnd.choice((0, 7, 7, 14, 21)), "lot_rule": rule,
                        "fixed_qty": Decimal(rnd.choice((100, 200, 500))) if rule == "fixed" else None,
                        "eoq_qty": None, "annual_demand": Decimal(5000) if rule == "eoq" else None,
                        "order_cost": Decimal(200) if rule == "eoq" else None,
                        "holding_cost": Decimal(4) if rule == "eoq" else None,
                        "poq_periods": rnd.choice((4, 6, 8)) if rule == "poq" else None,
                        "min_qty": Decimal(0), "multiple": Decimal(rnd.choice((0, 0, 10))),
                        "safety_stock": Decimal(rnd.choice((0, 0, 0, 20))), "make_or_buy": "auto",
                        "preferred_supplier_id": None if p in made else sup_id, "active": True})
        _chunks(PlanningPolicy.__table__, pol, conn)
        # stock on a third of the items
        _chunks(StockQuant.__table__, [{"company_id": cid, "product_id": p, "location_id": loc_id, "lot_id": None,
                                        "lot_key": 0, "quantity": Decimal(rnd.randint(10, 500)), "updated_at": now}
                                       for p in ids if rnd.random() < 0.33], conn)
        start = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
        # open purchase orders: 200 orders of 10 lines over bought items
        bought = [p for p in ids if p not in made]
        pot, polt = PurchaseOrder.__table__, PurchaseOrderLine.__table__
        _chunks(pot, [{**stamp, "number": f"POB-{i:05d}", "state": "confirmed", "supplier_id": sup_id,
                       "order_date": start, "expected_date": start + dt.timedelta(days=7 * rnd.randint(0, 8)),
                       "currency_code": "CNY", "currency_rate": Decimal(1), "location_id": loc_id}
                      for i in range(200)], conn)
        po_ids = list(conn.execute(select(pot.c.id).where(pot.c.company_id == cid)).scalars())
        _chunks(polt, [{**stamp, "order_id": o, "product_id": rnd.choice(bought),
                        "quantity": Decimal(rnd.randint(50, 500)),
                        "unit_price": Decimal(10), "tax_rate": Decimal(13), "amount": Decimal(0),
                        "qty_received": Decimal(0), "qty_billed": Decimal(0), "value_billed": Decimal(0)}
                       for o in po_ids for _k in range(10)], conn)
        # open work orders on 500 made items
        wos = [{**stamp, "number": f"WOB-{i:05d}", "kind": "normal", "state": "released", "product_id": p,
                "bom_id": bom_ids.get(p), "quantity": Decimal(rnd.randint(20, 200)), "warehouse_id": wh_id,
                "due_date": start + dt.timedelta(days=7 * rnd.randint(0, 6)), "priority": 0,
                "qty_done": Decimal(0), "qty_scrapped": Decimal(0), "source": "manual"}
               for i, p in enumerate(rnd.sample(sorted(made), min(500, len(made))))]
        _chunks(WorkOrder.__table__, wos, conn)
        # demand: finished goods, 52 weekly buckets, most weeks
        dem = [{**stamp, "product_id": p, "warehouse_id": None, "demand_date": start + dt.timedelta(days=7 * b),
                "quantity": Decimal(rnd.randint(5, 80)), "source": "bench"}
               for p in levels[0] for b in range(buckets) if rnd.random() < DEMAND_WEEKS]
        _chunks(IndependentDemand.__table__, dem, conn)
    return {"company_id": cid, "boms": len(bom_lines), "bom_lines": len(lines), "demand_rows": len(dem),
            "levels_generated": len(levels)}


def run_one(kind: str, url: str, skus: int, seed: int, err) -> dict:
    from opensupply import registry
    from opensupply.core.db import Database
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import service as mrp

    registry.import_all_models()
    db = Database(url)
    try:
        db.create_all()
        t0 = time.perf_counter()
        info = generate(db, skus, seed)
        err.print(f"bench mrp [{kind}]: generated {skus} SKUs, {info['bom_lines']} BOM lines, "
                  f"{info['demand_rows']} demand rows in {time.perf_counter() - t0:.1f} s")
        t1 = time.perf_counter()
        with UnitOfWork(Actor.system(info["company_id"]), db=db) as uow:
            run = mrp.run_mrp(uow, bucket="week", horizon=52)
            result = {"planned_orders": run.planned_orders, "levels": run.levels, "late_orders": run.late_orders,
                      "products": run.products, **uow.session.info.get("mrp_phases", {})}
        seconds = time.perf_counter() - t1  # commit included
        from sqlalchemy import func

        from opensupply.erp.planning.models import Pegging
        with db.sessionmaker() as s:
            pegs = s.scalar(select(func.count()).select_from(Pegging))
        return {"instance": f"{kind}-{skus}", "db": kind, "skus": skus, "buckets": 52, "seconds": round(seconds, 3),
                "pegging_rows": pegs, **result, "generation": info}
    finally:
        db.dispose()


def sqlite_url() -> tuple[str, tempfile.TemporaryDirectory]:
    tmp = tempfile.TemporaryDirectory(prefix="opensupply-bench-mrp-")
    return f"sqlite:///{tmp.name}/bench.db", tmp
