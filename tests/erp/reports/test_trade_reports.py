"""Purchases, sales and gross margin reports over a small month of trade made through the ERP services."""

import datetime as dt
import io
from decimal import Decimal

from opensupply.core import auth
from opensupply.core import resource as rs
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as pur
from opensupply.erp.reports import service as rep
from opensupply.erp.sales import service as sal
from opensupply.masterdata import resources
from tests import factories as f

D = Decimal
DAY = dt.date(2026, 10, 12)


def _partner(uow, code, name, customer):
    return rs.create_record(uow, resources.partners, {"code": code, "name": name, "is_customer": customer,
                                                      "is_supplier": not customer}).id


def _trade(db):
    """Buy 10 cups at 30 and 20 towels at 18 (only the cups billed yet); sell 4 cups at 50 to 华东 (direct)
    and 2 cups at 55 plus 5 towels at 25 to 天猫店 (tmall); the tmall invoice is later cancelled by a credit note."""
    c = f.company(db)
    f.bin_location(db, c, "A-01-01")
    cup = f.product(db, c, "CUP", name="保温杯", cost=D("30"))
    towel = f.product(db, c, "TOWEL", name="毛巾", cost=D("18"))
    with UnitOfWork(f.system(c), db=db) as uow:
        sup = _partner(uow, "S1", "宏达", False)
        east, tmall = _partner(uow, "K1", "华东", True), _partner(uow, "K2", "天猫店", True)
        po = pur.create_order(uow, sup, [pur.OrderLineIn(cup, 10, "30"), pur.OrderLineIn(towel, 20, "18")],
                              order_date=DAY, location="A-01-01")
        pur.confirm_order(uow, po.id)
        pur.receive_order(uow, po.id, receipt_date=DAY)
        pur.create_vendor_bill(uow, po.id, [pur.BillLineIn(10, "30", product=cup)], bill_date=DAY)  # cups billed
    with UnitOfWork(f.system(c), db=db) as uow:
        so1 = sal.create_sales_order(uow, customer_id=east, lines=[sal.SalesLineIn(cup, 4, "50")], confirm=True,
                                     order_date=DAY)
        sal.deliver(uow, so1.id, date=DAY)
        sal.invoice_order(uow, so1.id, invoice_date=DAY)
        so2 = sal.create_sales_order(uow, customer_id=tmall, channel="tmall", price_includes_tax=False,
                                     lines=[sal.SalesLineIn(cup, 2, "55"), sal.SalesLineIn(towel, 5, "25")],
                                     confirm=True, order_date=DAY)
        sal.deliver(uow, so2.id, date=DAY)
        inv2 = sal.invoice_order(uow, so2.id, invoice_date=DAY)
    return c, inv2.id


def test_purchases_sales_and_margin(db):
    c, tmall_invoice = _trade(db)
    oct_ = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        p = rep.purchases(uow, *oct_, by="supplier")
        assert [(r["name"], r["amount"], r["billed"], r["documents"]) for r in p["lines"]] == [
            ("宏达", D("660.00"), D("300.00"), 1)]
        by_product = {r["code"]: (r["quantity"], r["amount"], r["billed"])
                      for r in rep.purchases(uow, *oct_, by="product")["lines"]}
        assert by_product == {"CUP": (D(10), D("300.00"), D("300.00")), "TOWEL": (D(20), D("360.00"), 0)}
        s = {r["name"]: r for r in rep.sales(uow, *oct_, by="customer")["lines"]}
        assert s["华东"]["amount_untaxed"] == D("200.00") and s["华东"]["amount_total"] == D("226.00")
        assert s["天猫店"]["amount_untaxed"] == D("235.00")
        channels = {r["key"]: r["amount_untaxed"] for r in rep.sales(uow, *oct_, by="channel")["lines"]}
        assert channels == {"direct": D("200.00"), "tmall": D("235.00")}
        m = {r["code"]: r for r in rep.gross_margin(uow, *oct_, by="product")["lines"]}
        assert (m["CUP"]["revenue"], m["CUP"]["cost"], m["CUP"]["margin"]) == (D("310.00"), D("180.00"), D("130.00"))
        assert m["CUP"]["margin_pct"] == D("41.9")
        assert (m["TOWEL"]["revenue"], m["TOWEL"]["cost"]) == (D("125.00"), D("90.00"))
        by_channel = {r["key"]: r["margin"] for r in rep.gross_margin(uow, *oct_, by="channel")["lines"]}
        assert by_channel == {"direct": D("80.00"), "tmall": D("85.00")}
        assert rep.sales(uow, dt.date(2026, 9, 1), dt.date(2026, 9, 30))["lines"] == []
    with UnitOfWork(f.system(c), db=db) as uow:
        sal.cancel_invoice(uow, tmall_invoice, reason="退货", credit_date=DAY)
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        s = {r["name"]: r["amount_untaxed"] for r in rep.sales(uow, *oct_, by="customer")["lines"]}
        assert s == {"华东": D("200.00"), "天猫店": D("0.00")}  # the credit note takes the sale back
        # the books agree: 存货 on the balance sheet = 收发存 closing value = valuation
        from opensupply.accounting import reports as fin
        from opensupply.inventory import service as inv

        bs = fin.balance_sheet(uow, dt.date(2026, 10, 31))
        stock = {ln["key"]: ln["closing"] for ln in bs["assets"]}["inventory"]
        summary = rep.stock_summary(uow, *oct_)["totals"]["closing_value"]
        assert stock == summary == inv.valuation(uow)["total_value"] == D("390.00")  # 6 cups, 15 towels
        assert bs["balanced"]
        cost = {ln["key"]: ln["period"] for ln in fin.income_statement(uow, *oct_)["lines"]}["cost"]
        assert cost == D("270.00")  # 营业成本 = the deliveries' cost in the margin report


def test_trade_report_pages_and_exports(db):
    from openpyxl import load_workbook

    c, _inv = _trade(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        auth.ensure_role(uow, "analyst", "分析", ["erp.reports"])
    user = f.user(db, c, roles=("analyst",))
    api = f.api_client(db, user)
    r = api.get("/api/v1/erp/reports/gross-margin", params={"date_from": "2026-10-01", "date_to": "2026-10-31",
                                                           "by": "customer"})
    assert r.status_code == 200, r.text
    assert {ln["name"]: ln["margin"] for ln in r.json()["lines"]} == {"华东": "80", "天猫店": "85"}
    assert api.get("/api/v1/erp/reports/sales", params={"by": "colour"}).status_code == 422
    web = f.web_client(db, user)
    for path in ("purchases", "sales", "gross-margin"):
        page = web.get(f"/erp/reports/{path}?date_from=2026-10-01&date_to=2026-10-31")
        assert page.status_code == 200 and "report-chart-options" in page.text, path
    page = web.get("/erp/reports/gross-margin?date_from=2026-10-01&date_to=2026-10-31&by=product")
    assert "41.9%" in page.text and "毛利率" in page.text
    x = web.get("/erp/reports/sales?date_from=2026-10-01&date_to=2026-10-31&by=product&format=xlsx")
    rows = list(load_workbook(io.BytesIO(x.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("编码", "名称") and {rows[1][0], rows[2][0]} == {"CUP", "TOWEL"}
    csv = web.get("/erp/reports/purchases?date_from=2026-10-01&date_to=2026-10-31&format=csv")
    assert "宏达" in csv.content.decode("utf-8-sig")
