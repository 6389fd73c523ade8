"""Bins are inventory locations under the warehouse's stock area, with WMS attributes."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from opensupply.core.errors import NotFound
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from opensupply.masterdata.models import Location, Warehouse
from opensupply.wms import bins as wb
from opensupply.wms.layout import LayoutSpec
from opensupply.wms.models import WmsBin, WmsLayout
from tests import factories as f
from tests.wms.factories import warehouse_with_layout


def test_a_generated_layout_creates_stock_locations_once(db):
    company = f.company(db)
    setup = warehouse_with_layout(db, company, aisles=3, bins_per_side=4)
    assert len(setup.bins) == 3 * 2 * 4
    again = warehouse_with_layout(db, company, aisles=3, bins_per_side=4)
    assert again.bins == setup.bins and again.pack == setup.pack
    with UnitOfWork(Actor.system(company), db=db) as uow:
        loc = uow.get(Location, setup.loc("A-02-03"))
        assert loc.full_code.endswith("/STOCK/A-02-03") and loc.usage == "internal"
        assert loc.parent_id == setup.stock_location_id
        assert uow.session.scalar(select(func.count()).select_from(WmsBin)) == 24 + 4
        assert uow.session.scalar(select(func.count()).select_from(WmsLayout)) == 1
        b = wb.bin_by_code(uow, setup.warehouse_id, "a-02-03")
        assert (b.aisle, b.side, b.position, b.x) == (2, 0, 3, 3.0)
        assert wb.bin_by_code(uow, setup.warehouse_id, loc.full_code).id == b.id
        with pytest.raises(NotFound, match="库位不存在"):
            wb.bin_by_code(uow, setup.warehouse_id, "Z-99-99")
        assert wb.ensure_special_bins(uow, setup.warehouse_id)["dock"].code == "RCV"


def test_fill_and_capacity_by_units_volume_and_weight(db):
    company = f.company(db)
    setup = warehouse_with_layout(db, company, aisles=1, bins_per_side=2)
    light = f.product(db, company, "LIGHT", volume_m3=Decimal("0.01"), weight_kg=Decimal("1"))
    heavy = f.product(db, company, "HEAVY", weight_kg=Decimal("20"))
    bin_id = setup.bins["A-01-01"].id
    with UnitOfWork(Actor.system(company), db=db) as uow:
        assert wb.capacity_left(uow, bin_id, light) is None
        wb.update_bin(uow, bin_id, capacity_units="100", capacity_volume_m3="0.5", capacity_weight_kg="100")
        inv.receive(uow, [inv.StockLine(product=light, quantity=Decimal(30), unit_cost="5")], setup.loc("A-01-01"))
    with UnitOfWork(Actor.system(company), db=db) as uow:
        assert wb.fill(uow, [bin_id, setup.bins["A-01-02"].id]) == {bin_id: Decimal(30),
                                                                   setup.bins["A-01-02"].id: Decimal(0)}
        assert wb.capacity_left(uow, bin_id, light) == Decimal(20)  # volume: 0.5 - 0.3 = 0.2 m³
        assert wb.capacity_left(uow, bin_id, heavy) == Decimal(3)  # weight: 100 - 30 = 70 kg
        wb.update_bin(uow, bin_id, fixed_product_id=light)
        assert wb.capacity_left(uow, bin_id, heavy) == 0
        wb.update_bin(uow, bin_id, blocked=True)
        assert wb.capacity_left(uow, bin_id, light) == 0


def test_generate_bins_keeps_count_along_the_aisle_over_blocks(db):
    company = f.company(db)
    with UnitOfWork(Actor.system(company), db=db) as uow:
        wh = uow.session.scalars(select(Warehouse.id)).first()
        made = wb.generate_bins(uow, wh, LayoutSpec(zone="B", aisles=2, bins_per_side=5, blocks=2))
    assert {b.block for b in made} == {0, 1}
    assert max(b.position for b in made) == 10 and all(b.code.startswith("B-") for b in made)
