"""Advance ship notices (发货通知, ASN): the supplier tells the buyer through the portal what it has shipped against a
purchase order, when it should arrive and how to track it; the buyer sees what is on its way and receives it in one
step, with the quantities and lot numbers the supplier announced.

Use cases (each takes the caller's unit of work first and never commits):

* ``create_asn(uow, order_id, lines, *, ship_date, expected_date, carrier, tracking_no, note)`` — portal user, own
  supplier's confirmed order only (any other order: 404). Each line names a PO line and a quantity; what all
  open notices of that line announce together may not exceed what is still to receive (the order's over-receipt
  tolerance included), so a supplier cannot announce the same goods twice.
* ``cancel_asn(uow, asn_id, reason)`` — the supplier withdraws a notice not yet received.
* ``receive_asn(uow, asn_id, *, location, receipt_date)`` — buyer (erp.purchase): books an ERP goods receipt of
  exactly the announced lines (lots included) and marks the notice received.
* When an order is received in full another way (ERP page, WMS PDA), its open notices close as received
  (``erp.receipt_done`` handler), so nothing stays "on the way" for ever.

Reads: ``my_asns`` (portal), ``asn_rows`` / ``asn_detail`` / ``in_transit_by_order`` (buyers, srm.read).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.events import Event, subscribe
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md

from . import portal
from .rfq import _partners, _products
from .tender_models import AdvanceShipNotice, AdvanceShipNoticeLine

register_sequence("ASN", "ASN{year}-", 6)

READ = "srm.read"
RECEIVE = "erp.purchase"
STATES = {"shipped": _l("在途"), "received": _l("已收货"), "cancelled": _l("已取消")}
HUNDRED = Decimal(100)


@dataclass
class AsnLineIn:
    order_line_id: int
    quantity: Decimal | str | int
    lot: str | None = None


def state_label(state: str) -> str:
    return str(STATES.get(state, state))


def _date(value, field: str, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(_("{what}格式不正确：{v}", what=label, v=value), field=field) from None


def _announced(uow: UnitOfWork, order_line_ids, exclude_asn: int | None = None) -> dict[int, Decimal]:
    """What open (shipped, not yet received) notices announce per PO line."""
    ids = list(order_line_ids)
    if not ids:
        return {}
    a, ln = AdvanceShipNotice, AdvanceShipNoticeLine
    stmt = (select(ln.order_line_id, func.sum(ln.quantity)).join(a, a.id == ln.asn_id)
            .where(a.company_id == uow.company_id, a.state == "shipped", ln.order_line_id.in_(ids))
            .group_by(ln.order_line_id))
    if exclude_asn:
        stmt = stmt.where(a.id != exclude_asn)
    return {k: to_decimal(v) for k, v in uow.session.execute(stmt)}


# ------------------------------------------------------------------ supplier side (portal)
def create_asn(uow: UnitOfWork, order_id: int, lines: list[AsnLineIn], *, ship_date: dt.date | str | None = None,
               expected_date: dt.date | str | None = None, carrier: str | None = None,
               tracking_no: str | None = None, note: str | None = None) -> AdvanceShipNotice:
    pid = portal.portal_partner(uow)
    po = purchasing.supplier_order(uow, pid, order_id, for_update=True)
    if po.state != "confirmed":
        raise Conflict(_("订单 {n} 状态为 {s}，不能发货", n=po.number, s=purchasing.state_label("order", po.state)),
                       field="state")
    today = company_today(uow)
    ship = _date(ship_date, "ship_date", _("发货日期")) or today
    if ship < po.order_date:
        raise ValidationFailed(_("发货日期不能早于订单日期 {d}", d=po.order_date), field="ship_date")
    if ship > today:
        raise ValidationFailed(_("发货日期不能晚于今天：货物发出后再通知"), field="ship_date")
    arrive = _date(expected_date, "expected_date", _("预计到货日期"))
    if arrive is None:
        raise ValidationFailed(_("请输入预计到货日期"), field="expected_date")
    if arrive < ship:
        raise ValidationFailed(_("预计到货日期不能早于发货日期"), field="expected_date")
    by_id = {ln.id: ln for ln in po.lines}
    products = _products(uow, [ln.product_id for ln in po.lines])
    announced = _announced(uow, by_id)
    wanted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    planned: list[tuple[int, Decimal, str | None]] = []
    for i, ln in enumerate(lines):
        where = _("第 {i} 行：", i=i + 1)
        ol = by_id.get(int(ln.order_line_id)) if str(ln.order_line_id).isdigit() else None
        if ol is None:
            raise ValidationFailed(where + _("订单行不存在：#{id}", id=ln.order_line_id), field="order_line_id")
        try:
            qty = inv.q6(to_decimal(ln.quantity if ln.quantity not in (None, "") else 0))
        except (ValueError, ArithmeticError):
            raise ValidationFailed(where + _("数量格式不正确：{v}", v=ln.quantity), field="quantity") from None
        if qty < 0:
            raise ValidationFailed(where + _("数量不能为负数"), field="quantity")
        if qty == 0:
            continue
        wanted[ol.id] += qty
        allowed = ol.quantity * (1 + to_decimal(po.receipt_tolerance_pct) / HUNDRED)
        left = allowed - ol.qty_received - announced.get(ol.id, ZERO)
        if wanted[ol.id] > left:
            prod = products[ol.product_id]
            raise ValidationFailed(where + _(
                "{sku} {name} 订购 {ordered}，已收 {received}，在途 {transit}，最多还可发 {left}",
                sku=prod.sku, name=prod.name, ordered=inv.fmt_qty(ol.quantity), received=inv.fmt_qty(ol.qty_received),
                transit=inv.fmt_qty(announced.get(ol.id, ZERO)), left=inv.fmt_qty(max(left, ZERO))), field="quantity")
        lot = (ln.lot or "").strip()[:80] or None
        prod = products[ol.product_id]
        if lot and prod.tracking == "none":  # found now, not when the goods are at the dock
            raise ValidationFailed(where + _("商品 {sku} 不按批次管理，不能填写批号", sku=prod.sku), field="lot")
        if not lot and prod.tracking != "none":
            raise ValidationFailed(where + _("商品 {sku} 按批次管理，请填写批号", sku=prod.sku), field="lot")
        planned.append((ol.id, qty, lot))
    if not planned:
        raise ValidationFailed(_("请至少填写一行发货数量"), field="lines")
    asn = uow.add(AdvanceShipNotice(
        number=next_number(uow, "ASN", on=ship), purchase_order_id=po.id, partner_id=pid, state="shipped",
        ship_date=ship, expected_date=arrive, carrier=(carrier or "").strip()[:80] or None,
        tracking_no=(tracking_no or "").strip()[:80] or None, note=(note or "").strip()[:500] or None,
        created_by=uow.actor.username or ""))
    for line_id, qty, lot in planned:
        asn.lines.append(AdvanceShipNoticeLine(company_id=uow.company_id, order_line_id=line_id,
                                               product_id=by_id[line_id].product_id, quantity=qty, lot=lot))
    uow.flush()
    uow.emit("srm.asn_created", asn_id=asn.id, purchase_order_id=po.id, partner_id=pid,
             expected_date=arrive.isoformat())
    return asn


def _my_asn(uow: UnitOfWork, asn_id: int, *, for_update: bool = False) -> AdvanceShipNotice:
    pid = portal.portal_partner(uow)
    stmt = select(AdvanceShipNotice).where(AdvanceShipNotice.company_id == uow.company_id,
                                           AdvanceShipNotice.id == int(asn_id), AdvanceShipNotice.partner_id == pid)
    asn = uow.session.scalar(stmt.with_for_update() if for_update else stmt)
    if asn is None:
        raise NotFound(_("记录不存在：{what} #{id}", what=AdvanceShipNotice.__label__, id=asn_id))
    return asn


def cancel_asn(uow: UnitOfWork, asn_id: int, reason: str | None = None) -> AdvanceShipNotice:
    asn = _my_asn(uow, asn_id, for_update=True)
    if asn.state != "shipped":
        raise Conflict(_("发货通知 {n} 状态为 {s}，不能取消", n=asn.number, s=state_label(asn.state)), field="state")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写取消原因"), field="reason")
    asn.state = "cancelled"
    asn.cancel_reason = reason[:500]
    uow.flush()
    uow.emit("srm.asn_cancelled", asn_id=asn.id, purchase_order_id=asn.purchase_order_id)
    return asn


def my_asns(uow: UnitOfWork, order_id: int | None = None) -> list[dict]:
    pid = portal.portal_partner(uow)
    stmt = select(AdvanceShipNotice).where(AdvanceShipNotice.company_id == uow.company_id,
                                           AdvanceShipNotice.partner_id == pid)
    if order_id:
        stmt = stmt.where(AdvanceShipNotice.purchase_order_id == int(order_id))
    rows = list(uow.session.scalars(stmt.order_by(AdvanceShipNotice.id.desc()).limit(500)))
    return _dicts(uow, rows)


def open_quantities(uow: UnitOfWork, order: dict) -> dict[int, Decimal]:
    """Per PO line of a portal order dict (`portal.my_order`): how much may still be announced."""
    announced = _announced(uow, [ln["id"] for ln in order["lines"]])
    return {ln["id"]: max(to_decimal(ln["quantity"]) - to_decimal(ln["qty_received"]) - announced.get(ln["id"], ZERO),
                          ZERO) for ln in order["lines"]}


# ------------------------------------------------------------------ buyer side
def _dicts(uow: UnitOfWork, rows: list[AdvanceShipNotice]) -> list[dict]:
    partners = _partners(uow, [r.partner_id for r in rows])
    orders = purchasing.order_summaries(uow, {r.purchase_order_id for r in rows})
    products = _products(uow, [ln.product_id for r in rows for ln in r.lines])
    today = None
    out = []
    for r in rows:
        p = partners.get(r.partner_id)
        if today is None:
            today = company_today(uow)
        out.append({
            "id": r.id, "number": r.number, "state": r.state, "state_label": state_label(r.state),
            "purchase_order_id": r.purchase_order_id,
            "order": orders.get(r.purchase_order_id, {}).get("number", ""),
            "partner_id": r.partner_id, "supplier_code": p.code if p else "", "supplier": p.name if p else "",
            "ship_date": r.ship_date.isoformat(), "expected_date": r.expected_date.isoformat(),
            "overdue": r.state == "shipped" and r.expected_date < today,
            "carrier": r.carrier or "", "tracking_no": r.tracking_no or "", "note": r.note or "",
            "created_by": r.created_by, "receipt_id": r.receipt_id, "cancel_reason": r.cancel_reason or "",
            "quantity": str(sum((to_decimal(ln.quantity) for ln in r.lines), ZERO)),
            "lines": [{"order_line_id": ln.order_line_id, "sku": products[ln.product_id].sku,
                       "product_name": products[ln.product_id].name, "quantity": str(ln.quantity),
                       "lot": ln.lot or ""} for ln in r.lines]})
    return out


def asn_rows(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, partner_id: int | None = None,
             order_id: int | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    uow.actor.require(READ)
    a = AdvanceShipNotice
    stmt = select(a).where(a.company_id == uow.company_id)
    if state:
        if state not in STATES:
            raise ValidationFailed(_("状态不正确：{v}", v=state), field="state")
        stmt = stmt.where(a.state == state)
    if partner_id:
        stmt = stmt.where(a.partner_id == int(partner_id))
    if order_id:
        stmt = stmt.where(a.purchase_order_id == int(order_id))
    if q and q.strip():
        like = f"%{q.strip()}%"
        suppliers = select(md.Partner.id).where(md.Partner.company_id == uow.company_id,
                                                or_(md.Partner.name.ilike(like), md.Partner.code.ilike(like)))
        stmt = stmt.where(or_(a.number.ilike(like), a.tracking_no.ilike(like), a.partner_id.in_(suppliers),
                              a.purchase_order_id.in_(purchasing.order_ids_matching(uow, q.strip()))))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(a.expected_date.desc(), a.id.desc()).limit(limit).offset(offset)))
    return _dicts(uow, rows), total


def asn_detail(uow: UnitOfWork, asn_id: int) -> dict:
    uow.actor.require(READ)
    asn = _get(uow, asn_id)
    return _dicts(uow, [asn])[0]


def _get(uow: UnitOfWork, asn_id: int, *, for_update: bool = False) -> AdvanceShipNotice:
    stmt = select(AdvanceShipNotice).where(AdvanceShipNotice.company_id == uow.company_id,
                                           AdvanceShipNotice.id == int(asn_id))
    asn = uow.session.scalar(stmt.with_for_update() if for_update else stmt)
    if asn is None:
        raise NotFound(_("记录不存在：{what} #{id}", what=AdvanceShipNotice.__label__, id=asn_id))
    return asn


def receive_asn(uow: UnitOfWork, asn_id: int, *, location: int | str | None = None,
                receipt_date: dt.date | str | None = None):
    """Receive exactly what the notice announced (a goods receipt in ERP); returns the receipt."""
    uow.actor.require(RECEIVE)
    asn = _get(uow, asn_id, for_update=True)
    if asn.state != "shipped":
        raise Conflict(_("发货通知 {n} 状态为 {s}，不能收货", n=asn.number, s=state_label(asn.state)), field="state")
    day = _date(receipt_date, "receipt_date", _("收货日期"))
    receipt = purchasing.receive_order(
        uow, asn.purchase_order_id,
        [purchasing.ReceiptLineIn(ln.quantity, order_line_id=ln.order_line_id, lot=ln.lot) for ln in asn.lines],
        receipt_date=day, location=location, notes=_("发货通知 {n}", n=asn.number))
    asn.state = "received"
    asn.receipt_id = receipt.id
    uow.flush()
    return receipt


def in_transit_by_order(uow: UnitOfWork, order_ids) -> dict[int, dict]:
    """Per purchase order: open notices' count, quantity and latest expected arrival (the late-order list)."""
    ids = list(order_ids)
    if not ids:
        return {}
    a, ln = AdvanceShipNotice, AdvanceShipNoticeLine
    rows = uow.session.execute(
        select(a.purchase_order_id, func.count(func.distinct(a.id)), func.sum(ln.quantity), func.max(a.expected_date))
        .join(ln, ln.asn_id == a.id)
        .where(a.company_id == uow.company_id, a.state == "shipped", a.purchase_order_id.in_(ids))
        .group_by(a.purchase_order_id))
    return {r[0]: {"count": r[1], "quantity": to_decimal(r[2]), "expected_date": r[3]} for r in rows}


@subscribe("erp.receipt_done", "srm.asn.on_receipt_done")
def _close_when_fully_received(uow: UnitOfWork, event: Event) -> None:
    order_id = int(event.payload["purchase_order_id"])
    summary = purchasing.order_summaries(uow, [order_id]).get(order_id)
    if summary is None or summary["state"] != "done":
        return
    for asn in uow.session.scalars(select(AdvanceShipNotice).where(
            AdvanceShipNotice.company_id == uow.company_id, AdvanceShipNotice.purchase_order_id == order_id,
            AdvanceShipNotice.state == "shipped")):
        asn.state = "received"
        asn.receipt_id = asn.receipt_id or int(event.payload["receipt_id"])
    uow.flush()
