"""What a new user does on day one, in a real browser: log in on the Chinese login page, create a
product, receive it into bin A-01-01, see it on hand, then switch the interface to English."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def login(page, server):
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", server.admin)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit].primary")
    expect(page.locator(".topbar .user")).to_have_text(server.admin)


def test_log_in_create_product_receive_and_see_it_on_hand_in_both_languages(live_server, page, shots):
    # 1. the login page is in Chinese
    page.goto(f"{live_server.url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("button[type=submit].primary")).to_have_text("登录")
    expect(page.locator("label", has_text="用户名")).to_be_visible()
    shots("login")
    page.fill("input[name=username]", live_server.admin)
    page.fill("input[name=password]", live_server.password)
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_contain_text("欢迎")
    expect(page.locator("nav.sidebar")).to_contain_text("库存查询")
    shots("home")

    # 2. a new product
    page.goto(f"{live_server.url}/products/new")
    page.fill("input[name=sku]", "YS-MUG-420")
    page.fill("input[name=name]", "陶瓷马克杯 420ml")
    page.select_option("select[name=uom_id]", label="pcs 件")
    page.fill("input[name=cost]", "12.5")
    page.fill("input[name=list_price]", "1288")
    shots("product-form")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash-success")).to_contain_text("已保存")
    expect(page.locator("h1")).to_contain_text("YS-MUG-420")
    shots("product-saved")

    # 3. receive 1,200 of it into bin A-01-01
    page.goto(f"{live_server.url}/inventory/receipts/new")
    page.fill("input[name=product]", "YS-MUG-420")
    page.fill("input[name=location]", "A-01-01")
    page.fill("input[name=quantity]", "1200")
    page.fill("input[name=unit_cost]", "12.5")
    shots("receipt-form")
    page.click("#receipt-form button[type=submit]")
    page.wait_for_url(re.compile(r"/inventory/on-hand"))

    # 4. the on-hand row: SKU, bin, quantity (formatted for the reader)
    row = page.locator("#on-hand tbody tr", has_text="YS-MUG-420")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("A-01-01")
    expect(row.locator("td.num").first).to_have_text(re.compile(r"^\s*1,200(\.0+)?\s*$"))
    expect(page.locator(".flash-success")).to_be_visible()
    shots("on-hand")

    # 5. switch to English with the language switch; the same page now reads in English
    page.click("button[data-locale=en]")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert "/inventory/on-hand" in page.url  # stays on the page the user was looking at
    expect(page.locator(".topbar")).to_contain_text("Log out")
    expect(page.locator("nav.sidebar .nav-home")).to_have_text("Home")
    expect(page.locator(".toolbar")).to_contain_text("Export Excel")
    expect(page.locator("#on-hand tbody tr", has_text="YS-MUG-420")).to_contain_text("A-01-01")
    expect(page.locator("button[data-locale=en]")).to_have_class(re.compile(r"\bactive\b"))
    shots("on-hand-english")

    # the choice sticks: the audit log of the product is English too, with English dates
    page.goto(f"{live_server.url}/admin/audit?entity=product")
    expect(page.locator("h1")).to_have_text("Audit log")
    expect(page.locator("table.audit tbody")).to_contain_text("YS-MUG-420")
    expect(page.locator("table.audit tbody tr").first.locator("td").first).to_have_text(re.compile(r"(AM|PM)"))
    shots("audit-english")
    assert not page.js_errors


def test_phone_layout_sidebar_collapses_into_a_drawer(live_server, phone, phone_shots):
    login(phone, live_server)
    sidebar = phone.locator("nav.sidebar")
    expect(sidebar).to_be_hidden()
    toggle = phone.locator(".nav-toggle")
    expect(toggle).to_be_visible()
    phone_shots("phone-home")
    toggle.click()
    expect(sidebar).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    phone_shots("phone-menu-open")
    phone.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    # the content fits the screen: no sideways scrolling of the whole page
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
    phone.goto(f"{live_server.url}/admin/users")
    expect(phone.locator("table.list")).to_contain_text("admin")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
    phone_shots("phone-users")
