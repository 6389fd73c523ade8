"""SRM tables for RFQs/tenders (lines, invitations, sealed bids, awards), the supplier portal (portal accounts,
notices, PO confirmations with a promised date, advance ship notices), receipt inspections and
scorecards. Tables only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.models import Base, BigId, CompanyEntity
from opensupply.core.types import Amount, Qty, UTCDateTime


class Rfq(CompanyEntity, Base):
    """A request for quotation. States: draft → open → closed → awarded, or cancelled. `open` past its
    deadline reads as closed everywhere (the bids unseal at the deadline, not when someone presses a button)."""

    __tablename__ = "srm_rfq"
    __label__ = "询价单"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(12), default="draft")
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    terms: Mapped[str | None] = mapped_column(Text)
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    awarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    buyer: Mapped[str] = mapped_column(String(80), default="")

    lines: Mapped[list[RfqLine]] = relationship(cascade="all, delete-orphan", order_by="RfqLine.id", lazy="selectin")
    invites: Mapped[list[RfqInvite]] = relationship(cascade="all, delete-orphan", order_by="RfqInvite.id",
                                                    lazy="selectin")


class RfqLine(CompanyEntity, Base):
    __tablename__ = "srm_rfq_line"

    rfq_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_rfq.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit: Mapped[str] = mapped_column(String(20), default="")
    required_date: Mapped[dt.date | None] = mapped_column(Date)
    # the ERP planned purchase this line sources, when the RFQ was started from one (no foreign key, like the
    # planned order's own links: planned orders are rewritten in bulk by MRP runs, firmed ones are kept)
    planned_order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class RfqInvite(CompanyEntity, Base):
    """An invited supplier; `result` is awarded / unawarded once the RFQ is decided."""

    __tablename__ = "srm_rfq_invite"
    __table_args__ = (UniqueConstraint("rfq_id", "partner_id"),)

    rfq_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_rfq.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    invited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(12))


class Bid(CompanyEntity, Base):
    """One supplier's bid on one RFQ, revised in place until the deadline (`revision` counts the versions)."""

    __tablename__ = "srm_bid"
    __label__ = "报价"
    __table_args__ = (UniqueConstraint("rfq_id", "partner_id"),)

    rfq_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_rfq.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    payment_terms: Mapped[str] = mapped_column(String(120), default="")
    validity_days: Mapped[int] = mapped_column(Integer, default=30)
    note: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    first_submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(80), default="")
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))

    lines: Mapped[list[BidLine]] = relationship(cascade="all, delete-orphan", order_by="BidLine.id", lazy="selectin")


class BidLine(CompanyEntity, Base):
    __tablename__ = "srm_bid_line"
    __table_args__ = (UniqueConstraint("bid_id", "rfq_line_id"),)

    bid_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_bid.id", ondelete="CASCADE"), index=True)
    rfq_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_rfq_line.id", ondelete="CASCADE"))
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0)


class RfqAward(CompanyEntity, Base):
    """A quantity of one RFQ line given to one supplier at its bid price, and the purchase order it became."""

    __tablename__ = "srm_rfq_award"

    rfq_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_rfq.id", ondelete="CASCADE"), index=True)
    rfq_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_rfq_line.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    purchase_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("erp_purchase_order.id"), index=True)


class PortalAccount(CompanyEntity, Base):
    """A core user who acts for one supplier in the portal (and sees only that supplier's data)."""

    __tablename__ = "srm_portal_account"
    __label__ = "供应商门户账号"
    __table_args__ = (UniqueConstraint("user_id"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("auth_user.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)


class PortalNotice(CompanyEntity, Base):
    """A message to a supplier in the portal: invited, awarded, not awarded, RFQ cancelled."""

    __tablename__ = "srm_portal_notice"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    rfq_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("srm_rfq.id", ondelete="CASCADE"))
    purchase_order_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))


class PoConfirmation(CompanyEntity, Base):
    """The supplier's confirmation of a purchase order with the date it promises to deliver."""

    __tablename__ = "srm_po_confirmation"
    __table_args__ = (UniqueConstraint("purchase_order_id"),)

    purchase_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_order.id"))
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    promised_date: Mapped[dt.date] = mapped_column(Date)
    confirmed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str | None] = mapped_column(String(500))


