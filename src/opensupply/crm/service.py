"""CRM use cases, one function each; the caller's unit of work commits.

Leads (deduplicated by phone / e-mail), conversion to customer + contact + opportunity,
the opportunity pipeline, follow-up activities and the "my day" list, customer profiles with
RFM segments and repurchase reminders, collection progress from the general ledger,
after-sales tickets and targeted campaigns. Quotes and sales orders are ERP's: they are
made through `sales_link`, never written here.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import String, and_, cast, func, or_, select, text
from sqlalchemy.exc import IntegrityError

from opensupply.core import jobs
from opensupply.core import resource as rs
from opensupply.core.auth import User, UserCompany
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import Partner

from . import rfm, sales_link
from . import schemas as s
from .models import (
    ACTIVITY_KINDS,
    LEAD_SOURCES,
    OPEN_STAGES,
    OPEN_TICKET_STATES,
    STAGES,
    TICKET_KINDS,
    Activity,
    Campaign,
    CampaignMember,
    Contact,
    CustomerAccount,
    Lead,
    Opportunity,
    Ticket,
)

register_sequence("CRM_LEAD", "XS{year}-", 6)
register_sequence("CRM_OPP", "SJ{year}-", 6)
register_sequence("CRM_TICKET", "SH{year}-", 6)
register_sequence("CRM_CAMPAIGN", "YX{year}-", 4)
register_sequence("CRM_CUSTOMER", "KH", 5, yearly=False)

SOURCE_LABELS = {"expo": _l("展会"), "website": _l("官网"), "douyin": _l("抖音"), "referral": _l("老客户介绍"),
                 "taobao": _l("淘宝咨询"), "wechat": _l("微信"), "phone": _l("来电"), "other": _l("其他")}
LEAD_STATE_LABELS = {"new": _l("新线索"), "contacted": _l("已联系"), "qualified": _l("已确认"),
                     "converted": _l("已转化"), "lost": _l("无效")}
STAGE_LABELS = {"initial": _l("初步接触"), "qualified": _l("需求确认"), "proposal": _l("方案报价"),
                "negotiation": _l("谈判"), "won": _l("赢单"), "lost": _l("输单")}
STAGE_PROBABILITY = {"initial": 10, "qualified": 30, "proposal": 50, "negotiation": 70, "won": 100, "lost": 0}
KIND_LABELS = {"call": _l("电话"), "email": _l("邮件"), "visit": _l("拜访"), "wechat": _l("微信"), "task": _l("待办")}
ACTIVITY_STATE_LABELS = {"open": _l("待跟进"), "done": _l("已完成"), "cancelled": _l("已取消")}
TICKET_KIND_LABELS = {"complaint": _l("投诉"), "return": _l("退换货"), "repair": _l("维修"), "consult": _l("咨询"),
                      "other": _l("其他")}
TICKET_STATE_LABELS = {"open": _l("待处理"), "in_progress": _l("处理中"), "resolved": _l("已解决"),
                       "closed": _l("已关闭")}
PRIORITY_LABELS = {"low": _l("低"), "normal": _l("普通"), "high": _l("高")}
TICKET_FLOW = {"open": {"in_progress", "resolved", "closed"}, "in_progress": {"resolved", "open"},
               "resolved": {"closed", "in_progress"}, "closed": set()}

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def label(table: dict, code: str | None) -> str:
    return str(table.get(code, code or ""))


# ------------------------------------------------------------------ normalizing
def normalize_phone(raw: str | None) -> str | None:
    """The digits that identify a phone, however it was typed: `+86 138-0013-8000`,
    `0086 13800138000` and `138 0013 8000` are one number; landlines keep their trunk 0
    (`+86 571 8888 6666` = `0571-88886666`)."""
    if not raw:
        return None
    digits = re.sub(r"\D", "", raw)
    if not digits:
        return None
    international = raw.strip().startswith("+") or digits.startswith("00")
    digits = digits.lstrip("0") if digits.startswith("00") else digits
    if international or (digits.startswith("86") and len(digits) == 13 and digits[2] == "1"):
        if digits.startswith("86"):
            digits = digits[2:]
            if not re.fullmatch(r"1[3-9]\d{9}", digits) and not digits.startswith("0"):
                digits = "0" + digits  # landline: +86 571 … → 0571 …
        elif international:
            return "+" + digits  # another country: keep its code
    return digits


def normalize_email(raw: str | None) -> str | None:
    return raw.strip().lower() if raw and raw.strip() else None


def _check_phone(phone: str | None, field: str = "phone") -> str | None:
    key = normalize_phone(phone)
    if phone and (key is None or not 5 <= len(key.lstrip("+")) <= 15 or re.search(r"[A-Za-z]", phone)):
        raise ValidationFailed(_("电话格式不正确：{v}", v=phone), field=field)
    return key


def _check_email(email: str | None, field: str = "email") -> str | None:
    if email and not EMAIL_RE.match(email.strip()):
        raise ValidationFailed(_("邮箱格式不正确：{v}", v=email), field=field)
    return normalize_email(email)


# ------------------------------------------------------------------ helpers
def today(uow: UnitOfWork) -> dt.date:
    return company_today(uow)


def sees_all_by_default(uow: UnitOfWork) -> bool:
    """Managers see everyone's leads and opportunities by default, salespeople their own. A manager
    is granted crm.admin by name (or is an administrator); the preset sales role's `crm.*` is
    the salesperson's full toolset, not a manager's view."""
    a = uow.actor
    return a.is_superuser or "*" in a.permissions or "crm.admin" in a.permissions


def mine_only(uow: UnitOfWork, scope: str | None) -> bool:
    if scope not in (None, "", "mine", "all"):
        raise ValidationFailed(_("范围只能是 mine 或 all"), field="scope")
    if scope in (None, ""):
        return not sees_all_by_default(uow)
    return scope == "mine"


def company_users(uow: UnitOfWork) -> list[User]:
    stmt = (select(User).join(UserCompany, UserCompany.user_id == User.id)
            .where(UserCompany.company_id == uow.company_id, User.is_active.is_(True)).order_by(User.username))
    return list(uow.session.scalars(stmt))


def user_names(uow: UnitOfWork, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.display_name or u.username for u in uow.session.scalars(select(User).where(User.id.in_(ids)))}


def _check_owner(uow: UnitOfWork, owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    ok = uow.session.scalar(select(UserCompany.user_id).where(UserCompany.user_id == owner_id,
                                                              UserCompany.company_id == uow.company_id))
    if ok is None:
        raise ValidationFailed(_("负责人不存在：#{id}", id=owner_id), field="owner_id")
    return owner_id


def _partner(uow: UnitOfWork, partner_id: int | None, field: str = "partner_id") -> Partner | None:
    if partner_id is None:
        return None
    partner = uow.session.scalar(select(Partner).where(Partner.id == partner_id,
                                                       Partner.company_id == uow.company_id))
    if partner is None:
        raise ValidationFailed(_("客户不存在：#{id}", id=partner_id), field=field)
    return partner


def _ref(uow: UnitOfWork, model, id_: int | None, field: str):
    if id_ is None:
        return None
    obj = uow.session.scalar(select(model).where(model.id == id_, model.company_id == uow.company_id))
    if obj is None:
        raise ValidationFailed(_("{what}不存在：#{id}", what=_(model.__label__), id=id_), field=field)
    return obj


def _choice(value: str | None, allowed, field: str) -> str | None:
    if value is not None and value not in allowed:
        raise ValidationFailed(_("取值无效：{v}", v=value), field=field)
    return value


def partner_names(uow: UnitOfWork, ids) -> dict[int, Partner]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {p.id: p for p in uow.session.scalars(select(Partner).where(Partner.id.in_(ids),
                                                                       Partner.company_id == uow.company_id))}


def _drop_blank(values: dict, *required: str) -> dict:
    """An edit that leaves a required choice blank keeps its value rather than clearing it."""
    return {k: v for k, v in values.items() if not (k in required and v is None)}


def _page(uow: UnitOfWork, stmt, model, limit: int, offset: int, order) -> tuple[list, int]:
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(uow.session.scalars(stmt.order_by(*order).limit(max(1, min(limit, 100000))).offset(max(0, offset))))
    return rows, total


def _like(q: str | None, *cols):
    if not q or not q.strip():
        return None
    like = f"%{q.strip()}%"
    clauses = [cast(c, String).ilike(like) for c in cols]
    return or_(*clauses)


# ------------------------------------------------------------------ leads
@dataclass
class LeadResult:
    lead: Lead
    duplicate: bool = False


def find_duplicate_lead(uow: UnitOfWork, phone_key: str | None, email_key: str | None,
                        exclude_id: int | None = None) -> Lead | None:
    conds = []
    if phone_key:
        conds.append(Lead.phone_key == phone_key)
    if email_key:
        conds.append(Lead.email_key == email_key)
    if not conds:
        return None
    stmt = select(Lead).where(Lead.company_id == uow.company_id, or_(*conds))
    if exclude_id:
        stmt = stmt.where(Lead.id != exclude_id)
    return uow.session.scalars(stmt.order_by(Lead.id).limit(1)).first()


def create_lead(uow: UnitOfWork, data: s.LeadIn) -> LeadResult:
    """A new enquiry. One already known by its phone or e-mail (in any format) is not a second
    lead: the existing lead is flagged (duplicate count, note) and returned with duplicate=True."""
    uow.actor.require("crm.write")
    if not data.name:
        raise ValidationFailed(_("请填写姓名"), field="name")
    _choice(data.source, LEAD_SOURCES, "source")
    phone_key = _check_phone(data.phone)
    email_key = _check_email(data.email)
    if not (phone_key or email_key or data.wechat):
        raise ValidationFailed(_("请至少填写电话、邮箱或微信之一"), field="phone")
    owner_id = _check_owner(uow, data.owner_id) if data.owner_id else uow.actor.user_id
    _lock_keys(uow, phone_key, email_key)
    existing = find_duplicate_lead(uow, phone_key, email_key)
    if existing is not None:
        uow.session.execute(select(Lead.id).where(Lead.id == existing.id).with_for_update())
        existing.duplicate_count = (existing.duplicate_count or 0) + 1
        existing.last_duplicate_at = utcnow()
        note = _("{date} 再次咨询（{source}）：{name} {phone}{email}", date=today(uow).isoformat(),
                 source=label(SOURCE_LABELS, data.source), name=data.name, phone=data.phone or "",
                 email=(" " + data.email) if data.email else "")
        existing.notes = f"{existing.notes}\n{note}" if existing.notes else note
        uow.flush()
        return LeadResult(existing, duplicate=True)
    lead = Lead(number=next_number(uow, "CRM_LEAD"), name=data.name, company_name=data.company_name,
                title=data.title, phone=data.phone, phone_key=phone_key, email=data.email, email_key=email_key,
                wechat=data.wechat, source=data.source, state="new", owner_id=owner_id,
                expected_value=data.expected_value, notes=data.notes)
    contact = _matching_contact(uow, phone_key, email_key)
    if contact is not None:  # an existing customer's person asking again
        lead.partner_id, lead.contact_id = contact.partner_id, contact.id
    uow.add(lead)
    uow.flush()
    return LeadResult(lead)


def _lock_keys(uow: UnitOfWork, *keys: str | None) -> None:
    """Two enquiries with one phone arriving at the same moment must not both become leads: on
    PostgreSQL they queue on a transaction lock per phone / e-mail (SQLite has one writer anyway)."""
    if uow.db.dialect != "postgresql":
        return
    for key in sorted({k for k in keys if k}):
        lock_id = zlib.crc32(f"crm_lead:{uow.company_id}:{key}".encode())
        uow.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id})


def _matching_contact(uow: UnitOfWork, phone_key, email_key) -> Contact | None:
    conds = [c for c in ((Contact.phone_key == phone_key) if phone_key else None,
                         (Contact.email_key == email_key) if email_key else None) if c is not None]
    if not conds:
        return None
    return uow.session.scalars(select(Contact).where(Contact.company_id == uow.company_id, or_(*conds))
                               .order_by(Contact.id).limit(1)).first()


def update_lead(uow: UnitOfWork, lead_id: int, data: s.LeadUpdate) -> Lead:
    uow.actor.require("crm.write")
    lead = uow.get(Lead, lead_id, for_update=True)
    if lead.state == "converted":
        raise Conflict(_("线索已转化，不能修改"), field="state")
    values = _drop_blank(data.model_dump(exclude_unset=True), "source")
    if "source" in values:
        _choice(values["source"], LEAD_SOURCES, "source")
    if "owner_id" in values:
        _check_owner(uow, values["owner_id"])
    if "name" in values and not values["name"]:
        raise ValidationFailed(_("请填写姓名"), field="name")
    for k, v in values.items():
        setattr(lead, k, v)
    lead.phone_key = _check_phone(lead.phone)
    lead.email_key = _check_email(lead.email)
    other = find_duplicate_lead(uow, lead.phone_key, lead.email_key, exclude_id=lead.id)
    if other is not None:
        raise Conflict(_("电话或邮箱与线索 {number} 重复", number=other.number), field="phone")
    uow.flush()
    return lead


def set_lead_state(uow: UnitOfWork, lead_id: int, state: str, reason: str | None = None) -> Lead:
    uow.actor.require("crm.write")
    lead = uow.get(Lead, lead_id, for_update=True)
    if lead.state == "converted":
        raise Conflict(_("线索已转化，不能修改"), field="state")
    _choice(state, ("new", "contacted", "qualified", "lost"), "state")
    if state == "lost" and not reason:
        raise ValidationFailed(_("请填写无效原因"), field="reason")
    lead.state = state
    lead.lost_reason = reason if state == "lost" else None
    uow.flush()
    return lead


def _new_customer_code(uow: UnitOfWork) -> str:
    for _i in range(20):
        code = next_number(uow, "CRM_CUSTOMER")
        if uow.session.scalar(select(Partner.id).where(Partner.company_id == uow.company_id,
                                                       Partner.code == code)) is None:
            return code
    raise Conflict(_("无法生成客户编码，请手工填写"), field="partner_code")


def convert_lead(uow: UnitOfWork, lead_id: int, data: s.LeadConvertIn) -> dict:
    """Lead → customer (a masterdata partner with the customer role, made through masterdata's
    records service) + contact + opportunity. The lead's open follow-ups move along."""
    uow.actor.require("crm.write")
    lead = uow.get(Lead, lead_id, for_update=True)
    if lead.state == "converted":
        raise Conflict(_("线索已转化：{number}", number=lead.number), field="state")
    if lead.state == "lost":
        raise Conflict(_("无效线索不能转化"), field="state")
    from opensupply.masterdata import resources as md_resources

    partner = _partner(uow, data.partner_id or lead.partner_id)
    if partner is None:
        partner = rs.create_record(uow, md_resources.partners, {
            "code": data.partner_code or _new_customer_code(uow),
            "name": lead.company_name or lead.name, "is_customer": True, "contact_name": lead.name,
            "phone": lead.phone if lead.phone and md_resources.PHONE_RE.match(lead.phone) else lead.phone_key,
            "email": lead.email, "notes": _("来自线索 {number}", number=lead.number)})
    elif not partner.is_customer:
        rs.update_record(uow, md_resources.partners, partner.id, {"is_customer": True})
    contact = _ref(uow, Contact, lead.contact_id, "contact_id") if lead.contact_id else None
    if contact is None:
        contact = Contact(partner_id=partner.id, name=lead.name, title=lead.title, phone=lead.phone,
                          phone_key=lead.phone_key, email=lead.email, email_key=lead.email_key, wechat=lead.wechat,
                          owner_id=lead.owner_id, is_primary=True)
        uow.add(contact)
        uow.flush()
    ensure_customer_account(uow, partner.id, owner_id=lead.owner_id, source=lead.source, lead_id=lead.id)
    opp = None
    if data.create_opportunity:
        opp = Opportunity(number=next_number(uow, "CRM_OPP"),
                          name=data.opportunity_name or _("{name} 的商机", name=partner.name),
                          partner_id=partner.id, contact_id=contact.id, lead_id=lead.id, owner_id=lead.owner_id,
                          stage="initial", probability=STAGE_PROBABILITY["initial"],
                          expected_value=data.expected_value or lead.expected_value or ZERO,
                          expected_close_date=data.expected_close_date, source=lead.source)
        uow.add(opp)
        uow.flush()
    for act in uow.session.scalars(select(Activity).where(Activity.company_id == uow.company_id,
                                                          Activity.lead_id == lead.id)):
        act.partner_id, act.contact_id = partner.id, contact.id
        if opp is not None and act.opportunity_id is None:
            act.opportunity_id = opp.id
    lead.state, lead.converted_at = "converted", utcnow()
    lead.partner_id, lead.contact_id, lead.opportunity_id = partner.id, contact.id, opp.id if opp else None
    uow.flush()
    uow.emit("crm.lead_converted", lead_id=lead.id, partner_id=partner.id, opportunity_id=opp.id if opp else None)
    return {"lead": lead, "partner": partner, "contact": contact, "opportunity": opp}


