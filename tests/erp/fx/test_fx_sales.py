"""Selling to a US customer in dollars: the invoice books 1122 at its date's rate with the dollars
beside it; money in at a later rate realises the difference on 660301; over-payment stays as the
customer's credit in dollars and settles the next invoice; AR per customer = open items in yuan."""

import pytest

from opensupply.accounting import service as gl
from opensupply.core.errors import ValidationFailed
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import CustomerInvoice, CustomerReceipt
from tests.erp.fx import factories as fx
from tests.erp.fx.factories import D, _uow, day
from tests.erp.sales import factories as fs


@pytest.fixture
def usd_shop(db):
    """Stock on hand, a US customer (USD) and rates: 7.10 from Nov 1, 7.00 from Nov 20."""
    s = fs.shop(db)
    cust = fs.customer(db, s.company, "C-BOSTON", "Boston Home Goods LLC", currency_code="USD", tax_id="")
    fx.rates(db, s.company, "USD", {day(1): "7.10", day(20): "7.00"})
    return s, cust


def sell(s, cust, qty="10", price="100", *, on=3):
    """A USD order for cups at `price` (VAT 0: exports), delivered and invoiced on day `on`."""
    with _uow(s.db, s.company) as u:
        order = sales.create_sales_order(u, customer_id=cust, order_date=day(2), confirm=True, lines=[
            sales.SalesLineIn(product_id=s.cup, quantity=qty, unit_price=price, tax_rate="0")])
        sales.deliver(u, order.id, date=day(on))
        return sales.invoice_order(u, order.id, invoice_date=day(on)).id


def ar_equals_open_items(s, cust):
    with _uow(s.db, s.company, readonly=True) as u:
        aging = {r["customer_id"]: r for r in sales.ar_aging(u)["items"]}
        row = aging.get(cust, {"total": D(0), "credit": D(0)})
        assert gl.partner_balances(u, "receivable").get(cust, D(0)) == row["total"]
        assert sales.customer_credit(u, cust) == row["credit"]
        return row


def test_usd_sale_invoiced_at_710_received_at_700_books_an_exchange_loss(usd_shop):
    s, cust = usd_shop
    invoice_id = sell(s, cust)
    with _uow(s.db, s.company, readonly=True) as u:
        invoice = u.get(CustomerInvoice, invoice_id)
        assert (invoice.currency_code, invoice.currency_rate, invoice.amount_total) == ("USD", D("7.10"), D("1000"))
    ar = fx.account_lines(s.db, s.company, "1122", cust)
    assert [(ln.debit, ln.currency_code, ln.amount_currency) for ln in ar] == [(D("7100.00"), "USD", D("1000"))]
    assert fx.balance(s.db, s.company, "6001") == D("-7100.00")
    assert ar_equals_open_items(s, cust)["currencies"] == {"USD": D("1000.00")}

    with _uow(s.db, s.company) as u:
        receipt = sales.register_receipt(u, cust, "1000", receipt_date=day(21))
        assert (receipt.currency_code, receipt.currency_rate, receipt.fx_difference) == ("USD", D("7.00"),
                                                                                          D("100.00"))
    assert fx.balance(s.db, s.company, "1002") == D("7000.00")
    assert fx.fx_result(s.db, s.company) == D("100.00")  # (7.10 − 7.00) × $1,000: a loss
    assert fx.balance(s.db, s.company, "1122", cust) == 0 and fx.balance_currency(s.db, s.company, "1122", cust) == 0
    with _uow(s.db, s.company, readonly=True) as u:
        assert u.get(CustomerInvoice, invoice_id).state == "paid"
    ar_equals_open_items(s, cust)
    fx.vouchers_balance(s.db, s.company)


def test_partial_receipts_and_a_gain(usd_shop):
    s, cust = usd_shop
    fx.rates(s.db, s.company, "USD", {day(10): "7.25"})
    invoice_id = sell(s, cust, qty="3", price="33.33")  # $99.99 → ¥709.93
    with _uow(s.db, s.company) as u:
        sales.register_receipt(u, cust, "50", receipt_date=day(10))  # ¥362.50 in, 1122 −¥355.00: gain 7.50
    row = ar_equals_open_items(s, cust)
    assert row["total"] == D("709.93") - D("355.00") and row["currencies"] == {"USD": D("49.99")}
    assert fx.fx_result(s.db, s.company) == D("-7.50")
    with _uow(s.db, s.company) as u:
        sales.register_receipt(u, cust, "49.99", receipt_date=day(21))  # ¥349.93 in, 1122 −¥354.93: loss 5.00
        assert u.get(CustomerInvoice, invoice_id).state == "paid"
    assert fx.fx_result(s.db, s.company) == D("-2.50")
    assert fx.balance(s.db, s.company, "1122", cust) == 0
    ar_equals_open_items(s, cust)
    fx.vouchers_balance(s.db, s.company)


