"""RFQs through the services: sealed bids (no price reaches a buyer before the deadline or closure, then the
comparison shows them side by side), revisions until the deadline only, award to one supplier or split per line
and per quantity → draft purchase orders at the bid prices, suppliers told the result; who may be invited;
an RFQ started from an MRP planned purchase firms it, and its award or cancellation comes back to the plan."""

from __future__ import annotations

import datetime as dt

import pytest

from opensupply.core import auth
from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.core.types import utcnow
from opensupply.erp.planning import service as planning
from opensupply.erp.planning.models import PlannedOrder
from opensupply.erp.purchasing import service as purchasing
from opensupply.srm import portal, rfq
from tests import factories as f
from tests.srm import factories as fs
from tests.srm.tender_factories import D, bid, later, make_rfq, planned_purchase, planned_state, tender_shop


def test_bids_are_sealed_before_the_deadline_and_compared_after(db, monkeypatch):
    s = tender_shop(db)
    rid = make_rfq(s)
    bid(s, "gang", rid, ["52.50", "12.00"])
    bid(s, "suxiao", rid, ["51.00", "12.40"], lead=10)
    with s.uow(s.actor("buyer1"), readonly=True) as uow:
        status = {b["code"]: b for b in rfq.bid_status(uow, rid)}
        assert status["S-GANG"]["has_bid"] and status["S-SUXIAO"]["has_bid"] and not status["S-XINDA"]["has_bid"]
        assert not any("total" in b or "unit_price" in b for b in status.values())
        with pytest.raises(rfq.Sealed):
            rfq.comparison(uow, rid)
        with pytest.raises(rfq.Sealed):
            rfq.comparison_export(uow, rid)
    with s.uow(s.actor("buyer1")) as uow, pytest.raises(Conflict):
        rfq.award_lowest(uow, rid)
    # a revision before the deadline replaces the bid
    bid(s, "gang", rid, ["50.00", "12.00"])
    later(monkeypatch, 49)
    with s.uow(s.actor("buyer1"), readonly=True) as uow:
        cmp = rfq.comparison(uow, rid)
    assert cmp["state"] == "closed"
    steel, pp = cmp["lines"]
    by = {c["partner_id"]: c for c in steel["offers"] if c}
    assert by[s.partners["steel"]]["unit_price"] == "50.000000" and by[s.partners["steel"]]["lowest"]
    assert not by[s.partners["plastic"]]["lowest"] and by[s.partners["plastic"]]["lead_time_days"] == 10
    assert [c["lowest"] for c in pp["offers"] if c] == [True, False]
    bidders = {b["code"]: b for b in cmp["bidders"]}
    assert bidders["S-GANG"]["revision"] == 2 and D(bidders["S-GANG"]["total"]) == D("11000")  # 5000 + 6000
    assert D(bidders["S-SUXIAO"]["total"]) == D("11300") and bidders["S-GANG"]["lowest_total"]
    # too late to revise
    with s.uow(s.actor("gang")) as uow, pytest.raises(Conflict):
        portal.submit_bid(uow, rid, [portal.BidLineIn(steel["id"], "1")])


