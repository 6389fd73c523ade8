"""An administrator sets up a colleague in a real browser: a role with a few permissions, a user
with that role, then the colleague logs in and sees only what the role allows."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_first_receipt import login

pytestmark = pytest.mark.browser


def test_admin_creates_role_and_user_who_then_sees_only_their_menu(live_server, page, shots, browser):
    login(page, live_server)

    page.goto(f"{live_server.url}/admin/roles/new")
    page.fill("input[name=code]", "stock-viewer")
    page.fill("input[name=name]", "库存查看")
    page.check("input[name=permissions][value='inventory.read']")
    page.check("input[name=permissions][value='masterdata.read']")
    shots("role-form")
    page.click("form button[type=submit].primary")
    expect(page.locator(".flash-success")).to_contain_text("角色已创建")
    expect(page.locator("input[name=permissions][value='inventory.read']")).to_be_checked()
    expect(page.locator("input[name=permissions][value='inventory.write']")).not_to_be_checked()

    page.goto(f"{live_server.url}/admin/users/new")
    page.fill("input[name=username]", "xiaochen")
    page.fill("input[name=password]", "123")  # too short: the form says so and keeps the input
    page.fill("input[name=display_name]", "小陈")
    page.check("input[name=roles][value='stock-viewer']")
    page.click("form button[type=submit].primary")
    expect(page.locator(".flash-error")).to_contain_text("密码至少 8 位")
    expect(page.locator("input[name=display_name]")).to_have_value("小陈")
    shots("user-form-error")
    page.fill("input[name=password]", "Chen-2026-ok")
    page.click("form button[type=submit].primary")
    expect(page.locator(".flash-success")).to_contain_text("用户已创建")
    expect(page.locator("dl.detail")).to_contain_text("库存查看")
    expect(page.locator("table.audit")).to_contain_text("stock-viewer")  # the user's own audit trail
    shots("user-detail")

    colleague = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    try:
        other = colleague.new_page()
        other.goto(f"{live_server.url}/login")
        other.fill("input[name=username]", "xiaochen")
        other.fill("input[name=password]", "Chen-2026-ok")
        other.click("button[type=submit].primary")
        nav = other.locator("nav.sidebar")
        expect(nav).to_contain_text("库存查询")
        expect(nav).not_to_contain_text("用户")
        expect(nav).not_to_contain_text("审计日志")
        other.screenshot(path=str(shots.folder / "99-colleague-home.png"), full_page=True)
        other.goto(f"{live_server.url}/admin/users")
        expect(other.locator(".flash-error")).to_contain_text("没有权限")
    finally:
        colleague.close()

    page.goto(f"{live_server.url}/admin/audit?username=admin")
    expect(page.locator("table.audit tbody tr").first).to_be_visible()
    page.click("button[data-locale=en]")
    expect(page.locator("h1")).to_have_text("Audit log")
    expect(page.locator("select[name=username]")).to_have_value("admin")
    shots("audit-english")
    page.goto(f"{live_server.url}/admin/users")
    expect(page.locator("table.list")).to_contain_text(re.compile("xiaochen"))
    expect(page.locator("a.btn.primary")).to_have_text("New user")
    shots("users-english")
