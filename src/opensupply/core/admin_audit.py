"""The audit viewer (permission `admin.audit`): search the audit trail of the current company
by entity, record id, user, action and date range (dates in the company's time zone), and
export what was found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, func, or_, select

from .audit import AuditLog, dumps
from .errors import ValidationFailed
from .i18n import _
from .uow import UnitOfWork

PERMISSION = "admin.audit"
EXPORT_LIMIT = 100_000


@dataclass
class AuditFilter:
    entity: str | None = None
    entity_id: str | None = None
    username: str | None = None
    action: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def parse(cls, entity=None, entity_id=None, username=None, action=None, date_from=None, date_to=None):
        def day(value, field):
            if value in (None, ""):
                return None
            if isinstance(value, dt.date):
                return value
            try:
                return dt.date.fromisoformat(str(value).strip()[:10])
            except ValueError:
                raise ValidationFailed(_("日期格式不正确：{v}", v=str(value)[:20]), field=field) from None

        clean = {k: (str(v).strip() or None) if v is not None else None
                 for k, v in dict(entity=entity, entity_id=entity_id, username=username, action=action).items()}
        f = cls(**clean, date_from=day(date_from, "date_from"), date_to=day(date_to, "date_to"))
        if f.date_from and f.date_to and f.date_from > f.date_to:
            raise ValidationFailed(_("开始日期不能晚于结束日期"), field="date_from")
        return f

    def as_params(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.__dict__.items() if v}


def company_zone(uow: UnitOfWork) -> ZoneInfo:
    from opensupply.masterdata.models import Company

    company = uow.session.get(Company, uow.company_id)
    try:
        return ZoneInfo(company.timezone if company and company.timezone else "Asia/Shanghai")
    except ZoneInfoNotFoundError:
        return ZoneInfo("Asia/Shanghai")


def _scope(uow: UnitOfWork) -> Select:
    stmt = select(AuditLog)
    if uow.actor.is_superuser:  # failed logins and other company-less events too
        return stmt.where(or_(AuditLog.company_id == uow.company_id, AuditLog.company_id.is_(None)))
    return stmt.where(AuditLog.company_id == uow.company_id)


def _query(uow: UnitOfWork, f: AuditFilter) -> Select:
    uow.actor.require(PERMISSION)
    stmt = _scope(uow)
    if f.entity:
        stmt = stmt.where(AuditLog.entity == f.entity)
    if f.entity_id:
        stmt = stmt.where(AuditLog.entity_id == f.entity_id)
    if f.username:
        stmt = stmt.where(AuditLog.username == f.username)
    if f.action:
        stmt = stmt.where(AuditLog.action == f.action)
    zone = company_zone(uow) if (f.date_from or f.date_to) else None
    if f.date_from:
        start = dt.datetime.combine(f.date_from, dt.time.min, tzinfo=zone)
        stmt = stmt.where(AuditLog.at >= start.astimezone(dt.UTC))
    if f.date_to:
        end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        stmt = stmt.where(AuditLog.at < end.astimezone(dt.UTC))
    return stmt


def search(uow: UnitOfWork, f: AuditFilter, *, limit: int = 50, offset: int = 0) -> tuple[list[AuditLog], int]:
    stmt = _query(uow, f)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.scalars(stmt.order_by(AuditLog.id.desc()).limit(max(1, min(limit, EXPORT_LIMIT)))
                               .offset(max(0, offset)))
    return list(rows), total


def choices(uow: UnitOfWork) -> dict[str, list[str]]:
    """Entities, actions and users that occur in this company's trail (for the filter selects)."""
    uow.actor.require(PERMISSION)
    scope = _scope(uow).subquery()

    def distinct_of(col):
        return [v for v in uow.session.scalars(select(col).distinct().order_by(col)) if v]

    return {"entities": distinct_of(scope.c.entity), "actions": distinct_of(scope.c.action),
            "usernames": distinct_of(scope.c.username)}


def export_table(uow: UnitOfWork, f: AuditFilter) -> tuple[list[str], list[list]]:
    """Header and rows of a filtered export; times in the company's time zone."""
    rows, _total = search(uow, f, limit=EXPORT_LIMIT)
    zone = company_zone(uow)
    header = [_("编号"), _("时间"), _("操作人"), _("IP 地址"), _("操作"), _("对象"), _("记录编号"), _("变更前"),
              _("变更后")]
    out = [[a.id, a.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), a.username or "", a.ip or "", a.action,
            a.entity, a.entity_id or "", dumps(a.before), dumps(a.after)] for a in rows]
    return header, out