class AdvanceShipNotice(CompanyEntity, Base):
    """A supplier's advance ship notice (发货通知, ASN) against its purchase order: what it shipped, when it should
    arrive and how to track it. States: shipped → received (the buyer received it, or the order was received in
    full some other way), or cancelled by the supplier before that."""

    __tablename__ = "srm_asn"
    __label__ = "发货通知"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    purchase_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_order.id"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="shipped")
    ship_date: Mapped[dt.date] = mapped_column(Date)
    expected_date: Mapped[dt.date] = mapped_column(Date)
    carrier: Mapped[str | None] = mapped_column(String(80))
    tracking_no: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(80), default="")
    receipt_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("erp_goods_receipt.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    lines: Mapped[list[AdvanceShipNoticeLine]] = relationship(cascade="all, delete-orphan",
                                                              order_by="AdvanceShipNoticeLine.id", lazy="selectin")


class AdvanceShipNoticeLine(CompanyEntity, Base):
    __tablename__ = "srm_asn_line"

    asn_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_asn.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_order_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    lot: Mapped[str | None] = mapped_column(String(80))


class ReceiptInspection(CompanyEntity, Base):
    """Incoming inspection of a goods receipt: how many units were sampled and how many were defective."""

    __tablename__ = "srm_receipt_inspection"
    __label__ = "来料检验"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    receipt_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_goods_receipt.id"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    receipt_date: Mapped[dt.date] = mapped_column(Date)
    sample_size: Mapped[Decimal] = mapped_column(Qty)
    defective_qty: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    inspector: Mapped[str] = mapped_column(String(80), default="")
    notes: Mapped[str | None] = mapped_column(String(500))

    defects: Mapped[list[InspectionDefect]] = relationship(cascade="all, delete-orphan",
                                                           order_by="InspectionDefect.id", lazy="selectin")


class InspectionDefect(CompanyEntity, Base):
    __tablename__ = "srm_inspection_defect"

    inspection_id: Mapped[int] = mapped_column(BigId, ForeignKey("srm_receipt_inspection.id", ondelete="CASCADE"),
                                               index=True)
    defect_type: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[Decimal] = mapped_column(Qty)


class ScorecardSettings(CompanyEntity, Base):
    """Weights of the scorecard metrics (any non-negative numbers; the total is divided by their sum)."""

    __tablename__ = "srm_scorecard_settings"
    __table_args__ = (UniqueConstraint("company_id"),)

    w_delivery: Mapped[Decimal] = mapped_column(Qty, default=Decimal(35))
    w_quality: Mapped[Decimal] = mapped_column(Qty, default=Decimal(30))
    w_price: Mapped[Decimal] = mapped_column(Qty, default=Decimal(15))
    w_response: Mapped[Decimal] = mapped_column(Qty, default=Decimal(10))
    w_complaints: Mapped[Decimal] = mapped_column(Qty, default=Decimal(10))


class Scorecard(CompanyEntity, Base):
    """One supplier's measures and score for one month (`2026-11`) or quarter (`2026-Q4`)."""

    __tablename__ = "srm_scorecard"
    __label__ = "供应商评分卡"
    __table_args__ = (UniqueConstraint("company_id", "partner_id", "period"),)

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    period: Mapped[str] = mapped_column(String(10), index=True)
    period_kind: Mapped[str] = mapped_column(String(8))  # month | quarter
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    lines_received: Mapped[int] = mapped_column(Integer, default=0)
    lines_on_time: Mapped[int] = mapped_column(Integer, default=0)
    on_time_pct: Mapped[Decimal | None] = mapped_column(Qty)
    sample_qty: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    defective_qty: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    defect_ppm: Mapped[Decimal | None] = mapped_column(Qty)
    price_variance_pct: Mapped[Decimal | None] = mapped_column(Qty)
    invites: Mapped[int] = mapped_column(Integer, default=0)
    responses: Mapped[int] = mapped_column(Integer, default=0)
    response_hours: Mapped[Decimal | None] = mapped_column(Qty)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[Decimal | None] = mapped_column(Qty)
    rank: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
