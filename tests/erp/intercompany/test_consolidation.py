"""Consolidated statements of a two-company group, worked by hand.

A (parent) buys cups at 30, sells 10 to its subsidiary B at 100 + 13 % VAT (1,130 owed by B);
B sells the 10 cups to an outside customer at 150 + VAT. Seen as one group, the only sale is B's
1,500 to the outsider and the only cost A's 300; B's 1,130 payable to A and A's 1,130 receivable
from B are one pocket paying the other and vanish."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from opensupply.core.sequences import company_today
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.purchasing.models import PurchaseOrder
from opensupply.erp.sales import service as sales
from tests import factories as f
from tests.erp.intercompany import factories as fg
from tests.erp.sales import factories as fs

D = Decimal


def _trade(db):
    g = fg.group(db)
    with g.uow(g.a) as uow:
        so = sales.create_sales_order(uow, customer_id=g.b_in_a, lines=[sales.SalesLineIn(
            product_id=g.a_cup, quantity="10", unit_price="100", tax_rate="13")], confirm=True)
        sales.deliver(uow, so.id)
        sales.invoice_order(uow, so.id)
    with g.uow(g.b) as uow:
        po = uow.session.scalars(select(PurchaseOrder).where(PurchaseOrder.company_id == g.b)).one()
        purchasing.confirm_order(uow, po.id)
        purchasing.receive_order(uow, po.id, location=g.b_bin)
        purchasing.create_vendor_bill(uow, po.id, supplier_invoice_no="A-0001")
    outsider = fs.customer(db, g.b, code="C-OUT", name="外部客户")
    with g.uow(g.b) as uow:
        so = sales.create_sales_order(uow, customer_id=outsider, lines=[sales.SalesLineIn(
            product_id=g.b_cup, quantity="10", unit_price="150", tax_rate="13")], confirm=True)
        sales.deliver(uow, so.id)
        sales.invoice_order(uow, so.id)
        today = company_today(uow)
    return g, today


def _line(rep, key):
    return next(ln for ln in rep["lines"] if ln["key"] == key)


def test_consolidated_statements_eliminate_the_inter_company_sale_and_debt(db):
    g, today = _trade(db)
    group_admin = f.api_client(db, f.user(db, g.a, roles=("finance",), company_ids=[g.a, g.b]))
    span = {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}

    inc = group_admin.get("/api/v1/accounting/reports/consolidated", params={"kind": "income", **span})
    assert inc.status_code == 200, inc.text
    inc = inc.json()
    assert [c["id"] for c in inc["companies"]] == [g.a, g.b]
    revenue, cost, profit = _line(inc, "revenue"), _line(inc, "cost"), _line(inc, "net_profit")
    assert (revenue["companies"], revenue["eliminations"], revenue["consolidated"]) == (
        ["1000.00", "1500.00"], "-1000.00", "1500.00")
    assert (cost["companies"], cost["eliminations"], cost["consolidated"]) == (
        ["300.00", "1000.00"], "-1000.00", "300.00")
    assert (profit["companies"], profit["eliminations"], profit["consolidated"]) == (
        ["700.00", "500.00"], "0.00", "1200.00")

    bs = group_admin.get("/api/v1/accounting/reports/consolidated", params={"kind": "balance", **span}).json()
    receivable, payable = _line(bs, "receivable"), _line(bs, "payable")
    assert (receivable["companies"], receivable["eliminations"], receivable["consolidated"]) == (
        ["1130.00", "1695.00"], "-1130.00", "1695.00")  # only the outsider still owes
    # A's own 4,120 is 暂估 on its opening stock (no partner); B's 1,130 is owed to A and goes
    assert (payable["companies"], payable["eliminations"], payable["consolidated"]) == (
        ["4120.00", "1130.00"], "-1130.00", "4120.00")
    assert bs["balanced"] and bs["warnings"] == []
    assert _line(bs, "total_assets")["consolidated"] == _line(bs, "total_liabilities_equity")["consolidated"]

    page = f.web_client(db, f.user(db, g.a, roles=("finance",), company_ids=[g.a, g.b]))
    html = page.get("/accounting/reports/consolidated", params={"kind": "income", **span})
    assert html.status_code == 200 and "内部抵销" in html.text and "-1,000.00" in html.text
    xlsx = page.get("/accounting/reports/consolidated", params={"kind": "balance", "format": "xlsx", **span})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_a_user_of_only_the_parent_cannot_see_the_group(sqlite_db):
    db = sqlite_db
    g = fg.group(db)
    only_a = f.user(db, g.a, roles=("finance",))
    r = f.api_client(db, only_a).get("/api/v1/accounting/reports/consolidated", params={"kind": "balance"})
    assert r.status_code in (403, 404), r.text
    page = f.web_client(db, only_a).get("/accounting/reports/consolidated")
    assert page.status_code in (403, 404)
    with g.uow(g.b, readonly=True) as uow:
        from opensupply.masterdata.models import Company

        b_name = uow.session.get(Company, g.b).name
    assert b_name not in r.text and b_name not in page.text
    # a subsidiary alone has no group to consolidate
    only_b = f.user(db, g.b, roles=("finance",))
    assert f.api_client(db, only_b).get("/api/v1/accounting/reports/consolidated").status_code == 404
