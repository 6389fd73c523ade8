"""A 淘宝 order from export file to money in the bank, across the modules, in a real browser (Chinese UI):
the seller uploads the shop's 淘宝 export (OMS), approves the order and lets the OMS pick the warehouse
(allocation → ERP sales order), the warehouse builds a wave, picks it on the PDA pages, packs and weighs the
carton, picks 中通 as the carrier, prints the label and ships (WMS); TMS prices the parcel against the rate
cards (中通 is the cheapest) and records 已签收, which the OMS order shows. Finance invoices the ERP sales
order behind the channel order and posts the day's 支付宝 bill (OMS settlement), which pays the invoice and
books the platform fee. The sales report and the OMS dashboard show the sale; afterwards the stock has left
the bins, the invoice is paid, the ledger balances and the stock valuation agrees with the books."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from opensupply.core import jobs
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.oms.connectors.taobao import TAOBAO_HEADERS
from opensupply.oms.models import OmsFulfilment, OmsFulfilmentLine, OmsOrder
from opensupply.wms import waves
from tests.e2e.test_first_receipt import login
from tests.oms.settlement.factories import alipay_bill
from tests.tms.carriers import factories as tf
from tests.wms.outbound import factories as fo

pytestmark = pytest.mark.browser

TID = "3862000000012345678"
SHOP = "云杉家居淘宝店"
# 2 cups at ¥99 and a mug at ¥49, free shipping: the buyer paid ¥247.00 (tax included)
LINES = (("YS-CUP-350", 2, "99.00"), ("YS-MUG-01", 1, "49.00"))
PAID = Decimal("247.00")
FEE = Decimal("12.35")  # 技术服务费 5 %


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)  # the tracking push-back to 淘宝 is not part of this journey


def taobao_export(path) -> str:
    """千牛 → 已卖出的宝贝 → 批量导出, one row per 子订单, in GB18030 as 淘宝 writes it."""
    paid_at = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0) - dt.timedelta(hours=1)
    created = paid_at - dt.timedelta(minutes=2)
    rows = []
    for n, (sku, qty, price) in enumerate(LINES, 1):
        rows.append({"订单编号": f'="{TID}"', "子订单编号": f"{TID}{n:02d}", "买家会员名": "tb_linxiaoyu",
                     "订单状态": "买家已付款，等待卖家发货", "订单创建时间": f"{created:%Y-%m-%d %H:%M:%S}",
                     "订单付款时间": f"{paid_at:%Y-%m-%d %H:%M:%S}", "宝贝标题": fo.PRODUCTS[sku][0], "商家编码": sku,
                     "价格": price, "购买数量": str(qty), "实付款": f"{Decimal(price) * qty:.2f}", "退款状态": "",
                     "买家应付货款": f"{PAID:.2f}", "买家应付邮费": "0.00", "买家实际支付金额": f"{PAID:.2f}",
                     "收货人姓名": "林小雨", "收货地址": "北京 北京市 朝阳区 建国路 88 号 SOHO 现代城 2 号楼 1503",
                     "联系手机": "'13911112222", "运送方式": "快递", "店铺名称": SHOP})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=TAOBAO_HEADERS, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode("gb18030"))
    return str(path)


def daily_alipay_bill(day: dt.date) -> bytes:
    """The 支付宝账务明细 of one day: the buyer's payment for the order and the 技术服务费 taken for it."""
    bill = alipay_bill([{"tid": TID, "type": "交易付款", "income": f"{PAID:.2f}", "at": f"{day} 11:02:00"},
                        {"type": "技术服务费", "expense": f"{FEE:.2f}", "at": f"{day} 11:02:05",
                         "remark": f"淘宝佣金扣款，淘宝订单号：{TID}"}], month=f"{day:%Y-%m}").decode("gbk")
    end = day + dt.timedelta(days=1)
    period = f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{end:%Y年%m月%d日} 00:00:00]"
    return re.sub(r"^#起始日期.*$", period, bill, count=1, flags=re.M).encode("gbk")


