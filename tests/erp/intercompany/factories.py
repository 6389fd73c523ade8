"""A small group: company A (parent, with cups in stock and an outside customer) and its subsidiary B,
each with a partner standing for the other, and the same SKU in both."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import models as md
from opensupply.masterdata import resources
from tests import factories as f
from tests.erp.sales import factories as fs

D = Decimal


@dataclass
class Group:
    db: object
    a: int  # parent company
    b: int  # subsidiary
    a_customer: int  # A's outside customer
    b_in_a: int  # partner of A standing for B (customer and supplier)
    a_in_b: int  # partner of B standing for A
    a_cup: int
    b_cup: int
    b_bin: int

    def uow(self, company: int, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(company), db=self.db, readonly=readonly)


def group_actor(company: int, *others: int) -> Actor:
    """Whoever sets up inter-company partners works in both companies."""
    return Actor(None, "system", company, frozenset({company, *others}), frozenset({"*"}), True)


def ic_partner(db, company: int, other: int, code: str, name: str) -> int:
    with UnitOfWork(group_actor(company, other), db=db) as uow:
        return rs.create_record(uow, resources.partners, {
            "code": code, "name": name, "is_customer": True, "is_supplier": True,
            "represents_company_id": other}).id


def set_parent(db, child: int, parent: int | None) -> None:
    with UnitOfWork(Actor.system(), db=db) as uow:
        uow.session.get(md.Company, child).parent_id = parent


def group(db) -> Group:
    s = fs.shop(db)
    b = f.company(db)
    set_parent(db, b, s.company)
    b_bin = f.bin_location(db, b, "A-01-01")
    b_cup = f.product(db, b, "YS-CUP-350", name="不锈钢保温杯 350ml", cost=D("100"))
    b_in_a = ic_partner(db, s.company, b, "IC-B", "子公司 B")
    a_in_b = ic_partner(db, b, s.company, "IC-A", "母公司 A")
    return Group(db, s.company, b, s.customer, b_in_a, a_in_b, s.cup, b_cup, b_bin)
