"""A scorecard computed by hand for a small November 2026 history matches exactly; it appears when a receipt is
done (the erp.receipt_done event), updates when an inspection is recorded, and ranks the suppliers.

    steel (S-GANG):   PO1 100 × ¥50 expected 11-10, received 11-09 (on time);
                      PO2  50 × ¥52 expected 11-12, promised 11-15 in the portal, received 11-16 (late)
                      → on time 1/2 = 50.00 %; inspection of PO1's receipt: 50 sampled, 1 scratched → 20,000 ppm
    plastic (S-SUXIAO): PO3 100 × ¥48 expected 11-20, received 11-18 → 100.00 %; 100 sampled, none bad → 0 ppm;
                      one complaint reported 11-20
    average price of RM-STEEL in November = (5000 + 2600 + 4800) / 250 = 49.6
    steel price variance = (0.4 × 100 + 2.4 × 50) / (49.6 × 150) = 160 / 7440 = 2.15 %; plastic −160 / 4960 = −3.23 %
    RFQ invited 11-05 02:00 UTC: steel bid after 12 h, plastic after 30 h
    scores steel: delivery 50, quality 80, price 100 − 5 × 2.15 = 89.25, response 95, complaints 100
          → (35·50 + 30·80 + 15·89.25 + 10·95 + 10·100) / 100 = 74.39 (74.3875)
    plastic: 100, 100, 100 (capped), 100 − 12.5 = 87.5, 80 → (3500 + 3000 + 1500 + 875 + 800) / 100 = 96.75
"""

from __future__ import annotations

import datetime as dt

from opensupply.erp.purchasing import service as purchasing
from opensupply.srm import complaints, portal, rfq, scorecard
from tests import factories as f
from tests.srm.factories import registered
from tests.srm.tender_factories import D, bid, make_rfq, tender_shop

UTC = dt.UTC
NOV = dt.date(2026, 11, 1)


def _po(s, key, qty, price, ordered, expected) -> int:
    with s.uow(s.actor("buyer1")) as uow:
        po = purchasing.create_order(uow, s.partners[key], [purchasing.OrderLineIn("RM-STEEL", qty, price)],
                                     order_date=ordered, expected_date=expected, location="A-01-01")
        purchasing.confirm_order(uow, po.id)
        return po.id


def _receive(s, po_id, day) -> str:
    with s.uow(s.actor("buyer1")) as uow:
        return purchasing.receive_order(uow, po_id, receipt_date=day).number


