"""The supplier portal: supplier users are core users linked to one supplier partner (`PortalAccount`), made by a
buyer ("invite supplier user", srm.write) with the preset role `supplier_portal` that holds only srm.portal.

Everything here acts for the caller's own supplier, found from the account — never from a parameter — so a
portal user sees only the RFQs that supplier was invited to, its own bid, its own purchase orders (confirming
them with a promised date) and its own scorecard. Anything else is *not found* (404), never "forbidden", so a
supplier cannot even learn that another supplier's RFQ or order exists.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select

from opensupply.core import auth
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing

from . import rfq as rfqs
from .tender_models import Bid, BidLine, PoConfirmation, PortalAccount, PortalNotice, Rfq, RfqInvite

PORTAL = "srm.portal"
PORTAL_ROLE = "supplier_portal"
RESULT_LABELS = {"awarded": _l("中标"), "unawarded": _l("未中标")}


# ------------------------------------------------------------------ accounts (buyer side)
def ensure_portal_role(uow: UnitOfWork) -> auth.Role:
    return auth.ensure_role(uow, PORTAL_ROLE, "供应商门户", [PORTAL], "供应商登录门户：只看本供应商的询价、订单和评分")


def invite_supplier_user(uow: UnitOfWork, partner_id: int | str, *, username: str, display_name: str = "",
                         email: str | None = None, password: str | None = None) -> tuple[PortalAccount, str]:
    """Create a portal login for a supplier; returns the account and the initial password (shown once)."""
    uow.actor.require(rfqs.WRITE)
    partner = purchasing.resolve_supplier(uow, partner_id)
    ensure_portal_role(uow)
    password = password or secrets.token_urlsafe(9)
    user = auth.create_user(uow, username=username, password=password, display_name=display_name or partner.name,
                            email=(email or "").strip() or None, roles=[PORTAL_ROLE], company_ids=[uow.company_id])
    acc = uow.add(PortalAccount(user_id=user.id, partner_id=partner.id))
    uow.flush()
    return acc, password


def portal_accounts(uow: UnitOfWork, partner_id: int | None = None) -> list[dict]:
    uow.actor.require(rfqs.READ)
    stmt = (select(PortalAccount, auth.User).join(auth.User, auth.User.id == PortalAccount.user_id)
            .where(PortalAccount.company_id == uow.company_id).order_by(PortalAccount.id))
    if partner_id:
        stmt = stmt.where(PortalAccount.partner_id == int(partner_id))
    rows = uow.session.execute(stmt).all()
    partners = rfqs._partners(uow, [a.partner_id for a, _u in rows])
    return [{"id": a.id, "user_id": u.id, "username": u.username, "display_name": u.display_name, "email": u.email,
             "active": u.is_active, "partner_id": a.partner_id, "partner_code": partners[a.partner_id].code,
             "partner_name": partners[a.partner_id].name, "last_login_at": u.last_login_at.isoformat()
             if u.last_login_at else None} for a, u in rows]


def set_account_active(uow: UnitOfWork, account_id: int, active: bool) -> PortalAccount:
    """Lock or unlock a supplier's login (its sessions end at once when locked)."""
    uow.actor.require(rfqs.WRITE)
    acc = uow.get(PortalAccount, account_id, for_update=True)
    user = uow.session.get(auth.User, acc.user_id)
    user.is_active = bool(active)
    if not active:
        uow.session.execute(delete(auth.AuthSession).where(auth.AuthSession.user_id == user.id))
    uow.flush()
    return acc


# ------------------------------------------------------------------ who is calling
def portal_partner(uow: UnitOfWork) -> int:
    """The supplier partner the calling portal user acts for; anyone without a portal account gets 404."""
    uow.actor.require(PORTAL)
    pid = uow.session.scalar(select(PortalAccount.partner_id).where(
        PortalAccount.company_id == uow.company_id, PortalAccount.user_id == uow.actor.user_id))
    if pid is None:
        raise NotFound(_("页面或记录不存在"))
    return pid


def is_portal_user(uow: UnitOfWork) -> bool:
    return uow.actor.user_id is not None and uow.session.scalar(select(PortalAccount.id).where(
        PortalAccount.user_id == uow.actor.user_id)) is not None


