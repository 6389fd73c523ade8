"""Back-office pages: 收货上架 with QC release, 补货, 循环盘点 (blind for counters, approval for the
lead, once), and the reports with their XLSX export."""

import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from opensupply.wms import counts, inbound
from tests import factories as f
from tests.wms.inbound import factories as fi

D = Decimal


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_inbound_page_lists_orders_tasks_and_releases_qc(db):
    s = fi.setup(db)
    po_id = s.order([("cup", "6"), ("mug", "3")])
    with s.uow() as uow:
        inbound.receive(uow, po_id, s.wh.warehouse_id, [inbound.ReceiveLine("YS-CUP-350", "4"),
                                                        inbound.ReceiveLine("YS-MUG-01", "3", qc=True)])
    web = f.web_client(db, f.user(db, s.company, roles=("warehouse",)))
    page = web.get("/wms/inbound")
    assert page.status_code == 200 and "质检待检" in page.text and "YS-MUG-01" in page.text
    assert "YS-CUP-350" in page.text and "扫描收货" in page.text
    xlsx = web.get("/wms/inbound", params={"format": "xlsx", "state": ""})
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert rows[0][1] == "商品" and rows[1][1] == "YS-CUP-350"
    token = _csrf(page.text)
    r = web.post("/wms/inbound/qc-release", data={"csrf_token": token, "product_id": str(s.products["mug"]),
                                                  "quantity": "1", "decision": "fail", "reason": ""})
    assert r.status_code == 303 and s.on_hand("mug", "QC") == 3  # a failure needs a reason
    r = web.post("/wms/inbound/qc-release", data={"csrf_token": token, "product_id": str(s.products["mug"]),
                                                  "quantity": "3", "decision": "pass"})
    assert r.status_code == 303
    assert "YS-MUG-01" in web.get("/wms/inbound").text.split("上架任务</h2>")[-1]  # a putaway task now


def test_counts_pages_blind_for_counters_and_approved_once_by_the_lead(db):
    s = fi.setup(db)
    fi.stock(s, "cup", "A-01-01", 9)
    counter = f.web_client(db, fi.clerk(s, "counter1").username)
    page = counter.get("/wms/counts")
    assert page.status_code == 200
    r = counter.post("/wms/counts", data={"csrf_token": _csrf(page.text), "bins": "A-01-01", "blind": "1",
                                          "mode": "manual"})
    assert r.status_code == 303
    url = r.headers["location"]
    detail = counter.get(url)
    assert "账面" not in detail.text and "审核差异" not in detail.text
    r = counter.post(url + "/entries", data={"csrf_token": _csrf(detail.text), "bin": "A-01-01",
                                             "item": "YS-CUP-350", "qty": "7"})
    assert r.status_code == 303
    assert "账面" not in counter.get(url).text  # still blind once everything is counted
    assert counter.post(url + "/approve", data={"csrf_token": _csrf(detail.text), "reason": "x"}).status_code == 403
    lead = f.web_client(db, fi.clerk(s, "lead1", approve=True).username)
    detail = lead.get(url)
    assert "账面" in detail.text and "-2" in detail.text
    token = _csrf(detail.text)
    assert lead.post(url + "/approve", data={"csrf_token": token, "reason": "丢失"}).status_code == 303
    assert "已审核" in lead.get(url).text and s.on_hand("cup", "A-01-01") == 7
    again = lead.post(url + "/approve", data={"csrf_token": token, "reason": "丢失"})
    assert again.status_code == 409 and "不能重复审核" in again.text
    export = lead.get("/wms/counts", params={"format": "csv"})
    assert export.status_code == 200 and "已审核" in export.content.decode("utf-8-sig")
    with s.uow(readonly=True) as uow:
        assert counts.list_counts(uow)[1] == 1


def test_replenishment_and_reports_pages(db):
    s = fi.setup(db)
    s.set_bin("A-01-01", min_qty="2", max_qty="10", fixed_product_sku="YS-CUP-350")
    s.set_bin("A-02-01", bin_type="reserve")
    fi.stock(s, "cup", "A-02-01", 30)
    web = f.web_client(db, f.user(db, s.company, roles=("warehouse",)))
    page = web.get("/wms/replenishment")
    assert page.status_code == 200 and "A-01-01" in page.text
    r = web.post("/wms/replenishment/generate", data={"csrf_token": _csrf(page.text)})
    assert r.status_code == 303
    page = web.get("/wms/replenishment")
    task_id = re.search(r'/wms/replenishment/(\d+)/confirm', page.text).group(1)
    assert web.post(f"/wms/replenishment/{task_id}/confirm", data={"csrf_token": _csrf(page.text)}).status_code == 303
    assert s.on_hand("cup", "A-01-01") == 10
    for kind in ("inout", "ageing", "utilisation", "productivity"):
        r = web.get("/wms/reports", params={"report": kind})
        assert r.status_code == 200 and "wms-chart-options" in r.text, kind
    inout = web.get("/wms/reports", params={"report": "inout", "group": "sku"})
    assert "YS-CUP-350" in inout.text and "按商品" in inout.text
    xlsx = web.get("/wms/reports", params={"report": "ageing", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert rows[0][0] == "商品" and rows[1][0] == "YS-CUP-350" and rows[1][3] == "30"


def test_an_open_putaway_task_can_be_cancelled_from_the_inbound_page(db):
    s = fi.setup(db)
    po_id = s.order([("cup", "2")])
    with s.uow() as uow:
        (task,) = inbound.receive(uow, po_id, s.wh.warehouse_id, [inbound.ReceiveLine("YS-CUP-350", "2")]).tasks
        task_id = task.id
    web = f.web_client(db, f.user(db, s.company, roles=("warehouse",)))
    page = web.get("/wms/inbound")
    assert f"/wms/inbound/tasks/{task_id}/cancel" in page.text
    r = web.post(f"/wms/inbound/tasks/{task_id}/cancel", data={"csrf_token": _csrf(page.text), "next": "/wms/inbound"})
    assert r.status_code == 303
    assert f"/wms/inbound/tasks/{task_id}/cancel" not in web.get("/wms/inbound").text
    again = web.post(f"/wms/inbound/tasks/{task_id}/cancel", data={"csrf_token": _csrf(page.text)})
    assert again.status_code == 303 and s.on_hand("cup", "RCV") == 2


def test_counts_are_generated_by_abc_frequency_from_the_page(db):
    s = fi.setup(db)
    fi.stock(s, "cup", "A-01-01", 5)
    web = f.web_client(db, f.user(db, s.company, roles=("warehouse",)))
    page = web.get("/wms/counts")
    assert 'name="freq_a" value="30"' in page.text and 'name="freq_c" value="365"' in page.text
    bad = web.post("/wms/counts", data={"csrf_token": _csrf(page.text), "mode": "abc", "freq_c": "0"})
    assert bad.status_code == 303 and "正整数" in web.get("/wms/counts").text
    r = web.post("/wms/counts", data={"csrf_token": _csrf(page.text), "mode": "abc", "blind": "1", "freq_c": "7"})
    assert r.status_code == 303
    listed = web.get("/wms/counts").text
    assert "已按 ABC 频率生成 1 张盘点单" in listed and "C 类商品循环盘点" in listed
