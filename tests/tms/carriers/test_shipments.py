"""Shipments: quotes and the carrier choice, waybills, tracking events (the one place status changes),
the WMS ship event, the OMS order timeline and the late flag."""

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.events import Event, add_to_outbox
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.oms import allocation
from opensupply.oms import fulfilments as ful
from opensupply.oms import orders as oo
from opensupply.oms.models import OmsFulfilment
from opensupply.tms import rates, shipments
from opensupply.tms.models import TmsShipment
from tests import factories as f
from tests.oms.orders import factories as fo

from . import factories as tf


def _setup(db):
    c = f.company(db)
    wh = tf.zhejiang_warehouse(db, c)
    sf = tf.carrier(db, c, "SF", "顺丰速运")
    zto = tf.carrier(db, c, "ZTO", "中通快递")
    tf.sf_card(db, c, sf)
    tf.zto_card(db, c, zto)
    return c, wh, sf, zto


def _uow(c):
    return UnitOfWork(Actor.system(c))


def test_quotes_compare_every_carrier_and_cost_picks_the_cheapest(db):
    c, wh, sf, zto = _setup(db)
    sid = tf.shipment(db, c, warehouse_id=wh, province="北京")  # 2.3 kg → 3 kg
    with _uow(c) as uow:
        quotes = rates.quote(uow, sid)
        by_carrier = {q.carrier_id: q for q in quotes}
        assert by_carrier[sf].total == D("49.00")  # ¥23 + 2 × ¥13
        assert by_carrier[zto].total == D("16.00")  # ¥8 + 2 × ¥4
        best = rates.choose(uow, sid, by="cost")
        assert best.carrier_id == zto
    with _uow(c) as uow:
        s = shipments.get_shipment(uow, sid)
        assert (s.carrier_id, s.quoted_cost, s.choose_by, s.origin_province) == (zto, D("16.00"), "cost", "浙江省")
        rows = rates.comparison(uow, sid)
        assert [r["cheapest"] for r in rows if r["carrier_id"] == zto] == [True]
        assert [r["chosen"] for r in rows if r["carrier_id"] == zto] == [True]
        assert rates.choose(uow, sid, by="lead").carrier_id == sf  # 1 day vs 3
        assert rates.choose(uow, sid, by=str(sf)).carrier_id == sf
        assert shipments.get_shipment(uow, sid).choose_by == "manual"


def test_ineligible_cards_are_shown_with_their_reason(db):
    c, wh, sf, zto = _setup(db)
    sid = tf.shipment(db, c, warehouse_id=wh, province="新疆维吾尔自治区", packages=[{"weight_kg": "2"}])
    with _uow(c) as uow:
        rates.quote(uow, sid)
        rows = {r["carrier_id"]: r for r in rates.comparison(uow, sid)}
    assert not rows[sf]["eligible"] and "新疆" in rows[sf]["reason"]
    assert rows[zto]["eligible"] and rows[zto]["total"] == "40.00"  # ¥18 + ¥12 + 偏远 ¥10
    sid2 = tf.shipment(db, c, warehouse_id=wh, province="西藏自治区")
    with _uow(c) as uow, pytest.raises(ValidationFailed, match="没有可用的承运商报价"):
        rates.choose(uow, sid2, by="cost")


def test_rule_prefers_a_carrier_for_its_provinces(db):
    c, wh, sf, zto = _setup(db)
    with _uow(c) as uow:
        rates.save_carrier_setting(uow, sf, code="SF", connector="manual", app_secret=None,
                                   rules={"priority": 1, "provinces": ["北京"], "warehouses": [wh]})
    bj = tf.shipment(db, c, warehouse_id=wh, province="北京市")
    gd = tf.shipment(db, c, warehouse_id=wh, province="广东省")
    with _uow(c) as uow:
        assert rates.choose(uow, bj, by="rule").carrier_id == sf  # preferred although dearer
        assert rates.choose(uow, gd, by="rule").carrier_id == sf  # only SF covers 广东
    with _uow(c) as uow:
        rates.save_carrier_setting(uow, sf, code="SF", connector="manual",
                                   rules={"priority": 1, "provinces": ["上海"]})
        assert rates.choose(uow, bj, by="rule").carrier_id == zto  # no rule matches: cheapest