def partner_info(uow: UnitOfWork) -> dict:
    pid = portal_partner(uow)
    p = rfqs._partners(uow, [pid])[pid]
    return {"id": p.id, "code": p.code, "name": p.name}


# ------------------------------------------------------------------ RFQs and bids
def _my_invite(uow: UnitOfWork, pid: int, rfq_id: int) -> tuple[Rfq, RfqInvite]:
    row = uow.session.execute(select(Rfq, RfqInvite).join(RfqInvite, RfqInvite.rfq_id == Rfq.id).where(
        Rfq.company_id == uow.company_id, Rfq.id == int(rfq_id), RfqInvite.partner_id == pid,
        Rfq.state != "draft")).first()
    if row is None:  # not invited, a draft, or not there at all: the same answer
        raise NotFound(_("记录不存在：{what} #{id}", what=_("询价单"), id=rfq_id))
    return row[0], row[1]


def _my_bid(uow: UnitOfWork, pid: int, rfq_id: int) -> Bid | None:
    return uow.session.scalar(select(Bid).where(Bid.company_id == uow.company_id, Bid.rfq_id == rfq_id,
                                                Bid.partner_id == pid))


def my_rfqs(uow: UnitOfWork, *, only_open: bool = False) -> list[dict]:
    pid = portal_partner(uow)
    rows = uow.session.execute(select(Rfq, RfqInvite).join(RfqInvite, RfqInvite.rfq_id == Rfq.id).where(
        Rfq.company_id == uow.company_id, RfqInvite.partner_id == pid, Rfq.state != "draft")
        .order_by(Rfq.deadline.desc())).all()
    bids = {b.rfq_id: b for b in uow.session.scalars(select(Bid).where(
        Bid.company_id == uow.company_id, Bid.partner_id == pid))}
    now = utcnow()
    out = []
    for r, i in rows:
        st = rfqs.effective_state(r, now)
        if only_open and st != "open":
            continue
        b = bids.get(r.id)
        out.append({"id": r.id, "number": r.number, "title": r.title, "state": st,
                    "state_label": rfqs.state_label(st), "deadline": r.deadline.isoformat(),
                    "can_bid": st == "open", "has_bid": b is not None,
                    "submitted_at": b.submitted_at.isoformat() if b else None,
                    "total": str(b.total) if b else None, "result": i.result,
                    "result_label": str(RESULT_LABELS[i.result]) if i.result else ""})
    return out


def my_rfq(uow: UnitOfWork, rfq_id: int) -> dict:
    """An RFQ this supplier was invited to, with its own bid (never anybody else's, nor who else was invited)."""
    pid = portal_partner(uow)
    rfq, invite = _my_invite(uow, pid, rfq_id)
    data = rfqs.rfq_dict(uow, rfq)
    data.pop("invites")
    data.pop("buyer", None)
    bid = _my_bid(uow, pid, rfq.id)
    mine = {bl.rfq_line_id: bl for bl in bid.lines} if bid else {}
    for ln in data["lines"]:
        bl = mine.get(ln["id"])
        ln["unit_price"] = str(bl.unit_price) if bl else None
        ln["lead_time_days"] = bl.lead_time_days if bl else None
    data["can_bid"] = data["state"] == "open"
    data["result"] = invite.result
    data["result_label"] = str(RESULT_LABELS[invite.result]) if invite.result else ""
    data["bid"] = None if bid is None else {
        "payment_terms": bid.payment_terms, "validity_days": bid.validity_days, "note": bid.note,
        "revision": bid.revision, "submitted_at": bid.submitted_at.isoformat(), "total": str(bid.total)}
    return data


@dataclass
class BidLineIn:
    rfq_line_id: int
    unit_price: Decimal | str | int | None
    lead_time_days: int | str | None = None


