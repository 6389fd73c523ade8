"""Inventory test helpers: a company with a bin or two and products, stock put in through the services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from opensupply.masterdata import resources
from tests import factories as f

D = Decimal


@dataclass
class Shop:
    db: object
    company: int
    bin_a: int  # WH/STOCK/A-01-01
    bin_b: int  # WH/STOCK/B-01-01

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)


def shop(db, code: str | None = None) -> Shop:
    c = f.company(db, code)
    return Shop(db, c, f.bin_location(db, c, "A-01-01"), f.bin_location(db, c, "B-01-01"))


def category(db, company: int, code: str, valuation: str) -> int:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        return rs.create_record(uow, resources.product_categories,
                                {"code": code, "name": code, "valuation": valuation}).id


def product(s: Shop, sku: str, *, tracking: str = "none", valuation: str | None = None, cost: str = "10",
            uom: str = "pcs") -> int:
    fields = {"tracking": tracking, "cost": D(cost), "uom_id": uom}
    if valuation:
        code = f"CAT-{valuation.upper()}"
        with s.uow() as uow:
            from opensupply.masterdata.models import ProductCategory

            cat = uow.session.scalar(select(ProductCategory.id).where(ProductCategory.company_id == s.company,
                                                                      ProductCategory.code == code))
        fields["category_id"] = cat or category(s.db, s.company, code, valuation)
    return f.product(s.db, s.company, sku, **fields)


def receive(s: Shop, sku: str, qty, location: str = "A-01-01", *, lot: str | None = None, unit_cost=None,
            reference: str = "RCV-TEST") -> list[int]:
    with s.uow() as uow:
        return inv.receive(uow, [inv.StockLine(sku, str(qty), lot=lot, unit_cost=unit_cost)], location,
                           reference=reference)


def deliver(s: Shop, sku: str, qty, location: str = "A-01-01", *, lot: str | None = None) -> list[int]:
    with s.uow() as uow:
        return inv.deliver(uow, [inv.StockLine(sku, str(qty), lot=lot)], location, reference="DLV-TEST")


def on_hand(s: Shop, product_id: int, location_id: int | None = None) -> Decimal:
    with s.uow(readonly=True) as uow:
        return inv.on_hand(uow, product_id, location_id)


def ledger_ok(s: Shop) -> bool:
    with s.uow(readonly=True) as uow:
        return inv.check_ledger(uow) == []
