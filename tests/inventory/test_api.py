"""The inventory REST API: shapes, errors as JSON with Chinese messages, permissions, companies."""

from tests import factories as f
from tests.inventory import factories as fi


def _client(db, roles=("admin",)):
    s = fi.shop(db)
    fi.product(s, "CUP", cost="10")
    fi.product(s, "TOWEL", tracking="lot")
    return s, f.api_client(db, f.user(db, s.company, roles=roles))


def test_receive_then_on_hand_through_the_api(db):
    _s, c = _client(db)
    r = c.post("/api/v1/inventory/receipts", json={"location": "A-01-01", "reference": "RCV-1", "lines": [
        {"product": "CUP", "quantity": "10", "unit_cost": "12.5"},
        {"product": "TOWEL", "quantity": "4", "lot": "L2026-01"}]})
    assert r.status_code == 201, r.text
    assert [m["quantity"] for m in r.json()["moves"]] == ["10", "4"]
    body = c.get("/api/v1/inventory/on-hand", params={"sku": "CUP"}).json()
    assert body["total"] == 1
    item = body["items"][0]
    assert (item["sku"], item["location"], item["on_hand"], item["reserved"], item["available"]) == (
        "CUP", "WH/STOCK/A-01-01", "10", "0", "10")
    assert c.get("/api/v1/inventory/on-hand", params={"lot": "L2026-01"}).json()["items"][0]["sku"] == "TOWEL"
    assert c.get("/api/v1/inventory/on-hand", params={"location": "B-01-01"}).json()["total"] == 0
    assert c.get("/api/v1/inventory/on-hand", params={"warehouse": "WH", "limit": 1}).json()["total"] == 2
    moves = c.get("/api/v1/inventory/moves", params={"reference": "RCV-1"}).json()
    assert moves["total"] == 2 and moves["items"][0]["source"] == "SUPPLIER"
    assert c.get("/api/v1/inventory/moves", params={"date_from": "2000-01-01", "date_to": "2000-01-02"}
                 ).json()["total"] == 0