def test_a_hand_computed_scorecard_matches(db, monkeypatch):
    s = tender_shop(db)
    registered(s, "plastic")
    invited = dt.datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    monkeypatch.setattr(rfq, "utcnow", lambda: invited)
    rid = make_rfq(s, suppliers=("steel", "plastic"), hours=120)
    monkeypatch.setattr(portal, "utcnow", lambda: invited + dt.timedelta(hours=12))
    bid(s, "gang", rid, ["50", "12"])
    monkeypatch.setattr(portal, "utcnow", lambda: invited + dt.timedelta(hours=30))
    bid(s, "suxiao", rid, ["48", "12"])
    monkeypatch.undo()

    po1 = _po(s, "steel", "100", "50", NOV, dt.date(2026, 11, 10))
    po2 = _po(s, "steel", "50", "52", dt.date(2026, 11, 2), dt.date(2026, 11, 12))
    po3 = _po(s, "plastic", "100", "48", dt.date(2026, 11, 3), dt.date(2026, 11, 20))
    with s.uow(s.actor("gang")) as uow:
        portal.confirm_order(uow, po2, dt.date(2026, 11, 15))
    gr1 = _receive(s, po1, dt.date(2026, 11, 9))
    _receive(s, po2, dt.date(2026, 11, 16))
    gr3 = _receive(s, po3, dt.date(2026, 11, 18))
    # the receipt-done event has already made November's cards
    with s.uow(s.actor("viewer"), readonly=True) as uow:
        first = {c["code"]: c for c in scorecard.ranking(uow, "2026-11")}
    assert first["S-GANG"]["on_time_pct"] == "50.000000" and first["S-GANG"]["lines_received"] == 2
    assert first["S-GANG"]["defect_ppm"] is None

    api = f.api_client(db, "buyer1")
    r = api.post("/api/v1/srm/receipt-inspections", json={"receipt": gr1, "sample_size": "50",
                                                          "defects": [{"type": "划伤", "quantity": "1"}]})
    assert r.status_code == 201, r.text
    with s.uow(s.actor("buyer1")) as uow:
        scorecard.record_inspection(uow, gr3, sample_size="100")
        complaints.open_complaint(uow, {"partner": s.partners["plastic"], "title": "包装破损", "owner": "buyer1",
                                        "defect_description": "外箱压坏", "reported_on": "2026-11-20",
                                        "due_date": "2026-11-27"})
    r = api.post("/api/v1/srm/scorecards/compute?period=2026-11")
    assert r.status_code == 200, r.text
    cards = {c["code"]: c for c in r.json()["items"]}
    steel, plastic = cards["S-GANG"], cards["S-SUXIAO"]
    assert (D(steel["on_time_pct"]), D(steel["defect_ppm"]), D(steel["price_variance_pct"]),
            D(steel["response_hours"]), steel["complaints"]) == (D("50"), D("20000"), D("2.15"), D("12"), 0)
    assert (D(plastic["on_time_pct"]), D(plastic["defect_ppm"]), D(plastic["price_variance_pct"]),
            D(plastic["response_hours"]), plastic["complaints"]) == (D("100"), D("0"), D("-3.23"), D("30"), 1)
    assert D(steel["score"]) == D("74.39") and D(plastic["score"]) == D("96.75")
    assert (plastic["rank"], steel["rank"]) == (1, 2)
    # the quarter holds the same history
    with s.uow(s.actor("buyer1")) as uow:
        q4 = {sc.partner_id: sc for sc in scorecard.recompute(uow, "2026-Q4")}
    assert q4[s.partners["steel"]].score == D("74.39") and q4[s.partners["plastic"]].rank == 1
    # weights change the total: delivery only
    with s.uow(s.actor("buyer1")) as uow:
        scorecard.update_weights(uow, {"delivery": 1, "quality": 0, "price": 0, "response": 0, "complaints": 0})
        got = {sc.partner_id: sc.score for sc in scorecard.recompute(uow, "2026-11")}
    assert got[s.partners["steel"]] == D("50.00")
    # the supplier sees its own scorecard in the portal, and only its own
    mine = f.api_client(db, "gang").get("/api/v1/srm/portal/scorecard").json()
    assert mine["code"] == "S-GANG" and all(i["partner_id"] == s.partners["steel"] for i in mine["items"])
    # a cancelled receipt leaves the history (event erp.receipt_cancelled recomputes)
    with s.uow(s.actor("buyer1")) as uow:
        rows, _n = purchasing.receipt_rows(uow, q=gr3)
        purchasing.cancel_receipt(uow, rows[0].id)
    with s.uow(s.actor("viewer"), readonly=True) as uow:
        after = {c["code"]: c for c in scorecard.ranking(uow, "2026-11")}
    assert after["S-SUXIAO"]["lines_received"] == 0 and after["S-SUXIAO"]["on_time_pct"] is None


def test_inspection_and_weights_on_the_pages(db):
    s = tender_shop(db)
    po = _po(s, "steel", "40", "50", NOV, dt.date(2026, 11, 10))
    gr = _receive(s, po, dt.date(2026, 11, 9))
    web = f.web_client(db, "buyer1")
    token = f.csrf(web)
    bad = web.post("/srm/receipt-inspections", data={"csrf_token": token, "receipt": gr, "sample_size": "5",
                                                     "type_0": "划伤", "qty_0": "6"})
    assert bad.status_code == 422 and "不能超过抽检数量" in bad.text
    r = web.post("/srm/receipt-inspections", data={"csrf_token": token, "receipt": gr, "sample_size": "20",
                                                   "type_0": "划伤", "qty_0": "1", "type_1": "尺寸", "qty_1": "1"})
    assert r.status_code == 303
    page = web.get("/srm/receipt-inspections")
    assert "划伤 × 1" in page.text and "100,000" in page.text  # 2 of 20
    assert web.post("/srm/scorecards/weights", data={"csrf_token": token, "delivery": "-1"}).status_code == 303
    with s.uow(readonly=True) as uow:
        assert scorecard.weights(uow)["delivery"] == D(35)  # refused, unchanged
    page = web.get("/srm/scorecards?period=2026-11")
    assert page.status_code == 200 and "S-GANG" in page.text
    assert web.get("/srm/scorecards?period=2026-13").status_code == 422
    viewer = f.web_client(db, "viewer")
    r = viewer.post("/srm/scorecards/compute", data={"csrf_token": f.csrf(viewer), "period": "2026-11"})
    assert r.status_code == 403 and "srm.write" in r.text