def list_leads(uow: UnitOfWork, *, q=None, state=None, source=None, owner_id=None, scope=None,
               limit=50, offset=0) -> tuple[list[Lead], int]:
    stmt = select(Lead).where(Lead.company_id == uow.company_id)
    if q:
        conds = [_like(q, Lead.number, Lead.name, Lead.company_name, Lead.phone, Lead.email, Lead.wechat)]
        key = normalize_phone(q)
        if key and len(key) >= 4:
            conds.append(Lead.phone_key.contains(key))
        stmt = stmt.where(or_(*conds))
    if state:
        stmt = stmt.where(Lead.state == state)
    if source:
        stmt = stmt.where(Lead.source == source)
    if owner_id:
        stmt = stmt.where(Lead.owner_id == owner_id)
    elif mine_only(uow, scope):
        stmt = stmt.where(Lead.owner_id == uow.actor.user_id)
    return _page(uow, stmt, Lead, limit, offset, (Lead.id.desc(),))


# ------------------------------------------------------------------ customers & contacts
def ensure_customer_account(uow: UnitOfWork, partner_id: int, *, owner_id: int | None = None,
                            source: str | None = None, lead_id: int | None = None) -> CustomerAccount:
    acc = uow.session.scalar(select(CustomerAccount).where(CustomerAccount.company_id == uow.company_id,
                                                           CustomerAccount.partner_id == partner_id))
    if acc is None:
        acc = CustomerAccount(partner_id=partner_id, owner_id=owner_id, source=source, lead_id=lead_id)
        uow.add(acc)
        uow.flush()
    elif acc.owner_id is None and owner_id:
        acc.owner_id = owner_id
    return acc


