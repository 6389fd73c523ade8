"""PLM tables. Tables only; behaviour lives in the services.

* `plm_lifecycle_change` — a request to move a product to another lifecycle stage (研发 → 试产 → 量产 → 退市),
  pending until someone with `plm.approve` decides; at most one pending request per product.
* `plm_eco` — an engineering change order (工程变更单) for one product: the BOM version it starts from
  (`base_bom_id`), the version in force when it was raised (`replaced_bom_id`, what release retires) and the
  new draft version it edits (`new_bom_id`, a master-data BOM changed only through `masterdata.boms`).
  `plm_eco_approval` is one row per required department (研发 / 采购 / 生产 / 质量);
  `plm_eco_comment` the discussion and `plm_mention` the @mentions in it (read or not).
* `plm_document` — a drawing, specification or other file of a product (optionally of one BOM version or
  raised with an ECO); the bytes live under the data directory, never at a path the client chose.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity, Entity
from opensupply.core.types import UTCDateTime

CHANGE_STATES = ("pending", "approved", "rejected", "cancelled")
ECO_STATES = ("draft", "in_review", "approved", "released", "rejected", "cancelled")
DEPARTMENTS = ("rd", "purchasing", "production", "quality")  # 研发 / 采购 / 生产 / 质量
APPROVAL_STATES = ("pending", "approved", "rejected")
DOCUMENT_KINDS = ("drawing", "spec", "other")  # 图纸 / 规格书 / 其他


class LifecycleChange(CompanyEntity, Base):
    __tablename__ = "plm_lifecycle_change"
    __label__ = "生命周期变更申请"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        # one open request per product: two approvers could otherwise apply contradicting moves
        Index("uq_plm_lifecycle_change_pending", "company_id", "product_id", unique=True,
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
        CheckConstraint("state in ('pending','approved','rejected','cancelled')", name="state"),
    )

    number: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(8))
    to_stage: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    product = relationship("Product", lazy="joined")


class Eco(CompanyEntity, Base):
    __tablename__ = "plm_eco"
    __label__ = "工程变更单"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        CheckConstraint("state in ('draft','in_review','approved','released','rejected','cancelled')", name="state"),
        Index("ix_plm_eco_company_state", "company_id", "state"),
    )

    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    base_bom_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bom.id"))  # lines copied from
    replaced_bom_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bom.id"))  # in force when raised
    new_bom_id: Mapped[int] = mapped_column(BigId, ForeignKey("bom.id"), index=True)
    departments: Mapped[list] = mapped_column(JSON, default=list)  # required approvals, in DEPARTMENTS order
    proposer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    effective_date: Mapped[dt.date | None] = mapped_column(Date)
    # the new version's structure as submitted: approvals are for this content, so a later edit of the draft
    # (e.g. on the BOM pages) is caught before it is approved or released
    review_snapshot: Mapped[list | None] = mapped_column(JSON)
    closed_reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected or cancelled

    product = relationship("Product", lazy="joined")
    approvals: Mapped[list[EcoApproval]] = relationship(
        cascade="all, delete-orphan", order_by="EcoApproval.id", lazy="selectin", back_populates="eco")


class EcoApproval(Entity, Base):
    __tablename__ = "plm_eco_approval"
    __table_args__ = (
        UniqueConstraint("eco_id", "department"),
        CheckConstraint("state in ('pending','approved','rejected')", name="state"),
        CheckConstraint("department in ('rd','purchasing','production','quality')", name="department"),
    )

    eco_id: Mapped[int] = mapped_column(BigId, ForeignKey("plm_eco.id", ondelete="CASCADE"), index=True)
    department: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)

    eco: Mapped[Eco] = relationship(back_populates="approvals")


class EcoComment(CompanyEntity, Base):
    __tablename__ = "plm_eco_comment"
    __label__ = "变更讨论"

    eco_id: Mapped[int] = mapped_column(BigId, ForeignKey("plm_eco.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    body: Mapped[str] = mapped_column(Text)


class Mention(CompanyEntity, Base):
    __tablename__ = "plm_mention"
    __label__ = "提及"
    __table_args__ = (
        UniqueConstraint("comment_id", "user_id"),
        Index("ix_plm_mention_user_unread", "user_id", "read_at"),
    )

    comment_id: Mapped[int] = mapped_column(BigId, ForeignKey("plm_eco_comment.id", ondelete="CASCADE"))
    eco_id: Mapped[int] = mapped_column(BigId, ForeignKey("plm_eco.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("auth_user.id"))
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Document(CompanyEntity, Base):
    __tablename__ = "plm_document"
    __label__ = "产品文档"
    __table_args__ = (
        CheckConstraint("kind in ('drawing','spec','other')", name="kind"),
        CheckConstraint("size_bytes > 0", name="size"),
        UniqueConstraint("storage_key"),
        Index("ix_plm_document_company_product", "company_id", "product_id"),
    )

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    bom_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bom.id"), index=True)
    eco_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("plm_eco.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="other")
    version_label: Mapped[str] = mapped_column(String(20), default="A")
    file_name: Mapped[str] = mapped_column(String(200))  # as uploaded, for display and download only
    file_type: Mapped[str] = mapped_column(String(8))  # pdf png jpg dxf dwg step xlsx docx txt (sniffed)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(120))  # <company>/<random>.<type> under data_dir/plm
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    product = relationship("Product", lazy="joined")
