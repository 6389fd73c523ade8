"""Set-based stock figures for planning reports (SCM inventory risk): on hand per product and warehouse, the
last time a product's stock moved, and the unit cost the stock is valued at. Read-only, a few grouped
queries whatever the number of products."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.types import to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import service as inv

ZERO = Decimal(0)


def on_hand_by_warehouse(uow: UnitOfWork, warehouse_id: int | None = None) -> dict[int, Decimal]:
    """On hand (internal locations) per product, of one warehouse or of all."""
    q, loc = inv.QUANT, md.Location
    stmt = (select(q.c.product_id, func.sum(q.c.quantity)).join(loc, loc.id == q.c.location_id)
            .where(q.c.company_id == uow.company_id, loc.usage == "internal").group_by(q.c.product_id))
    if warehouse_id is not None:
        stmt = stmt.where(loc.warehouse_id == int(warehouse_id))
    return {p: to_decimal(v or 0) for p, v in uow.session.execute(stmt)}


def last_movement(uow: UnitOfWork, warehouse_id: int | None = None) -> dict[int, dt.datetime]:
    """The latest done stock move into or out of an internal location (of one warehouse, or any) per product."""
    m, loc = inv.MOVE, md.Location
    out: dict[int, dt.datetime] = {}
    for side in (m.c.source_location_id, m.c.dest_location_id):
        stmt = (select(m.c.product_id, func.max(m.c.date_done)).join(loc, loc.id == side)
                .where(m.c.company_id == uow.company_id, m.c.state == "done", loc.usage == "internal")
                .group_by(m.c.product_id))
        if warehouse_id is not None:
            stmt = stmt.where(loc.warehouse_id == int(warehouse_id))
        for pid, moment in uow.session.execute(stmt):
            if moment is not None and (pid not in out or moment > out[pid]):
                out[pid] = moment
    return out


def unit_costs(uow: UnitOfWork) -> dict[int, Decimal]:
    """Unit cost per product from the valuation layers (`service.valuation`: value / quantity on hand); products
    without valued stock fall back to their standard cost in master data."""
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for pid, cost in uow.session.execute(select(md.Product.id, md.Product.cost)
                                         .where(md.Product.company_id == uow.company_id)):
        out[pid] = to_decimal(cost or 0)
    for line in inv.valuation(uow)["lines"]:
        if line["quantity"] > 0:
            out[line["product_id"]] = line["unit_cost"]
    return dict(out)


def consumption(uow: UnitOfWork, since: dt.datetime, warehouse_id: int | None = None
                ) -> dict[int, tuple[Decimal, dt.datetime]]:
    """Per product, the quantity issued from internal locations (of one warehouse, or any) to production since
    `since`, and the last time it was: what a component's demand is, as sales are a finished product's."""
    m, src, dst = inv.MOVE, md.Location.__table__.alias("src"), md.Location.__table__.alias("dst")
    stmt = (select(m.c.product_id, func.sum(m.c.quantity), func.max(m.c.date_done))
            .join(src, src.c.id == m.c.source_location_id).join(dst, dst.c.id == m.c.dest_location_id)
            .where(m.c.company_id == uow.company_id, m.c.state == "done", m.c.date_done >= since,
                   src.c.usage == "internal", dst.c.usage == "production")
            .group_by(m.c.product_id))
    if warehouse_id is not None:
        stmt = stmt.where(src.c.warehouse_id == int(warehouse_id))
    return {p: (to_decimal(q or 0), last) for p, q, last in uow.session.execute(stmt)}


def stock_by_warehouse(uow: UnitOfWork, product_ids: list[int] | None = None
                       ) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
    """(on hand, available = on hand − active reservations) per (warehouse, product) in internal locations, two
    grouped queries: the stock position multi-warehouse planning compares."""
    q, r, loc = inv.QUANT, inv.RES, md.Location
    on_hand: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    reserved: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for table, qty, out in ((q, q.c.quantity, on_hand), (r, r.c.quantity, reserved)):
        stmt = (select(loc.warehouse_id, table.c.product_id, func.sum(qty)).join(loc, loc.id == table.c.location_id)
                .where(table.c.company_id == uow.company_id, loc.usage == "internal", loc.warehouse_id.is_not(None))
                .group_by(loc.warehouse_id, table.c.product_id))
        if table is r:
            stmt = stmt.where(r.c.state == "active")
        if product_ids is not None:
            stmt = stmt.where(table.c.product_id.in_(list(product_ids) or [0]))
        for wh, pid, v in uow.session.execute(stmt):
            out[(wh, pid)] += to_decimal(v or 0)
    return {k: (on_hand[k], on_hand[k] - reserved[k]) for k in set(on_hand) | set(reserved)}
