"""Performance views: salesperson revenue, margin and collections; buyer on-time rate — from the documents."""

import datetime as dt
from decimal import Decimal

from opensupply.core import resource as rs
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as pur
from opensupply.erp.reports import performance as perf
from opensupply.erp.sales import service as sal
from opensupply.masterdata import resources
from tests import factories as f

D = Decimal
DAY = dt.date(2026, 10, 12)
OCT = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def _setup(db):
    c = f.company(db)
    f.bin_location(db, c, "A-01-01")
    cup = f.product(db, c, "CUP", name="保温杯", cost=D("30"))
    f.user(db, c, "buyer1", roles=("buyer",))
    buyer_user = f.actor(db, c, "buyer1").user_id
    with UnitOfWork(f.system(c), db=db) as uow:
        ids = {}
        for code, name, user_id in (("E1", "王芳", None), ("E2", "李强", None), ("B1", "赵采购", buyer_user)):
            ids[code] = rs.create_record(uow, resources.employees, {"code": code, "name": name,
                                                                    "user_id": user_id}).id
        sup = rs.create_record(uow, resources.partners, {"code": "S1", "name": "宏达", "is_supplier": True}).id
        k1 = rs.create_record(uow, resources.partners, {"code": "K1", "name": "华东", "is_customer": True}).id
    return c, cup, sup, k1, ids


def test_salespeople_revenue_margin_collections_and_overdue(db):
    c, cup, sup, k1, emp = _setup(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        po = pur.create_order(uow, sup, [pur.OrderLineIn(cup, 10, "30")], order_date=DAY, location="A-01-01")
        pur.confirm_order(uow, po.id)
        pur.receive_order(uow, po.id, receipt_date=DAY)
        invoices = []
        for person, qty, price in (("E1", 4, "50"), ("E2", 2, "60"), (None, 1, "40")):
            so = sal.create_sales_order(uow, customer_id=k1, lines=[sal.SalesLineIn(cup, qty, price)], confirm=True,
                                        order_date=DAY, salesperson_id=emp[person] if person else None,
                                        price_includes_tax=False)
            sal.deliver(uow, so.id, date=DAY)
            invoices.append(sal.invoice_order(uow, so.id, invoice_date=DAY).id)
        sal.register_receipt(uow, k1, "113.00", allocations=[(invoices[0], D("113.00"))], receipt_date=DAY)
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        report = perf.salespeople(uow, *OCT)
    rows = {r["code"]: r for r in report["lines"]}
    assert set(rows) == {"E1", "E2", "-"}
    e1 = rows["E1"]
    assert (e1["revenue"], e1["cost"], e1["margin"], e1["margin_pct"]) == (D("200.00"), D("120.00"), D("80.00"),
                                                                           D("40.0"))
    assert (e1["invoiced"], e1["collected"], e1["collection_pct"]) == (D("226.00"), D("113.00"), D("50.0"))
    assert e1["overdue"] == D("113.00")  # due on the invoice date (no payment terms), in the past
    assert rows["E2"]["revenue"] == D("120.00") and rows["E2"]["collected"] == 0
    assert report["totals"]["revenue"] == D("360.00")  # = the 销售报表 of the period, unassigned included


def test_buyers_on_time_rate_counts_receipt_lines_against_the_expected_date(db):
    c, cup, sup, _k1, _emp = _setup(db)
    buyer = f.actor(db, c, "buyer1")
    with UnitOfWork(buyer, db=db) as uow:
        early = pur.create_order(uow, sup, [pur.OrderLineIn(cup, 5, "30")], order_date=DAY,
                                 expected_date=DAY + dt.timedelta(days=3), location="A-01-01")
        late = pur.create_order(uow, sup, [pur.OrderLineIn(cup, 5, "30")], order_date=DAY,
                                expected_date=DAY - dt.timedelta(days=1), location="A-01-01")
        for po in (early, late):
            pur.confirm_order(uow, po.id)
            pur.receive_order(uow, po.id, receipt_date=DAY)
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        (row,) = perf.buyers(uow, *OCT)["lines"]
    assert (row["code"], row["lines"], row["on_time"], row["late"], row["on_time_pct"]) == ("B1", 2, 1, 1, D("50.0"))
    assert row["amount"] == D("300.00") and row["documents"] == 2


def test_performance_pages_and_api(db):
    c, *_ = _setup(db)
    f.user(db, c, "boss")
    web = f.web_client(db, "boss")
    for slug in ("salespeople", "buyers"):
        page = web.get(f"/erp/reports/{slug}?date_from=2026-10-01&date_to=2026-10-31")
        assert page.status_code == 200 and "report-chart" not in page.text  # no rows, no chart
        assert web.get(f"/erp/reports/{slug}?format=xlsx").status_code == 200
    api = f.api_client(db, "boss")
    body = api.get("/api/v1/erp/reports/salespeople", params={"date_from": "2026-10-01"}).json()
    assert body["lines"] == [] and body["date_from"] == "2026-10-01"


def test_an_employee_links_to_one_existing_login_of_the_company(db):
    import pytest

    from opensupply.core.errors import Conflict, ValidationFailed

    c, *_ = _setup(db)
    buyer_user = f.actor(db, c, "buyer1").user_id  # already linked to B1
    with pytest.raises(Conflict, match="B1"), UnitOfWork(f.system(c), db=db) as uow:
        rs.create_record(uow, resources.employees, {"code": "E9", "name": "重复", "user_id": buyer_user})
    with pytest.raises(ValidationFailed), UnitOfWork(f.system(c), db=db) as uow:
        rs.create_record(uow, resources.employees, {"code": "E9", "name": "无此人", "user_id": 999999})