def test_closing_by_hand_unseals_and_a_split_award_makes_one_po_per_supplier(db):
    s = tender_shop(db)
    rid = make_rfq(s)
    bid(s, "gang", rid, ["50", "13"])
    bid(s, "suxiao", rid, ["55", "12"])
    with s.uow(s.actor("buyer1")) as uow:
        rfq.close_rfq(uow, rid)
        lines = rfq.comparison(uow, rid)["lines"]
        result = rfq.award(uow, rid, [rfq.AwardIn(lines[0]["id"], s.partners["steel"], "60"),
                                      rfq.AwardIn(lines[0]["id"], s.partners["plastic"], "40"),
                                      rfq.AwardIn(lines[1]["id"], s.partners["plastic"])])
    with s.uow(readonly=True) as uow:
        orders = {o["supplier_id"]: purchasing.get_order(uow, o["id"]) if hasattr(purchasing, "get_order") else
                  uow.get(purchasing.PurchaseOrder, o["id"]) for o in result["orders"]}
        steel_po, plastic_po = orders[s.partners["steel"]], orders[s.partners["plastic"]]
        assert steel_po.state == "draft" and "RFQ" in steel_po.notes
        assert [(ln.quantity, ln.unit_price) for ln in steel_po.lines] == [(D(60), D(50))]
        assert sorted((ln.quantity, ln.unit_price) for ln in plastic_po.lines) == [(D(40), D(55)), (D(500), D(12))]
        r = rfq.get_rfq(uow, rid)
        assert r.state == "awarded"
        assert {i.partner_id: i.result for i in r.invites} == {s.partners["steel"]: "awarded",
                                                               s.partners["plastic"]: "awarded",
                                                               s.partners["third"]: "unawarded"}
        assert {o["number"] for o in rfq.rfq_orders(uow, rid)} == {steel_po.number, plastic_po.number}
    with s.uow(s.actor("xinda"), readonly=True) as uow:
        assert any(n["kind"] == "unawarded" for n in portal.my_notices(uow))
    with s.uow(s.actor("gang"), readonly=True) as uow:
        assert any(n["kind"] == "awarded" for n in portal.my_notices(uow))


def test_award_checks_quantities_and_bids_and_one_supplier_takes_all(db, monkeypatch):
    s = tender_shop(db)
    rid = make_rfq(s)
    bid(s, "gang", rid, ["50", "13"])
    later(monkeypatch, 72)
    with s.uow(s.actor("buyer1")) as uow:
        lines = rfq.comparison(uow, rid)["lines"]
        with pytest.raises(ValidationFailed):
            rfq.award(uow, rid, [rfq.AwardIn(lines[0]["id"], s.partners["steel"], "101")])
        with pytest.raises(ValidationFailed):  # no bid from them
            rfq.award(uow, rid, [rfq.AwardIn(lines[0]["id"], s.partners["plastic"])])
    with s.uow(s.actor("buyer1")) as uow:
        out = rfq.award_all(uow, rid, s.partners["steel"])
    assert len(out["orders"]) == 1 and D(out["orders"][0]["total"]) == D("11500") * D("1.13")  # 5000 + 6500, 13 % VAT


def test_only_suppliers_that_may_be_bought_from_are_invited_and_viewers_cannot_write(db):
    s = tender_shop(db)
    fs.registered(s, "steel", qualified=False)  # 潜在: not approved yet
    with s.uow(s.actor("buyer1")) as uow, pytest.raises(Conflict):
        make_rfq(s, suppliers=("steel",))
    with s.uow(s.actor("buyer1")) as uow, pytest.raises(ValidationFailed):
        rfq.create_rfq(uow, title="x", deadline=rfq.utcnow(), suppliers=[s.partners["plastic"]],
                       lines=[rfq.RfqLineIn("RM-PP", "1")])
    with s.uow(s.actor("buyer1")) as uow, pytest.raises(ValidationFailed):  # a customer is not a supplier
        make_rfq(s, suppliers=("customer",))
    with s.uow(s.actor("viewer")) as uow, pytest.raises(PermissionDenied):
        rfq.create_rfq(uow, title="x", deadline=rfq.utcnow(), suppliers=[], lines=[])


