"""Supplier profiles: registration of a master-data supplier partner in SRM, status 潜在 → 合格 → 暂停 / 淘汰
with reason and history, four-eyes onboarding (准入审批), supply categories, contacts, bank accounts (masked
for readers without srm.write) and certificates with expiry reminders.

Status is enforced across the suite through `require_can_order`, which ERP purchasing calls (lazily, only
while SRM is switched on for the company) when an order is created or confirmed:

| status | purchase orders |
|---|---|
| qualified 合格 | allowed |
| potential 潜在 | refused until onboarding is approved |
| suspended 暂停 / eliminated 淘汰 | refused |
| no SRM profile (未建档) | allowed: suppliers bought from before SRM was on keep working until registered |
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select

from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import resources as md_resources

from .models import (
    CERTIFICATE_TYPES,
    SUPPLIER_STATUSES,
    BankAccount,
    Certificate,
    Contact,
    Onboarding,
    Reminder,
    StatusChange,
    Supplier,
    SupplierCategory,
)

# "合格" alone reads "Good" in the quality catalogs, so the labels say what kind of supplier it is
STATUS_LABELS = {"potential": _l("潜在供应商"), "qualified": _l("合格供应商"), "suspended": _l("暂停合作"),
                 "eliminated": _l("已淘汰"), "unregistered": _l("未建档")}
ONBOARDING_LABELS = {"pending": _l("待审批"), "approved": _l("已批准"), "rejected": _l("已驳回")}
CERTIFICATE_LABELS = {"business_license": _l("营业执照"), "iso9001": _l("ISO9001"), "iso14001": _l("ISO14001"),
                      "production_license": _l("生产许可证"), "other": _l("其他")}
# status changes made by hand (qualifying goes through onboarding instead); eliminated is re-entered as potential
TRANSITIONS = {
    "potential": ("eliminated",),
    "qualified": ("suspended", "eliminated"),
    "suspended": ("qualified", "eliminated"),
    "eliminated": ("potential",),
}
UNREGISTERED = "unregistered"


class SupplierBlocked(Conflict):
    code = "supplier_blocked"


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


# ------------------------------------------------------------- status enforcement (used by ERP purchasing)
def profile_of(uow: UnitOfWork, partner_id: int) -> Supplier | None:
    return uow.session.scalar(select(Supplier).where(Supplier.company_id == uow.company_id,
                                                     Supplier.partner_id == partner_id))


def status_of(uow: UnitOfWork, partner_id: int) -> str:
    """The SRM status of a supplier partner: potential / qualified / suspended / eliminated, or
    "unregistered" when it has no SRM profile."""
    status = uow.session.scalar(select(Supplier.status).where(Supplier.company_id == uow.company_id,
                                                              Supplier.partner_id == partner_id))
    return status or UNREGISTERED


def require_can_order(uow: UnitOfWork, partner_id: int) -> None:
    """Refuse buying from a supplier SRM does not allow (see the table in the module docstring)."""
    sup = profile_of(uow, partner_id)
    if sup is None or sup.status == "qualified":
        return
    name = sup.partner_name or sup.partner_code
    reason = f"（{sup.status_reason}）" if sup.status_reason else ""
    if sup.status == "potential":
        raise SupplierBlocked(_("供应商 {name} 尚未通过准入审批（潜在供应商），不能下采购订单", name=name),
                              field="supplier")
    if sup.status == "suspended":
        raise SupplierBlocked(_("供应商 {name} 已暂停合作{reason}，不能下采购订单", name=name, reason=reason),
                              field="supplier")
    raise SupplierBlocked(_("供应商 {name} 已淘汰{reason}，不能下采购订单", name=name, reason=reason),
                          field="supplier")


def check_purchase_order(uow: UnitOfWork, partner_id: int) -> None:
    """The hook ERP purchasing calls: enforce SRM status only while the SRM module is on for the company."""
    from opensupply.core.modules import enabled_for

    if "srm" in enabled_for(uow):
        require_can_order(uow, partner_id)


# ------------------------------------------------------------- profiles
def _partner(uow: UnitOfWork, partner_id: int):
    """Read the master-data partner through its resource (SRM never writes master data)."""
    try:
        return rs.get_record(uow, md_resources.partners, int(partner_id))
    except (TypeError, ValueError):
        raise ValidationFailed(_("请选择供应商"), field="partner") from None


def resolve_partner(uow: UnitOfWork, ref) -> int:
    """A partner id from an id or a partner code."""
    if ref in (None, ""):
        raise ValidationFailed(_("请选择供应商"), field="partner")
    if isinstance(ref, int) or str(ref).strip().isdigit():
        obj = uow.session.scalars(rs.base_query(uow, md_resources.partners).where(
            md_resources.partners.model.id == int(ref))).first()
    else:
        obj = rs.find_by_key(uow, md_resources.partners, str(ref).strip())
    if obj is None:
        raise NotFound(_("往来单位不存在：{ref}", ref=ref), field="partner")
    return obj.id


def get_supplier(uow: UnitOfWork, supplier_id: int, *, for_update: bool = False) -> Supplier:
    return uow.get(Supplier, supplier_id, for_update=for_update)


def _history(uow: UnitOfWork, sup: Supplier, before: str | None, after: str, reason: str | None) -> None:
    sup.status = after
    sup.status_reason = reason
    sup.status_changed_at = utcnow()
    uow.add(StatusChange(supplier_id=sup.id, from_status=before, to_status=after, reason=reason,
                         by_username=uow.actor.username))


PROFILE_FIELDS = ("grade", "main_products", "website", "registered_capital", "established_on", "notes")


def _profile_values(data: dict) -> dict:
    unknown = set(data) - set(PROFILE_FIELDS) - {"categories"}
    if unknown:
        raise ValidationFailed(_("未知字段：{names}", names=", ".join(sorted(unknown))), field=sorted(unknown)[0])
    out = {}
    for key in PROFILE_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, str):
            value = value.strip() or None
        if key == "registered_capital" and value is not None:
            from opensupply.core.types import to_decimal

            try:
                value = to_decimal(value)
            except Exception:
                raise ValidationFailed(_("注册资本格式不正确：{value}", value=value), field=key) from None
        if key == "established_on" and value is not None and not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(str(value)[:10])
            except ValueError:
                raise ValidationFailed(_("成立日期格式不正确：{value}", value=value), field=key) from None
        if key == "grade" and value is not None and value not in ("A", "B", "C", "D"):
            raise ValidationFailed(_("等级只能是 A、B、C 或 D"), field=key)
        out[key] = value
    return out


def register_supplier(uow: UnitOfWork, partner_id: int, data: dict | None = None) -> Supplier:
    """Create the SRM profile of a supplier partner, as 潜在 (potential)."""
    uow.actor.require("srm.write")
    partner = _partner(uow, partner_id)
    if not partner.is_supplier:
        raise ValidationFailed(_("{name} 不是供应商，请先在往来单位中勾选“供应商”", name=partner.name), field="partner")
    if profile_of(uow, partner.id) is not None:
        raise Conflict(_("供应商 {name} 已建档", name=partner.name), field="partner")
    data = dict(data or {})
    values = _profile_values(data)
    sup = uow.add(Supplier(partner_id=partner.id, partner_code=partner.code, partner_name=partner.name,
                           status="potential", **values))
    uow.flush()
    _history(uow, sup, None, "potential", _("建档"))
    if "categories" in data:
        set_categories(uow, sup.id, data["categories"])
    uow.flush()
    return sup


def update_profile(uow: UnitOfWork, supplier_id: int, data: dict) -> Supplier:
    uow.actor.require("srm.write")
    sup = get_supplier(uow, supplier_id, for_update=True)
    for key, value in _profile_values(data).items():
        setattr(sup, key, value)
    partner = _partner(uow, sup.partner_id)  # keep the denormalised name current
    sup.partner_code, sup.partner_name = partner.code, partner.name
    if "categories" in data:
        set_categories(uow, sup.id, data["categories"])
    uow.flush()
    return sup


def set_categories(uow: UnitOfWork, supplier_id: int, categories) -> list[str]:
    uow.actor.require("srm.write")
    sup = get_supplier(uow, supplier_id)
    if isinstance(categories, str):
        categories = categories.replace("，", ",").split(",")
    wanted = []
    for c in categories or ():
        c = str(c).strip()
        if not c:
            continue
        if len(c) > 60:
            raise ValidationFailed(_("供应类别最多 60 个字符"), field="categories")
        if c not in wanted:
            wanted.append(c)
    sup.categories = [x for x in sup.categories if x.category in wanted]
    have = {x.category for x in sup.categories}
    for c in wanted:
        if c not in have:
            sup.categories.append(SupplierCategory(company_id=uow.company_id, category=c))
    uow.flush()
    return wanted


def change_status(uow: UnitOfWork, supplier_id: int, status: str, reason: str | None) -> Supplier:
    """暂停 / 淘汰 / 恢复合格 / 重新准入 by hand (srm.approve), always with a reason."""
    uow.actor.require("srm.approve")
    if status not in SUPPLIER_STATUSES:
        raise ValidationFailed(_("供应商状态无效：{value}", value=status), field="status")
    sup = get_supplier(uow, supplier_id, for_update=True)
    if status == sup.status:
        raise ValidationFailed(_("供应商已是{status}状态", status=status_label(status)), field="status")
    if status not in TRANSITIONS[sup.status]:
        if status == "qualified":
            raise Conflict(_("潜在供应商只能通过准入审批成为合格供应商"), field="status")
        raise Conflict(_("不能从{a}变更为{b}", a=status_label(sup.status), b=status_label(status)), field="status")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写状态变更原因"), field="reason")
    if len(reason) > 300:
        raise ValidationFailed(_("原因最多 300 个字符"), field="reason")
    _history(uow, sup, sup.status, status, reason)
    uow.flush()
    return sup


def status_history(uow: UnitOfWork, supplier_id: int) -> list[StatusChange]:
    return list(uow.session.scalars(select(StatusChange).where(
        StatusChange.company_id == uow.company_id, StatusChange.supplier_id == supplier_id)
        .order_by(StatusChange.id.desc())))


# ------------------------------------------------------------- onboarding (four eyes)
def request_onboarding(uow: UnitOfWork, supplier_id: int, note: str | None = None) -> Onboarding:
    uow.actor.require("srm.write")
    sup = get_supplier(uow, supplier_id, for_update=True)
    if sup.status != "potential":
        raise Conflict(_("只有潜在供应商可以申请准入：{name}", name=sup.partner_name), field="status")
    pending = uow.session.scalar(select(Onboarding.id).where(Onboarding.company_id == uow.company_id,
                                                             Onboarding.supplier_id == sup.id,
                                                             Onboarding.state == "pending"))
    if pending:
        raise Conflict(_("供应商 {name} 已有待审批的准入申请", name=sup.partner_name), field="state")
    ob = uow.add(Onboarding(supplier_id=sup.id, state="pending", requested_by_id=uow.actor.user_id,
                            requested_by=uow.actor.username, request_note=(note or "").strip()[:500] or None))
    uow.flush()
    return ob


def _decide(uow: UnitOfWork, onboarding_id: int, note: str | None) -> tuple[Onboarding, Supplier]:
    uow.actor.require("srm.approve")
    ob = uow.get(Onboarding, onboarding_id, for_update=True)
    if ob.state != "pending":
        raise Conflict(_("准入申请已处理"), field="state")
    same = (ob.requested_by_id == uow.actor.user_id if ob.requested_by_id is not None
            else ob.requested_by == uow.actor.username)
    if same:
        raise PermissionDenied(_("准入申请须由申请人以外的人审批"))
    ob.decided_by_id, ob.decided_by, ob.decided_at = uow.actor.user_id, uow.actor.username, utcnow()
    ob.decision_note = (note or "").strip()[:500] or None
    return ob, get_supplier(uow, ob.supplier_id, for_update=True)


def approve_onboarding(uow: UnitOfWork, onboarding_id: int, note: str | None = None) -> Onboarding:
    ob, sup = _decide(uow, onboarding_id, note)
    if sup.status != "potential":
        raise Conflict(_("只有潜在供应商可以准入：{name}", name=sup.partner_name), field="status")
    ob.state = "approved"
    _history(uow, sup, sup.status, "qualified", _("准入审批通过（{who}）", who=uow.actor.username))
    uow.flush()
    uow.emit("srm.supplier_qualified", supplier_id=sup.id, partner_id=sup.partner_id)
    return ob


def reject_onboarding(uow: UnitOfWork, onboarding_id: int, note: str) -> Onboarding:
    if not (note or "").strip():
        raise ValidationFailed(_("请填写驳回原因"), field="note")
    ob, _sup = _decide(uow, onboarding_id, note)
    ob.state = "rejected"
    uow.flush()
    return ob


def onboarding_rows(uow: UnitOfWork, state: str | None = "pending") -> list[tuple[Onboarding, Supplier]]:
    stmt = (select(Onboarding, Supplier).join(Supplier, Supplier.id == Onboarding.supplier_id)
            .where(Onboarding.company_id == uow.company_id))
    if state:
        stmt = stmt.where(Onboarding.state == state)
    return list(uow.session.execute(stmt.order_by(Onboarding.id.desc()).limit(500)).all())


# ------------------------------------------------------------- contacts and bank accounts
def _text(data: dict, key: str, label, *, required: bool = False, max_length: int = 200) -> str | None:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise ValidationFailed(_("请填写{label}", label=label), field=key)
    if len(value) > max_length:
        raise ValidationFailed(_("{label}最多 {n} 个字符", label=label, n=max_length), field=key)
    return value or None


def add_contact(uow: UnitOfWork, supplier_id: int, data: dict) -> Contact:
    uow.actor.require("srm.write")
    sup = get_supplier(uow, supplier_id)
    c = uow.add(Contact(supplier_id=sup.id, name=_text(data, "name", _("姓名"), required=True, max_length=80),
                        role=_text(data, "role", _("职责"), max_length=60),
                        phone=_text(data, "phone", _("电话"), max_length=40),
                        email=_text(data, "email", _("邮箱")), is_primary=bool(data.get("is_primary"))))
    if c.email and "@" not in c.email:
        raise ValidationFailed(_("邮箱格式不正确：{value}", value=c.email), field="email")
    uow.flush()
    return c


def remove_contact(uow: UnitOfWork, contact_id: int) -> None:
    uow.actor.require("srm.write")
    uow.session.delete(uow.get(Contact, contact_id))
    uow.flush()


def contacts(uow: UnitOfWork, supplier_id: int) -> list[Contact]:
    return list(uow.session.scalars(select(Contact).where(Contact.company_id == uow.company_id,
                                                          Contact.supplier_id == supplier_id).order_by(Contact.id)))


def add_bank_account(uow: UnitOfWork, supplier_id: int, data: dict) -> BankAccount:
    uow.actor.require("srm.write")
    sup = get_supplier(uow, supplier_id)
    number = (_text(data, "account_number", _("银行账号"), required=True, max_length=60) or "").replace(" ", "")
    if not number.isdigit() or len(number) < 6:
        raise ValidationFailed(_("银行账号应为至少 6 位数字"), field="account_number")
    acct = uow.add(BankAccount(supplier_id=sup.id,
                               account_name=_text(data, "account_name", _("户名"), required=True),
                               bank_name=_text(data, "bank_name", _("开户行"), required=True),
                               account_number=number, is_default=bool(data.get("is_default"))))
    uow.flush()
    return acct


def remove_bank_account(uow: UnitOfWork, account_id: int) -> None:
    uow.actor.require("srm.write")
    uow.session.delete(uow.get(BankAccount, account_id))
    uow.flush()


def mask_account(number: str) -> str:
    """6222 **** **** 1234 style: enough to recognise an account, not enough to pay into it."""
    if len(number) <= 8:
        return number[:2] + "*" * max(0, len(number) - 4) + number[-2:]
    return f"{number[:4]} **** {number[-4:]}"


def bank_accounts(uow: UnitOfWork, supplier_id: int) -> list[dict]:
    """Bank accounts of a supplier; numbers masked for readers without srm.write."""
    full = uow.actor.can("srm.write")
    rows = uow.session.scalars(select(BankAccount).where(BankAccount.company_id == uow.company_id,
                                                         BankAccount.supplier_id == supplier_id)
                               .order_by(BankAccount.id))
    return [{"id": a.id, "account_name": a.account_name, "bank_name": a.bank_name, "is_default": a.is_default,
             "account_number": a.account_number if full else mask_account(a.account_number), "masked": not full}
            for a in rows]


# ------------------------------------------------------------- certificates and expiry reminders
def _date(value, field: str, label) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10].replace("/", "-"))
    except ValueError:
        raise ValidationFailed(_("{label}格式不正确：{value}", label=label, value=value), field=field) from None


def add_certificate(uow: UnitOfWork, supplier_id: int, data: dict, *, file: tuple[str, bytes] | None = None
                    ) -> Certificate:
    uow.actor.require("srm.write")
    sup = get_supplier(uow, supplier_id)
    cert_type = str(data.get("cert_type") or "").strip()
    if cert_type not in CERTIFICATE_TYPES:
        for code, label in CERTIFICATE_LABELS.items():
            if cert_type and cert_type == str(label):
                cert_type = code
    if cert_type not in CERTIFICATE_TYPES:
        raise ValidationFailed(_("请选择资质类型"), field="cert_type")
    issued = _date(data.get("issued_on"), "issued_on", _("发证日期"))
    expiry = _date(data.get("expiry_date"), "expiry_date", _("有效期至"))
    if issued and expiry and expiry < issued:
        raise ValidationFailed(_("有效期至不能早于发证日期"), field="expiry_date")
    cert = uow.add(Certificate(supplier_id=sup.id, cert_type=cert_type,
                               number=_text(data, "number", _("证书编号"), required=True, max_length=80),
                               issuer=_text(data, "issuer", _("发证机关")), issued_on=issued, expiry_date=expiry))
    uow.flush()
    if file and file[1]:
        cert.file_name, cert.file_path = _store_file(uow, cert.id, *file)
    return cert


def _store_file(uow: UnitOfWork, cert_id: int, name: str, data: bytes) -> tuple[str, str]:
    from pathlib import Path

    from opensupply.core.config import get_settings

    safe = Path(name or "file").name[:120] or "file"
    rel = Path("srm") / "certificates" / str(uow.company_id) / f"{cert_id}-{safe}"
    path = Path(get_settings().data_dir) / "attachments" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return safe, str(rel)


def certificate_file(uow: UnitOfWork, cert_id: int) -> tuple[str, bytes]:
    from pathlib import Path

    from opensupply.core.config import get_settings

    cert = uow.get(Certificate, cert_id)
    if not cert.file_path:
        raise NotFound(_("该资质没有附件"))
    return cert.file_name or "file", (Path(get_settings().data_dir) / "attachments" / cert.file_path).read_bytes()


def retire_certificate(uow: UnitOfWork, cert_id: int) -> Certificate:
    uow.actor.require("srm.write")
    cert = uow.get(Certificate, cert_id, for_update=True)
    cert.active = False
    uow.flush()
    return cert


def certificates(uow: UnitOfWork, supplier_id: int) -> list[Certificate]:
    return list(uow.session.scalars(select(Certificate).where(
        Certificate.company_id == uow.company_id, Certificate.supplier_id == supplier_id, Certificate.active.is_(True))
        .order_by(Certificate.expiry_date.is_(None), Certificate.expiry_date)))


def expiring_certificates(uow: UnitOfWork, days: int = 30, *, today: dt.date | None = None) -> list[dict]:
    """即将到期: active certificates expiring within `days` days — and those already expired — soonest first."""
    if days < 0 or days > 3650:
        raise ValidationFailed(_("天数应在 0 到 3650 之间"), field="days")
    today = today or company_today(uow)
    until = today + dt.timedelta(days=days)
    rows = uow.session.execute(
        select(Certificate, Supplier).join(Supplier, Supplier.id == Certificate.supplier_id)
        .where(Certificate.company_id == uow.company_id, Certificate.active.is_(True),
               Certificate.expiry_date.is_not(None), Certificate.expiry_date <= until)
        .order_by(Certificate.expiry_date, Certificate.id))
    return [{"certificate": c, "supplier": s, "days_left": (c.expiry_date - today).days,
             "expired": c.expiry_date < today} for c, s in rows]


def remind_expiring(uow: UnitOfWork, days: int = 30, *, today: dt.date | None = None) -> list[Reminder]:
    """The daily reminder run: one reminder per certificate and expiry date (a renewed certificate with a new
    date is reminded again; running twice a day reminds nobody twice). Returns the new reminders."""
    new = []
    for row in expiring_certificates(uow, days, today=today):
        c, s = row["certificate"], row["supplier"]
        exists = uow.session.scalar(select(Reminder.id).where(Reminder.certificate_id == c.id,
                                                              Reminder.expiry_date == c.expiry_date))
        if exists:
            continue
        label = str(CERTIFICATE_LABELS.get(c.cert_type, c.cert_type))
        if row["expired"]:
            msg = _("{name} 的{cert}（{no}）已于 {day} 过期", name=s.partner_name, cert=label, no=c.number,
                    day=c.expiry_date.isoformat())
        else:
            msg = _("{name} 的{cert}（{no}）将于 {day} 到期，还剩 {n} 天", name=s.partner_name, cert=label,
                    no=c.number, day=c.expiry_date.isoformat(), n=row["days_left"])
        r = uow.add(Reminder(certificate_id=c.id, supplier_id=s.id, expiry_date=c.expiry_date, message=msg[:300]))
        new.append(r)
    uow.flush()
    for r in new:
        uow.emit("srm.certificate_expiring", reminder_id=r.id, supplier_id=r.supplier_id,
                 certificate_id=r.certificate_id)
    return new


def reminders(uow: UnitOfWork, *, open_only: bool = True) -> list[Reminder]:
    stmt = select(Reminder).where(Reminder.company_id == uow.company_id)
    if open_only:
        stmt = stmt.where(Reminder.acknowledged.is_(False))
    return list(uow.session.scalars(stmt.order_by(Reminder.expiry_date, Reminder.id).limit(500)))


def acknowledge_reminder(uow: UnitOfWork, reminder_id: int) -> Reminder:
    uow.actor.require("srm.write")
    r = uow.get(Reminder, reminder_id, for_update=True)
    r.acknowledged = True
    uow.flush()
    return r


# ------------------------------------------------------------- lists
def supplier_rows(uow: UnitOfWork, *, q: str | None = None, status: str | None = None, category: str | None = None,
                  limit: int = 50, offset: int = 0) -> tuple[list[Supplier], int]:
    stmt = select(Supplier).where(Supplier.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Supplier.partner_code.ilike(like), Supplier.partner_name.ilike(like),
                              Supplier.main_products.ilike(like)))
    if status:
        if status not in SUPPLIER_STATUSES:
            raise ValidationFailed(_("供应商状态无效：{value}", value=status), field="status")
        stmt = stmt.where(Supplier.status == status)
    if category and category.strip():
        stmt = stmt.where(Supplier.id.in_(select(SupplierCategory.supplier_id).where(
            SupplierCategory.company_id == uow.company_id, SupplierCategory.category == category.strip())))
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(uow.session.scalars(stmt.order_by(Supplier.partner_code, Supplier.id)
                                     .limit(max(1, min(limit, 100000))).offset(max(0, offset))))
    return items, total


def all_categories(uow: UnitOfWork) -> list[str]:
    return list(uow.session.scalars(select(SupplierCategory.category).where(
        SupplierCategory.company_id == uow.company_id).distinct().order_by(SupplierCategory.category)))


def supplier_dict(s: Supplier) -> dict:
    return {"id": s.id, "partner_id": s.partner_id, "partner_code": s.partner_code, "partner_name": s.partner_name,
            "status": s.status, "status_label": status_label(s.status), "status_reason": s.status_reason,
            "grade": s.grade, "main_products": s.main_products, "website": s.website,
            "registered_capital": None if s.registered_capital is None else str(s.registered_capital),
            "established_on": s.established_on.isoformat() if s.established_on else None, "notes": s.notes,
            "categories": [c.category for c in s.categories]}


EXPORT_HEADER = ("编码", "名称", "状态", "状态原因", "等级", "供应类别", "主营产品")


def export_rows(items: list[Supplier]) -> tuple[list[str], list[list]]:
    header = [_(h) for h in EXPORT_HEADER]
    return header, [[s.partner_code, s.partner_name, status_label(s.status), s.status_reason or "", s.grade or "",
                     "、".join(c.category for c in s.categories), s.main_products or ""] for s in items]
