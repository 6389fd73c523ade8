"""Reversing a customer receipt or a supplier payment entered in error: a reversing voucher (the
original stays), the documents it settled are open again, the customer's credit goes back down,
and nothing moves when the period is closed or the money was used since."""

import re

import pytest
from sqlalchemy import select

from opensupply.accounting import service as gl
from opensupply.accounting.models import JournalEntry
from opensupply.core.audit import AuditLog
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.purchasing.models import SupplierPayment, VendorBill
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import CustomerInvoice, CustomerReceipt
from tests import factories as f
from tests.erp.fx import factories as fx
from tests.erp.fx.factories import D, _uow, day
from tests.erp.purchasing import factories as pf
from tests.erp.sales import factories as fs


def _invoice(s, customer, qty, price, on=3):
    with _uow(s.db, s.company) as u:
        order = sales.create_sales_order(u, customer_id=customer, order_date=day(2), confirm=True, lines=[
            sales.SalesLineIn(product_id=s.cup, quantity=qty, unit_price=price, tax_rate="0")])
        sales.deliver(u, order.id, date=day(on))
        return sales.invoice_order(u, order.id, invoice_date=day(on)).id


def _entries(db, company, ref_type, ref_id):
    with _uow(db, company, readonly=True) as u:
        return [(e.reversal_of_id is not None, e.reversed, e.date) for e in gl.entries_for(u, ref_type, ref_id)]


def _ar_matches(s, customer):
    with _uow(s.db, s.company, readonly=True) as u:
        row = {r["customer_id"]: r for r in sales.ar_aging(u)["items"]}.get(customer, {"total": 0, "credit": 0})
        assert gl.partner_balances(u, "receivable").get(customer, D(0)) == row["total"]
        assert sales.customer_credit(u, customer) == row["credit"]


def test_reversing_a_receipt_reopens_the_invoices_it_settled(db):
    s = fs.shop(db)
    a, b = _invoice(s, s.customer, 2, "50"), _invoice(s, s.customer, 1, "80")  # ¥100 and ¥80
    with _uow(db, s.company) as u:
        rid = sales.register_receipt(u, s.customer, "150", receipt_date=day(10)).id  # a paid, b ¥50 of 80
    with _uow(db, s.company) as u:
        receipt = sales.reverse_receipt(u, rid, "客户转账退票")
        assert receipt.state == "cancelled" and receipt.reversal_reason == "客户转账退票"
    with _uow(db, s.company, readonly=True) as u:
        inv_a, inv_b = u.get(CustomerInvoice, a), u.get(CustomerInvoice, b)
        assert (inv_a.state, inv_a.amount_paid, inv_b.state, inv_b.amount_paid) == ("posted", 0, "posted", 0)
        assert sales.open_receivable(u, s.customer) == D("180.00")
        assert [x["reversed"] for x in sales.allocations_of(u, receipt_id=rid)] == [True, True]
        audit = u.session.scalars(select(AuditLog).where(AuditLog.entity == "customer_receipt",
                                                         AuditLog.entity_id == str(rid),
                                                         AuditLog.action == "reverse")).all()
        assert [r.after["reason"] for r in audit] == ["客户转账退票"]
    # the original voucher is untouched and marked reversed; its mirror is dated as the receipt
    assert _entries(db, s.company, sales.RECEIPT_REF, rid) == [(False, True, day(10)), (True, False, day(10))]
    assert fs.balance(s, "bank") == 0
    _ar_matches(s, s.customer)
    fx.vouchers_balance(db, s.company)
    with pytest.raises(Conflict), _uow(db, s.company) as u:  # twice is refused
        sales.reverse_receipt(u, rid, "again")


def test_reversing_an_overpayment_takes_back_the_credit_unless_it_was_used(db):
    s = fs.shop(db)
    _invoice(s, s.customer, 1, "100")
    with _uow(db, s.company) as u:
        first = sales.register_receipt(u, s.customer, "130", receipt_date=day(10)).id  # ¥30 credit
        second = sales.register_receipt(u, s.customer, "20", receipt_date=day(11)).id  # all credit: ¥50
    with _uow(db, s.company, readonly=True) as u:
        assert sales.customer_credit(u, s.customer) == D("50.00")
    with _uow(db, s.company) as u:
        sales.reverse_receipt(u, second, "重复登记")
        assert sales.customer_credit(u, s.customer) == D("30.00")
    # the remaining credit goes to the next invoice: then the first receipt's surplus is spent
    _invoice(s, s.customer, 1, "100", on=12)
    with pytest.raises(Conflict) as err, _uow(db, s.company) as u:
        sales.reverse_receipt(u, first, "录错客户")
    assert "已用于冲抵" in str(err.value)
    with _uow(db, s.company, readonly=True) as u:
        assert u.get(CustomerReceipt, first).state == "posted"
    _ar_matches(s, s.customer)
    fx.vouchers_balance(db, s.company)