def set_customer_owner(uow: UnitOfWork, partner_id: int, owner_id: int | None) -> CustomerAccount:
    uow.actor.require("crm.write")
    _customer(uow, partner_id)
    _check_owner(uow, owner_id)
    acc = ensure_customer_account(uow, partner_id)
    acc.owner_id = owner_id
    uow.flush()
    return acc


def customer_owners(uow: UnitOfWork) -> dict[int, int | None]:
    return dict(uow.session.execute(select(CustomerAccount.partner_id, CustomerAccount.owner_id)
                                    .where(CustomerAccount.company_id == uow.company_id)).all())


def _customer(uow: UnitOfWork, partner_id: int) -> Partner:
    partner = uow.session.scalar(select(Partner).where(Partner.id == partner_id,
                                                       Partner.company_id == uow.company_id))
    if partner is None or not partner.is_customer:
        raise NotFound(_("客户不存在：#{id}", id=partner_id))
    return partner


def create_contact(uow: UnitOfWork, data: s.ContactIn) -> Contact:
    uow.actor.require("crm.write")
    _partner(uow, data.partner_id)
    contact = Contact(**data.model_dump())
    contact.owner_id = _check_owner(uow, data.owner_id) if data.owner_id else uow.actor.user_id
    contact.phone_key = _check_phone(contact.phone)
    contact.email_key = _check_email(contact.email)
    uow.add(contact)
    uow.flush()
    return contact


def update_contact(uow: UnitOfWork, contact_id: int, data: s.ContactUpdate) -> Contact:
    uow.actor.require("crm.write")
    contact = uow.get(Contact, contact_id, for_update=True)
    values = _drop_blank(data.model_dump(exclude_unset=True), "is_primary")
    if "partner_id" in values:
        _partner(uow, values["partner_id"])
    if "owner_id" in values:
        _check_owner(uow, values["owner_id"])
    if "name" in values and not values["name"]:
        raise ValidationFailed(_("请填写姓名"), field="name")
    for k, v in values.items():
        setattr(contact, k, v)
    contact.phone_key = _check_phone(contact.phone)
    contact.email_key = _check_email(contact.email)
    uow.flush()
    return contact


def archive_contact(uow: UnitOfWork, contact_id: int) -> Contact:
    uow.actor.require("crm.write")
    contact = uow.get(Contact, contact_id, for_update=True)
    contact.active = False
    uow.flush()
    return contact


