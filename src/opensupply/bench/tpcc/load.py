"""Populate a fresh database with a TPC-C-shaped company, through the services (not timed)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from opensupply.core.db import Database
from opensupply.core.uow import Actor, UnitOfWork

DISTRICTS = 10


@dataclass(frozen=True)
class Scale:
    warehouses: int = 1
    items: int = 1000  # TPC-C: 100,000
    customers: int = 30  # per district; TPC-C: 3,000
    stock: int = 100_000  # units of every item in every warehouse (TPC-C: 10–100, replenished)


@dataclass
class Setup:
    company_id: int
    warehouse_ids: list[int]
    stock_location_ids: list[int]
    product_ids: list[int]
    customers: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (w index, district) → partner ids
    prices: dict[int, str] = field(default_factory=dict)


def customer_code(w: int, d: int, c: int) -> str:
    return f"W{w + 1:02d}D{d:02d}C{c:05d}"


def load(db: Database, scale: Scale, seed: int = 1) -> Setup:
    from opensupply.inventory import service as inv
    from opensupply.masterdata import models as md
    from opensupply.masterdata import service as mds

    rng = random.Random(seed)
    with UnitOfWork(Actor.system(), db=db) as uow:
        company = mds.setup_company(uow, code="TPCC", name="TPC-C 基准公司", warehouse_code=None)
        cid = company.id
    actor = Actor.system(cid)
    setup = Setup(cid, [], [], [])
    with UnitOfWork(actor, db=db) as uow:
        for w in range(scale.warehouses):
            wh = md.Warehouse(company_id=cid, code=f"W{w + 1:02d}", name=f"仓库 {w + 1}")
            uow.add(wh)
            uow.flush()
            mds.create_warehouse_locations(uow, wh)
            uow.flush()
            setup.warehouse_ids.append(wh.id)
            setup.stock_location_ids.append(wh.stock_location_id)
        uom = uow.session.scalar(select(md.Uom.id).where(md.Uom.code == "pcs"))
        products = []
        for i in range(scale.items):
            cost = Decimal(rng.randint(100, 10_000)) / 100
            products.append(md.Product(company_id=cid, sku=f"ITEM{i + 1:06d}", name=f"商品 {i + 1}", uom_id=uom,
                                       cost=cost, list_price=(cost * Decimal("1.6")).quantize(Decimal("0.01"))))
        uow.session.add_all(products)
        partners = []
        for w in range(scale.warehouses):
            for d in range(1, DISTRICTS + 1):
                for c in range(1, scale.customers + 1):
                    partners.append(md.Partner(company_id=cid, code=customer_code(w, d, c),
                                               name=f"客户 {w + 1}-{d}-{c}", is_customer=True))
        uow.session.add_all(partners)
        uow.flush()
        setup.product_ids = [p.id for p in products]
        setup.prices = {p.id: str(p.list_price) for p in products}
        for p in partners:
            w, d = int(p.code[1:3]) - 1, int(p.code[4:6])
            setup.customers.setdefault((w, d), []).append(p.id)
        costs = {p.id: p.cost for p in products}
    for loc in setup.stock_location_ids:
        for start in range(0, len(setup.product_ids), 2000):
            chunk = setup.product_ids[start:start + 2000]
            with UnitOfWork(actor, db=db) as uow:
                inv.post_moves(uow, [inv.MoveSpec(pid, Decimal(scale.stock), _supplier(uow), loc, unit_cost=costs[pid],
                                                  reference="期初库存") for pid in chunk])
    return setup


def _supplier(uow) -> int:
    from opensupply.masterdata import service as mds

    return mds.virtual_location(uow, "supplier").id
