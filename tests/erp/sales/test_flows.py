"""The order-to-cash rules a sales office and an accountant rely on: credit limits, partial
deliveries with backorders, over-payments kept as credit, credit notes, cancellation."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from opensupply.core.errors import PermissionDenied
from opensupply.core.uow import UnitOfWork
from opensupply.erp.sales import service as svc
from tests import factories as f
from tests.erp.sales import factories as fs

D = Decimal


def _order(client, s, qty="10", price="100", product=None, **extra) -> dict:
    r = client.post("/api/v1/erp/sales-orders", json={
        "customer_id": s.customer, "lines": [{"product_id": product or s.cup, "quantity": qty, "unit_price": price}],
        **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _ship_and_invoice(sales, finance, s, qty="10", price="100") -> dict:
    order = _order(sales, s, qty, price, confirm=True)
    assert sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver").status_code == 201
    r = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"]})
    assert r.status_code == 201, r.text
    return r.json()


# ---------------------------------------------------------------- credit limit
def test_order_over_the_credit_limit_is_refused_unless_a_sales_person_approves(db):
    s = fs.shop(db, credit_limit="2000")
    sales, finance, admin = fs.clients(db, s)
    # an earlier order already invoiced and unpaid: 10 × 100 + 13 % = 1130.00 open
    _ship_and_invoice(sales, finance, s)
    order = _order(sales, s, qty="8")  # 904.00: 1130 + 904 > 2000
    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/confirm")
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "credit_limit" and "信用额度" in err["message"] and "1130.00" in err["message"]
    assert sales.get(f"/api/v1/erp/sales-orders/{order['id']}").json()["state"] == "draft"
    assert fs.available(s, s.cup) == 90  # nothing reserved

    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/confirm", json={"override_credit": True})
    assert r.status_code == 422 and r.json()["error"]["field"] == "override_reason"

    # someone who may not approve sales cannot push it through, even calling the service
    viewer = f.user(db, s.company, roles=("finance",))
    with pytest.raises(PermissionDenied), UnitOfWork(f.actor(db, s.company, viewer), db=db) as uow:
        svc.confirm_sales_order(uow, order["id"], override_credit=True, override_reason="老客户")

    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/confirm",
                   json={"override_credit": True, "override_reason": "老客户，月底回款"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "confirmed" and body["credit_override_reason"] == "老客户，月底回款"
    assert body["credit_override_by_id"] is not None
    # once paid, the customer is within the limit again
    finance.post("/api/v1/erp/customer-receipts", json={"customer_id": s.customer, "amount": "1130.00"})
    third = _order(sales, s, qty="5")
    assert sales.post(f"/api/v1/erp/sales-orders/{third['id']}/confirm").status_code == 200  # 904 + 565 ≤ 2000
    fs.books_balance(admin)


# ---------------------------------------------------------------- deliveries
def test_partial_delivery_leaves_a_backorder_for_the_rest(db):
    s = fs.shop(db)
    sales, finance, admin = fs.clients(db, s)
    order = _order(sales, s, qty="30", price="79", confirm=True)
    line_id = order["lines"][0]["id"]
    r = sales.post("/api/v1/erp/deliveries", json={"order_id": order["id"],
                                                   "lines": [{"order_line_id": line_id, "quantity": "12"}]})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["state"] == "done" and first["lines"][0]["quantity"] == "12" and first["cost_total"] == "360.00"
    backorder = first["backorder"]
    assert backorder["state"] == "waiting" and backorder["backorder_of_id"] == first["id"]
    assert backorder["lines"][0]["quantity"] == "18"
    now = sales.get(f"/api/v1/erp/sales-orders/{order['id']}").json()
    assert now["delivery_status"] == "partial"
    assert (now["lines"][0]["qty_delivered"], now["lines"][0]["qty_reserved"]) == ("12", "18")
    assert fs.available(s, s.cup) == 70  # 100 − 12 shipped − 18 still reserved
    waiting = sales.get("/api/v1/erp/deliveries", params={"state": "waiting"}).json()
    assert [d["number"] for d in waiting["items"]] == [backorder["number"]]

    # invoice what left so far, then the rest
    inv1 = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"]}).json()
    assert inv1["lines"][0]["quantity"] == "12" and inv1["amount_total"] == "1071.24"  # 12 × 79 × 1.13
    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver", json={"lines": [{"sku": "YS-CUP-350",
                                                                                        "quantity": "19"}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "quantity"  # more than the 18 open
    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver")
    assert r.status_code == 201 and r.json()["number"] == backorder["number"] and r.json()["backorder"] is None
    inv2 = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"]}).json()
    assert D(inv1["amount_total"]) + D(inv2["amount_total"]) == D(order["amount_total"])  # parts add up to the order
    done = sales.get(f"/api/v1/erp/sales-orders/{order['id']}").json()
    assert (done["delivery_status"], done["invoice_status"], done["state"]) == ("full", "full", "done")
    assert fs.balance(s, "cogs") == D("900.00")
    fs.books_balance(admin)


def test_shortage_at_confirmation_reserves_what_is_there_and_refuses_to_ship_more(db):
    s = fs.shop(db)
    sales, _finance, admin = fs.clients(db, s)
    order = _order(sales, s, qty="120", confirm=True)  # 100 on hand
    assert order["lines"][0]["qty_reserved"] == "100"
    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver")
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_stock"
    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver", json={"lines": [{"product_id": s.cup,
                                                                                         "quantity": "100"}]})
    assert r.status_code == 201 and r.json()["backorder"]["lines"][0]["quantity"] == "20"
    # stock arrives later: the backorder reserves it when it ships
    from tests.inventory import factories as fi

    fi.receive(fi.Shop(db, s.company, 0, 0), "YS-CUP-350", 25, "B-01-01", unit_cost="32")
    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver")
    assert r.status_code == 201, r.text
    assert r.json()["cost_total"] == "640.00"
    fs.books_balance(admin)


def test_cancelling_an_unshipped_order_releases_its_stock(db):
    s = fs.shop(db)
    sales, _finance, _admin = fs.clients(db, s)
    order = _order(sales, s, qty="40", product=s.towel, confirm=True)
    assert fs.available(s, s.towel) == 60
    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/cancel", json={"reason": "客户取消"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert fs.available(s, s.towel) == 100
    deliveries = sales.get("/api/v1/erp/deliveries", params={"customer": "C-HZJY"}).json()["items"]
    assert [d["state"] for d in deliveries] == ["cancelled"]
    # a shipped order cannot be cancelled; its backorder can
    shipped = _order(sales, s, qty="10", confirm=True)
    sales.post(f"/api/v1/erp/sales-orders/{shipped['id']}/deliver", json={"lines": [{"product_id": s.cup,
                                                                                       "quantity": "4"}]})
    assert sales.post(f"/api/v1/erp/sales-orders/{shipped['id']}/cancel").status_code == 409
    backorder = sales.get("/api/v1/erp/deliveries", params={"state": "waiting"}).json()["items"][0]
    assert sales.post(f"/api/v1/erp/deliveries/{backorder['id']}/cancel").json()["state"] == "cancelled"
    assert fs.available(s, s.cup) == 96


# ---------------------------------------------------------------- receipts
def test_over_payment_becomes_credit_and_pays_the_next_invoice(db):
    s = fs.shop(db)
    sales, finance, admin = fs.clients(db, s)
    first = _ship_and_invoice(sales, finance, s, qty="1", price="100")  # 113.00
    r = finance.post("/api/v1/erp/customer-receipts", json={"customer_id": s.customer, "amount": "200.00",
                                                            "method": "银行转账"})
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["amount_allocated"] == "113.00" and receipt["amount_unallocated"] == "87.00"
    assert receipt["customer_credit"] == "87.00"
    assert fs.balance(s, "customer_advance", s.customer) == D("-87.00")  # 2203 预收账款 credit balance
    assert fs.balance(s, "receivable", s.customer) == 0
    assert finance.get(f"/api/v1/erp/invoices/{first['id']}").json()["state"] == "paid"

    second = _ship_and_invoice(sales, finance, s, qty="0.5", price="100")  # 56.50, paid from the credit
    assert second["state"] == "paid" and second["amount_paid"] == "56.50"
    assert [a["source"] for a in second["allocations"]] == ["credit"]
    assert fs.balance(s, "customer_advance", s.customer) == D("-30.50")
    third = _ship_and_invoice(sales, finance, s, qty="1", price="100")  # 113.00, 30.50 of it from credit
    assert (third["state"], third["amount_paid"], third["open_amount"]) == ("posted", "30.50", "82.50")
    assert fs.balance(s, "receivable", s.customer) == D("82.50")
    aging = finance.get("/api/v1/erp/reports/ar-aging").json()
    assert aging["totals"]["total"] == "82.50" and aging["totals"]["credit"] == "0.00"
    fs.books_balance(admin)


def test_one_receipt_settles_several_invoices_in_parts(db):
    s = fs.shop(db)
    sales, finance, admin = fs.clients(db, s)
    a = _ship_and_invoice(sales, finance, s, qty="1", price="100")  # 113.00
    b = _ship_and_invoice(sales, finance, s, qty="2", price="100")  # 226.00
    r = finance.post("/api/v1/erp/customer-receipts", json={
        "customer_id": s.customer, "amount": "200.00",
        "allocations": [{"invoice_id": a["id"], "amount": "113.00"}, {"invoice_id": b["id"], "amount": "87.00"}]})
    assert r.status_code == 201, r.text
    assert [x["amount"] for x in r.json()["allocations"]] == ["113.00", "87.00"]
    assert finance.get(f"/api/v1/erp/invoices/{b['id']}").json()["open_amount"] == "139.00"
    r = finance.post("/api/v1/erp/customer-receipts", json={
        "customer_id": s.customer, "amount": "500.00", "allocations": [{"invoice_id": b["id"], "amount": "140.00"}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "allocations"  # more than is open
    r = finance.post("/api/v1/erp/customer-receipts", json={
        "customer_id": s.customer, "amount": "100.00", "allocations": [{"invoice_id": b["id"], "amount": "139.00"}]})
    assert r.status_code == 422  # allocations beyond the money received
    assert fs.balance(s, "receivable", s.customer) == D("139.00")
    fs.books_balance(admin)


# ---------------------------------------------------------------- invoices
def test_special_invoice_needs_the_buyers_tax_id(db):
    s = fs.shop(db, tax_id=None)
    sales, finance, _admin = fs.clients(db, s)
    order = _order(sales, s, qty="1", confirm=True)
    sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver")
    r = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"], "invoice_type": "special"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "buyer_tax_id"
    r = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"], "invoice_type": "special",
                                                   "buyer_tax_id": "12-34"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "buyer_tax_id"
    r = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"], "invoice_type": "special",
                                                   "buyer_tax_id": "91330100 ma2b3c4d5e"})
    assert r.status_code == 201 and r.json()["buyer_tax_id"] == "91330100MA2B3C4D5E"
    r = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"]})
    assert r.status_code == 409  # nothing delivered is left to invoice


def test_credit_note_cancels_an_invoice_and_numbers_stay_gap_free(db):
    s = fs.shop(db)
    sales, finance, admin = fs.clients(db, s)
    invoice = _ship_and_invoice(sales, finance, s, qty="2", price="50")  # 113.00
    assert finance.post(f"/api/v1/erp/invoices/{invoice['id']}/credit-note", json={"reason": ""}).status_code == 422
    r = finance.post(f"/api/v1/erp/invoices/{invoice['id']}/credit-note", json={"reason": "开票信息有误"})
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["kind"] == "credit_note" and note["reversed_invoice_id"] == invoice["id"]
    year = dt.date.today().year
    assert (invoice["number"], note["number"]) == (f"INV{year}-000001", f"INV{year}-000002")
    assert finance.get(f"/api/v1/erp/invoices/{invoice['id']}").json()["state"] == "cancelled"
    assert fs.balance(s, "receivable", s.customer) == 0 and fs.balance(s, "revenue") == 0
    assert fs.balance(s, "vat_output") == 0
    assert finance.post(f"/api/v1/erp/invoices/{invoice['id']}/credit-note",
                        json={"reason": "again"}).status_code == 409
    # the delivered goods can be invoiced again, correctly
    again = finance.post("/api/v1/erp/invoices", json={"order_id": invoice["order_id"]}).json()
    assert again["number"] == f"INV{year}-000003" and again["amount_total"] == "113.00"
    fs.books_balance(admin)


def test_credit_note_of_a_paid_invoice_leaves_the_money_as_customer_credit(db):
    s = fs.shop(db)
    sales, finance, admin = fs.clients(db, s)
    invoice = _ship_and_invoice(sales, finance, s, qty="1", price="100")
    finance.post("/api/v1/erp/customer-receipts", json={"customer_id": s.customer, "amount": "113.00"})
    finance.post(f"/api/v1/erp/invoices/{invoice['id']}/credit-note", json={"reason": "退货"})
    assert fs.balance(s, "receivable", s.customer) == 0
    assert fs.balance(s, "customer_advance", s.customer) == D("-113.00")
    fs.books_balance(admin)


def test_invoice_pdf_reads_back_in_chinese(db):
    s = fs.shop(db)
    sales, finance, _admin = fs.clients(db, s)
    invoice = _ship_and_invoice(sales, finance, s, qty="3", price="79")
    r = finance.get(f"/api/v1/erp/invoices/{invoice['id']}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert invoice["number"] in text
    assert "杭州佳源商贸有限公司" in text
    assert "不锈钢保温杯" in text
    assert "增值税普通发票" in text
    assert "贰佰陆拾柒元捌角壹分" in text  # 3 × 79 × 1.13 = 267.81
    r = sales.get(f"/api/v1/erp/sales-orders/{invoice['order_id']}/pdf")
    order_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "销售订单" in order_text and "不锈钢保温杯" in order_text


# ---------------------------------------------------------------- quotes
def test_quote_becomes_a_confirmed_order(db):
    s = fs.shop(db)
    sales, _finance, _admin = fs.clients(db, s)
    r = sales.post("/api/v1/erp/quotes", json={"customer_id": "C-HZJY", "lines": [
        {"sku": "YS-CUP-350", "quantity": "20", "unit_price": "75", "discount_pct": "5"}]})
    assert r.status_code == 201, r.text
    quote = r.json()
    assert quote["number"].startswith("QT") and quote["amount_total"] == "1610.25"  # 20 × 75 × 95 % × 1.13
    assert sales.post(f"/api/v1/erp/quotes/{quote['id']}/send").json()["state"] == "sent"
    r = sales.post(f"/api/v1/erp/quotes/{quote['id']}/order", json={"confirm": True})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["state"] == "confirmed" and order["quote_id"] == quote["id"]
    assert order["amount_total"] == quote["amount_total"]
    assert sales.get(f"/api/v1/erp/quotes/{quote['id']}").json()["sales_order_id"] == order["id"]
    assert sales.post(f"/api/v1/erp/quotes/{quote['id']}/order").status_code == 409


def test_quote_and_delivery_note_print_in_chinese(db):
    s = fs.shop(db)
    sales, _finance, _admin = fs.clients(db, s)
    quote = sales.post("/api/v1/erp/quotes", json={"customer_id": s.customer, "lines": [
        {"product_id": s.towel, "quantity": "45", "unit_price": "30"}]}).json()
    r = sales.get(f"/api/v1/erp/quotes/{quote['id']}/pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "报价单" in text and quote["number"] in text and "纯棉毛巾" in text
    order = sales.post(f"/api/v1/erp/quotes/{quote['id']}/order", json={"confirm": True}).json()
    delivery = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver").json()
    r = sales.get(f"/api/v1/erp/deliveries/{delivery['id']}/pdf")
    assert r.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert delivery["number"] in text and "杭州佳源商贸有限公司" in text
    assert "B-01-01 / L1" in text and "B-01-01 / L2" in text  # picked 40 of lot L1, then 5 of L2
