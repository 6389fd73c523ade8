"""What the planning journeys share: the cup company's sales history that the forecast reads, the three
suppliers (two with portal logins), signing in, a supplier bidding in the portal, and the browser steps that
forecast, approve and publish to MRP and then run MRP. Setup goes through the services; the steps through the
pages."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from opensupply.core import modules
from opensupply.core.sequences import company_today
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.scm import service as scm
from opensupply.srm import portal
from tests import factories as f
from tests.e2e.conftest import Shots
from tests.erp.sales.factories import customer
from tests.mes.factories import partner

SUPPLIERS = (("S-HUAMEI", "宁波华美不锈钢制品有限公司", "huamei"), ("S-JINHE", "永康金禾杯业有限公司", "jinhe"),
             ("S-LIDA", "浙江力达日用品有限公司", None))


def suppliers(db, company: int, switched_on: tuple[str, ...] = ("srm", "scm")) -> dict[str, int]:
    """The three suppliers, exactly the modules `switched_on` (SRM among them), portal logins for the first two
    (password f.PASSWORD)."""
    ids = {code: partner(db, company, code, name, is_supplier=True) for code, name, _u in SUPPLIERS}
    with UnitOfWork(Actor.system(company), db=db) as uow:
        modules.apply_modules(uow, set(switched_on))
        for code, _name, username in SUPPLIERS:
            if username:
                portal.invite_supplier_user(uow, ids[code], username=username, password=f.PASSWORD)
    return ids


def sales_history(db, company: int, sku: str, *, lot: str | None = None) -> dt.date:
    """24 months of delivered sales of `sku` (more in November and December), all from an opening stock (in
    `lot` for a lot-tracked product) that they use up; returns the due date MRP gives the forecast of the month
    after next (MRP plans in weeks from this Monday: a month's forecast is due on its first day's Monday)."""
    cust = customer(db, company)
    with UnitOfWork(Actor.system(company), db=db) as uow:
        today = company_today(uow)
        first = scm.period_start(today, "month")
        days = [scm.shift(first, "month", -k) + dt.timedelta(days=9) for k in range(24, 0, -1)]
        history = [(day, 40 + (10 if day.month in (11, 12) else 0) + day.month % 3) for day in days]
        inv.receive(uow, [inv.StockLine(sku, str(sum(q for _d, q in history)), lot=lot, unit_cost="30")], "A-01-01",
                    reference="期初")
        for day, qty in history:
            so = sales.create_sales_order(uow, customer_id=cust, order_date=day, confirm=True, override_credit=True,
                                          override_reason="历史订单",
                                          lines=[sales.SalesLineIn(sku=sku, quantity=qty, unit_price="59")])
            sales.deliver(uow, so.id, date=day)
    target = scm.shift(first, "month", 2)
    return target - dt.timedelta(days=target.weekday())


def sign_in(browser, url: str, username: str, password: str, *, viewport: dict | None = None):
    context = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    return page


def bid_in_portal(browser, url: str, username: str, rfq_number: str, price: str, lead: str, folder) -> None:
    """The supplier signs in (and lands in the portal), opens the RFQ and bids one price for its line."""
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


def forecast_and_publish(page, url: str, sku: str, shots: Shots) -> None:
    """Forecast the next three months from 24 months of history (a background job), approve, publish to MRP."""
    page.goto(f"{url}/scm/forecasts")
    page.select_option("select[name=bucket]", "month")
    page.fill("input[name=horizon]", "3")
    page.fill("input[name=history_periods]", "24")
    page.click("form[action='/scm/forecasts'] button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已开始预测")
    expect(page.locator("#run-state")).to_have_text("待审核", timeout=90_000)  # the page refreshes itself
    expect(page.locator(f'#forecast-series tr[data-sku="{sku}"]')).to_be_visible()
    shots("forecast-done")
    page.click("form[action$='/approve'] button")
    expect(page.locator("#run-state")).to_have_text("已审核")
    page.click("form[action$='/publish'] button")
    expect(page.locator(".flash")).to_contain_text("已发布到 MRP")
    expect(page.locator("#run-state")).to_have_text("已发布到 MRP")


def run_mrp(page, url: str) -> None:
    """Start an MRP run on the planning page and, when it is still running as the page is drawn, follow its job
    until it is done."""
    page.goto(f"{url}/erp/planning")
    page.click("form[action='/erp/planning/run'] button")
    expect(page.locator(".flash")).to_contain_text("MRP")
    running = page.locator("a[href^='/jobs/']", has_text="运行中")
    if running.count():
        running.first.click()
        expect(page.locator("[data-status]")).to_have_attribute("data-status", "done", timeout=60_000)
