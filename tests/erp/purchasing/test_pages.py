"""The purchasing pages: lists with filters and export, the order → receipt → bill flow by form,
match approval with its audit trail, reports and the approval rules page."""

import io
import re

from openpyxl import load_workbook

from tests import factories as f
from tests.erp.purchasing import factories as pf


def _csrf(client) -> str:
    return f.csrf(client)


def test_lists_render_filter_and_export(db):
    p = pf.setup(db)
    po = pf.order(p, [("cup", "10", "30")])
    pf.receive(p, po, ["10"])
    pf.bill(p, po, [("10", "30")])
    web = f.web_client(db, p.usernames["admin"])
    for path in ("purchase-requests", "purchase-orders", "receipts", "vendor-bills", "payments"):
        r = web.get(f"/erp/{path}")
        assert r.status_code == 200, path
    assert 'href="/erp/reports/ap-aging"' in web.get("/erp/vendor-bills").text
    assert 'href="/erp/purchase-approval-rules"' in web.get("/erp/purchase-requests").text
    page = web.get("/erp/purchase-orders", params={"q": "宏达"}).text
    assert po["number"] in page
    assert po["number"] not in web.get("/erp/purchase-orders", params={"state": "draft"}).text
    x = web.get("/erp/purchase-orders", params={"format": "xlsx"})
    assert x.status_code == 200
    rows = list(load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "单号" and rows[1][0] == po["number"]
    csv = web.get("/erp/vendor-bills", params={"format": "csv"})
    assert csv.status_code == 200 and "VB" in csv.content.decode("utf-8-sig")


def test_order_receive_and_blocked_bill_by_form_then_approved_with_audit_trail(db):
    p = pf.setup(db)
    buyer = f.web_client(db, p.usernames["buyer"])
    token = _csrf(buyer)
    r = buyer.post("/erp/purchase-orders/new", data={
        "csrf_token": token, "supplier": str(p.supplier), "location": "A-01-01", "submit": "1",
        "lines-1-product": "YS-CUP-350", "lines-1-quantity": "10", "lines-1-unit_price": "100"})
    assert r.status_code == 303, r.text
    po_url = r.headers["location"]
    po_page = buyer.get(po_url).text
    assert "已确认" in po_page and "不锈钢保温杯" in po_page
    line_id = re.search(r'name="qty-(\d+)"', po_page).group(1)
    # over-receipt: refused with the reason shown
    r = buyer.post(f"{po_url}/receive", data={"csrf_token": token, f"qty-{line_id}": "20"})
    assert r.status_code == 303 and r.headers["location"] == po_url
    assert "超收" in buyer.get(po_url).text
    r = buyer.post(f"{po_url}/receive", data={"csrf_token": token, f"qty-{line_id}": "10"})
    assert r.headers["location"].startswith("/erp/receipts/")
    assert "GR" in buyer.get(r.headers["location"]).text
    r = buyer.post(f"{po_url}/bill", data={"csrf_token": token, f"bqty-{line_id}": "10", f"bprice-{line_id}": "110",
                                           "supplier_invoice_no": "FP-88"})
    bill_url = r.headers["location"]
    page = buyer.get(bill_url).text
    assert "匹配异常待审批" in page and "超出容差" in page
    assert "批准差异并过账" not in page  # a buyer cannot approve

    approver = f.web_client(db, p.usernames["approver"])
    page = approver.get(bill_url).text
    assert "批准差异并过账" in page
    r = approver.post(f"{bill_url}/approve-match", data={"csrf_token": _csrf(approver), "comment": "同意涨价"})
    assert r.status_code == 303
    page = approver.get(bill_url).text
    assert "已过账" in page
    assert f"已由 {p.usernames['approver']}" in page  # who approved, on the bill
    trail = page.split("变更记录", 1)[1]
    assert p.usernames["approver"] in trail and "match_approved_by" in trail  # and in the audit trail
    pf.assert_books_balance(p)


def test_request_approval_by_form_and_rejection_needs_reason(db):
    p = pf.setup(db)
    buyer = f.web_client(db, p.usernames["buyer"])
    r = buyer.post("/erp/purchase-requests/new", data={
        "csrf_token": _csrf(buyer), "supplier": str(p.supplier), "submit": "1",
        "lines-1-product": "YS-CUP-350", "lines-1-quantity": "200", "lines-1-unit_price": "100"})
    req_url = r.headers["location"]
    assert "待审批" in buyer.get(req_url).text
    approver = f.web_client(db, p.usernames["approver"])
    token = _csrf(approver)
    approver.post(f"{req_url}/reject", data={"csrf_token": token, "reason": ""})
    assert "驳回必须填写原因" in approver.get(req_url).text
    approver.post(f"{req_url}/approve", data={"csrf_token": token, "comment": "同意采购"})
    page = approver.get(req_url).text
    assert "已批准" in page and "同意采购" in page
    r = buyer.post(f"{req_url}/orders", data={"csrf_token": _csrf(buyer)})
    assert r.headers["location"].startswith("/erp/purchase-orders/")


def test_payment_form_aging_and_statement_pages(db):
    p = pf.setup(db)
    po = pf.order(p, [("cup", "10", "100")])
    pf.receive(p, po, ["10"])
    bill = pf.bill(p, po, [("10", "100")])
    fin = f.web_client(db, p.usernames["finance"])
    page = fin.get("/erp/payments/new", params={"supplier": p.supplier}).text
    assert bill["number"] in page
    r = fin.post("/erp/payments/new", data={"csrf_token": _csrf(fin), "supplier": str(p.supplier),
                                            f"pay-{bill['id']}": "1", f"amount-{bill['id']}": "500"})
    assert r.headers["location"].startswith("/erp/payments/"), fin.get("/erp/payments/new").text
    assert "PAY" in fin.get(r.headers["location"]).text
    aging = fin.get("/erp/reports/ap-aging").text
    assert p.supplier_name in aging and "630.00" in aging
    st = fin.get(f"/erp/suppliers/{p.supplier}/statement").text
    assert "630.00" in st and "与对账单一致" in st
    pdf = fin.get(f"/erp/purchase-orders/{po['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_rules_page_saves_thresholds(db):
    p = pf.setup(db)
    admin = f.web_client(db, p.usernames["approver"])
    page = admin.get("/erp/purchase-approval-rules").text
    assert "5000.00" in page
    r = admin.post("/erp/purchase-approval-rules", data={
        "csrf_token": _csrf(admin), "rules-1-max_amount": "2000", "rules-1-steps": "0",
        "rules-2-max_amount": "", "rules-2-steps": "1", "price_tolerance_pct": "3"})
    assert r.status_code == 303
    rules = pf.ok(p.client("buyer").get("/api/v1/erp/purchase-approval-rules"))["items"]
    assert [(x["max_amount"], x["steps"]) for x in rules] == [("2000.00", 0), (None, 1)]
    assert pf.ok(p.client("buyer").get("/api/v1/erp/purchase-settings"))["price_tolerance_pct"] == "3"
    buyer = f.web_client(db, p.usernames["buyer"])
    assert buyer.post("/erp/purchase-approval-rules", data={"csrf_token": _csrf(buyer)}).status_code == 403
