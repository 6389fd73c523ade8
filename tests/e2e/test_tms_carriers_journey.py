"""A logistics clerk in a real browser: a shipment to 北京 is compared across 顺丰 and 中通 (the cheapest is
highlighted), chosen by cost and booked; a tracking event goes on its timeline; the carrier's freight bill
with a 12 % overcharge is uploaded, the line approved at the quoted amount, the bill approved and posted."""

import pytest
from playwright.sync_api import expect

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.tms import shipments
from tests.tms.carriers import factories as tf

pytestmark = pytest.mark.browser


def test_compare_choose_book_track_and_reconcile_freight(live_server, sqlite_db, page, shots):
    c = live_server.company_id
    wh = tf.zhejiang_warehouse(sqlite_db, c)
    sf = tf.carrier(sqlite_db, c, "SF", "顺丰速运")
    zto = tf.carrier(sqlite_db, c, "ZTO", "中通快递")
    tf.sf_card(sqlite_db, c, sf)
    tf.zto_card(sqlite_db, c, zto)
    sid = tf.shipment(sqlite_db, c, warehouse_id=wh, province="北京", reference="SO-2026-0001")

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", live_server.admin)
    page.fill("input[name=password]", live_server.password)
    page.click("button[type=submit].primary")
    expect(page.locator(".topbar .user")).to_have_text(live_server.admin)

    page.goto(f"{live_server.url}/tms/shipments")
    expect(page.locator("table.list tbody tr").first).to_contain_text("SO-2026-0001")
    page.click(f"a[href='/tms/shipments/{sid}']")
    expect(page.locator("h1")).to_contain_text("待下单")
    page.click("button:has-text('重新报价')")
    expect(page.locator(".flash-success")).to_contain_text("已重新报价")
    cheapest = page.locator("table.quotes tr[data-cheapest]")
    expect(cheapest).to_contain_text("中通快递")
    expect(cheapest).to_contain_text("16.00")
    shots("comparison")

    page.select_option("select[name=by]", "cost")
    page.click("button:has-text('选择承运商')")
    expect(page.locator("table.quotes tr[data-cheapest]")).to_contain_text("已选")
    page.click("button:has-text('下单获取运单号')")
    expect(page.locator(".flash-success")).to_contain_text("已获取运单号")
    expect(page.locator("h1")).to_contain_text("已下单")
    expect(page.locator("a:has-text('打印面单')")).to_be_visible()

    page.select_option("form[action$='/events'] select[name=status]", "in_transit")
    page.fill("form[action$='/events'] input[name=location]", "杭州转运中心")
    page.click("button:has-text('记录跟踪事件')")
    expect(page.locator("ol.timeline")).to_contain_text("杭州转运中心")
    expect(page.locator("h1")).to_contain_text("运输中")
    shots("timeline")

    with UnitOfWork(Actor.system(c), db=sqlite_db, readonly=True) as uow:
        tn = shipments.get_shipment(uow, sid).tracking_number
    page.goto(f"{live_server.url}/tms/freight-bills")
    page.select_option("form[enctype] select[name=carrier_id]", str(zto))
    page.set_input_files("input[name=file]", files=[{"name": "中通-11月账单.csv", "mimeType": "text/csv",
                                                    "buffer": f"运单号,计费重量,运费金额\n{tn},3,17.92\n".encode()}])
    page.click("button:has-text('上传并核对')")
    expect(page.locator(".flash-success")).to_contain_text("账单已导入")
    row = page.locator("table.list tbody tr").first
    expect(row).to_contain_text("多收")
    expect(row).to_contain_text("12.00")
    shots("overcharge")
    row.locator("select[name=use]").select_option("expected")
    row.locator("button:has-text('核准')").click()
    expect(page.locator(".flash-success")).to_contain_text("已核准该行")
    page.click("button:has-text('核准账单')")
    page.click("button:has-text('入账')")
    expect(page.locator(".flash-success")).to_contain_text("账单已入账")
    expect(page.locator("h1")).to_contain_text("已入账")
    expect(page.locator("dl.detail")).to_contain_text("16.00")
    shots("posted")
