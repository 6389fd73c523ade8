"""Procure-to-pay tables: approval rules, purchase requests and their approval steps, purchase
orders, goods receipts, vendor bills (with their 3-way match result) and supplier payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.models import Base, BigId, CompanyEntity
from opensupply.core.types import Amount, Qty, UTCDateTime


class PurchaseSettings(CompanyEntity, Base):
    """Per-company tolerances (percent): receipt over/under the ordered quantity, and the
    3-way match of bills on price and quantity."""

    __tablename__ = "erp_purchase_settings"
    __label__ = "采购设置"
    __table_args__ = (UniqueConstraint("company_id"),)

    receipt_tolerance_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(5))
    price_tolerance_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(5))
    qty_tolerance_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    default_tax_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(13))


class PurchaseApprovalRule(CompanyEntity, Base):
    """Up to `max_amount` (None: no upper limit) a request needs `steps` approvals (0 = automatic).
    Step 1 needs erp.purchase_approve; step 2 a user holding role `final_role` as well."""

    __tablename__ = "erp_purchase_approval_rule"
    __label__ = "采购审批规则"

    max_amount: Mapped[Decimal | None] = mapped_column(Amount)
    steps: Mapped[int] = mapped_column(Integer, default=1)
    final_role: Mapped[str] = mapped_column(String(40), default="admin")


class PurchaseRequest(CompanyEntity, Base):
    __tablename__ = "erp_purchase_request"
    __label__ = "采购申请"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="draft")  # draft pending approved rejected ordered cancelled
    request_date: Mapped[dt.date] = mapped_column(Date)
    needed_by: Mapped[dt.date | None] = mapped_column(Date)
    requester_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    requester: Mapped[str] = mapped_column(String(80), default="")
    supplier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    required_steps: Mapped[int] = mapped_column(Integer, default=0)
    approved_steps: Mapped[int] = mapped_column(Integer, default=0)
    final_role: Mapped[str] = mapped_column(String(40), default="admin")
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list[PurchaseRequestLine]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="PurchaseRequestLine.id", lazy="selectin")
    steps: Mapped[list[PurchaseApprovalStep]] = relationship(
        cascade="all, delete-orphan", order_by="PurchaseApprovalStep.id", lazy="selectin")


class PurchaseRequestLine(CompanyEntity, Base):
    __tablename__ = "erp_purchase_request_line"

    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_request.id", ondelete="CASCADE"),
                                            index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    supplier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))

    request: Mapped[PurchaseRequest] = relationship(back_populates="lines")


class PurchaseApprovalStep(CompanyEntity, Base):
    """One decision on a request: who, when, approve or reject, and why."""

    __tablename__ = "erp_purchase_approval_step"

    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_request.id", ondelete="CASCADE"),
                                            index=True)
    step: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    username: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(String(10))  # approved | rejected
    comment: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PurchaseOrder(CompanyEntity, Base):
    __tablename__ = "erp_purchase_order"
    __label__ = "采购订单"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="draft")  # draft confirmed done cancelled
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    order_date: Mapped[dt.date] = mapped_column(Date)
    expected_date: Mapped[dt.date | None] = mapped_column(Date)
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    currency_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # company currency per unit, order date
    request_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("erp_purchase_request.id"))
    location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id"))
    receipt_tolerance_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(5))
    price_tolerance_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(5))
    qty_tolerance_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    untaxed: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    notes: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="PurchaseOrderLine.id", lazy="selectin")


class PurchaseOrderLine(CompanyEntity, Base):
    __tablename__ = "erp_purchase_order_line"

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount)  # excluding VAT
    tax_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(13))  # percent
    amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # excluding VAT
    qty_received: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    qty_billed: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    value_billed: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # GRNI cleared so far

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")


class GoodsReceipt(CompanyEntity, Base):
    __tablename__ = "erp_goods_receipt"
    __label__ = "采购收货单"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="done")  # done | cancelled
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_order.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    receipt_date: Mapped[dt.date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"))
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # in the order's currency
    currency_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # stock valued at the receipt-date rate
    notes: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list[GoodsReceiptLine]] = relationship(
        cascade="all, delete-orphan", order_by="GoodsReceiptLine.id", lazy="selectin")


class GoodsReceiptLine(CompanyEntity, Base):
    __tablename__ = "erp_goods_receipt_line"

    receipt_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_goods_receipt.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_order_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_cost: Mapped[Decimal] = mapped_column(Amount)
    lot: Mapped[str | None] = mapped_column(String(80))
    move_id: Mapped[int | None] = mapped_column(BigId)


class VendorBill(CompanyEntity, Base):
    __tablename__ = "erp_vendor_bill"
    __label__ = "供应商发票"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    supplier_invoice_no: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(12), default="posted")  # blocked posted paid cancelled
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_order.id"), index=True)
    bill_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    posted_date: Mapped[dt.date | None] = mapped_column(Date)
    untaxed: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    paid_amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")  # amounts above are in this currency
    currency_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # bill-date rate the payable was booked at
    paid_company: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # payable cleared, company currency
    match_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    match_issues: Mapped[str | None] = mapped_column(Text)  # one issue per line, readable
    match_approved_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    match_approved_by: Mapped[str | None] = mapped_column(String(80))
    match_approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    match_approval_comment: Mapped[str | None] = mapped_column(String(500))

    lines: Mapped[list[VendorBillLine]] = relationship(
        cascade="all, delete-orphan", order_by="VendorBillLine.id", lazy="selectin")


class VendorBillLine(CompanyEntity, Base):
    __tablename__ = "erp_vendor_bill_line"

    bill_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_vendor_bill.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_purchase_order_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    tax_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(13))
    amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    grni_value: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # received value this line cleared


class SupplierPayment(CompanyEntity, Base):
    __tablename__ = "erp_supplier_payment"
    __label__ = "付款单"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="posted")  # posted | cancelled
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    payment_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Amount)
    account: Mapped[str] = mapped_column(String(20), default="bank")  # account role or code paid from
    reference: Mapped[str | None] = mapped_column(String(80))
    notes: Mapped[str | None] = mapped_column(Text)
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    currency_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # payment-date rate
    fx_difference: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # realised: + loss, - gain
    reversal_reason: Mapped[str | None] = mapped_column(String(300))

    allocations: Mapped[list[PaymentAllocation]] = relationship(
        cascade="all, delete-orphan", order_by="PaymentAllocation.id", lazy="selectin")


class PaymentAllocation(CompanyEntity, Base):
    __tablename__ = "erp_payment_allocation"

    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_supplier_payment.id", ondelete="CASCADE"),
                                            index=True)
    bill_id: Mapped[int] = mapped_column(BigId, ForeignKey("erp_vendor_bill.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount)
    amount_company: Mapped[Decimal | None] = mapped_column(Amount)  # payable cleared at the bill's rate
