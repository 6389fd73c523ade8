"""OMS order flow: the status machine of a channel order, holds, the timeline, approval,
merge/split, cancellation and platform refunds.

Service API (each takes the caller's unit of work first and never commits):

* ``approve_orders(uow, order_ids) -> list[dict]`` — 待审核 → 已审核, per-order results.
* ``place_hold(uow, order_id, kind, note=None) -> OmsHold``, ``release_hold(uow, hold_id) -> OmsHold``,
  ``hold_orders`` / ``release_orders`` (bulk, per-order results).
* ``add_event(uow, *, order_id=None, fulfilment_id=None, kind, message, data=None)`` — the timeline
  (also written by intake, WMS and TMS through this function).
* ``merge_orders(uow, order_ids) -> OmsOrder`` (the master), ``unmerge_order(uow, order_id)`` — only
  orders of one shop with one merge key (same recipient), not held, not yet allocated.
* ``split_order(uow, order_id, parts: list[dict[line_id, qty]])`` — a manual split: each part ships
  as its own fulfilment at allocation.
* ``cancel_orders(uow, order_ids, reason)`` and ``apply_platform_refund(uow, order_id, *, line_ids=None,
  reason, cancelled=False) -> str`` — before picking the ERP sales order is cancelled (its stock
  reservations go back) and the rest re-allocated; at picking/packed the fulfilment is intercepted
  (拦截) so it can never ship; after shipping the refund is an after-sales case.
* ``update_address(uow, order_id, text)`` — fix the address of an order held for it.

Every status change goes through ``transition``: it refuses illegal moves with a Conflict, writes
a timeline row and emits ``oms.order_<status>``. Concurrency: order rows are locked FOR UPDATE in id
order before their fulfilments (``lock_orders``), the same order everywhere, so a refund and a
shipment of one order serialize instead of both succeeding.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select

from opensupply.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork

from .models import HOLD_KINDS, OmsFulfilment, OmsFulfilmentLine, OmsHold, OmsOrder, OmsOrderEvent, OmsOrderLine

STATUS_LABELS = {"pending": _l("待审核"), "approved": _l("已审核"), "allocated": _l("已分配"), "picking": _l("拣货中"),
                 "shipped": _l("已发货"), "delivered": _l("已签收"), "cancelled": _l("已取消")}
HOLD_LABELS = {"unmatched_product": _l("商品未匹配"), "address": _l("地址异常"), "price": _l("价格异常"),
               "buyer_message": _l("买家留言"), "refund": _l("退款中"), "manual": _l("人工挂起"),
               "risk": _l("风险订单")}
REFUND_LABELS = {"none": _l("无"), "requested": _l("退款中"), "refunded": _l("已退款"), "closed": _l("退款关闭")}
CHANNEL_LABELS = {"taobao": _l("淘宝"), "tmall": _l("天猫"), "jd": _l("京东"), "pdd": _l("拼多多"),
                  "miniapp": _l("小程序"), "generic": _l("通用")}

# status → statuses it may go to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("approved", "cancelled"),
    "approved": ("pending", "allocated", "cancelled"),
    "allocated": ("approved", "picking", "shipped", "cancelled"),
    "picking": ("allocated", "shipped", "cancelled"),
    "shipped": ("delivered",),
    "delivered": (),
    "cancelled": (),
}
ACTIVE_FULFILMENT = ("allocated", "picking", "packed")
CN_TZ = ZoneInfo("Asia/Shanghai")


def label(table: dict, key: str | None) -> str:
    return str(table[key]) if key in table else (key or "")


def status_label(status: str | None) -> str:
    return label(STATUS_LABELS, status)


# ------------------------------------------------------------------ timeline
def add_event(uow: UnitOfWork, *, order_id: int | None = None, fulfilment_id: int | None = None, kind: str,
              message: str, data: dict | None = None) -> OmsOrderEvent:
    """One row of the order's (or fulfilment's) timeline."""
    if order_id is None and fulfilment_id is None:
        raise ValidationFailed(_("时间线记录需要订单或发货单"), field="order_id")
    from opensupply.core.audit import json_safe

    ev = OmsOrderEvent(order_id=order_id, fulfilment_id=fulfilment_id, kind=kind[:30], message=(message or "")[:500],
                       data=json_safe(data) if data else None, at=utcnow())
    uow.add(ev)
    return ev


def timeline(uow: UnitOfWork, *, order_id: int | None = None, fulfilment_id: int | None = None
             ) -> list[OmsOrderEvent]:
    e = OmsOrderEvent
    stmt = select(e).where(e.company_id == uow.company_id)
    if order_id is not None:
        stmt = stmt.where(e.order_id == order_id)
    if fulfilment_id is not None:
        stmt = stmt.where(e.fulfilment_id == fulfilment_id)
    return list(uow.session.scalars(stmt.order_by(e.id)))


# ------------------------------------------------------------------ locks
def lock_orders(uow: UnitOfWork, order_ids: Iterable[int]) -> list[OmsOrder]:
    """Lock channel orders FOR UPDATE in id order (the fixed lock order: orders, then fulfilments,
    then ERP documents) and return them fresh from the database."""
    ids = sorted({int(i) for i in order_ids})
    if not ids:
        return []
    rows = list(uow.session.scalars(
        select(OmsOrder).where(OmsOrder.company_id == uow.company_id, OmsOrder.id.in_(ids))
        .order_by(OmsOrder.id).with_for_update(of=OmsOrder).execution_options(populate_existing=True)))
    found = {o.id for o in rows}
    for i in ids:
        if i not in found:
            raise NotFound(_("订单不存在：#{id}", id=i), field="order_id")
    return rows


def lock_fulfilments(uow: UnitOfWork, fulfilment_ids: Iterable[int]) -> list[OmsFulfilment]:
    ids = sorted({int(i) for i in fulfilment_ids})
    if not ids:
        return []
    rows = list(uow.session.scalars(
        select(OmsFulfilment).where(OmsFulfilment.company_id == uow.company_id, OmsFulfilment.id.in_(ids))
        .order_by(OmsFulfilment.id).with_for_update(of=OmsFulfilment)
        .execution_options(populate_existing=True)))
    found = {f.id for f in rows}
    for i in ids:
        if i not in found:
            raise NotFound(_("发货单不存在：#{id}", id=i), field="fulfilment_id")
    for f in rows:  # lines fresh too: another transaction may have changed them before our lock
        uow.session.refresh(f, ["lines"])
    return rows


def get_order(uow: UnitOfWork, order_id: int) -> OmsOrder:
    try:
        return uow.get(OmsOrder, int(order_id))
    except NotFound:
        raise NotFound(_("订单不存在：#{id}", id=order_id), field="order_id") from None


# ------------------------------------------------------------------ status machine
def transition(uow: UnitOfWork, order: OmsOrder, new: str, *, message: str | None = None,
               data: dict | None = None) -> None:
    """Move an order to `new`: refused with a Conflict when the status machine does not allow it."""
    old = order.status
    if old == new:
        return
    if new not in TRANSITIONS.get(old, ()):
        raise Conflict(_("订单 {n} 当前状态为「{s}」，不能变为「{t}」", n=order.number, s=status_label(old),
                         t=status_label(new)), field="status", code="illegal_transition")
    order.status = new
    add_event(uow, order_id=order.id, kind=new,
              message=message or _("状态：{a} → {b}", a=status_label(old), b=status_label(new)),
              data={"from": old, "to": new, **(data or {})})
    uow.emit(f"oms.order_{new}", order_id=order.id, number=order.number, shop_id=order.shop_id,
             channel=order.channel, channel_order_id=order.channel_order_id, previous=old)


def active_lines(order: OmsOrder) -> list[OmsOrderLine]:
    """Lines still to ship: not refunded."""
    return [ln for ln in order.lines if ln.refund_status != "refunded"]


def fulfilment_lines_of(uow: UnitOfWork, order_ids: Iterable[int], *, active_only: bool = True
                        ) -> list[tuple[OmsFulfilmentLine, OmsFulfilment]]:
    ids = list(order_ids)
    if not ids:
        return []
    fl, f = OmsFulfilmentLine, OmsFulfilment
    stmt = (select(fl, f).join(f, f.id == fl.fulfilment_id)
            .where(f.company_id == uow.company_id, fl.order_id.in_(ids)).order_by(f.id, fl.id))
    if active_only:
        stmt = stmt.where(f.status != "cancelled")
    return [(a, b) for a, b in uow.session.execute(stmt).all()]


def committed_quantities(uow: UnitOfWork, line_ids: Iterable[int]) -> dict[int, Decimal]:
    """Σ quantity of fulfilment lines (of fulfilments not cancelled) per order line."""
    ids = list(line_ids)
    if not ids:
        return {}
    fl, f = OmsFulfilmentLine, OmsFulfilment
    rows = uow.session.execute(
        select(fl.order_line_id, func.sum(fl.quantity)).join(f, f.id == fl.fulfilment_id)
        .where(f.company_id == uow.company_id, f.status != "cancelled", fl.order_line_id.in_(ids))
        .group_by(fl.order_line_id)).all()
    return {lid: to_decimal(q or 0) for lid, q in rows}


def refresh_status(uow: UnitOfWork, order: OmsOrder) -> None:
    """Derive an allocated-or-later order's status from its fulfilments."""
    if order.status in ("pending", "approved", "cancelled"):
        return
    pairs = fulfilment_lines_of(uow, [order.id])
    statuses = {f.status for _fl, f in pairs}
    if not statuses:
        return
    open_ = statuses & set(ACTIVE_FULFILMENT)
    if open_:
        new = "picking" if open_ & {"picking", "packed"} else "allocated"
        if order.status in ("shipped", "delivered"):
            return
    elif statuses <= {"delivered"}:
        new = "delivered"
    else:
        new = "shipped"
    if new == "delivered" and order.status in ("allocated", "picking"):
        transition(uow, order, "shipped")
    if new != order.status:
        if order.status == "shipped" and new != "delivered":
            return
        transition(uow, order, new)