def test_bad_receipts_are_4xx_with_a_field_and_nothing_written(db):
    _s, c = _client(db)
    r = c.post("/api/v1/inventory/receipts", json={"location": "Z-99", "lines": [{"product": "CUP", "quantity": "1"}]})
    assert r.status_code == 404 and r.json()["error"]["field"] == "location"
    r = c.post("/api/v1/inventory/receipts", json={"location": "A-01-01",
                                                   "lines": [{"product": "CUP", "quantity": "-1"}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "quantity"
    r = c.post("/api/v1/inventory/receipts", json={"location": "A-01-01",
                                                   "lines": [{"product": "CUP", "quantity": "abc"}]})
    assert r.status_code == 422
    r = c.post("/api/v1/inventory/receipts", json={"location": "A-01-01", "lines": [
        {"product": "CUP", "quantity": "1"}, {"product": "TOWEL", "quantity": "1"}]})
    assert r.status_code == 422 and "第 2 行" in r.json()["error"]["message"]
    r = c.post("/api/v1/inventory/receipts", json={"location": "A-01-01", "lines": []})
    assert r.status_code == 422
    assert c.get("/api/v1/inventory/moves").json()["total"] == 0


def test_reserve_release_and_shortage_through_the_api(db):
    s, c = _client(db)
    fi.receive(s, "CUP", 5)
    r = c.post("/api/v1/inventory/reservations", json={"lines": [{"product": "CUP", "location": "A-01-01",
                                                                  "quantity": "3"}], "reference": "SO-1"})
    assert r.status_code == 201, r.text
    res = r.json()["items"][0]
    assert (res["quantity"], res["state"], res["reference"]) == ("3", "active", "SO-1")
    item = c.get("/api/v1/inventory/on-hand", params={"sku": "CUP"}).json()["items"][0]
    assert (item["on_hand"], item["reserved"], item["available"]) == ("5", "3", "2")
    r = c.post("/api/v1/inventory/reservations", json={"lines": [{"product": "CUP", "location": "A-01-01",
                                                                  "quantity": "3"}]})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "insufficient_stock"
    assert "库存不足" in r.json()["error"]["message"]
    r = c.post("/api/v1/inventory/reservations", json={"partial": True, "lines": [
        {"product": "CUP", "location": "A-01-01", "quantity": "3"}]})
    assert r.json()["items"][0]["quantity"] == "2"
    r = c.post(f"/api/v1/inventory/reservations/{res['id']}/release")
    assert r.status_code == 200 and r.json()["state"] == "released"
    assert c.post(f"/api/v1/inventory/reservations/{res['id']}/release").status_code == 409
    assert c.get("/api/v1/inventory/reservations", params={"state": "active"}).json()["total"] == 1
    r = c.post("/api/v1/inventory/deliveries", json={"location": "A-01-01", "lines": [
        {"product": "CUP", "quantity": "4"}]})
    assert r.status_code == 409  # 2 of the 5 are still reserved


def test_adjustments_through_the_api(db):
    s, c = _client(db)
    fi.receive(s, "CUP", 10)
    r = c.post("/api/v1/inventory/adjustments", json={"reason": "年中盘点", "lines": [
        {"product": "CUP", "location": "A-01-01", "counted_quantity": "8"}]})
    assert r.status_code == 201, r.text
    adj = r.json()
    assert adj["state"] == "draft" and adj["number"].startswith("ADJ")
    assert c.get("/api/v1/inventory/adjustments").json()["total"] == 1
    r = c.post(f"/api/v1/inventory/adjustments/{adj['id']}/done")
    assert r.status_code == 200
    assert r.json()["lines"][0]["difference"] == "-2"
    assert c.get(f"/api/v1/inventory/adjustments/{adj['id']}").json()["state"] == "done"
    assert c.get("/api/v1/inventory/on-hand", params={"sku": "CUP"}).json()["items"][0]["on_hand"] == "8"
    assert c.post(f"/api/v1/inventory/adjustments/{adj['id']}/done").status_code == 409
    r = c.post("/api/v1/inventory/adjustments", json={"reason": "", "lines": [
        {"product": "CUP", "location": "A-01-01", "counted_quantity": "8"}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"


def test_lots_and_valuation_through_the_api(db):
    s, c = _client(db)
    r = c.post("/api/v1/inventory/lots", json={"product": "TOWEL", "name": "L-A", "expiry_date": "2027-06-30"})
    assert r.status_code == 201, r.text
    assert r.json()["expiry_date"] == "2027-06-30"
    assert c.post("/api/v1/inventory/lots", json={"product": "TOWEL", "name": "L-A"}).status_code == 409
    assert c.post("/api/v1/inventory/lots", json={"product": "CUP", "name": "L-A"}).status_code == 422
    fi.receive(s, "TOWEL", 2, lot="L-A", unit_cost="18")
    lots = c.get("/api/v1/inventory/lots", params={"q": "L-A"}).json()
    assert lots["total"] == 1 and lots["items"][0]["on_hand"] == "2"
    v = c.get("/api/v1/inventory/valuation").json()
    assert v["total_value"] == "36.00"
    assert v["gl_inventory_balance"] == "36.00"  # the receipt posted its stock side
    assert v["lines"][0]["sku"] == "TOWEL"


def test_inventory_endpoints_need_login(db):
    anon = f.anonymous(db)
    for path in ("on-hand", "moves", "reservations", "adjustments", "lots", "valuation"):
        r = anon.get(f"/api/v1/inventory/{path}")
        assert r.status_code == 401, path
        assert r.json()["error"]["code"] == "not_authenticated"
    assert anon.post("/api/v1/inventory/receipts", json={"lines": []}).status_code == 401


def test_another_companys_stock_is_invisible_and_unreachable(db):
    _a, client_a = _client(db)
    b = fi.shop(db, "OTHER")
    fi.product(b, "B-ONLY")
    fi.receive(b, "B-ONLY", 5)
    with b.uow() as uow:
        from opensupply.inventory import service as inv

        [rid] = inv.reserve(uow, [inv.ReservationRequest(inv.resolve_product(uow, "B-ONLY").id, b.bin_a, 1)])
        adj = inv.create_adjustment(uow, "B", [inv.AdjustmentLineIn("B-ONLY", "A-01-01", "5")])
    assert client_a.get("/api/v1/inventory/on-hand").json()["total"] == 0
    assert client_a.get("/api/v1/inventory/moves").json()["total"] == 0
    assert client_a.get(f"/api/v1/inventory/adjustments/{adj.id}").status_code == 404
    assert client_a.post(f"/api/v1/inventory/adjustments/{adj.id}/done").status_code == 404
    assert client_a.get(f"/api/v1/inventory/reservations/{rid}").status_code == 404
    assert client_a.post(f"/api/v1/inventory/reservations/{rid}/release").status_code == 404
    r = client_a.post("/api/v1/inventory/receipts", json={"location": b.bin_a,
                                                          "lines": [{"product": "CUP", "quantity": "1"}]})
    assert r.status_code == 404
    r = client_a.post("/api/v1/inventory/receipts", json={"location": "A-01-01",
                                                          "lines": [{"product": "B-ONLY", "quantity": "1"}]})
    assert r.status_code == 404
    assert client_a.get("/api/v1/inventory/valuation").json()["total_value"] == "0.00"


def test_roles_without_permission_get_403(db):
    s, c = _client(db, roles=("sales",))  # sales may read stock, not post it
    assert c.get("/api/v1/inventory/on-hand").status_code == 200
    r = c.post("/api/v1/inventory/receipts", json={"location": "A-01-01",
                                                   "lines": [{"product": "CUP", "quantity": "1"}]})
    assert r.status_code == 403
    wh = f.api_client(db, f.user(db, s.company, roles=("warehouse",)))
    r = wh.post("/api/v1/inventory/adjustments", json={"reason": "x", "lines": [
        {"product": "CUP", "location": "A-01-01", "counted_quantity": "1"}]})
    assert r.status_code == 403  # adjustments need inventory.adjust


def test_reverse_a_move_and_check_the_ledger_through_the_api(db):
    _s, c = _client(db)
    r = c.post("/api/v1/inventory/receipts", json={"location": "A-01-01", "reference": "RCV-9",
                                                   "lines": [{"product": "CUP", "quantity": "6"}]})
    [move_id] = r.json()["move_ids"]
    r = c.post(f"/api/v1/inventory/moves/{move_id}/reverse")
    assert r.status_code == 201, r.text
    back = r.json()["moves"][0]
    assert (back["source"], back["destination"], back["quantity"], back["reversed_move_id"]) == (
        "WH/STOCK/A-01-01", "SUPPLIER", "6", move_id)
    assert c.get("/api/v1/inventory/on-hand", params={"sku": "CUP"}).json()["total"] == 0
    assert c.get("/api/v1/inventory/ledger-check").json() == {"ok": True, "differences": []}
    assert c.post("/api/v1/inventory/moves/999999/reverse").status_code == 404