def test_an_rfq_started_from_a_planned_purchase_firms_it_and_the_award_links_its_order(db):
    s = tender_shop(db)
    planned_id, due = planned_purchase(s)
    planner = f.actor(db, s.company, f.user(db, s.company, "planner", roles=("admin",)))
    deadline = utcnow() + dt.timedelta(hours=48)
    # someone who sources suppliers but may not firm planned orders starts nothing (and firms nothing)
    with s.uow() as uow:
        auth.ensure_role(uow, "sourcing", "寻源", ["srm.*", "erp.read", "erp.purchase"])
    sourcer = f.actor(db, s.company, f.user(db, s.company, "sourcer", roles=("sourcing",)))
    with s.uow(sourcer) as uow, pytest.raises(PermissionDenied):
        rfq.create_rfq_from_planned_order(uow, planned_id, suppliers=[s.partners["steel"]], deadline=deadline)
    assert planned_state(s, planned_id) == ("planned", None, None)
    with s.uow(planner) as uow:
        r = rfq.create_rfq_from_planned_order(uow, planned_id, deadline=deadline,
                                              suppliers=[s.partners["steel"], s.partners["plastic"]])
        rid = r.id
        assert r.state == "draft" and r.title == f"计划采购 #{planned_id}：RM-STEEL 冷轧钢板"
        (line,) = r.lines
        assert (line.product_id, line.quantity, line.required_date, line.planned_order_id) == (
            s.products["steel"], D(80), due, planned_id)
        assert rfq.rfqs_for_planned_orders(uow, [planned_id])[planned_id]["number"] == r.number
        rfq.open_rfq(uow, rid)
    assert planned_state(s, planned_id) == ("firmed", None, None)
    with s.uow(planner) as uow, pytest.raises(Conflict):  # firmed: no second RFQ, no PO from it either
        rfq.create_rfq_from_planned_order(uow, planned_id, suppliers=[s.partners["steel"]], deadline=deadline)
    with s.uow(planner) as uow, pytest.raises(Conflict):
        planning.firm_planned_order(uow, planned_id)
    # a regeneration keeps it and counts it as supply: the demand is not planned a second time
    with s.uow() as uow:
        planning.run_mrp(uow)
        steel = uow.session.query(PlannedOrder).filter_by(product_id=s.products["steel"]).all()
        assert [(p.id, p.state) for p in steel] == [(planned_id, "firmed")]

    bid(s, "gang", rid, ["49.80"])
    bid(s, "suxiao", rid, ["51.00"])
    with s.uow(s.actor("buyer1")) as uow:
        rfq.close_rfq(uow, rid)
        (order,) = rfq.award_lowest(uow, rid)["orders"]
    assert planned_state(s, planned_id) == ("firmed", order["id"], s.partners["steel"])
    with s.uow(readonly=True) as uow:
        po = purchasing.order_summaries(uow, [order["id"]])[order["id"]]
        assert po["expected_date"] == due and po["supplier_id"] == s.partners["steel"]


def test_cancelling_an_rfq_from_a_planned_purchase_puts_it_back_in_the_plan(db):
    s = tender_shop(db)
    planned_id, _due = planned_purchase(s)
    planner = f.actor(db, s.company, f.user(db, s.company, "planner", roles=("admin",)))
    with s.uow(planner) as uow:
        rid = rfq.create_rfq_from_planned_order(uow, planned_id, suppliers=[s.partners["steel"]],
                                                deadline=utcnow() + dt.timedelta(hours=24), title="钢板询价").id
    with s.uow(planner) as uow:
        rfq.cancel_rfq(uow, rid, "需求取消")
    assert planned_state(s, planned_id) == ("planned", None, None)
    with s.uow(planner) as uow:  # planned again: it can be firmed straight into a purchase order now
        doc = planning.firm_planned_order(uow, planned_id, supplier="S-GANG")
        assert doc.supplier_id == s.partners["steel"]


def test_only_a_planned_purchase_starts_an_rfq(db):
    s = tender_shop(db)
    with s.uow() as uow:
        made = uow.add(PlannedOrder(run_id=0, product_id=s.products["pp"], kind="production", quantity=D(5),
                                    release_date=dt.date(2030, 1, 1), due_date=dt.date(2030, 1, 8), level=0,
                                    state="planned"))
        uow.flush()
        planned_id = made.id
    planner = f.actor(db, s.company, f.user(db, s.company, "planner", roles=("admin",)))
    with s.uow(planner) as uow, pytest.raises(Conflict) as e:
        rfq.create_rfq_from_planned_order(uow, planned_id, suppliers=[s.partners["steel"]],
                                          deadline=utcnow() + dt.timedelta(hours=24))
    assert e.value.field == "kind"