# ------------------------------------------------------------------ bulk helper
def bulk(uow: UnitOfWork, ids: Iterable[int], fn: Callable[[int], object]) -> list[dict]:
    """Run `fn(id)` for each id in its own savepoint: a refused order changes nothing and the
    others go on. Returns [{"id", "number", "ok", "message"}]."""
    results = []
    for oid in ids:
        try:
            with uow.session.begin_nested():
                fn(int(oid))
            ok, msg = True, _("成功")
        except DomainError as exc:
            ok, msg = False, exc.message
        number = uow.session.scalar(select(OmsOrder.number).where(OmsOrder.company_id == uow.company_id,
                                                                  OmsOrder.id == int(oid)))
        results.append({"id": int(oid), "number": number, "ok": ok, "message": str(msg)})
    return results


# ------------------------------------------------------------------ approval
def approve_order(uow: UnitOfWork, order_id: int) -> OmsOrder:
    (order,) = lock_orders(uow, [order_id])
    if order.status != "pending":
        raise Conflict(_("订单 {n} 当前状态为「{s}」，只有待审核订单可以审核", n=order.number,
                         s=status_label(order.status)), field="status", code="illegal_transition")
    if order.on_hold:
        kinds = "、".join(label(HOLD_LABELS, h.kind) for h in active_holds(uow, order.id))
        raise Conflict(_("订单 {n} 被挂起（{k}），请先处理后再审核", n=order.number, k=kinds), field="hold",
                       code="on_hold")
    lines = active_lines(order)
    if not lines:
        raise Conflict(_("订单 {n} 没有可发货的商品行", n=order.number), field="lines")
    unmatched = [ln.channel_sku or ln.title for ln in lines if ln.product_id is None]
    if unmatched:
        raise Conflict(_("订单 {n} 有未匹配的商品：{s}", n=order.number, s="、".join(str(u) for u in unmatched)),
                       field="lines", code="unmatched_product")
    transition(uow, order, "approved", message=_("订单已审核"))
    uow.flush()
    return order


