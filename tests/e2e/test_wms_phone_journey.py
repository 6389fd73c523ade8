"""One warehouse shift on a phone (390×844), end to end: a purchase order of cups is received by scanning
(a wrong item is refused with a red banner in Chinese) and put away by scanning the suggested bin; a paid
Taobao order for those cups (and two other items) is allocated; the clerk builds and releases a wave, picks
every stop in the optimized order (a wrong bin and a wrong item are refused), packs and weighs the carton,
prints the shipping label (the PDF's text shows the order number), ships — and the OMS order reads 已发货."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from opensupply.core import jobs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.inventory import service as inv
from opensupply.oms.models import OmsFulfilment, OmsOrder
from opensupply.wms import waves
from tests.e2e.test_first_receipt import login
from tests.erp.purchasing.factories import partner
from tests.wms.outbound import factories as fo

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)  # the tracking push-back job is not part of this journey


def receive_and_put_away(page, url: str, po_number: str, shots) -> str:
    """Scan the PO, a wrong item, the right barcode; complete the receipt and put the cups away; the bin."""
    banner = page.locator("#pda-banner")
    page.goto(f"{url}/wms/pda")
    page.click("a[data-flow=receive]")
    page.fill("input[name=po]", po_number)
    page.press("input[name=po]", "Enter")
    expect(page).to_have_url(re.compile(r"/wms/pda/receive/\d+"))
    expect(banner).to_contain_text(f"采购单 {po_number}：请扫描商品")
    item = page.locator("input[name=item]")
    item.fill("YS-MUG-01")  # not on this order
    item.press("Enter")
    page.press("input[name=qty]", "Enter")
    expect(banner).to_have_class(re.compile(r"\berr\b"))
    expect(banner).to_have_text(f"扫描的商品 YS-MUG-01 不在采购单 {po_number} 中")
    shots("receive-wrong-item")
    item.fill(fo.PRODUCTS["YS-CUP-350"][1])
    item.press("Enter")
    page.fill("input[name=qty]", "6")
    page.press("input[name=qty]", "Enter")
    expect(page.locator("#pda-work [data-sku=YS-CUP-350] [data-scanned]")).to_have_text("6 / 6")
    page.click("text=完成收货")
    expect(page).to_have_url(re.compile(r"/wms/pda/putaway"))
    expect(banner).to_contain_text("生成 1 个上架任务")
    page.click("#putaway-tasks a")
    suggested = page.locator("#suggested-bin").inner_text().strip()
    assert re.fullmatch(r"A-0\d-0\d", suggested)
    page.fill("input[name=item]", "YS-MUG-01")  # the wrong SKU for this task
    page.press("input[name=item]", "Enter")
    page.fill("input[name=bin]", suggested)
    page.press("input[name=bin]", "Enter")
    page.press("input[name=qty]", "Enter")
    expect(banner).to_have_text("扫描的商品 YS-MUG-01 与任务要求的 YS-CUP-350 不符")
    page.fill("input[name=item]", fo.PRODUCTS["YS-CUP-350"][1])
    page.press("input[name=item]", "Enter")
    page.fill("input[name=bin]", suggested)
    page.press("input[name=bin]", "Enter")
    page.press("input[name=qty]", "Enter")
    expect(banner).to_contain_text(f"已上架 6 件到 {suggested}")
    shots("put-away")
    return suggested


def pick_wave(page, url: str, fl, shots) -> None:
    page.goto(f"{url}/wms/waves")
    expect(page.locator("[data-ready]")).to_have_text("1")
    page.click("#build-wave button[type=submit]")
    page.wait_for_url(re.compile(r"/wms/waves/\d+$"))
    expect(page.locator("h1")).to_contain_text("已下发")
    expect(page.locator("[data-route]")).to_contain_text("S 型路线")
    wave_id = int(page.url.rsplit("/", 1)[1])
    with fl.uow(readonly=True) as uow:
        planned = [(t["bin"], t["sku"]) for t in waves.task_dicts(uow, waves.wave_tasks(uow, wave_id))]
    assert len(planned) == 3
    shots("wave")
    page.goto(f"{url}/wms/pda/pick")
    page.click(f"a[href='/wms/pda/pick/{wave_id}']")
    page.wait_for_url(re.compile(rf"/wms/pda/pick/{wave_id}$"))
    visited = []
    for n, (bin_code, sku) in enumerate(planned):
        expect(page.locator("[data-bin]")).to_have_text(bin_code)
        visited.append(page.locator("[data-bin]").inner_text())
        if n == 0:  # a wrong bin is refused at once, then a wrong item by the server, in Chinese
            page.fill("input[name=bin]", "A-09-09")
            page.press("input[name=bin]", "Enter")
            expect(page.locator("#pda-banner")).to_have_class(re.compile(r"\berr\b"))
            page.fill("input[name=bin]", bin_code)
            page.press("input[name=bin]", "Enter")
            other = next(s for s in fo.PRODUCTS if s != sku)
            page.fill("input[name=item]", other)
            page.press("input[name=item]", "Enter")
            page.press("input[name=qty]", "Enter")
            expect(page.locator("#pda-banner")).to_contain_text(f"扫描的商品 {other} 与拣货任务要求的 {sku} 不符")
            shots("pick-wrong-item")
        page.fill("input[name=bin]", bin_code)
        page.press("input[name=bin]", "Enter")
        page.fill("input[name=item]", fo.PRODUCTS[sku][1])
        page.press("input[name=item]", "Enter")
        page.press("input[name=qty]", "Enter")
        if n < len(planned) - 1:
            expect(page.locator("[data-progress]")).to_have_text(f"{n + 1} / {len(planned)}")
    expect(page.locator("[data-finished]")).to_be_visible()
    assert visited == [b for b, _s in planned]  # walked in the optimized order
    shots("wave-picked")


def pack_label_ship(page, url: str, fid: int, ful_number: str, order_number: str, channel_id: str, shots) -> str:
    page.click("a[href='/wms/pack']")
    page.fill("input[name=code]", ful_number)
    page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(rf"/wms/pack/{fid}$"))
    expect(page.locator("#pack-head")).to_contain_text(order_number)
    for sku, qty in (("YS-CUP-350", "2"), ("YS-MUG-01", "1"), ("YS-TOWEL-01", "1")):
        page.fill("#pack-scan input[name=item]", fo.PRODUCTS[sku][1])
        page.press("#pack-scan input[name=item]", "Enter")
        page.fill("#pack-scan input[name=qty]", qty)
        page.press("#pack-scan input[name=qty]", "Enter")
        expect(page.locator(f"#pack-lines tr[data-sku='{sku}'] [data-packed]")).to_have_text(qty)
    page.fill("[data-package] input[name=weight_kg]", "1.35")
    page.click("[data-package] button[type=submit]")
    # the page script reloads after each answer: wait for the sealed carton before asking for the waybill,
    # or (on a busy machine) the click lands on the page that is being replaced
    expect(page.get_by_text("已封箱 · 1.35 kg")).to_be_visible()
    page.wait_for_load_state()
    page.click("#waybill-form button[type=submit]")
    expect(page.locator("[data-tracking]")).to_be_visible(timeout=15_000)
    tracking = page.locator("[data-tracking]").inner_text().strip()
    shots("packed")
    href = page.locator("#label-link").get_attribute("href")
    pdf = page.request.get(f"{url}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert order_number in text and channel_id in text and tracking in text and ful_number in text
    page.click("#ship-form button[type=submit]")
    expect(page.locator("[data-shipped]")).to_contain_text(tracking)
    shots("shipped")
    return tracking


def test_receive_put_away_then_pick_pack_label_ship_on_a_phone(live_server, sqlite_db, phone, phone_shots):
    page, url = phone, live_server.url
    page.set_default_timeout(30_000)  # the shared CI machine can be slow; nothing here waits on a timer
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # no cups in stock yet: the order can only ship what the PO brings in
    fl = fo.floor(sqlite_db, {"YS-TOWEL-01": {"A-02-07": 20}, "YS-MUG-01": {"A-04-03": 20}},
                  company=live_server.company_id)
    supplier = partner(sqlite_db, fl.company, "S-HD", "永康市宏达不锈钢制品厂")
    with fl.uow() as uow:
        po = purchasing.create_order(uow, supplier, [purchasing.OrderLineIn("YS-CUP-350", "6", "30")])
        purchasing.confirm_order(uow, po.id)
        po_number = po.number

    login(page, live_server)
    bin_code = receive_and_put_away(page, url, po_number, phone_shots)
    with UnitOfWork(Actor.system(fl.company), db=sqlite_db, readonly=True) as uow:
        assert inv.on_hand(uow, fl.products["YS-CUP-350"], fl.wh.loc(bin_code)) == 6

    oid, fid = fo.channel_order(fl, {"YS-CUP-350": 2, "YS-MUG-01": 1, "YS-TOWEL-01": 1})
    with fl.uow(readonly=True) as uow:
        order_number, channel_id = uow.get(OmsOrder, oid).number, uow.get(OmsOrder, oid).channel_order_id
        ful_number = uow.get(OmsFulfilment, fid).number
    pick_wave(page, url, fl, phone_shots)
    tracking = pack_label_ship(page, url, fid, ful_number, order_number, channel_id, phone_shots)

    page.goto(f"{url}/oms/orders/{oid}")
    expect(page.locator("body")).to_contain_text("已发货")
    expect(page.locator("body")).to_contain_text(tracking)
    phone_shots("oms-order")
    with fl.uow(readonly=True) as uow:
        assert inv.on_hand(uow, fl.products["YS-CUP-350"]) == 4  # 6 received, 2 shipped
    assert errors == []