def test_no_reversal_in_a_closed_period_or_without_a_reason(db):
    s = fs.shop(db)
    _invoice(s, s.customer, 1, "100")
    with _uow(db, s.company) as u:
        rid = sales.register_receipt(u, s.customer, "100", receipt_date=day(10)).id
    with pytest.raises(ValidationFailed), _uow(db, s.company) as u:
        sales.reverse_receipt(u, rid, "  ")
    with _uow(db, s.company) as u:
        gl.close_period(u, 2026, 11)
    with pytest.raises(Conflict) as err, _uow(db, s.company) as u:
        sales.reverse_receipt(u, rid, "退票")
    assert "已结账" in str(err.value)
    with _uow(db, s.company, readonly=True) as u:
        assert u.get(CustomerReceipt, rid).state == "posted"
        assert len(gl.entries_for(u, sales.RECEIPT_REF, rid)) == 1


def test_reversing_a_usd_receipt_takes_back_the_exchange_difference(db):
    s = fs.shop(db)
    cust = fs.customer(db, s.company, "C-BOSTON", "Boston Home Goods LLC", currency_code="USD", tax_id="")
    fx.rates(db, s.company, "USD", {day(1): "7.10", day(20): "7.00"})
    invoice = _invoice(s, cust, 1, "100")
    with _uow(db, s.company) as u:
        rid = sales.register_receipt(u, cust, "120", receipt_date=day(21)).id  # $20 credit, ¥10 loss
    assert fx.fx_result(db, s.company) == D("10.00")
    with _uow(db, s.company) as u:
        sales.reverse_receipt(u, rid, "汇款被退回")
    assert fx.fx_result(db, s.company) == 0
    assert fx.balance(db, s.company, "2203", cust) == 0
    assert fx.balance(db, s.company, "1122", cust) == D("710.00")
    assert fx.balance_currency(db, s.company, "1122", cust) == D("100.00")
    with _uow(db, s.company, readonly=True) as u:
        assert sales.open_amount_company(u.get(CustomerInvoice, invoice)) == D("710.00")
    _ar_matches(s, cust)
    fx.vouchers_balance(db, s.company)


def test_reversing_a_credited_invoices_receipt_is_refused(db):
    s = fs.shop(db)
    invoice = _invoice(s, s.customer, 1, "100")
    with _uow(db, s.company) as u:
        rid = sales.register_receipt(u, s.customer, "100", receipt_date=day(10)).id
        sales.cancel_invoice(u, invoice, "退货", credit_date=day(11))
    with pytest.raises(Conflict) as err, _uow(db, s.company) as u:
        sales.reverse_receipt(u, rid, "退票")
    assert "已红冲" in str(err.value)


# ------------------------------------------------------------------ supplier payments
def test_reversing_a_supplier_payment_reopens_its_bills(db):
    p = pf.setup(db)
    with p.uow() as u:
        po = purchasing.create_order(u, p.supplier, [purchasing.OrderLineIn(p.products["cup"], "10", "30")],
                                     order_date=day(2), location="A-01-01")
        purchasing.confirm_order(u, po.id)
        purchasing.receive_order(u, po.id, receipt_date=day(3))
        bill = purchasing.create_vendor_bill(u, po.id, bill_date=day(4))  # ¥339 with VAT
        pay = purchasing.create_payment(u, p.supplier, [purchasing.AllocationIn(bill.id)], payment_date=day(5))
        bill_id, pay_id = bill.id, pay.id
    with pytest.raises(ValidationFailed), p.uow() as u:
        purchasing.reverse_payment(u, pay_id, "")
    with p.uow() as u:
        purchasing.reverse_payment(u, pay_id, "付错供应商")
    with p.uow(readonly=True) as u:
        b, pay = u.get(VendorBill, bill_id), u.get(SupplierPayment, pay_id)
        assert (b.state, b.paid_amount, purchasing.open_amount(b)) == ("posted", 0, D("339.00"))
        assert (pay.state, pay.reversal_reason) == ("cancelled", "付错供应商")
        assert purchasing.gl_payable_balance(u, p.supplier) == D("339.00")
        assert purchasing.ap_aging(u)["items"][0]["total"] == D("339.00")
        assert purchasing.supplier_statement(u, p.supplier, day(1), day(25))["reconciled"]
        entries = gl.entries_for(u, "erp.supplier_payment", pay_id)
        assert [(e.reversal_of_id is not None, e.date) for e in entries] == [(False, day(5)), (True, day(5))]
    # paid again, the bill closes as before
    with p.uow() as u:
        purchasing.create_payment(u, p.supplier, [purchasing.AllocationIn(bill_id)], payment_date=day(6))
        assert u.get(VendorBill, bill_id).state == "paid"
    fx.vouchers_balance(db, p.company)


