"""Demo warehouse floor for the demo warehouse WH: a bin layout (zone A, 8 aisles × 2 sides × 12
bins, the last two aisles reserve storage) with receiving, QC, pack and staging bins; the demo
stock lying in plain locations of WH/STOCK put away into bins by putaway tasks (suggested and
confirmed like a PDA would); one pick face below its minimum with its replenish task open; and a
blind cycle count waiting to be counted; a first wave of a few ready orders picked by the demo `warehouse`
user (the rest wait for the next wave). Confirmed purchase orders of the purchasing demo stay
open for receiving on the PDA. Everything goes through the WMS and inventory services."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from opensupply.core.errors import DomainError
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockQuant
from opensupply.masterdata import models as md

from . import bins as wms_bins
from . import counts, internal
from . import putaway as pw
from .layout import LayoutSpec
from .models import WmsBin

SPEC = LayoutSpec(zone="A", aisles=8, bins_per_side=12)
RESERVE_AISLES = (7, 8)
EMPTY_BIN_CAPACITY = Decimal(600)


def seed(uow: UnitOfWork, company: md.Company) -> None:
    wh = uow.session.scalar(select(md.Warehouse).where(md.Warehouse.company_id == company.id,
                                                       md.Warehouse.code == "WH"))
    if wh is None or uow.session.scalar(select(WmsBin.id).where(WmsBin.warehouse_id == wh.id).limit(1)):
        return  # no demo warehouse, or its floor is already laid out
    bins = wms_bins.generate_bins(uow, wh.id, SPEC)
    wms_bins.ensure_special_bins(uow, wh.id)
    held = {loc for (loc,) in uow.session.execute(select(StockQuant.location_id).where(
        StockQuant.company_id == company.id, StockQuant.quantity > 0))}
    for b in bins:
        changes = {}
        if b.aisle in RESERVE_AISLES:
            changes["bin_type"] = "reserve"
        if b.location_id not in held:  # adopted demo bins keep what they hold, unlimited
            changes["capacity_units"] = EMPTY_BIN_CAPACITY
        if changes:
            wms_bins.update_bin(uow, b.id, **changes)
    _put_away_loose_stock(uow, wh)
    _replenishment(uow, wh)
    _open_count(uow, wh)
    _first_wave(uow, wh)


def _put_away_loose_stock(uow: UnitOfWork, wh: md.Warehouse) -> None:
    """Stock in WH/STOCK locations that are not bins goes into bins through putaway tasks."""
    bin_locs = select(WmsBin.location_id).where(WmsBin.warehouse_id == wh.id)
    rows = uow.session.execute(
        select(StockQuant.location_id, StockQuant.product_id, StockQuant.lot_id, StockQuant.quantity)
        .join(md.Location, md.Location.id == StockQuant.location_id)
        .where(StockQuant.company_id == uow.company_id, md.Location.warehouse_id == wh.id,
               md.Location.usage == "internal", StockQuant.quantity > 0, StockQuant.location_id.not_in(bin_locs))
        .order_by(StockQuant.location_id, StockQuant.product_id, StockQuant.lot_id)).all()
    for loc, pid, lot_id, qty in rows:
        free = min(Decimal(qty), inv.on_hand(uow, pid, loc, lot_id) - inv.reserved(uow, pid, loc, lot_id)) \
            if lot_id else min(Decimal(qty), inv.available(uow, pid, loc))
        if free <= 0:
            continue
        tasks = pw.create_putaway_tasks(uow, wh.id, loc, [(pid, free, lot_id)], reference="上线入位",
                                        ref_type="wms.demo")
        for t in tasks:
            if t.dest_location_id is None:
                continue
            code = uow.session.scalar(select(WmsBin.code).where(WmsBin.location_id == t.dest_location_id))
            try:
                pw.confirm_putaway(uow, t.id, code)
            except DomainError:  # reserved meanwhile or full: leave the task open for the PDA
                continue


def _replenishment(uow: UnitOfWork, wh: md.Warehouse) -> None:
    """A pick face for the 350 ml cup below its minimum, fed from a reserve bin."""
    cup = uow.session.scalar(select(md.Product).where(md.Product.company_id == uow.company_id,
                                                      md.Product.sku == "YS-CUP-350"))
    if cup is None:
        return
    source = uow.session.scalar(select(WmsBin).join(StockQuant, StockQuant.location_id == WmsBin.location_id)
                                .where(WmsBin.warehouse_id == wh.id, StockQuant.product_id == cup.id,
                                       StockQuant.quantity > 0).order_by(StockQuant.quantity.desc()))
    if source is None:
        return
    free = inv.available(uow, cup.id, source.location_id)
    if free >= 40:
        try:
            internal.move_stock(uow, wh.id, source.code, cup.sku, min(free // 2, Decimal(200)), "A-07-01",
                                note="演示：整箱转存储位")
        except DomainError:
            return
    stocked = select(StockQuant.location_id).where(StockQuant.company_id == uow.company_id, StockQuant.quantity != 0)
    face = uow.session.scalar(select(WmsBin).where(WmsBin.warehouse_id == wh.id, WmsBin.bin_type == "pick",
                                                   WmsBin.location_id.not_in(stocked))
                              .order_by(WmsBin.aisle, WmsBin.position))
    if face is None:
        return
    wms_bins.update_bin(uow, face.id, fixed_product_id=cup.id, min_qty="20", max_qty="120", capacity_units="150")
    internal.generate_replenishment(uow, wh.id)


def _open_count(uow: UnitOfWork, wh: md.Warehouse) -> None:
    codes = [c for (c,) in uow.session.execute(
        select(WmsBin.code).join(StockQuant, StockQuant.location_id == WmsBin.location_id)
        .where(WmsBin.warehouse_id == wh.id, WmsBin.bin_type == "pick", StockQuant.quantity > 0)
        .group_by(WmsBin.code).order_by(WmsBin.code).limit(2))]
    if codes:
        c = counts.create_count(uow, wh.id, bin_codes=codes, blind=True)
        c.reason = f"月度循环盘点：{', '.join(codes)}"


def _first_wave(uow: UnitOfWork, wh: md.Warehouse, orders: int = 4) -> None:
    """A wave of a few ready fulfilments, released and picked on the "PDA" by the demo warehouse user, so the
    wave list, the pick productivity report and the warehouse dashboard have something to show."""
    import dataclasses

    from opensupply.core import auth
    from opensupply.inventory.models import StockLot

    from . import picking, waves

    try:
        with uow.session.begin_nested():
            wave = waves.build_wave(uow, wh.id, max_orders=orders)
            waves.release_wave(uow, wave.id)
    except DomainError:  # nothing ready to pick
        return
    system = uow.actor
    user_id = uow.session.scalar(select(auth.User.id).where(auth.User.username == "warehouse"))
    if user_id:
        uow.actor = dataclasses.replace(system, user_id=user_id, username="warehouse")
    try:
        for task in waves.wave_tasks(uow, wave.id):
            if task.state != "open":
                continue
            sku = uow.session.get(md.Product, task.product_id).sku
            lot = uow.session.get(StockLot, task.lot_id).name if task.lot_id else None
            try:
                with uow.session.begin_nested():
                    picking.confirm_pick(uow, task.id, bin_code=picking.bin_code_of(uow, task.source_location_id),
                                         product_code=sku, quantity=str(task.quantity), lot=lot)
            except DomainError:  # leave the line for the PDA
                continue
    finally:
        uow.actor = system
