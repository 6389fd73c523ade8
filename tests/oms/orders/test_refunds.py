"""Refunds and cancellations from the platform: before picking the stock goes back; at picking
the fulfilment is intercepted and can never ship; after shipping it is an after-sales case.
Orders entered in the ERP become fulfilments too."""

from decimal import Decimal

import pytest

from opensupply.core import jobs
from opensupply.core.errors import Conflict
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import SalesOrder
from opensupply.inventory import service as inv
from opensupply.oms import allocation
from opensupply.oms import fulfilments as ful
from opensupply.oms import orders as oo
from opensupply.oms.models import OmsFulfilment, OmsOrder
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
        return list({f.id: f for _fl, f in oo.fulfilment_lines_of(uow, [oid], active_only=False)}.values())


def _allocated(w, lines, **kw) -> tuple[int, OmsFulfilment]:
    oid = fo.approved(w, lines, **kw)
    with w.uow() as uow:
        assert allocation.allocate_orders(uow, [oid])[0]["ok"]
    return oid, _fuls(w, oid)[0]


def _available(w, sku) -> Decimal:
    with w.uow(readonly=True) as uow:
        return inv.available(uow, w.products[sku])


def test_refund_before_picking_cancels_the_sales_order_and_frees_the_stock(db):
    w = fo.world(db)
    before = _available(w, "CUP")
    oid, f = _allocated(w, [("CUP", 2, "100")])
    assert _available(w, "CUP") == before - 2
    with w.uow() as uow:
        assert oo.apply_platform_refund(uow, oid, reason="买家申请退款") == "cancelled"
    assert _available(w, "CUP") == before
    o = _order(w, oid)
    assert o.status == "cancelled" and o.refund_status == "refunded"
    with w.uow(readonly=True) as uow:
        assert uow.get(SalesOrder, f.lines[0].sales_order_id).state == "cancelled"
        assert uow.get(OmsFulfilment, f.id).status == "cancelled"


def test_refund_of_one_line_reallocates_the_rest(db):
    w = fo.world(db)
    oid, _f = _allocated(w, [("CUP", 1, "50"), ("TOWEL", 1, "20")])
    towel = next(ln for ln in _order(w, oid).lines if ln.channel_sku == "TOWEL")
    with w.uow() as uow:
        assert oo.apply_platform_refund(uow, oid, line_ids=[towel.id], reason="毛巾缺货退款") == "reallocated"
    o = _order(w, oid)
    assert o.status == "allocated"
    live = [x for x in _fuls(w, oid) if x.status == "allocated"]
    assert [fl.product_id for x in live for fl in x.lines] == [w.products["CUP"]]
    assert _available(w, "TOWEL") == D(50)


def test_refund_during_picking_intercepts_and_ship_refuses(db):
    w = fo.world(db)
    oid, f = _allocated(w, [("CUP", 2, "100")])
    with w.uow() as uow:
        ful.start_picking(uow, [f.id], wave_number="W1")
    with w.uow() as uow:
        assert oo.apply_platform_refund(uow, oid, reason="仅退款") == "intercepted"
    with w.uow(readonly=True) as uow:
        assert ful.is_intercepted(uow, f.id)
        assert ful.ready_fulfilments(uow, w.wh1) == []
    with w.uow() as uow:
        with pytest.raises(Conflict) as e:
            ful.ship(uow, f.id, tracking_number="SF1")
    assert e.value.code == "intercepted"
    with w.uow() as uow:
        with pytest.raises(Conflict):
            ful.mark_packed(uow, f.id)
    with w.uow() as uow:  # the warehouse puts the goods back
        ful.return_to_pool(uow, [f.id], reason="拦截归位")
    assert _order(w, oid).status == "cancelled"
    assert _available(w, "CUP") == D(120)


