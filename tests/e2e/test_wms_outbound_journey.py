"""A warehouse clerk's outbound shift on a phone (390×844): a paid Taobao order is allocated; the clerk
builds and releases a wave, picks every stop in the optimized order on the PDA page (a wrong scan turns
the banner red), packs the items into a carton, weighs it, prints the shipping label (the PDF's text
shows the order number), confirms the shipment — and the OMS order reads 已发货."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from opensupply.core import jobs
from opensupply.oms.models import OmsFulfilment, OmsOrder
from opensupply.wms import waves
from tests.wms.outbound import factories as fo

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)  # the tracking push-back job is not part of this journey


def test_phone_wave_pick_pack_label_ship(live_server, sqlite_db, phone, phone_shots):
    fl = fo.floor(sqlite_db, company=live_server.company_id)
    oid, fid = fo.channel_order(fl, {"YS-CUP-350": 2, "YS-MUG-01": 1, "YS-TOWEL-01": 1})
    with fl.uow(readonly=True) as uow:
        order_number = uow.get(OmsOrder, oid).number
        channel_id = uow.get(OmsOrder, oid).channel_order_id
        ful_number = uow.get(OmsFulfilment, fid).number
    page, url = phone, live_server.url
    page.set_default_timeout(30_000)  # the shared CI machine can be slow; nothing here waits on a timer

    page.goto(f"{url}/login")
    page.fill("input[name=username]", live_server.admin)
    page.fill("input[name=password]", live_server.password)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/$"))

    # 1. build and release a wave from the ready fulfilments
    page.goto(f"{url}/wms/waves")
    expect(page.locator("[data-ready]")).to_have_text("1")
    phone_shots("waves")
    page.click("#build-wave button[type=submit]")
    page.wait_for_url(re.compile(r"/wms/waves/\d+$"))
    expect(page.locator("h1")).to_contain_text("已下发")
    expect(page.locator("svg[role=img]")).to_be_visible()
    expect(page.locator("[data-route]")).to_contain_text("S 型路线")
    wave_id = int(page.url.rsplit("/", 1)[1])
    with fl.uow(readonly=True) as uow:
        planned = [(t["bin"], t["sku"]) for t in waves.task_dicts(uow, waves.wave_tasks(uow, wave_id))]
    assert len(planned) == 3
    phone_shots("wave")

    # 2. pick on the PDA page, stop by stop, in the planned (optimized) order
    page.goto(f"{url}/wms/pda/pick")
    page.click(f"a[href='/wms/pda/pick/{wave_id}']")
    page.wait_for_url(re.compile(rf"/wms/pda/pick/{wave_id}$"))
    visited = []
    for n, (bin_code, sku) in enumerate(planned):
        expect(page.locator("[data-bin]")).to_have_text(bin_code)
        visited.append(page.locator("[data-bin]").inner_text())
        if n == 0:  # a wrong bin is refused at once, red banner
            page.fill("input[name=bin]", "A-09-09")
            page.press("input[name=bin]", "Enter")
            expect(page.locator("#pda-banner")).to_have_class(re.compile(r"\berr\b"))
            # … and a wrong item by the server, with the message in Chinese
            page.fill("input[name=bin]", bin_code)
            page.press("input[name=bin]", "Enter")
            other = next(s for s in fo.PRODUCTS if s != sku)
            page.fill("input[name=item]", other)
            page.press("input[name=item]", "Enter")
            page.press("input[name=qty]", "Enter")
            expect(page.locator("#pda-banner")).to_contain_text(f"扫描的商品 {other} 与拣货任务要求的 {sku} 不符")
            phone_shots("wrong-item")
        page.fill("input[name=bin]", bin_code)
        page.press("input[name=bin]", "Enter")
        page.fill("input[name=item]", fo.PRODUCTS[sku][1])  # the barcode, as a scanner types it
        page.press("input[name=item]", "Enter")
        page.press("input[name=qty]", "Enter")
        if n < len(planned) - 1:
            expect(page.locator("[data-progress]")).to_have_text(f"{n + 1} / {len(planned)}")
        if n == 0:
            phone_shots("picked-first")
    expect(page.locator("[data-finished]")).to_be_visible()
    assert visited == [b for b, _s in planned]
    phone_shots("wave-picked")

    # 3. pack: find the fulfilment by its number, scan the items into a carton, weigh and close it
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
    phone_shots("packed")
    page.fill("[data-package] input[name=weight_kg]", "1.35")
    page.click("[data-package] button[type=submit]")
    expect(page.locator("#waybill-form")).to_be_visible()
    page.click("#waybill-form button[type=submit]")
    expect(page.locator("[data-tracking]")).to_be_visible()
    tracking = page.locator("[data-tracking]").inner_text().strip()
    phone_shots("waybill")

    # 4. print the label: a PDF whose text shows the order, fulfilment and tracking numbers
    href = page.locator("#label-link").get_attribute("href")
    pdf = page.request.get(f"{url}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert order_number in text and channel_id in text and tracking in text and ful_number in text

    # 5. ship, and the OMS order says 已发货
    page.click("#ship-form button[type=submit]")
    expect(page.locator("[data-shipped]")).to_contain_text(tracking)
    phone_shots("shipped")
    page.goto(f"{url}/oms/orders/{oid}")
    expect(page.locator("body")).to_contain_text("已发货")
    expect(page.locator("body")).to_contain_text(tracking)
    phone_shots("oms-order")
