"""Supplier complaints / nonconformance (供应商投诉 / 不合格 — 出问题找谁负责): a ticket naming the supplier, what
was wrong (product, lot, receipt or PO reference, defect, quantity), the owner on our side and the contact on
the supplier's, a due date and the corrective action. open → action_proposed (the supplier's corrective
action recorded) → verified (we checked it works) → closed; a rejected action goes back to open.
`complaint_counts` feeds the scorecard.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select

from opensupply.core.auth import User
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv

from . import suppliers
from .models import COMPLAINT_SEVERITIES, Complaint

register_sequence("SRMQ", "TS{year}-", 5)

STATE_LABELS = {"open": _l("待处理"), "action_proposed": _l("已提交纠正措施"), "verified": _l("已验证"),
                "closed": _l("已关闭")}
SEVERITY_LABELS = {"minor": _l("轻微"), "major": _l("一般"), "critical": _l("严重")}
OPEN_STATES = ("open", "action_proposed", "verified")


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def _text(data: dict, key: str, label, *, required: bool = False, max_length: int | None = None) -> str | None:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise ValidationFailed(_("请填写{label}", label=label), field=key)
    if max_length and len(value) > max_length:
        raise ValidationFailed(_("{label}最多 {n} 个字符", label=label, n=max_length), field=key)
    return value or None


def _day(value, key: str, label) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10].replace("/", "-"))
    except ValueError:
        raise ValidationFailed(_("{label}格式不正确：{value}", label=label, value=value), field=key) from None


def _owner(uow: UnitOfWork, ref) -> tuple[int | None, str | None]:
    if ref in (None, ""):
        return uow.actor.user_id, uow.actor.username
    user = uow.session.scalar(select(User).where(or_(User.username == str(ref).strip(),
                                                     User.id == (int(ref) if str(ref).isdigit() else -1))))
    if user is None:
        raise ValidationFailed(_("负责人不存在：{value}", value=ref), field="owner")
    return user.id, user.username


def open_complaint(uow: UnitOfWork, data: dict) -> Complaint:
    uow.actor.require("srm.write")
    partner_id = suppliers.resolve_partner(uow, data.get("partner") or data.get("partner_id"))
    sup = suppliers.profile_of(uow, partner_id)
    if sup is None:
        raise ValidationFailed(_("供应商尚未在供应商管理中建档"), field="partner")
    severity = str(data.get("severity") or "major")
    if severity not in COMPLAINT_SEVERITIES:
        raise ValidationFailed(_("严重程度无效：{value}", value=severity), field="severity")
    product_id = None
    if data.get("product") not in (None, ""):
        product_id = inv.resolve_product(uow, data["product"]).id
    qty = None
    if data.get("defect_quantity") not in (None, ""):
        try:
            qty = to_decimal(data["defect_quantity"])
        except Exception:
            raise ValidationFailed(_("不合格数量格式不正确"), field="defect_quantity") from None
        if qty <= 0:
            raise ValidationFailed(_("不合格数量必须大于 0"), field="defect_quantity")
    today = company_today(uow)
    reported = _day(data.get("reported_on"), "reported_on", _("投诉日期")) or today
    due = _day(data.get("due_date"), "due_date", _("要求完成日期")) or reported + dt.timedelta(days=7)
    if due < reported:
        raise ValidationFailed(_("要求完成日期不能早于投诉日期"), field="due_date")
    owner_id, owner_name = _owner(uow, data.get("owner"))
    c = uow.add(Complaint(
        number=next_number(uow, "SRMQ", on=reported), supplier_id=sup.id, partner_id=partner_id,
        title=_text(data, "title", _("标题"), required=True, max_length=200), severity=severity,
        product_id=product_id, lot=_text(data, "lot", _("批次"), max_length=80),
        receipt_ref=_text(data, "receipt_ref", _("收货单/订单号"), max_length=40),
        defect_description=_text(data, "defect_description", _("不合格描述"), required=True),
        defect_quantity=qty, owner_user_id=owner_id, owner_name=owner_name,
        supplier_contact=_text(data, "supplier_contact", _("供应商联系人"), max_length=120),
        reported_on=reported, due_date=due, state="open"))
    uow.flush()
    uow.emit("srm.complaint_opened", complaint_id=c.id, partner_id=partner_id)
    return c


def _get(uow: UnitOfWork, complaint_id: int, *states: str) -> Complaint:
    c = uow.get(Complaint, complaint_id, for_update=True)
    if states and c.state not in states:
        raise Conflict(_("投诉单 {n} 当前为{state}，不能执行此操作", n=c.number, state=state_label(c.state)),
                       field="state")
    return c


def propose_action(uow: UnitOfWork, complaint_id: int, corrective_action: str) -> Complaint:
    """Record the supplier's corrective action (8D / 纠正预防措施)."""
    uow.actor.require("srm.write")
    c = _get(uow, complaint_id, "open")
    c.corrective_action = _text({"corrective_action": corrective_action}, "corrective_action", _("纠正措施"),
                                required=True)
    c.state = "action_proposed"
    uow.flush()
    return c