def submit_bid(uow: UnitOfWork, rfq_id: int, lines: list[BidLineIn], *, payment_terms: str = "",
               validity_days: int | str | None = 30, note: str | None = None) -> Bid:
    """Submit or revise the caller's supplier's bid; refused once the deadline has passed or the RFQ closed.
    A line left without a price is not quoted; at least one line must be."""
    pid = portal_partner(uow)
    rfq, _invite = _my_invite(uow, pid, rfq_id)
    rfq = uow.get(Rfq, rfq.id, for_update=True)  # a buyer closing it at this moment waits, or we see it closed
    if rfqs.effective_state(rfq) != "open":
        raise Conflict(_("询价单 {n} 已截止，不能再报价或修改", n=rfq.number), field="deadline")
    by_id = {ln.id: ln for ln in rfq.lines}
    priced: dict[int, tuple[Decimal, int]] = {}
    for ln in lines:
        rl = by_id.get(int(ln.rfq_line_id))
        if rl is None:
            raise NotFound(_("询价行不存在：#{id}", id=ln.rfq_line_id), field="rfq_line_id")
        n = rfq.lines.index(rl) + 1
        if ln.unit_price in (None, ""):
            continue
        try:
            price = to_decimal(ln.unit_price)
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationFailed(_("第 {n} 行：单价格式不正确", n=n), field="unit_price") from None
        if not price.is_finite() or price <= 0:
            raise ValidationFailed(_("第 {n} 行：单价必须大于 0", n=n), field="unit_price")
        try:
            lead = int(str(ln.lead_time_days).strip()) if ln.lead_time_days not in (None, "") else 0
        except ValueError:
            raise ValidationFailed(_("第 {n} 行：交期天数必须是整数", n=n), field="lead_time_days") from None
        if lead < 0 or lead > 3650:
            raise ValidationFailed(_("第 {n} 行：交期天数应在 0 到 3650 之间", n=n), field="lead_time_days")
        priced[rl.id] = (price, lead)
    if not priced:
        raise ValidationFailed(_("请至少为一行报价"), field="lines")
    try:
        validity = int(str(validity_days).strip()) if validity_days not in (None, "") else 30
    except ValueError:
        raise ValidationFailed(_("报价有效期必须是整数天"), field="validity_days") from None
    if validity < 1 or validity > 3650:
        raise ValidationFailed(_("报价有效期应在 1 到 3650 天之间"), field="validity_days")
    now = utcnow()
    bid = _my_bid(uow, pid, rfq.id)
    if bid is None:
        bid = uow.add(Bid(rfq_id=rfq.id, partner_id=pid, revision=1, first_submitted_at=now, submitted_at=now))
    else:
        bid.revision += 1
        bid.submitted_at = now
        bid.lines.clear()
        uow.flush()
    bid.payment_terms = (payment_terms or "").strip()[:120]
    bid.validity_days = validity
    bid.note = (note or "").strip()[:2000] or None
    bid.submitted_by = uow.actor.username
    bid.lines.extend(BidLine(company_id=uow.company_id, rfq_line_id=lid, unit_price=price, lead_time_days=lead)
                     for lid, (price, lead) in priced.items())
    bid.total = sum((purchasing.money(price * by_id[lid].quantity) for lid, (price, _l) in priced.items()), ZERO)
    uow.flush()
    uow.emit("srm.bid_submitted", rfq_id=rfq.id, partner_id=pid, revision=bid.revision)
    return bid


def my_bids(uow: UnitOfWork) -> list[dict]:
    return [r for r in my_rfqs(uow) if r["has_bid"]]


def my_notices(uow: UnitOfWork, limit: int = 20) -> list[dict]:
    """Messages to my supplier, worded in the reader's language (the stored text is the writer's)."""
    pid = portal_partner(uow)
    rows = uow.session.execute(select(PortalNotice, Rfq.number, Rfq.title).outerjoin(
        Rfq, Rfq.id == PortalNotice.rfq_id).where(PortalNotice.company_id == uow.company_id,
                                                  PortalNotice.partner_id == pid)
        .order_by(PortalNotice.id.desc()).limit(limit)).all()
    out = []
    for n, number, title in rows:
        text = n.text
        if number and n.kind == "invited":
            text = _("邀请您参加询价 {n}：{t}", n=number, t=title)
        elif number and n.kind == "awarded":
            text = _("恭喜，您在询价 {n} 中标", n=number)
        elif number and n.kind == "unawarded":
            text = _("询价 {n} 已定标，感谢参与，本次未中标", n=number)
        out.append({"id": n.id, "kind": n.kind, "text": text, "rfq_id": n.rfq_id, "at": n.created_at.isoformat()})
    return out


