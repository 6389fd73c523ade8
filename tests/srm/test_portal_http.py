"""The supplier portal through HTTP: a supplier's user sees only that supplier's RFQs, bid and purchase orders —
another supplier's are 404 on pages and API — cannot reach the buyers' pages; sealed bids stay unreadable to
buyers (service, page, API, export) until the deadline or closure; bidding, confirming a PO with a promised
date, pages in Chinese and English, and who may invite a supplier user."""

from __future__ import annotations

import re

from opensupply.erp.purchasing import service as purchasing
from opensupply.srm import rfq
from tests import factories as f
from tests.srm.tender_factories import bid, later, make_rfq, tender_shop


def _awarded_orders(s, rid) -> dict[int, int]:
    """Close, award each line to its lowest bidder and confirm the POs: {supplier id: po id}."""
    with s.uow(s.actor("buyer1")) as uow:
        rfq.close_rfq(uow, rid)
        out = rfq.award_lowest(uow, rid)
        for o in out["orders"]:
            purchasing.confirm_order(uow, o["id"])
        return {o["supplier_id"]: o["id"] for o in out["orders"]}


def test_a_supplier_sees_only_its_own_rfqs_bids_and_orders(db):
    s = tender_shop(db)
    shared = make_rfq(s, suppliers=("steel", "plastic"))
    other = make_rfq(s, suppliers=("plastic",))
    bid(s, "suxiao", shared, ["61.25", "12.75"])
    gang = f.api_client(db, "gang")
    r = gang.get("/api/v1/srm/portal/rfqs")
    assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [shared]
    assert gang.get(f"/api/v1/srm/portal/rfqs/{other}").status_code == 404
    lines = gang.get(f"/api/v1/srm/portal/rfqs/{shared}").json()["lines"]
    r = gang.put(f"/api/v1/srm/portal/rfqs/{shared}/bid", json={"lines": [
        {"rfq_line_id": lines[0]["id"], "unit_price": "58.5", "lead_time_days": 5},
        {"rfq_line_id": lines[1]["id"], "unit_price": "13.1", "lead_time_days": 5}], "payment_terms": "月结60天"})
    assert r.status_code == 200, r.text
    mine = gang.get(f"/api/v1/srm/portal/rfqs/{shared}")
    assert "61.25" not in mine.text and "suxiao" not in mine.text and "S-SUXIAO" not in mine.text
    assert "invites" not in mine.json()
    assert gang.put(f"/api/v1/srm/portal/rfqs/{other}/bid", json={"lines": [
        {"rfq_line_id": lines[0]["id"], "unit_price": "1"}]}).status_code == 404
    web = f.web_client(db, "gang")
    assert web.get(f"/portal/rfqs/{other}").status_code == 404
    page = web.get(f"/portal/rfqs/{shared}")
    assert page.status_code == 200 and "61.25" not in page.text and "58.5" in page.text

    orders = _awarded_orders(s, shared)  # steel wins line 1 (58.5 < 61.25), plastic line 2 (12.75 < 13.1)
    steel_po, plastic_po = orders[s.partners["steel"]], orders[s.partners["plastic"]]
    listed = gang.get("/api/v1/srm/portal/orders").json()["items"]
    assert [o["id"] for o in listed] == [steel_po]
    assert gang.get(f"/api/v1/srm/portal/orders/{plastic_po}").status_code == 404
    assert gang.post(f"/api/v1/srm/portal/orders/{plastic_po}/confirm",
                     json={"promised_date": "2030-01-10"}).status_code == 404
    assert web.get(f"/portal/orders/{plastic_po}").status_code == 404
    assert web.get(f"/portal/orders/{steel_po}").status_code == 200
    r = gang.post(f"/api/v1/srm/portal/orders/{steel_po}/confirm", json={"promised_date": "2030-01-10"})
    assert r.status_code == 200 and r.json()["promised_date"] == "2030-01-10"
    # the awarded/unawarded notices reached the portal
    assert "中标" in web.get("/portal").text


def test_a_portal_user_cannot_reach_the_buyers_side(db):
    s = tender_shop(db)
    rid = make_rfq(s)
    gang, web = f.api_client(db, "gang"), f.web_client(db, "gang")
    for path in ("/api/v1/srm/rfqs", f"/api/v1/srm/rfqs/{rid}", f"/api/v1/srm/rfqs/{rid}/bids",
                 "/api/v1/erp/purchase-orders", "/api/v1/srm/scorecards", "/api/v1/srm/portal-accounts"):
        assert gang.get(path).status_code in (403, 404), path
    for path in ("/srm/rfqs", f"/srm/rfqs/{rid}", "/erp/purchase-orders", "/srm/scorecards", "/srm/suppliers"):
        assert web.get(path).status_code in (403, 404), path
    # and a buyer (no portal account) has no portal
    buyer = f.web_client(db, "buyer1")
    assert buyer.get("/portal").status_code == 404
    assert f.api_client(db, "buyer1").get("/api/v1/srm/portal/rfqs").status_code == 404


