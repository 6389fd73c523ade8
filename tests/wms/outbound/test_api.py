"""The outbound flow over the REST API, as a warehouse clerk's handheld and pack station call it."""

from __future__ import annotations

from tests import factories as f
from tests.wms.outbound import factories as fo


def test_api_wave_pick_pack_ship(db):
    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-CUP-350": 1, "YS-MUG-01": 2})
    c = f.api_client(db, f.user(db, fl.company, roles=("warehouse",)))
    r = c.post("/api/v1/wms/waves", json={"warehouse_id": fl.wh.warehouse_id, "release": True})
    assert r.status_code == 201, r.text
    wave = r.json()
    assert wave["state"] == "released" and wave["fulfilment_list"][0]["fulfilment_id"] == fid
    assert [t["sequence"] for t in wave["task_list"]] == [1, 2]
    listing = c.get("/api/v1/wms/waves", params={"q": wave["number"]}).json()
    assert listing["total"] == 1 and listing["items"][0]["tasks"] == 2

    first = wave["task_list"][0]
    r = c.post(f"/api/v1/wms/tasks/{first['id']}/confirm",
               json={"bin": first["bin"], "item": "YS-TOWEL-01", "quantity": "1", "client_scan_id": "s-1"})
    assert r.status_code == 422 and "与拣货任务要求的" in r.json()["error"]["message"]
    for t in wave["task_list"]:
        r = c.post(f"/api/v1/wms/tasks/{t['id']}/confirm",
                   json={"bin": t["bin"], "item": t["barcode"], "quantity": t["quantity"],
                         "client_scan_id": f"t{t['id']}"})
        assert r.status_code == 200 and r.json()["ok"], r.text
    assert c.get(f"/api/v1/wms/waves/{wave['id']}").json()["state"] == "picked"
    pdf = c.get(f"/api/v1/wms/waves/{wave['id']}/pick-list.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"

    state = c.get("/api/v1/wms/pack/lookup", params={"code": f"{wave['number']}#1"}).json()
    assert state["id"] == fid and state["to_pack"] == "3"
    r = c.post(f"/api/v1/wms/pack/{fid}/items", json={"item": "YS-CUP-350"})
    assert r.status_code == 200, r.text
    r = c.post(f"/api/v1/wms/pack/{fid}/items", json={"item": "6901234500035", "quantity": "2"})
    package_id = r.json()["package_id"]
    assert c.post(f"/api/v1/wms/pack/{fid}/items", json={"item": "YS-MUG-01"}).status_code == 422
    r = c.post(f"/api/v1/wms/pack/packages/{package_id}/close", json={"weight_kg": "1.5"})
    assert r.json()["state"] == "closed" and r.json()["weight_kg"] == "1.5"
    r = c.post(f"/api/v1/wms/pack/{fid}/waybill", json={"carrier_id": fl.carrier})
    tracking = r.json()["tracking_number"]
    assert tracking.startswith("YTO")
    label = c.get(f"/api/v1/wms/pack/{fid}/label.pdf")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    r = c.post(f"/api/v1/wms/pack/{fid}/ship", json={})
    assert r.status_code == 200, r.text
    assert r.json()["tracking_number"] == tracking and r.json()["status"] == "shipped"
    assert c.post(f"/api/v1/wms/pack/{fid}/ship", json={}).status_code == 409


def test_api_needs_wms_permissions(db):
    fl = fo.floor(db)
    c = f.api_client(db, f.user(db, fl.company, roles=("sales",)))
    assert c.get("/api/v1/wms/waves").status_code == 403
    assert c.post("/api/v1/wms/waves", json={"warehouse_id": fl.wh.warehouse_id}).status_code == 403