def list_contacts(uow: UnitOfWork, *, q=None, partner_id=None, scope=None, include_archived=False,
                  limit=50, offset=0) -> tuple[list[Contact], int]:
    stmt = select(Contact).where(Contact.company_id == uow.company_id)
    if not include_archived:
        stmt = stmt.where(Contact.active.is_(True))
    if q:
        stmt = stmt.where(or_(_like(q, Contact.name, Contact.phone, Contact.email, Contact.wechat, Contact.title),
                              Contact.partner_id.in_(select(Partner.id).where(
                                  Partner.company_id == uow.company_id, _like(q, Partner.name, Partner.code)))))
    if partner_id:
        stmt = stmt.where(Contact.partner_id == partner_id)
    if scope == "mine":
        stmt = stmt.where(Contact.owner_id == uow.actor.user_id)
    return _page(uow, stmt, Contact, limit, offset, (Contact.id.desc(),))


# ------------------------------------------------------------------ opportunities
def _set_stage_fields(opp: Opportunity, stage: str, lost_reason: str | None = None) -> None:
    opp.stage = stage
    opp.probability = STAGE_PROBABILITY[stage]
    if stage in ("won", "lost"):
        opp.closed_at = utcnow()
    if stage == "lost":
        opp.lost_reason = lost_reason


def create_opportunity(uow: UnitOfWork, data: s.OpportunityIn) -> Opportunity:
    uow.actor.require("crm.write")
    _choice(data.stage, OPEN_STAGES, "stage")
    partner = _partner(uow, data.partner_id)
    contact = _ref(uow, Contact, data.contact_id, "contact_id")
    if contact and partner and contact.partner_id not in (None, partner.id):
        raise ValidationFailed(_("联系人不属于该客户"), field="contact_id")
    _check_value(data.expected_value, data.probability)
    opp = Opportunity(number=next_number(uow, "CRM_OPP"), name=data.name, partner_id=data.partner_id,
                      contact_id=data.contact_id, expected_value=data.expected_value or ZERO,
                      expected_close_date=data.expected_close_date, source=data.source, notes=data.notes,
                      owner_id=_check_owner(uow, data.owner_id) if data.owner_id else uow.actor.user_id)
    _set_stage_fields(opp, data.stage)
    if data.probability is not None:
        opp.probability = data.probability
    uow.add(opp)
    uow.flush()
    if partner is not None:
        ensure_customer_account(uow, partner.id, owner_id=opp.owner_id)
    return opp


def _check_value(value, probability) -> None:
    if value is not None and value < 0:
        raise ValidationFailed(_("预计金额不能为负数"), field="expected_value")
    if probability is not None and not 0 <= probability <= 100:
        raise ValidationFailed(_("赢单概率应在 0 到 100 之间"), field="probability")


def _open_opportunity(uow: UnitOfWork, opp_id: int) -> Opportunity:
    opp = uow.get(Opportunity, opp_id, for_update=True)
    if opp.stage in ("won", "lost"):
        raise Conflict(_("商机已关闭（{stage}），不能修改", stage=label(STAGE_LABELS, opp.stage)), field="stage")
    return opp


def update_opportunity(uow: UnitOfWork, opp_id: int, data: s.OpportunityUpdate) -> Opportunity:
    uow.actor.require("crm.write")
    opp = _open_opportunity(uow, opp_id)
    values = _drop_blank(data.model_dump(exclude_unset=True), "expected_value", "probability")
    if "partner_id" in values:
        _partner(uow, values["partner_id"])
    if "contact_id" in values:
        _ref(uow, Contact, values["contact_id"], "contact_id")
    if "owner_id" in values:
        _check_owner(uow, values["owner_id"])
    if "name" in values and not values["name"]:
        raise ValidationFailed(_("请填写商机名称"), field="name")
    _check_value(values.get("expected_value"), values.get("probability"))
    for k, v in values.items():
        setattr(opp, k, v)
    uow.flush()
    return opp


def set_stage(uow: UnitOfWork, opp_id: int, stage: str, lost_reason: str | None = None) -> Opportunity:
    """Move an open opportunity along the pipeline. Won and lost close it; 赢单 by hand is for
    deals closed outside the system — the usual way is `order_from_opportunity`."""
    uow.actor.require("crm.write")
    _choice(stage, STAGES, "stage")
    opp = _open_opportunity(uow, opp_id)
    if stage == "lost" and not lost_reason:
        raise ValidationFailed(_("请填写输单原因"), field="lost_reason")
    _set_stage_fields(opp, stage, lost_reason)
    uow.flush()
    if stage == "won":
        uow.emit("crm.opportunity_won", opportunity_id=opp.id, partner_id=opp.partner_id,
                 sales_order_id=opp.sales_order_id)
    return opp


def list_opportunities(uow: UnitOfWork, *, q=None, stage=None, owner_id=None, partner_id=None, scope=None,
                       close_from: dt.date | None = None, close_to: dt.date | None = None, open_only=False,
                       limit=50, offset=0) -> tuple[list[Opportunity], int]:
    stmt = select(Opportunity).where(Opportunity.company_id == uow.company_id)
    if q:
        stmt = stmt.where(or_(_like(q, Opportunity.number, Opportunity.name, Opportunity.sales_order_number),
                              Opportunity.partner_id.in_(select(Partner.id).where(
                                  Partner.company_id == uow.company_id, _like(q, Partner.name, Partner.code)))))
    if stage:
        stmt = stmt.where(Opportunity.stage == stage)
    if open_only:
        stmt = stmt.where(Opportunity.stage.in_(OPEN_STAGES))
    if partner_id:
        stmt = stmt.where(Opportunity.partner_id == partner_id)
    if close_from:
        stmt = stmt.where(Opportunity.expected_close_date >= close_from)
    if close_to:
        stmt = stmt.where(Opportunity.expected_close_date <= close_to)
    if owner_id:
        stmt = stmt.where(Opportunity.owner_id == owner_id)
    elif mine_only(uow, scope):
        stmt = stmt.where(Opportunity.owner_id == uow.actor.user_id)
    return _page(uow, stmt, Opportunity, limit, offset, (Opportunity.expected_close_date, Opportunity.id.desc()))


def pipeline(uow: UnitOfWork, *, scope=None, owner_id=None) -> list[dict]:
    """The kanban: every stage with its opportunities, count, total and probability-weighted value."""
    rows, _total = list_opportunities(uow, scope=scope, owner_id=owner_id, limit=5000)
    out = []
    for stage in STAGES:
        items = [o for o in rows if o.stage == stage]
        total = sum((o.expected_value for o in items), ZERO)
        weighted = sum((o.expected_value * o.probability / 100 for o in items), ZERO)
        out.append({"stage": stage, "label": label(STAGE_LABELS, stage), "count": len(items),
                    "value": total, "weighted_value": weighted.quantize(Decimal("0.01")), "items": items})
    return out


