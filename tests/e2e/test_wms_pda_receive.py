"""Receiving on a phone that loses its network: a scan made offline is queued and sent once when the phone is
back online. (The whole receive → put away → pick → pack → ship journey is test_wms_phone_journey.py.)"""


import pytest
from playwright.sync_api import expect

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from tests import factories as f
from tests.e2e.test_first_receipt import login
from tests.erp.purchasing.factories import partner
from tests.wms.factories import warehouse_with_layout

pytestmark = pytest.mark.browser


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
