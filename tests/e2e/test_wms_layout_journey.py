"""A warehouse manager lays out a rack area in the browser: previews the bins a spec makes,
generates them, sees the heat map of the floor, then blocks one bin from the bin list."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_first_receipt import login

pytestmark = pytest.mark.browser


def test_generate_a_layout_see_the_heat_map_and_block_a_bin(live_server, page, shots):
    login(page, live_server)
    page.goto(f"{live_server.url}/wms/layout")
    expect(page.locator("h1")).to_have_text("库位布局")
    expect(page.locator("main")).to_contain_text("还没有库位布局")
    page.fill("input[name=zone]", "B")
    page.fill("input[name=aisles]", "6")
    page.fill("input[name=bins_per_side]", "10")
    page.fill("input[name=blocks]", "2")
    page.fill("input[name=capacity_units]", "40")
    page.click("button[name=action][value=preview]")
    expect(page.locator("#layout-preview")).to_contain_text("共 120 个库位，新建 120 个")
    shots("preview")
    page.click("button[name=action][value=create]")
    expect(page.locator(".flash").first).to_contain_text("已生成库区 B 的 120 个库位")
    chart = page.locator("#layout-chart canvas")
    expect(chart).to_have_count(1)
    box = page.locator("#layout-chart").bounding_box()
    assert box["height"] >= 300
    shots("heat-map")
    page.select_option("select[name=metric]", "frequency")
    page.click("form.toolbar button[type=submit]")
    expect(page.locator("#layout-chart canvas")).to_have_count(1)

    page.goto(f"{live_server.url}/wms/bins?q=B-03-07")
    expect(page.locator(".pager")).to_contain_text("共 1 条")
    page.click("text=B-03-07")
    page.check("input[name=blocked]")
    page.click("button.primary")
    expect(page.locator(".flash").first).to_contain_text("库位 B-03-07 已保存")
    page.goto(f"{live_server.url}/wms/bins?blocked=1")
    expect(page.locator("table.list tbody")).to_contain_text("B-03-07")
    shots("blocked-bin")
    assert page.js_errors == []
