"""Reading real-shaped platform bills: encodings, # preambles and trailers, tab-guarded cells,
order numbers hidden in 商户订单号 / 备注, signs, XLSX, and every bad row named by its line."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from opensupply.core.errors import ValidationFailed
from opensupply.oms import settlement as svc
from opensupply.oms.settlement_formats import classify, parse_bill

from . import factories as sf

TID = "3912845567120331542"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_alipay_account_statement(encoding):
    data = sf.alipay_bill([
        {"tid": TID, "type": "交易付款", "income": "1,299.00", "at": "2026-05-12 10:01:02"},
        {"type": "技术服务费", "expense": "64.95", "remark": f"天猫佣金（类目）扣款，淘宝订单号：{TID}"},
        {"type": "花呗服务费", "expense": "-7.79", "remark": f"花呗交易服务费{{{TID}}}"},
        {"tid": TID, "type": "交易退款", "expense": "100.00"},
        {"type": "保证金", "expense": "1000.00", "remark": "消保保证金冻结"},
        {"type": "提现", "expense": "500.00"},
    ], encoding=encoding)
    bill = parse_bill(data, "20880512402512820156_202605.csv")
    assert bill.fmt == "alipay" and bill.errors == []
    assert (bill.period_from, bill.period_to) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    got = [(ln.line, ln.channel_order_id, ln.kind, ln.item, str(ln.amount)) for ln in bill.lines]
    assert got == [
        (6, TID, "income", "交易付款", "1299.00"),
        (7, TID, "fee", "技术服务费", "-64.95"),
        (8, TID, "fee", "花呗服务费", "-7.79"),
        (9, TID, "refund", "交易退款", "-100.00"),
        (10, None, "other", "保证金", "-1000.00"),
        (11, None, "other", "提现", "-500.00"),
    ]
    assert bill.lines[0].occurred_at == dt.datetime(2026, 5, 12, 10, 1, 2)


def test_alipay_as_xlsx_is_read_the_same():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in (["#支付宝账务明细查询"], ["#账号：[20880512402512820156]"],
                ["#起始日期：[2026年05月01日 00:00:00]   终止日期：[2026年06月01日 00:00:00]"],
                [*sf.ALIPAY_HEADER, "业务基础订单号"],
                ["1570757242119060731", "20260513200040011100730092344444", "", "气球", "2026-05-13 09:10:28", "买家",
                 146.92, 0, 1000, "淘宝", "交易付款", "订单收款", TID]):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    bill = parse_bill(buf.getvalue(), "对账-淘宝.xlsx")
    assert [(ln.line, ln.channel_order_id, ln.kind, str(ln.amount)) for ln in bill.lines] == [
        (5, TID, "income", "146.92")]


def test_jd_settlement_signs_and_unsettled_rows():
    data = sf.jd_bill([["2876543210", "货款", "199.00", "2026-05-15 00:00:00", "已结算"],
                       ["2876543210", "佣金", "15.92", "2026-05-15 00:00:00", "已结算"],
                       ["2876543210", "平台使用费", "-1.99", "2026-05-15", "已结算"],
                       ["2876543210", "售后退款", "-50.00", "2026/05/16 12:00", "已结算"],
                       ["2876543211", "货款", "99.00", "2026-05-16 00:00:00", "未结算"]], encoding="gb18030")
    bill = parse_bill(data, "京东结算单.csv")
    assert bill.fmt == "jd" and bill.skipped == 1
    assert [(ln.kind, str(ln.amount)) for ln in bill.lines] == [
        ("income", "199.00"), ("fee", "-15.92"), ("fee", "-1.99"), ("refund", "-50.00")]


def test_pdd_bill_and_generic_chinese_headers():
    bill = parse_bill(sf.pdd_bill([["260512-123456789012345", "2026-05-12 10:00:00", "59.90", "", "交易收入", ""],
                                   ["260512-123456789012345", "2026-05-12 10:00:00", "", "0.36", "技术服务费", ""],
                                   ["", "2026-05-13 10:00:00", "", "300.00", "提现", ""]]), "pdd.csv")
    assert bill.fmt == "pdd"
    assert [(ln.channel_order_id, ln.kind, str(ln.amount)) for ln in bill.lines] == [
        ("260512-123456789012345", "income", "59.90"), ("260512-123456789012345", "fee", "-0.36"),
        (None, "other", "-300.00")]
    text = "订单号,类型,金额,日期,说明\nA1,收入,10,2026-05-01,货款\nA1,费用,0.5,2026-05-01,佣金\n"
    bill = parse_bill(text.encode("gbk"), "x.csv")
    assert bill.fmt == "generic" and [str(ln.amount) for ln in bill.lines] == ["10", "-0.5"]


def test_bad_rows_are_named_by_line_and_the_file_is_refused(db):
    data = sf.generic_bill([["A1", "income", "10.00", "2026-05-01", "ok"],
                            ["", "income", "10.00", "2026-05-01", "no order"],
                            ["A2", "income", "ten", "2026-05-01", "bad amount"],
                            ["A3", "bonus", "1", "2026-05-01", "bad type"],
                            ["A4", "fee", "1", "2026-13-45", "bad date"],
                            ["A5", "fee", "", "2026-05-01", "no amount"]])
    bill = parse_bill(data, "g.csv")
    assert [e.line for e in bill.errors] == [3, 4, 5, 6, 7] and len(bill.lines) == 1
    assert "金额无法识别" in bill.errors[1].reason
    s = sf.shop(db)
    with s.uow() as uow, pytest.raises(svc.SettlementRejected) as exc:
        svc.import_settlement(uow, s.shop_id, data, "g.csv")
    assert [r["line"] for r in exc.value.errors] == [3, 4, 5, 6, 7] and "第 3 行" in exc.value.message
    with s.uow(readonly=True) as uow:
        assert svc.list_settlements(uow)[1] == 0


def test_unknown_formats_are_refused_with_a_clear_message():
    with pytest.raises(ValidationFailed, match="无法识别对账单格式"):
        parse_bill(b"a,b,c\n1,2,3\n", "x.csv")
    with pytest.raises(ValidationFailed, match="京东结算单"):
        parse_bill(sf.generic_bill([["A", "income", "1", "2026-05-01", ""]]), "x.csv", fmt="jd")


def test_classification_of_platform_entry_names():
    names = ("交易付款", "在线支付", "交易退款", "软件服务费", "技术服务费", "花呗服务费", "淘宝客佣金",
             "保证金", "提现", "货款", "平台使用费", "配送费", "优惠券结算", "转账",
             "交易分账", "提现手续费", "保证金扣款")
    assert [classify(x) for x in names] == [
        "income", "income", "refund", "fee", "fee", "fee", "fee", "other", "other", "income", "fee", "fee",
        "income", "other", "fee", "fee", "other"]


def test_a_truncated_alipay_export_no_longer_matches_its_footer():
    data = sf.alipay_bill([{"tid": TID, "type": "交易付款", "income": "100.00"},
                           {"tid": "3912845567120331543", "type": "交易付款", "income": "50.00"},
                           {"type": "技术服务费", "expense": "7.50", "remark": f"淘宝订单号：{TID}"}]).decode("gbk")
    lines = data.splitlines(keepends=True)
    cut = "".join(ln for ln in lines if "3912845567120331543" not in ln)  # a row lost on the way
    bill = parse_bill(cut.encode("gbk"), "cut.csv")
    assert [e.line for e in bill.errors] == [10]
    assert "收入合计 2 笔 150.00 元，明细为 1 笔 100.00 元" in bill.errors[0].reason
    assert parse_bill(data.encode("gbk"), "whole.csv").errors == []


def test_the_zip_alipay_hands_out_is_read_from_its_detail_csv():
    import zipfile

    detail = sf.alipay_bill([{"tid": TID, "type": "交易付款", "income": "100.00"}])
    summary = "#支付宝账务汇总查询\n业务类型,收入合计,支出合计\n交易付款,100.00,0\n".encode("gbk")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("20880512402512820156_20260501_20260531_账务汇总.csv", summary)
        z.writestr("20880512402512820156_20260501_20260531_账务明细.csv", detail)
    bill = parse_bill(buf.getvalue(), "20880512402512820156_20260501_20260531.csv.zip")
    assert bill.fmt == "alipay" and [(ln.channel_order_id, str(ln.amount)) for ln in bill.lines] == [
        (TID, "100.00")]
