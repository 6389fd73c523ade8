"""An order clerk works the order list in a real browser: ticks orders, approves and allocates them
in bulk with a result per order, opens an order, ships its fulfilment with a tracking number, and
looks at the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from opensupply.core import jobs
from tests.oms.orders import factories as fo

pytestmark = pytest.mark.browser


def login(page, server):
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", server.admin)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit].primary")
    expect(page.locator(".topbar .user")).to_have_text(server.admin)


def test_bulk_approve_allocate_and_ship(live_server, sqlite_db, page, shots, monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)
    w = fo.world(sqlite_db, company=live_server.company_id)
    a = fo.order(w, [("CUP", 2, "99.80")], name="王小明")
    b = fo.order(w, [("TOWEL", 1, "25.00")], province="广东省")
    fo.order(w, [("LAMP", 1, "80.00")])
    login(page, live_server)
    page.goto(f"{live_server.url}/oms/orders")
    expect(page.locator("h1")).to_have_text("全部订单")
    expect(page.locator("input[name=order_ids]")).to_have_count(3)
    page.check(f"input[name=order_ids][value='{a}']")
    page.check(f"input[name=order_ids][value='{b}']")
    page.select_option("select[name=action]", "approve")
    shots("list")
    page.click("#bulk button[type=submit]")
    expect(page.locator("h1")).to_contain_text("批量操作结果")
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    expect(page.locator("text=成功 2 个，失败 0 个")).to_be_visible()
    shots("approved")

    page.goto(f"{live_server.url}/oms/orders?status=approved")
    expect(page.locator("input[name=order_ids]")).to_have_count(2)
    page.check(f"input[name=order_ids][value='{a}']")
    page.select_option("select[name=action]", "allocate")
    page.click("#bulk button[type=submit]")
    expect(page.locator("table.list tbody tr").first).to_contain_text("FH")
    shots("allocated")

    page.goto(f"{live_server.url}/oms/orders/{a}")
    expect(page.locator("h1")).to_contain_text("已分配")
    expect(page.locator("ol.timeline li")).not_to_have_count(0)
    shots("order")
    page.locator("a[href^='/oms/fulfilments/']").first.click()
    page.wait_for_url(re.compile(r"/oms/fulfilments/\d+$"))
    page.fill("input[name=tracking_number]", "SF1234567890")
    page.click("form[action$='/ship'] button")
    expect(page.locator("h1")).to_contain_text("已发货")
    expect(page.locator("dl.detail")).to_contain_text("SF1234567890")
    shots("shipped")

    page.goto(f"{live_server.url}/oms/dashboard")
    expect(page.locator("#orders-chart canvas")).to_have_count(1)
    shots("dashboard")
    assert not page.js_errors
