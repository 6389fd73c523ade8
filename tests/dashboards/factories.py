"""A small two-month trading history made through the services, for the dashboards.

September 2026: buy 10 cups at 30 and 20 towels at 18 (received 1 Sep); sell 1 cup at 50 to 华东 (ordered and
shipped 15 Sep, on time), paid 56.50 on 20 Sep.
October 2026: sell 4 cups at 50 to 华东 (direct; asked for 11 Oct, shipped 12 Oct: late) and 2 cups at 55 plus
5 towels at 25 to 天猫店 (tmall; ordered and shipped 12 Oct: on time); 华东 pays 226.00 on 20 Oct. Buy 5 more cups
at 30 (expected 12 Oct, received 10 Oct) and order 10 towels expected 5 Oct that never come (late).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import service as pur
from opensupply.erp.sales import service as sal
from opensupply.masterdata import resources
from tests import factories as f

D = Decimal
SEP = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
OCT = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


@dataclass
class Trade:
    db: object
    company: int
    supplier: int
    east: int
    tmall: int
    late_po: int

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)


def _partner(uow, code, name, customer):
    return rs.create_record(uow, resources.partners, {"code": code, "name": name, "is_customer": customer,
                                                      "is_supplier": not customer, "payment_terms_days": 30}).id


def trade(db) -> Trade:
    c = f.company(db)
    f.bin_location(db, c, "A-01-01")
    cup = f.product(db, c, "CUP", name="保温杯", cost=D("30"))
    towel = f.product(db, c, "TOWEL", name="毛巾", cost=D("18"))
    day = dt.date
    with UnitOfWork(f.system(c), db=db) as uow:
        sup = _partner(uow, "S1", "宏达", False)
        east, tmall = _partner(uow, "K1", "华东", True), _partner(uow, "K2", "天猫店", True)
        po = pur.create_order(uow, sup, [pur.OrderLineIn(cup, 10, "30"), pur.OrderLineIn(towel, 20, "18")],
                              order_date=day(2026, 8, 28), location="A-01-01")
        pur.confirm_order(uow, po.id)
        pur.receive_order(uow, po.id, receipt_date=day(2026, 9, 1))
    with UnitOfWork(f.system(c), db=db) as uow:
        so = sal.create_sales_order(uow, customer_id=east, lines=[sal.SalesLineIn(cup, 1, "50")], confirm=True,
                                    order_date=day(2026, 9, 15))
        sal.deliver(uow, so.id, date=day(2026, 9, 15))
        sal.invoice_order(uow, so.id, invoice_date=day(2026, 9, 15))
        sal.register_receipt(uow, east, "56.50", receipt_date=day(2026, 9, 20))
    with UnitOfWork(f.system(c), db=db) as uow:
        so1 = sal.create_sales_order(uow, customer_id=east, lines=[sal.SalesLineIn(cup, 4, "50")], confirm=True,
                                     order_date=day(2026, 10, 10), requested_date=day(2026, 10, 11))
        sal.deliver(uow, so1.id, date=day(2026, 10, 12))
        sal.invoice_order(uow, so1.id, invoice_date=day(2026, 10, 12))
        so2 = sal.create_sales_order(uow, customer_id=tmall, channel="tmall", price_includes_tax=False,
                                     lines=[sal.SalesLineIn(cup, 2, "55"), sal.SalesLineIn(towel, 5, "25")],
                                     confirm=True, order_date=day(2026, 10, 12))
        sal.deliver(uow, so2.id, date=day(2026, 10, 12))
        sal.invoice_order(uow, so2.id, invoice_date=day(2026, 10, 12))
        sal.register_receipt(uow, east, "226.00", receipt_date=day(2026, 10, 20))
    with UnitOfWork(f.system(c), db=db) as uow:
        po2 = pur.create_order(uow, sup, [pur.OrderLineIn(cup, 5, "30")], order_date=day(2026, 10, 2),
                               expected_date=day(2026, 10, 12), location="A-01-01")
        pur.confirm_order(uow, po2.id)
        pur.receive_order(uow, po2.id, receipt_date=day(2026, 10, 10))
        po3 = pur.create_order(uow, sup, [pur.OrderLineIn(towel, 10, "18")], order_date=day(2026, 10, 1),
                               expected_date=day(2026, 10, 5), location="A-01-01")
        pur.confirm_order(uow, po3.id)
    return Trade(db, c, sup, east, tmall, po3.id)


def figures(d: dict) -> dict:
    """KPI key → value of a dashboard (service dict or API JSON)."""
    return {k["key"]: k["value"] for k in d["kpis"]}


def previous(d: dict) -> dict:
    return {k["key"]: k["previous"] for k in d["kpis"]}