def approve_orders(uow: UnitOfWork, order_ids: Iterable[int]) -> list[dict]:
    return bulk(uow, order_ids, lambda i: approve_order(uow, i))


def unapprove_order(uow: UnitOfWork, order_id: int) -> OmsOrder:
    (order,) = lock_orders(uow, [order_id])
    transition(uow, order, "pending", message=_("反审核"))
    return order


# ------------------------------------------------------------------ holds
def active_holds(uow: UnitOfWork, order_id: int) -> list[OmsHold]:
    return list(uow.session.scalars(select(OmsHold).where(
        OmsHold.company_id == uow.company_id, OmsHold.order_id == order_id, OmsHold.released_at.is_(None))
        .order_by(OmsHold.id)))


def place_hold(uow: UnitOfWork, order_id: int, kind: str, note: str | None = None) -> OmsHold:
    """Hold an order (it cannot be approved or allocated until every hold is released)."""
    if kind not in HOLD_KINDS:
        raise ValidationFailed(_("挂起类型不正确：{k}", k=kind), field="kind")
    (order,) = lock_orders(uow, [order_id])
    if order.status in ("picking", "shipped", "delivered", "cancelled"):
        raise Conflict(_("订单 {n} 当前状态为「{s}」，不能挂起", n=order.number, s=status_label(order.status)),
                       field="status", code="illegal_transition")
    for h in active_holds(uow, order.id):
        if h.kind == kind:
            if note and note != h.note:
                h.note = note[:300]
            return h
    hold = uow.add(OmsHold(order_id=order.id, kind=kind, note=(note or "").strip()[:300] or None))
    order.on_hold = True
    uow.flush()
    add_event(uow, order_id=order.id, kind="held", message=_("挂起：{k}{n}", k=label(HOLD_LABELS, kind),
                                                            n=f"（{note}）" if note else ""),
              data={"hold_id": hold.id, "kind": kind})
    uow.emit("oms.order_held", order_id=order.id, number=order.number, kind=kind)
    return hold


def release_hold(uow: UnitOfWork, hold_id: int) -> OmsHold:
    try:
        hold = uow.get(OmsHold, int(hold_id))
    except NotFound:
        raise NotFound(_("挂起记录不存在：#{id}", id=hold_id), field="hold_id") from None
    (order,) = lock_orders(uow, [hold.order_id])
    if hold.released_at is not None:
        raise Conflict(_("该挂起已于 {t} 解除", t=hold.released_at.strftime("%Y-%m-%d %H:%M")), field="hold_id")
    hold.released_at = utcnow()
    hold.released_by_id = uow.actor.user_id
    uow.flush()
    order.on_hold = bool(active_holds(uow, order.id))
    add_event(uow, order_id=order.id, kind="released", message=_("解除挂起：{k}", k=label(HOLD_LABELS, hold.kind)),
              data={"hold_id": hold.id, "kind": hold.kind})
    from .models import OmsShop

    shop = uow.get(OmsShop, order.shop_id)
    if shop.auto_approve and not order.on_hold and order.status == "pending":
        try:
            with uow.session.begin_nested():
                approve_order(uow, order.id)
        except DomainError:
            pass
    uow.flush()
    return hold


def hold_orders(uow: UnitOfWork, order_ids: Iterable[int], kind: str = "manual", note: str | None = None
                ) -> list[dict]:
    return bulk(uow, order_ids, lambda i: place_hold(uow, i, kind, note))


def release_orders(uow: UnitOfWork, order_ids: Iterable[int]) -> list[dict]:
    def one(i: int):
        holds = active_holds(uow, i)
        if not holds:
            raise Conflict(_("订单没有挂起"), field="hold")
        for h in holds:
            release_hold(uow, h.id)

    return bulk(uow, order_ids, one)


# ------------------------------------------------------------------ merge / split
MERGEABLE = ("pending", "approved")