def won_between(uow: UnitOfWork, start: dt.datetime, end: dt.datetime, *, scope=None) -> dict:
    """Opportunities won (赢单) with their close in [start, end): count and expected value, seen as `pipeline`
    sees them (a salesperson their own, a manager everyone's)."""
    o = Opportunity
    stmt = select(func.count(), func.coalesce(func.sum(o.expected_value), 0)).where(
        o.company_id == uow.company_id, o.stage == "won", o.closed_at >= start, o.closed_at < end)
    if mine_only(uow, scope):
        stmt = stmt.where(o.owner_id == uow.actor.user_id)
    n, value = uow.session.execute(stmt).one()
    return {"count": int(n or 0), "value": to_decimal(value or 0).quantize(Decimal("0.01"))}


def create_quote(uow: UnitOfWork, opp_id: int, data: s.QuoteIn) -> Opportunity:
    """A quote for the opportunity's customer, made by ERP sales; the opportunity moves to 方案报价."""
    uow.actor.require("crm.write")
    opp = _open_opportunity(uow, opp_id)
    if opp.partner_id is None:
        raise ValidationFailed(_("商机还没有客户，不能报价"), field="partner_id")
    quote = sales_link.make_quote(uow, partner_id=opp.partner_id, lines=data.lines, valid_until=data.valid_until,
                                  reference=opp.number, notes=data.notes)
    opp.quote_id, opp.quote_number = quote.id, quote.number
    opp.expected_value = quote.amount or opp.expected_value
    if STAGES.index(opp.stage) < STAGES.index("proposal"):
        _set_stage_fields(opp, "proposal")
    uow.flush()
    return opp


def order_from_opportunity(uow: UnitOfWork, opp_id: int, data: s.OrderIn | None = None) -> Opportunity:
    """The deal is won: ERP sales turns the opportunity's quote (or the given lines) into a
    confirmed sales order; the opportunity is marked 赢单 and linked to it."""
    uow.actor.require("crm.write")
    opp = _open_opportunity(uow, opp_id)
    if opp.partner_id is None:
        raise ValidationFailed(_("商机还没有客户，不能下单"), field="partner_id")
    lines = data.lines if data else None
    if lines:
        order = sales_link.make_order(uow, partner_id=opp.partner_id, lines=lines, reference=opp.number)
    elif opp.quote_id:
        order = sales_link.quote_to_order(uow, opp.quote_id)
    else:
        raise ValidationFailed(_("请先报价或填写订单明细"), field="lines")
    opp.sales_order_id, opp.sales_order_number = order.id, order.number
    if order.amount:
        opp.expected_value = order.amount
    _set_stage_fields(opp, "won")
    uow.flush()
    uow.emit("crm.opportunity_won", opportunity_id=opp.id, partner_id=opp.partner_id, sales_order_id=order.id)
    return opp


# ------------------------------------------------------------------ activities
def create_activity(uow: UnitOfWork, data: s.ActivityIn, *, origin: str = "manual",
                    auto_key: str | None = None, campaign_id: int | None = None) -> Activity:
    uow.actor.require("crm.write")
    _choice(data.kind, ACTIVITY_KINDS, "kind")
    if not data.subject:
        raise ValidationFailed(_("请填写主题"), field="subject")
    partner = _partner(uow, data.partner_id)
    contact = _ref(uow, Contact, data.contact_id, "contact_id")
    lead = _ref(uow, Lead, data.lead_id, "lead_id")
    opp = _ref(uow, Opportunity, data.opportunity_id, "opportunity_id")
    ticket = _ref(uow, Ticket, data.ticket_id, "ticket_id")
    partner_id = partner.id if partner else next(
        (x.partner_id for x in (opp, ticket, contact, lead) if x is not None and x.partner_id), None)
    act = Activity(kind=data.kind, subject=data.subject, notes=data.notes, due_date=data.due_date,
                   remind_at=_aware(uow, data.remind_at), partner_id=partner_id,
                   contact_id=contact.id if contact else None,
                   lead_id=lead.id if lead else None, opportunity_id=opp.id if opp else None,
                   ticket_id=ticket.id if ticket else None, campaign_id=campaign_id, origin=origin,
                   auto_key=auto_key,
                   owner_id=_check_owner(uow, data.owner_id) if data.owner_id else uow.actor.user_id)
    if data.done:
        act.state, act.done_at, act.result = "done", utcnow(), data.result
    uow.add(act)
    uow.flush()
    if lead is not None and lead.state == "new" and data.done:
        lead.state = "contacted"
    return act


def _aware(uow: UnitOfWork, moment: dt.datetime | None) -> dt.datetime | None:
    """A reminder time typed without a zone (a form's datetime-local) is the company's local time."""
    if moment is None or moment.tzinfo is not None:
        return moment
    today(uow)  # loads the company's zone into the session
    return moment.replace(tzinfo=uow.session.info["company_tz"])


def update_activity(uow: UnitOfWork, act_id: int, data: s.ActivityUpdate) -> Activity:
    uow.actor.require("crm.write")
    act = uow.get(Activity, act_id, for_update=True)
    if act.state != "open":
        raise Conflict(_("跟进已完成或已取消，不能修改"), field="state")
    values = data.model_dump(exclude_unset=True)
    if "kind" in values:
        _choice(values["kind"], ACTIVITY_KINDS, "kind")
    if "owner_id" in values:
        _check_owner(uow, values["owner_id"])
    if "subject" in values and not values["subject"]:
        raise ValidationFailed(_("请填写主题"), field="subject")
    if "remind_at" in values:
        values["remind_at"] = _aware(uow, values["remind_at"])
    for k, v in values.items():
        setattr(act, k, v)
    uow.flush()
    return act


def complete_activity(uow: UnitOfWork, act_id: int, result: str | None = None) -> Activity:
    uow.actor.require("crm.write")
    act = uow.get(Activity, act_id, for_update=True)
    if act.state != "open":
        raise Conflict(_("跟进已完成或已取消"), field="state")
    act.state, act.done_at, act.result = "done", utcnow(), result
    if act.lead_id:
        lead = uow.get(Lead, act.lead_id)
        if lead.state == "new":
            lead.state = "contacted"
    uow.flush()
    return act


def cancel_activity(uow: UnitOfWork, act_id: int) -> Activity:
    uow.actor.require("crm.write")
    act = uow.get(Activity, act_id, for_update=True)
    if act.state != "open":
        raise Conflict(_("跟进已完成或已取消"), field="state")
    act.state = "cancelled"
    uow.flush()
    return act


