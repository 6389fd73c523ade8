"""Buying from a US supplier in dollars: stock enters in yuan at the receipt-date rate, the bill
books 2202 at its own rate with the dollars beside it, and paying at a later rate realises the
exchange difference on 660301 — the books stay balanced and the AP aging equals 2202 in yuan."""

import pytest

from opensupply.core.errors import ValidationFailed
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.purchasing.models import SupplierPayment, VendorBill
from opensupply.inventory import service as inv
from tests import factories as f
from tests.erp.fx import factories as fx
from tests.erp.fx.factories import D, _uow, day


@pytest.fixture
def usd_buyer(db):
    """A company with a bin, a US supplier (USD, paid at sight) and rates: 7.10 from Nov 1, 7.20 from Nov 20."""
    c = f.company(db)
    f.bin_location(db, c, "A-01-01")
    sup = fx.partner(db, c, "S-ACME", "Acme Tools Inc.", supplier=True, terms=0)
    cup = f.product(db, c, "US-CUP-01", name="进口保温杯", cost=D("70"))
    fx.rates(db, c, "USD", {day(1): "7.10", day(20): "7.20"})
    return c, sup, cup


def buy(db, c, sup, cup, qty="10", price="100", *, receive_on=3, bill_on=5):
    """A USD purchase order of qty × price (tax 0), received and billed in full."""
    with _uow(db, c) as u:
        po = purchasing.create_order(u, sup, [purchasing.OrderLineIn(cup, qty, price, tax_rate="0")],
                                     order_date=day(2), location="A-01-01")
        purchasing.confirm_order(u, po.id)
        purchasing.receive_order(u, po.id, receipt_date=day(receive_on))
        bill = purchasing.create_vendor_bill(u, po.id, bill_date=day(bill_on), supplier_invoice_no="INV-1")
        return po.id, bill.id


def test_usd_purchase_at_710_paid_at_720_books_an_exchange_loss(db, usd_buyer):
    c, sup, cup = usd_buyer
    po_id, bill_id = buy(db, c, sup, cup)  # 10 × $100 = $1,000
    with _uow(db, c, readonly=True) as u:
        po = u.get(purchasing.PurchaseOrder, po_id)
        assert po.currency_code == "USD" and po.currency_rate == D("7.10")
        # stock in yuan at the receipt-date rate, and the valuation equals the GL inventory account
        valuation = inv.valuation(u)
        assert valuation["total_value"] == valuation["gl_inventory_balance"] == D("7100.00")
        bill = u.get(VendorBill, bill_id)
        assert (bill.currency_code, bill.currency_rate, bill.total) == ("USD", D("7.10"), D("1000.00"))
    payable = fx.account_lines(db, c, "2202", sup)
    assert [(ln.credit, ln.currency_code, ln.amount_currency) for ln in payable] == [(D("7100.00"), "USD", D("-1000"))]

    with _uow(db, c) as u:
        pay = purchasing.create_payment(u, sup, [purchasing.AllocationIn(bill_id)], payment_date=day(21))
        pay_id = pay.id
    with _uow(db, c, readonly=True) as u:
        pay = u.get(SupplierPayment, pay_id)
        assert (pay.currency_code, pay.currency_rate, pay.amount) == ("USD", D("7.20"), D("1000.00"))
        assert pay.fx_difference == D("100.00")  # (7.20 − 7.10) × $1,000, a loss
        assert u.get(VendorBill, bill_id).state == "paid"
    assert fx.balance(db, c, "1002") == D("-7200.00")  # the bank paid at today's rate
    assert fx.fx_result(db, c) == D("100.00")  # Dr 660301 汇兑损益
    assert fx.balance(db, c, "2202", sup) == 0 and fx.balance_currency(db, c, "2202", sup) == 0
    fx.vouchers_balance(db, c)


def test_partial_payments_in_dollars_leave_2202_equal_to_the_open_bill_in_yuan(db, usd_buyer):
    c, sup, cup = usd_buyer
    fx.rates(db, c, "USD", {day(10): "7.05", day(15): "7.13"})
    _po, bill_id = buy(db, c, sup, cup, qty="3", price="33.33")  # $99.99 at 7.10 = ¥709.93
    with _uow(db, c) as u:
        purchasing.create_payment(u, sup, [purchasing.AllocationIn(bill_id, "33.33")], payment_date=day(10))
    with _uow(db, c, readonly=True) as u:
        aging = purchasing.ap_aging(u)
        row = aging["items"][0]
        assert row["total"] == -fx.balance(db, c, "2202", sup) == D("709.93") - D("236.64")  # 33.33 × 7.10
        assert row["currencies"] == {"USD": D("66.66")}
        assert aging["bills"][0]["open_amount_currency"] == D("66.66")
    with _uow(db, c) as u:
        purchasing.create_payment(u, sup, [purchasing.AllocationIn(bill_id, "33.33")], payment_date=day(15))
        purchasing.create_payment(u, sup, [purchasing.AllocationIn(bill_id)], payment_date=day(21))
    # the last payment clears what was left in yuan: no cent stays on 2202
    assert fx.balance(db, c, "2202", sup) == 0 and fx.balance_currency(db, c, "2202", sup) == 0
    # realised, each payment's bank amount less the 2202 it cleared at the bill's 7.10 (the last one
    # clears the rest of ¥709.93): (234.98 − 236.64) + (237.64 − 236.64) + (239.98 − 236.65)
    assert fx.fx_result(db, c) == D("-1.66") + D("1.00") + D("3.33")
    assert fx.balance(db, c, "1002") == -(D("234.98") + D("237.64") + D("239.98"))
    with _uow(db, c, readonly=True) as u:
        statement = purchasing.supplier_statement(u, sup, date_from=day(1), date_to=day(25))
        assert statement["reconciled"] and statement["closing_balance"] == 0
        assert statement["lines"][0]["amount_currency"] == D("99.99")
    fx.vouchers_balance(db, c)


