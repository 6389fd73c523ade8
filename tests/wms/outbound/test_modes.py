"""Wave variants and edge cases: single-order picking, zone waves, interception while picking, a
channel order shipped in two cartons (OMS 已发货, a label page per carton)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from opensupply.core import jobs
from opensupply.core.errors import Conflict
from opensupply.oms import fulfilments as oms_ful
from opensupply.oms.models import OmsOrder
from opensupply.wms import labels, packing, picking, waves
from opensupply.wms.models import WmsPackage
from tests.wms.outbound import factories as fo
from tests.wms.outbound.test_flow import build_and_release, pick_all, tasks_of

D = Decimal


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)


def test_single_mode_walks_each_order_on_its_own_route(db):
    fl = fo.floor(db)
    f1 = fo.order(fl, {"YS-MUG-01": 1, "YS-CUP-350": 1})
    f2 = fo.order(fl, {"YS-TOWEL-01": 1, "YS-CUP-350": 1})
    wid = build_and_release(fl, pick_mode="single")
    tasks = tasks_of(fl, wid)
    assert [t.fulfilment_id for t in tasks] == [f1, f1, f2, f2]  # one order after the other
    with fl.uow(readonly=True) as uow:
        wave = uow.get(waves.WmsWave, wid)
        assert wave.pick_mode == "single" and wave.route_length_m > 0


def test_zone_wave_takes_only_orders_stocked_in_that_zone(db):
    fl = fo.floor(db)
    fo.order(fl, {"YS-MUG-01": 1})
    with fl.uow() as uow:
        with pytest.raises(Conflict):
            waves.build_wave(uow, fl.wh.warehouse_id, zone="B")
    with fl.uow() as uow:
        assert waves.build_wave(uow, fl.wh.warehouse_id, zone="a").criteria["zone"] == "A"


def test_interception_while_picking_stops_the_rest_and_cannot_be_cancelled_as_a_wave(db):
    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-CUP-350": 1, "YS-MUG-01": 1})
    wid = build_and_release(fl)
    first, second = tasks_of(fl, wid)
    with fl.uow() as uow:
        picking.confirm_pick(uow, first.id, bin_code="A-01-02", product_code="YS-CUP-350", quantity="1")
    with pytest.raises(Conflict), fl.uow() as uow:  # something is picked: the wave cannot just be cancelled
        waves.cancel_wave(uow, wid)
    with fl.uow() as uow:
        oms_ful.intercept_fulfilment(uow, fid, "买家取消")
    with fl.uow() as uow:
        res = picking.confirm_pick(uow, second.id, bin_code="A-04-03", product_code="YS-MUG-01", quantity="1")
    assert res["intercepted"] and not res["ok"] and "已拦截" in res["message"]
    assert [t.state for t in tasks_of(fl, wid)] == ["done", "cancelled"]
    assert fo.on_hand(fl, "YS-MUG-01", "PACK") == 0
    with pytest.raises(Conflict), fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-CUP-350")
    with fl.uow() as uow:
        packing.return_to_stock(uow, fid)
    assert fo.on_hand(fl, "YS-CUP-350", "A-01-02") == 20
    with fl.uow(readonly=True) as uow:
        assert uow.get(waves.WmsWave, wid).state == "done"


def test_channel_order_in_two_cartons_reads_shipped_in_oms(db):
    fl = fo.floor(db)
    oid, fid = fo.channel_order(fl, {"YS-CUP-350": 2, "YS-MUG-01": 1})
    wid = build_and_release(fl)
    pick_all(fl, wid)
    with fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-CUP-350", quantity="2")
    with fl.uow() as uow:
        first = packing.packages_of(uow, fid)[0].id
        packing.close_package(uow, first, weight_kg="0.9")
    with fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-MUG-01")
    with fl.uow() as uow:
        tracking = labels.assign_waybill(uow, fid)
    with fl.uow(readonly=True) as uow:
        pdf, _name = labels.shipping_label_pdf(uow, fid)
        number = uow.get(OmsOrder, oid).number
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 2 and all(number in p.extract_text() and tracking in p.extract_text() for p in pages)
    with fl.uow() as uow:
        out = packing.ship_confirm(uow, fid)
    assert len(out["packages"]) == 2 and out["tracking_number"] == tracking
    with fl.uow(readonly=True) as uow:
        assert uow.get(OmsOrder, oid).status == "shipped"
        assert {p.state for p in uow.session.scalars(select(WmsPackage))} == {"shipped"}
    assert fo.on_hand(fl, "YS-CUP-350", "PACK") == 0


def test_lot_tracked_goods_are_picked_by_the_reserved_lot(db):
    from opensupply.core import resource as rs
    from opensupply.core.errors import ValidationFailed
    from opensupply.inventory import service as inv
    from opensupply.masterdata import resources

    fl = fo.floor(db)
    with fl.uow() as uow:
        rs.create_record(uow, resources.products, {"sku": "YS-TEA-01", "name": "龙井茶", "uom_id": "pcs",
                                                   "tracking": "lot", "cost": D("30"), "barcode": "6901234500042"})
        inv.receive(uow, [inv.StockLine("YS-TEA-01", "5", lot="LJ2026A", unit_cost="30")], fl.wh.loc("A-02-03"))
    fid = fo.order(fl, {"YS-TEA-01": 2})
    wid = build_and_release(fl)
    (task,) = tasks_of(fl, wid)
    assert task.lot_id
    with pytest.raises(ValidationFailed) as e, fl.uow() as uow:
        picking.confirm_pick(uow, task.id, bin_code="A-02-03", product_code="6901234500042", quantity="2",
                             lot="LJ2025Z")
    assert e.value.message == "扫描的批次 LJ2025Z 与拣货任务要求的 LJ2026A 不符"
    with fl.uow() as uow:
        picking.confirm_pick(uow, task.id, bin_code="A-02-03", product_code="6901234500042", quantity="2",
                             lot="LJ2026A")
    with fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-TEA-01", quantity="2", lot="LJ2026A")
    with fl.uow() as uow:
        packing.ship_confirm(uow, fid)
    with fl.uow(readonly=True) as uow:
        lot_id = inv.lots_by_name(uow, [(task.product_id, "LJ2026A")])[(task.product_id, "LJ2026A")]
        assert inv.on_hand(uow, task.product_id, fl.wh.loc("A-02-03"), lot_id) == 3