def list_activities(uow: UnitOfWork, *, q=None, state=None, kind=None, due=None, owner_id=None, scope=None,
                    partner_id=None, lead_id=None, opportunity_id=None, ticket_id=None, campaign_id=None,
                    limit=50, offset=0) -> tuple[list[Activity], int]:
    stmt = select(Activity).where(Activity.company_id == uow.company_id)
    if q:
        stmt = stmt.where(_like(q, Activity.subject, Activity.notes, Activity.result))
    if state:
        stmt = stmt.where(Activity.state == state)
    if kind:
        stmt = stmt.where(Activity.kind == kind)
    if due:
        day = today(uow)
        cond = {"overdue": Activity.due_date < day, "today": Activity.due_date == day,
                "upcoming": Activity.due_date > day}.get(due)
        if cond is None:
            raise ValidationFailed(_("取值无效：{v}", v=due), field="due")
        stmt = stmt.where(Activity.state == "open", cond)
    for col, value in ((Activity.partner_id, partner_id), (Activity.lead_id, lead_id),
                       (Activity.opportunity_id, opportunity_id), (Activity.ticket_id, ticket_id),
                       (Activity.campaign_id, campaign_id)):
        if value:
            stmt = stmt.where(col == value)
    if owner_id:
        stmt = stmt.where(Activity.owner_id == owner_id)
    elif mine_only(uow, scope):
        stmt = stmt.where(Activity.owner_id == uow.actor.user_id)
    order = (Activity.state != "open", Activity.due_date.is_(None), Activity.due_date, Activity.id.desc())
    return _page(uow, stmt, Activity, limit, offset, order)


def my_day(uow: UnitOfWork, user_id: int | None = None) -> dict:
    """The user's open follow-ups that are overdue or due today, reminders that have come due,
    and their after-sales tickets past or at their due date."""
    user_id = user_id or uow.actor.user_id
    day = today(uow)
    base = select(Activity).where(Activity.company_id == uow.company_id, Activity.owner_id == user_id,
                                  Activity.state == "open")
    overdue = list(uow.session.scalars(base.where(Activity.due_date < day)
                                       .order_by(Activity.due_date, Activity.id)))
    today_rows = list(uow.session.scalars(base.where(Activity.due_date == day).order_by(Activity.id)))
    reminders = list(uow.session.scalars(base.where(
        Activity.remind_at <= utcnow(), or_(Activity.due_date.is_(None), Activity.due_date > day))
        .order_by(Activity.remind_at)))
    tickets = list(uow.session.scalars(select(Ticket).where(
        Ticket.company_id == uow.company_id, Ticket.owner_id == user_id, Ticket.state.in_(OPEN_TICKET_STATES),
        Ticket.due_date <= day).order_by(Ticket.due_date, Ticket.id)))
    done_today = uow.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.company_id == uow.company_id, Activity.owner_id == user_id, Activity.state == "done",
        Activity.done_at >= dt.datetime.combine(day, dt.time(), tzinfo=uow.session.info["company_tz"])))
    return {"date": day, "overdue": overdue, "today": today_rows, "reminders": reminders, "tickets": tickets,
            "done_today": done_today}


# ------------------------------------------------------------------ customers: profile, RFM, repurchase
def customer_ids(uow: UnitOfWork) -> list[int]:
    return list(uow.session.scalars(select(Partner.id).where(Partner.company_id == uow.company_id,
                                                             Partner.is_customer.is_(True),
                                                             Partner.active.is_(True))))


def customer_stats(uow: UnitOfWork, on: dt.date | None = None) -> dict[int, rfm.CustomerStats]:
    """Every active customer's order statistics and RFM segment, scored against all of them."""
    facts = sales_link.order_facts(uow)
    orders = [rfm.Order(f.partner_id, f.date, f.amount) for f in facts]
    return rfm.customer_stats(orders, on or today(uow), customer_ids(uow))


def list_customers(uow: UnitOfWork, *, q=None, segment=None, owner_id=None, scope=None, limit=50,
                   offset=0) -> tuple[list[dict], int]:
    if segment:
        _choice(segment, rfm.SEGMENTS, "segment")
    stats = customer_stats(uow)
    owners = customer_owners(uow)
    stmt = select(Partner).where(Partner.company_id == uow.company_id, Partner.is_customer.is_(True),
                                 Partner.active.is_(True))
    if q:
        stmt = stmt.where(_like(q, Partner.code, Partner.name, Partner.contact_name, Partner.phone))
    partners = list(uow.session.scalars(stmt.order_by(Partner.code)))
    rows = []
    for p in partners:
        st = stats.get(p.id) or rfm.CustomerStats(p.id)
        owner = owners.get(p.id)
        if segment and st.segment != segment:
            continue
        if owner_id and owner != owner_id:
            continue
        if not owner_id and scope == "mine" and owner != uow.actor.user_id:
            continue
        rows.append({"partner": p, "stats": st, "owner_id": owner})
    rows.sort(key=lambda r: (-r["stats"].revenue, r["partner"].code))
    return rows[offset:offset + limit], len(rows)


def segment_summary(uow: UnitOfWork) -> list[dict]:
    stats = customer_stats(uow)
    out = []
    for code in rfm.SEGMENTS:
        members = [st for st in stats.values() if st.segment == code]
        out.append({"segment": code, "label": rfm.segment_label(code), "customers": len(members),
                    "revenue": sum((m.revenue for m in members), ZERO)})
    return out


def customer_profile(uow: UnitOfWork, partner_id: int) -> dict:
    partner = _customer(uow, partner_id)
    stats = customer_stats(uow).get(partner.id) or rfm.CustomerStats(partner.id)
    acc = uow.session.scalar(select(CustomerAccount).where(CustomerAccount.company_id == uow.company_id,
                                                           CustomerAccount.partner_id == partner.id))
    orders = [f for f in sales_link.order_facts(uow, [partner.id])]
    return {
        "partner": partner, "stats": stats, "owner_id": acc.owner_id if acc else None,
        "collections": collection_progress(uow, [partner.id]).get(partner.id, _empty_collection(partner.id)),
        "orders": sorted(orders, key=lambda f: (f.date, f.order_id), reverse=True),
        "contacts": list_contacts(uow, partner_id=partner.id, limit=200)[0],
        "opportunities": list_opportunities(uow, partner_id=partner.id, scope="all", limit=200)[0],
        "activities": list_activities(uow, partner_id=partner.id, scope="all", limit=50)[0],
        "tickets": list_tickets(uow, partner_id=partner.id, scope="all", limit=50)[0],
    }


def _repurchases_due(uow: UnitOfWork, day: dt.date) -> dict[str, rfm.CustomerStats]:
    """Customers past their expected repurchase date with no reminder yet, by reminder key."""
    due = [st for st in customer_stats(uow, day).values() if st.next_purchase and st.next_purchase < day]
    if not due:
        return {}
    keys = {f"repurchase:{st.partner_id}:{st.last_order.isoformat()}": st for st in due}
    have = set(uow.session.scalars(select(Activity.auto_key).where(Activity.company_id == uow.company_id,
                                                                   Activity.auto_key.in_(keys))))
    return {k: st for k, st in keys.items() if k not in have}


def repurchase_reminders_pending(uow: UnitOfWork, on: dt.date | None = None) -> int:
    """How many reminders `check_repurchase` would create now (a read: pages ask before writing)."""
    return len(_repurchases_due(uow, on or today(uow)))