def merge_orders(uow: UnitOfWork, order_ids: Iterable[int]) -> OmsOrder:
    """Ship several orders of the same recipient together: they must be of one shop, have the
    same merge key, be neither held, cancelled nor allocated yet. Returns the master order
    (the one already master, else the oldest); the others get `merged_into_id`."""
    from .models import OmsShop

    ids = sorted({int(i) for i in order_ids})
    if len(ids) < 2:
        raise ValidationFailed(_("请至少选择两个订单合并"), field="order_ids")
    orders = lock_orders(uow, ids)
    # orders already merged into one of these come along
    first = orders[0]
    for o in orders:
        if o.shop_id != first.shop_id:
            raise Conflict(_("订单 {a} 与 {b} 不是同一店铺，不能合并", a=first.number, b=o.number), field="order_ids",
                           code="merge_refused")
        if not o.merge_key or o.merge_key != first.merge_key:
            raise Conflict(_("订单 {a} 与 {b} 收件人或地址不同，不能合并", a=first.number, b=o.number),
                           field="order_ids", code="merge_refused")
        if o.status not in MERGEABLE:
            raise Conflict(_("订单 {n} 当前状态为「{s}」，只有待审核、已审核的订单可以合并", n=o.number,
                             s=status_label(o.status)), field="order_ids", code="merge_refused")
        if o.on_hold:
            raise Conflict(_("订单 {n} 被挂起，不能合并", n=o.number), field="order_ids", code="merge_refused")
    shop = uow.get(OmsShop, first.shop_id)
    if not shop.merge_enabled:
        raise Conflict(_("店铺 {s} 未开启合并发货", s=shop.name), field="order_ids", code="merge_refused")
    masters = {o.merged_into_id for o in orders if o.merged_into_id} - set(ids)
    if masters:
        raise Conflict(_("订单已合并到其他订单，请先拆开"), field="order_ids", code="merge_refused")
    master = next((o for o in orders if any(x.merged_into_id == o.id for x in orders)), orders[0])
    for o in orders:
        if o.id != master.id and o.merged_into_id != master.id:
            o.merged_into_id = master.id
            add_event(uow, order_id=o.id, kind="merged", message=_("合并到订单 {n}", n=master.number),
                      data={"master_id": master.id})
            add_event(uow, order_id=master.id, kind="merged", message=_("合并了订单 {n}", n=o.number),
                      data={"member_id": o.id})
    uow.flush()
    uow.emit("oms.orders_merged", master_id=master.id, order_ids=ids)
    return master


def merge_group(uow: UnitOfWork, order: OmsOrder) -> list[OmsOrder]:
    master_id = order.merged_into_id or order.id
    return list(uow.session.scalars(select(OmsOrder).where(
        OmsOrder.company_id == uow.company_id,
        (OmsOrder.id == master_id) | (OmsOrder.merged_into_id == master_id)).order_by(OmsOrder.id)))


def unmerge_order(uow: UnitOfWork, order_id: int) -> list[OmsOrder]:
    """Take an order out of its merge (or, for the master, dissolve the merge)."""
    order = get_order(uow, order_id)
    group = merge_group(uow, order)
    if len(group) < 2:
        raise Conflict(_("订单 {n} 没有合并", n=order.number), field="order_id")
    group = lock_orders(uow, [o.id for o in group])
    for o in group:
        if o.status not in MERGEABLE and o.status != "cancelled":
            raise Conflict(_("订单 {n} 当前状态为「{s}」，已分配的合并订单不能拆开", n=o.number,
                             s=status_label(o.status)), field="order_id", code="illegal_transition")
    freed = [o for o in group if o.merged_into_id and (o.id == order.id or order.merged_into_id is None)]
    for o in freed:
        add_event(uow, order_id=o.id, kind="unmerged", message=_("取消合并"), data={"master_id": o.merged_into_id})
        o.merged_into_id = None
    uow.flush()
    return freed


def split_plan(uow: UnitOfWork, order_id: int) -> list[dict[int, Decimal]] | None:
    """The order's standing manual split (from its timeline), or None."""
    ev = uow.session.scalar(select(OmsOrderEvent).where(
        OmsOrderEvent.company_id == uow.company_id, OmsOrderEvent.order_id == order_id,
        OmsOrderEvent.kind.in_(("split", "split_cleared"))).order_by(OmsOrderEvent.id.desc()).limit(1))
    if ev is None or ev.kind != "split" or not ev.data:
        return None
    return [{int(k): to_decimal(v) for k, v in part.items()} for part in ev.data.get("parts", [])]


def split_order(uow: UnitOfWork, order_id: int, parts: list[dict]) -> OmsOrder:
    """Split an order by hand into parcels: `parts` = [{line_id: qty}, …] covering every line
    still to ship; at allocation each part becomes its own fulfilment."""
    (order,) = lock_orders(uow, [order_id])
    if order.status not in MERGEABLE:
        raise Conflict(_("订单 {n} 当前状态为「{s}」，只有待审核、已审核的订单可以拆分", n=order.number,
                         s=status_label(order.status)), field="status", code="illegal_transition")
    if order.merged_into_id or merge_group(uow, order)[1:]:
        raise Conflict(_("订单 {n} 已合并，请先取消合并再拆分", n=order.number), field="order_id")
    clean: list[dict[int, Decimal]] = []
    lines = {ln.id: ln for ln in active_lines(order)}
    total: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for i, part in enumerate(parts or []):
        p: dict[int, Decimal] = {}
        for k, v in (part or {}).items():
            try:
                lid, qty = int(k), to_decimal(v)
            except (ArithmeticError, ValueError, TypeError):
                raise ValidationFailed(_("第 {i} 个包裹：数量格式不正确", i=i + 1), field="parts") from None
            if lid not in lines:
                raise ValidationFailed(_("第 {i} 个包裹：订单行 #{id} 不属于该订单", i=i + 1, id=lid), field="parts")
            if qty < 0:
                raise ValidationFailed(_("第 {i} 个包裹：数量不能为负数", i=i + 1), field="parts")
            if qty > 0:
                p[lid] = qty
                total[lid] += qty
        if p:
            clean.append(p)
    if len(clean) < 2:
        raise ValidationFailed(_("拆分至少需要两个包裹"), field="parts")
    for lid, ln in lines.items():
        if total.get(lid, ZERO) != to_decimal(ln.quantity):
            raise ValidationFailed(_("第 {no} 行（{t}）拆分数量合计 {a}，应为 {q}", no=ln.line_no,
                                     t=ln.title or ln.channel_sku, a=_fmt(total.get(lid, ZERO)),
                                     q=_fmt(ln.quantity)), field="parts")
    add_event(uow, order_id=order.id, kind="split", message=_("手工拆分为 {n} 个包裹", n=len(clean)),
              data={"parts": [{str(k): str(v) for k, v in p.items()} for p in clean]})
    uow.flush()
    return order


