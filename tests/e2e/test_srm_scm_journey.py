"""From forecast demand to a supplier's scorecard, in the browser: the planner forecasts the thermos cup from two
years of sales, approves the forecast and publishes it to MRP, runs MRP, and starts an RFQ (发起询价) from the
planned purchase two months out, inviting three suppliers; two of them bid in the supplier portal (each lands on
the portal when signing in), the third does not; the buyer closes bidding, compares, awards each line to the
lowest bid, which makes the purchase order, confirms and receives it, and records the incoming inspection of the
receipt with one defective cup in the sample; the scorecard of the winning supplier then shows 100 % on time and
the defect rate, in the buyers' ranking and in the supplier's own portal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.planning.models import PlanningPolicy
from tests import factories as f
from tests.e2e.conftest import Shots, _test_folder, create_admin, serve
from tests.e2e.journeys import (
    SUPPLIERS,
    bid_in_portal,
    forecast_and_publish,
    run_mrp,
    sales_history,
    sign_in,
    suppliers,
)

pytestmark = pytest.mark.browser


def prepare(db) -> dict:
    """The cup company (ERP, SRM and SCM on): 24 months of delivered sales of YS-CUP-350 (more in November and
    December), no stock left, bought in tens; three suppliers, portal logins for the first two."""
    c = f.company(db, "YS", "杭州云杉家居用品有限公司")
    f.bin_location(db, c, "A-01-01")
    cup = f.product(db, c, "YS-CUP-350", name="不锈钢保温杯 350ml", cost="30")
    ids = suppliers(db, c)
    with UnitOfWork(Actor.system(c), db=db) as uow:
        uow.add(PlanningPolicy(product_id=cup, multiple=10))
    return {"company": c, "suppliers": ids, "due": sales_history(db, c, "YS-CUP-350")}


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
        forecast_and_publish(page, url, "YS-CUP-350", shots)

        # 2. MRP: planned purchases of the cup, one per month of forecast
        run_mrp(page, url)
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