def check_repurchase(uow: UnitOfWork, on: dt.date | None = None) -> list[Activity]:
    """For every customer whose expected next purchase date (last order + median interval)
    has passed without an order, one follow-up for the customer's owner. Idempotent: the
    follow-up is keyed by customer and last order date, so replaying creates nothing new,
    and a new order moves the key on."""
    day = on or today(uow)
    keys = _repurchases_due(uow, day)
    if not keys:
        return []
    owners = customer_owners(uow)
    unowned = [st.partner_id for st in keys.values() if not owners.get(st.partner_id)]
    if unowned:  # no owner on record: whoever last worked a deal with the customer
        for pid, owner in uow.session.execute(select(Opportunity.partner_id, Opportunity.owner_id).where(
                Opportunity.company_id == uow.company_id, Opportunity.partner_id.in_(unowned),
                Opportunity.owner_id.is_not(None)).order_by(Opportunity.id)):
            owners[pid] = owner
    names = partner_names(uow, [st.partner_id for st in keys.values()])
    created = []
    for key, st in keys.items():
        partner = names[st.partner_id]
        act = Activity(kind="call", partner_id=st.partner_id, owner_id=owners.get(st.partner_id), due_date=day,
                       origin="repurchase", auto_key=key,
                       subject=_("复购提醒：{name} 预计 {date} 复购，至今未下单", name=partner.name,
                                 date=st.next_purchase.isoformat()),
                       notes=_("上次下单 {last}，平均间隔 {avg} 天，中位间隔 {median} 天，累计 {n} 单",
                               last=st.last_order.isoformat(), avg=st.avg_interval_days,
                               median=st.median_interval_days, n=st.order_count))
        try:
            with uow.session.begin_nested():
                uow.add(act)
                uow.session.flush()
        except IntegrityError:  # made by a concurrent run a moment ago
            continue
        created.append(act)
    return created


@jobs.job("crm.repurchase_check")
def repurchase_job(ctx: jobs.JobContext) -> dict:
    """The daily run of `check_repurchase` (the my-day page also runs it when opened)."""
    with ctx.uow() as uow:
        return {"created": len(check_repurchase(uow))}


# ------------------------------------------------------------------ collections
def _empty_collection(partner_id: int) -> dict:
    return {"partner_id": partner_id, "invoiced": ZERO, "received": ZERO, "balance": ZERO, "overdue": ZERO,
            "oldest_overdue_date": None, "received_pct": None}


def collection_progress(uow: UnitOfWork, partner_ids: list[int] | None = None,
                        on: dt.date | None = None) -> dict[int, dict]:
    """Per customer, from the general ledger's receivable account (应收账款): invoiced (debits),
    received (credits), open balance and the overdue part — receipts settle the oldest invoices
    first; what is left open past the customer's payment terms is overdue."""
    from opensupply.accounting.models import Account, JournalLine
    from opensupply.accounting.service import account_code

    day = on or today(uow)
    stmt = (select(JournalLine.partner_id, JournalLine.date, JournalLine.debit, JournalLine.credit)
            .join(Account, Account.id == JournalLine.account_id)
            .where(JournalLine.company_id == uow.company_id, Account.code == account_code("receivable"),
                   JournalLine.partner_id.is_not(None)))
    if partner_ids is not None:
        stmt = stmt.where(JournalLine.partner_id.in_(partner_ids))
    lines: dict[int, list] = {}
    for pid, date, debit, credit in uow.session.execute(stmt.order_by(JournalLine.date, JournalLine.id)):
        lines.setdefault(pid, []).append((date, Decimal(debit or 0), Decimal(credit or 0)))
    terms = dict(uow.session.execute(select(Partner.id, Partner.payment_terms_days)
                                     .where(Partner.id.in_(list(lines)))).all()) if lines else {}
    out = {}
    for pid, rows in lines.items():
        invoiced = sum((d for _d, d, _c in rows), ZERO)
        received = sum((c for _d, _x, c in rows), ZERO)
        open_items = [[date, d] for date, d, _c in rows if d > 0]
        credit_left = received
        for item in open_items:  # FIFO: receipts settle the oldest invoices first
            used = min(item[1], credit_left)
            item[1] -= used
            credit_left -= used
        limit = day - dt.timedelta(days=terms.get(pid) or 0)
        overdue_items = [it for it in open_items if it[1] > 0 and it[0] < limit]
        out[pid] = {"partner_id": pid, "invoiced": invoiced, "received": received, "balance": invoiced - received,
                    "overdue": sum((it[1] for it in overdue_items), ZERO),
                    "oldest_overdue_date": overdue_items[0][0] if overdue_items else None,
                    "received_pct": (received * 100 / invoiced).quantize(Decimal("0.1")) if invoiced else None}
    return out


# ------------------------------------------------------------------ tickets
def create_ticket(uow: UnitOfWork, data: s.TicketIn) -> Ticket:
    uow.actor.require("crm.write")
    _choice(data.kind, TICKET_KINDS, "kind")
    if not data.subject:
        raise ValidationFailed(_("请填写主题"), field="subject")
    partner = _partner(uow, data.partner_id)
    if partner is None:
        raise ValidationFailed(_("请选择客户"), field="partner_id")
    contact = _ref(uow, Contact, data.contact_id, "contact_id")
    if contact is not None and contact.partner_id not in (None, partner.id):
        raise ValidationFailed(_("联系人不属于该客户"), field="contact_id")
    order_number = data.sales_order_number
    if data.sales_order_id is not None:
        fact = next((f for f in sales_link.order_facts(uow, [partner.id]) if f.order_id == data.sales_order_id),
                    None)
        if fact is None:
            raise ValidationFailed(_("该客户没有这张销售订单：#{id}", id=data.sales_order_id), field="sales_order_id")
        order_number = fact.number
    ticket = Ticket(number=next_number(uow, "CRM_TICKET"), subject=data.subject, kind=data.kind,
                    priority=data.priority, partner_id=partner.id, contact_id=data.contact_id,
                    sales_order_id=data.sales_order_id, sales_order_number=order_number,
                    due_date=data.due_date or today(uow) + dt.timedelta(days=3), description=data.description,
                    owner_id=_check_owner(uow, data.owner_id) if data.owner_id else uow.actor.user_id, state="open")
    uow.add(ticket)
    uow.flush()
    return ticket


def update_ticket(uow: UnitOfWork, ticket_id: int, data: s.TicketUpdate) -> Ticket:
    uow.actor.require("crm.write")
    ticket = uow.get(Ticket, ticket_id, for_update=True)
    if ticket.state == "closed":
        raise Conflict(_("工单已关闭，不能修改"), field="state")
    values = _drop_blank(data.model_dump(exclude_unset=True), "kind", "priority")
    if "kind" in values:
        _choice(values["kind"], TICKET_KINDS, "kind")
    if "owner_id" in values:
        _check_owner(uow, values["owner_id"])
    if "subject" in values and not values["subject"]:
        raise ValidationFailed(_("请填写主题"), field="subject")
    for k, v in values.items():
        setattr(ticket, k, v)
    uow.flush()
    return ticket


def set_ticket_state(uow: UnitOfWork, ticket_id: int, state: str, resolution: str | None = None) -> Ticket:
    uow.actor.require("crm.write")
    ticket = uow.get(Ticket, ticket_id, for_update=True)
    if state not in TICKET_FLOW.get(ticket.state, set()):
        raise Conflict(_("工单不能从“{a}”变为“{b}”", a=label(TICKET_STATE_LABELS, ticket.state),
                         b=label(TICKET_STATE_LABELS, state)), field="state")
    if resolution:
        ticket.resolution = resolution
    if state == "resolved":
        if not ticket.resolution:
            raise ValidationFailed(_("请填写处理结果"), field="resolution")
        ticket.resolved_at = utcnow()
    if state == "closed":
        ticket.closed_at = utcnow()
    if state in OPEN_TICKET_STATES:
        ticket.resolved_at = None
    ticket.state = state
    uow.flush()
    return ticket


