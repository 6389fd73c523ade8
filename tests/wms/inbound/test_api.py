"""The inbound REST API: scan-to-receive (a resubmitted scan counts once), 完成收货, putaway by bin
scan (over capacity → 409), moves, counts (approving twice → 409) and the reports."""

from decimal import Decimal

from opensupply.erp.purchasing.models import PurchaseOrder
from tests import factories as f
from tests.wms.inbound import factories as fi

D = Decimal


def test_receive_put_away_move_and_count_over_the_api(db):
    s = fi.setup(db, capacity_units=D(10))
    api = f.api_client(db, f.user(db, s.company, roles=("warehouse",)))
    po_id = s.order([("cup", "12")])
    with s.uow(readonly=True) as uow:
        number = uow.get(PurchaseOrder, po_id).number
    scan = {"order": number, "code": "6901234567892", "quantity": "7", "client_scan_id": "pda-1-0001"}
    assert api.post("/api/v1/wms/receiving/scan", json=scan).json()["ok"] is True
    again = api.post("/api/v1/wms/receiving/scan", json=scan).json()
    assert again["replayed"] is True
    r = api.post("/api/v1/wms/receiving/scan", json={"order": number, "code": "YS-MUG-01", "quantity": "1"})
    assert r.status_code == 422 and "不在采购单" in r.json()["error"]["message"]
    more = {**scan, "quantity": "5", "client_scan_id": "pda-1-0002"}
    assert api.post("/api/v1/wms/receiving/scan", json=more).json()["ok"]
    expected = api.get(f"/api/v1/wms/receiving/{number}").json()
    assert expected["lines"][0]["scanned"] == "12" and len(expected["scanned"]) == 2
    done = api.post(f"/api/v1/wms/receiving/{number}/complete")
    assert done.status_code == 201, done.text
    tasks = done.json()["putaway_tasks"]
    assert [t["quantity"] for t in tasks] == ["10", "2"]
    listed = api.get("/api/v1/wms/putaway-tasks", params={"state": "open"}).json()
    assert listed["total"] == 2
    full = api.post(f"/api/v1/wms/putaway-tasks/{tasks[0]['id']}/confirm", json={"bin": tasks[0]["dest_bin"]})
    assert full.status_code == 200 and full.json()["state"] == "done"
    over = api.post(f"/api/v1/wms/putaway-tasks/{tasks[1]['id']}/confirm", json={"bin": tasks[0]["dest_bin"]})
    assert over.status_code == 409 and "容量不足" in over.json()["error"]["message"]
    ok = api.post(f"/api/v1/wms/putaway-tasks/{tasks[1]['id']}/confirm",
                  json={"bin": tasks[1]["dest_bin"], "client_scan_id": "pda-1-0003"})
    assert ok.status_code == 200
    moved = api.post("/api/v1/wms/moves", json={"from_bin": tasks[1]["dest_bin"], "item": "YS-CUP-350",
                                                "quantity": "1", "to_bin": "A-02-06"})
    assert moved.status_code == 201, moved.text
    count = api.post("/api/v1/wms/counts", json={"bins": [tasks[0]["dest_bin"]]}).json()
    assert count["lines"][0]["book_qty"] == "10"  # the warehouse role approves, so it sees the book
    entry = api.post(f"/api/v1/wms/counts/{count['id']}/entries",
                     json={"bin": tasks[0]["dest_bin"], "item": "YS-CUP-350", "quantity": "9"})
    assert entry.json()["ok"]
    first = api.post(f"/api/v1/wms/counts/{count['id']}/approve", json={"reason": "少一件"})
    assert first.status_code == 200 and first.json()["adjustment_id"]
    second = api.post(f"/api/v1/wms/counts/{count['id']}/approve", json={"reason": "少一件"})
    assert second.status_code == 409
    inout = api.get("/api/v1/wms/reports/inout", params={"group": "sku"}).json()
    assert inout["items"][0]["in_qty"] == "12" and inout["items"][0]["out_qty"] == "1"  # the count's loss
    assert api.get("/api/v1/wms/reports/utilisation").json()["totals"]["occupied"] >= 2
    assert api.get("/api/v1/wms/reports/ageing").json()["items"][0]["0-30"] == "11"
    assert api.get("/api/v1/wms/reports/productivity").status_code == 200
    sugg = api.get("/api/v1/wms/putaway-suggestions", params={"product": "YS-CUP-350", "quantity": "3"}).json()
    assert sugg["total"] >= 1
