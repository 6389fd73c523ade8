"""Reconciling a platform bill against the shop's orders: each line matched, and exactly the
differences a bookkeeper has to look at listed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from opensupply.core.audit import AuditLog
from opensupply.core.errors import NotFound
from opensupply.oms import settlement as svc
from opensupply.oms.models import OmsReturn

from . import factories as sf

TID_A, TID_B, TID_C, TID_X = "3912845567120331542", "3912845567120331543", "3912845567120331544", "4000000000000000001"


def _kinds(result: dict) -> list[tuple[str, str]]:
    return sorted((e["kind"], e["channel_order_id"]) for e in result["exceptions"])


def test_missing_payment_fee_difference_and_unknown_order_are_exactly_three_exceptions(db):
    s = sf.shop(db, settings={"fee_rate": "0.05"})
    sf.order(s, TID_A, "100.00")  # paid, fee right
    sf.order(s, TID_B, "200.00")  # paid, fee 15.00 where 5 % is 10.00
    sf.order(s, TID_C, "50.00")  # shipped in May, the bill has no payment for it
    sf.order(s, "3912845567120339999", "80.00", paid_at=dt.datetime(2026, 4, 20, tzinfo=dt.UTC))  # April: not ours
    sf.order(s, "3912845567120338888", "60.00", status="allocated")  # not shipped, not paid: nothing to say
    bill = sf.alipay_bill([
        {"tid": TID_A, "type": "交易付款", "income": "100.00"},
        {"type": "技术服务费", "expense": "5.00", "remark": f"天猫佣金扣款，淘宝订单号：{TID_A}"},
        {"tid": TID_B, "type": "交易付款", "income": "200.00"},
        {"type": "技术服务费", "expense": "15.00", "remark": f"天猫佣金扣款，淘宝订单号：{TID_B}"},
        {"tid": TID_X, "type": "交易付款", "income": "88.00"},
        {"type": "技术服务费", "expense": "4.40", "remark": f"天猫佣金扣款，淘宝订单号：{TID_X}"},
        {"type": "软件服务费", "expense": "30.00", "remark": "旺铺专业版月费"},  # shop-level fee, no order
        {"type": "提现", "expense": "200.00", "remark": "提现到招商银行"},
    ])
    with s.uow() as uow:
        st = svc.import_settlement(uow, s.shop_id, bill, "20880512402512820156_202605_账务明细.csv")
        sid = st.id
    with s.uow() as uow:
        result = svc.reconcile(uow, sid)
    assert _kinds(result) == [("fee_diff", TID_B), ("shipped_not_paid", TID_C), ("unknown_order", TID_X)]
    fee = next(e for e in result["exceptions"] if e["kind"] == "fee_diff")
    assert (fee["amount"], fee["expected"], fee["difference"]) == ("15.00", "10.00", "5.00")
    missing = next(e for e in result["exceptions"] if e["kind"] == "shipped_not_paid")
    assert missing["expected"] == "50.00"
    unknown = next(e for e in result["exceptions"] if e["kind"] == "unknown_order")
    assert unknown["amount"] == "83.60" and len(unknown["lines"]) == 2
    assert result["counts"] == {"unknown_order": 1, "amount_diff": 0, "fee_diff": 1, "paid_not_shipped": 0,
                                "shipped_not_paid": 1}
    with s.uow(readonly=True) as uow:
        st = uow.get(svc.OmsSettlement, sid)
        by_line = {(ln.channel_order_id, ln.kind): ln.match for ln in st.lines}
        assert st.period_from == dt.date(2026, 5, 1) and st.period_to == dt.date(2026, 5, 31)
        assert (st.total_income, st.total_fees) == (sf.D("388.00"), sf.D("-54.40"))
    assert by_line[(TID_A, "income")] == "matched" and by_line[(TID_A, "fee")] == "fee"
    assert by_line[(TID_B, "fee")] == "fee_diff" and by_line[(TID_X, "income")] == "unknown_order"
    assert by_line[(None, "fee")] == "fee" and by_line[(None, "other")] == "other"


def test_the_same_file_twice_is_one_settlement(db):
    s = sf.shop(db)
    sf.order(s, TID_A, "100.00")
    bill = sf.alipay_bill([{"tid": TID_A, "type": "交易付款", "income": "100.00"}])
    with s.uow() as uow:
        first = svc.import_settlement(uow, s.shop_id, bill, "a.csv").id
    with s.uow() as uow:
        again = svc.import_settlement(uow, s.shop_id, bill, "a-copy.csv").id
        rows, total = svc.list_settlements(uow)
    assert first == again and total == 1 and len(rows[0].lines) == 1
    with s.uow(readonly=True) as uow:
        logged = uow.session.scalars(select(AuditLog).where(AuditLog.entity == "oms_settlement",
                                                            AuditLog.entity_id == str(first))).all()
    assert {a.action for a in logged} == {"create", "lines"}
    assert next(a for a in logged if a.action == "lines").after["lines"] == [[6, TID_A, "income", "交易付款", "100.00"]]


def test_amount_difference_and_paid_not_shipped(db):
    s = sf.shop(db)
    sf.order(s, TID_A, "100.00")
    sf.order(s, TID_B, "120.00", status="allocated")
    bill = sf.generic_bill([[TID_A, "income", "90.00", "2026-05-12", "货款"],
                            [TID_B, "income", "120.00", "2026-05-12", "货款"]])
    with s.uow() as uow:
        result = svc.reconcile(uow, svc.import_settlement(uow, s.shop_id, bill, "bill.csv").id)
    assert _kinds(result) == [("amount_diff", TID_A), ("paid_not_shipped", TID_B)]
    diff = result["exceptions"][0]
    assert (diff["amount"], diff["expected"]) == ("90.00", "100.00")


def test_refunds_known_to_the_oms_are_expected_and_a_refunded_order_nets_to_zero(db):
    s = sf.shop(db)
    a = sf.order(s, TID_A, "100.00")
    sf.order(s, TID_B, "80.00", status="cancelled", refund_status="refunded")
    with s.uow() as uow:
        uow.add(OmsReturn(number="RT-1", order_id=a, status="done", refund_amount=sf.D("30.00")))
    bill = sf.pdd_bill([
        [TID_A, "2026-05-12 10:00:00", "100.00", "", "交易收入", ""],
        [TID_A, "2026-05-20 10:00:00", "", "30.00", "退款", "售后退款"],
        [TID_B, "2026-05-12 10:00:00", "80.00", "", "交易收入", ""],
        [TID_B, "2026-05-13 10:00:00", "", "80.00", "退款", "未发货仅退款"],
        [TID_A, "2026-05-12 10:00:00", "", "0.60", "技术服务费", ""],
    ])
    with s.uow() as uow:
        result = svc.reconcile(uow, svc.import_settlement(uow, s.shop_id, bill, "货款账单.csv").id)
    assert result["exceptions"] == []
    assert result["total_refunds"] == "-110.00" and result["net"] == "69.40"


def test_per_item_fee_expectations(db):
    s = sf.shop(db, settings={"fee_rates": {"佣金": "0.06", "平台使用费": "0.01"}})
    sf.order(s, TID_A, "100.00")
    bill = sf.jd_bill([
        [TID_A, "货款", "100.00", "2026-05-15 00:00:00", "已结算"],
        [TID_A, "佣金", "-6.00", "2026-05-15 00:00:00", "已结算"],
        [TID_A, "平台使用费", "-2.00", "2026-05-15 00:00:00", "已结算"],
        [TID_A, "配送费", "-12.00", "2026-05-15 00:00:00", "已结算"],  # not listed: not checked
        [TID_B, "货款", "50.00", "2026-05-16 00:00:00", "未结算"],  # not settled yet: not money
    ])
    with s.uow() as uow:
        result = svc.reconcile(uow, svc.import_settlement(uow, s.shop_id, bill, "jd.csv").id)
    assert _kinds(result) == [("fee_diff", TID_A)]
    assert result["exceptions"][0]["item"] == "平台使用费"
    assert result["exceptions"][0]["expected"] == "1.00"
    assert result["lines"] == 4


def test_an_order_imported_later_is_matched_on_the_next_reconciliation(db):
    s = sf.shop(db)
    bill = sf.generic_bill([[TID_X, "income", "88.00", "2026-05-12", "货款"]])
    with s.uow() as uow:
        sid = svc.import_settlement(uow, s.shop_id, bill, "bill.csv").id
        assert _kinds(svc.reconciliation(uow, sid)) == [("unknown_order", TID_X)]
    sf.order(s, TID_X, "88.00")
    with s.uow() as uow:
        assert svc.reconcile(uow, sid)["exceptions"] == []


def test_an_order_of_another_shop_is_unknown_here_and_the_message_says_where_it_is(db):
    s = sf.shop(db)
    other = sf.shop(db, company=s.company)
    sf.order(other, TID_X, "88.00")
    with s.uow() as uow:
        sid = svc.import_settlement(uow, s.shop_id, sf.generic_bill([[TID_X, "income", "88.00", "2026-05-12", ""]]),
                                    "bill.csv").id
        [exc] = svc.reconciliation(uow, sid)["exceptions"]
    assert exc["kind"] == "unknown_order" and "属于店铺 佳源淘宝旗舰店" in exc["message"]


def test_another_companys_settlement_is_not_found(db):
    s = sf.shop(db)
    other = sf.shop(db)
    with s.uow() as uow:
        sid = svc.import_settlement(uow, s.shop_id, sf.generic_bill([[TID_X, "income", "1", "2026-05-01", ""]]),
                                    "b.csv").id
    with other.uow() as uow, pytest.raises(NotFound):
        svc.reconcile(uow, sid)


def test_settle_days_leave_orders_shipped_at_the_end_of_the_period_out(db):
    s = sf.shop(db, settings={"settle_days": 10})
    sf.order(s, TID_A, "100.00", paid_at=dt.datetime(2026, 5, 10, 4, 0, tzinfo=dt.UTC))  # due by now
    sf.order(s, TID_B, "100.00", paid_at=dt.datetime(2026, 5, 25, 4, 0, tzinfo=dt.UTC))  # buyer may still confirm
    bill = sf.alipay_bill([{"tid": TID_X, "type": "交易付款", "income": "1.00"}])
    with s.uow() as uow:
        result = svc.reconcile(uow, svc.import_settlement(uow, s.shop_id, bill, "b.csv").id)
    assert _kinds(result) == [("shipped_not_paid", TID_A), ("unknown_order", TID_X)]


def test_shipped_not_paid_goes_by_the_shipping_date_of_the_fulfilment(db):
    from sqlalchemy import select as sel

    from opensupply.masterdata.models import Warehouse
    from opensupply.oms.models import OmsFulfilment, OmsFulfilmentLine
    from tests.erp.sales import factories as fs

    erp = fs.shop(db)
    s = sf.shop(db, company=erp.company, customer=erp.customer)
    april = dt.datetime(2026, 4, 28, 4, 0, tzinfo=dt.UTC)
    a = sf.order(s, TID_A, "100.00", paid_at=april)  # paid in April, shipped on 3 May
    sf.order(s, TID_B, "100.00", paid_at=april)  # paid and (no fulfilment) counted in April
    with s.uow() as uow:
        wh = uow.session.scalars(sel(Warehouse).where(Warehouse.company_id == s.company)).first()
        ful = OmsFulfilment(number="FU-1", warehouse_id=wh.id, shop_id=s.shop_id, status="shipped",
                            shipped_at=dt.datetime(2026, 5, 3, 2, 0, tzinfo=dt.UTC))
        ful.lines.append(OmsFulfilmentLine(order_id=a, product_id=erp.cup, quantity=1, qty_shipped=1))
        uow.add(ful)
    bill = sf.alipay_bill([{"tid": TID_X, "type": "交易付款", "income": "1.00"}])
    with s.uow() as uow:
        result = svc.reconcile(uow, svc.import_settlement(uow, s.shop_id, bill, "b.csv").id)
    assert _kinds(result) == [("shipped_not_paid", TID_A), ("unknown_order", TID_X)]
