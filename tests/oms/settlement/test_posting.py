"""Posting a reconciled bill: the income settles the orders' invoices as a receipt of the shop's
platform customer, fees go to 销售费用-平台服务费, 1012 其他货币资金 moves by the bill's net, and the
books stay balanced. Posting twice is refused."""

from __future__ import annotations

import pytest

from opensupply.core.errors import Conflict
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import CustomerInvoice, CustomerReceipt
from opensupply.oms import settlement as svc
from tests import factories as f
from tests.erp.sales import factories as fs

from . import factories as sf

TID_A, TID_X = "3912845567120331542", "4000000000000000001"


def _invoiced_channel_order(s: fs.Shop, tid: str, price: str) -> int:
    """The ERP side of a shipped channel order: sales order (source_ref = tid), delivered, invoiced."""
    with s.uow() as uow:
        so = sales.create_sales_order(uow, customer_id=s.customer, channel="taobao", source_ref=tid,
                                      created_by_module="oms", confirm=True, price_includes_tax=True,
                                      lines=[sales.SalesLineIn(product_id=s.cup, quantity=1, unit_price=price,
                                                               tax_rate="13")])
        sales.deliver(uow, so.id)
        return sales.invoice_order(uow, so.id).id


def test_posting_settles_invoices_books_fees_and_keeps_the_ledger_balanced(db):
    erp = fs.shop(db)
    s = sf.shop(db, company=erp.company, customer=erp.customer, settings={"fee_rate": "0.05"})
    invoice_id = _invoiced_channel_order(erp, TID_A, "100.00")
    sf.order(s, TID_A, "100.00")
    bill = sf.alipay_bill([
        {"tid": TID_A, "type": "交易付款", "income": "100.00"},
        {"type": "技术服务费", "expense": "5.00", "remark": f"天猫佣金扣款，淘宝订单号：{TID_A}"},
        {"tid": TID_X, "type": "交易付款", "income": "88.00"},  # an order we do not know: customer credit
        {"type": "软件服务费", "expense": "30.00", "remark": "旺铺专业版月费"},
        {"type": "提现", "expense": "100.00", "remark": "提现到招商银行"},
        {"type": "保证金", "expense": "20.00", "remark": "消费者保障服务保证金"},
    ])
    with s.uow() as uow:
        sid = svc.import_settlement(uow, s.shop_id, bill, "账务明细.csv").id
    with s.uow() as uow:
        st = svc.post_settlement(uow, sid)
        assert st.state == "posted" and st.receipt_id and st.journal_entry_id
    with s.uow(readonly=True) as uow:
        invoice = uow.get(CustomerInvoice, invoice_id)
        receipt = uow.get(CustomerReceipt, st.receipt_id)
        assert invoice.state == "paid"
        assert (receipt.amount, receipt.amount_allocated, receipt.account) == (sf.D("188.00"), sf.D("100.00"),
                                                                             "platform_cash")
        assert sales.customer_credit(uow, erp.customer) == sf.D("88.00")
    # 1012 moves by the bill's net: 188 − 5 − 30 − 100 − 20
    assert sf.balance(s, "platform_cash") == sf.D("33.00")
    assert sf.balance(s, "660101") == sf.D("35.00")
    assert sf.balance(s, "bank") == sf.D("100.00")
    assert sf.balance(s, "1221") == sf.D("20.00")
    assert sf.balance(s, "receivable", erp.customer) == 0
    admin = f.api_client(db, f.user(db, erp.company))
    fs.books_balance(admin)

    with s.uow() as uow, pytest.raises(Conflict):
        svc.post_settlement(uow, sid)
    assert sf.balance(s, "platform_cash") == sf.D("33.00")


def test_refunds_above_income_reduce_the_customer_credit(db):
    erp = fs.shop(db)
    s = sf.shop(db, company=erp.company, customer=erp.customer)
    sf.order(s, TID_A, "100.00", status="cancelled", refund_status="refunded")
    bill = sf.generic_bill([[TID_A, "refund", "-100.00", "2026-05-03", "仅退款"],
                            [TID_A, "fee", "-0.60", "2026-05-03", "花呗服务费"]])
    with s.uow() as uow:
        sid = svc.import_settlement(uow, s.shop_id, bill, "b.csv").id
        assert [e["kind"] for e in svc.reconciliation(uow, sid)["exceptions"]] == ["amount_diff"]
    # the payment came in April's bill: together they net to zero, as a refunded order should
    with s.uow() as uow:
        svc.import_settlement(uow, s.shop_id, sf.generic_bill([[TID_A, "income", "100.00", "2026-04-28", "货款"]]),
                              "april.csv")
        assert svc.reconcile(uow, sid)["exceptions"] == []
    with s.uow() as uow:
        st = svc.post_settlement(uow, sid)
        assert st.receipt_id is None
    assert sf.balance(s, "platform_cash") == sf.D("-100.60")
    assert sf.balance(s, "customer_advance", erp.customer) == sf.D("100.00")
    fs.books_balance(f.api_client(db, f.user(db, erp.company)))


def test_invoices_are_settled_only_up_to_the_money_received(db):
    erp = fs.shop(db)
    s = sf.shop(db, company=erp.company, customer=erp.customer)
    invoice_id = _invoiced_channel_order(erp, TID_A, "100.00")
    sf.order(s, TID_A, "100.00")
    sf.order(s, TID_X, "70.00", status="delivered", refund_status="refunded")
    # A paid 100, X (paid in an earlier bill) refunded 70: 30 came in
    bill = sf.generic_bill([[TID_A, "income", "100.00", "2026-05-12", "货款"],
                            [TID_X, "refund", "-70.00", "2026-05-13", "退货退款"]])
    with s.uow() as uow:
        sid = svc.import_settlement(uow, s.shop_id, bill, "b.csv").id
    with s.uow() as uow:
        st = svc.post_settlement(uow, sid)
    with s.uow(readonly=True) as uow:
        invoice = uow.get(CustomerInvoice, invoice_id)
        assert (invoice.state, invoice.amount_paid) == ("posted", sf.D("30.00"))
        assert uow.get(CustomerReceipt, st.receipt_id).amount == sf.D("30.00")
    assert sf.balance(s, "platform_cash") == sf.D("30.00")