# ------------------------------------------------------------------ purchase orders
def _confirmations(uow: UnitOfWork, order_ids) -> dict[int, PoConfirmation]:
    ids = list(order_ids)
    if not ids:
        return {}
    return {c.purchase_order_id: c for c in uow.session.scalars(select(PoConfirmation).where(
        PoConfirmation.company_id == uow.company_id, PoConfirmation.purchase_order_id.in_(ids)))}


def my_orders(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, limit: int = 50,
              offset: int = 0) -> tuple[list[dict], int]:
    pid = portal_partner(uow)
    rows, total = purchasing.supplier_order_rows(uow, pid, q=q, state=state or None, limit=limit, offset=offset)
    conf = _confirmations(uow, [po.id for po in rows])
    return [_order_dict(po, conf.get(po.id)) for po in rows], total


def _order_dict(po, c: PoConfirmation | None) -> dict:
    return {"id": po.id, "number": po.number, "state": po.state,
            "state_label": purchasing.state_label("order", po.state), "order_date": po.order_date.isoformat(),
            "expected_date": po.expected_date.isoformat() if po.expected_date else None,
            "currency_code": po.currency_code, "untaxed": str(po.untaxed), "tax": str(po.tax), "total": str(po.total),
            "confirmed": c is not None, "promised_date": c.promised_date.isoformat() if c else None,
            "confirmed_at": c.confirmed_at.isoformat() if c else None, "confirm_note": c.note if c else None}


def my_order(uow: UnitOfWork, order_id: int) -> dict:
    pid = portal_partner(uow)
    po = purchasing.supplier_order(uow, pid, order_id)
    data = _order_dict(po, _confirmations(uow, [po.id]).get(po.id))
    products = rfqs._products(uow, [ln.product_id for ln in po.lines])
    data["lines"] = [{"id": ln.id, "sku": products[ln.product_id].sku, "product_name": products[ln.product_id].name,
                      "quantity": str(ln.quantity), "qty_received": str(ln.qty_received),
                      "unit_price": str(ln.unit_price), "amount": str(ln.amount)} for ln in po.lines]
    data["can_confirm"] = po.state == "confirmed"
    return data


def confirm_order(uow: UnitOfWork, order_id: int, promised_date: dt.date | str | None,
                  note: str | None = None) -> PoConfirmation:
    """The supplier confirms its purchase order and promises a delivery date (may be given again to revise)."""
    pid = portal_partner(uow)
    po = purchasing.supplier_order(uow, pid, order_id)
    if po.state != "confirmed":
        raise Conflict(_("订单 {n} 状态为 {s}，不能确认交期", n=po.number, s=purchasing.state_label("order", po.state)),
                       field="state")
    if isinstance(promised_date, str):
        try:
            promised_date = dt.date.fromisoformat(promised_date.strip()) if promised_date.strip() else None
        except ValueError:
            raise ValidationFailed(_("日期格式不正确：{v}", v=promised_date), field="promised_date") from None
    if promised_date is None:
        raise ValidationFailed(_("请输入承诺交货日期"), field="promised_date")
    if promised_date < po.order_date:
        raise ValidationFailed(_("承诺交货日期不能早于订单日期 {d}", d=po.order_date), field="promised_date")
    c = _confirmations(uow, [po.id]).get(po.id)
    if c is None:
        c = uow.add(PoConfirmation(purchase_order_id=po.id, partner_id=pid, promised_date=promised_date,
                                   confirmed_at=utcnow()))
    c.promised_date = promised_date
    c.confirmed_at = utcnow()
    c.confirmed_by = uow.actor.username
    c.note = (note or "").strip()[:500] or None
    uow.flush()
    uow.emit("srm.po_confirmed_by_supplier", purchase_order_id=po.id, partner_id=pid,
             promised_date=promised_date.isoformat())
    return c


def promised_dates(uow: UnitOfWork, order_ids) -> dict[int, dt.date]:
    """Promised delivery dates of purchase orders the supplier confirmed (for the scorecard)."""
    return {k: v.promised_date for k, v in _confirmations(uow, order_ids).items()}


def open_rfq_count(uow: UnitOfWork) -> int:
    pid = portal_partner(uow)
    return uow.session.scalar(select(func.count()).select_from(Rfq).join(RfqInvite, RfqInvite.rfq_id == Rfq.id).where(
        Rfq.company_id == uow.company_id, RfqInvite.partner_id == pid, Rfq.state == "open",
        Rfq.deadline > utcnow())) or 0
