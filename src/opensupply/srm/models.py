"""SRM tables. Tables only; behaviour lives in the services.

* `srm_supplier` — the SRM profile of one supplier partner (master data `partner` with is_supplier; never
  written from here): status 潜在 potential / 合格 qualified / 暂停 suspended / 淘汰 eliminated, with every change
  in `srm_status_change` (from, to, reason, who, when). `srm_onboarding` is a request to qualify a potential
  supplier, decided by someone other than the requester (four eyes).
* Profile detail: `srm_supplier_category` (supply categories), `srm_contact`, `srm_bank_account`,
  `srm_certificate` (营业执照 / ISO9001 / 生产许可证 … with issue and expiry dates) and `srm_reminder`
  (one row per certificate and expiry date, so a daily run never reminds twice).
* `srm_contract` (+ `srm_price_break`): a price agreement with one supplier for items — quantity → unit price,
  currency, validity, payment terms, state draft / active / expired; `srm_price_warning` records a PO line
  priced above its agreement.
* `srm_complaint` — a supplier complaint / nonconformance ticket: open → action proposed → verified → closed.

RFQ/tender, portal and scorecard tables live in `tender_models.py` (imported at the end).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity
from opensupply.core.types import Amount, Qty, UTCDateTime

SUPPLIER_STATUSES = ("potential", "qualified", "suspended", "eliminated")  # 潜在 / 合格 / 暂停 / 淘汰
ONBOARDING_STATES = ("pending", "approved", "rejected")
CERTIFICATE_TYPES = ("business_license", "iso9001", "iso14001", "production_license", "other")
CONTRACT_STATES = ("draft", "active", "expired", "cancelled")
COMPLAINT_STATES = ("open", "action_proposed", "verified", "closed")
COMPLAINT_SEVERITIES = ("minor", "major", "critical")


class Supplier(CompanyEntity, Base):
    """The SRM profile of a supplier partner. Name, address and tax id stay in master data."""

    __tablename__ = "srm_supplier"
    __label__ = "供应商档案"
    __table_args__ = (UniqueConstraint("company_id", "partner_id"),)

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="potential")
    status_reason: Mapped[str | None] = mapped_column(String(300))
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # denormalised from master data for list search and sorting; refreshed by the SRM service on save
    partner_code: Mapped[str] = mapped_column(String(40), default="")
    partner_name: Mapped[str] = mapped_column(String(200), default="")
    grade: Mapped[str | None] = mapped_column(String(10))  # A/B/C, set by people or the scorecard
    main_products: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(200))
    registered_capital: Mapped[Decimal | None] = mapped_column(Amount)
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    categories: Mapped[list[SupplierCategory]] = relationship(cascade="all, delete-orphan",
                                                              order_by="SupplierCategory.id")


class SupplierCategory(CompanyEntity, Base):
    __tablename__ = "srm_supplier_category"
    __label__ = "供应类别"
    __table_args__ = (UniqueConstraint("supplier_id", "category"),)

    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(60))


class StatusChange(CompanyEntity, Base):
    __tablename__ = "srm_status_change"
    __label__ = "供应商状态变更"

    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(300))
    by_username: Mapped[str | None] = mapped_column(String(80))


class Onboarding(CompanyEntity, Base):
    """准入申请: a potential supplier becomes qualified only when someone else with srm.approve approves."""

    __tablename__ = "srm_onboarding"
    __label__ = "准入申请"

    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(BigId)
    requested_by: Mapped[str | None] = mapped_column(String(80))
    request_note: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(BigId)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))


class Contact(CompanyEntity, Base):
    __tablename__ = "srm_contact"
    __label__ = "供应商联系人"

    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str | None] = mapped_column(String(60))  # 销售 / 质量 / 财务 …
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)


class BankAccount(CompanyEntity, Base):
    __tablename__ = "srm_bank_account"
    __label__ = "供应商银行账户"

    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id"), index=True)
    account_name: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(200))
    account_number: Mapped[str] = mapped_column(String(60))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Certificate(CompanyEntity, Base):
    __tablename__ = "srm_certificate"
    __label__ = "供应商资质"
    __table_args__ = (Index("ix_srm_certificate_expiry", "company_id", "expiry_date"),)

    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id"), index=True)
    cert_type: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(80))
    issuer: Mapped[str | None] = mapped_column(String(200))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    file_path: Mapped[str | None] = mapped_column(String(300))  # stored under the data dir's attachments
    file_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Reminder(CompanyEntity, Base):
    """A certificate-expiry reminder produced by the daily run; unique per certificate and expiry date."""

    __tablename__ = "srm_reminder"
    __label__ = "资质到期提醒"
    __table_args__ = (UniqueConstraint("certificate_id", "expiry_date"),)

    certificate_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_certificate.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id"), index=True)
    expiry_date: Mapped[dt.date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(String(300))
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)


class Contract(CompanyEntity, Base):
    """采购合同 / 价格协议 with one supplier."""

    __tablename__ = "srm_contract"
    __label__ = "采购合同"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(30))
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    payment_terms: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    notes: Mapped[str | None] = mapped_column(Text)

    prices: Mapped[list[PriceBreak]] = relationship(cascade="all, delete-orphan",
                                                    order_by="(PriceBreak.product_id, PriceBreak.min_quantity)")


class PriceBreak(CompanyEntity, Base):
    """From `min_quantity` on, the agreed unit price of the product (excluding tax)."""

    __tablename__ = "srm_price_break"
    __label__ = "价格阶梯"
    __table_args__ = (UniqueConstraint("contract_id", "product_id", "min_quantity"),)

    contract_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_contract.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    min_quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount)


class PriceWarning(CompanyEntity, Base):
    """A purchase-order line priced above the agreed price (recorded, not refused)."""

    __tablename__ = "srm_price_warning"
    __label__ = "超协议价提醒"
    __table_args__ = (UniqueConstraint("order_line_id"),)

    order_id: Mapped[int] = mapped_column(BigId, index=True)
    order_number: Mapped[str] = mapped_column(String(40), default="")
    order_line_id: Mapped[int] = mapped_column(BigId)
    partner_id: Mapped[int] = mapped_column(BigId, index=True)
    product_id: Mapped[int] = mapped_column(BigId)
    contract_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_contract.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    agreed_price: Mapped[Decimal] = mapped_column(Amount)


class Complaint(CompanyEntity, Base):
    """供应商投诉 / 不合格: who is responsible on each side, what was wrong, what is done about it."""

    __tablename__ = "srm_complaint"
    __label__ = "供应商投诉"
    __table_args__ = (UniqueConstraint("company_id", "number"),
                      Index("ix_srm_complaint_partner_day", "company_id", "partner_id", "reported_on"))

    number: Mapped[str] = mapped_column(String(30))
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_supplier.id"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20), default="major")
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product.id"))
    lot: Mapped[str | None] = mapped_column(String(80))
    receipt_ref: Mapped[str | None] = mapped_column(String(40))  # goods receipt or PO number
    defect_description: Mapped[str] = mapped_column(Text)
    defect_quantity: Mapped[Decimal | None] = mapped_column(Qty)
    owner_user_id: Mapped[int | None] = mapped_column(BigId)
    owner_name: Mapped[str | None] = mapped_column(String(80))
    supplier_contact: Mapped[str | None] = mapped_column(String(120))
    reported_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    corrective_action: Mapped[str | None] = mapped_column(Text)
    verification_note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="open")
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


# RFQ / tender / portal / scorecard tables, kept in their own file by their own engineer.
try:
    import opensupply.srm.tender_models  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - until that file exists
    if exc.name != "opensupply.srm.tender_models":
        raise