def test_supplier_payment_reversal_refused_in_a_closed_period(db):
    p = pf.setup(db)
    with p.uow() as u:
        po = purchasing.create_order(u, p.supplier, [purchasing.OrderLineIn(p.products["cup"], "1", "30")],
                                     order_date=day(2), location="A-01-01")
        purchasing.confirm_order(u, po.id)
        purchasing.receive_order(u, po.id, receipt_date=day(3))
        bill = purchasing.create_vendor_bill(u, po.id, bill_date=day(4))
        pay_id = purchasing.create_payment(u, p.supplier, [purchasing.AllocationIn(bill.id)], payment_date=day(5)).id
        gl.close_period(u, 2026, 11)
    with pytest.raises(Conflict), p.uow() as u:
        purchasing.reverse_payment(u, pay_id, "付错")
    with p.uow(readonly=True) as u:
        assert u.get(SupplierPayment, pay_id).state == "posted"
        assert u.session.scalar(select(JournalEntry.reversed).where(JournalEntry.ref_id == pay_id,
                                                                    JournalEntry.ref_type == "erp.supplier_payment"))\
            is False


def test_reverse_through_the_api_and_the_pages(db):
    s = fs.shop(db)
    _invoice(s, s.customer, 1, "100")
    finance = f.user(db, s.company, roles=("finance",))
    api = f.api_client(db, finance)
    r = api.post("/api/v1/erp/customer-receipts", json={"customer_id": s.customer, "amount": "100",
                                                        "receipt_date": "2026-11-10"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = api.post(f"/api/v1/erp/customer-receipts/{rid}/reverse", json={"reason": ""})
    assert r.status_code == 422
    r = api.post(f"/api/v1/erp/customer-receipts/{rid}/reverse", json={"reason": "银行退票"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "cancelled" and body["reversal_reason"] == "银行退票"
    assert [a["reversed"] for a in body["allocations"]] == [True]
    assert api.post(f"/api/v1/erp/customer-receipts/{rid}/reverse", json={"reason": "x"}).status_code == 409

    # a second receipt reversed from its page, with the reason typed in the form
    r = api.post("/api/v1/erp/customer-receipts", json={"customer_id": s.customer, "amount": "100",
                                                        "receipt_date": "2026-11-11"})
    rid2 = r.json()["id"]
    web = f.web_client(db, finance)
    page = web.get(f"/erp/customer-receipts/{rid2}").text
    assert f'action="/erp/customer-receipts/{rid2}/reverse"' in page and "冲销原因" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = web.post(f"/erp/customer-receipts/{rid2}/reverse", data={"csrf_token": token, "reason": "录错金额"})
    assert r.status_code in (302, 303)
    page = web.get(f"/erp/customer-receipts/{rid2}").text
    assert "已冲销" in page and "录错金额" in page and "/reverse" not in page


def test_usd_supplier_payment_reversed_from_its_page(db):
    p = pf.setup(db)
    sup = fx.partner(db, p.company, "S-ACME", "Acme Tools Inc.", supplier=True, terms=0)
    fx.rates(db, p.company, "USD", {day(1): "7.10", day(20): "7.20"})
    with p.uow() as u:
        po = purchasing.create_order(u, sup, [purchasing.OrderLineIn(p.products["cup"], "10", "10", tax_rate="0")],
                                     order_date=day(2), location="A-01-01")
        purchasing.confirm_order(u, po.id)
        purchasing.receive_order(u, po.id, receipt_date=day(3))
        bill_id = purchasing.create_vendor_bill(u, po.id, bill_date=day(4)).id
        pay_id = purchasing.create_payment(u, sup, [purchasing.AllocationIn(bill_id, "60")], payment_date=day(21)).id
    assert fx.fx_result(db, p.company) == D("6.00")  # $60 × (7.20 − 7.10)
    web = f.web_client(db, p.usernames["finance"])
    page = web.get(f"/erp/payments/{pay_id}").text
    assert "7.2" in page and "冲销付款" in page and "汇兑损益" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = web.post(f"/erp/payments/{pay_id}/reverse", data={"csrf_token": token, "reason": "汇款失败"})
    assert r.status_code in (302, 303)
    assert fx.fx_result(db, p.company) == 0
    assert fx.balance(db, p.company, "2202", sup) == D("-710.00")
    assert fx.balance_currency(db, p.company, "2202", sup) == D("-100.00")
    with p.uow(readonly=True) as u:
        bill = u.get(VendorBill, bill_id)
        assert (bill.paid_amount, bill.paid_company) == (0, 0)
        assert purchasing.ap_aging(u)["items"][0]["currencies"] == {"USD": D("100.00")}
    api = p.client("finance")
    assert api.get(f"/api/v1/erp/payments/{pay_id}").json()["reversal_reason"] == "汇款失败"
    assert api.post(f"/api/v1/erp/payments/{pay_id}/reverse", json={"reason": "again"}).status_code == 409
