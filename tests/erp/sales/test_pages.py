"""The order-to-cash pages: a sales person enters and ships an order, the accountant invoices it,
registers the money and follows up what is overdue — lists filter, export and paginate."""

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from opensupply.erp.sales import service as svc
from tests import factories as f
from tests.erp.sales import factories as fs


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_sales_person_enters_confirms_and_ships_an_order_in_the_browser(db):
    s = fs.shop(db, credit_limit="500")
    web = f.web_client(db, f.user(db, s.company, roles=("sales",)))
    form = web.get("/erp/sales-orders/new")
    assert form.status_code == 200 and "新建销售订单" in form.text and "杭州佳源商贸有限公司" in form.text
    token = _csrf(form.text)
    r = web.post("/erp/sales-orders/new", data={
        "csrf_token": token, "customer": str(s.customer), "channel": "direct", "price_mode": "excl",
        "lines-0-product": "YS-CUP-350", "lines-0-quantity": "12", "lines-0-unit_price": "79", "lines-0-tax_rate": "13",
        "lines-1-product": "NOPE", "lines-1-quantity": "1"})
    assert r.status_code == 422 and "商品不存在" in r.text and 'value="YS-CUP-350"' in r.text  # form kept
    r = web.post("/erp/sales-orders/new", data={
        "csrf_token": token, "customer": str(s.customer), "channel": "direct", "price_mode": "excl",
        "lines-0-product": "YS-CUP-350", "lines-0-quantity": "12", "lines-0-unit_price": "79",
        "lines-0-tax_rate": "13"})
    assert r.status_code == 303
    url = r.headers["location"]
    page = web.get(url)
    assert "1,071.24" in page.text and "超出信用额度" in page.text  # 12 × 79 × 1.13 over a 500 limit
    r = web.post(url + "/confirm", data={"csrf_token": token})
    assert r.status_code == 303 and "信用额度" in web.get(r.headers["location"]).text
    r = web.post(url + "/confirm", data={"csrf_token": token, "override_credit": "1", "override_reason": "老客户"})
    assert r.status_code == 303
    page = web.get(url).text
    assert "已确认" in page and "确认发货" in page
    line_id = re.search(r'name="ship-(\d+)"', page).group(1)
    r = web.post(url + "/deliver", data={"csrf_token": token, f"ship-{line_id}": "5"})
    assert r.status_code == 303 and "/erp/deliveries/" in r.headers["location"]
    page = web.get(url).text
    assert "欠货" in page and "部分" in page
    assert web.post(url + "/invoice", data={"csrf_token": token}).status_code == 403  # invoicing is finance's
    waiting = web.get("/erp/deliveries", params={"state": "waiting"})
    assert waiting.status_code == 200 and "共 1 条" in waiting.text


def test_accountant_invoices_registers_money_and_follows_up(db):
    s = fs.shop(db)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    with s.uow() as uow:
        order = svc.create_sales_order(uow, customer_id=s.customer, confirm=True,
                                       order_date=today - dt.timedelta(days=60),
                                       lines=[svc.SalesLineIn(product_id=s.cup, quantity=4, unit_price=100)])
        svc.deliver(uow, order.id, date=today - dt.timedelta(days=60))
        order_id = order.id
    web = f.web_client(db, f.user(db, s.company, roles=("finance",)))
    token = _csrf(web.get(f"/erp/sales-orders/{order_id}").text)
    r = web.post(f"/erp/sales-orders/{order_id}/invoice", data={"csrf_token": token, "invoice_type": "special"})
    assert r.status_code == 303
    invoice_url = r.headers["location"]
    page = web.get(invoice_url).text
    assert "增值税专用发票" in page and "452.00" in page
    pdf = web.get(invoice_url + "/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    form = web.get("/erp/customer-receipts/new", params={"customer": s.customer})
    assert form.status_code == 200 and "本次核销" in form.text
    r = web.post("/erp/customer-receipts/new", data={"csrf_token": token, "customer": str(s.customer),
                                                     "amount": "500", "account": "bank", "reference": "回单 77"})
    assert r.status_code == 303
    page = web.get(r.headers["location"]).text
    assert "48.00" in page  # 500 − 452 kept as the customer's credit
    assert "回单 77" in web.get("/erp/customer-receipts").text

    r = web.post(invoice_url + "/credit-note", data={"csrf_token": token, "reason": "开错税率"})
    assert r.status_code == 303
    assert "红字发票" in web.get(r.headers["location"]).text
    aging = web.get("/erp/reports/ar-aging")
    assert aging.status_code == 200 and "应收账龄" in aging.text
    assert web.get("/erp/collections").status_code == 200
    coll = web.get(f"/erp/customers/{s.customer}/collections")
    assert coll.status_code == 200 and "预收余额" in coll.text


def test_lists_search_filter_paginate_and_export(db):
    s = fs.shop(db)
    with s.uow() as uow:
        for i in range(55):
            svc.create_sales_order(uow, customer_id=s.customer, channel="jd" if i % 5 == 0 else "direct",
                                   source_ref=f"JD{i:04d}", lines=[svc.SalesLineIn(product_id=s.cup, quantity=1)])
    web = f.web_client(db, f.user(db, s.company, roles=("sales",)))
    page = web.get("/erp/sales-orders")
    assert page.status_code == 200 and "共 55 条" in page.text and "下一页" in page.text
    assert "共 11 条" in web.get("/erp/sales-orders", params={"channel": "jd"}).text
    assert "共 1 条" in web.get("/erp/sales-orders", params={"q": "JD0007"}).text
    assert "共 0 条" in web.get("/erp/sales-orders", params={"state": "confirmed"}).text
    second = web.get("/erp/sales-orders", params={"offset": 50})
    assert len(re.findall(r'href="/erp/sales-orders/\d+"', second.text)) == 5
    xlsx = web.get("/erp/sales-orders/export", params={"format": "xlsx", "channel": "jd"})
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "单号" and len(rows) == 12
    csv = web.get("/erp/sales-orders/export", params={"format": "csv"})
    assert csv.content.decode("utf-8-sig").count("\n") == 56
    for path in ("/erp/quotes", "/erp/deliveries", "/erp/invoices", "/erp/customer-receipts", "/erp/quotes/new"):
        assert web.get(path).status_code == 200, path


def test_pages_need_login_and_hide_other_companies(db):
    a, b = fs.shop(db, "A"), fs.shop(db, "B")
    with b.uow() as uow:
        order_b = svc.create_sales_order(uow, customer_id=b.customer, lines=[svc.SalesLineIn(product_id=b.cup)]).id
    anon = f.anonymous(db, follow_redirects=False)
    assert anon.get("/erp/sales-orders").status_code == 303
    web = f.web_client(db, f.user(db, a.company, roles=("sales",)))
    assert web.get(f"/erp/sales-orders/{order_b}").status_code == 404
    wh = f.web_client(db, f.user(db, a.company, roles=("warehouse",)))
    assert wh.get("/erp/sales-orders").status_code == 403
