"""售后 returns: goods a buyer sends back after shipping.

* ``create_return(uow, order_id, lines=[(order_line_id, qty)], *, reason, refund_amount=None,
  tracking_number=None) -> OmsReturn`` — only shipped quantities not yet returned (requested).
* ``receive_return(uow, return_id, *, disposition="restock"|"scrap"|{line_id: …}, warehouse_id=None)``
  — the parcel arrives: stock moves customer → the warehouse's stock area (restock), or further
  to the scrap location (scrap); status received.
* ``refund_return(uow, return_id, *, amount=None)`` — the money: when the order's ERP invoice covers
  exactly what came back it is cancelled with a credit note (红字发票, ``erp.sales.service.cancel_invoice``);
  otherwise the refund amount is recorded for the platform settlement; status done.
* ``cancel_return(uow, return_id, reason)``.
Every step writes the order's timeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md
from opensupply.masterdata import service as mds

from . import orders as oo
from .models import OmsFulfilment, OmsFulfilmentLine, OmsOrder, OmsReturn, OmsReturnLine

register_sequence("OMS_RET", "TH{year}-", 6)
RETURN_LABELS = {"requested": _l("待收货"), "received": _l("已收货"), "done": _l("已退款"), "cancelled": _l("已取消")}
DISPOSITION_LABELS = {"restock": _l("入库"), "scrap": _l("报废")}
RETURN_REF = "oms.return"


def status_label(status: str | None) -> str:
    return oo.label(RETURN_LABELS, status)


def get_return(uow: UnitOfWork, return_id: int, *, for_update: bool = False) -> OmsReturn:
    try:
        return uow.get(OmsReturn, int(return_id), for_update=for_update)
    except NotFound:
        raise NotFound(_("退货单不存在：#{id}", id=return_id), field="return_id") from None


def shipped_quantities(uow: UnitOfWork, order_id: int) -> dict[int, Decimal]:
    fl, f = OmsFulfilmentLine, OmsFulfilment
    rows = uow.session.execute(select(fl.order_line_id, func.sum(fl.qty_shipped)).join(f, f.id == fl.fulfilment_id)
                               .where(f.company_id == uow.company_id, fl.order_id == order_id,
                                      f.status.in_(("shipped", "delivered")))
                               .group_by(fl.order_line_id)).all()
    return {lid: to_decimal(q or 0) for lid, q in rows if lid}


def returned_quantities(uow: UnitOfWork, order_id: int) -> dict[int, Decimal]:
    rl, r = OmsReturnLine, OmsReturn
    rows = uow.session.execute(select(rl.order_line_id, func.sum(rl.quantity)).join(r, r.id == rl.return_id)
                               .where(r.company_id == uow.company_id, r.order_id == order_id,
                                      r.status != "cancelled").group_by(rl.order_line_id)).all()
    return {lid: to_decimal(q or 0) for lid, q in rows}


def create_return(uow: UnitOfWork, order_id: int, lines: Iterable[tuple[int, Decimal]] | None = None, *,
                  reason: str, refund_amount: Decimal | str | None = None,
                  tracking_number: str | None = None) -> OmsReturn:
    """A buyer sends goods back (lines=None: everything shipped and not yet returned)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写退货原因"), field="reason")
    (order,) = oo.lock_orders(uow, [order_id])
    if order.status not in ("shipped", "delivered"):
        raise Conflict(_("订单 {n} 当前状态为「{s}」，发货后才能退货；未发货请直接退款或取消", n=order.number,
                         s=oo.status_label(order.status)), field="order_id", code="illegal_transition")
    shipped = shipped_quantities(uow, order.id)
    returned = returned_quantities(uow, order.id)
    left = {lid: q - returned.get(lid, ZERO) for lid, q in shipped.items()}
    by_id = {ln.id: ln for ln in order.lines}
    wanted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for lid, qty in (lines if lines is not None else [(k, v) for k, v in left.items() if v > 0]):
        lid = int(lid)
        if lid not in by_id:
            raise ValidationFailed(_("订单行 #{id} 不属于订单 {n}", id=lid, n=order.number), field="lines")
        try:
            q = to_decimal(qty)
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationFailed(_("数量格式不正确：{v}", v=qty), field="lines") from None
        if q <= 0:
            raise ValidationFailed(_("退货数量必须大于 0"), field="lines")
        wanted[lid] += q
    if not wanted:
        raise ValidationFailed(_("没有可退货的商品"), field="lines")
    for lid, q in wanted.items():
        if q > left.get(lid, ZERO):
            ln = by_id[lid]
            raise ValidationFailed(_("{t} 退货数量 {q} 超过可退数量 {a}", t=ln.title or ln.channel_sku, q=oo._fmt(q),
                                     a=oo._fmt(left.get(lid, ZERO))), field="lines")
    if refund_amount in (None, ""):
        amount = sum((to_decimal(by_id[lid].paid_amount) * q / to_decimal(by_id[lid].quantity)
                      for lid, q in wanted.items()), ZERO).quantize(Decimal("0.01"), ROUND_HALF_UP)
    else:
        amount = to_decimal(refund_amount)
        if amount < 0:
            raise ValidationFailed(_("退款金额不能为负数"), field="refund_amount")
    fid = uow.session.scalar(select(OmsFulfilmentLine.fulfilment_id).where(OmsFulfilmentLine.order_id == order.id)
                             .order_by(OmsFulfilmentLine.id.desc()).limit(1))
    ret = OmsReturn(number=next_number(uow, "OMS_RET"), order_id=order.id, fulfilment_id=fid, status="requested",
                    reason=reason[:300], refund_amount=amount,
                    tracking_number=(tracking_number or "").strip()[:80] or None)
    ret.lines = [OmsReturnLine(order_line_id=lid, product_id=by_id[lid].product_id, quantity=q)
                 for lid, q in sorted(wanted.items())]
    uow.add(ret)
    uow.flush()
    oo.add_event(uow, order_id=order.id, kind="return", message=_("售后退货 {n}：{r}", n=ret.number, r=reason),
                 data={"return_id": ret.id})
    uow.emit("oms.return_created", return_id=ret.id, number=ret.number, order_id=order.id)
    return ret


