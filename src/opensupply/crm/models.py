"""CRM tables: leads, contacts, customer ownership, opportunities, activities (follow-ups),
after-sales tickets and campaigns. Commercial documents (quotes, sales orders, invoices)
live in ERP; CRM rows only point at them by id."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity
from opensupply.core.types import Amount, UTCDateTime

LEAD_SOURCES = ("expo", "website", "douyin", "referral", "taobao", "wechat", "phone", "other")
LEAD_STATES = ("new", "contacted", "qualified", "converted", "lost")
STAGES = ("initial", "qualified", "proposal", "negotiation", "won", "lost")
OPEN_STAGES = ("initial", "qualified", "proposal", "negotiation")
ACTIVITY_KINDS = ("call", "email", "visit", "wechat", "task")
ACTIVITY_STATES = ("open", "done", "cancelled")
TICKET_KINDS = ("complaint", "return", "repair", "consult", "other")
TICKET_STATES = ("open", "in_progress", "resolved", "closed")
OPEN_TICKET_STATES = ("open", "in_progress")


def _owner():
    return mapped_column(BigId, ForeignKey("auth_user.id"), index=True, nullable=True)


class Lead(CompanyEntity, Base):
    """A possible customer not yet qualified: a name, a phone or e-mail, and where they came from.
    Phones and e-mails are kept as typed and normalized (digits only, lower-case) for dedupe."""

    __tablename__ = "crm_lead"
    __label__ = "线索"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        Index("ix_crm_lead_phone", "company_id", "phone_key"),
        Index("ix_crm_lead_email", "company_id", "email_key"),
        CheckConstraint("state in ('new','contacted','qualified','converted','lost')", name="state"),
    )

    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))  # the person
    company_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(40))
    phone_key: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    email_key: Mapped[str | None] = mapped_column(String(200))
    wechat: Mapped[str | None] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(20), default="other")
    state: Mapped[str] = mapped_column(String(12), default="new")
    owner_id: Mapped[int | None] = _owner()
    expected_value: Mapped[Decimal | None] = mapped_column(Amount)
    notes: Mapped[str | None] = mapped_column(Text)
    # a later enquiry from the same phone/e-mail lands here instead of becoming a second lead
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    last_duplicate_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_contact.id", use_alter=True))
    opportunity_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_opportunity.id", use_alter=True))
    converted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lost_reason: Mapped[str | None] = mapped_column(String(300))


class Contact(CompanyEntity, Base):
    """A person at a partner company (采购经理、老板、财务…)."""

    __tablename__ = "crm_contact"
    __label__ = "联系人"
    __table_args__ = (Index("ix_crm_contact_phone", "company_id", "phone_key"),)

    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(40))
    phone_key: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    email_key: Mapped[str | None] = mapped_column(String(200))
    wechat: Mapped[str | None] = mapped_column(String(80))
    owner_id: Mapped[int | None] = _owner()
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CustomerAccount(CompanyEntity, Base):
    """CRM's side of a customer (a masterdata partner): who owns the relationship."""

    __tablename__ = "crm_customer"
    __label__ = "客户负责人"
    __table_args__ = (UniqueConstraint("company_id", "partner_id"),)

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    owner_id: Mapped[int | None] = _owner()
    source: Mapped[str | None] = mapped_column(String(20))
    lead_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_lead.id"))


class Opportunity(CompanyEntity, Base):
    __tablename__ = "crm_opportunity"
    __label__ = "商机"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        Index("ix_crm_opportunity_stage", "company_id", "stage"),
        CheckConstraint("stage in ('initial','qualified','proposal','negotiation','won','lost')", name="stage"),
        CheckConstraint("probability >= 0 and probability <= 100", name="probability"),
    )

    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_contact.id"))
    lead_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_lead.id"))
    owner_id: Mapped[int | None] = _owner()
    stage: Mapped[str] = mapped_column(String(12), default="initial")
    expected_value: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    probability: Mapped[int] = mapped_column(Integer, default=10)
    expected_close_date: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    lost_reason: Mapped[str | None] = mapped_column(String(300))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # ERP documents it led to (ids in ERP's tables, written by ERP's services)
    quote_id: Mapped[int | None] = mapped_column(BigId)
    quote_number: Mapped[str | None] = mapped_column(String(40))
    sales_order_id: Mapped[int | None] = mapped_column(BigId)
    sales_order_number: Mapped[str | None] = mapped_column(String(40))


class Activity(CompanyEntity, Base):
    """A follow-up: a call, e-mail, visit or WeChat message, planned (due date, reminder) or done."""

    __tablename__ = "crm_activity"
    __label__ = "跟进记录"
    __table_args__ = (
        Index("ix_crm_activity_owner_due", "company_id", "owner_id", "state", "due_date"),
        # idempotency of generated follow-ups (repurchase reminders, campaign batches)
        Index("uq_crm_activity_key", "company_id", "auto_key", unique=True),
        CheckConstraint("state in ('open','done','cancelled')", name="state"),
    )

    kind: Mapped[str] = mapped_column(String(10), default="call")
    subject: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = _owner()
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    remind_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="open")
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(Text)
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_contact.id"))
    lead_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_lead.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_opportunity.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_ticket.id", use_alter=True), index=True)
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_campaign.id", use_alter=True),
                                                    index=True)
    origin: Mapped[str] = mapped_column(String(12), default="manual")  # manual repurchase campaign ticket
    auto_key: Mapped[str | None] = mapped_column(String(120))


class Ticket(CompanyEntity, Base):
    """After-sales case or complaint: open → in progress → resolved → closed."""

    __tablename__ = "crm_ticket"
    __label__ = "售后工单"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        Index("ix_crm_ticket_state", "company_id", "state", "due_date"),
        CheckConstraint("state in ('open','in_progress','resolved','closed')", name="state"),
    )

    number: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12), default="complaint")
    priority: Mapped[str] = mapped_column(String(8), default="normal")  # low normal high
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_contact.id"))
    sales_order_id: Mapped[int | None] = mapped_column(BigId)
    sales_order_number: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[int | None] = _owner()
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="open")
    description: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Campaign(CompanyEntity, Base):
    """A targeted campaign: the customers of one RFM segment, a follow-up for each owner,
    and afterwards the orders that followed within `window_days`."""

    __tablename__ = "crm_campaign"
    __label__ = "营销活动"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(30))
    activity_kind: Mapped[str] = mapped_column(String(10), default="call")
    message: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date] = mapped_column(Date)
    window_days: Mapped[int] = mapped_column(Integer, default=30)
    member_count: Mapped[int] = mapped_column(Integer, default=0)


class CampaignMember(CompanyEntity, Base):
    __tablename__ = "crm_campaign_member"
    __table_args__ = (UniqueConstraint("campaign_id", "partner_id"),)

    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("crm_campaign.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    owner_id: Mapped[int | None] = _owner()
    activity_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_activity.id"))