def clear_split(uow: UnitOfWork, order_id: int) -> None:
    (order,) = lock_orders(uow, [order_id])
    if order.status not in MERGEABLE:
        raise Conflict(_("订单 {n} 已分配，不能取消拆分", n=order.number), field="status")
    add_event(uow, order_id=order.id, kind="split_cleared", message=_("取消拆分"))


def _fmt(q) -> str:
    d = to_decimal(q).normalize()
    return f"{d:f}"


# ------------------------------------------------------------------ cancel / refund
def _detach(uow: UnitOfWork, order: OmsOrder, fulfilments: list[OmsFulfilment], reason: str) -> None:
    """Take an order out of its not-yet-picked fulfilments: its ERP sales orders there are cancelled
    (their reservations go back to available stock) and its lines leave the fulfilments."""
    from . import fulfilments as ful

    so_ids = set()
    for f in fulfilments:
        mine = [fl for fl in f.lines if fl.order_id == order.id]
        if not mine:
            continue
        so_ids |= {fl.sales_order_id for fl in mine if fl.sales_order_id}
        if len(mine) == len(f.lines):
            f.status = "cancelled"
            f.cancel_reason = reason[:300]
            add_event(uow, fulfilment_id=f.id, order_id=order.id, kind="cancelled",
                      message=_("发货单 {n} 已取消：{r}", n=f.number, r=reason))
            uow.emit("oms.fulfilment_cancelled", fulfilment_id=f.id, number=f.number, warehouse_id=f.warehouse_id)
        else:
            for fl in mine:
                f.lines.remove(fl)
            add_event(uow, fulfilment_id=f.id, order_id=order.id, kind="detached",
                      message=_("订单 {n} 已从发货单 {f} 移出：{r}", n=order.number, f=f.number, r=reason))
    uow.flush()
    ful.cancel_sales_orders(uow, so_ids, reason)


def apply_platform_refund(uow: UnitOfWork, order_id: int, *, line_ids: list[int] | None = None, reason: str,
                          cancelled: bool = False) -> str:
    """A refund or cancellation from the platform (or a user's cancel). Returns what happened:
    "cancelled" (nothing left to ship), "reallocated" (refunded lines taken out, the rest allocated
    again), "refunded" (lines marked, order not allocated yet), "intercepted" (picking already
    started: the fulfilment is stopped, WMS puts the goods back), "after_sales" (already shipped:
    a return is needed), "unchanged"."""
    from . import allocation

    reason = (reason or "").strip() or str(_("平台退款"))
    (order,) = lock_orders(uow, [order_id])
    if order.status == "cancelled":
        return "unchanged"
    by_id = {ln.id: ln for ln in order.lines}
    if line_ids:
        for lid in line_ids:
            if int(lid) not in by_id:
                raise ValidationFailed(_("订单行 #{id} 不属于订单 {n}", id=lid, n=order.number), field="line_ids")
        affected = [by_id[int(lid)] for lid in line_ids]
    else:
        affected = list(order.lines)
    if cancelled:
        affected = list(order.lines)
    if order.status in ("shipped", "delivered"):
        for ln in affected:
            if ln.refund_status == "none":
                ln.refund_status = "requested"
        order.refund_status = "requested"
        add_event(uow, order_id=order.id, kind="refund_after_ship",
                  message=_("已发货后申请退款：{r}，请走售后退货", r=reason),
                  data={"line_ids": [ln.id for ln in affected]})
        uow.flush()
        return "after_sales"
    newly = [ln for ln in affected if ln.refund_status != "refunded"]
    if not newly and not cancelled:
        return "unchanged"
    for ln in newly:
        ln.refund_status = "refunded"
    everything = all(ln.refund_status == "refunded" for ln in order.lines)
    order.refund_status = "refunded" if everything else "requested"
    add_event(uow, order_id=order.id, kind="refund",
              message=_("平台{k}：{r}", k=_("取消") if cancelled else _("退款"), r=reason),
              data={"line_ids": [ln.id for ln in newly], "cancelled": cancelled})
    uow.emit("oms.order_refunded", order_id=order.id, number=order.number, line_ids=[ln.id for ln in newly],
             cancelled=cancelled)
    if order.status in ("pending", "approved"):
        if everything:
            order.cancel_reason = reason[:300]
            transition(uow, order, "cancelled", message=_("订单已取消：{r}", r=reason))
            _release_merge(uow, order)
            uow.flush()
            return "cancelled"
        uow.flush()
        return "refunded"
    # allocated or picking: look at the fulfilments
    pairs = fulfilment_lines_of(uow, [order.id])
    fids = sorted({f.id for _fl, f in pairs if f.status in ACTIVE_FULFILMENT})
    fuls = lock_fulfilments(uow, fids)
    newly_ids = {ln.id for ln in newly}
    started = [f for f in fuls if f.status in ("picking", "packed")
               and any(fl.order_id == order.id and (cancelled or everything or fl.order_line_id in newly_ids)
                       for fl in f.lines)]
    if started:
        from . import fulfilments as ful

        for f in started:
            ful.intercept(uow, f, reason)
        # what was still waiting in the pool leaves it now
        waiting = [f for f in fuls if f.status == "allocated"]
        if waiting:
            _detach(uow, order, waiting, reason)
        uow.flush()
        return "intercepted"
    _detach(uow, order, fuls, reason)
    if any(f.status in ("shipped", "delivered") for _fl, f in pairs):
        # part of the order left already: the rest is stopped, what shipped is an after-sales case
        order.refund_status = "requested"
        add_event(uow, order_id=order.id, kind="refund_after_ship",
                  message=_("部分商品已发货：未发部分已停止，已发部分请走售后退货"))
        uow.flush()
        committed = committed_quantities(uow, [ln.id for ln in active_lines(order)])
        left = any(to_decimal(ln.quantity) > committed.get(ln.id, ZERO) for ln in active_lines(order))
        still = any(f.status in ACTIVE_FULFILMENT for _fl, f in fulfilment_lines_of(uow, [order.id]))
        if left and not still and order.status in ("allocated", "picking"):
            if order.status == "picking":
                transition(uow, order, "allocated")
            transition(uow, order, "approved", message=_("部分退款，其余商品重新分配"))
            uow.flush()
            allocation.allocate_orders(uow, [order.id])
        else:
            refresh_status(uow, order)
        return "after_sales"
    if everything:
        order.cancel_reason = reason[:300]
        transition(uow, order, "cancelled", message=_("订单已取消：{r}", r=reason))
        _release_merge(uow, order)
        uow.flush()
        return "cancelled"
    transition(uow, order, "approved", message=_("部分退款，其余商品重新分配"))
    uow.flush()
    res = allocation.allocate_orders(uow, [order.id])
    if res and not res[0]["ok"]:
        add_event(uow, order_id=order.id, kind="allocation_failed", message=res[0]["message"])
    return "reallocated"