def _warehouse_stock(uow: UnitOfWork, warehouse_id: int) -> int:
    wh = uow.get(md.Warehouse, warehouse_id)
    if not wh.stock_location_id:
        raise ValidationFailed(_("仓库 {w} 没有库存库位", w=wh.name), field="warehouse_id")
    return wh.stock_location_id


def receive_return(uow: UnitOfWork, return_id: int, *, disposition: str | dict = "restock",
                   warehouse_id: int | None = None, location_id: int | None = None) -> OmsReturn:
    """The parcel arrived: restock (customer → the warehouse's stock area, or `location_id`) or
    scrap (customer → warehouse → scrap location), per line or for all."""
    ret = get_return(uow, return_id, for_update=True)
    if ret.status != "requested":
        raise Conflict(_("退货单 {n} 当前状态为「{s}」，不能收货", n=ret.number, s=status_label(ret.status)),
                       field="status", code="illegal_transition")
    order = uow.get(OmsOrder, ret.order_id)
    wh_id = warehouse_id
    if wh_id is None and ret.fulfilment_id:
        wh_id = uow.get(OmsFulfilment, ret.fulfilment_id).warehouse_id
    wh_id = wh_id or order.warehouse_id
    if wh_id is None:
        raise ValidationFailed(_("请选择退货入库的仓库"), field="warehouse_id")
    dest = int(location_id) if location_id else _warehouse_stock(uow, int(wh_id))
    customer = mds.virtual_location(uow, "customer").id
    scrap = mds.virtual_location(uow, "scrap").id
    specs, scrap_specs, line_of = [], [], []
    for rl in ret.lines:
        d = disposition.get(rl.id, disposition.get(str(rl.id), "restock")) if isinstance(disposition, dict) \
            else disposition
        if d not in DISPOSITION_LABELS:
            raise ValidationFailed(_("处理方式不正确：{d}", d=d), field="disposition")
        rl.disposition = d
        if rl.product_id is None:
            continue
        specs.append(inv.MoveSpec(rl.product_id, to_decimal(rl.quantity), customer, dest, ref_type=RETURN_REF,
                                  ref_id=ret.id, reference=ret.number, note=str(_("售后退货"))))
        line_of.append(rl)
        if d == "scrap":
            scrap_specs.append(inv.MoveSpec(rl.product_id, to_decimal(rl.quantity), dest, scrap, ref_type=RETURN_REF,
                                            ref_id=ret.id, reference=ret.number, note=str(_("退货报废"))))
    if specs:
        ids = inv.post_moves(uow, specs)
        for rl, mid in zip(line_of, ids, strict=True):
            rl.move_id = mid
    if scrap_specs:
        inv.post_moves(uow, scrap_specs)
    ret.status = "received"
    ret.received_at = utcnow()
    uow.flush()
    summary = "、".join(f"{oo.label(DISPOSITION_LABELS, rl.disposition)} {oo._fmt(rl.quantity)}" for rl in ret.lines)
    oo.add_event(uow, order_id=ret.order_id, kind="return_received",
                 message=_("退货 {n} 已收货：{s}", n=ret.number, s=summary), data={"return_id": ret.id})
    uow.emit("oms.return_received", return_id=ret.id, number=ret.number, order_id=ret.order_id)
    return ret


