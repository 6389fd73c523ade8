"""Putaway: the rules pick fixed bin → same SKU nearby → nearest empty fitting bin (fast movers near
dispatch); confirming by scanning a bin never exceeds its capacity."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.wms import inbound, putaway
from opensupply.wms.models import WmsTask
from opensupply.wms.putaway import BinState, Item, abc_classes, room_for, suggest
from tests.wms.inbound import factories as fi

D = Decimal


def _bins():
    return [BinState(1, "A-01-01", distance=2, distance_class="A", capacity_units=D(10)),
            BinState(2, "A-01-02", distance=3, distance_class="A", capacity_units=D(10), units=D(4),
                     products=frozenset({7})),
            BinState(3, "A-02-01", distance=9, distance_class="C", capacity_units=D(10)),
            BinState(4, "A-02-02", distance=12, distance_class="C", capacity_units=D(10), fixed_product_id=8),
            BinState(5, "A-03-01", distance=15, distance_class="C", capacity_units=D(10), blocked=True),
            BinState(6, "RCV", bin_type="dock", distance=0)]


def test_rules_prefer_fixed_bin_then_same_sku_then_empty_bins():
    assert [(s.code, s.quantity, s.rule) for s in suggest(_bins(), Item(8), D(12))] == [
        ("A-02-02", 10, "fixed"), ("A-02-01", 2, "empty_near")]  # slow mover: the near bins stay free
    assert [(s.code, s.quantity, s.rule) for s in suggest(_bins(), Item(7), D(8))] == [
        ("A-01-02", 6, "same_sku"), ("A-02-01", 2, "empty_near")]
    fast = suggest(_bins(), Item(9, velocity_class="A"), D(5))
    assert [(s.code, s.rule) for s in fast] == [("A-01-01", "fast_mover")]


def test_room_counts_units_volume_and_weight_and_the_fullest_wins():
    b = BinState(1, "A", capacity_units=D(100), capacity_volume_m3=D("1.0"), capacity_weight_kg=D(50),
                 units=D(10), volume=D("0.5"), weight=D(20))
    assert room_for(b, Item(1, volume_m3=D("0.1"), weight_kg=D(1))) == 5  # volume is the limit
    assert room_for(b, Item(1, volume_m3=D("0.01"), weight_kg=D(10))) == 3  # weight is
    assert room_for(b, Item(1)) == 90  # no figures: units only
    assert room_for(BinState(2, "B"), Item(1)) is None
    assert room_for(BinState(3, "C", capacity_units=D(5), fixed_product_id=2), Item(1)) == 0


def test_abc_classes_by_pick_velocity():
    assert abc_classes({1: 70, 2: 15, 3: 10, 4: 5, 5: 0}) == {1: "A", 2: "A", 3: "B", 4: "C", 5: "C"}


bin_strategy = st.builds(
    lambda i, cap, units, vol, fixed, blocked: BinState(
        i, f"B{i}", distance=float(i), distance_class="A" if i < 3 else "C",
        capacity_units=None if cap is None else D(cap), capacity_volume_m3=None if vol is None else D(vol),
        units=D(min(units, cap or units)), fixed_product_id=fixed, blocked=blocked),
    st.integers(0, 0), st.one_of(st.none(), st.integers(0, 30)), st.integers(0, 30),
    st.one_of(st.none(), st.integers(1, 5)), st.one_of(st.none(), st.integers(1, 3)), st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(bin_strategy, min_size=1, max_size=8),
       st.lists(st.tuples(st.integers(1, 3), st.integers(1, 40), st.sampled_from([None, "0.1", "0.5"])),
                min_size=1, max_size=12))
def test_random_putaways_never_exceed_any_bins_capacity(raw_bins, receipts):
    bins = {i: BinState(**{**b.__dict__, "id": i, "code": f"B{i}"}) for i, b in enumerate(raw_bins)}
    for product, qty, vol in receipts:
        item = Item(product, volume_m3=D(vol) if vol else None)
        for s in suggest(list(bins.values()), item, D(qty)):
            room = room_for(bins[s.bin_id], item)
            assert s.quantity > 0 and (room is None or s.quantity <= room)
            bins[s.bin_id] = putaway.after_putaway(bins[s.bin_id], item, s.quantity)
    for b in bins.values():
        if b.capacity_units is not None:
            start = next(r for i, r in enumerate(raw_bins) if i == b.id).units
            assert b.units <= max(b.capacity_units, start)
        if b.capacity_volume_m3 is not None:
            assert b.volume <= b.capacity_volume_m3


def _received(s, qty="10", key="cup"):
    po_id = s.order([(key, qty)])
    with s.uow() as uow:
        po = uow.get(inbound.PurchaseOrder, po_id)
        res = inbound.receive(uow, po.id, s.wh.warehouse_id, [inbound.ReceiveLine(s.products[key], qty)])
        return [t.id for t in res.tasks]


def test_confirm_by_scanning_the_suggested_or_another_fitting_bin_but_never_beyond_capacity(db):
    s = fi.setup(db, capacity_units=D(6))
    task_ids = _received(s, "10")
    with s.uow(readonly=True) as uow:
        tasks = [uow.get(WmsTask, i) for i in task_ids]
        assert [t.quantity for t in tasks] == [6, 4]  # split: one bin holds 6
        first_dest = tasks[0].dest_location_id
    code = next(c for c, b in s.wh.bins.items() if b.location_id == first_dest)
    with pytest.raises(ValidationFailed, match="扫描的商品 YS-MUG-01 与任务要求的 YS-CUP-350 不符"), s.uow() as uow:
        putaway.confirm_putaway(uow, task_ids[0], code, D(6), item_code="YS-MUG-01")
    with s.uow() as uow:
        r = putaway.confirm_putaway(uow, task_ids[0], code, D(6), item_code="YS-CUP-350")
        assert r.warning is None and r.task.state == "done"
    with pytest.raises(Conflict, match="容量不足"), s.uow() as uow:  # that bin is full now
        putaway.confirm_putaway(uow, task_ids[1], code, D(4))
    other = next(c for c, b in s.wh.bins.items() if b.location_id not in (first_dest,)
                 and c != code and b.location_id != tasks[1].dest_location_id)
    with s.uow() as uow:
        r = putaway.confirm_putaway(uow, task_ids[1], other, D(4))
        assert r.warning and other in r.warning and r.task.state == "done"
    assert s.on_hand("cup", code) == 6 and s.on_hand("cup", other) == 4 and s.on_hand("cup", "RCV") == 0
    with pytest.raises(Conflict, match="已完成"), s.uow() as uow:
        putaway.confirm_putaway(uow, task_ids[1], other, D(1))


def test_the_next_receipt_of_a_sku_goes_next_to_the_same_sku(db):
    s = fi.setup(db, capacity_units=D(50))
    first = _received(s, "5")
    with s.uow() as uow:
        t = uow.get(WmsTask, first[0])
        code = next(c for c, b in s.wh.bins.items() if b.location_id == t.dest_location_id)
        putaway.confirm_putaway(uow, t.id, code)
    second = _received(s, "5")
    with s.uow(readonly=True) as uow:
        assert uow.get(WmsTask, second[0]).dest_location_id == s.wh.bins[code].location_id
        assert "同 SKU" in uow.get(WmsTask, second[0]).note


def test_a_fixed_bin_gets_its_sku(db):
    s = fi.setup(db, capacity_units=D(50))
    s.set_bin("A-02-05", fixed_product_sku="YS-MUG-01")
    ids = _received(s, "3", key="mug")
    with s.uow(readonly=True) as uow:
        assert uow.get(WmsTask, ids[0]).dest_location_id == s.wh.bins["A-02-05"].location_id


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["A-01-01", "A-01-02", "A-02-01"]), st.integers(1, 7)),
                min_size=3, max_size=6))
def test_random_scanned_putaways_never_exceed_capacity_in_the_ledger(sqlite_db, scans):
    s = fi.setup(sqlite_db, capacity_units=D(8))
    ids = _received(s, "20")
    with s.uow(readonly=True) as uow:
        tasks = [uow.get(WmsTask, i) for i in ids]
    for code, qty in scans:
        task = next((t for t in tasks if t.qty_done < t.quantity), None)
        if task is None:
            break
        try:
            with s.uow() as uow:
                r = putaway.confirm_putaway(uow, task.id, code, D(min(qty, task.quantity - task.qty_done)))
                task.qty_done = r.task.qty_done
        except Conflict:
            pass
        for c in ("A-01-01", "A-01-02", "A-02-01"):
            assert s.on_hand("cup", c) <= 8


def test_a_blocked_bin_or_another_skus_fixed_bin_is_refused_with_the_reason(db):
    s = fi.setup(db, capacity_units=D(50))
    s.set_bin("A-02-05", fixed_product_sku="YS-MUG-01")
    s.set_bin("A-02-06", blocked=True)
    (task_id,) = _received(s, "3")
    with pytest.raises(Conflict, match="A-02-05 是 YS-MUG-01 的固定库位，不能放 YS-CUP-350"), s.uow() as uow:
        putaway.confirm_putaway(uow, task_id, "A-02-05")
    with pytest.raises(Conflict, match="A-02-06 已锁定"), s.uow() as uow:
        putaway.confirm_putaway(uow, task_id, "A-02-06")
    with pytest.raises(Exception, match="库位不存在：Z-99"), s.uow() as uow:
        putaway.confirm_putaway(uow, task_id, "Z-99")
    assert s.on_hand("cup", "RCV") == 3


def test_fast_movers_go_near_dispatch_and_slow_movers_leave_those_bins_free(db):
    from opensupply.inventory import service as inv

    s = fi.setup(db, capacity_units=D(100))
    fi.stock(s, "cup", "A-02-06", 60)
    with s.uow() as uow:  # the cup sells: class A by pick velocity
        inv.deliver(uow, [inv.StockLine(s.products["cup"], D(50))], s.wh.bins["A-02-06"].location_id)
        bins = {b.code: b for b in putaway.load_bins(uow, s.wh.warehouse_id)}
        assert putaway.velocity_class(uow, s.wh.warehouse_id, s.products["cup"]) == "A"
        assert putaway.velocity_class(uow, s.wh.warehouse_id, s.products["mug"]) == "C"
    near = {c for c, b in bins.items() if b.distance_class == "A"}
    assert near and all(bins[c].distance <= min(b.distance for k, b in bins.items() if k not in near) for c in near)
    with s.uow() as uow:  # A-02-06 still holds 10 cups, so "same SKU" would win: empty it first
        inv.deliver(uow, [inv.StockLine(s.products["cup"], D(10))], s.wh.bins["A-02-06"].location_id)
    cup_task = _received(s, "5", key="cup")
    mug_task = _received(s, "5", key="mug")
    with s.uow(readonly=True) as uow:
        code_of = {b.location_id: c for c, b in s.wh.bins.items()}
        cup_bin = code_of[uow.get(WmsTask, cup_task[0]).dest_location_id]
        mug_bin = code_of[uow.get(WmsTask, mug_task[0]).dest_location_id]
    assert cup_bin in near and mug_bin not in near