def _release_merge(uow: UnitOfWork, order: OmsOrder) -> None:
    """A cancelled order leaves its merge; a cancelled master hands the merge to the next order."""
    if order.merged_into_id:
        order.merged_into_id = None
        return
    members = list(uow.session.scalars(select(OmsOrder).where(OmsOrder.company_id == uow.company_id,
                                                              OmsOrder.merged_into_id == order.id)
                                       .order_by(OmsOrder.id)))
    if members:
        new_master = members[0]
        new_master.merged_into_id = None
        for m in members[1:]:
            m.merged_into_id = new_master.id


def cancel_order(uow: UnitOfWork, order_id: int, reason: str) -> str:
    """A user cancels an order (e.g. the buyer asked by phone): like a platform cancellation."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写取消原因"), field="reason")
    order = get_order(uow, order_id)
    if order.status in ("shipped", "delivered", "cancelled"):
        raise Conflict(_("订单 {n} 当前状态为「{s}」，不能取消", n=order.number, s=status_label(order.status)),
                       field="status", code="illegal_transition")
    return apply_platform_refund(uow, order_id, reason=reason, cancelled=True)


def cancel_orders(uow: UnitOfWork, order_ids: Iterable[int], reason: str) -> list[dict]:
    return bulk(uow, order_ids, lambda i: cancel_order(uow, i, reason))


def finish_cancelled(uow: UnitOfWork, order: OmsOrder, reason: str) -> None:
    """After an intercepted fulfilment was put back: cancel the order when nothing of it shipped
    or is left to ship, send it back to allocation when lines are left, else derive its status."""
    from . import allocation

    pairs = fulfilment_lines_of(uow, [order.id])
    if any(f.status in ACTIVE_FULFILMENT for _fl, f in pairs):
        refresh_status(uow, order)
        return
    committed = committed_quantities(uow, [ln.id for ln in active_lines(order)])
    left = any(to_decimal(ln.quantity) > committed.get(ln.id, ZERO) for ln in active_lines(order))
    shipped = any(f.status in ("shipped", "delivered") for _fl, f in pairs)
    if order.status not in ("picking", "allocated"):
        return
    if left:
        if order.status == "picking":
            transition(uow, order, "allocated")
        if any(ln.refund_status == "refunded" for ln in order.lines):  # a partial refund: the rest ships
            transition(uow, order, "approved", message=_("拦截完成，其余商品重新分配"))
            uow.flush()
            allocation.allocate_orders(uow, [order.id])
        else:  # stopped by a person (address change …): back to 已审核 for them to decide
            transition(uow, order, "approved", message=_("拦截完成，订单退回已审核"))
    elif shipped:
        refresh_status(uow, order)
    else:
        order.cancel_reason = reason[:300]
        transition(uow, order, "cancelled", message=_("拦截完成，订单已取消"))
        _release_merge(uow, order)


# ------------------------------------------------------------------ address
def update_address(uow: UnitOfWork, order_id: int, text: str, *, receiver_name: str | None = None,
                   phone: str | None = None) -> OmsOrder:
    """Fix the address of an order (held for its address): parsed again; a complete address
    releases the address hold."""
    from . import normalize

    uow.actor.require("oms.buyer_data")  # the address is buyer data
    (order,) = lock_orders(uow, [order_id])
    if order.status not in ("pending", "approved"):
        raise Conflict(_("订单 {n} 当前状态为「{s}」，不能修改地址", n=order.number, s=status_label(order.status)),
                       field="address")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("请填写收货地址"), field="address")
    addr = normalize.parse_address(text)
    order.address = text[:400]
    order.province, order.city, order.district = addr.province, addr.city, addr.district
    order.address_detail = (addr.detail or "")[:300] or None
    order.address_complete = bool(addr.complete)
    if receiver_name is not None and receiver_name.strip():
        order.receiver_name = receiver_name.strip()[:120]
    if phone is not None and phone.strip():
        norm, _masked = normalize.normalize_phone(phone)
        if norm is None:
            raise ValidationFailed(_("手机号码不正确：{p}", p=phone), field="phone")
        order.receiver_phone, order.phone = phone.strip()[:60], norm
    order.merge_key = normalize.merge_key(order.shop_id, order.receiver_name, order.phone, addr)
    order.manual_edits = (order.manual_edits or 0) + 1
    add_event(uow, order_id=order.id, kind="address", message=_("修改收货地址"))
    uow.flush()
    if addr.complete:
        for h in active_holds(uow, order.id):
            if h.kind == "address":
                release_hold(uow, h.id)
    else:
        raise ValidationFailed(_("地址不完整：需要省、市、区和详细地址"), field="address")
    return order


# ------------------------------------------------------------------ lists and views
def mask_name(name: str | None) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str:
    """13800138000 → 138****8000; other numbers keep their last four digits."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 11:
        return digits[-11:-8] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "****"


