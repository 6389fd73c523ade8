"""From a forecast to a finished lot that traces back to the supplier's purchase order, in the browser, across
SCM, ERP planning, SRM, ERP purchasing, MES and inventory: the planner forecasts the thermos cup (made in-house
from a bought stainless-steel liner) from two years of sales, approves and publishes the forecast, and runs MRP,
which plans a work order for the cups of the month after next and, a week earlier, the purchase of their liners
(pegged to that work order). The buyer starts an RFQ from the planned purchase; two suppliers bid in the
portal; the lowest bid is awarded, which makes the purchase order, and the liners are received in a supplier
lot. The planner then firms the planned work order on its page; production releases it (the liner lot is
reserved), the operator reports the assembly on the tablet terminal and the cups are booked into a lot. The
inventory page shows the cups available, and the lot trace goes cup lot ← liner lot ← purchase order."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.planning import service as planning
from opensupply.erp.purchasing import service as purchasing
from opensupply.inventory import service as inv
from opensupply.masterdata import boms
from opensupply.mes import routings
from opensupply.mes import work_orders as wos
from opensupply.mes.models import LotLink
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
from tests.mes import factories as fm

pytestmark = pytest.mark.browser

CUP, LINER = "YS-CUP-350", "RM-LINER-350"
LINER_LOT, CUP_LOT = "LN-HM-0001", "CUP-P2P-01"


def prepare(db) -> dict:
    """The cup plant: the cup (lot-tracked) is made from one liner (lot-tracked, bought in tens) in one assembly
    step on line ASM, a week's lead time; 24 months of delivered cup sales from an opening lot, no stock left;
    the three suppliers, two with portal logins; SRM, SCM and MES on."""
    c = f.company(db, "YS", "杭州云杉家居用品有限公司")
    f.bin_location(db, c, "A-01-01")
    cup = f.product(db, c, CUP, name="不锈钢保温杯 350ml", tracking="lot", cost="0")
    liner = f.product(db, c, LINER, name="不锈钢内胆 350ml", tracking="lot", cost="18")
    ids = suppliers(db, c, ("srm", "scm", "mes"))
    fm.work_center(fm.Plant(db, c), "ASM", "组装线", "90")
    with UnitOfWork(Actor.system(c), db=db) as uow:
        bom = boms.create_bom(uow, product=CUP, lines=[{"component": LINER, "quantity": "1"}])
        boms.release_bom(uow, bom.id)
        routings.create_routing(uow, product=CUP, operations=[{"name": "组装", "work_center": "ASM",
                                                                "setup_minutes": "10", "run_minutes": "2"}])
        planning.set_policy(uow, {"product_id": cup, "multiple": Decimal(10), "lead_time_days": 7})
        planning.set_policy(uow, {"product_id": liner, "multiple": Decimal(10)})
    due = sales_history(db, c, CUP, lot="CUP-OPEN")
    return {"company": c, "suppliers": ids, "cup": cup, "liner": liner, "due": due}


def test_forecast_to_mrp_to_rfq_to_po_to_work_order_to_lot_trace(sqlite_db, browser, request):
    w = prepare(sqlite_db)
    create_admin(sqlite_db, w["company"], "planner_admin")
    huamei, jinhe, lida = (w["suppliers"][code] for code, _n, _u in SUPPLIERS)
    liner_due = w["due"] - dt.timedelta(days=7)  # the work order starts a week before the cups are due
    with serve(sqlite_db, w["company"], "planner_admin") as server:
        url = server.url
        page = sign_in(browser, url, server.admin, server.password)
        expect(page.locator(".topbar .user")).to_have_text(server.admin)
        shots = Shots(page, _test_folder(request))

        # 1. forecast the cups, approve, publish; run MRP
        forecast_and_publish(page, url, CUP, shots)
        run_mrp(page, url)

        # 2. MRP planned the cups' work order (from the forecast) and the liners' purchase (from that work order)
        page.goto(f"{url}/erp/planning?kind=production&state=planned")
        row = page.locator("tr", has_text=CUP).filter(has_text=w["due"].isoformat())
        expect(row).to_have_count(1)
        shots("mrp-planned-production")
        row.locator("a[href^='/erp/planning/orders/']").click()
        expect(page.locator("h1")).to_contain_text("计划生产")
        expect(page.locator("main table")).to_contain_text("独立需求")
        planned_wo_url = page.url
        planned_wo_id = int(planned_wo_url.rsplit("/", 1)[1])

        page.goto(f"{url}/erp/planning?kind=purchase&state=planned")
        row = page.locator("tr", has_text=LINER).filter(has_text=liner_due.isoformat())
        expect(row).to_have_count(1)
        shots("mrp-planned-purchase")
        row.locator("a[href^='/erp/planning/orders/']").click()
        expect(page.locator(f"main table a[href='/erp/planning/orders/{planned_wo_id}']")).to_be_visible()  # pegging
        planned_po_url = page.url

        # 3. 发起询价 for the liners to the three suppliers; two bid in the portal
        page.click("#start-rfq")
        expect(page.locator("#planned-line")).to_contain_text(LINER)
        quantity = page.locator("#planned-line td.num").inner_text().replace(",", "")
        for pid in (huamei, jinhe, lida):
            page.check(f"input[name=suppliers][value='{pid}']")
        page.click("button[name=send]")
        expect(page.locator(".flash")).to_contain_text("计划订单已确认")
        expect(page.locator("h1 .badge")).to_have_text("投标中")
        rfq_url = page.url
        rfq_number = page.locator("h1").inner_text().split()[1]
        shots("rfq-sent")
        bid_in_portal(browser, url, "huamei", rfq_number, "17.80", "10", shots.folder)
        bid_in_portal(browser, url, "jinhe", rfq_number, "18.60", "7", shots.folder)

        # 4. close, compare, award the lowest: the purchase order, confirmed and received in the supplier's lot
        page.goto(rfq_url)
        expect(page.locator("#bids tr", has_text="S-HUAMEI")).to_contain_text("是")
        page.click("form[action$='/close'] button")
        expect(page).to_have_url(re.compile(r"/compare$"))
        page.click("button[name=lowest]")
        expect(page.locator(".flash")).to_contain_text("已授标")
        page.click("a[href^='/erp/purchase-orders/']")
        expect(page.locator("h1")).to_contain_text("草稿")
        expect(page.locator("#order-lines")).to_contain_text("17.8")
        po_number = page.locator("h1").inner_text().split()[1]
        page.click("button:has-text('确认订单')")
        expect(page.locator("h1 .badge")).to_have_text("已确认")
        page.locator("#receive-form input[name^=qty-]").fill(quantity)
        page.locator("#receive-form input[name^=lot-]").fill(LINER_LOT)
        page.fill("#receive-form input[name=location]", "A-01-01")
        page.click("#receive-form button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("已收货")
        expect(page.locator("main")).to_contain_text(LINER_LOT)
        shots("liners-received")
        page.goto(planned_po_url)
        expect(page.locator("#planned-documents")).to_contain_text(po_number)

        # 5. firm the planned work order: a draft work order for the planned quantity, linked from the plan
        page.goto(planned_wo_url)
        page.click("form[action$='/firm'] button")
        expect(page.locator("h1")).to_contain_text("已确认")
        wo_link = page.locator("#planned-documents a[href^='/mes/work-orders/']")
        expect(wo_link).to_be_visible()
        wo_number = wo_link.inner_text()
        expect(page.locator(".flash")).to_contain_text(wo_number)
        shots("planned-work-order-firmed")
        wo_link.click()
        expect(page.locator("h1 [data-number]")).to_have_text(wo_number)
        expect(page.locator("[data-state]").first).to_have_attribute("data-state", "draft")
        expect(page.locator("dl.detail")).to_contain_text(f"PLN-{planned_wo_id}")
        wo_url = page.url

        # 6. release: the received liner lot is reserved for the order
        page.click("form[action$='/release'] button")
        expect(page.locator("[data-state]").first).to_have_attribute("data-state", "released")
        liner_row = page.locator("#components tr", has_text=LINER)
        expect(liner_row.locator("td").nth(3)).to_have_text(quantity)  # reserved
        expect(liner_row.locator("td").nth(6)).to_have_text("0")  # nothing missing
        barcode = page.locator("#operations tr[data-op] code").first.inner_text()
        shots("work-order-released")

        # 7. the operator starts and finishes the assembly on the tablet terminal
        tablet = sign_in(browser, url, server.admin, server.password, viewport={"width": 1024, "height": 768})
        tablet.goto(f"{url}/mes/terminal")
        tablet.fill("input[name=code]", barcode)
        tablet.press("input[name=code]", "Enter")
        expect(tablet).to_have_url(re.compile(r"/mes/terminal/op/\d+$"))
        expect(tablet.locator(".t-big")).to_have_text(barcode)
        tablet.click("button.go")  # 开工
        expect(tablet.locator("[data-op-state]")).to_have_text("加工中")
        tablet.fill("#finish-form input[name=qty_good]", quantity)
        tablet.click("#finish-form button[type=submit]")  # 完工
        expect(tablet.locator("#op-card")).to_have_attribute("data-state", "done")
        expect(tablet.locator("[data-good]")).to_have_text(quantity)
        Shots(tablet, shots.folder.parent / (shots.folder.name + "-tablet"))("assembly-done")
        tablet.context.close()

        # 8. the cups are booked into their lot on the work order, closing it
        page.goto(wo_url)
        form = page.locator("#complete-form")
        expect(form.locator("input[name=qty_good]")).to_have_value(quantity)  # the terminal's good quantity
        form.locator("input[name=lot]").fill(CUP_LOT)
        form.locator("input[name=close]").check()
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash")).to_contain_text("已过账")
        expect(page.locator("[data-state]").first).to_have_attribute("data-state", "done")
        expect(page.locator("#completions")).to_contain_text(CUP_LOT)
        expect(page.locator("#components tr", has_text=LINER).locator("td").nth(5)).to_have_text(quantity)
        shots("work-order-done")

        # 9. the cups are on the shelf and available
        page.goto(f"{url}/inventory/on-hand?product={CUP}&lot={CUP_LOT}")
        stock = page.locator("#on-hand tbody tr", has_text=CUP_LOT)
        expect(stock).to_have_count(1)
        expect(stock.locator("td").nth(6)).to_have_text(quantity)  # on hand
        expect(stock.locator("td").nth(8)).to_have_text(quantity)  # available
        shots("finished-stock")

        # 10. the lot trace: cup lot ← liner lot ← the purchase order from 宁波华美; and the liner lot forward
        page.goto(wo_url)
        page.click("a.btn:has-text('批次追溯')")
        expect(page.locator("#trace-lot")).to_contain_text(CUP_LOT)
        back = page.locator("#trace-backward")
        expect(back.locator(f'[data-lot="{LINER_LOT}"]')).to_be_visible()
        expect(back.locator(f'[data-lot="{LINER_LOT}"] .supplier')).to_contain_text(po_number)
        expect(back).to_contain_text("宁波华美不锈钢制品有限公司")
        expect(page.locator("#suppliers tr", has_text=LINER_LOT)).to_contain_text(po_number)
        shots("trace-cup")
        back.locator(f'a:text-is("{LINER_LOT}")').first.click()
        expect(page.locator("#trace-lot")).to_contain_text(LINER_LOT)
        expect(page.locator(f'#trace-forward [data-lot="{CUP_LOT}"]')).to_be_visible()
        shots("trace-liner")

    # what the pages showed, in the books and the plan
    qty = Decimal(quantity)
    with UnitOfWork(Actor.system(w["company"]), db=sqlite_db, readonly=True) as uow:
        liner_lot = inv.lots_by_name(uow, [(w["liner"], LINER_LOT)])[(w["liner"], LINER_LOT)]
        cup_lot = inv.lots_by_name(uow, [(w["cup"], CUP_LOT)])[(w["cup"], CUP_LOT)]
        assert inv.on_hand(uow, w["liner"], lot_id=liner_lot) == 0  # every received liner went into the cups
        assert inv.on_hand(uow, w["cup"], lot_id=cup_lot) == qty
        assert inv.available_by_product(uow)[w["cup"]] == qty
        wo = wos.by_number(uow, wo_number)
        assert (wo.state, wo.source, wo.source_ref, wo.qty_done) == ("done", "planned_order", f"PLN-{planned_wo_id}",
                                                                     qty)
        links = uow.session.execute(select(LotLink.produced_lot_id, LotLink.consumed_lot_id, LotLink.quantity).where(
            LotLink.work_order_id == wo.id)).all()
        assert [(p, c, Decimal(q)) for p, c, q in links] == [(cup_lot, liner_lot, qty)]
        planned_wo = planning.get_planned_order(uow, planned_wo_id)
        assert (planned_wo.state, planned_wo.work_order_id) == ("firmed", wo.id)
        planned_po = planning.get_planned_order(uow, int(planned_po_url.rsplit("/", 1)[1]))
        assert (planned_po.state, planned_po.supplier_id) == ("firmed", huamei)
        assert purchasing.order_summaries(uow, [planned_po.purchase_order_id])[planned_po.purchase_order_id][
            "number"] == po_number
        assert [(g.source_kind, g.source_id) for g in planning.pegging_of(uow, planned_po.id)] == \
            [("planned_order", planned_wo_id)]
    books = fm.books(fm.Plant(sqlite_db, w["company"]))
    assert books["debit"] == books["credit"]
    assert books["stock_value"] == books["gl_stock"]
