"""Mixins shared by every table: surrogate id, owning company, who/when columns."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .db import Base
from .types import UTCDateTime, utcnow

# BIGINT on PostgreSQL, INTEGER (= rowid alias, autoincrementing) on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True)


class StampMixin:
    """Who and when. The user columns carry no foreign key on purpose: users are never
    deleted (only deactivated), and two constraint checks against auth_user on every
    insert of a hot ledger row would buy nothing the audit trail does not already give."""

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    updated_by_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class CompanyMixin:
    """Rows owned by one company; every query is scoped by it."""

    @declared_attr
    def company_id(cls) -> Mapped[int]:
        return mapped_column(BigId, ForeignKey("company.id"), index=True)


class Entity(IdMixin, StampMixin):
    pass


class CompanyEntity(IdMixin, CompanyMixin, StampMixin):
    pass


__all__ = ["Base", "BigId", "CompanyEntity", "CompanyMixin", "Entity", "IdMixin", "StampMixin"]