def verify_action(uow: UnitOfWork, complaint_id: int, note: str | None = None, *, effective: bool = True
                  ) -> Complaint:
    """Our side checks the action: effective → verified; not effective → back to open for a new action."""
    uow.actor.require("srm.write")
    c = _get(uow, complaint_id, "action_proposed")
    note = (note or "").strip() or None
    if not effective and not note:
        raise ValidationFailed(_("请填写验证不通过的原因"), field="note")
    c.verification_note = note
    c.state = "verified" if effective else "open"
    uow.flush()
    return c


def close_complaint(uow: UnitOfWork, complaint_id: int) -> Complaint:
    uow.actor.require("srm.write")
    c = _get(uow, complaint_id, "verified")
    c.state = "closed"
    c.closed_on = company_today(uow)
    uow.flush()
    return c


def reassign(uow: UnitOfWork, complaint_id: int, owner, due_date=None) -> Complaint:
    uow.actor.require("srm.write")
    c = _get(uow, complaint_id, *OPEN_STATES)
    c.owner_user_id, c.owner_name = _owner(uow, owner)
    if due_date not in (None, ""):
        due = _day(due_date, "due_date", _("要求完成日期"))
        if due < c.reported_on:
            raise ValidationFailed(_("要求完成日期不能早于投诉日期"), field="due_date")
        c.due_date = due
    uow.flush()
    return c


def is_overdue(c: Complaint, today: dt.date) -> bool:
    return c.state in ("open", "action_proposed") and c.due_date < today


def complaint_rows(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, partner_id: int | None = None,
                   overdue: bool = False, today: dt.date | None = None, limit: int = 50,
                   offset: int = 0) -> tuple[list[Complaint], int]:
    stmt = select(Complaint).where(Complaint.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Complaint.number.ilike(like), Complaint.title.ilike(like), Complaint.lot.ilike(like),
                              Complaint.receipt_ref.ilike(like), Complaint.partner_id.in_(
                                  select(suppliers.Supplier.partner_id).where(
                                      suppliers.Supplier.company_id == uow.company_id,
                                      suppliers.Supplier.partner_name.ilike(like)))))
    if state:
        if state not in STATE_LABELS:
            raise ValidationFailed(_("投诉状态无效：{value}", value=state), field="state")
        stmt = stmt.where(Complaint.state == state)
    if partner_id:
        stmt = stmt.where(Complaint.partner_id == partner_id)
    if overdue:
        stmt = stmt.where(Complaint.state.in_(("open", "action_proposed")),
                          Complaint.due_date < (today or company_today(uow)))
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    order = (Complaint.due_date, Complaint.id) if overdue else (Complaint.reported_on.desc(), Complaint.id.desc())
    items = list(uow.session.scalars(stmt.order_by(*order).limit(max(1, min(limit, 100000))).offset(max(0, offset))))
    return items, total


def complaint_counts(uow: UnitOfWork, partner_ids, start: dt.date, end: dt.date) -> dict[int, dict]:
    """Complaints per supplier partner reported in [start, end]: {partner_id: {"total", "critical", "major",
    "minor", "open", "overdue"}} — every asked partner present, zeros included (for the scorecard)."""
    ids = {int(i) for i in partner_ids}
    out = {i: {"total": 0, "critical": 0, "major": 0, "minor": 0, "open": 0, "overdue": 0} for i in ids}
    if not ids:
        return out
    today = company_today(uow)
    rows = uow.session.execute(select(Complaint.partner_id, Complaint.severity, Complaint.state, Complaint.due_date)
                               .where(Complaint.company_id == uow.company_id, Complaint.partner_id.in_(ids),
                                      Complaint.reported_on >= start, Complaint.reported_on <= end))
    for pid, severity, state, due in rows:
        d = out[pid]
        d["total"] += 1
        d[severity] += 1
        if state in OPEN_STATES:
            d["open"] += 1
        if state in ("open", "action_proposed") and due < today:
            d["overdue"] += 1
    return out


def complaint_dict(c: Complaint, today: dt.date | None = None) -> dict:
    return {"id": c.id, "number": c.number, "partner_id": c.partner_id, "supplier_id": c.supplier_id,
            "title": c.title, "severity": c.severity, "severity_label": str(SEVERITY_LABELS[c.severity]),
            "product_id": c.product_id, "lot": c.lot, "receipt_ref": c.receipt_ref,
            "defect_description": c.defect_description,
            "defect_quantity": None if c.defect_quantity is None else str(c.defect_quantity),
            "owner": c.owner_name, "supplier_contact": c.supplier_contact,
            "reported_on": c.reported_on.isoformat(), "due_date": c.due_date.isoformat(),
            "corrective_action": c.corrective_action, "verification_note": c.verification_note,
            "state": c.state, "state_label": state_label(c.state),
            "closed_on": c.closed_on.isoformat() if c.closed_on else None,
            "overdue": is_overdue(c, today) if today else None}
