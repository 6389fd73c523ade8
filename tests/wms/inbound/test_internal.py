"""Moves between bins and warehouses, and pick-face replenishment from reserve by min/max."""

from decimal import Decimal

import pytest

from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md
from opensupply.masterdata import resources
from opensupply.wms import internal
from opensupply.wms.models import WmsTask
from tests.wms.factories import warehouse_with_layout
from tests.wms.inbound import factories as fi

D = Decimal


def test_a_bin_to_bin_move_is_booked_and_recorded_but_never_overfills(db):
    s = fi.setup(db, capacity_units=D(10))
    fi.stock(s, "cup", "A-01-01", 8)
    fi.stock(s, "mug", "A-01-02", 7)
    with s.uow() as uow:
        task = internal.move_stock(uow, s.wh.warehouse_id, "A-01-01", "6901234567892", "5", "A-02-01")
        assert task.kind == "move" and task.state == "done" and task.move_ids
    assert s.on_hand("cup", "A-01-01") == 3 and s.on_hand("cup", "A-02-01") == 5
    with pytest.raises(Conflict, match="容量不足"), s.uow() as uow:
        internal.move_stock(uow, s.wh.warehouse_id, "A-01-02", "YS-MUG-01", "6", "A-02-01")
    with pytest.raises(ValidationFailed, match="可移数量只有 3"), s.uow() as uow:
        internal.move_stock(uow, s.wh.warehouse_id, "A-01-01", "YS-CUP-350", "4", "A-02-02")
    with pytest.raises(ValidationFailed, match="相同"), s.uow() as uow:
        internal.move_stock(uow, s.wh.warehouse_id, "A-01-01", "YS-CUP-350", "1", "A-01-01")
    assert s.on_hand("mug", "A-01-02") == 7 and s.on_hand("cup", "A-02-01") == 5


def test_a_transfer_to_another_warehouse_goes_bin_to_bin(db):
    s = fi.setup(db)
    with UnitOfWork(Actor.system(s.company), db=db) as uow:
        wh2_id = rs.create_record(uow, resources.warehouses, {"code": "WH2", "name": "上海仓"}).id
    other = warehouse_with_layout(db, s.company, aisles=1, bins_per_side=2, warehouse_id=wh2_id, zone="B")
    fi.stock(s, "cup", "A-01-01", 4)
    with s.uow() as uow:
        task = internal.move_stock(uow, s.wh.warehouse_id, "A-01-01", "YS-CUP-350", "3", "B-01-01",
                                   to_warehouse_id=wh2_id)
        assert task.ref_type == "wms.transfer"
        assert inv.on_hand(uow, s.products["cup"], other.bins["B-01-01"].location_id) == 3
        assert uow.get(md.Warehouse, wh2_id).code == "WH2"


def test_pick_faces_at_or_below_minimum_are_replenished_from_reserve(db):
    s = fi.setup(db)
    s.set_bin("A-01-01", min_qty="5", max_qty="20", fixed_product_sku="YS-CUP-350")
    s.set_bin("A-02-01", bin_type="reserve")
    s.set_bin("A-02-02", bin_type="reserve")
    fi.stock(s, "cup", "A-01-01", 4)
    fi.stock(s, "cup", "A-02-01", 10)
    fi.stock(s, "cup", "A-02-02", 30)
    with s.uow() as uow:
        needs = internal.replenishment_needs(uow, s.wh.warehouse_id)
        assert [(n["bin"], n["quantity"]) for n in needs] == [("A-01-01", 16)]
        tasks = internal.generate_replenishment(uow, s.wh.warehouse_id)
        assert [(t.quantity, t.source_location_id) for t in tasks] == [(16, s.wh.loc("A-02-02"))]  # fullest first
        task_id = tasks[0].id
    with s.uow() as uow:  # an open task already covers the need
        assert internal.generate_replenishment(uow, s.wh.warehouse_id) == []
    with pytest.raises(ValidationFailed, match="扫描的库位 A-02-01 与任务要求的 A-02-02 不符"), s.uow() as uow:
        internal.confirm_replenishment(uow, task_id, from_bin="A-02-01")
    with pytest.raises(ValidationFailed, match="扫描的商品 YS-MUG-01 与任务要求的 YS-CUP-350 不符"), s.uow() as uow:
        internal.confirm_replenishment(uow, task_id, from_bin="A-02-02", item="YS-MUG-01")
    with s.uow() as uow:
        t = internal.confirm_replenishment(uow, task_id, from_bin="A-02-02", item="YS-CUP-350", to_bin="A-01-01")
        assert t.state == "done"
    assert s.on_hand("cup", "A-01-01") == 20 and s.on_hand("cup", "A-02-02") == 14
    with s.uow(readonly=True) as uow:
        assert internal.replenishment_needs(uow, s.wh.warehouse_id) == []
        assert uow.get(WmsTask, task_id).move_ids
