"""The OMS order page shows the ERP sales order its allocation made — number, delivery and invoice progress,
a link — and lets finance invoice the delivered order from there (开票) or go on to the shop's 批量开票."""

import re

import pytest

from opensupply.core import jobs
from opensupply.oms import allocation
from opensupply.oms import fulfilments as ful
from opensupply.oms import orders as oo
from tests import factories as f
from tests.oms.orders import factories as fo


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)


def test_order_page_links_the_erp_sales_order_and_invoices_it_once_shipped(sqlite_db):
    db = sqlite_db
    w = fo.world(db)
    oid = fo.approved(w, [("CUP", 2, "100")])
    web = f.web_client(db, f.user(db, w.company, roles=("admin",)))
    page = web.get(f"/oms/orders/{oid}").text
    assert "ERP 销售订单" in page and "分配仓库后生成" in page
    with w.uow() as uow:
        (res,) = allocation.allocate_orders(uow, [oid])
        assert res["ok"], res
        (so,) = oo.order_detail(uow, oid, buyer_data=True)["sales_orders"]
        fid = oo.order_detail(uow, oid, buyer_data=True)["fulfilments"][0]["id"]
    assert (so["delivery_status"], so["invoice_status"], so["to_invoice"]) == ("none", "none", False)
    page = web.get(f"/oms/orders/{oid}").text
    assert f'<a href="/erp/sales-orders/{so["id"]}">{so["number"]}</a>' in page
    assert f'action="/erp/sales-orders/{so["id"]}/invoice"' not in page  # nothing shipped yet

    with w.uow() as uow:
        ful.ship(uow, fid, tracking_number="ZT7788")
    page = web.get(f"/oms/orders/{oid}").text
    row = re.search(rf'<tr data-sales-order="{so["number"]}">.*?</tr>', page, re.S).group(0)
    assert "全部" in re.search(r"<td data-delivery>(.*?)</td>", row).group(1)
    assert "未开始" in re.search(r"<td data-invoice>(.*?)</td>", row).group(1)
    assert f'href="/erp/invoices/batch?customer={w.customer}&amp;preview=1"' in page
    viewer = f.web_client(db, f.user(db, w.company, roles=("sales",)))  # may see orders, may not invoice
    other = viewer.get(f"/oms/orders/{oid}").text
    assert so["number"] in other and "/invoice\"" not in other and "/erp/invoices/batch" not in other

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = web.post(f"/erp/sales-orders/{so['id']}/invoice", data={"csrf_token": token, "invoice_type": "normal"})
    assert r.status_code == 303 and "/erp/invoices/" in r.headers["location"]
    page = web.get(f"/oms/orders/{oid}").text
    row = re.search(rf'<tr data-sales-order="{so["number"]}">.*?</tr>', page, re.S).group(0)
    assert "全部" in re.search(r"<td data-invoice>(.*?)</td>", row).group(1)
    assert re.search(r'<a href="/erp/invoices/\d+">INV\d{4}-\d{6}</a>', row) and "/invoice\"" not in row
    api = f.api_client(db, f.user(db, w.company, roles=("sales",)))
    (so_json,) = api.get(f"/api/v1/oms/orders/{oid}").json()["sales_orders"]
    assert so_json["number"] == so["number"] and so_json["invoice_status"] == "full"
    assert so_json["amount_total"] == so_json["invoices"][0]["amount_total"] == "100.00"