def ticket_overdue(ticket: Ticket, day: dt.date) -> bool:
    return ticket.state in OPEN_TICKET_STATES and ticket.due_date is not None and ticket.due_date < day


def list_tickets(uow: UnitOfWork, *, q=None, state=None, kind=None, overdue: bool | None = None, open_only=False,
                 owner_id=None, scope=None, partner_id=None, limit=50, offset=0) -> tuple[list[Ticket], int]:
    stmt = select(Ticket).where(Ticket.company_id == uow.company_id)
    if q:
        stmt = stmt.where(or_(_like(q, Ticket.number, Ticket.subject, Ticket.sales_order_number),
                              Ticket.partner_id.in_(select(Partner.id).where(
                                  Partner.company_id == uow.company_id, _like(q, Partner.name, Partner.code)))))
    if state:
        stmt = stmt.where(Ticket.state == state)
    if kind:
        stmt = stmt.where(Ticket.kind == kind)
    if open_only:
        stmt = stmt.where(Ticket.state.in_(OPEN_TICKET_STATES))
    if overdue is not None:
        cond = and_(Ticket.state.in_(OPEN_TICKET_STATES), Ticket.due_date < today(uow))
        stmt = stmt.where(cond if overdue else ~cond)
    if partner_id:
        stmt = stmt.where(Ticket.partner_id == partner_id)
    if owner_id:
        stmt = stmt.where(Ticket.owner_id == owner_id)
    elif mine_only(uow, scope):
        stmt = stmt.where(Ticket.owner_id == uow.actor.user_id)
    return _page(uow, stmt, Ticket, limit, offset, (Ticket.state.in_(("resolved", "closed")), Ticket.due_date,
                                                    Ticket.id.desc()))


# ------------------------------------------------------------------ campaigns
def create_campaign(uow: UnitOfWork, data: s.CampaignIn) -> Campaign:
    """Target one RFM segment: every customer in it becomes a member, and its owner gets a
    follow-up (one per customer; the batch is keyed, so it is never made twice)."""
    uow.actor.require("crm.write")
    _choice(data.segment, rfm.SEGMENTS, "segment")
    _choice(data.activity_kind, ACTIVITY_KINDS, "activity_kind")
    if not data.name:
        raise ValidationFailed(_("请填写活动名称"), field="name")
    start = data.start_date or today(uow)
    members = [st for st in customer_stats(uow, start).values() if st.segment == data.segment]
    if not members:
        raise ValidationFailed(_("该分群没有客户：{segment}", segment=rfm.segment_label(data.segment)),
                               field="segment")
    camp = Campaign(number=next_number(uow, "CRM_CAMPAIGN"), name=data.name, segment=data.segment,
                    activity_kind=data.activity_kind, message=data.message, start_date=start,
                    window_days=data.window_days, member_count=len(members))
    uow.add(camp)
    uow.flush()
    owners = customer_owners(uow)
    names = partner_names(uow, [st.partner_id for st in members])
    for st in sorted(members, key=lambda x: names[x.partner_id].code):
        owner = owners.get(st.partner_id) or uow.actor.user_id
        act = Activity(kind=data.activity_kind, partner_id=st.partner_id, owner_id=owner,
                       due_date=data.due_date or start, origin="campaign", campaign_id=camp.id,
                       auto_key=f"campaign:{camp.id}:{st.partner_id}", notes=data.message,
                       subject=_("{campaign}：联系 {name}", campaign=camp.name, name=names[st.partner_id].name))
        uow.add(act)
        uow.flush()
        uow.add(CampaignMember(campaign_id=camp.id, partner_id=st.partner_id, owner_id=owner, activity_id=act.id))
    uow.flush()
    return camp


def list_campaigns(uow: UnitOfWork, *, q=None, limit=50, offset=0) -> tuple[list[Campaign], int]:
    stmt = select(Campaign).where(Campaign.company_id == uow.company_id)
    if q:
        stmt = stmt.where(_like(q, Campaign.number, Campaign.name))
    return _page(uow, stmt, Campaign, limit, offset, (Campaign.id.desc(),))


def campaign_members(uow: UnitOfWork, campaign_id: int) -> list[dict]:
    """The contact list of a campaign: each member with its primary contact (or the partner's own
    phone/e-mail), owner and follow-up state."""
    camp = uow.get(Campaign, campaign_id)
    members = list(uow.session.scalars(select(CampaignMember).where(CampaignMember.campaign_id == camp.id)
                                       .order_by(CampaignMember.id)))
    partners = partner_names(uow, [m.partner_id for m in members])
    contacts: dict[int, Contact] = {}
    for c in uow.session.scalars(select(Contact).where(Contact.company_id == uow.company_id, Contact.active.is_(True),
                                                       Contact.partner_id.in_(list(partners)))
                                 .order_by(Contact.is_primary.desc(), Contact.id)):
        contacts.setdefault(c.partner_id, c)
    acts = {a.id: a for a in uow.session.scalars(select(Activity).where(
        Activity.id.in_([m.activity_id for m in members if m.activity_id])))}
    owners = user_names(uow, [m.owner_id for m in members])
    rows = []
    for m in members:
        p, c = partners[m.partner_id], contacts.get(m.partner_id)
        act = acts.get(m.activity_id)
        rows.append({"partner_id": p.id, "code": p.code, "name": p.name,
                     "contact": c.name if c else (p.contact_name or ""),
                     "phone": c.phone if c and c.phone else (p.phone or ""),
                     "email": c.email if c and c.email else (p.email or ""), "wechat": c.wechat if c else "",
                     "owner_id": m.owner_id, "owner": owners.get(m.owner_id, ""), "activity_id": m.activity_id,
                     "activity_state": act.state if act else None})
    return rows


def campaign_results(uow: UnitOfWork, campaign_id: int) -> dict:
    """Orders the members placed from the campaign's start through `window_days` after it."""
    camp = uow.get(Campaign, campaign_id)
    member_ids = list(uow.session.scalars(select(CampaignMember.partner_id)
                                          .where(CampaignMember.campaign_id == camp.id)))
    end = camp.start_date + dt.timedelta(days=camp.window_days)
    orders = [f for f in sales_link.order_facts(uow, member_ids) if camp.start_date <= f.date <= end]
    buyers = {f.partner_id for f in orders}
    revenue = sum((f.amount for f in orders), ZERO)
    return {"campaign_id": camp.id, "members": len(member_ids), "window_end": end, "orders": orders,
            "order_count": len(orders), "customers_ordered": len(buyers), "revenue": revenue,
            "conversion_pct": (Decimal(len(buyers) * 100) / len(member_ids)).quantize(Decimal("0.1"))
            if member_ids else None}
