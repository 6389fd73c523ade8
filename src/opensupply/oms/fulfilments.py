"""Fulfilments (发货单): what one warehouse ships in one parcel run — lines of one or several
(merged) orders, each pointing at the ERP sales order line whose stock reservation it ships.

The functions WMS calls (``from opensupply.oms import fulfilments as oms_ful``):

* ``ready_fulfilments(uow, warehouse_id, *, carrier_id=None, ship_by_before=None, order_type=None,
  limit=500)`` — allocated, not intercepted, something reserved; priority desc, ship-by, id.
* ``start_picking(uow, fulfilment_ids, *, wave_number)`` — allocated → picking (orders → 拣货中).
* ``pick_plan(uow, fulfilment_id) -> list[PickNeed]`` — the active reservations to move to packing
  with ``inventory.transfer_reserved``.
* ``return_to_pool(uow, fulfilment_ids, *, reason)`` — wave cancelled: picking → allocated (an
  intercepted fulfilment is cancelled instead: its goods go back to free stock).
* ``mark_packed(uow, fulfilment_id, *, weight_kg=None)``
* ``ship(uow, fulfilment_id, *, tracking_number, carrier_id=None, weight_kg=None, packages=1, lines=None)``
  — ships through ``erp.sales.service.deliver`` per sales order; the unshipped rest becomes a
  backorder fulfilment; emits ``oms.fulfilment_shipped`` and queues the tracking push-back.
* ``set_carrier(uow, fulfilment_id, carrier_id)`` — the carrier chosen before shipping (pack station waybill).
* ``is_intercepted(uow, fulfilment_id)``, ``mark_delivered(uow, fulfilment_id)``,
  ``cancel_fulfilment(uow, fulfilment_id, reason)``.

Never ship twice: every function that changes a fulfilment first locks the channel orders on it
(id order), then the fulfilment rows — the same order ``orders.apply_platform_refund`` uses — and
``ship`` refuses an intercepted or cancelled fulfilment (Conflict, code "intercepted").

ERP-entered orders: ``erp.sales_order_confirmed`` of an order not created by the OMS becomes an
allocated fulfilment; ``erp.sales_delivery_done`` of a delivery not made through ``ship`` marks the
fulfilment lines shipped (goods that left outside the warehouse flow).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import exists, select

from opensupply.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from opensupply.core.events import Event, subscribe
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import SalesDelivery, SalesOrder
from opensupply.inventory.models import StockReservation
from opensupply.masterdata import models as md

from . import orders as oo
from .models import OmsFulfilment, OmsFulfilmentLine, OmsOrder, OmsOrderEvent

register_sequence("OMS_FUL", "FH{year}-", 6)

FULFILMENT_LABELS = {"allocated": _l("待拣货"), "picking": _l("拣货中"), "packed": _l("已打包"),
                     "shipped": _l("已发货"), "delivered": _l("已签收"), "cancelled": _l("已取消")}
ORDER_TYPE_LABELS = {"normal": _l("普通"), "presale": _l("预售"), "b2b": _l("批发"), "resend": _l("补发")}
ACTIVE = oo.ACTIVE_FULFILMENT


def status_label(status: str | None) -> str:
    return oo.label(FULFILMENT_LABELS, status)


@dataclass
class ReservationSlice:
    reservation_id: int
    location_id: int
    lot_id: int | None
    quantity: Decimal


@dataclass
class PickNeed:
    fulfilment_line_id: int
    product_id: int
    quantity: Decimal
    reservations: list[ReservationSlice] = field(default_factory=list)


# ------------------------------------------------------------------ helpers
def new_number(uow: UnitOfWork) -> str:
    return next_number(uow, "OMS_FUL")


def get_fulfilment(uow: UnitOfWork, fulfilment_id: int) -> OmsFulfilment:
    try:
        return uow.get(OmsFulfilment, int(fulfilment_id))
    except NotFound:
        raise NotFound(_("发货单不存在：#{id}", id=fulfilment_id), field="fulfilment_id") from None


def open_qty(fl: OmsFulfilmentLine) -> Decimal:
    return to_decimal(fl.quantity) - to_decimal(fl.qty_shipped)


def reservations_of(uow: UnitOfWork, sales_line_ids: Iterable[int]) -> dict[int, list[ReservationSlice]]:
    """Active stock reservations of ERP sales order lines, oldest first."""
    ids = [i for i in sales_line_ids if i]
    out: dict[int, list[ReservationSlice]] = defaultdict(list)
    if not ids:
        return out
    r = StockReservation
    for rid, ref_id, loc, lot, qty in uow.session.execute(
            select(r.id, r.ref_id, r.location_id, r.lot_id, r.quantity)
            .where(r.company_id == uow.company_id, r.ref_type == sales.LINE_REF, r.ref_id.in_(ids),
                   r.state == "active").order_by(r.id)):
        out[ref_id].append(ReservationSlice(rid, loc, lot, to_decimal(qty)))
    return out


def reserved_of(uow: UnitOfWork, sales_line_ids: Iterable[int]) -> dict[int, Decimal]:
    return {k: sum((s.quantity for s in v), ZERO) for k, v in reservations_of(uow, sales_line_ids).items()}


def _order_ids(uow: UnitOfWork, fulfilment_ids: Iterable[int]) -> list[int]:
    ids = list(fulfilment_ids)
    if not ids:
        return []
    return sorted({i for (i,) in uow.session.execute(
        select(OmsFulfilmentLine.order_id).where(OmsFulfilmentLine.fulfilment_id.in_(ids),
                                                 OmsFulfilmentLine.order_id.is_not(None)).distinct())})


def lock(uow: UnitOfWork, fulfilment_ids: Iterable[int]) -> tuple[list[OmsOrder], list[OmsFulfilment]]:
    """Lock the orders on the fulfilments (id order), then the fulfilments (id order)."""
    ids = sorted({int(i) for i in fulfilment_ids})
    orders = oo.lock_orders(uow, _order_ids(uow, ids))
    return orders, oo.lock_fulfilments(uow, ids)


def _refresh_orders(uow: UnitOfWork, orders: Iterable[OmsOrder]) -> None:
    for o in orders:
        oo.refresh_status(uow, o)


def _event_all(uow: UnitOfWork, f: OmsFulfilment, kind: str, message: str, data: dict | None = None) -> None:
    """A timeline row on the fulfilment and on each order it ships."""
    oo.add_event(uow, fulfilment_id=f.id, kind=kind, message=message, data=data)
    for oid in sorted({fl.order_id for fl in f.lines if fl.order_id}):
        oo.add_event(uow, order_id=oid, fulfilment_id=f.id, kind=kind, message=message, data=data)


def _not_intercepted(f: OmsFulfilment) -> None:
    if f.intercepted:
        raise Conflict(_("发货单 {n} 已拦截（{r}），不能继续作业", n=f.number, r=f.intercept_reason or ""),
                       field="fulfilment_id", code="intercepted")


# ------------------------------------------------------------------ queries for WMS
def ready_fulfilments(uow: UnitOfWork, warehouse_id: int, *, carrier_id: int | None = None,
                      ship_by_before: dt.datetime | None = None, order_type: str | None = None,
                      limit: int = 500) -> list[OmsFulfilment]:
    """Fulfilments waiting for the warehouse: allocated, not intercepted, something reserved."""
    f, fl = OmsFulfilment, OmsFulfilmentLine
    stmt = (select(f).where(f.company_id == uow.company_id, f.warehouse_id == warehouse_id, f.status == "allocated",
                            f.intercepted.is_(False),
                            exists().where(fl.fulfilment_id == f.id, fl.qty_reserved > 0)))
    if carrier_id is not None:
        stmt = stmt.where(f.carrier_id == carrier_id)
    if ship_by_before is not None:
        stmt = stmt.where(f.ship_by.is_not(None), f.ship_by <= ship_by_before)
    if order_type:
        stmt = stmt.where(f.order_type == order_type)
    stmt = stmt.order_by(f.priority.desc(), f.ship_by.is_(None), f.ship_by, f.id).limit(limit)
    return list(uow.session.scalars(stmt))


def is_intercepted(uow: UnitOfWork, fulfilment_id: int) -> bool:
    return bool(uow.session.scalar(select(OmsFulfilment.intercepted).where(
        OmsFulfilment.company_id == uow.company_id, OmsFulfilment.id == int(fulfilment_id))))


def pick_plan(uow: UnitOfWork, fulfilment_id: int) -> list[PickNeed]:
    """What to pick for a fulfilment: per line, the open quantity and the reservations (bin, lot,
    quantity) of the ERP sales order line behind it."""
    f = get_fulfilment(uow, fulfilment_id)
    res = reservations_of(uow, [fl.sales_order_line_id for fl in f.lines])
    out = []
    for fl in f.lines:
        q = open_qty(fl)
        if q <= 0:
            continue
        out.append(PickNeed(fl.id, fl.product_id, q, list(res.get(fl.sales_order_line_id, []))))
    return out


# ------------------------------------------------------------------ warehouse steps
def start_picking(uow: UnitOfWork, fulfilment_ids: list[int], *, wave_number: str) -> None:
    """A wave starts: every fulfilment must be allocated and not intercepted (else nothing changes)."""
    if not fulfilment_ids:
        raise ValidationFailed(_("请选择发货单"), field="fulfilment_ids")
    orders, fuls = lock(uow, fulfilment_ids)
    for f in fuls:
        _not_intercepted(f)
        if f.status != "allocated":
            raise Conflict(_("发货单 {n} 当前状态为「{s}」，不能开始拣货", n=f.number, s=status_label(f.status)),
                           field="fulfilment_ids", code="illegal_transition")
    for f in fuls:
        f.status = "picking"
        _event_all(uow, f, "picking", _("波次 {w} 开始拣货", w=wave_number), {"wave_number": wave_number})
    uow.flush()
    for o in orders:
        if o.status == "allocated":
            oo.transition(uow, o, "picking", data={"wave_number": wave_number})
    uow.emit("oms.fulfilment_picking", fulfilment_ids=[f.id for f in fuls], numbers=[f.number for f in fuls],
             wave_number=wave_number)
    uow.flush()


def return_to_pool(uow: UnitOfWork, fulfilment_ids: list[int], *, reason: str) -> None:
    """A wave was cancelled: its fulfilments go back to 待拣货 (intercepted ones are cancelled:
    their goods are back in stock and nothing of them may ship)."""
    orders, fuls = lock(uow, fulfilment_ids)
    for f in fuls:
        if f.status not in ("picking", "packed"):
            raise Conflict(_("发货单 {n} 当前状态为「{s}」，不能退回待拣货", n=f.number, s=status_label(f.status)),
                           field="fulfilment_ids", code="illegal_transition")
    for f in fuls:
        if f.intercepted:
            _cancel(uow, f, reason or str(_("拦截")), reallocate=True)
            continue
        f.status = "allocated"
        _event_all(uow, f, "returned", _("退回待拣货：{r}", r=reason), {"reason": reason})
        uow.emit("oms.fulfilment_returned", fulfilment_id=f.id, number=f.number, reason=reason)
    uow.flush()
    _refresh_orders(uow, [o for o in orders if o.status != "cancelled"])


def mark_packed(uow: UnitOfWork, fulfilment_id: int, *, weight_kg: Decimal | None = None) -> None:
    _orders, (f,) = lock(uow, [fulfilment_id])
    _not_intercepted(f)
    if f.status != "picking":
        raise Conflict(_("发货单 {n} 当前状态为「{s}」，不能打包", n=f.number, s=status_label(f.status)),
                       field="fulfilment_id", code="illegal_transition")
    if weight_kg is not None:
        w = to_decimal(weight_kg)
        if w <= 0:
            raise ValidationFailed(_("重量必须大于 0"), field="weight_kg")
        f.weight_kg = w
    f.status = "packed"
    _event_all(uow, f, "packed", _("已打包") + (f"（{f.weight_kg} kg）" if f.weight_kg else ""))
    uow.emit("oms.fulfilment_packed", fulfilment_id=f.id, number=f.number)
    uow.flush()


def ship(uow: UnitOfWork, fulfilment_id: int, *, tracking_number: str, carrier_id: int | None = None,
         weight_kg: Decimal | None = None, packages: int = 1,
         lines: list[tuple[int, Decimal]] | None = None) -> OmsFulfilment:
    """Ship a fulfilment: stock leaves through the ERP sales orders' reservations (wherever they are
    now, e.g. the packing bench); what is not shipped stays open on a backorder fulfilment."""
    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        raise ValidationFailed(_("请填写运单号"), field="tracking_number")
    orders, (f,) = lock(uow, [fulfilment_id])
    if f.intercepted or f.status == "cancelled":
        raise Conflict(_("发货单 {n} 已拦截或已取消，不能发货{r}", n=f.number,
                         r=f"（{f.intercept_reason}）" if f.intercept_reason else ""),
                       field="fulfilment_id", code="intercepted")
    if f.status not in ACTIVE:
        raise Conflict(_("发货单 {n} 当前状态为「{s}」，不能发货", n=f.number, s=status_label(f.status)),
                       field="fulfilment_id", code="illegal_transition")
    by_id = {fl.id: fl for fl in f.lines}
    reserved = reserved_of(uow, [fl.sales_order_line_id for fl in f.lines])
    want: dict[int, Decimal] = {}
    if lines is not None:
        for lid, qty in lines:
            fl = by_id.get(int(lid))
            if fl is None:
                raise NotFound(_("发货单行不存在：#{id}", id=lid), field="lines")
            q = to_decimal(qty)
            if q < 0:
                raise ValidationFailed(_("数量不能为负数"), field="lines")
            if q > open_qty(fl):
                raise ValidationFailed(_("发货数量 {q} 超过待发数量 {o}", q=oo._fmt(q), o=oo._fmt(open_qty(fl))),
                                       field="lines")
            want[fl.id] = want.get(fl.id, ZERO) + q
    else:
        for fl in f.lines:
            want[fl.id] = min(open_qty(fl), reserved.get(fl.sales_order_line_id, ZERO))
        if not any(q > 0 for q in want.values()):  # nothing reserved: ERP tops up from free stock or refuses
            want = {fl.id: open_qty(fl) for fl in f.lines}
    want = {k: v for k, v in want.items() if v > 0}
    if not want:
        raise ValidationFailed(_("发货单 {n} 没有可发货的数量", n=f.number), field="lines")
    # ship through ERP, one delivery per sales order
    per_so: dict[int, list[sales.DeliveryLineIn]] = defaultdict(list)
    for lid, q in sorted(want.items()):
        fl = by_id[lid]
        if fl.sales_order_id is None or fl.sales_order_line_id is None:
            raise Conflict(_("发货单 {n} 的行没有对应的销售订单", n=f.number), field="lines")
        per_so[fl.sales_order_id].append(sales.DeliveryLineIn(quantity=q, order_line_id=fl.sales_order_line_id))
    deliveries = []
    for so_id in sorted(per_so):
        d = sales.deliver(uow, so_id, per_so[so_id], notes=_("发货单 {n} 运单 {t}", n=f.number, t=tracking_number))
        deliveries.append(d)
        oo.add_event(uow, fulfilment_id=f.id, kind="erp_delivery", message=_("销售出库 {n}", n=d.number),
                     data={"delivery_id": d.id, "sales_order_id": so_id})
    for lid, q in want.items():
        by_id[lid].qty_shipped = to_decimal(by_id[lid].qty_shipped) + q
    # the rest waits on a backorder fulfilment
    rest = [(fl, open_qty(fl)) for fl in f.lines if open_qty(fl) > 0]
    backorder = None
    if rest:
        backorder = OmsFulfilment(
            number=new_number(uow), warehouse_id=f.warehouse_id, shop_id=f.shop_id, status="allocated",
            priority=f.priority, order_type=f.order_type, carrier_id=f.carrier_id, ship_by=f.ship_by,
            receiver_name=f.receiver_name, phone=f.phone, province=f.province, city=f.city, district=f.district,
            address_detail=f.address_detail)
        left = reserved_of(uow, [fl.sales_order_line_id for fl, _q in rest])
        for fl, q in rest:
            backorder.lines.append(OmsFulfilmentLine(
                order_id=fl.order_id, order_line_id=fl.order_line_id, sales_order_id=fl.sales_order_id,
                sales_order_line_id=fl.sales_order_line_id, product_id=fl.product_id, quantity=q,
                qty_reserved=min(q, left.get(fl.sales_order_line_id, ZERO)), qty_shipped=ZERO))
            if to_decimal(fl.qty_shipped) > 0:
                fl.quantity = fl.qty_shipped
            else:
                f.lines.remove(fl)
        uow.add(backorder)
    for fl in f.lines:
        fl.qty_reserved = ZERO
    f.status = "shipped"
    f.tracking_number = tracking_number[:80]
    if carrier_id is not None:
        f.carrier_id = int(carrier_id)
    if weight_kg is not None:
        f.weight_kg = to_decimal(weight_kg)
    f.shipped_at = utcnow()
    uow.flush()
    data = {"tracking_number": f.tracking_number, "packages": int(packages or 1),
            "deliveries": [d.number for d in deliveries]}
    _event_all(uow, f, "shipped", _("已发货，运单号 {t}", t=f.tracking_number), data)
    if backorder is not None:
        _event_all(uow, backorder, "backorder", _("欠货：发货单 {n} 未发完的商品", n=f.number), {"from": f.id})
    uow.flush()
    _refresh_orders(uow, orders)
    uow.emit("oms.fulfilment_shipped", fulfilment_id=f.id, number=f.number, warehouse_id=f.warehouse_id,
             carrier_id=f.carrier_id, tracking_number=f.tracking_number, shop_id=f.shop_id,
             order_ids=[o.id for o in orders], backorder_id=backorder.id if backorder else None)
    from . import tracking

    tracking.queue_push(uow, f)
    return f


def set_carrier(uow: UnitOfWork, fulfilment_id: int, carrier_id: int) -> OmsFulfilment:
    """The carrier a fulfilment will ship with, chosen before it ships (the pack station's waybill):
    the label prints it and ship confirm hands the parcel to it."""
    _orders, (f,) = lock(uow, [fulfilment_id])
    if f.status not in ACTIVE:
        raise Conflict(_("发货单 {n} 当前状态为「{s}」，不能更换承运商", n=f.number, s=status_label(f.status)),
                       field="carrier_id", code="illegal_transition")
    partner = uow.session.get(md.Partner, int(carrier_id))
    if partner is None or partner.company_id != uow.company_id or not partner.is_carrier:
        raise ValidationFailed(_("请选择承运商"), field="carrier_id")
    f.carrier_id = partner.id
    uow.flush()
    return f


def mark_delivered(uow: UnitOfWork, fulfilment_id: int) -> OmsFulfilment:
    """The carrier reports the parcel signed for: 已签收."""
    orders, (f,) = lock(uow, [fulfilment_id])
    if f.status == "delivered":
        return f
    if f.status != "shipped":
        raise Conflict(_("发货单 {n} 当前状态为「{s}」，不能签收", n=f.number, s=status_label(f.status)),
                       field="fulfilment_id", code="illegal_transition")
    f.status = "delivered"
    f.delivered_at = utcnow()
    _event_all(uow, f, "delivered", _("已签收"))
    uow.flush()
    _refresh_orders(uow, orders)
    uow.emit("oms.fulfilment_delivered", fulfilment_id=f.id, number=f.number, order_ids=[o.id for o in orders])
    return f


# ------------------------------------------------------------------ interception / cancellation
def intercept(uow: UnitOfWork, f: OmsFulfilment, reason: str) -> None:
    """Stop a fulfilment the warehouse is working on (the caller holds its lock): it can never ship;
    a 拦截 task is shown on it and to WMS until the goods are put back (``return_to_pool``)."""
    if f.intercepted:
        return
    f.intercepted = True
    f.intercept_reason = (reason or "")[:300] or None
    _event_all(uow, f, "intercepted", _("拦截：{r}", r=reason), {"reason": reason})
    uow.emit("oms.fulfilment_intercepted", fulfilment_id=f.id, number=f.number, warehouse_id=f.warehouse_id,
             reason=reason)
    uow.flush()


def cancel_sales_orders(uow: UnitOfWork, so_ids: Iterable[int], reason: str) -> None:
    """Give the stock of ERP sales orders no fulfilment ships any more back: the order is cancelled
    (or, when part of it already shipped, its waiting backorder)."""
    for so_id in sorted({i for i in so_ids if i}):
        so = uow.get(SalesOrder, so_id)
        if so.state not in ("draft", "confirmed"):
            continue
        still = uow.session.scalar(select(OmsFulfilmentLine.id).join(
            OmsFulfilment, OmsFulfilment.id == OmsFulfilmentLine.fulfilment_id).where(
            OmsFulfilmentLine.sales_order_id == so_id, OmsFulfilment.status.in_(ACTIVE)).limit(1))
        if still is not None:
            continue  # another fulfilment still ships from this order
        shipped = any(d.state == "done" for d in sales.deliveries_of(uow, so_id))
        if not shipped:
            sales.cancel_sales_order(uow, so_id, reason=reason)
        else:
            for d in sales.deliveries_of(uow, so_id):
                if d.state == "waiting":
                    sales.cancel_backorder(uow, d.id, reason=reason)


def _cancel(uow: UnitOfWork, f: OmsFulfilment, reason: str, *, reallocate: bool) -> None:
    f.status = "cancelled"
    f.cancel_reason = (reason or "")[:300] or None
    _event_all(uow, f, "cancelled", _("发货单已取消：{r}", r=reason))
    uow.flush()
    cancel_sales_orders(uow, {fl.sales_order_id for fl in f.lines}, reason)
    uow.emit("oms.fulfilment_cancelled", fulfilment_id=f.id, number=f.number, warehouse_id=f.warehouse_id)
    for oid in sorted({fl.order_id for fl in f.lines if fl.order_id}):
        order = uow.get(OmsOrder, oid)
        if reallocate:
            oo.finish_cancelled(uow, order, reason)
        else:
            still = [x for _fl, x in oo.fulfilment_lines_of(uow, [oid]) if x.status != "cancelled"]
            if still:
                oo.refresh_status(uow, order)
            else:
                if order.status == "picking":
                    oo.transition(uow, order, "allocated")
                if order.status == "allocated":
                    oo.transition(uow, order, "approved", message=_("发货单取消，订单退回已审核：{r}", r=reason))


def cancel_fulfilment(uow: UnitOfWork, fulfilment_id: int, reason: str) -> OmsFulfilment:
    """Cancel a fulfilment not yet shipped: allocated ones (the orders go back to 已审核), or
    intercepted ones whose goods are back on the shelf (refunded orders are cancelled, the rest
    allocated again)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写取消原因"), field="reason")
    _orders, (f,) = lock(uow, [fulfilment_id])
    if f.status == "allocated" or (f.intercepted and f.status in ACTIVE):
        _cancel(uow, f, reason, reallocate=f.intercepted)
        return f
    raise Conflict(_("发货单 {n} 当前状态为「{s}」，不能取消；拣货中的发货单请先拦截", n=f.number,
                     s=status_label(f.status)), field="fulfilment_id", code="illegal_transition")


def intercept_fulfilment(uow: UnitOfWork, fulfilment_id: int, reason: str) -> OmsFulfilment:
    """A person stops a fulfilment (e.g. the buyer called)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写拦截原因"), field="reason")
    _orders, (f,) = lock(uow, [fulfilment_id])
    if f.status not in ACTIVE:
        raise Conflict(_("发货单 {n} 当前状态为「{s}」，不能拦截", n=f.number, s=status_label(f.status)),
                       field="fulfilment_id", code="illegal_transition")
    intercept(uow, f, reason)
    return f


# ------------------------------------------------------------------ backorders
def _free_stock(uow: UnitOfWork, warehouse_id: int, product_ids: set[int]) -> dict[int, list[list]]:
    """Free stock per product in a warehouse's internal locations: [[location_id, lot_id, qty], …]
    ordered by lot expiry (oldest first) and bin code."""
    from sqlalchemy import func

    from opensupply.inventory.models import StockLot, StockQuant
    from opensupply.masterdata import models as md

    q, loc, r = StockQuant, md.Location, StockReservation
    quants = uow.session.execute(
        select(q.product_id, q.location_id, q.lot_id, q.quantity).join(loc, loc.id == q.location_id)
        .outerjoin(StockLot, StockLot.id == q.lot_id)
        .where(q.company_id == uow.company_id, q.product_id.in_(product_ids), q.quantity > 0,
               loc.usage == "internal", loc.active.is_(True), loc.warehouse_id == warehouse_id)
        .order_by(q.product_id, StockLot.expiry_date.is_(None), StockLot.expiry_date, q.lot_id, loc.full_code)).all()
    held: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for pid, lid, lot, qty in uow.session.execute(
            select(r.product_id, r.location_id, r.lot_id, func.sum(r.quantity))
            .where(r.company_id == uow.company_id, r.state == "active", r.product_id.in_(product_ids))
            .group_by(r.product_id, r.location_id, r.lot_id)):
        held[(pid, lid, lot)] += to_decimal(qty or 0)
        held[(pid, lid, "*")] += to_decimal(qty or 0)
    on_loc: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for pid, lid, _lot, qty in quants:
        on_loc[(pid, lid)] += to_decimal(qty)
    out: dict[int, list[list]] = defaultdict(list)
    loc_free = {k: v - held[(k[0], k[1], "*")] for k, v in on_loc.items()}
    for pid, lid, lot, qty in quants:
        free = min(to_decimal(qty) - held[(pid, lid, lot)], loc_free[(pid, lid)]) if lot else loc_free[(pid, lid)]
        if free > 0:
            out[pid].append([lid, lot, free])
            loc_free[(pid, lid)] -= free
    return out


def top_up_reservations(uow: UnitOfWork, fulfilment_ids: Iterable[int] | None = None, *,
                        product_ids: Iterable[int] | None = None, warehouse_ids: Iterable[int] | None = None) -> int:
    """Backorders: reserve stock that arrived since allocation for allocated fulfilments (most urgent
    first), through the inventory service, on the ERP sales order lines behind them. Returns how
    many fulfilment lines got more."""
    from opensupply.inventory import service as inv
    from opensupply.masterdata import models as md

    fl, f = OmsFulfilmentLine, OmsFulfilment
    stmt = (select(fl.fulfilment_id).join(f, f.id == fl.fulfilment_id)
            .where(f.company_id == uow.company_id, f.status == "allocated", f.intercepted.is_(False),
                   fl.sales_order_line_id.is_not(None), fl.qty_reserved < fl.quantity - fl.qty_shipped))
    if fulfilment_ids is not None:
        stmt = stmt.where(f.id.in_(list(fulfilment_ids)))
    if product_ids is not None:
        stmt = stmt.where(fl.product_id.in_(list(product_ids)))
    if warehouse_ids is not None:
        stmt = stmt.where(f.warehouse_id.in_(list(warehouse_ids)))
    ids = sorted({i for (i,) in uow.session.execute(stmt.distinct())})
    if not ids:
        return 0
    _orders, fuls = lock(uow, ids)
    fuls = sorted([x for x in fuls if x.status == "allocated" and not x.intercepted],
                  key=lambda x: (-(x.priority or 0), x.ship_by is None, x.ship_by or utcnow(), x.id))
    changed = 0
    for ful in fuls:
        lines = [ln for ln in ful.lines if ln.sales_order_line_id]
        have = reserved_of(uow, [ln.sales_order_line_id for ln in lines])
        free = _free_stock(uow, ful.warehouse_id, {ln.product_id for ln in lines})
        tracked = {pid for (pid,) in uow.session.execute(select(md.Product.id).where(
            md.Product.id.in_({ln.product_id for ln in lines}), md.Product.tracking != "none"))}
        so_numbers = dict(uow.session.execute(select(SalesOrder.id, SalesOrder.number).where(
            SalesOrder.id.in_({ln.sales_order_id for ln in lines}))).all())
        requests = []
        for ln in lines:
            need = open_qty(ln) - have.get(ln.sales_order_line_id, ZERO)
            for slot in free.get(ln.product_id, []):
                if need <= 0:
                    break
                if ln.product_id in tracked and not slot[1]:
                    continue
                take = min(need, slot[2])
                if take <= 0:
                    continue
                requests.append(inv.ReservationRequest(
                    ln.product_id, slot[0], take, lot_id=slot[1] if ln.product_id in tracked else None,
                    ref_type=sales.LINE_REF, ref_id=ln.sales_order_line_id,
                    reference=so_numbers.get(ln.sales_order_id)))
                slot[2] -= take
                need -= take
        if requests:
            inv.reserve(uow, requests, partial=True)
        now = reserved_of(uow, [ln.sales_order_line_id for ln in lines])
        for ln in lines:
            q = min(open_qty(ln), now.get(ln.sales_order_line_id, ZERO))
            if q != to_decimal(ln.qty_reserved):
                if q > to_decimal(ln.qty_reserved):
                    changed += 1
                ln.qty_reserved = q
        if requests:
            oo.add_event(uow, fulfilment_id=ful.id, kind="reserved", message=_("到货后补充预留库存"))
    uow.flush()
    return changed


@subscribe("inventory.moves_done", "oms.top_up_backorders")
def _on_moves_done(uow: UnitOfWork, event: Event) -> None:
    from opensupply.inventory.models import StockMove
    from opensupply.masterdata import models as md

    move_ids = event.payload.get("move_ids") or []
    if not move_ids:
        return
    rows = uow.session.execute(select(StockMove.product_id, md.Location.warehouse_id)
                               .join(md.Location, md.Location.id == StockMove.dest_location_id)
                               .where(StockMove.id.in_(move_ids), md.Location.usage == "internal",
                                      md.Location.warehouse_id.is_not(None))).all()
    if rows:
        top_up_reservations(uow, product_ids={p for p, _w in rows}, warehouse_ids={w for _p, w in rows})


# ------------------------------------------------------------------ ERP-entered orders
def _partner_address(p) -> dict:
    return {"receiver_name": (getattr(p, "contact_name", None) or p.name or "")[:120] or None,
            "phone": (getattr(p, "phone", None) or "")[:20] or None,
            "province": getattr(p, "province", None), "city": getattr(p, "city", None),
            "district": getattr(p, "district", None),
            "address_detail": (getattr(p, "address", None) or "")[:300] or None}


def ship_to_provinces(uow: UnitOfWork, *, since: dt.date, until: dt.date) -> dict[int, str]:
    """The receiver's province per ERP sales order dated in [since, until] shipped by a (not cancelled)
    fulfilment: where the goods of a channel order go, which the ERP customer (the shop's platform account)
    does not tell. One query."""
    return dict(uow.session.execute(
        select(OmsFulfilmentLine.sales_order_id, OmsFulfilment.province)
        .join(OmsFulfilment, OmsFulfilment.id == OmsFulfilmentLine.fulfilment_id)
        .join(SalesOrder, SalesOrder.id == OmsFulfilmentLine.sales_order_id)
        .where(OmsFulfilment.company_id == uow.company_id, OmsFulfilment.status != "cancelled",
               OmsFulfilment.province.is_not(None), SalesOrder.order_date >= since, SalesOrder.order_date <= until)
        .distinct()).all())


def fulfilment_for_sales_order(uow: UnitOfWork, sales_order_id: int) -> OmsFulfilment | None:
    """An allocated fulfilment for a confirmed ERP sales order entered outside the OMS (idempotent)."""
    so = uow.get(SalesOrder, sales_order_id)
    if so.state != "confirmed" or so.created_by_module == "oms":
        return None
    if uow.session.scalar(select(OmsFulfilmentLine.id).where(OmsFulfilmentLine.sales_order_id == so.id).limit(1)):
        return None
    stock = [ln for ln in so.lines if ln.product.product_type != "service"]
    if so.warehouse_id is None or not any(to_decimal(ln.qty_delivered) < to_decimal(ln.quantity) for ln in stock):
        return None  # nothing left to ship (delivered before this event was handled)
    reserved = reserved_of(uow, [ln.id for ln in stock])
    f = OmsFulfilment(number=new_number(uow), warehouse_id=so.warehouse_id, shop_id=None, status="allocated",
                      order_type="b2b" if so.channel in ("direct", "wholesale", "offline") else "normal",
                      ship_by=(dt.datetime.combine(so.requested_date, dt.time(10, 0), dt.UTC)
                               if so.requested_date else None),
                      **_partner_address(so.customer))
    for ln in stock:
        q = to_decimal(ln.quantity)
        done = min(q, to_decimal(ln.qty_delivered))
        f.lines.append(OmsFulfilmentLine(sales_order_id=so.id, sales_order_line_id=ln.id, product_id=ln.product_id,
                                         quantity=q, qty_shipped=done,
                                         qty_reserved=min(q - done, reserved.get(ln.id, ZERO))))
    uow.add(f)
    uow.flush()
    for d in sales.deliveries_of(uow, so.id):  # already counted above: their events must not count again
        if d.state == "done":
            oo.add_event(uow, fulfilment_id=f.id, kind="erp_delivery", message=_("销售出库 {n}", n=d.number),
                         data={"delivery_id": d.id, "sales_order_id": so.id})
    oo.add_event(uow, fulfilment_id=f.id, kind="created", message=_("来自销售订单 {n}", n=so.number),
                 data={"sales_order_id": so.id})
    uow.emit("oms.fulfilment_created", fulfilment_id=f.id, number=f.number, warehouse_id=f.warehouse_id,
             sales_order_id=so.id)
    return f


@subscribe("erp.sales_order_confirmed", "oms.fulfilment_for_erp_order")
def _on_sales_order_confirmed(uow: UnitOfWork, event: Event) -> None:
    if (event.payload.get("created_by_module") or "erp") == "oms":
        return  # the OMS made it itself: its fulfilment exists already
    fulfilment_for_sales_order(uow, int(event.payload["sales_order_id"]))


@subscribe("erp.sales_delivery_done", "oms.erp_delivery_done")
def _on_delivery_done(uow: UnitOfWork, event: Event) -> None:
    so_id, delivery_id = event.payload.get("sales_order_id"), event.payload.get("delivery_id")
    if not so_id or not delivery_id:
        return
    fl, f = OmsFulfilmentLine, OmsFulfilment
    fids = sorted({i for (i,) in uow.session.execute(select(fl.fulfilment_id).where(fl.sales_order_id == so_id))})
    if not fids:
        return
    for ev in uow.session.scalars(select(OmsOrderEvent).where(OmsOrderEvent.fulfilment_id.in_(fids),
                                                              OmsOrderEvent.kind == "erp_delivery")):
        if (ev.data or {}).get("delivery_id") == delivery_id:
            return  # shipped through the OMS
    delivery = uow.get(SalesDelivery, int(delivery_id))
    open_fids = [i for (i,) in uow.session.execute(select(f.id).where(f.id.in_(fids), f.status.in_(ACTIVE)))]
    if not open_fids:
        return
    orders, fuls = lock(uow, open_fids)
    left = {dl.order_line_id: to_decimal(dl.quantity) for dl in delivery.lines}
    for ful in fuls:
        for line in ful.lines:
            q = min(left.get(line.sales_order_line_id, ZERO), open_qty(line))
            if q > 0:
                line.qty_shipped = to_decimal(line.qty_shipped) + q
                left[line.sales_order_line_id] -= q
        if all(open_qty(line) <= 0 for line in ful.lines):
            ful.status, ful.shipped_at = "shipped", utcnow()
            _event_all(uow, ful, "shipped", _("已在 ERP 出库 {n}（未经仓库作业）", n=delivery.number),
                       {"delivery_id": delivery.id})
    uow.flush()
    _refresh_orders(uow, orders)


@subscribe("erp.sales_order_cancelled", "oms.erp_order_cancelled")
def _on_sales_order_cancelled(uow: UnitOfWork, event: Event) -> None:
    if (event.payload.get("created_by_module") or "erp") == "oms":
        return
    so_id = event.payload.get("sales_order_id")
    fids = [i for (i,) in uow.session.execute(select(OmsFulfilmentLine.fulfilment_id).where(
        OmsFulfilmentLine.sales_order_id == so_id).distinct())]
    if not fids:
        return
    _orders, fuls = lock(uow, fids)
    for ful in fuls:
        if ful.status == "allocated":
            ful.status, ful.cancel_reason = "cancelled", str(_("销售订单已取消"))
            _event_all(uow, ful, "cancelled", _("销售订单已取消"))
        elif ful.status in ("picking", "packed"):
            intercept(uow, ful, str(_("销售订单已取消")))


def bulk_result(uow: UnitOfWork, ids: Iterable[int], fn) -> list[dict]:
    """Per-fulfilment results of a bulk action (each in its own savepoint)."""
    out = []
    for fid in ids:
        try:
            with uow.session.begin_nested():
                fn(int(fid))
            ok, msg = True, str(_("成功"))
        except DomainError as exc:
            ok, msg = False, exc.message
        number = uow.session.scalar(select(OmsFulfilment.number).where(OmsFulfilment.company_id == uow.company_id,
                                                                       OmsFulfilment.id == int(fid)))
        out.append({"id": int(fid), "number": number, "ok": ok, "message": str(msg)})
    return out


# ------------------------------------------------------------------ lists and views
def list_fulfilments(uow: UnitOfWork, *, q: str | None = None, status: str | None = None,
                     warehouse_id: int | None = None, intercepted: bool | None = None, limit: int = 50,
                     offset: int = 0) -> tuple[list[OmsFulfilment], int]:
    from sqlalchemy import func, or_

    f = OmsFulfilment
    stmt = select(f).where(f.company_id == uow.company_id)
    if status:
        stmt = stmt.where(f.status == status)
    if warehouse_id:
        stmt = stmt.where(f.warehouse_id == int(warehouse_id))
    if intercepted is not None:
        stmt = stmt.where(f.intercepted.is_(bool(intercepted)))
    if q and q.strip():
        like = f"%{q.strip()}%"
        by_order = select(OmsFulfilmentLine.fulfilment_id).join(OmsOrder, OmsOrder.id == OmsFulfilmentLine.order_id) \
            .where(or_(OmsOrder.number.ilike(like), OmsOrder.channel_order_id.ilike(like)))
        stmt = stmt.where(or_(f.number.ilike(like), f.tracking_number.ilike(like), f.id.in_(by_order)))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(uow.session.scalars(stmt.order_by(f.id.desc()).limit(limit).offset(offset)))
    return rows, total


def fulfilment_dict(uow: UnitOfWork, f: OmsFulfilment, *, buyer_data: bool, lines: bool = True) -> dict:
    from opensupply.masterdata import models as md

    wh = uow.session.get(md.Warehouse, f.warehouse_id)
    d = {"id": f.id, "number": f.number, "warehouse_id": f.warehouse_id, "warehouse_name": wh.name if wh else None,
         "shop_id": f.shop_id, "status": f.status, "status_label": status_label(f.status), "priority": f.priority,
         "order_type": f.order_type, "order_type_label": oo.label(ORDER_TYPE_LABELS, f.order_type),
         "carrier_id": f.carrier_id, "tracking_number": f.tracking_number,
         "ship_by": f.ship_by.isoformat() if f.ship_by else None,
         "receiver_name": f.receiver_name if buyer_data else oo.mask_name(f.receiver_name),
         "phone": f.phone if buyer_data else oo.mask_phone(f.phone), "province": f.province, "city": f.city,
         "district": f.district,
         "address_detail": f.address_detail if buyer_data else oo.mask_detail(f.address_detail),
         "weight_kg": str(f.weight_kg) if f.weight_kg is not None else None, "intercepted": f.intercepted,
         "intercept_reason": f.intercept_reason, "shipped_at": f.shipped_at.isoformat() if f.shipped_at else None,
         "delivered_at": f.delivered_at.isoformat() if f.delivered_at else None,
         "pushed_at": f.pushed_at.isoformat() if f.pushed_at else None, "cancel_reason": f.cancel_reason,
         "reserved": str(sum((to_decimal(fl.qty_reserved) for fl in f.lines), ZERO)),
         "quantity": str(sum((to_decimal(fl.quantity) for fl in f.lines), ZERO))}
    if lines:
        from opensupply.masterdata.models import Product

        prods = {p.id: p for p in uow.session.scalars(select(Product).where(
            Product.id.in_({fl.product_id for fl in f.lines})))} if f.lines else {}
        numbers = dict(uow.session.execute(select(OmsOrder.id, OmsOrder.number).where(
            OmsOrder.id.in_({fl.order_id for fl in f.lines if fl.order_id}))).all()) if f.lines else {}
        so_numbers = dict(uow.session.execute(select(SalesOrder.id, SalesOrder.number).where(
            SalesOrder.id.in_({fl.sales_order_id for fl in f.lines if fl.sales_order_id}))).all()) if f.lines else {}
        d["lines"] = [{"id": fl.id, "order_id": fl.order_id, "order_number": numbers.get(fl.order_id),
                       "order_line_id": fl.order_line_id, "sales_order_id": fl.sales_order_id,
                       "sales_order_number": so_numbers.get(fl.sales_order_id),
                       "sales_order_line_id": fl.sales_order_line_id, "product_id": fl.product_id,
                       "sku": prods[fl.product_id].sku if fl.product_id in prods else None,
                       "product_name": prods[fl.product_id].name if fl.product_id in prods else None,
                       "quantity": str(fl.quantity), "qty_reserved": str(fl.qty_reserved),
                       "qty_shipped": str(fl.qty_shipped)} for fl in f.lines]
    return d
