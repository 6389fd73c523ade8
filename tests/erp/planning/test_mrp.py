"""MRP on a bicycle computed by hand (weekly buckets, S = Monday of this week):

    BIKE (make, 7 d, lot-for-lot)      = 1 FRAME + 2 WHEEL
      FRAME (make, 14 d, fixed 30)     = 2 TUBE with 25 % scrap (2.5 per frame)
      WHEEL (buy, 7 d, EOQ 100), TUBE (buy, 0 d, lot-for-lot)

Stock: BIKE 5 (reserved by the sales order), WHEEL 10. Open PO: WHEEL 20 expected S+14.
Demand: sales order BIKE 15 wanted S+7 (10 left after its reservation), forecast BIKE 20 at S+21.

BIKE  → 10 due S+7 (release S) and 20 due S+21 (release S+14); dependent demand FRAME 10@S, 20@S+14,
        WHEEL 20@S, 40@S+14.
FRAME → one fixed lot of 30 due S, released S−14 (past due), covering both; TUBE 75@S.
WHEEL → stock 10 covers half of 20@S, so EOQ 100 due S (released S−7, past due): 10 + 40 of 40@S+14.
TUBE  → 75 due S, released S.
"""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select

from opensupply.core.errors import ValidationFailed
from opensupply.core.sequences import company_today
from opensupply.erp.planning import engine
from opensupply.erp.planning import service as mrp
from opensupply.erp.planning.demand import set_independent_demand
from opensupply.erp.planning.models import PlannedOrder, PlanningPolicy
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.purchasing.models import PurchaseOrder
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.masterdata import boms
from opensupply.mes.models import WorkOrder
from tests import factories as f
from tests.mes.factories import partner

D = Decimal


@pytest.fixture
def bike(db):
    c = f.company(db)
    f.bin_location(db, c, "A-01-01")
    ids = {sku: f.product(db, c, sku) for sku in ("BIKE", "FRAME", "WHEEL", "TUBE")}
    sup = partner(db, c, "S-LUN", "轮毂厂", is_supplier=True)
    cust = partner(db, c, "K-01", "杭州车行", is_customer=True, province="浙江省", city="杭州市")
    from opensupply.core.uow import Actor, UnitOfWork

    def uow():
        return UnitOfWork(Actor.system(c), db=db)

    with uow() as u:
        frame = boms.create_bom(u, product="FRAME", lines=[{"component": "TUBE", "quantity": "2", "scrap_pct": "25"}])
        boms.release_bom(u, frame.id)
        b = boms.create_bom(u, product="BIKE", lines=[{"component": "FRAME", "quantity": "1"},
                                                      {"component": "WHEEL", "quantity": "2"}])
        boms.release_bom(u, b.id)
        for sku, lead, rule, extra in (("BIKE", 7, "lot_for_lot", {}), ("FRAME", 14, "fixed", {"fixed_qty": D(30)}),
                                       ("WHEEL", 7, "eoq", {"eoq_qty": D(100), "preferred_supplier_id": sup}),
                                       ("TUBE", 0, "lot_for_lot", {})):
            u.add(PlanningPolicy(product_id=ids[sku], lead_time_days=lead, lot_rule=rule, **extra))
        inv.receive(u, [inv.StockLine("BIKE", 5), inv.StockLine("WHEEL", 10)], "A-01-01")
        start = company_today(u)
        start -= dt.timedelta(days=start.weekday())
        po = purchasing.create_order(u, sup, [purchasing.OrderLineIn("WHEEL", 20, 50)],
                                     expected_date=start + dt.timedelta(days=14))
        purchasing.confirm_order(u, po.id)
        sales.create_sales_order(u, customer_id=cust, lines=[sales.SalesLineIn(sku="BIKE", quantity=15)],
                                 requested_date=start + dt.timedelta(days=7), confirm=True)
        set_independent_demand(u, source="scm_forecast", rows=[{"sku": "BIKE", "date": start + dt.timedelta(days=21),
                                                                "quantity": D(20)}])
    return {"company": c, "ids": ids, "start": start, "uow": uow, "supplier": sup}


def _plan(u):
    orders = list(u.session.scalars(select(PlannedOrder).where(PlannedOrder.state == "planned")
                                    .order_by(PlannedOrder.level, PlannedOrder.product_id, PlannedOrder.due_date)))
    return orders


