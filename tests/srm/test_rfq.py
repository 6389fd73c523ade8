"""RFQs through the services: sealed bids (no price reaches a buyer before the deadline or closure, then the
comparison shows them side by side), revisions until the deadline only, award to one supplier or split per line
and per quantity → draft purchase orders at the bid prices, suppliers told the result; who may be invited."""

from __future__ import annotations

import pytest

from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.erp.purchasing import service as purchasing
from opensupply.srm import portal, rfq
from tests.srm import factories as fs
from tests.srm.tender_factories import D, bid, later, make_rfq, tender_shop


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
