"""A bookkeeper reconciles a month of 支付宝账务明细 in a real browser: upload the GBK export, see
the missing payment, the fee difference and the unknown order as three exceptions, narrow the
lines to fees, post the bill, and see it marked 已过账 in the list."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.oms.settlement import factories as sf

pytestmark = pytest.mark.browser

TID_A, TID_B, TID_C, TID_X = "3912845567120331542", "3912845567120331543", "3912845567120331544", "4000000000000000001"


def test_upload_alipay_statement_see_three_exceptions_and_post(live_server, sqlite_db, page, shots):
    s = sf.shop(sqlite_db, company=live_server.company_id, settings={"fee_rate": "0.05"})
    for tid, paid in ((TID_A, "100.00"), (TID_B, "200.00"), (TID_C, "50.00")):
        sf.order(s, tid, paid, paid_at=dt.datetime(2026, 5, 10, 4, 0, tzinfo=dt.UTC))
    bill = sf.alipay_bill([
        {"tid": TID_A, "type": "交易付款", "income": "100.00"},
        {"type": "技术服务费", "expense": "5.00", "remark": f"天猫佣金扣款，淘宝订单号：{TID_A}"},
        {"tid": TID_B, "type": "交易付款", "income": "200.00"},
        {"type": "技术服务费", "expense": "15.00", "remark": f"天猫佣金扣款，淘宝订单号：{TID_B}"},
        {"tid": TID_X, "type": "交易付款", "income": "88.00"},
    ])

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", live_server.admin)
    page.fill("input[name=password]", live_server.password)
    page.click("button[type=submit].primary")
    expect(page.locator(".topbar .user")).to_have_text(live_server.admin)

    page.goto(f"{live_server.url}/oms/settlements")
    expect(page.locator("h1")).to_have_text("平台对账")
    page.select_option("form[enctype] select[name=shop]", str(s.shop_id))
    page.set_input_files("input[name=file]", files=[{"name": "20880512402512820156_202605_账务明细.csv",
                                                    "mimeType": "text/csv", "buffer": bill}])
    shots("upload")
    page.click("form[enctype] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("对账单已导入")
    expect(page.locator("h2", has_text="对账异常")).to_contain_text("(3)")
    for kind, tid in (("shipped_not_paid", TID_C), ("fee_diff", TID_B), ("unknown_order", TID_X)):
        section = page.locator(f"section[data-kind={kind}]")
        expect(section).to_contain_text(tid)
    expect(page.locator("section[data-kind=fee_diff]")).to_contain_text("10.00")
    shots("exceptions")

    page.select_option("select[name=kind]", "fee")
    page.click("button:has-text('筛选')")
    expect(page.locator("table.list").last.locator("tbody tr")).to_have_count(2)
    shots("fees-only")

    page.click("button:has-text('过账')")
    expect(page.locator(".flash-success")).to_contain_text("已过账")
    expect(page.locator("dl.detail")).to_contain_text("已过账")
    page.goto(f"{live_server.url}/oms/settlements")
    expect(page.locator("table.list tbody tr").first).to_contain_text("已过账")
    shots("posted")
    assert not page.js_errors