def test_bike_plan_matches_the_hand_computation(bike):
    ids, S = bike["ids"], bike["start"]
    sku = {v: k for k, v in ids.items()}
    day = lambda n: S + dt.timedelta(days=n)  # noqa: E731
    with bike["uow"]() as u:
        run = mrp.run_mrp(u)
        assert (run.state, run.planned_orders, run.levels, run.late_orders) == ("done", 5, 3, 2)
        got = [(sku[o.product_id], o.kind, o.quantity, o.due_date, o.release_date, o.past_due) for o in _plan(u)]
        assert got == [
            ("BIKE", "production", D(10), day(7), day(0), False),
            ("BIKE", "production", D(20), day(21), day(14), False),
            ("FRAME", "production", D(30), day(0), day(-14), True),
            ("WHEEL", "purchase", D(100), day(0), day(-7), True),
            ("TUBE", "purchase", D(75), day(0), day(0), False),
        ]
        orders = _plan(u)
        peg = {sku[o.product_id] + str(i): [(p.source_kind, p.quantity, p.demand_date) for p in mrp.pegging_of(u, o.id)]
               for i, o in enumerate(orders)}
        assert peg["BIKE0"] == [("sales_order_line", D(10), day(7))]
        assert peg["BIKE1"] == [("independent_demand", D(20), day(21))]
        assert peg["FRAME2"] == [("planned_order", D(10), day(0)), ("planned_order", D(20), day(14))]
        assert peg["WHEEL3"] == [("planned_order", D(10), day(0)), ("planned_order", D(40), day(14))]
        assert peg["TUBE4"] == [("planned_order", D(75), day(0))]
        assert {p.source_id for p in mrp.pegging_of(u, orders[2].id)} == {orders[0].id, orders[1].id}
        assert orders[3].supplier_id == bike["supplier"]


def test_firm_to_po_and_wo_and_regeneration_keeps_firmed(bike):
    ids = bike["ids"]
    with bike["uow"]() as u:
        mrp.run_mrp(u)
    with bike["uow"]() as u:
        wheel = next(o for o in _plan(u) if o.product_id == ids["WHEEL"])
        po = mrp.firm_planned_order(u, wheel.id)
        assert isinstance(po, PurchaseOrder) and po.state == "draft" and po.supplier_id == bike["supplier"]
        assert po.lines[0].quantity == D(100)
        bike_po = next(o for o in _plan(u) if o.product_id == ids["BIKE"])
        wo = mrp.firm_planned_order(u, bike_po.id)
        assert isinstance(wo, WorkOrder) and wo.quantity == D(10) and wo.source == "planned_order"
        tube = next(o for o in _plan(u) if o.product_id == ids["TUBE"])
        with pytest.raises(ValidationFailed) as err:
            mrp.firm_planned_order(u, tube.id)
        assert err.value.field == "supplier"
    with bike["uow"]() as u:
        run = mrp.run_mrp(u)
        firmed = list(u.session.scalars(select(PlannedOrder).where(PlannedOrder.state == "firmed")))
        assert len(firmed) == 2
        left = [(o.product_id, o.quantity) for o in _plan(u)]
        # the draft PO of 100 wheels and the work order for 10 bikes are supply now: nothing new for them
        assert (ids["WHEEL"], D(100)) not in left and all(o.run_id == run.id for o in _plan(u))
        assert sorted(q for p, q in left if p == ids["BIKE"]) == [D(20)]


def test_bom_cycle_is_reported():
    one = Fraction(1)
    items = {1: engine.Item(1, True, components=[(2, one)]), 2: engine.Item(2, True, components=[(1, one)]),
             3: engine.Item(3, True, components=[(1, one)])}
    with pytest.raises(engine.BomCycle) as err:
        engine.low_level_codes(items)
    assert err.value.product_ids == [1, 2]


def test_lot_rules():
    it = engine.Item(1, False, lot_rule="fixed", fixed_qty=30, min_qty=0, multiple=0)
    assert engine.lot_size(it, 45, 0) == 60
    it = engine.Item(1, False, lot_rule="eoq", eoq_qty=100, multiple=40)
    assert engine.lot_size(it, 10, 0) == 120
    it = engine.Item(1, False, lot_rule="poq", poq_periods=3, min_qty=50)
    assert engine.lot_size(it, 10, 30) == 50
    assert round(engine.economic_order_quantity(1000, 50, 10)) == 100


def test_mrp_as_a_background_job(db, bike):
    from opensupply.core import jobs
    from opensupply.erp.planning.models import MrpRun

    with bike["uow"]() as u:
        run = mrp.start_mrp(u)
        run_id, job_id = run.id, run.job_id
    done = jobs.wait_for(db, job_id, timeout=60)
    assert done.status == "done", done.error
    with bike["uow"]() as u:
        run = u.get(MrpRun, run_id)
        assert (run.state, run.planned_orders) == ("done", 5)