def test_overpayment_in_dollars_is_credit_that_settles_the_next_invoice(usd_shop):
    s, cust = usd_shop
    first = sell(s, cust, qty="1", price="100")
    with _uow(s.db, s.company) as u:
        sales.register_receipt(u, cust, "150", receipt_date=day(21))  # $100 settles, $50 credit at 7.00
        assert sales.customer_credit_in(u, cust, "USD") == (D("50.00"), D("350.00"))
        assert u.get(CustomerInvoice, first).state == "paid"
    assert fx.fx_result(s.db, s.company) == D("10.00")
    assert ar_equals_open_items(s, cust)["credit"] == D("350.00")
    # the next invoice at 7.00 (Nov 21) takes the credit: $50 of it is settled at once
    second = sell(s, cust, qty="1", price="80", on=22)
    with _uow(s.db, s.company, readonly=True) as u:
        invoice = u.get(CustomerInvoice, second)
        assert invoice.amount_paid == D("50.00") and sales.open_amount(invoice) == D("30.00")
        assert sales.customer_credit_in(u, cust, "USD") == (D("0"), D("0.00"))
    assert fx.balance(s.db, s.company, "1122", cust) == D("210.00")  # $30 × 7.00
    ar_equals_open_items(s, cust)
    fx.vouchers_balance(s.db, s.company)


def test_one_receipt_for_several_invoices_by_allocation(usd_shop):
    s, cust = usd_shop
    fx.rates(s.db, s.company, "USD", {day(8): "7.20"})
    a = sell(s, cust, qty="1", price="100", on=3)  # ¥710
    b = sell(s, cust, qty="1", price="200", on=8)  # ¥1,440
    with _uow(s.db, s.company) as u:
        receipt = sales.register_receipt(u, cust, "250", [(a, "100"), (b, "150")], receipt_date=day(21))
        assert receipt.amount_allocated == D("250")
    # 1122 cleared ¥710 + ¥1,080 = ¥1,790; the bank got ¥1,750: a ¥40 loss
    assert fx.fx_result(s.db, s.company) == D("40.00")
    row = ar_equals_open_items(s, cust)
    assert row["total"] == D("360.00") and row["currencies"] == {"USD": D("50.00")}
    fx.vouchers_balance(s.db, s.company)


def test_credit_note_of_a_part_paid_usd_invoice(usd_shop):
    s, cust = usd_shop
    invoice_id = sell(s, cust, qty="2", price="100")  # $200 → ¥1,420
    with _uow(s.db, s.company) as u:
        sales.register_receipt(u, cust, "50", receipt_date=day(21))  # clears ¥355 at the invoice's rate
        sales.cancel_invoice(u, invoice_id, "客户退货", credit_date=day(22))
    assert fx.balance(s.db, s.company, "1122", cust) == 0
    assert fx.balance(s.db, s.company, "2203", cust) == D("-355.00")  # what was paid is credit, $50
    assert fx.balance_currency(s.db, s.company, "2203", cust) == D("-50.00")
    ar_equals_open_items(s, cust)
    fx.vouchers_balance(s.db, s.company)


def test_missing_rate_and_currency_mismatch_are_refused(db):
    s = fs.shop(db)
    cust = fs.customer(db, s.company, "C-TOKYO", "Tokyo Trading KK", currency_code="JPY", tax_id="")
    with pytest.raises(ValidationFailed) as err, _uow(db, s.company) as u:
        sales.create_sales_order(u, customer_id=cust, order_date=day(20),
                                 lines=[sales.SalesLineIn(product_id=s.cup, quantity=1, unit_price=1000)])
    assert "缺少 JPY 在 2026-11-20" in str(err.value)
    with _uow(db, s.company, readonly=True) as u:
        assert sales.list_orders(u, sales.ListQuery())[1] == 0
    fx.rates(db, s.company, "JPY", {day(1): "0.047"})
    cny_invoice = None
    with _uow(db, s.company) as u:
        order = sales.create_sales_order(u, customer_id=s.customer, confirm=True, order_date=day(2),
                                         lines=[sales.SalesLineIn(product_id=s.cup, quantity=1, unit_price=50)])
        sales.deliver(u, order.id, date=day(3))
        cny_invoice = sales.invoice_order(u, order.id, invoice_date=day(3)).id
    with pytest.raises(ValidationFailed), _uow(db, s.company) as u:  # a CNY invoice cannot take yen
        sales.register_receipt(u, s.customer, "50", [(cny_invoice, "50")], currency_code="JPY", receipt_date=day(4))
    with _uow(db, s.company, readonly=True) as u:
        assert sales.list_receipts(u, sales.ListQuery())[1] == 0
        assert u.session.query(CustomerReceipt).count() == 0


def test_pages_show_the_currency_the_rate_and_the_foreign_amounts(usd_shop):
    from tests import factories as f

    s, cust = usd_shop
    invoice_id = sell(s, cust, qty="2", price="50")  # $100 at 7.10
    with _uow(s.db, s.company) as u:
        rid = sales.register_receipt(u, cust, "40", receipt_date=day(21)).id
    web = f.web_client(s.db, f.user(s.db, s.company, roles=("finance",)))
    page = web.get(f"/erp/invoices/{invoice_id}").text
    assert "USD" in page and "7.1" in page and "$100.00" in page and "¥426.00" in page  # $60 open = ¥426
    page = web.get(f"/erp/customer-receipts/{rid}").text
    assert "$40.00" in page and "7" in page and "¥284.00" in page and "¥4.00" in page  # 40 × (7.10 − 7.00)
    page = web.get("/erp/reports/ar-aging").text
    assert "$60.00" in page and "¥426.00" in page
    assert "$100.00" in web.get("/erp/invoices").text
