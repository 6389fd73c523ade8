"""From an engineering change to a traced lot, in the browser: the desk's BOM goes from V1.0 to V1.1 (16 screws
become 12) through an ECO that the R&D lead and the production planner each approve on its page before it is
released; the planner then creates and releases a work order (it takes V1.1, while the draft order made before
the change stays on V1.0), schedules the plant, and an operator reports both operations on the tablet scan
terminal and books the finished desks; the lot trace page shows desk lot → table-top lot → oak lot → the
supplier's purchase order, and from the oak lot forward to the desks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from opensupply.core import resource as rs
from opensupply.core.sequences import company_today
from opensupply.masterdata import boms
from opensupply.mes import calendar, resources
from opensupply.mes import work_orders as wos
from opensupply.mes.models import WorkOrder
from opensupply.plm import eco
from tests import factories as f
from tests.e2e.conftest import Shots, _test_folder, create_admin, serve
from tests.mes import factories as fm
from tests.plm import factories as pf

pytestmark = pytest.mark.browser


def sign_in(browser, url: str, username: str, password: str, *, viewport=None):
    context = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    expect(page.locator(".topbar .user")).to_have_text(username)
    return page


def prepare(db):
    """The furniture plant with stock, four table tops made from oak lot OAK-2611-A, a day roster on both lines,
    a draft desk order on V1.0 and an ECO V1.0 → V1.1 submitted to R&D and production."""
    w = pf.world(db, stock=True)
    p = w.plant
    fm.make(p, "YS-TOP-120", "4", "TOP-2612-A")
    with p.uow() as uow:
        rs.create_record(uow, resources.shifts, {"code": "DAY", "name": "白班", "start_time": "06:00",
                                                 "end_time": "22:00", "break_minutes": 0})
        calendar.apply_pattern(uow, shift="DAY", work_centers=["CUT", "ASM"], start=company_today(uow), weeks=2,
                               weekdays=range(7))
        old = wos.create_work_order(uow, product="YS-DESK-120", quantity="1").number
    with w.uow("engineer") as uow:
        change = eco.create_eco(uow, "YS-DESK-120", "螺丝减为 12 颗", "结构验证后 12 颗足够，降本",
                                departments=["rd", "production"],
                                lines=[{"component": "YS-TOP-120", "quantity": "1"},
                                       {"component": "RM-LEG-72", "quantity": "4"},
                                       {"component": "RM-SCREW-M6", "quantity": "12"}])
        eco.submit_eco(uow, change.id)
        eco_id = change.id
    return w, eco_id, old


def approve(browser, url: str, username: str, eco_id: int, department: str, comment: str) -> None:
    page = sign_in(browser, url, username, f.PASSWORD)
    page.goto(f"{url}/plm/ecos/{eco_id}")
    expect(page.locator('tr.diff-changed[data-sku="RM-SCREW-M6"]')).to_be_visible()
    row = page.locator(f'.eco-approvals tr[data-department="{department}"]')
    row.locator("input[name=comment]").fill(comment)
    row.locator("button[name=decision][value=approve]").click()
    expect(page.locator(f'.eco-approvals tr[data-department="{department}"] .badge')).to_have_text("已同意")
    page.context.close()


def test_eco_to_work_order_to_terminal_to_lot_trace(sqlite_db, browser, request):
    w, eco_id, old_wo = prepare(sqlite_db)
    create_admin(sqlite_db, w.company, "planner_admin")
    with serve(sqlite_db, w.company, "planner_admin") as server:
        url = server.url
        # 1. R&D and production approve the change, each on the ECO page, each only for their department
        approve(browser, url, w.users["rd_lead"], eco_id, "rd", "结构计算已复核")
        approve(browser, url, w.users["planner"], eco_id, "production", "下周起执行")

        page = sign_in(browser, url, server.admin, server.password)
        shots = Shots(page, _test_folder(request))
        page.goto(f"{url}/plm/ecos/{eco_id}")
        expect(page.locator("[data-state]").first).to_have_attribute("data-state", "approved")
        shots("eco-approved")
        page.once("dialog", lambda d: d.accept())  # 发布后新版本生效… 确定发布吗？
        page.click("form[action$='/release'] button[type=submit]")
        expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "released")
        expect(page.locator(".open-work-orders")).to_contain_text(old_wo)  # still on V1.0, listed
        shots("eco-released")

        # 2. a new work order takes V1.1; the older draft keeps V1.0
        page.goto(f"{url}/mes/work-orders/new")
        page.select_option("select[name=product]", "YS-DESK-120")
        page.fill("input[name=quantity]", "2")
        page.fill("input[name=lot_name]", "DESK-2612-01")
        page.click("button[name=release]")
        expect(page.locator(".flash")).to_contain_text("已创建")
        expect(page.locator("[data-state]").first).to_have_attribute("data-state", "released")
        expect(page.locator("dd a[href^='/boms/']")).to_have_text("V1.1")
        expect(page.locator("#components")).to_contain_text("RM-SCREW-M6")
        expect(page.locator("#components tr", has_text="RM-SCREW-M6")).to_contain_text("24")
        wo_url = page.url
        number = page.locator("h1 [data-number]").inner_text()
        barcodes = [c.inner_text() for c in page.locator("#operations tr[data-op] code").all()]
        assert barcodes == [f"{number}/10", f"{number}/20"]
        with w.uow(readonly=True) as uow:
            versions = {wo.number: boms.get_bom(uow, wo.bom_id).version for wo in uow.session.query(WorkOrder)}
        assert versions[number] == "V1.1" and versions[old_wo] == "V1.0"
        shots("work-order-released")

        # 3. schedule the plant: the run finishes in the background and the operations get times on machines
        page.goto(f"{url}/mes/schedule")
        page.fill("#schedule-form input[name=time_limit_s]", "3")
        page.click("#schedule-form button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("已开始排产")
        expect(page.locator("#schedule-operations")).to_contain_text(number, timeout=60_000)
        expect(page.locator("#schedule-runs tbody tr").first).to_contain_text("完成", timeout=60_000)
        shots("scheduled")
        page.goto(wo_url)
        planned = page.locator("#operations tr[data-op='10'] td").nth(5).inner_text()
        assert re.search(r"\d{4}\D\d{1,2}\D\d{1,2} \d{2}:\d{2}", planned), planned

        # 4. the operator reports both operations on the tablet terminal and books the desks
        tablet = sign_in(browser, url, server.admin, server.password, viewport={"width": 1024, "height": 768})
        for code in barcodes:
            tablet.goto(f"{url}/mes/terminal")
            tablet.fill("input[name=code]", code)
            tablet.press("input[name=code]", "Enter")
            expect(tablet).to_have_url(re.compile(r"/mes/terminal/op/\d+$"))
            expect(tablet.locator(".t-big")).to_have_text(code)
            tablet.click("button.go")  # 开工
            expect(tablet.locator("[data-op-state]")).to_have_text("加工中")
            tablet.fill("#finish-form input[name=qty_good]", "2")
            tablet.click("#finish-form button[type=submit]")  # 完工
            expect(tablet.locator("#op-card")).to_have_attribute("data-state", "done")
            expect(tablet.locator("[data-good]")).to_have_text("2")
        tablet.click("#receipt-form button[type=submit]")  # 完工入库, closing the order
        expect(tablet.locator("#t-banner")).to_contain_text("合格 2")
        Shots(tablet, shots.folder.parent / (shots.folder.name + "-tablet"))("terminal-booked")
        tablet.context.close()

        page.goto(wo_url)
        expect(page.locator("[data-state]").first).to_have_attribute("data-state", "done")
        expect(page.locator("#completions")).to_contain_text("DESK-2612-01")

        # 5. the lot trace: desk lot ← table-top lot ← oak lot ← the supplier's PO; and the oak lot forward
        page.click("a.btn:has-text('批次追溯')")
        expect(page.locator("#trace-lot")).to_contain_text("DESK-2612-01")
        back = page.locator("#trace-backward")
        expect(back.locator('[data-lot="TOP-2612-A"]')).to_be_visible()
        expect(back.locator('[data-lot="OAK-2611-A"]')).to_be_visible()
        expect(back).to_contain_text("湖州德清木业有限公司")
        expect(page.locator("#suppliers")).to_contain_text("OAK-2611-A")
        shots("trace-desk")
        back.locator('a:text-is("OAK-2611-A")').first.click()
        expect(page.locator("#trace-lot")).to_contain_text("OAK-2611-A")
        expect(page.locator('#trace-forward [data-lot="DESK-2612-01"]')).to_be_visible()
        shots("trace-oak")