def test_one_payment_for_two_bills_booked_at_different_rates(db, usd_buyer):
    c, sup, cup = usd_buyer
    fx.rates(db, c, "USD", {day(8): "7.00"})
    _a, bill_a = buy(db, c, sup, cup, qty="1", price="100", bill_on=5)  # 2202 ¥710
    _b, bill_b = buy(db, c, sup, cup, qty="2", price="100", receive_on=8, bill_on=9)  # 2202 ¥1,400
    with _uow(db, c) as u:
        pay = purchasing.create_payment(u, sup, [purchasing.AllocationIn(bill_a), purchasing.AllocationIn(bill_b)],
                                        payment_date=day(21))
        assert pay.amount == D("300.00") and pay.fx_difference == D("2160.00") - D("2110.00")
    assert fx.fx_result(db, c) == D("50.00")
    assert fx.balance(db, c, "2202", sup) == 0
    # stock stays at what the goods were received at; the bill-rate difference went to 6401, not stock
    with _uow(db, c, readonly=True) as u:
        valuation = inv.valuation(u)
        assert valuation["total_value"] == valuation["gl_inventory_balance"] == D("710") + D("1400")
    fx.vouchers_balance(db, c)


def test_bill_at_another_rate_than_the_receipt_keeps_stock_equal_to_the_ledger(db, usd_buyer):
    c, sup, cup = usd_buyer
    fx.rates(db, c, "USD", {day(6): "7.15"})
    buy(db, c, sup, cup, qty="4", price="25", receive_on=3, bill_on=6)  # received ¥710, billed ¥715
    assert fx.balance(db, c, "220201") == 0  # 暂估 cleared at the received value, exactly
    assert fx.balance(db, c, "6401") == D("5.00")  # the rate moved between receipt and bill: price difference
    with _uow(db, c, readonly=True) as u:
        valuation = inv.valuation(u)
        assert valuation["total_value"] == valuation["gl_inventory_balance"] == D("710.00")
    fx.vouchers_balance(db, c)


def test_missing_rate_is_refused_and_nothing_is_written(db):
    c = f.company(db)
    f.bin_location(db, c, "A-01-01")
    sup = fx.partner(db, c, "S-EU", "Euro Parts GmbH", currency="EUR", supplier=True)
    cup = f.product(db, c, "EU-CUP-01", cost=D("50"))
    with pytest.raises(ValidationFailed) as err, _uow(db, c) as u:
        purchasing.create_order(u, sup, [purchasing.OrderLineIn(cup, "1", "10")], order_date=day(20))
    assert "缺少 EUR 在 2026-11-20" in str(err.value)
    with _uow(db, c, readonly=True) as u:
        assert purchasing.order_rows(u)[1] == 0


def test_a_payment_pays_bills_of_one_currency(db, usd_buyer):
    c, sup, cup = usd_buyer
    _po, bill_id = buy(db, c, sup, cup, qty="1", price="10")
    with _uow(db, c) as u:
        bill = u.get(VendorBill, bill_id)
        assert bill.currency_code == "USD"
    with pytest.raises(ValidationFailed), _uow(db, c) as u:
        purchasing.create_payment(u, sup, [purchasing.AllocationIn(bill_id, "11")], payment_date=day(21))


def test_purchasing_pages_show_the_currency_and_the_foreign_amounts(db, usd_buyer):
    c, sup, cup = usd_buyer
    po_id, bill_id = buy(db, c, sup, cup, qty="2", price="50")  # $100 at 7.10 = ¥710
    web = f.web_client(db, f.user(db, c, roles=("finance",)))
    assert "7.1" in web.get(f"/erp/purchase-orders/{po_id}").text
    page = web.get(f"/erp/vendor-bills/{bill_id}").text
    assert "USD" in page and "710.00" in page
    page = web.get("/erp/reports/ap-aging").text
    assert "100.00 USD" in page and "710.00" in page
    page = web.get(f"/erp/suppliers/{sup}/statement?date_from=2026-11-01&date_to=2026-11-25").text
    assert "100.00 USD" in page and "与对账单一致" in page