def test_taobao_export_to_cash_across_oms_wms_tms_erp(live_server, sqlite_db, page, shots, tmp_path):
    url, company = live_server.url, live_server.company_id
    page.set_default_timeout(30_000)  # a loaded CI machine; every wait below is on something the page shows
    fl = fo.floor(sqlite_db, {"YS-CUP-350": {"A-01-02": 20}, "YS-MUG-01": {"A-04-03": 10}}, company=company)
    tf.zhejiang_warehouse(sqlite_db, company)
    zto = tf.carrier(sqlite_db, company, "ZTO", "中通快递")
    tf.zto_card(sqlite_db, company, zto)
    tf.sf_card(sqlite_db, company, tf.carrier(sqlite_db, company, "SF", "顺丰速运"))
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    login(page, live_server)

    # 0. the numbers before: no sales this month
    page.goto(f"{url}/erp/reports/sales?by=channel")
    expect(page.locator("h1")).to_have_text("销售报表")
    expect(page.locator("table.list tbody")).to_contain_text("没有记录")
    shots("sales-before")

    # 1. OMS: upload the 淘宝 export, preview, import
    page.goto(f"{url}/oms/imports/new")
    expect(page.locator("h1")).to_have_text("导入订单")
    page.select_option("select[name=channel]", "taobao")
    page.fill("input[name=shop_name]", SHOP)
    page.set_input_files("input[name=file]", taobao_export(tmp_path / "淘宝订单导出.csv"))
    page.click("form[action='/oms/imports/preview'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("导入预览")
    expect(page.get_by_test_id("preview-orders")).to_have_text("1")
    expect(page.locator("table.list").last).to_contain_text(TID)
    shots("import-preview")
    page.click("text=确认导入")
    page.wait_for_url(re.compile(r"/oms/imports/[0-9a-f]{32}$"))
    expect(page.get_by_test_id("created")).to_have_text("1")
    expect(page.get_by_test_id("rejected")).to_have_text("0")
    shots("imported")

    # 2. the order: approve it, then allocate (the OMS picks the stocked warehouse and makes the ERP sales order)
    page.goto(f"{url}/oms/orders")
    page.locator("table.list tbody tr", has_text=TID).locator("a").first.click()
    page.wait_for_url(re.compile(r"/oms/orders/\d+$"))
    order_url = page.url
    oid = int(order_url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_contain_text("待审核")
    expect(page.locator("dl.detail")).to_contain_text("¥247.00")
    page.click("form[action$='/approve'] button")
    expect(page.locator("h1")).to_contain_text("已审核")
    page.click("form[action$='/allocate'] button")
    expect(page.locator("h1")).to_contain_text("已分配")
    shots("allocated")
    with fl.uow(readonly=True) as uow:
        order = uow.get(OmsOrder, oid)
        order_number = order.number
        fid, so_id = uow.session.execute(select(OmsFulfilmentLine.fulfilment_id, OmsFulfilmentLine.sales_order_id)
                                         .where(OmsFulfilmentLine.order_id == oid)).first()
        f = uow.get(OmsFulfilment, fid)
        ful_number = f.number
        assert f.warehouse_id == fl.wh.warehouse_id  # the warehouse that has the stock
        assert inv.reserved(uow, fl.products["YS-CUP-350"], fl.wh.loc("A-01-02")) == 2

    # 3. WMS: a wave of the allocated fulfilment, released for picking
    page.goto(f"{url}/wms/waves")
    expect(page.locator("[data-ready]")).to_have_text("1")
    page.click("#build-wave button[type=submit]")
    page.wait_for_url(re.compile(r"/wms/waves/\d+$"))
    expect(page.locator("h1")).to_contain_text("已下发")
    wave_id = int(page.url.rsplit("/", 1)[1])
    with fl.uow(readonly=True) as uow:
        planned = [(t["bin"], t["sku"]) for t in waves.task_dicts(uow, waves.wave_tasks(uow, wave_id))]
    assert sorted(planned) == [("A-01-02", "YS-CUP-350"), ("A-04-03", "YS-MUG-01")]
    shots("wave")

    # 4. PDA: pick every stop by scanning bin and barcode
    page.goto(f"{url}/wms/pda/pick")
    page.click(f"a[href='/wms/pda/pick/{wave_id}']")
    page.wait_for_url(re.compile(rf"/wms/pda/pick/{wave_id}$"))
    for n, (bin_code, sku) in enumerate(planned):
        expect(page.locator("[data-bin]")).to_have_text(bin_code)
        page.fill("input[name=bin]", bin_code)
        page.press("input[name=bin]", "Enter")
        page.fill("input[name=item]", fo.PRODUCTS[sku][1])
        page.press("input[name=item]", "Enter")
        page.press("input[name=qty]", "Enter")
        if n < len(planned) - 1:
            expect(page.locator("[data-progress]")).to_have_text(f"{n + 1} / {len(planned)}")
    expect(page.locator("[data-finished]")).to_be_visible()
    shots("picked")

    # 5. pack: scan the fulfilment, the items, weigh and seal the carton
    page.goto(f"{url}/wms/pack")
    page.fill("input[name=code]", ful_number)
    page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(rf"/wms/pack/{fid}$"))
    expect(page.locator("#pack-head")).to_contain_text(TID)
    for sku, qty, _price in LINES:
        page.fill("#pack-scan input[name=item]", fo.PRODUCTS[sku][1])
        page.press("#pack-scan input[name=item]", "Enter")
        page.fill("#pack-scan input[name=qty]", str(qty))
        page.press("#pack-scan input[name=qty]", "Enter")
        expect(page.locator(f"#pack-lines tr[data-sku='{sku}'] [data-packed]")).to_have_text(str(qty))
    page.fill("[data-package] input[name=weight_kg]", "1.2")
    page.click("[data-package] button[type=submit]")
    # the page script reloads after each answer: wait for the sealed carton before using the waybill form
    expect(page.get_by_text("已封箱 · 1.2 kg")).to_be_visible()
    page.wait_for_load_state()

    # 6. carrier and label: 中通 for the waybill, the label names the carrier, the order and the waybill
    page.select_option("#waybill-form select[name=carrier_id]", label="中通快递")
    page.click("#waybill-form button[type=submit]")
    expect(page.locator("[data-tracking]")).to_be_visible()
    tracking = page.locator("[data-tracking]").inner_text().strip()
    shots("packed-label")
    pdf = page.request.get(f"{url}{page.locator('#label-link').get_attribute('href')}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    label = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert tracking in label and order_number in label and TID in label and "中通快递" in label
    page.wait_for_load_state()
    page.click("#ship-form button[type=submit]")
    expect(page.locator("[data-shipped]")).to_contain_text(tracking)
    shots("shipped")

    # 7. TMS: the shipment the warehouse handed over, priced against both cards; the parcel is delivered
    page.goto(f"{url}/tms/shipments")
    page.locator("table.list tbody tr", has_text=ful_number).locator("a").first.click()
    page.wait_for_url(re.compile(r"/tms/shipments/\d+$"))
    expect(page.locator("h1")).to_contain_text("运输中")
    expect(page.locator("dl.detail")).to_contain_text(tracking)
    cheapest = page.locator("table.quotes tr[data-cheapest]")
    expect(cheapest).to_contain_text("中通快递")
    expect(cheapest).to_contain_text("已选")
    expect(page.locator("table.quotes tbody tr", has_text="顺丰速运")).to_be_visible()
    shots("tms-quotes")
    page.select_option("form[action$='/events'] select[name=status]", "delivered")
    page.fill("form[action$='/events'] input[name=location]", "北京朝阳区建国路")
    page.click("button:has-text('记录跟踪事件')")
    expect(page.locator("h1")).to_contain_text("已签收")
    expect(page.locator("ol.timeline")).to_contain_text("北京朝阳区建国路")
    shots("delivered")

    # the OMS order follows: 已签收, with the waybill on it
    page.goto(order_url)
    expect(page.locator("h1")).to_contain_text("已签收")
    expect(page.locator("body")).to_contain_text(tracking)
    shots("oms-delivered")

    # 8. ERP: the sales order behind the channel order is invoiced (from the fulfilment's link)
    page.goto(f"{url}/oms/fulfilments/{fid}")
    page.click(f"a[href='/erp/sales-orders/{so_id}']")
    page.wait_for_url(re.compile(rf"/erp/sales-orders/{so_id}$"))
    page.click("form[action$='/invoice'] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("已开票")
    page.wait_for_url(re.compile(r"/erp/invoices/\d+$"))
    invoice_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("body")).to_contain_text("¥247.00")
    shots("invoice")

    # 9. the platform pays: the day's 支付宝 bill is uploaded, matches without exceptions and is posted
    page.goto(f"{url}/oms/settlements")
    expect(page.locator("h1")).to_have_text("平台对账")
    page.select_option("form[enctype] select[name=shop]", label=f"{SHOP} (taobao)")
    page.set_input_files("input[name=file]", files=[{"name": f"20880512402512820156_{today:%Y%m%d}_账务明细.csv",
                                                    "mimeType": "text/csv", "buffer": daily_alipay_bill(today)}])
    page.click("form[enctype] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("对账单已导入")
    expect(page.locator("h2", has_text="对账异常")).to_contain_text("(0)")
    shots("settlement")
    page.click("button:has-text('过账')")
    expect(page.locator(".flash-success")).to_contain_text("已过账")
    expect(page.locator("dl.detail")).to_contain_text("已过账")
    shots("settlement-posted")

    page.goto(f"{url}/erp/invoices/{invoice_id}")
    expect(page.locator("h1")).to_contain_text("已收清")
    expect(page.locator("dl.detail")).to_contain_text("¥247.00 / ¥0.00")
    shots("invoice-paid")

    # 10. the numbers after: 淘宝 sales on the sales report, the order delivered on the OMS dashboard
    page.goto(f"{url}/erp/reports/sales?by=channel")
    row = page.locator("table.list tbody tr", has_text="淘宝")
    expect(row).to_contain_text("247.00")
    expect(row).to_contain_text("218.58")  # untaxed: 247 / 1.13
    expect(page.locator("#report-chart canvas")).to_have_count(1)
    shots("sales-after")
    page.goto(f"{url}/oms/dashboard")
    expect(page.locator(".toolbar a[href='/oms/orders?status=delivered'] strong")).to_have_text("1")
    expect(page.locator("#orders-chart canvas")).to_have_count(1)
    shots("oms-dashboard")
    page.goto(f"{url}/accounting/reports/income-statement")
    expect(page.locator("tr", has_text="营业收入").first).to_contain_text("218.58")
    expect(page.locator("tr", has_text="营业成本").first).to_contain_text("30.00")
    shots("income-statement")

    # 11. the owner's dashboard: this month's 淘宝 sales, its margin, and the chart
    page.goto(f"{url}/dashboards")
    page.wait_for_url(re.compile(r"/dashboards/owner"))
    expect(page.locator("h1")).to_have_text("老板看板")
    expect(page.locator("#sales-by-channel tbody tr", has_text="淘宝")).to_contain_text("218.58")
    expect(page.locator("[data-kpi=revenue] .kpi-value")).to_contain_text("218.58")
    expect(page.locator("[data-kpi=gross_margin] .kpi-value")).to_contain_text("188.58")  # less the 30.00 营业成本
    expect(page.locator("#sales_by_channel-chart canvas")).to_have_count(1)
    shots("owner-dashboard")

    # across the modules, in the database
    with fl.uow(readonly=True) as uow:
        assert inv.on_hand(uow, fl.products["YS-CUP-350"]) == 18  # 20 − 2 shipped
        assert inv.on_hand(uow, fl.products["YS-MUG-01"]) == 9
        assert inv.on_hand(uow, fl.products["YS-CUP-350"], fl.wh.pack.location_id) == 0
        assert uow.get(OmsOrder, oid).status == "delivered"
        (invoice,) = sales.invoices_of(uow, so_id)
        assert invoice.id == invoice_id and invoice.amount_total == PAID
        assert sales.open_amount(invoice) == 0
    tb = page.request.get(f"{url}/api/v1/accounting/trial-balance").json()
    assert Decimal(tb["total_debit"]) == Decimal(tb["total_credit"]) > 0
    val = page.request.get(f"{url}/api/v1/inventory/valuation").json()
    assert Decimal(val["total_value"]) == Decimal(val["gl_inventory_balance"])
    assert not page.js_errors
