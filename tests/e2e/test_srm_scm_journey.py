"""From forecast demand to a supplier's scorecard, in the browser: the planner forecasts the thermos cup from two
years of sales, approves the forecast and publishes it to MRP, runs MRP, and starts an RFQ (发起询价) from the
planned purchase two months out, inviting three suppliers; two of them bid in the supplier portal (each lands on
the portal when signing in), the third does not; the buyer closes bidding, compares, awards each line to the
lowest bid, which makes the purchase order, confirms and receives it, and records the incoming inspection of the
receipt with one defective cup in the sample; the scorecard of the winning supplier then shows 100 % on time and
the defect rate, in the buyers' ranking and in the supplier's own portal."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from opensupply.core import modules
from opensupply.core.sequences import company_today
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.planning.models import PlanningPolicy
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.scm import service as scm
from opensupply.srm import portal
from tests import factories as f
from tests.e2e.conftest import Shots, _test_folder, create_admin, serve
from tests.erp.sales.factories import customer
from tests.mes.factories import partner

pytestmark = pytest.mark.browser

SUPPLIERS = (("S-HUAMEI", "宁波华美不锈钢制品有限公司", "huamei"), ("S-JINHE", "永康金禾杯业有限公司", "jinhe"),
             ("S-LIDA", "浙江力达日用品有限公司", None))


def prepare(db) -> dict:
    """The cup company (ERP, SRM and SCM on): 24 months of delivered sales of YS-CUP-350 (more in November and
    December), no stock left, bought in tens; three suppliers, portal logins for the first two."""
    c = f.company(db, "YS", "杭州云杉家居用品有限公司")
    f.bin_location(db, c, "A-01-01")
    cust = customer(db, c)
    cup = f.product(db, c, "YS-CUP-350", name="不锈钢保温杯 350ml", cost="30")
    ids = {code: partner(db, c, code, name, is_supplier=True) for code, name, _u in SUPPLIERS}
    with UnitOfWork(Actor.system(c), db=db) as uow:
        modules.apply_modules(uow, {"srm", "scm"})
        uow.add(PlanningPolicy(product_id=cup, multiple=10))
        for code, _name, username in SUPPLIERS:
            if username:
                portal.invite_supplier_user(uow, ids[code], username=username, password=f.PASSWORD)
    with UnitOfWork(Actor.system(c), db=db) as uow:
        today = company_today(uow)
        first = scm.period_start(today, "month")
        history = [(scm.shift(first, "month", -k) + dt.timedelta(days=9), 0) for k in range(24, 0, -1)]
        history = [(day, 40 + (10 if day.month in (11, 12) else 0) + day.month % 3) for day, _q in history]
        inv.receive(uow, [inv.StockLine("YS-CUP-350", str(sum(q for _d, q in history)), unit_cost="30")], "A-01-01",
                    reference="期初")
        for day, qty in history:
            so = sales.create_sales_order(uow, customer_id=cust, order_date=day, confirm=True, override_credit=True,
                                          override_reason="历史订单",
                                          lines=[sales.SalesLineIn(product_id=cup, quantity=qty, unit_price="59")])
            sales.deliver(uow, so.id, date=day)
    # MRP plans in weeks from this Monday: the forecast of the month after next is due on its first day's Monday
    target = scm.shift(first, "month", 2)
    due = target - dt.timedelta(days=target.weekday())
    return {"company": c, "suppliers": ids, "due": due}


def sign_in(browser, url: str, username: str, password: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    return page


def bid_in_portal(browser, url: str, username: str, rfq_number: str, price: str, lead: str, folder) -> None:
    page = sign_in(browser, url, username, f.PASSWORD)
    expect(page).to_have_url(f"{url}/portal")  # a supplier's login starts in the portal, not on the home page
    page.click(f"a:has-text('{rfq_number}')")
    expect(page.locator("h1")).to_contain_text(rfq_number)
    page.locator("input[name^=price_]").fill(price)
    page.locator("input[name^=lead_]").fill(lead)
    page.fill("input[name=payment_terms]", "月结30天")
    page.click("form[action$='/bid'] button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("报价已提交")
    Shots(page, folder.parent / f"{folder.name}-{username}")("bid")
    page.context.close()


def test_forecast_to_mrp_to_rfq_to_portal_bids_to_receipt_to_scorecard(sqlite_db, browser, request):
    w = prepare(sqlite_db)
    create_admin(sqlite_db, w["company"], "planner_admin")
    huamei, jinhe, lida = (w["suppliers"][code] for code, _n, _u in SUPPLIERS)
    with serve(sqlite_db, w["company"], "planner_admin") as server:
        url = server.url
        page = sign_in(browser, url, server.admin, server.password)
        expect(page.locator(".topbar .user")).to_have_text(server.admin)
        shots = Shots(page, _test_folder(request))

        # 1. forecast the next three months from 24 months of history (a background job), approve, publish
        page.goto(f"{url}/scm/forecasts")
        page.select_option("select[name=bucket]", "month")
        page.fill("input[name=horizon]", "3")
        page.fill("input[name=history_periods]", "24")
        page.click("form[action='/scm/forecasts'] button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("已开始预测")
        expect(page.locator("#run-state")).to_have_text("待审核", timeout=90_000)  # the page refreshes itself
        expect(page.locator('#forecast-series tr[data-sku="YS-CUP-350"]')).to_be_visible()
        shots("forecast-done")
        page.click("form[action$='/approve'] button")
        expect(page.locator("#run-state")).to_have_text("已审核")
        page.click("form[action$='/publish'] button")
        expect(page.locator(".flash")).to_contain_text("已发布到 MRP")
        expect(page.locator("#run-state")).to_have_text("已发布到 MRP")

        # 2. MRP: planned purchases of the cup, one per month of forecast
        page.goto(f"{url}/erp/planning")
        page.click("form[action='/erp/planning/run'] button")
        expect(page.locator(".flash")).to_contain_text("MRP")
        running = page.locator("a[href^='/jobs/']", has_text="运行中")
        if running.count():  # still running when the page was drawn: follow the job until it is done
            running.first.click()
            expect(page.locator("[data-status]")).to_have_attribute("data-status", "done", timeout=60_000)
            page.goto(f"{url}/erp/planning")
        page.goto(f"{url}/erp/planning?kind=purchase&state=planned")
        row = page.locator("tr", has_text="YS-CUP-350").filter(has_text=w["due"].isoformat())
        expect(row).to_have_count(1)
        shots("mrp-planned-orders")
        row.locator("a[href^='/erp/planning/orders/']").click()
        planned_url = page.url

        # 3. 发起询价 from the planned purchase, to three suppliers, sent at once
        page.click("#start-rfq")
        expect(page.locator("#planned-line")).to_contain_text("YS-CUP-350")
        quantity = page.locator("#planned-line td.num").inner_text()
        for pid in (huamei, jinhe, lida):
            page.check(f"input[name=suppliers][value='{pid}']")
        shots("rfq-form")
        page.click("button[name=send]")
        expect(page.locator(".flash")).to_contain_text("计划订单已确认")
        expect(page.locator("h1 .badge")).to_have_text("投标中")
        rfq_url = page.url
        rfq_number = page.locator("h1").inner_text().split()[1]
        expect(page.locator("[data-planned-order]")).to_be_visible()
        page.goto(planned_url)
        expect(page.locator("h1")).to_contain_text("已确认")
        expect(page.locator("#planned-documents")).to_contain_text(rfq_number)

        # 4. two suppliers bid in the portal; the third stays silent
        bid_in_portal(browser, url, "huamei", rfq_number, "27.50", "10", shots.folder)
        bid_in_portal(browser, url, "jinhe", rfq_number, "28.90", "7", shots.folder)

        # 5. the buyer sees who has bid (no prices), closes bidding, awards the lowest bid: the purchase order
        page.goto(rfq_url)
        expect(page.locator("#bids tr", has_text="S-HUAMEI")).to_contain_text("是")
        expect(page.locator("#bids tr", has_text="S-LIDA")).to_contain_text("否")
        expect(page.locator("#bids")).not_to_contain_text("27.5")
        page.click("form[action$='/close'] button")
        expect(page).to_have_url(re.compile(r"/compare$"))
        expect(page.locator("main")).to_contain_text("27.5")
        shots("compare")
        page.click("button[name=lowest]")
        expect(page.locator(".flash")).to_contain_text("已授标")
        expect(page.locator("#bids tr", has_text="S-HUAMEI")).to_contain_text("中标")
        page.click("a[href^='/erp/purchase-orders/']")
        expect(page.locator("h1")).to_contain_text("草稿")
        expect(page.locator("#order-lines")).to_contain_text("27.5")
        page.goto(planned_url)  # the planned purchase now points at its purchase order
        expect(page.locator("#planned-documents a[href^='/erp/purchase-orders/']")).to_be_visible()
        page.click("#planned-documents a[href^='/erp/purchase-orders/']")

        # before anything is received the supplier has no scorecard figures yet
        order_url = page.url
        page.goto(f"{url}/srm/scorecards")
        expect(page.locator("#ranking")).not_to_contain_text("S-HUAMEI")

        # 6. confirm and receive the order, then inspect the receipt: 20 sampled, one scratched
        page.goto(order_url)
        page.click("button:has-text('确认订单')")
        expect(page.locator("h1 .badge")).to_have_text("已确认")
        page.locator("#receive-form input[name^=qty-]").fill(quantity.replace(",", ""))
        page.fill("#receive-form input[name=location]", "A-01-01")
        page.click("#receive-form button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("已收货")
        shots("receipt")
        receipt_number = page.locator("h1").inner_text().split()[1]
        page.click("#inspect-receipt")
        expect(page.locator("input[name=receipt]")).to_have_value(receipt_number)
        page.fill("input[name=sample_size]", "20")
        page.fill("input[name=type_0]", "划伤")
        page.fill("input[name=qty_0]", "1")
        page.click("form[action='/srm/receipt-inspections'] button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("评分卡已更新")
        expect(page.locator("main table.list tr", has_text=receipt_number)).to_contain_text("划伤 × 1")

        # 7. the scorecard: on time (received before the date the RFQ asked for), 1 in 20 defective = 50,000 ppm
        page.goto(f"{url}/srm/scorecards")
        winner = page.locator("#ranking tr", has_text="S-HUAMEI")
        cells = winner.locator("td")
        expect(cells.nth(2)).to_have_text("100")
        expect(cells.nth(3)).to_have_text("50,000")
        expect(page.locator("#ranking tr", has_text="S-JINHE").locator("td").nth(3)).to_have_text("—")
        shots("scorecards")
        supplier = sign_in(browser, url, "huamei", f.PASSWORD)
        supplier.goto(f"{url}/portal/scorecard")
        expect(supplier.locator("#scorecards")).to_contain_text("50,000")
        Shots(supplier, shots.folder.parent / f"{shots.folder.name}-huamei-scorecard")("portal-scorecard")
        supplier.context.close()