def test_waybill_tracking_events_and_replay(db):
    c, wh, sf, _zto = _setup(db)
    t0 = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)  # after the booking
    sid = tf.shipment(db, c, warehouse_id=wh, province="北京", promised_date=t0.date() + dt.timedelta(days=3))
    with _uow(c) as uow:
        rates.choose(uow, sid, by=sf)
        s = shipments.book_waybill(uow, sid)
        assert s.status == "booked" and s.tracking_number.startswith("SF")
    with _uow(c) as uow:
        with pytest.raises(Conflict):
            rates.choose(uow, sid, by="cost")  # booked: the carrier is fixed
        ev = shipments.add_tracking_event(uow, sid, status="in_transit", at=t0, location="杭州转运中心",
                                          source="carrier", external_id="E1")
        assert ev is not None
        assert shipments.add_tracking_event(uow, sid, status="in_transit", at=t0, source="carrier",
                                            external_id="E1") is None  # replay
        shipments.add_tracking_event(uow, sid, status="delivered", at=t0 + dt.timedelta(days=1), source="carrier",
                                     external_id="E3")
        # a late-arriving older event goes on the timeline but does not move the status back
        shipments.add_tracking_event(uow, sid, status="out_for_delivery", at=t0 + dt.timedelta(hours=20),
                                     source="carrier", external_id="E2")
    with _uow(c) as uow:
        s = shipments.get_shipment(uow, sid)
        assert s.status == "delivered" and not s.late and s.shipped_at is not None
        assert [e.status for e in shipments.timeline(uow, sid)] == ["booked", "in_transit", "out_for_delivery",
                                                                    "delivered"]
        with pytest.raises(ValidationFailed):
            shipments.add_tracking_event(uow, sid, status="lost", at=t0)


def test_create_is_idempotent_on_fulfilment_and_source_key(db):
    c, wh, _sf, _zto = _setup(db)
    with _uow(c) as uow:
        a = shipments.create_shipment(uow, warehouse_id=wh, receiver={"province": "浙江"}, packages=[
            {"weight_kg": "1", "length_cm": "10", "width_cm": "20", "height_cm": "30"}], source_key="K1")
        b = shipments.create_shipment(uow, warehouse_id=wh, receiver={}, packages=[], source_key="K1")
        assert a.id == b.id and a.province == "浙江省" and a.volume_m3 == D("0.006")
        with pytest.raises(ValidationFailed):
            shipments.create_shipment(uow, warehouse_id=wh, receiver={}, packages=[], mode="fleet")
        fleet = shipments.create_shipment(uow, warehouse_id=wh, receiver={}, packages=[], mode="fleet",
                                          lat=30.2, lon=120.1, promised_date=dt.date(2026, 11, 26))
        assert fleet.status == "draft"


def test_flag_late_marks_undelivered_past_promise(db):
    c, wh, _sf, _zto = _setup(db)
    late = tf.shipment(db, c, warehouse_id=wh, promised_date=dt.date(2026, 11, 20))
    ok = tf.shipment(db, c, warehouse_id=wh, promised_date=dt.date(2026, 11, 30))
    with _uow(c) as uow:
        assert shipments.flag_late(uow, dt.date(2026, 11, 25)) == 1
        assert shipments.flag_late(uow, dt.date(2026, 11, 25)) == 0
    with _uow(c) as uow:
        assert shipments.get_shipment(uow, late).late and not shipments.get_shipment(uow, ok).late
        rows, total = shipments.list_shipments(uow, late=True)
        assert [r.id for r in rows] == [late] and total == 1


