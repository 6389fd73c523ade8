"""The order flow as a shop runs it: approve → allocate (ERP sales order, reservations) → pick →
pack → ship (ERP delivery, tracking) → delivered; holds, merge, split and backorders."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from opensupply.core import jobs
from opensupply.core.errors import Conflict
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import SalesOrder
from opensupply.inventory import service as inv
from opensupply.oms import allocation
from opensupply.oms import fulfilments as ful
from opensupply.oms import orders as oo
from opensupply.oms.models import OmsFulfilment, OmsOrder, OmsOrderEvent
from tests.oms.orders import factories as fo

D = Decimal


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)


def _order(w, oid) -> OmsOrder:
    with w.uow(readonly=True) as uow:
        o = uow.get(OmsOrder, oid)
        _ = o.lines
        return o


def _fuls(w, oid) -> list[OmsFulfilment]:
    with w.uow(readonly=True) as uow:
        return [f for _fl, f in oo.fulfilment_lines_of(uow, [oid], active_only=False)]


def test_approve_allocate_pick_pack_ship_deliver(db):
    w = fo.world(db)
    oid = fo.order(w, [("CUP", 2, "99.80"), ("TOWEL", 1, "25.00")], freight="8.00")
    with w.uow() as uow:
        res = oo.approve_orders(uow, [oid])
    assert res[0]["ok"], res
    with w.uow() as uow:
        res = allocation.allocate_orders(uow, [oid])
    assert res[0]["ok"], res
    o = _order(w, oid)
    assert o.status == "allocated" and o.warehouse_id == w.wh1  # 杭州 has everything and is nearest
    (f,) = {x.id: x for x in _fuls(w, oid)}.values()
    assert f.status == "allocated" and f.warehouse_id == w.wh1
    assert sorted(fl.qty_reserved for fl in f.lines) == [D(1), D(2)]
    with w.uow(readonly=True) as uow:
        so = uow.get(SalesOrder, f.lines[0].sales_order_id)
        assert so.state == "confirmed" and so.created_by_module == "oms" and so.source_ref == o.channel_order_id
        assert so.amount_total == D("132.80")  # 实付款: goods 124.80 + freight 8.00
        assert inv.available(uow, w.products["CUP"]) == D(118)  # 100 + 20 − 2
        assert [x.id for x in ful.ready_fulfilments(uow, w.wh1)] == [f.id]
        plan = ful.pick_plan(uow, f.id)
    assert sorted(p.quantity for p in plan) == [D(1), D(2)]
    assert all(sum(s.quantity for s in p.reservations) == p.quantity for p in plan)

    with w.uow() as uow:
        ful.start_picking(uow, [f.id], wave_number="W1")
    assert _order(w, oid).status == "picking"
    with w.uow() as uow:
        with pytest.raises(Conflict):
            ful.start_picking(uow, [f.id], wave_number="W2")
    with w.uow() as uow:
        ful.mark_packed(uow, f.id, weight_kg=D("1.2"))
    with w.uow() as uow:
        ful.ship(uow, f.id, tracking_number="SF1234567890")
    o = _order(w, oid)
    assert o.status == "shipped"
    with w.uow(readonly=True) as uow:
        so = uow.get(SalesOrder, f.lines[0].sales_order_id)
        assert sales.delivery_status(so) == "full"
        assert inv.on_hand(uow, w.products["CUP"]) == D(118)
        kinds = [e.kind for e in oo.timeline(uow, order_id=oid)]
    assert kinds.index("approved") < kinds.index("allocated") < kinds.index("picking") < kinds.index("shipped")
    with w.uow() as uow:
        ful.mark_delivered(uow, f.id)
    assert _order(w, oid).status == "delivered"


def test_illegal_transitions_are_refused_with_a_clear_message(db):
    w = fo.world(db)
    oid = fo.order(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        res = allocation.allocate_orders(uow, [oid])
    assert not res[0]["ok"] and "待审核" in res[0]["message"]
    with w.uow() as uow:
        (o,) = oo.lock_orders(uow, [oid])
        with pytest.raises(Conflict) as e:
            oo.transition(uow, o, "shipped")
    assert e.value.code == "illegal_transition" and "已发货" in e.value.message


def test_holds_block_approval_until_released(db):
    w = fo.world(db)
    oid = fo.order(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        hold = oo.place_hold(uow, oid, "buyer_message", "买家要求周末送达")
        hold_id = hold.id
    with w.uow() as uow:
        res = oo.approve_orders(uow, [oid])
    assert not res[0]["ok"] and "挂起" in res[0]["message"]
    with w.uow() as uow:
        oo.release_hold(uow, hold_id)
    with w.uow() as uow:
        assert oo.approve_orders(uow, [oid])[0]["ok"]
    assert not _order(w, oid).on_hold


def test_merged_orders_ship_as_one_fulfilment_and_different_recipients_never_merge(db):
    w = fo.world(db)
    a = fo.approved(w, [("CUP", 1, "50")])
    b = fo.approved(w, [("TOWEL", 2, "40")])
    other = fo.approved(w, [("CUP", 1, "50")], name="李四", detail="滨江区江南大道 2 号")
    with w.uow() as uow:
        with pytest.raises(Conflict) as e:
            oo.merge_orders(uow, [a, other])
    assert e.value.code == "merge_refused"
    with w.uow() as uow:
        master = oo.merge_orders(uow, [b, a])
        assert master.id == a
    with w.uow() as uow:
        res = allocation.allocate_orders(uow, [b])  # the merge partner comes along
    assert [r["ok"] for r in res] == [True]
    fa, fb = _fuls(w, a), _fuls(w, b)
    assert {x.id for x in fa} == {x.id for x in fb} and len({x.id for x in fa}) == 1
    assert _order(w, a).status == _order(w, b).status == "allocated"
    with w.uow(readonly=True) as uow:  # one ERP sales order per channel order
        assert len({fl.sales_order_id for fl in fa[0].lines}) == 2


def test_unmerge_before_allocation(db):
    w = fo.world(db)
    a = fo.approved(w, [("CUP", 1, "50")])
    b = fo.approved(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        oo.merge_orders(uow, [a, b])
    with w.uow() as uow:
        oo.unmerge_order(uow, b)
    with w.uow() as uow:
        allocation.allocate_orders(uow, [a, b])
    assert {x.id for x in _fuls(w, a)} != {x.id for x in _fuls(w, b)}


def test_split_by_warehouse_availability(db):
    w = fo.world(db)  # TOWEL only in 杭州, LAMP only in 广州
    oid = fo.approved(w, [("TOWEL", 1, "20"), ("LAMP", 1, "80")])
    with w.uow() as uow:
        assert allocation.allocate_orders(uow, [oid])[0]["ok"]
    fs = {x.id: x for x in _fuls(w, oid)}.values()
    assert sorted(x.warehouse_id for x in fs) == sorted([w.wh1, w.wh2])
    with w.uow(readonly=True) as uow:
        refs = sorted(uow.get(SalesOrder, x.lines[0].sales_order_id).source_ref for x in fs)
    base = _order(w, oid).channel_order_id
    assert refs == [base, base + "#2"]


def test_no_split_when_the_shop_forbids_it_leaves_a_backorder(db):
    w = fo.world(db, shop_settings={"allow_split": False})
    oid = fo.approved(w, [("TOWEL", 1, "20"), ("LAMP", 1, "80")])
    with w.uow() as uow:
        assert allocation.allocate_orders(uow, [oid])[0]["ok"]
    (f,) = {x.id: x for x in _fuls(w, oid)}.values()
    assert sorted(fl.qty_reserved for fl in f.lines) == [D(0), D(1)]


def test_province_distance_and_preferred_warehouse(db):
    w = fo.world(db)  # CUP in both
    gd = fo.approved(w, [("CUP", 1, "50")], province="广东省")
    zj = fo.approved(w, [("CUP", 1, "50")], province="浙江省")
    with w.uow() as uow:
        allocation.allocate_orders(uow, [gd, zj])
    assert _order(w, gd).warehouse_id == w.wh2 and _order(w, zj).warehouse_id == w.wh1
    w2 = fo.world(db)
    with w2.uow() as uow:
        from opensupply.oms.models import OmsShop

        uow.get(OmsShop, w2.shop).default_warehouse_id = w2.wh2
    zj2 = fo.approved(w2, [("CUP", 1, "50")], province="浙江省")
    with w2.uow() as uow:
        allocation.allocate_orders(uow, [zj2])
    assert _order(w2, zj2).warehouse_id == w2.wh2


def test_priority_decides_who_gets_scarce_stock(db):
    w = fo.world(db, stock={"LAMP": {"GZ": 1}})
    normal = fo.approved(w, [("LAMP", 1, "80")])
    vip = fo.approved(w, [("LAMP", 1, "80")], priority=10)
    with w.uow() as uow:
        allocation.allocate_orders(uow, [normal, vip])
    assert _fuls(w, vip)[0].lines[0].qty_reserved == 1
    assert _fuls(w, normal)[0].lines[0].qty_reserved == 0
    with w.uow(readonly=True) as uow:
        ready = [x.id for x in ful.ready_fulfilments(uow, w.wh2)]
    assert ready == [_fuls(w, vip)[0].id]  # the backorder waits for stock


def test_manual_split_ships_as_two_parcels(db):
    w = fo.world(db)
    oid = fo.approved(w, [("CUP", 3, "150")])
    line = _order(w, oid).lines[0].id
    with w.uow() as uow:
        oo.split_order(uow, oid, [{line: 1}, {str(line): "2"}])
    with w.uow() as uow:
        assert allocation.allocate_orders(uow, [oid])[0]["ok"]
    fs = list({x.id: x for x in _fuls(w, oid)}.values())
    assert sorted(fl.quantity for x in fs for fl in x.lines) == [D(1), D(2)]
    assert len({x.lines[0].sales_order_id for x in fs}) == 1  # one ERP order per channel order and warehouse
    with w.uow() as uow:
        with pytest.raises(Exception):
            oo.split_order(uow, oid, [{line: 1}, {line: 1}])


def test_partial_ship_leaves_a_backorder_fulfilment(db):
    w = fo.world(db)
    oid = fo.approved(w, [("CUP", 3, "150"), ("TOWEL", 1, "20")])
    with w.uow() as uow:
        allocation.allocate_orders(uow, [oid])
    (f,) = _fuls(w, oid)[:1]
    cup_line = next(fl for fl in f.lines if fl.quantity == 3)
    with w.uow() as uow:
        ful.ship(uow, f.id, tracking_number="YT0001", lines=[(cup_line.id, D(2))])
    fs = {x.id: x for x in _fuls(w, oid)}
    assert sorted(x.status for x in fs.values()) == ["allocated", "shipped"]
    back = next(x for x in fs.values() if x.status == "allocated")
    assert sorted(fl.quantity for fl in back.lines) == [D(1), D(1)]
    assert _order(w, oid).status == "allocated"
    with w.uow() as uow:
        ful.ship(uow, back.id, tracking_number="YT0002")
    assert _order(w, oid).status == "shipped"


def test_shipping_writes_the_tracking_number_back_or_asks_for_a_manual_upload(db):
    w = fo.world(db)
    oid = fo.approved(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        allocation.allocate_orders(uow, [oid])
    f = _fuls(w, oid)[0]
    with w.uow() as uow:
        ful.ship(uow, f.id, tracking_number="SF0001")
    with w.uow(readonly=True) as uow:
        job = uow.session.scalars(select(jobs.Job).where(jobs.Job.kind == "oms.push_tracking")).one()
    jobs.run_job(db, job.id)
    with w.uow(readonly=True) as uow:
        kinds = [e.kind for e in uow.session.scalars(select(OmsOrderEvent).where(OmsOrderEvent.order_id == oid))]
    assert "tracking_manual" in kinds


def test_tracking_number_is_pushed_to_the_platform_when_the_shop_has_api_settings(db, monkeypatch):
    from opensupply.oms import connectors, tracking
    from opensupply.oms.models import OmsShop

    pushed = []

    class FakeConnector:
        def push_shipment(self, client, channel_order_id, carrier_code, tracking_number):
            pushed.append((channel_order_id, carrier_code, tracking_number))

    monkeypatch.setattr(connectors, "get_connector", lambda channel: FakeConnector())
    monkeypatch.setattr(tracking, "_client", lambda shop: object())
    w = fo.world(db)
    with w.uow() as uow:
        shop = uow.get(OmsShop, w.shop)
        shop.app_key, shop.access_token = "key", "token"
    oid = fo.approved(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        allocation.allocate_orders(uow, [oid])
    f = _fuls(w, oid)[0]
    with w.uow() as uow:
        ful.ship(uow, f.id, tracking_number="SF0002")
    with w.uow() as uow:
        assert tracking.push_fulfilment(uow, f.id) == {"pushed": 1, "manual": 0, "failed": 0}
    assert pushed == [(_order(w, oid).channel_order_id, "OTHER", "SF0002")]
    with w.uow() as uow:  # once is enough
        assert tracking.push_fulfilment(uow, f.id)["pushed"] == 0
    with w.uow(readonly=True) as uow:
        assert uow.get(OmsFulfilment, f.id).pushed_at is not None


def test_auto_merge_at_allocation_when_the_shop_asks_for_it(db):
    w = fo.world(db, shop_settings={"auto_merge": True})
    a = fo.approved(w, [("CUP", 1, "50")])
    b = fo.approved(w, [("TOWEL", 1, "20")])
    c = fo.approved(w, [("CUP", 1, "50")], name="李四", detail="江南大道 2 号")
    with w.uow() as uow:
        assert all(r["ok"] for r in allocation.allocate_orders(uow, [a, b, c]))
    assert {x.id for x in _fuls(w, a)} == {x.id for x in _fuls(w, b)}
    assert {x.id for x in _fuls(w, a)} != {x.id for x in _fuls(w, c)}
    assert _order(w, b).merged_into_id == a


def test_stock_arriving_tops_up_backorders_most_urgent_first(db):
    w = fo.world(db, stock={"LAMP": {"GZ": 1}})
    normal = fo.approved(w, [("LAMP", 2, "160")])
    vip = fo.approved(w, [("LAMP", 2, "160")], priority=10)
    with w.uow() as uow:
        allocation.allocate_orders(uow, [normal, vip])
    assert _fuls(w, vip)[0].lines[0].qty_reserved == 1
    assert _fuls(w, normal)[0].lines[0].qty_reserved == 0
    with w.uow() as uow:  # 2 more arrive in 广州: the VIP order is complete first, then the other gets 1
        inv.receive(uow, [inv.StockLine("LAMP", "2", unit_cost="10")], "GZ/STOCK/A-01-01", reference="RCV2")
    assert _fuls(w, vip)[0].lines[0].qty_reserved == 2
    assert _fuls(w, normal)[0].lines[0].qty_reserved == 1
    with w.uow(readonly=True) as uow:
        assert inv.available(uow, w.products["LAMP"]) == 0
        assert {x.id for x in ful.ready_fulfilments(uow, w.wh2)} == {_fuls(w, vip)[0].id, _fuls(w, normal)[0].id}


def test_presale_orders_ship_on_their_own_fulfilment_type(db):
    import datetime as dt

    w = fo.world(db)
    pre = fo.approved(w, [("CUP", 1, "50")], presale=True)
    now = fo.approved(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        assert all(r["ok"] for r in allocation.allocate_orders(uow, [pre, now]))
    assert _fuls(w, pre)[0].order_type == "presale" and _fuls(w, now)[0].order_type == "normal"
    with w.uow(readonly=True) as uow:
        assert [f.id for f in ful.ready_fulfilments(uow, w.wh1, order_type="presale")] == [_fuls(w, pre)[0].id]
        assert [f.id for f in ful.ready_fulfilments(uow, w.wh1, order_type="normal")] == [_fuls(w, now)[0].id]
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        assert ful.ready_fulfilments(uow, w.wh1, ship_by_before=soon) == []  # no promised dates in this test
