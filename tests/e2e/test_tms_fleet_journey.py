"""Own fleet, end to end in a real browser: 40 OMS orders are shipped by the warehouse for delivery by the own
fleet; the dispatcher plans today's routes (PyVRP, background job with progress), sees them on the map, assigns
two drivers and dispatches; each driver, on a phone (390×844), marks every stop delivered (one with a photo);
the OMS orders then show 已签收."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.e2e.test_first_receipt import login
from tests.tms.fleet.factories import deliveries, make_fleet, shipped_fulfilments

pytestmark = pytest.mark.browser
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


def _driver_login(pg, server, username: str) -> None:
    pg.goto(f"{server.url}/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", f.PASSWORD)
    pg.click("button[type=submit].primary")
    pg.wait_for_url(re.compile(r"^(?!.*/login)"))


def test_plan_dispatch_and_deliver_40_orders_with_two_drivers(live_server, sqlite_db, browser, page, shots, phone,
                                                              phone_shots):
    db, company = sqlite_db, live_server.company_id
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    _oids, fids = shipped_fulfilments(db, company, 40)
    fl = make_fleet(db, company, vehicles=2, capacity_kg="450", drivers=2)
    deliveries(fl, 40, day=today, fulfilments=fids, weight=(5, 25))

    # the dispatcher plans today's routes
    login(page, live_server)
    page.goto(f"{live_server.url}/tms/route-plans")
    form = page.locator("#plan-new")
    form.locator("input[name=day]").fill(today.isoformat())
    form.locator("input[name=time_limit_s]").fill("3")
    shots("plan-form")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/tms/route-plans/\d+$"))
    expect(page.locator("#plan-status")).to_have_text("已排线", timeout=60_000)  # htmx polls, then reloads
    expect(page.locator("#route-map canvas").first).to_be_visible()
    expect(page.locator("section.route")).to_have_count(2)
    expect(page.locator("#unassigned")).to_have_count(0)
    assert page.locator("section.route tbody tr").count() == 40
    shots("routes-on-map")

    # 调度: a driver per route
    selects = page.locator("#dispatch-form select")
    selects.nth(0).select_option(str(fl.drivers[0]))
    selects.nth(1).select_option(str(fl.drivers[1]))
    page.click("#dispatch-btn")
    expect(page.locator("#plan-status")).to_have_text("已调度")
    shots("dispatched")

    # each driver delivers on a phone
    second = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                 has_touch=True, device_scale_factor=2)
    try:
        for n, (pg, username) in enumerate(((phone, fl.usernames[0]), (second.new_page(), fl.usernames[1])), 1):
            pg.set_default_timeout(15_000)
            errors: list[str] = []
            pg.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            _driver_login(pg, live_server, username)
            pg.goto(f"{live_server.url}/tms/driver")
            cards = pg.locator("section.drv-card")
            total = cards.count()
            assert total >= 1
            expect(cards.first.locator("a.nav")).to_have_attribute("href", re.compile(r"uri\.amap\.com/marker"))
            assert pg.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
            if n == 1:
                phone_shots("phone-driver-stops")
                first = cards.first
                first.locator("button[value=arrive]").click()
                expect(pg.locator(".flash").first).to_contain_text("已到达")
                first = pg.locator("section.drv-card").first
                first.locator(".drv-pod summary").click()
                first.locator("input[type=file]").set_input_files(
                    files=[{"name": "sign.png", "mimeType": "image/png", "buffer": PNG}])
                first.locator(".drv-pod button[type=submit]").click()
                expect(pg.locator(".flash").first).to_contain_text("签收照片已上传")
                expect(pg.locator("section.drv-card").first.locator(".drv-pod a")).to_have_text("查看已上传照片")
            for _i in range(total):
                pg.locator("section[data-status=pending], section[data-status=arrived]").first.locator(
                    "button[value=deliver]").click()
                expect(pg.locator(".flash").first).to_contain_text("已送达")
            expect(pg.locator("section[data-status=delivered]")).to_have_count(total)
            expect(pg.locator("#todo")).to_have_text("待配送 0 站")
            if n == 1:
                phone_shots("phone-driver-all-delivered")
            assert not errors, errors
    finally:
        second.close()

    # OMS: every order signed for
    page.goto(f"{live_server.url}/oms/orders?status=delivered")
    expect(page.locator(".pager")).to_contain_text("共 40 条")
    expect(page.locator("td .badge", has_text="已签收")).to_have_count(min(40, page.locator("tbody tr").count()))
    shots("oms-orders-signed-for")
    page.goto(f"{live_server.url}/tms/route-plans")
    expect(page.locator("#plan-list tbody tr").first).to_contain_text("已完成")
    assert not page.js_errors, page.js_errors
