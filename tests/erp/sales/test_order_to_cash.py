"""Order to cash through HTTP: order → reservation → delivery → invoice → receipt, and the books
balance at every step (trial balance, GL inventory = stock valuation, the customer's AR)."""

from decimal import Decimal

from sqlalchemy import select

from opensupply.core.events import OutboxEvent
from tests.erp.sales import factories as fs

D = Decimal


def _order(client, s, lines=None, **extra):
    body = {"customer_id": s.customer, "channel": "direct", "lines": lines or [
        {"product_id": s.cup, "quantity": "10", "unit_price": "79.00", "tax_rate": "13"},
        {"sku": "YS-TOWEL-01", "quantity": "50", "unit_price": "45.00", "tax_rate": "0.13", "discount_pct": "10"}]}
    body.update(extra)
    r = client.post("/api/v1/erp/sales-orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_order_to_cash_posts_balanced_entries_and_clears_the_customer(db):
    s = fs.shop(db)
    sales, finance, admin = fs.clients(db, s)

    order = _order(sales, s)
    assert order["number"].startswith("SO") and order["state"] == "draft"
    # tax-exclusive B2B prices: 10 × 79 = 790 + 102.70 VAT; 50 × 45 × 90 % = 2025 + 263.25 VAT
    assert [(ln["amount_untaxed"], ln["amount_tax"], ln["amount_total"]) for ln in order["lines"]] == [
        ("790.00", "102.70", "892.70"), ("2025.00", "263.25", "2288.25")]
    assert (order["amount_untaxed"], order["amount_tax"], order["amount_total"]) == ("2815.00", "365.95", "3180.95")

    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/confirm")
    assert r.status_code == 200, r.text
    confirmed = r.json()
    assert confirmed["state"] == "confirmed"
    assert [ln["qty_reserved"] for ln in confirmed["lines"]] == ["10", "50"]
    assert fs.available(s, s.cup) == 90 and fs.available(s, s.towel) == 50
    with s.uow(readonly=True) as uow:
        event = uow.session.scalar(select(OutboxEvent).where(OutboxEvent.name == "erp.sales_order_confirmed"))
    assert event.payload["sales_order_id"] == order["id"] and event.payload["channel"] == "direct"
    assert event.payload["created_by_module"] == "erp"

    r = sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver")
    assert r.status_code == 201, r.text
    delivery = r.json()
    assert delivery["number"].startswith("DN") and delivery["state"] == "done" and delivery["backorder"] is None
    # cost: 10 cups at 30.00; towels FIFO: 40 of lot L1 at 10.00 + 10 of L2 at 12.00
    assert delivery["cost_total"] == "820.00"
    fs.books_balance(admin)

    r = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"], "invoice_type": "special"})
    assert r.status_code == 201, r.text
    invoice = r.json()
    assert invoice["number"].startswith("INV") and invoice["invoice_type_label"] == "增值税专用发票"
    assert invoice["buyer_tax_id"] == "91330100MA2B3C4D5E"
    assert (invoice["amount_untaxed"], invoice["amount_tax"], invoice["amount_total"]) == (
        "2815.00", "365.95", "3180.95")
    assert fs.balance(s, "receivable", s.customer) == D("3180.95")
    assert fs.balance(s, "vat_output") == D("-365.95")
    # 利润表: revenue = invoiced net, cost of sales = delivered cost
    assert -fs.balance(s, "revenue") == D("2815.00")
    assert fs.balance(s, "cogs") == D("820.00")
    fs.books_balance(admin)

    r = finance.post("/api/v1/erp/customer-receipts", json={"customer_id": s.customer, "amount": "3180.95",
                                                            "reference": "工行回单 0001"})
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["number"].startswith("RC") and receipt["amount_allocated"] == "3180.95"
    assert receipt["customer_credit"] == "0.00"
    assert fs.balance(s, "receivable", s.customer) == 0
    assert fs.balance(s, "bank") == D("3180.95")
    assert finance.get(f"/api/v1/erp/invoices/{invoice['id']}").json()["state"] == "paid"
    assert sales.get(f"/api/v1/erp/sales-orders/{order['id']}").json()["state"] == "done"
    fs.books_balance(admin)
    aging = finance.get("/api/v1/erp/reports/ar-aging").json()
    assert aging["items"] == [] and aging["totals"]["total"] == "0.00"


def test_tax_inclusive_platform_prices_carve_out_vat(db):
    s = fs.shop(db)
    sales, _finance, _admin = fs.clients(db, s)
    order = _order(sales, s, channel="tmall", source_ref="TM20261125001",
                   lines=[{"product_id": s.cup, "quantity": "3", "unit_price": "99.00"}])
    assert order["price_includes_tax"] is True
    # 3 × 99.00 = 297.00 including 13 % VAT: net 262.83, VAT 34.17
    assert (order["amount_untaxed"], order["amount_tax"], order["amount_total"]) == ("262.83", "34.17", "297.00")
    r = sales.post("/api/v1/erp/sales-orders", json={"customer_id": s.customer, "channel": "tmall",
                                                     "source_ref": "TM20261125001",
                                                     "lines": [{"product_id": s.cup, "quantity": "1"}]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_order"


def test_bad_order_input_is_a_4xx_naming_the_field(db):
    s = fs.shop(db)
    sales, _finance, _admin = fs.clients(db, s)
    cases = [({"tax_rate": "10"}, 422, "tax_rate"), ({"quantity": "0"}, 422, "quantity"),
             ({"discount_pct": "120"}, 422, "discount_pct"), ({"unit_price": "abc"}, 422, "unit_price"),
             ({"product_id": 999999}, 404, "product_id")]
    for extra, status, field in cases:
        line = {"product_id": s.cup, "quantity": "1", "unit_price": "10", **extra}
        r = sales.post("/api/v1/erp/sales-orders", json={"customer_id": s.customer, "lines": [line]})
        assert (r.status_code, r.json()["error"]["field"]) == (status, field), (extra, r.text)
    r = sales.post("/api/v1/erp/sales-orders", json={"customer_id": 999999, "lines": [{"product_id": s.cup,
                                                                                        "quantity": "1"}]})
    assert r.status_code == 404 and r.json()["error"]["field"] == "customer_id"
    assert sales.get("/api/v1/erp/sales-orders").json()["total"] == 0


def test_draft_orders_change_confirmed_ones_do_not(db):
    s = fs.shop(db, tax_id="税号待补")  # a malformed tax id in master data does not block a 普票
    sales, finance, _admin = fs.clients(db, s)
    order = _order(sales, s, lines=[{"product_id": s.cup, "quantity": "2", "unit_price": "100"}])
    r = sales.patch(f"/api/v1/erp/sales-orders/{order['id']}", json={"lines": [
        {"product_id": s.cup, "quantity": "3", "unit_price": "100"}], "notes": "客户加量"})
    assert r.status_code == 200 and r.json()["amount_total"] == "339.00" and r.json()["notes"] == "客户加量"
    r = sales.patch(f"/api/v1/erp/sales-orders/{order['id']}", json={"price_includes_tax": True})
    assert r.json()["amount_total"] == "300.00" and r.json()["amount_tax"] == "34.51"
    sales.post(f"/api/v1/erp/sales-orders/{order['id']}/confirm")
    r = sales.patch(f"/api/v1/erp/sales-orders/{order['id']}", json={"notes": "改"})
    assert r.status_code == 409
    sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver")
    r = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"], "invoice_type": "special"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "buyer_tax_id"
    r = finance.post("/api/v1/erp/invoices", json={"order_id": order["id"]})
    assert r.status_code == 201 and r.json()["buyer_tax_id"] is None