def test_wms_ship_event_creates_the_shipment_and_delivery_reaches_the_order(db):
    w = fo.world(db)
    tf.zhejiang_warehouse(db, w.company)
    sf = tf.carrier(db, w.company, "SF", "顺丰速运")
    tf.sf_card(db, w.company, sf)
    oid = fo.approved(w, [("CUP", 2, "99.80")], province="北京市")
    with w.uow() as uow:
        assert allocation.allocate_orders(uow, [oid])[0]["ok"]
    with w.uow(readonly=True) as uow:
        (fid,) = {x.id for _fl, x in oo.fulfilment_lines_of(uow, [oid])}
    with w.uow() as uow:
        ful.start_picking(uow, [fid], wave_number="W1")
        ful.mark_packed(uow, fid, weight_kg=D("2.3"))
        ful.ship(uow, fid, tracking_number="SF100200300", carrier_id=sf)
        f_ = uow.get(OmsFulfilment, fid)
        payload = {"fulfilment_id": fid, "number": f_.number, "warehouse_id": w.wh1, "carrier_id": sf,
                   "tracking_number": "SF100200300", "packages": [{"number": "P1", "weight_kg": "2.3"}],
                   "receiver": {"name": "张三", "phone": "13800138000", "province": "北京市", "city": "北京市",
                                "district": "朝阳区", "address": "建国路 1 号"}}
    with w.uow() as uow:  # emitted as WMS does; dispatched to TMS after the commit
        event_id = add_to_outbox(uow, "wms.shipment_confirmed", payload)
    with w.uow(readonly=True) as uow:
        assert uow.session.scalars(select(TmsShipment.id).where(TmsShipment.fulfilment_id == fid)).all()
    with w.uow() as uow:  # a redelivered event makes no second shipment
        shipments._on_shipment_confirmed(uow, Event(event_id, "wms.shipment_confirmed", w.company, payload))
    with w.uow() as uow:
        (s,) = uow.session.scalars(select(TmsShipment).where(TmsShipment.fulfilment_id == fid)).all()
        assert s.status == "in_transit" and s.carrier_id == sf and s.quoted_cost == D("49.00")
        assert s.promised_date is not None  # today + 顺丰's 1 day
        assert shipments.flag_late(uow, s.promised_date + dt.timedelta(days=1)) == 1
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        shipments.add_tracking_event(uow, s.id, status="delivered", at=later, location="北京朝阳", source="carrier",
                                     external_id="D1")
    with w.uow(readonly=True) as uow:
        assert uow.get(OmsFulfilment, fid).status == "delivered"
        msgs = [e.message for e in oo.timeline(uow, order_id=oid)]
    assert any("SF100200300" in m and "已签收" in m for m in msgs)
    assert any("运输中" in m for m in msgs)
    assert any("已超过承诺送达日" in m for m in msgs)  # the late flag reaches the order timeline


def test_shipments_for_day_are_unrouted_fleet_deliveries_of_the_depot(db):
    from opensupply.tms.models import TmsDepot

    c, wh, _sf, _zto = _setup(db)
    day = dt.date(2026, 12, 1)
    with _uow(c) as uow:
        depot = uow.add(TmsDepot(code="HZ", name="杭州站", warehouse_id=wh, lat=30.27, lon=120.15))
        uow.flush()
        depot_id = depot.id

        def fleet(**kw):
            return shipments.create_shipment(uow, warehouse_id=wh, receiver={"province": "浙江"},
                                             packages=[{"weight_kg": "3"}], mode="fleet", lat=30.3, lon=120.2,
                                             **kw).id

        today = fleet(promised_date=day)
        tomorrow = fleet(promised_date=day + dt.timedelta(days=1))
        in_window = fleet(window_start=dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC),
                          window_end=dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC))
        done = fleet(promised_date=day)
        shipments.add_tracking_event(uow, done, status="delivered", at=dt.datetime.now(dt.UTC), source="driver")
    with _uow(c) as uow:
        got = [s.id for s in shipments.shipments_for_day(uow, depot_id, day)]
    assert got == [today, in_window] and tomorrow not in got


def test_the_same_carrier_push_racing_twice_is_recorded_once(db):
    import threading

    from opensupply.core.uow import atomic
    from opensupply.tms import tracking
    from opensupply.tms.models import TmsTrackingEvent

    c, wh, sf, _zto = _setup(db)
    sid = tf.shipment(db, c, warehouse_id=wh)
    with _uow(c) as uow:
        rates.choose(uow, sid, by=sf)
        tn = shipments.book_waybill(uow, sid).tracking_number
    push = [{"waybill": tn, "status": "delivered", "at": "2099-01-01T10:00:00+08:00", "event_id": "R1"}]
    results, start = [], threading.Barrier(2)

    def send():
        start.wait()
        results.append(atomic(Actor.system(c), tracking.ingest, sf, push))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["accepted"] for r in results) == [0, 1]
    with _uow(c) as uow:
        n = uow.session.scalars(select(TmsTrackingEvent.id).where(TmsTrackingEvent.shipment_id == sid,
                                                                  TmsTrackingEvent.external_id == "R1")).all()
        assert len(n) == 1 and shipments.get_shipment(uow, sid).status == "delivered"
