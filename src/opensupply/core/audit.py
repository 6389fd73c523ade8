"""Audit trail: one row per write (who, when, what, before/after), written in the same
transaction as the write itself, so a rolled-back request leaves no audit row either.

ORM writes are captured automatically from the session's flush; hot paths that write
with Core statements call `record()` themselves.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Index, String, event, insert, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base
from .models import BigId
from .types import UTCDateTime, utcnow

SECRET_COLUMNS = {"password_hash", "token_hash", "totp_secret", "secret"}
SECRET_MASK = "******"  # noqa: S105 - a placeholder shown instead of a secret


class AuditLog(Base):
    __tablename__ = "audit_log"
    __audit__ = False
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    company_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    username: Mapped[str | None] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))  # create / update / delete / login_failed / denied / …
    entity: Mapped[str] = mapped_column(String(80))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    return value


def json_safe(value):
    """`value` with Decimals, dates and enums turned into strings, ready for a JSON column
    (event payloads, job parameters and results); anything else unserialisable is a TypeError."""

    def default(v):
        out = _jsonable(v)
        if out is v:
            raise TypeError(f"{type(v).__name__} is not JSON serialisable")
        return out

    return json.loads(json.dumps(value, default=default, ensure_ascii=False))


def _row_values(obj) -> dict:
    state = inspect(obj)
    return {
        attr.key: _jsonable(getattr(obj, attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in SECRET_COLUMNS
    }


def record(session: Session, action: str, entity: str, entity_id, *, before=None, after=None,
           company_id: int | None = None, actor=None) -> None:
    """Write one audit row, by default for the acting user of the session's unit of work."""
    record_many(session, [dict(action=action, entity=entity, entity_id=entity_id, before=before,
                               after=after, company_id=company_id)], actor=actor)


def record_many(session: Session, rows: list[dict], actor=None) -> None:
    if not rows:
        return
    if actor is None:
        uow = session.info.get("uow")
        actor = uow.actor if uow else None
    now = utcnow()
    values = []
    for r in rows:
        values.append({
            "at": now,
            "company_id": r.get("company_id") or (actor.company_id if actor else None),
            "user_id": actor.user_id if actor else None,
            "username": actor.username if actor else None,
            "ip": actor.ip if actor else None,
            "action": r["action"],
            "entity": r["entity"],
            "entity_id": None if r.get("entity_id") is None else str(r["entity_id"]),
            "before": r.get("before"),
            "after": r.get("after"),
        })
    session.execute(insert(AuditLog), values)


def _audited(obj) -> bool:
    return getattr(type(obj), "__audit__", True)


def _pk(obj) -> str:
    # During after_flush a new row has its key values but no identity key yet, so read the
    # primary key from the instance itself (not `inspect(obj).identity`, which is still None).
    values = inspect(obj).mapper.primary_key_from_instance(obj)
    return "/".join(str(v) for v in values if v is not None)


@event.listens_for(Session, "before_flush")
def _stamp_user(session: Session, _ctx, _instances):
    uow = session.info.get("uow")
    user_id = uow.actor.user_id if uow else None
    for obj in session.new:
        if hasattr(obj, "created_by_id") and obj.created_by_id is None:
            obj.created_by_id = user_id
            obj.updated_by_id = user_id
    for obj in session.dirty:
        if hasattr(obj, "updated_by_id") and session.is_modified(obj, include_collections=False):
            obj.updated_by_id = user_id


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, _ctx):
    rows = []
    for obj in session.new:
        if _audited(obj):
            rows.append(dict(action="create", entity=obj.__tablename__, entity_id=_pk(obj),
                             after=_row_values(obj), company_id=getattr(obj, "company_id", None)))
    for obj in session.dirty:
        if not _audited(obj) or not session.is_modified(obj, include_collections=False):
            continue
        state = inspect(obj)
        before, after = {}, {}
        for attr in state.mapper.column_attrs:
            if attr.key in {"updated_at", "updated_by_id"}:
                continue
            hist = state.attrs[attr.key].history
            if not hist.has_changes():
                continue
            if attr.key in SECRET_COLUMNS:  # that it changed is audited, never the value
                before[attr.key], after[attr.key] = SECRET_MASK, SECRET_MASK
                continue
            before[attr.key] = _jsonable(hist.deleted[0]) if hist.deleted else None
            after[attr.key] = _jsonable(hist.added[0]) if hist.added else None
        if after:
            rows.append(dict(action="update", entity=obj.__tablename__, entity_id=_pk(obj),
                             before=before, after=after, company_id=getattr(obj, "company_id", None)))
    for obj in session.deleted:
        if _audited(obj):
            rows.append(dict(action="delete", entity=obj.__tablename__, entity_id=_pk(obj),
                             before=_row_values(obj), company_id=getattr(obj, "company_id", None)))
    record_many(session, rows)


def history(session: Session, entity: str, entity_id, company_id: int | None, limit: int = 200) -> list[AuditLog]:
    stmt = (select(AuditLog).where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
            .order_by(AuditLog.id.desc()).limit(limit))
    if company_id is not None:
        stmt = stmt.where((AuditLog.company_id == company_id) | (AuditLog.company_id.is_(None)))
    return list(session.scalars(stmt))


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) if value else ""