def mask_detail(detail: str | None) -> str:
    """Street detail cut to its first characters: 文三路 1** …"""
    if not detail:
        return ""
    return detail[:4] + "****"


@dataclass
class OrderFilters:
    q: str | None = None  # order no. / platform order no. / buyer / receiver / phone
    channel: str | None = None
    shop_id: int | None = None
    status: str | None = None
    hold: str | None = None  # "1" = any hold, "0" = none, or a hold kind
    date_from: dt.date | None = None  # paid (or ordered) date, company-local days in UTC bounds
    date_to: dt.date | None = None
    province: str | None = None
    sku: str | None = None
    refund: str | None = None
    limit: int = 50
    offset: int = 0


def _order_query(uow: UnitOfWork, flt: OrderFilters):
    o = OmsOrder
    stmt = select(o).where(o.company_id == uow.company_id)
    if flt.status:
        stmt = stmt.where(o.status == flt.status)
    if flt.channel:
        stmt = stmt.where(o.channel == flt.channel)
    if flt.shop_id:
        stmt = stmt.where(o.shop_id == int(flt.shop_id))
    if flt.refund:
        stmt = stmt.where(o.refund_status == flt.refund)
    if flt.hold == "1":
        stmt = stmt.where(o.on_hold.is_(True))
    elif flt.hold == "0":
        stmt = stmt.where(o.on_hold.is_(False))
    elif flt.hold:
        stmt = stmt.where(exists().where(OmsHold.order_id == o.id, OmsHold.kind == flt.hold,
                                         OmsHold.released_at.is_(None)))
    when = func.coalesce(o.paid_at, o.ordered_at, o.created_at)
    if flt.date_from:
        stmt = stmt.where(when >= dt.datetime.combine(flt.date_from, dt.time(0), dt.UTC) - dt.timedelta(hours=8))
    if flt.date_to:
        stmt = stmt.where(when < dt.datetime.combine(flt.date_to, dt.time(0), dt.UTC) + dt.timedelta(hours=16))
    if flt.province:
        stmt = stmt.where(o.province.like(f"{flt.province.strip()}%"))
    if flt.sku and flt.sku.strip():
        from opensupply.masterdata.models import Product

        s = flt.sku.strip()
        stmt = stmt.where(exists().where(OmsOrderLine.order_id == o.id, or_(
            OmsOrderLine.channel_sku == s,
            OmsOrderLine.product_id.in_(select(Product.id).where(Product.company_id == uow.company_id,
                                                                 Product.sku == s)))))
    if flt.q and flt.q.strip():
        q = flt.q.strip()
        like = f"%{q}%"
        conds = [o.number.ilike(like), o.channel_order_id.ilike(like), o.buyer_nick.ilike(like),
                 o.receiver_name.ilike(like)]
        digits = "".join(ch for ch in q if ch.isdigit())
        if len(digits) >= 4:
            conds += [o.phone.like(f"%{digits}%"), o.receiver_phone.like(f"%{q}%")]
        stmt = stmt.where(or_(*conds))
    return stmt


def list_orders(uow: UnitOfWork, flt: OrderFilters) -> tuple[list[OmsOrder], int]:
    stmt = _order_query(uow, flt)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(uow.session.scalars(stmt.order_by(OmsOrder.id.desc()).limit(flt.limit).offset(flt.offset)))
    return rows, total


def shop_names(uow: UnitOfWork) -> dict[int, str]:
    from .models import OmsShop

    return dict(uow.session.execute(select(OmsShop.id, OmsShop.name).where(OmsShop.company_id == uow.company_id)
                                    .order_by(OmsShop.name)).all())


def _iso(v) -> str | None:
    return v.isoformat() if v is not None else None


def order_dict(o: OmsOrder, *, buyer_data: bool, shops: dict[int, str] | None = None, lines: bool = False) -> dict:
    """What pages and the API show of an order; buyer data masked without `oms.buyer_data`."""
    d = {"id": o.id, "number": o.number, "shop_id": o.shop_id, "shop_name": (shops or {}).get(o.shop_id),
         "channel": o.channel, "channel_label": label(CHANNEL_LABELS, o.channel),
         "channel_order_id": o.channel_order_id, "platform_status": o.platform_status, "status": o.status,
         "status_label": status_label(o.status), "refund_status": o.refund_status,
         "refund_label": label(REFUND_LABELS, o.refund_status), "on_hold": o.on_hold,
         "buyer_nick": o.buyer_nick if buyer_data else mask_name(o.buyer_nick),
         "receiver_name": o.receiver_name if buyer_data else mask_name(o.receiver_name),
         "phone": (o.phone or o.receiver_phone) if buyer_data else mask_phone(o.phone or o.receiver_phone),
         "province": o.province, "city": o.city, "district": o.district,
         "address_detail": o.address_detail if buyer_data else mask_detail(o.address_detail),
         "address": o.address if buyer_data else None, "address_complete": o.address_complete,
         "goods_amount": str(o.goods_amount), "freight": str(o.freight), "discount": str(o.discount),
         "paid_amount": str(o.paid_amount), "ordered_at": _iso(o.ordered_at), "paid_at": _iso(o.paid_at),
         "promised_ship_by": _iso(o.promised_ship_by), "buyer_message": o.buyer_message,
         "seller_memo": o.seller_memo, "priority": o.priority, "is_presale": o.is_presale,
         "warehouse_id": o.warehouse_id, "merged_into_id": o.merged_into_id, "cancel_reason": o.cancel_reason,
         "source": o.source, "masked": not buyer_data}
    if lines:
        d["lines"] = [{"id": ln.id, "line_no": ln.line_no, "channel_sku": ln.channel_sku, "title": ln.title,
                       "spec": ln.spec, "product_id": ln.product_id, "quantity": str(ln.quantity),
                       "unit_price": str(ln.unit_price), "paid_amount": str(ln.paid_amount),
                       "refund_status": ln.refund_status, "refund_label": label(REFUND_LABELS, ln.refund_status),
                       "is_presale": ln.is_presale} for ln in o.lines]
    return d