def test_sealed_bids_are_unreadable_to_buyers_until_the_deadline(db, monkeypatch):
    s = tender_shop(db)
    rid = make_rfq(s)
    bid(s, "gang", rid, ["52.35", "11.85"])
    api, web = f.api_client(db, "buyer1"), f.web_client(db, "buyer1")
    r = api.get(f"/api/v1/srm/rfqs/{rid}/comparison")
    assert r.status_code == 409 and r.json()["error"]["code"] == "sealed"
    assert api.get(f"/api/v1/srm/rfqs/{rid}/comparison/export").status_code == 409
    for path in (f"/api/v1/srm/rfqs/{rid}", f"/api/v1/srm/rfqs/{rid}/bids", "/api/v1/srm/rfqs",
                 "/api/v1/srm/rfqs/export"):
        r = api.get(path)
        assert r.status_code == 200 and "52.35" not in r.text and "11.85" not in r.text, path
    assert api.get(f"/api/v1/srm/rfqs/{rid}/bids").json()["items"][0]["has_bid"] is True
    page = web.get(f"/srm/rfqs/{rid}/compare")
    assert page.status_code == 409 and "52.35" not in page.text and "52.35" not in web.get(f"/srm/rfqs/{rid}").text
    assert web.get(f"/srm/rfqs/{rid}/compare/export").status_code == 409
    r = api.post(f"/api/v1/srm/rfqs/{rid}/award", json={"lowest": True})
    assert r.status_code == 409
    later(monkeypatch, 49)  # the deadline passes: the same calls now show the prices
    r = api.get(f"/api/v1/srm/rfqs/{rid}/comparison")
    assert r.status_code == 200 and r.json()["lines"][0]["lowest_price"] == "52.350000"
    page = web.get(f"/srm/rfqs/{rid}/compare")
    assert page.status_code == 200 and "52.35" in page.text
    assert api.get(f"/api/v1/srm/rfqs/{rid}/comparison/export").status_code == 200


def test_buyer_pages_in_chinese_and_english_and_award_on_the_page(db):
    s = tender_shop(db)
    web = f.web_client(db, "buyer1")
    token = f.csrf(web)
    r = web.post("/srm/rfqs/new", data={
        "csrf_token": token, "title": "三季度钢板", "deadline": "2099-06-30T17:00", "terms": "到厂",
        "suppliers": [str(s.partners["steel"]), str(s.partners["plastic"])], "product_0": "RM-STEEL",
        "quantity_0": "10", "unit_0": "张", "required_date_0": "2099-07-15", "send": "1"})
    assert r.status_code == 303, r.text
    rid = int(re.search(r"/srm/rfqs/(\d+)", r.headers["location"]).group(1))
    with s.uow(readonly=True) as uow:
        got = rfq.get_rfq(uow, rid)
        assert got.state == "open" and got.deadline.isoformat().startswith("2099-06-30T09:00")  # 17:00 Shanghai
    bid(s, "gang", rid, ["49.5"])
    bid(s, "suxiao", rid, ["48.75"])
    assert web.post(f"/srm/rfqs/{rid}/close", data={"csrf_token": token}).status_code == 303
    page = web.get(f"/srm/rfqs/{rid}/compare")
    assert page.status_code == 200 and "最低" in page.text and "48.75" in page.text
    r = web.post(f"/srm/rfqs/{rid}/award", data={"csrf_token": token, "lowest": "1"})
    assert r.status_code == 303 and "error" not in r.headers.get("set-cookie", "")
    with s.uow(readonly=True) as uow:
        assert [o["supplier_id"] for o in rfq.rfq_orders(uow, rid)] == [s.partners["plastic"]]
    for path in ("/srm/rfqs", f"/srm/rfqs/{rid}", f"/srm/rfqs/{rid}/compare", "/srm/scorecards",
                 "/srm/receipt-inspections", "/srm/portal-accounts",
                 f"/srm/scorecards/suppliers/{s.partners['steel']}"):
        assert web.get(path).status_code == 200, path
    assert "询价单" in web.get(f"/srm/rfqs/{rid}").text
    web.post("/settings/locale", data={"csrf_token": token, "locale": "en", "next": "/"})
    assert "Bid deadline" in web.get(f"/srm/rfqs/{rid}").text
    assert "Lowest" in web.get(f"/srm/rfqs/{rid}/compare").text
    portal = f.web_client(db, "gang")
    for path in ("/portal", "/portal/rfqs", f"/portal/rfqs/{rid}", "/portal/bids", "/portal/orders",
                 "/portal/scorecard"):
        assert portal.get(path).status_code == 200, path
    assert "供应商门户" in portal.get("/portal").text
    ptoken = re.search(r'name="csrf_token" value="([^"]+)"', portal.get("/portal").text).group(1)
    portal.post("/settings/locale", data={"csrf_token": ptoken, "locale": "en", "next": "/portal"})
    home = portal.get("/portal").text
    assert "Supplier portal" in home and "You are invited to RFQ" in home


def test_inviting_supplier_users_needs_srm_write(db):
    tender_shop(db)
    viewer = f.api_client(db, "viewer")
    body = {"partner": "S-GANG", "username": "gang2"}
    assert viewer.post("/api/v1/srm/portal-accounts", json=body).status_code == 403
    r = f.api_client(db, "buyer1").post("/api/v1/srm/portal-accounts", json=body)
    assert r.status_code == 201 and r.json()["password"] and r.json()["partner_code"] == "S-GANG"
    assert f.api_client(db, "gang2", r.json()["password"]).get("/api/v1/srm/portal/rfqs").status_code == 200
    assert viewer.get("/api/v1/srm/portal-accounts").json()["total"] == 4


def test_a_draft_rfq_is_not_there_for_the_invited_supplier_until_sent(db):
    s = tender_shop(db)
    rid = make_rfq(s, suppliers=("steel",), open_it=False)
    gang = f.api_client(db, "gang")
    assert gang.get(f"/api/v1/srm/portal/rfqs/{rid}").status_code == 404
    assert gang.get("/api/v1/srm/portal/rfqs").json()["total"] == 0
    assert f.api_client(db, "buyer1").post(f"/api/v1/srm/rfqs/{rid}/open").status_code == 200
    assert gang.get(f"/api/v1/srm/portal/rfqs/{rid}").json()["can_bid"] is True
