"""Order to cash in a real browser, in the Chinese UI: a trade-fair lead becomes a customer and an
opportunity, the quote becomes an ERP sales order, which is shipped, invoiced and paid. Afterwards
the customer owes nothing and the income statement shows the revenue and its cost."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from tests import factories as f

pytestmark = pytest.mark.browser


def test_lead_to_cash_in_the_browser(live_server, page, shots, sqlite_db):
    server = live_server
    f.product(sqlite_db, server.company_id, "YS-CUP-500", name="不锈钢保温杯 500ml", cost=Decimal("38"),
              list_price=Decimal("99"))
    with UnitOfWork(Actor.system(server.company_id), db=sqlite_db) as uow:
        inv.receive(uow, [inv.StockLine(product="YS-CUP-500", quantity="100", unit_cost="38")], "A-01-01",
                    reference="INIT")

    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", server.admin)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit].primary")
    expect(page.locator("nav.sidebar")).to_contain_text("我的一天")

    # 1. a lead from the trade fair
    page.goto(f"{server.url}/crm/leads/new")
    expect(page.locator("h1")).to_have_text("新建线索")
    page.fill("input[name=name]", "王建国")
    page.fill("input[name=company_name]", "宁波甬城酒店用品有限公司")
    page.fill("input[name=phone]", "138 5742 1001")
    page.select_option("select[name=source]", label="展会")
    shots("lead-form")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash-success")).to_contain_text("已保存")
    expect(page.locator("h1")).to_contain_text("新线索")

    # 2. convert: customer + contact + opportunity
    page.fill("input[name=opportunity_name]", "客房保温杯")
    page.click("form[action$='/convert'] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("线索已转化为客户和商机")
    expect(page.locator("h1")).to_contain_text("初步接触")
    customer_href = page.locator("dl.detail a[href^='/crm/customers/']").get_attribute("href")
    customer_id = int(customer_href.rsplit("/", 1)[1])
    opportunity_url = page.url
    shots("opportunity")

    # the kanban moves it on with one click (htmx swaps the board in place)
    page.goto(f"{server.url}/crm/opportunities/kanban")
    card = page.locator(".kanban .opp", has_text="客房保温杯")
    expect(page.locator("[data-stage=initial]")).to_contain_text("客房保温杯")
    card.locator("button", has_text="需求确认").click()
    expect(page.locator("[data-stage=qualified]")).to_contain_text("客房保温杯")
    expect(page.locator("[data-stage=initial]")).not_to_contain_text("客房保温杯")
    shots("kanban")
    page.goto(opportunity_url)

    # 3. quote 10 cups at ¥99, then the quote becomes the sales order: the deal is won
    page.fill("input[name=product_0]", "YS-CUP-500")
    page.fill("input[name=quantity_0]", "10")
    page.fill("input[name=unit_price_0]", "99")
    page.click("#quote-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("已生成报价单")
    expect(page.locator("h1")).to_contain_text("方案报价")
    page.click("#quote-to-order")
    expect(page.locator(".flash-success")).to_contain_text("赢单！已生成销售订单")
    expect(page.locator("h1")).to_contain_text("赢单")
    shots("won")

    # 4. ERP: ship it, invoice it
    page.click("#sales-order a")
    page.wait_for_url(re.compile(r"/erp/sales-orders/\d+$"))
    order_url = page.url
    shots("sales-order")
    page.click("form[action$='/deliver'] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("已发货")
    page.goto(order_url)
    page.click("form[action$='/invoice'] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("已开票")
    shots("invoice")

    # 5. the customer pays the invoice in full (10 × 99 + 13 % VAT)
    page.goto(f"{server.url}/erp/customer-receipts/new?customer={customer_id}")
    page.fill("input[name=amount]", "1118.70")
    page.click("form[method=post] button[type=submit].primary")
    expect(page.locator(".flash-success")).to_contain_text("收款已登记")
    shots("receipt")

    # 6. the CRM profile: nothing owed, one order of ¥1,118.70
    page.goto(f"{server.url}/crm/customers/{customer_id}")
    expect(page.locator("#collections")).to_contain_text("¥1,118.70")
    shots("customer-profile")
    profile = page.request.get(f"{server.url}/api/v1/crm/customers/{customer_id}/profile").json()
    assert profile["collections"]["balance"] == "0.00"
    assert profile["collections"]["invoiced"] == "1118.70" and profile["order_count"] == 1

    # 7. the books: revenue 990 and cost 380 on the income statement, trial balance balanced
    page.goto(f"{server.url}/accounting/reports/income-statement")
    revenue = page.locator("tr", has_text="营业收入")
    expect(revenue.first).to_contain_text("990.00")
    expect(page.locator("tr", has_text="营业成本").first).to_contain_text("380.00")
    shots("income-statement")
    tb = page.request.get(f"{server.url}/api/v1/accounting/trial-balance").json()
    assert tb["total_debit"] == tb["total_credit"]
    val = page.request.get(f"{server.url}/api/v1/inventory/valuation").json()
    assert Decimal(val["total_value"]) == Decimal(val["gl_inventory_balance"]) == Decimal("3420")
    assert not page.js_errors