def hold_dict(h: OmsHold) -> dict:
    return {"id": h.id, "kind": h.kind, "kind_label": label(HOLD_LABELS, h.kind), "note": h.note,
            "created_at": _iso(h.created_at), "released_at": _iso(h.released_at)}


def event_dict(e: OmsOrderEvent) -> dict:
    return {"id": e.id, "kind": e.kind, "message": e.message, "at": _iso(e.at), "order_id": e.order_id,
            "fulfilment_id": e.fulfilment_id, "data": e.data}


def sales_orders_of(uow: UnitOfWork, sales_order_ids: Iterable[int]) -> list[dict]:
    """The ERP sales orders behind a channel order (made at allocation): number, state, delivery and invoice
    progress, total and invoices, as ERP's sales service tells them."""
    from opensupply.erp.sales import service as sales

    out = []
    for so in sales.order_summaries(uow, sales_order_ids):
        out.append({**so, "amount_total": f"{so['amount_total']:.2f}",
                    "invoices": [{**i, "amount_total": f"{i['amount_total']:.2f}"} for i in so["invoices"]]})
    return out


def order_detail(uow: UnitOfWork, order_id: int, *, buyer_data: bool) -> dict:
    from . import fulfilments as ful

    o = get_order(uow, order_id)
    shops = shop_names(uow)
    d = order_dict(o, buyer_data=buyer_data, shops=shops, lines=True)
    holds = list(uow.session.scalars(select(OmsHold).where(OmsHold.company_id == uow.company_id,
                                                           OmsHold.order_id == o.id).order_by(OmsHold.id)))
    d["holds"] = [hold_dict(h) for h in holds]
    pairs = fulfilment_lines_of(uow, [o.id], active_only=False)
    fuls = {f.id: f for _fl, f in pairs}
    d["fulfilments"] = [ful.fulfilment_dict(uow, f, buyer_data=buyer_data) for f in fuls.values()]
    d["sales_orders"] = sales_orders_of(uow, {fl.sales_order_id for fl, _f in pairs if fl.sales_order_id})
    d["timeline"] = [event_dict(e) for e in timeline(uow, order_id=o.id)]
    group = merge_group(uow, o)
    d["merge_group"] = [{"id": x.id, "number": x.number} for x in group] if len(group) > 1 else []
    plan = split_plan(uow, o.id)
    d["split_plan"] = [{str(k): str(v) for k, v in p.items()} for p in plan] if plan else None
    from . import returns
    from .models import OmsReturn

    rets = uow.session.scalars(select(OmsReturn).where(OmsReturn.company_id == uow.company_id,
                                                       OmsReturn.order_id == o.id).order_by(OmsReturn.id))
    d["returns"] = [{"id": r.id, "number": r.number, "status": r.status, "status_label": returns.status_label(r.status),
                     "refund_amount": str(r.refund_amount)} for r in rets]
    return d


def dashboard(uow: UnitOfWork, days: int = 14) -> dict:
    """Orders per channel per day (paid time, last `days` days), backlog by status, holds by kind."""
    o = OmsOrder
    today = utcnow().astimezone(CN_TZ).date()
    day_list = [(today - dt.timedelta(days=days - 1 - i)).isoformat() for i in range(days)]
    per: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(day_list, 0))
    for day in day_list:  # one grouped count per day: memory stays flat however many orders there are
        start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(0), CN_TZ).astimezone(dt.UTC)
        for channel, n in uow.session.execute(
                select(o.channel, func.count()).where(o.company_id == uow.company_id, o.paid_at >= start,
                                                      o.paid_at < start + dt.timedelta(days=1))
                .group_by(o.channel)):
            per[channel][day] += int(n)
    backlog = dict(uow.session.execute(select(o.status, func.count()).where(o.company_id == uow.company_id)
                                       .group_by(o.status)).all())
    holds = dict(uow.session.execute(select(OmsHold.kind, func.count()).where(
        OmsHold.company_id == uow.company_id, OmsHold.released_at.is_(None)).group_by(OmsHold.kind)).all())
    return {"days": day_list,
            "per_channel": [{"channel": ch, "label": label(CHANNEL_LABELS, ch),
                             "counts": [per[ch][d] for d in day_list]} for ch in sorted(per)],
            "backlog": [{"status": s, "label": status_label(s), "count": int(backlog.get(s, 0))}
                        for s in STATUS_LABELS],
            "holds": [{"kind": k, "label": label(HOLD_LABELS, k), "count": int(holds.get(k, 0))} for k in HOLD_LABELS
                      if holds.get(k)],
            "total": sum(int(v) for v in backlog.values())}
