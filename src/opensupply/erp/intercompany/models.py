"""The link between a document and its mirror in the other company, and the documents that could
not be mirrored. Both tables span two companies, so they carry both ids instead of one owner."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opensupply.core.db import Base
from opensupply.core.models import BigId, IdMixin
from opensupply.core.types import UTCDateTime, utcnow

KINDS = ("sales_order", "purchase_order")


class IntercompanyLink(IdMixin, Base):
    """Source document (confirmed in one company) → the draft it created in the other. One row per
    source document: a replayed event finds it and creates nothing; a target is never a source."""

    __tablename__ = "erp_intercompany_link"
    __table_args__ = (UniqueConstraint("source_kind", "source_id", name="uq_ic_link_source"),
                      UniqueConstraint("target_kind", "target_id", name="uq_ic_link_target"))

    source_company_id: Mapped[int] = mapped_column(BigId, ForeignKey("company.id"), index=True)
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(BigInteger)
    source_number: Mapped[str] = mapped_column(String(40))
    target_company_id: Mapped[int] = mapped_column(BigId, ForeignKey("company.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(BigInteger)
    target_number: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IntercompanyException(IdMixin, Base):
    """A confirmed document that could not be mirrored (a SKU missing in the other company, no partner
    standing for the seller …): nothing was made there; 重试 once the cause is fixed."""

    __tablename__ = "erp_intercompany_exception"
    __table_args__ = (UniqueConstraint("source_kind", "source_id", name="uq_ic_exception_source"),)

    source_company_id: Mapped[int] = mapped_column(BigId, ForeignKey("company.id"), index=True)
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(BigInteger)
    source_number: Mapped[str] = mapped_column(String(40))
    target_company_id: Mapped[int] = mapped_column(BigId, ForeignKey("company.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    message: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
