"""TMS carriers over HTTP: shipments, rate-card import, freight bills, the label PDF and the signed tracking
webhook (401 unless signed; unknown waybills 202 with the rejected list; a replay changes nothing)."""

import io
import json

from openpyxl import Workbook

from opensupply.tms.webhooks import sign
from tests import factories as f

from . import factories as tf


def _world(db):
    c = f.company(db)
    wh = tf.zhejiang_warehouse(db, c)
    sf = tf.carrier(db, c, "SF", "顺丰速运", secret="push-secret")
    zto = tf.carrier(db, c, "ZTO", "中通快递")
    tf.sf_card(db, c, sf)
    tf.zto_card(db, c, zto)
    api = f.api_client(db, f.user(db, c))
    return c, wh, sf, zto, api


def _shipment(api, wh, **kw):
    body = {"warehouse_id": wh, "receiver": {"name": "李四", "phone": "13900139000", "province": "北京",
                                             "address": "建国路 1 号"},
            "packages": [{"weight_kg": "2.3"}], "choose_by": "cost", **kw}
    r = api.post("/api/v1/tms/shipments", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_shipment_quote_choose_book_label_and_list(db):
    _c, wh, sf, zto, api = _world(db)
    s = _shipment(api, wh)
    assert s["carrier_id"] == zto and s["quoted_cost"] == "16.00" and s["choose_by"] == "cost"
    assert {q["carrier_id"]: q["total"] for q in s["quotes"]} == {sf: "49.00", zto: "16.00"}
    r = api.post(f"/api/v1/tms/shipments/{s['id']}/choose", json={"by": "lead"})
    assert r.json()["carrier_id"] == sf
    r = api.post(f"/api/v1/tms/shipments/{s['id']}/book")
    assert r.status_code == 200 and r.json()["status"] == "booked"
    tn = r.json()["tracking_number"]
    pdf = api.get(f"/api/v1/tms/shipments/{s['id']}/label.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    assert tn in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    r = api.get("/api/v1/tms/shipments", params={"status": "booked", "carrier_id": sf})
    assert r.json()["total"] == 1 and r.json()["items"][0]["tracking_number"] == tn
    assert api.get("/api/v1/tms/shipments", params={"province": "广东"}).json()["total"] == 0
    r = api.post(f"/api/v1/tms/shipments/{s['id']}/events", json={"status": "teleported"})
    assert r.status_code == 422 and "跟踪状态" in r.json()["error"]["message"]


def test_tracking_webhook_signed_idempotent_and_unknown_waybills(db):
    _c, wh, sf, _zto, api = _world(db)
    s = _shipment(api, wh)
    s = api.post(f"/api/v1/tms/shipments/{s['id']}/choose", json={"by": str(sf)}).json()
    tn = api.post(f"/api/v1/tms/shipments/{s['id']}/book").json()["tracking_number"]
    anon = f.anonymous(db)
    body = json.dumps({"events": [
        {"waybill": tn, "status": "50", "at": "2099-01-01 10:00:00", "location": "杭州", "event_id": "A1"},
        {"waybill": tn, "status": "delivered", "at": "2099-01-02T09:00:00+08:00", "event_id": "A2"}]}).encode()
    assert anon.post("/api/v1/webhooks/tms/SF", content=body).status_code == 401
    assert anon.post("/api/v1/webhooks/tms/SF", content=body, headers={"X-Signature": "00"}).status_code == 401
    assert anon.post("/api/v1/webhooks/tms/SF", content=body,
                     headers={"X-Signature": b"ab\xe9"}).status_code == 401
    assert anon.post("/api/v1/webhooks/tms/NOPE", content=body,
                     headers={"X-Signature": sign("push-secret", body)}).status_code == 401
    assert anon.post("/api/v1/webhooks/tms/SF", content=body,
                     headers={"X-Signature": sign("wrong", body)}).status_code == 401
    r = anon.post("/api/v1/webhooks/tms/SF", content=body, headers={"X-Signature": sign("push-secret", body)})
    assert r.status_code == 200 and r.json()["accepted"] == 2
    r = anon.post("/api/v1/webhooks/tms/sf", content=body, headers={"X-Signature": "sha256=" + sign("push-secret",
                                                                                                     body)})
    assert r.status_code == 200 and r.json()["duplicates"] == 2 and r.json()["accepted"] == 0
    detail = api.get(f"/api/v1/tms/shipments/{s['id']}").json()
    assert detail["status"] == "delivered"
    assert [e["status"] for e in detail["timeline"]] == ["booked", "in_transit", "delivered"]
    body2 = json.dumps([{"waybill": "NOPE1", "status": "in_transit", "at": "2099-01-01T00:00:00Z"},
                        {"waybill": tn, "status": "??", "at": "2099-01-01T00:00:00Z"}]).encode()
    r = anon.post("/api/v1/webhooks/tms/SF", content=body2, headers={"X-Signature": sign("push-secret", body2)})
    assert r.status_code == 202
    assert [x["waybill"] for x in r.json()["rejected"]] == ["NOPE1", tn]
    bad = b"{not json"
    r = anon.post("/api/v1/webhooks/tms/SF", content=bad, headers={"X-Signature": sign("push-secret", bad)})
    assert r.status_code == 422


def test_rate_card_import_with_bad_rows_and_export(db):
    _c, _wh, sf, _zto, api = _world(db)
    card = api.post("/api/v1/tms/rate-cards", json={"code": "SF-STD", "name": "顺丰标快", "carrier_id": sf}).json()
    wb = Workbook()
    ws = wb.active
    ws.append(["目的省份", "首重(kg)", "首重价格", "续重单位(kg)", "续重价格", "最低收费", "时效(天)"])
    ws.append(["江苏", 1, 12, 1, 2, "", 1])
    ws.append(["火星", 1, 12, 1, 2, "", 1])
    ws.append(["上海", 1, "十二", 1, 2, "", 1])
    buf = io.BytesIO()
    wb.save(buf)
    r = api.post(f"/api/v1/tms/rate-cards/{card['id']}/import",
                 files={"file": ("sf.xlsx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 422
    assert [x["line"] for x in r.json()["error"]["rejected"]] == [3, 4]
    assert api.get(f"/api/v1/tms/rate-cards/{card['id']}").json()["lines"] == []
    csv = "目的省份,首重(kg),首重价格,续重单位(kg),续重价格,最低收费,时效(天)\n江苏,1,12,1,2,,1\n新疆,1,20,0.5,8,25,4\n"
    r = api.post(f"/api/v1/tms/rate-cards/{card['id']}/import",
                 files={"file": ("sf.csv", csv.encode("gb18030"), "text/csv")})
    assert r.status_code == 200 and r.json()["imported"] == 2
    lines = api.get(f"/api/v1/tms/rate-cards/{card['id']}").json()["lines"]
    assert [(x["dest_province"], x["additional_unit_kg"], x["min_charge"]) for x in lines] == [
        ("江苏省", "1", None), ("新疆维吾尔自治区", "0.5", "25.00")]
    exp = api.get(f"/api/v1/tms/rate-cards/{card['id']}/export", params={"format": "csv"})
    assert exp.status_code == 200 and "新疆维吾尔自治区" in exp.content.decode("utf-8-sig")


def test_freight_bill_upload_approve_post_over_http(db):
    _c, wh, sf, _zto, api = _world(db)
    s = _shipment(api, wh)
    api.post(f"/api/v1/tms/shipments/{s['id']}/choose", json={"by": str(sf)})
    tn = api.post(f"/api/v1/tms/shipments/{s['id']}/book").json()["tracking_number"]
    csv = f"运单号,计费重量,运费金额\n{tn},3,54.88\n".encode()
    r = api.post("/api/v1/tms/freight-bills", data={"carrier_id": sf, "tolerance_pct": "5"},
                 files={"file": ("bill.csv", csv, "text/csv")})
    assert r.status_code == 201, r.text
    bill = r.json()
    (line,) = bill["lines"]
    assert (line["status"], line["variance_pct"], line["expected_amount"]) == ("over", "12.00", "49.00")
    assert api.post(f"/api/v1/tms/freight-bills/{bill['id']}/post").status_code == 409
    api.post(f"/api/v1/tms/freight-bills/lines/{line['id']}/approve", json={"use": "expected"})
    assert api.post(f"/api/v1/tms/freight-bills/{bill['id']}/approve").json()["total_approved"] == "49.00"
    posted = api.post(f"/api/v1/tms/freight-bills/{bill['id']}/post").json()
    assert posted["state"] == "posted" and posted["journal_entry_id"]
    tb = api.get("/api/v1/accounting/trial-balance").json()
    assert tb["total_debit"] == tb["total_credit"]
    assert api.get(f"/api/v1/tms/shipments/{s['id']}").json()["actual_cost"] == "49.00"
