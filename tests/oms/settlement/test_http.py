"""Settlements over HTTP: upload (multipart) → detail with exceptions → reconcile → post, the
pages with their upload form, filters and exports, and the oms.settle permission."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests import factories as f
from tests.erp.sales import factories as fs

from . import factories as sf

TID_A, TID_B, TID_X = "3912845567120331542", "3912845567120331543", "4000000000000000001"


def _bill() -> bytes:
    return sf.alipay_bill([
        {"tid": TID_A, "type": "交易付款", "income": "100.00"},
        {"type": "技术服务费", "expense": "5.00", "remark": f"淘宝订单号：{TID_A}"},
        {"tid": TID_X, "type": "交易付款", "income": "88.00"},
    ])


def _setup(db):
    erp = fs.shop(db)
    s = sf.shop(db, company=erp.company, customer=erp.customer, settings={"fee_rate": "0.05"})
    sf.order(s, TID_A, "100.00")
    sf.order(s, TID_B, "60.00")  # shipped, not in the bill
    return erp, s


def test_api_upload_detail_reconcile_post(db):
    _erp, s = _setup(db)
    client = f.api_client(db, f.user(db, s.company, roles=("sales",)))  # sales holds oms.*
    files = {"file": ("20880512402512820156_账务明细.csv", _bill(), "text/csv")}
    r = client.post("/api/v1/oms/settlements", data={"shop_id": str(s.shop_id)}, files=files)
    assert r.status_code == 201, r.text
    body = r.json()
    sid = body["id"]
    assert body["number"].startswith("ST") and body["state"] == "draft" and len(body["lines"]) == 3
    assert sorted((e["kind"], e["channel_order_id"]) for e in body["reconciliation"]["exceptions"]) == [
        ("shipped_not_paid", TID_B), ("unknown_order", TID_X)]
    again = client.post("/api/v1/oms/settlements", data={"shop_id": str(s.shop_id)}, files=files)
    assert again.status_code == 201 and again.json()["id"] == sid

    listing = client.get("/api/v1/oms/settlements", params={"q": "ST", "shop_id": s.shop_id}).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == sid
    assert listing["items"][0]["flagged_lines"] == 1  # the unknown order's payment
    assert client.get(f"/api/v1/oms/settlements/{sid}").json()["reconciliation"]["counts"]["unknown_order"] == 1
    assert client.post(f"/api/v1/oms/settlements/{sid}/reconcile").json()["counts"]["shipped_not_paid"] == 1

    r = client.post(f"/api/v1/oms/settlements/{sid}/post")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "posted" and r.json()["journal_entry_id"]
    # the preset chart has 660101 销售费用-平台服务费, so whoever posts, the fee lands there
    assert sf.balance(s, "660101") == sf.D("5.00")
    r = client.post(f"/api/v1/oms/settlements/{sid}/post")
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_posted"
    fs.books_balance(f.api_client(db, f.user(db, s.company)))


def test_api_rejects_bad_rows_by_line_and_needs_the_permission(db):
    _erp, s = _setup(db)
    client = f.api_client(db, f.user(db, s.company, roles=("sales",)))
    bad = sf.generic_bill([[TID_A, "income", "abc", "2026-05-01", ""]])
    r = client.post("/api/v1/oms/settlements", data={"shop_id": str(s.shop_id)},
                    files={"file": ("bill.csv", bad, "text/csv")})
    assert r.status_code == 422
    assert r.json()["error"]["rows"] == [{"line": 2, "reason": "金额无法识别：abc"}]
    warehouse = f.api_client(db, f.user(db, s.company, roles=("warehouse",)))
    assert warehouse.get("/api/v1/oms/settlements").status_code == 403


def test_pages_upload_show_exceptions_filter_export_and_post(db):
    _erp, s = _setup(db)
    web = f.web_client(db, f.user(db, s.company))
    page = web.get("/oms/settlements")
    assert page.status_code == 200 and "平台对账" in page.text and 'enctype="multipart/form-data"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = web.post("/oms/settlements", data={"csrf_token": token, "shop": str(s.shop_id), "fmt": "alipay"},
                 files={"file": ("账务明细.csv", _bill(), "text/csv")})
    assert r.status_code == 303, r.text
    detail_url = r.headers["location"]
    detail = web.get(detail_url)
    assert detail.status_code == 200
    assert 'data-kind="unknown_order"' in detail.text and 'data-kind="shipped_not_paid"' in detail.text
    assert 'data-kind="fee_diff"' not in detail.text and TID_X in detail.text
    assert "平台费用合计按订单收入的 0.05 核对" in detail.text
    fees_only = web.get(detail_url, params={"kind": "fee"}).text
    assert "技术服务费" in fees_only and "交易付款" not in fees_only.split("明细")[-1]

    x = web.get(f"{detail_url}/export", params={"format": "xlsx"})
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.content)).active
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "未知订单" in cells and "已发货未收款" in cells and TID_A in cells
    listing = web.get("/oms/settlements/export", params={"format": "csv", "shop": s.shop_id})
    assert listing.status_code == 200 and "ST" in listing.text

    r = web.post(f"{detail_url}/post", data={"csrf_token": token})
    assert r.status_code == 303
    assert "已过账" in web.get(detail_url).text

    bad = web.post("/oms/settlements", data={"csrf_token": token, "shop": str(s.shop_id)},
                   files={"file": ("bad.csv", sf.generic_bill([["", "income", "1", "2026-05-01", ""]]), "text/csv")})
    assert bad.status_code == 422 and "缺少订单号" in bad.text
