"""CRM test helpers: a company with salespeople, customers and orders made through ERP's sales service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from opensupply.core import resource as rs
from opensupply.core.uow import UnitOfWork
from opensupply.crm import schemas as s
from opensupply.crm import service as crm
from opensupply.masterdata import resources
from tests import factories as f


@dataclass
class Team:
    db: object
    company: int
    manager: str  # admin role: crm.admin
    alice: str  # preset sales role
    bob: str
    _actors: dict = field(default_factory=dict)
    _today: dt.date | None = None

    def actor(self, username: str | None = None):
        username = username or self.manager
        if username not in self._actors:
            self._actors[username] = f.actor(self.db, self.company, username)
        return self._actors[username]

    def uow(self, username: str | None = None, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.actor(username), db=self.db, readonly=readonly)

    def user_id(self, username: str) -> int:
        return self.actor(username).user_id

    def today(self) -> dt.date:
        if self._today is None:
            with self.uow(readonly=True) as uow:
                self._today = crm.today(uow)
        return self._today


def team(db, code: str | None = None) -> Team:
    c = f.company(db, code)
    tag = code or str(c)
    t = Team(db, c, f.user(db, c, f"mgr{tag}"), f.user(db, c, f"alice{tag}", roles=("sales",)),
             f.user(db, c, f"bob{tag}", roles=("sales",)))
    for name in (t.manager, t.alice, t.bob):
        t.actor(name)
    t.today()
    return t


def customer(t: Team, code: str, name: str | None = None, *, owner: str | None = None, terms_days: int = 0) -> int:
    owner_id = t.user_id(owner) if owner else None
    with t.uow() as uow:
        pid = rs.create_record(uow, resources.partners, {"code": code, "name": name or f"客户{code}",
                                                         "is_customer": True, "payment_terms_days": terms_days}).id
        if owner:
            crm.set_customer_owner(uow, pid, owner_id)
        return pid


def service_product(t: Team, sku: str = "SVC-1", price: str = "100") -> int:
    """A service product: sales orders of it confirm without stock."""
    with t.uow() as uow:
        return rs.create_record(uow, resources.products, {"sku": sku, "name": f"服务{sku}", "uom_id": "pcs",
                                                          "product_type": "service",
                                                          "list_price": Decimal(price)}).id


def order(t: Team, partner_id: int, day: dt.date, amount: str, sku: str = "SVC-1") -> int:
    """A confirmed sales order of `amount` (tax-exclusive unit price, 0 % VAT so the total is exactly it)."""
    from opensupply.erp.sales import service as sales

    with t.uow() as uow:
        so = sales.create_sales_order(uow, customer_id=partner_id, order_date=day, confirm=True,
                                      lines=[sales.SalesLineIn(sku=sku, quantity=1, unit_price=Decimal(amount),
                                                               tax_rate=0)])
        return so.id


def lead(t: Team, username: str, **fields) -> crm.LeadResult:
    data = {"name": "张三", "source": "expo"}
    data.update(fields)
    with t.uow(username) as uow:
        return crm.create_lead(uow, s.LeadIn(**data))


def activity(t: Team, username: str, subject: str, due: dt.date | None, **fields) -> int:
    with t.uow(username) as uow:
        return crm.create_activity(uow, s.ActivityIn(subject=subject, due_date=due, **fields)).id