def refund_return(uow: UnitOfWork, return_id: int, *, amount: Decimal | str | None = None) -> OmsReturn:
    """Refund the buyer: a credit note when the order's invoice covers exactly the returned goods,
    else the amount is recorded (the platform pays it; settlement reconciles it)."""
    ret = get_return(uow, return_id, for_update=True)
    if ret.status != "received":
        raise Conflict(_("退货单 {n} 当前状态为「{s}」，收货后才能退款", n=ret.number, s=status_label(ret.status)),
                       field="status", code="illegal_transition")
    if amount not in (None, ""):
        a = to_decimal(amount)
        if a < 0:
            raise ValidationFailed(_("退款金额不能为负数"), field="amount")
        ret.refund_amount = a
    (order,) = oo.lock_orders(uow, [ret.order_id])
    credit = None
    returned = {rl.order_line_id: to_decimal(rl.quantity) for rl in ret.lines}
    so_ids = {fl.sales_order_id for fl, _f in oo.fulfilment_lines_of(uow, [order.id]) if fl.sales_order_id
              and fl.order_line_id in returned}
    for so_id in sorted(so_ids):
        for invoice in sales.invoices_of(uow, so_id):
            if invoice.kind != "invoice" or invoice.state == "cancelled":
                continue
            goods = [ln for ln in invoice.lines if ln.description != "运费"]
            if goods and all(_returned_for(uow, ln.order_line_id, order, returned) == to_decimal(ln.quantity)
                             for ln in goods):
                credit = sales.cancel_invoice(uow, invoice.id, reason=_("售后退货 {n}", n=ret.number))
    for ln in order.lines:
        if ln.id in returned:
            ln.refund_status = "refunded"
    order.refund_status = "refunded" if all(ln.refund_status == "refunded" for ln in order.lines) else "requested"
    ret.status = "done"
    ret.refunded_at = utcnow()
    uow.flush()
    msg = _("退货 {n} 已退款 {a}", n=ret.number, a=f"{to_decimal(ret.refund_amount):.2f}")
    if credit is not None:
        msg += _("，红字发票 {c}", c=credit.number)
    oo.add_event(uow, order_id=order.id, kind="return_refunded", message=msg,
                 data={"return_id": ret.id, "credit_note": credit.number if credit else None})
    uow.emit("oms.return_refunded", return_id=ret.id, number=ret.number, order_id=order.id,
             amount=ret.refund_amount)
    return ret


def _returned_for(uow: UnitOfWork, sales_line_id: int | None, order: OmsOrder, returned: dict[int, Decimal]
                  ) -> Decimal:
    """The quantity of this return that belongs to an ERP sales order line."""
    total = ZERO
    for fl, _f in oo.fulfilment_lines_of(uow, [order.id]):
        if fl.sales_order_line_id == sales_line_id and fl.order_line_id in returned:
            total += min(returned[fl.order_line_id], to_decimal(fl.qty_shipped))
    return total


def cancel_return(uow: UnitOfWork, return_id: int, reason: str) -> OmsReturn:
    ret = get_return(uow, return_id, for_update=True)
    if ret.status != "requested":
        raise Conflict(_("退货单 {n} 当前状态为「{s}」，不能取消", n=ret.number, s=status_label(ret.status)),
                       field="status", code="illegal_transition")
    ret.status = "cancelled"
    oo.add_event(uow, order_id=ret.order_id, kind="return_cancelled",
                 message=_("退货 {n} 已取消：{r}", n=ret.number, r=(reason or "").strip()))
    uow.flush()
    return ret


def list_returns(uow: UnitOfWork, *, q: str | None = None, status: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[list[tuple[OmsReturn, OmsOrder]], int]:
    r = OmsReturn
    stmt = select(r, OmsOrder).join(OmsOrder, OmsOrder.id == r.order_id).where(r.company_id == uow.company_id)
    if status:
        stmt = stmt.where(r.status == status)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(r.number.ilike(like) | OmsOrder.number.ilike(like) | OmsOrder.channel_order_id.ilike(like)
                          | r.tracking_number.ilike(like))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.execute(stmt.order_by(r.id.desc()).limit(limit).offset(offset)).all()
    return [(a, b) for a, b in rows], total or 0


def return_dict(uow: UnitOfWork, r: OmsReturn, *, order: OmsOrder | None = None, lines: bool = True) -> dict:
    order = order or uow.get(OmsOrder, r.order_id)
    d = {"id": r.id, "number": r.number, "order_id": r.order_id, "order_number": order.number,
         "channel_order_id": order.channel_order_id, "fulfilment_id": r.fulfilment_id, "status": r.status,
         "status_label": status_label(r.status), "reason": r.reason, "refund_amount": str(r.refund_amount),
         "tracking_number": r.tracking_number,
         "received_at": r.received_at.isoformat() if r.received_at else None,
         "refunded_at": r.refunded_at.isoformat() if r.refunded_at else None,
         "created_at": r.created_at.isoformat() if r.created_at else None}
    if lines:
        by_line = {ln.id: ln for ln in order.lines}
        prods = {p.id: p for p in uow.session.scalars(select(md.Product).where(
            md.Product.id.in_({rl.product_id for rl in r.lines if rl.product_id})))} if r.lines else {}
        d["lines"] = [{"id": rl.id, "order_line_id": rl.order_line_id,
                       "title": by_line[rl.order_line_id].title if rl.order_line_id in by_line else "",
                       "product_id": rl.product_id, "sku": prods[rl.product_id].sku if rl.product_id in prods else None,
                       "quantity": str(rl.quantity), "disposition": rl.disposition,
                       "disposition_label": oo.label(DISPOSITION_LABELS, rl.disposition)} for rl in r.lines]
        d["timeline"] = [oo.event_dict(e) for e in oo.timeline(uow, order_id=r.order_id)
                         if (e.data or {}).get("return_id") == r.id]
    return d