def test_refund_after_shipping_is_an_after_sales_case(db):
    w = fo.world(db)
    oid, f = _allocated(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        ful.ship(uow, f.id, tracking_number="SF2")
    with w.uow() as uow:
        assert oo.apply_platform_refund(uow, oid, reason="退货退款") == "after_sales"
    o = _order(w, oid)
    assert o.status == "shipped" and o.refund_status == "requested"


def test_user_cancel_and_deallocate(db):
    w = fo.world(db)
    oid, _f = _allocated(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        allocation.deallocate_order(uow, oid, "换仓")
    assert _order(w, oid).status == "approved"
    assert _available(w, "CUP") == D(120)
    with w.uow() as uow:
        res = oo.cancel_orders(uow, [oid], "买家电话取消")
    assert res[0]["ok"] and _order(w, oid).status == "cancelled"


def test_sales_order_entered_in_erp_becomes_a_fulfilment(db):
    w = fo.world(db)
    with w.uow() as uow:
        so = sales.create_sales_order(uow, customer_id=w.customer, warehouse_id=w.wh1, confirm=True,
                                      lines=[sales.SalesLineIn(product_id=w.products["TOWEL"], quantity=3,
                                                               unit_price=20)])
        so_id = so.id
    # the event was dispatched after the commit
    with w.uow(readonly=True) as uow:
        from sqlalchemy import select

        from opensupply.oms.models import OmsFulfilmentLine

        fl = uow.session.scalars(select(OmsFulfilmentLine).where(OmsFulfilmentLine.sales_order_id == so_id)).one()
        f = uow.get(OmsFulfilment, fl.fulfilment_id)
        assert f.status == "allocated" and f.shop_id is None and fl.qty_reserved == 3
    with w.uow() as uow:  # shipped in the ERP, not through the warehouse flow
        sales.deliver(uow, so_id)
    with w.uow(readonly=True) as uow:
        assert uow.get(OmsFulfilment, f.id).status == "shipped"


def test_oms_created_sales_orders_do_not_get_a_second_fulfilment(db):
    w = fo.world(db)
    _oid, _f = _allocated(w, [("CUP", 1, "50")])
    with w.uow(readonly=True) as uow:
        from sqlalchemy import func, select

        n = uow.session.scalar(select(func.count()).select_from(OmsFulfilment))
    assert n == 1


def test_refund_after_a_partial_shipment_stops_the_backorder(db):
    w = fo.world(db)
    oid, f = _allocated(w, [("CUP", 3, "150")])
    with w.uow() as uow:
        ful.ship(uow, f.id, tracking_number="SF3", lines=[(f.lines[0].id, D(1))])
    assert _available(w, "CUP") == D(117)  # 120 − 1 shipped − 2 still reserved
    with w.uow() as uow:
        assert oo.apply_platform_refund(uow, oid, reason="不要剩下的了") == "after_sales"
    o = _order(w, oid)
    assert o.status == "shipped" and o.refund_status == "requested"
    assert sorted(x.status for x in _fuls(w, oid)) == ["cancelled", "shipped"]
    assert _available(w, "CUP") == D(119)


def test_partial_refund_at_picking_intercepts_then_the_rest_is_allocated_again(db):
    w = fo.world(db)
    oid, f = _allocated(w, [("CUP", 1, "50"), ("TOWEL", 1, "20")])
    towel = next(ln for ln in _order(w, oid).lines if ln.channel_sku == "TOWEL")
    with w.uow() as uow:
        ful.start_picking(uow, [f.id], wave_number="W9")
    with w.uow() as uow:
        assert oo.apply_platform_refund(uow, oid, line_ids=[towel.id], reason="毛巾不要了") == "intercepted"
    with w.uow() as uow:
        ful.return_to_pool(uow, [f.id], reason="拦截归位")
    o = _order(w, oid)
    assert o.status == "allocated"
    fs = _fuls(w, oid)
    assert sorted(x.status for x in fs) == ["allocated", "cancelled"]
    live = next(x for x in fs if x.status == "allocated")
    assert [fl.product_id for fl in live.lines] == [w.products["CUP"]]
    assert _available(w, "TOWEL") == D(50) and _available(w, "CUP") == D(119)


def test_refund_of_one_merged_order_keeps_the_other_in_the_fulfilment(db):
    w = fo.world(db)
    a = fo.approved(w, [("CUP", 1, "50")])
    b = fo.approved(w, [("TOWEL", 1, "20")])
    with w.uow() as uow:
        oo.merge_orders(uow, [a, b])
    with w.uow() as uow:
        allocation.allocate_orders(uow, [a])
    (f,) = _fuls(w, a)
    with w.uow() as uow:
        assert oo.apply_platform_refund(uow, a, reason="买家取消", cancelled=True) == "cancelled"
    (f2,) = _fuls(w, b)
    assert f2.id == f.id and f2.status == "allocated"
    assert [fl.order_id for fl in f2.lines] == [b]
    assert _order(w, a).status == "cancelled" and _order(w, b).status == "allocated"
    assert _available(w, "CUP") == D(120)


def test_erp_order_partly_delivered_before_the_event_is_handled(db, monkeypatch):
    from sqlalchemy import select

    from opensupply.core import events
    from opensupply.oms.models import OmsFulfilmentLine

    w = fo.world(db)
    monkeypatch.setattr(events, "dispatch_pending", lambda db=None, limit=500: 0)  # events wait
    with w.uow() as uow:
        so = sales.create_sales_order(uow, customer_id=w.customer, warehouse_id=w.wh1, confirm=True,
                                      lines=[sales.SalesLineIn(product_id=w.products["TOWEL"], quantity=3,
                                                               unit_price=20)])
        sales.deliver(uow, so.id, [sales.DeliveryLineIn(quantity=1, order_line_id=so.lines[0].id)])
        so_id = so.id
    monkeypatch.undo()
    from opensupply.core.events import dispatch_pending

    dispatch_pending(db)  # confirmed, then delivery done: in order, once each
    with w.uow(readonly=True) as uow:
        fl = uow.session.scalars(select(OmsFulfilmentLine).where(OmsFulfilmentLine.sales_order_id == so_id)).one()
        assert (fl.quantity, fl.qty_shipped, fl.qty_reserved) == (3, 1, 2)
        assert uow.get(OmsFulfilment, fl.fulfilment_id).status == "allocated"
