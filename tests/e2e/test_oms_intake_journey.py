"""A seller imports a 淘宝 export in a real browser: chooses the channel, uploads the file, sees the
preview with the first orders and the broken rows named by line, confirms, and sees the counts;
importing the same file again creates nothing."""

import re

import pytest
from playwright.sync_api import expect

from opensupply.oms.samples import write_sample

pytestmark = pytest.mark.browser


def login(page, server):
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", server.admin)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit].primary")
    expect(page.locator(".topbar .user")).to_have_text(server.admin)


def _upload(page, server, path):
    page.goto(f"{server.url}/oms/imports/new")
    expect(page.locator("h1")).to_have_text("导入订单")
    page.select_option("select[name=channel]", "taobao")
    page.fill("input[name=shop_name]", "云杉家居旗舰店")
    page.set_input_files("input[name=file]", str(path))
    page.click("form[action='/oms/imports/preview'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("导入预览")


def test_upload_a_taobao_export_preview_confirm_and_see_counts(live_server, page, shots, tmp_path):
    export = write_sample("taobao", tmp_path / "淘宝订单导出.csv", orders=30, encoding="gb18030")
    login(page, live_server)
    _upload(page, live_server, export)
    expect(page.get_by_test_id("preview-orders")).to_have_text("30")
    errors = page.locator("table.import-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.first).to_contain_text("订单编号 为空")
    expect(page.locator("table.list").last.locator("tbody tr")).to_have_count(20)
    shots("preview")

    page.click("text=确认导入")
    page.wait_for_url(re.compile(r"/oms/imports/[0-9a-f]{32}$"))
    expect(page.locator(".flash-success")).to_contain_text("导入完成")
    expect(page.get_by_test_id("created")).to_have_text("30")
    expect(page.get_by_test_id("rejected")).to_have_text("2")
    expect(page.locator("table.import-errors tbody tr").first).to_contain_text("订单编号 为空")
    shots("result")

    # the same export again: nothing new
    _upload(page, live_server, export)
    page.click("text=确认导入")
    expect(page.get_by_test_id("created")).to_have_text("0")
    expect(page.get_by_test_id("unchanged")).to_have_text("30")
    shots("again")
    assert not page.js_errors
