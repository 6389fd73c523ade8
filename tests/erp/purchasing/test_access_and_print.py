"""Who may see and do what (401/403/404), and the printed purchase order."""

import io

from pypdf import PdfReader

from tests import factories as f
from tests.erp.purchasing import factories as pf

PATHS = ("purchase-requests", "purchase-orders", "receipts", "vendor-bills", "payments")


def test_po_pdf_shows_number_supplier_and_product_in_chinese(db):
    p = pf.setup(db)
    po = pf.order(p, [("cup", "50", "30"), ("towel", "100", "18")])
    r = p.client("buyer").get(f"/api/v1/erp/purchase-orders/{po['id']}/pdf", params={"download": True})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"] and po["number"] in r.headers["content-disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert po["number"] in text
    assert p.supplier_name in text
    assert "不锈钢保温杯" in text and "采购订单" in text


def test_without_login_is_401(db):
    anon = f.anonymous(db)
    for path in PATHS:
        assert anon.get(f"/api/v1/erp/{path}").status_code == 401
    assert anon.get("/api/v1/erp/reports/ap-aging").status_code == 401


def test_without_permission_is_403(db):
    p = pf.setup(db)
    wh = p.client("warehouse")
    for path in PATHS:
        assert wh.get(f"/api/v1/erp/{path}").status_code == 403
    assert wh.post("/api/v1/erp/purchase-orders", json={"supplier": p.supplier, "lines": []}).status_code == 403
    assert p.client("buyer").post("/api/v1/erp/payments", json={"supplier": p.supplier,
                                                                "allocations": []}).status_code == 403


def test_other_companys_documents_are_404(db):
    a, b = pf.setup(db, "A"), pf.setup(db, "B")
    po = pf.order(b, [("cup", "10", "30")])
    receipt = pf.receive(b, po, ["10"])
    bill = pf.bill(b, po, [("10", "30")])
    pay = pf.ok(b.client("finance").post("/api/v1/erp/payments", json={
        "supplier": b.supplier, "allocations": [{"bill_id": bill["id"]}]}), 201)
    admin_a = a.client("admin")
    for url in (f"/api/v1/erp/purchase-orders/{po['id']}", f"/api/v1/erp/purchase-orders/{po['id']}/pdf",
                f"/api/v1/erp/receipts/{receipt['id']}", f"/api/v1/erp/vendor-bills/{bill['id']}",
                f"/api/v1/erp/payments/{pay['id']}", f"/api/v1/erp/suppliers/{b.supplier}/statement"):
        assert admin_a.get(url).status_code == 404, url
    assert admin_a.post(f"/api/v1/erp/receipts/{receipt['id']}/cancel").status_code == 404
    assert admin_a.post(f"/api/v1/erp/vendor-bills/{bill['id']}/approve-match").status_code == 404
    assert admin_a.post("/api/v1/erp/receipts", json={"order_id": po["id"], "lines": []}).status_code == 404
    assert admin_a.get("/api/v1/erp/purchase-orders").json()["total"] == 0
    assert admin_a.get("/api/v1/erp/reports/ap-aging").json()["total"] == 0
