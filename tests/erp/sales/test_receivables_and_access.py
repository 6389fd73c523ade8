"""AR aging and collection reminders; who may call which endpoint; one company never sees another's."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from opensupply.core.uow import UnitOfWork
from opensupply.erp.sales import service as svc
from tests import factories as f
from tests.erp.sales import factories as fs

D = Decimal


def _invoice_dated(s, qty: str, price: str, day: dt.date) -> int:
    """An order shipped and invoiced on `day` (the customer pays 30 days after the invoice)."""
    with s.uow() as uow:
        order = svc.create_sales_order(uow, customer_id=s.customer, order_date=day, confirm=True,
                                       lines=[svc.SalesLineIn(product_id=s.cup, quantity=qty, unit_price=price)])
        svc.deliver(uow, order.id, date=day)
        return svc.invoice_order(uow, order.id, invoice_date=day).id


def test_aging_and_collections_show_how_long_invoices_are_overdue(db):
    s = fs.shop(db)
    sales, finance, admin = fs.clients(db, s)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the company's today, which the aging uses
    old = _invoice_dated(s, "2", "100", today - dt.timedelta(days=100))  # due 70 days ago: 226.00
    mid = _invoice_dated(s, "1", "100", today - dt.timedelta(days=45))  # due 15 days ago: 113.00
    _invoice_dated(s, "1", "50", today - dt.timedelta(days=5))  # not due yet: 56.50
    other = fs.customer(db, s.company, "C-SHLX", "上海乐享家居连锁")

    aging = finance.get("/api/v1/erp/reports/ar-aging").json()
    assert len(aging["items"]) == 1
    row = aging["items"][0]
    assert (row["customer_name"], row["not_due"], row["d1_30"], row["d61_90"], row["total"]) == (
        "杭州佳源商贸有限公司", "56.50", "113.00", "226.00", "395.50")
    assert row["max_days_overdue"] == 70
    assert D(aging["totals"]["total"]) == fs.balance(s, "receivable")  # aging agrees with the ledger
    past = finance.get("/api/v1/erp/reports/ar-aging", params={"as_of": (today - dt.timedelta(days=60)).isoformat()})
    assert past.json()["totals"]["total"] == "226.00"  # only the oldest invoice existed then, not yet due

    coll = sales.get(f"/api/v1/erp/customers/{s.customer}/collections").json()
    assert [(x["invoice_id"], x["days_overdue"], x["open_amount"]) for x in coll["overdue"]] == [
        (old, 70, "226.00"), (mid, 15, "113.00")]
    assert coll["total_overdue"] == "339.00"
    r = sales.post(f"/api/v1/erp/customers/{s.customer}/collections/reminders",
                   json={"note": "财务答应月底付款", "channel": "phone",
                         "promised_date": (today + dt.timedelta(days=6)).isoformat()})
    assert r.status_code == 201, r.text
    assert r.json()["invoice_ids"] == [old, mid] and r.json()["overdue_amount"] == "339.00"
    reminders = sales.get(f"/api/v1/erp/customers/{s.customer}/collections").json()["reminders"]
    assert [x["note"] for x in reminders] == ["财务答应月底付款"]
    listing = finance.get("/api/v1/erp/collections").json()
    assert [(x["customer_id"], x["max_days_overdue"], x["last_reminder"]) for x in listing["items"]] == [
        (s.customer, 70, today.isoformat())]
    r = sales.post(f"/api/v1/erp/customers/{other}/collections/reminders", json={"note": "x"})
    assert r.status_code == 409  # nothing overdue to remind about
    assert finance.get("/api/v1/erp/invoices", params={"overdue": "true"}).json()["total"] == 2
    fs.books_balance(admin)


def test_endpoints_need_login_and_the_right_permission(db):
    s = fs.shop(db)
    anon = f.anonymous(db)
    for path in ("/api/v1/erp/sales-orders", "/api/v1/erp/invoices", "/api/v1/erp/customer-receipts",
                 "/api/v1/erp/quotes", "/api/v1/erp/deliveries", "/api/v1/erp/reports/ar-aging",
                 f"/api/v1/erp/customers/{s.customer}/collections"):
        assert anon.get(path).status_code == 401, path
    assert anon.post("/api/v1/erp/sales-orders", json={}).status_code == 401

    warehouse = f.api_client(db, f.user(db, s.company, roles=("warehouse",)))
    r = warehouse.get("/api/v1/erp/sales-orders")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    sales, finance, _admin = fs.clients(db, s)
    body = {"customer_id": s.customer, "lines": [{"product_id": s.cup, "quantity": "1"}]}
    assert finance.post("/api/v1/erp/sales-orders", json=body).status_code == 403  # accountants do not sell
    order = sales.post("/api/v1/erp/sales-orders", json={**body, "confirm": True}).json()
    sales.post(f"/api/v1/erp/sales-orders/{order['id']}/deliver")
    assert sales.post("/api/v1/erp/invoices", json={"order_id": order["id"]}).status_code == 403  # invoicing
    assert sales.post("/api/v1/erp/customer-receipts",
                      json={"customer_id": s.customer, "amount": "1"}).status_code == 403  # payments
    assert finance.post("/api/v1/erp/invoices", json={"order_id": order["id"]}).status_code == 201


def test_another_companys_documents_are_not_found(db):
    a = fs.shop(db, "A")
    b = fs.shop(db, "B")
    sales_a, finance_a, _ = fs.clients(db, a)
    with b.uow() as uow:
        order = svc.create_sales_order(uow, customer_id=b.customer, confirm=True,
                                       lines=[svc.SalesLineIn(product_id=b.cup, quantity=2, unit_price=10)])
        delivery = svc.deliver(uow, order.id)
        invoice = svc.invoice_order(uow, order.id)
        receipt = svc.register_receipt(uow, b.customer, "5.00")
        quote = svc.create_quote(uow, customer_id=b.customer, lines=[svc.SalesLineIn(product_id=b.cup)])
        ids = (order.id, delivery.id, invoice.id, receipt.id, quote.id)
    order_id, delivery_id, invoice_id, receipt_id, quote_id = ids
    for path in (f"/api/v1/erp/sales-orders/{order_id}", f"/api/v1/erp/sales-orders/{order_id}/pdf",
                 f"/api/v1/erp/deliveries/{delivery_id}", f"/api/v1/erp/invoices/{invoice_id}",
                 f"/api/v1/erp/invoices/{invoice_id}/pdf", f"/api/v1/erp/customer-receipts/{receipt_id}",
                 f"/api/v1/erp/quotes/{quote_id}", f"/api/v1/erp/customers/{b.customer}/collections"):
        r = finance_a.get(path)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["code"] == "not_found"
    assert sales_a.post(f"/api/v1/erp/sales-orders/{order_id}/cancel").status_code == 404
    assert sales_a.post(f"/api/v1/erp/sales-orders/{order_id}/deliver").status_code == 404
    assert finance_a.post("/api/v1/erp/invoices", json={"order_id": order_id}).status_code == 404
    assert finance_a.post(f"/api/v1/erp/invoices/{invoice_id}/credit-note", json={"reason": "x"}).status_code == 404
    r = finance_a.post("/api/v1/erp/customer-receipts", json={"customer_id": a.customer, "amount": "5",
                                                               "allocations": [{"invoice_id": invoice_id,
                                                                                "amount": "5"}]})
    assert r.status_code == 404
    r = sales_a.post("/api/v1/erp/sales-orders", json={"customer_id": b.customer,
                                                       "lines": [{"product_id": a.cup, "quantity": "1"}]})
    assert r.status_code == 404 and r.json()["error"]["field"] == "customer_id"
    for path in ("/api/v1/erp/sales-orders", "/api/v1/erp/invoices", "/api/v1/erp/customer-receipts",
                 "/api/v1/erp/deliveries", "/api/v1/erp/quotes"):
        assert sales_a.get(path).json()["total"] == 0, path
    assert finance_a.get("/api/v1/erp/reports/ar-aging").json()["items"] == []


def test_lists_filter_by_customer_state_channel_and_date(db):
    s = fs.shop(db)
    other = fs.customer(db, s.company, "C-SHLX", "上海乐享家居连锁")
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    with s.uow() as uow:
        for customer, channel, days, confirm in ((s.customer, "direct", 40, True), (s.customer, "tmall", 10, False),
                                                 (other, "jd", 3, True)):
            svc.create_sales_order(uow, customer_id=customer, channel=channel, confirm=confirm,
                                   order_date=today - dt.timedelta(days=days), source_ref=f"{channel}-1",
                                   lines=[svc.SalesLineIn(product_id=s.cup, quantity=1)])
    sales, _finance, _admin = fs.clients(db, s)

    def numbers(**params):
        return sales.get("/api/v1/erp/sales-orders", params=params).json()["total"]

    assert numbers() == 3
    assert numbers(customer="C-SHLX") == 1 and numbers(customer=str(s.customer)) == 2
    assert numbers(q="乐享") == 1 and numbers(q="tmall-1") == 1
    assert numbers(state="draft") == 1 and numbers(channel="jd") == 1
    assert numbers(date_from=(today - dt.timedelta(days=15)).isoformat()) == 2
    assert numbers(date_to=(today - dt.timedelta(days=15)).isoformat()) == 1
    page = sales.get("/api/v1/erp/sales-orders", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    assert page["items"][0]["channel"] == "direct"  # newest first: the oldest order is last


def test_credit_note_of_credit_applied_invoice_returns_the_credit(db):
    s = fs.shop(db)
    with s.uow() as uow:
        svc.register_receipt(uow, s.customer, "500.00")  # an advance payment: no invoice yet
        assert svc.customer_credit(uow, s.customer) == D("500.00")
        order = svc.create_sales_order(uow, customer_id=s.customer, confirm=True,
                                       lines=[svc.SalesLineIn(product_id=s.cup, quantity=2, unit_price=100)])
        svc.deliver(uow, order.id)
        invoice = svc.invoice_order(uow, order.id)
        assert invoice.state == "paid" and svc.customer_credit(uow, s.customer) == D("274.00")
        svc.cancel_invoice(uow, invoice.id, "价格错误")
        assert svc.customer_credit(uow, s.customer) == D("500.00")
        assert svc.open_receivable(uow, s.customer) == D("-500.00")
    with UnitOfWork(f.system(s.company), db=db, readonly=True) as uow:
        from opensupply.accounting import service as gl

        tb = gl.trial_balance(uow)
        assert tb["total_debit"] == tb["total_credit"]
