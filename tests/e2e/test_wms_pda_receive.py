"""On a phone (390×844) a warehouse worker receives a purchase order by scanning — a wrong item is
refused with a red banner in Chinese — completes the receipt and puts the goods away by scanning
the suggested bin; the stock is then in that bin."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.inventory import service as inv
from opensupply.wms.models import WmsTask
from tests import factories as f
from tests.e2e.test_first_receipt import login
from tests.erp.purchasing.factories import partner
from tests.wms.factories import warehouse_with_layout

pytestmark = pytest.mark.browser


def test_receive_a_po_by_scanning_and_put_it_away_on_a_phone(live_server, sqlite_db, phone, phone_shots):
    db, company = sqlite_db, live_server.company_id
    wh = warehouse_with_layout(db, company, aisles=2, bins_per_side=4, capacity_units=Decimal(50))
    f.product(db, company, "YS-CUP-350", name="不锈钢保温杯 350ml", barcode="6901234567892")
    f.product(db, company, "YS-MUG-01", name="陶瓷马克杯")
    supplier = partner(db, company, "S-HD", "永康市宏达不锈钢制品厂")
    with UnitOfWork(Actor.system(company), db=db) as uow:
        po = purchasing.create_order(uow, supplier, [purchasing.OrderLineIn("YS-CUP-350", "6", "30")])
        purchasing.confirm_order(uow, po.id)
        number = po.number
    errors: list[str] = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    banner = phone.locator("#pda-banner")

    login(phone, live_server)
    phone.goto(f"{live_server.url}/wms/pda")
    phone_shots("pda-home")
    phone.click("a[data-flow=receive]")
    phone.fill("input[name=po]", number)
    phone.press("input[name=po]", "Enter")
    expect(phone).to_have_url(re.compile(r"/wms/pda/receive/\d+"))
    expect(banner).to_contain_text(f"采购单 {number}：请扫描商品")
    phone_shots("po-scanned")

    item = phone.locator("input[name=item]")
    expect(item).to_be_focused()
    item.fill("YS-MUG-01")  # not on this order
    item.press("Enter")
    expect(phone.locator("input[name=qty]")).to_be_focused()
    phone.press("input[name=qty]", "Enter")
    expect(banner).to_have_class(re.compile(r"\berr\b"))
    expect(banner).to_have_text(f"扫描的商品 YS-MUG-01 不在采购单 {number} 中")
    phone_shots("wrong-item-refused")

    item.fill("6901234567892")
    item.press("Enter")
    phone.fill("input[name=qty]", "4")
    phone.press("input[name=qty]", "Enter")
    expect(banner).to_have_class(re.compile(r"\bok\b"))
    expect(phone.locator("#pda-work [data-sku=YS-CUP-350] [data-scanned]")).to_have_text("4 / 6")
    item.fill("YS-CUP-350")
    item.press("Enter")
    phone.fill("input[name=qty]", "2")
    phone.press("input[name=qty]", "Enter")
    expect(phone.locator("#pda-work [data-sku=YS-CUP-350] [data-scanned]")).to_have_text("6 / 6")
    phone_shots("all-scanned")

    phone.click("text=完成收货")
    expect(phone).to_have_url(re.compile(r"/wms/pda/putaway"))
    expect(banner).to_contain_text("生成 1 个上架任务")
    phone_shots("receipt-posted")
    phone.click("#putaway-tasks a")
    expect(phone).to_have_url(re.compile(r"/wms/pda/putaway/\d+"))
    suggested = phone.locator("#suggested-bin").inner_text().strip()
    assert re.fullmatch(r"A-0\d-0\d", suggested)

    phone.fill("input[name=item]", "YS-MUG-01")  # the wrong SKU for this task
    phone.press("input[name=item]", "Enter")
    phone.fill("input[name=bin]", suggested)
    phone.press("input[name=bin]", "Enter")
    phone.press("input[name=qty]", "Enter")
    expect(banner).to_have_text("扫描的商品 YS-MUG-01 与任务要求的 YS-CUP-350 不符")
    expect(banner).to_have_class(re.compile(r"\berr\b"))
    phone_shots("wrong-sku-refused")

    phone.fill("input[name=item]", "6901234567892")
    phone.press("input[name=item]", "Enter")
    phone.fill("input[name=bin]", suggested)
    phone.press("input[name=bin]", "Enter")
    phone.press("input[name=qty]", "Enter")
    expect(phone).to_have_url(re.compile(r"/wms/pda/putaway\?"))
    expect(banner).to_contain_text(f"已上架 6 件到 {suggested}")
    expect(phone.locator("#putaway-tasks")).to_contain_text("没有待上架任务")
    phone_shots("put-away")

    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        product = inv.resolve_product(uow, "YS-CUP-350")
        assert inv.on_hand(uow, product.id, wh.bins[suggested].location_id) == 6
        assert inv.on_hand(uow, product.id, wh.dock.location_id) == 0
        assert uow.session.query(WmsTask).filter_by(company_id=company, kind="putaway", state="done").count() == 1
    assert errors == []


def test_a_scan_made_offline_is_sent_when_the_phone_is_back_online_and_counted_once(live_server, sqlite_db, phone,
                                                                                     phone_shots):
    from opensupply.wms.models import WmsScan

    db, company = sqlite_db, live_server.company_id
    warehouse_with_layout(db, company, aisles=1, bins_per_side=2)
    f.product(db, company, "YS-CUP-350", name="不锈钢保温杯 350ml", barcode="6901234567892")
    supplier = partner(db, company, "S-HD", "永康市宏达不锈钢制品厂")
    with UnitOfWork(Actor.system(company), db=db) as uow:
        po = purchasing.create_order(uow, supplier, [purchasing.OrderLineIn("YS-CUP-350", "6", "30")])
        purchasing.confirm_order(uow, po.id)
        po_id = po.id
    login(phone, live_server)
    phone.goto(f"{live_server.url}/wms/pda/receive/{po_id}")
    phone.context.set_offline(True)
    phone.fill("input[name=item]", "YS-CUP-350")
    phone.press("input[name=item]", "Enter")
    phone.fill("input[name=qty]", "3")
    phone.press("input[name=qty]", "Enter")
    expect(phone.locator("#pda-banner")).to_contain_text("网络中断")
    expect(phone.locator("#pda-offline")).to_contain_text("1")
    phone_shots("offline-queued")
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#pda-banner")).to_contain_text("已扫描 YS-CUP-350")
    expect(phone.locator("#pda-offline")).to_be_hidden()
    phone.reload()
    expect(phone.locator("#pda-work [data-sku=YS-CUP-350] [data-scanned]")).to_have_text("3 / 6")
    phone_shots("resent-once")
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        assert uow.session.query(WmsScan).filter_by(company_id=company, flow="receive").count() == 1
