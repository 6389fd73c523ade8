"""Intake: one order per (shop, platform order number); a replayed feed is a no-op; unknown
products and bad addresses are held, not lost; later platform versions update the order."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.events import OutboxEvent
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.oms import intake, shops
from opensupply.oms.channel_order import RowError
from opensupply.oms.models import OmsHold, OmsOrder, OmsOrderEvent, OmsOrderLine
from tests import factories as f
from tests.oms.intake.factories import dump, order, shop


def _import(db, company_id, shop_id, items, **kw):
    with UnitOfWork(Actor.system(company_id), db=db) as uow:
        return intake.import_channel_orders(uow, shop_id, items, **kw)


def _feed():
    return [
        order("T1001", ("SKU-A", 2, "49.5")),
        order("T1002", ("SKU-A", 1, "49.5"), ("SKU-B", 3, "10")),
        order("T1003", ("NOPE-1", 1, "20")),  # unknown 商家编码
        order("T1004", address="杭州文一西路", receiver_phone="138****8000"),  # incomplete address
        order("T1005", buyer_message="请发顺丰"),
        RowError(line=12, reason="缺少订单编号"),
    ]


def _orders(db):
    with db.sessionmaker() as s:
        return {o.channel_order_id: o for o in s.scalars(select(OmsOrder))}


def _holds(db, order_id):
    with db.sessionmaker() as s:
        return sorted(h.kind for h in s.scalars(select(OmsHold).where(OmsHold.order_id == order_id,
                                                                      OmsHold.released_at.is_(None))))


def test_replaying_a_feed_three_times_leaves_the_database_as_once(db):
    c = f.company(db)
    f.product(db, c, "SKU-A")
    f.product(db, c, "SKU-B")
    s = shop(db, c)
    first = _import(db, c, s, _feed())
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    assert first.rejected == [{"line": 12, "reason": "缺少订单编号"}]
    once = dump(db)
    for _ in range(2):
        again = _import(db, c, s, _feed())
        assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
        assert again.rejected == [{"line": 12, "reason": "缺少订单编号"}]
    assert dump(db) == once
    assert len(once["oms_order"]) == 5 and len(once["oms_order_line"]) == 6
    assert sum(1 for a in once["audit_log"] if a[6] == "oms_order") == 5  # one audit row per order


def test_orders_are_numbered_matched_normalized_and_held_at_intake(db):
    c = f.company(db)
    a = f.product(db, c, "SKU-A")
    s = shop(db, c)
    _import(db, c, s, _feed())
    orders = _orders(db)
    o1 = orders["T1001"]
    assert o1.number.startswith("SO") and o1.status == "pending" and not o1.on_hold
    assert (o1.phone, o1.province, o1.city, o1.district) == ("13800138000", "浙江省", "杭州市", "余杭区")
    assert o1.receiver_phone == "+86-138 0013 8000"  # stored as received too
    assert o1.lines[0].product_id == a and o1.lines[0].quantity == Decimal(2)
    assert _holds(db, orders["T1003"].id) == ["unmatched_product"] and orders["T1003"].on_hold
    assert orders["T1003"].lines[0].product_id is None
    assert _holds(db, orders["T1002"].id) == ["unmatched_product"]  # SKU-B is unknown in this company
    assert _holds(db, orders["T1004"].id) == ["address"]
    assert not orders["T1004"].address_complete
    assert _holds(db, orders["T1005"].id) == ["buyer_message"]
    assert len({o.number for o in orders.values()}) == 5
    with db.sessionmaker() as ses:
        assert ses.scalar(select(func.count()).select_from(OmsOrderEvent).where(OmsOrderEvent.kind == "created")) == 5
        ev = ses.scalars(select(OutboxEvent).where(OutboxEvent.name == "oms.orders_imported")).one()
        assert ev.payload["created"] == 5 and len(ev.payload["order_ids"]) == 5


def test_mapping_a_code_fixes_open_orders_and_releases_the_hold(db):
    c = f.company(db)
    p = f.product(db, c, "KETTLE-1")
    s = shop(db, c)
    _import(db, c, s, [order("T1", ("NOPE-1", 1, "20")), order("T2", ("NOPE-1", 2, "20"), ("NOPE-2", 1, "5"))])
    with UnitOfWork(Actor.system(c), db=db) as uow:
        unmatched = {u["channel_sku"]: u for u in shops.unmatched_skus(uow, s)}
        assert unmatched["NOPE-1"]["orders"] == 2 and unmatched["NOPE-2"]["orders"] == 1
        assert shops.map_sku(uow, s, "NOPE-1", p) == 2
    orders = _orders(db)
    assert not orders["T1"].on_hold and _holds(db, orders["T1"].id) == []
    assert orders["T1"].lines[0].product_id == p
    assert orders["T2"].on_hold and _holds(db, orders["T2"].id) == ["unmatched_product"]  # NOPE-2 still unknown
    # the mapping is remembered: a new order with that code is matched at intake
    _import(db, c, s, [order("T3", ("NOPE-1", 1, "20"))])
    assert _orders(db)["T3"].lines[0].product_id == p and not _orders(db)["T3"].on_hold


def test_a_changed_pending_order_is_rewritten(db):
    c = f.company(db)
    f.product(db, c, "SKU-A")
    f.product(db, c, "SKU-B")
    s = shop(db, c)
    _import(db, c, s, [order("T1", ("NOPE", 1, "20"))])
    before = _orders(db)["T1"]
    res = _import(db, c, s, [order("T1", ("SKU-A", 1, "20"), ("SKU-B", 2, "5"), seller_memo="加急")])
    assert (res.created, res.updated, res.unchanged) == (0, 1, 0)
    after = _orders(db)["T1"]
    assert after.id == before.id and after.number == before.number
    assert [ln.channel_sku for ln in after.lines] == ["SKU-A", "SKU-B"] and after.seller_memo == "加急"
    assert not after.on_hold and _holds(db, after.id) == []
    with db.sessionmaker() as ses:
        assert ses.scalar(select(func.count()).select_from(OmsOrderLine)) == 2
        kinds = list(ses.scalars(select(OmsOrderEvent.kind).where(OmsOrderEvent.order_id == after.id)
                                 .order_by(OmsOrderEvent.id)))
        assert kinds == ["created", "updated"]


def test_unpaid_is_stored_held_and_cancelled_is_stored_cancelled(db):
    c = f.company(db)
    f.product(db, c, "SKU-A")
    s = shop(db, c)
    _import(db, c, s, [order("U1", status="unpaid", platform_status="等待买家付款", paid_at=None),
                       order("X1", status="cancelled", platform_status="交易关闭")])
    orders = _orders(db)
    assert orders["U1"].status == "pending" and _holds(db, orders["U1"].id) == ["risk"]
    assert orders["X1"].status == "cancelled" and not orders["X1"].on_hold
    # the buyer pays: the next version releases the hold
    _import(db, c, s, [order("U1")])
    assert _holds(db, _orders(db)["U1"].id) == [] and not _orders(db)["U1"].on_hold
    # platform cancels a pending order
    _import(db, c, s, [order("U1", status="cancelled", platform_status="交易关闭")])
    assert _orders(db)["U1"].status == "cancelled"


def test_structurally_broken_orders_are_rejected_with_their_line(db):
    c = f.company(db)
    s = shop(db, c)
    bad = order("B1", ("SKU-A", 1, "10"))
    bad.lines[0].quantity = Decimal(0)
    res = _import(db, c, s, [bad, RowError(line=7, reason="购买数量无法识别"), order("OK1")])
    assert res.created == 1
    assert {r["line"] for r in res.rejected} == {2, 7}
    assert "数量" in res.rejected[0]["reason"]


def test_same_order_twice_in_a_feed_keeps_the_later_version(db):
    c = f.company(db)
    s = shop(db, c)
    res = _import(db, c, s, [order("D1", seller_memo="旧"), order("D1", seller_memo="新")])
    assert res.created == 1
    assert _orders(db)["D1"].seller_memo == "新"


def test_refund_after_approval_goes_to_the_order_flow(db, monkeypatch):
    c = f.company(db)
    f.product(db, c, "SKU-A")
    s = shop(db, c)
    _import(db, c, s, [order("R1", ("SKU-A", 1, "20"), ("SKU-A", 2, "20"))])
    oid = _orders(db)["R1"].id
    with UnitOfWork(Actor.system(c), db=db) as uow:  # as if approved by the order flow
        uow.session.get(OmsOrder, oid).status = "approved"
    calls = []
    real = intake._orders_fn
    monkeypatch.setattr(intake, "_orders_fn", lambda name: (lambda uow, order_id, **kw: calls.append(
        (order_id, kw))) if name == "apply_platform_refund" else real(name))
    refunded = order("R1", ("SKU-A", 1, "20"), ("SKU-A", 2, "20"), platform_status="退款中")
    refunded.lines[1].refund_status = "requested"
    res = _import(db, c, s, [refunded])
    assert res.updated == 1
    o = _orders(db)["R1"]
    assert o.status == "approved" and o.platform_status == "退款中"
    assert [ln.refund_status for ln in o.lines] == ["none", "requested"]
    assert calls == [(oid, {"line_ids": [o.lines[1].id], "reason": "平台退款：退款中", "cancelled": False})]
    cancelled = order("R1", ("SKU-A", 1, "20"), ("SKU-A", 2, "20"), status="cancelled", platform_status="交易关闭")
    _import(db, c, s, [cancelled])
    assert calls[-1] == (oid, {"line_ids": None, "reason": "平台取消订单", "cancelled": True})


def test_shop_is_created_once_with_its_platform_customer(db):
    c = f.company(db)
    with UnitOfWork(Actor.system(c), db=db) as uow:
        a = shops.get_or_create_shop(uow, channel="jd")
        b = shops.get_or_create_shop(uow, channel="jd")
        other = shops.get_or_create_shop(uow, channel="jd", name="京东二店")
        assert a.id == b.id and a.name == "京东" and a.code == "JD"
        assert other.id != a.id and other.code == "JD-2"
        assert a.customer_id and a.customer_id != other.customer_id
        assert shops.shop_out(a)["app_secret"].startswith("******")


def test_auto_approve_shop_approves_orders_without_holds(db):
    c = f.company(db)
    f.product(db, c, "SKU-A")
    s = shop(db, c, auto_approve=True)
    _import(db, c, s, [order("A1", ("SKU-A", 1, "99")), order("A2", ("NOPE", 1, "99"))])
    orders = _orders(db)
    assert orders["A1"].status == "approved"
    assert orders["A2"].status == "pending" and orders["A2"].on_hold


def test_price_hold_for_an_order_paid_far_below_its_goods_but_not_for_a_free_gift(db):
    c = f.company(db)
    f.product(db, c, "SKU-A")
    f.product(db, c, "GIFT")
    s = shop(db, c)
    cheap = order("P1", ("SKU-A", 1, "100"))
    cheap.paid_amount = Decimal("9.90")
    _import(db, c, s, [cheap, order("P2", ("SKU-A", 1, "100"), ("GIFT", 1, "0"))])
    orders = _orders(db)
    assert _holds(db, orders["P1"].id) == ["price"]
    assert _holds(db, orders["P2"].id) == [] and not orders["P2"].on_hold
