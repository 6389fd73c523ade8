"""Order-to-cash tables: quotes, sales orders, deliveries (with backorders), customer invoices
and credit notes, customer receipts with their allocations, collection reminders.
Tables only; behaviour lives in service.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity, Entity
from opensupply.core.types import Amount, Qty, UTCDateTime
from opensupply.masterdata.models import Partner, Product

QUOTE_STATES = ("draft", "sent", "ordered", "cancelled")
ORDER_STATES = ("draft", "confirmed", "done", "cancelled")
DELIVERY_STATES = ("waiting", "done", "cancelled")
INVOICE_STATES = ("posted", "paid", "cancelled")
INVOICE_KINDS = ("invoice", "credit_note")
INVOICE_TYPES = ("special", "normal")  # 增值税专用发票 / 增值税普通发票
RECEIPT_STATES = ("posted", "cancelled")


class _Amounts:
    """Net (不含税), tax (税额) and gross (价税合计) of a document: the sums of its lines."""

    amount_untaxed: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    amount_tax: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    amount_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))


class _PricedLine:
    """A priced line: quantity × unit price less discount, with VAT, rounded to the cent."""

    sequence: Mapped[int] = mapped_column(Integer, default=10)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    discount_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    tax_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal("0.13"))  # 0.13 / 0.09 / 0.06 / 0
    amount_untaxed: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    amount_tax: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    amount_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))


class SalesQuote(_Amounts, CompanyEntity, Base):
    """销售报价单: prices offered to a customer; accepted, it becomes a sales order."""

    __tablename__ = "sales_quote"
    __label__ = "销售报价"
    __table_args__ = (UniqueConstraint("company_id", "number"),
                      CheckConstraint("state in ('draft','sent','ordered','cancelled')", name="state"),
                      Index("ix_sales_quote_customer", "company_id", "customer_id"))

    number: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    state: Mapped[str] = mapped_column(String(10), default="draft")
    quote_date: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20), default="direct")
    price_includes_tax: Mapped[bool] = mapped_column(Boolean, default=False)
    salesperson_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employee.id"))
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    notes: Mapped[str | None] = mapped_column(Text)
    source_ref: Mapped[str | None] = mapped_column(String(80))  # e.g. the CRM opportunity
    sales_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_order.id", use_alter=True))

    customer: Mapped[Partner] = relationship(lazy="joined")
    lines: Mapped[list[SalesQuoteLine]] = relationship(back_populates="quote", cascade="all, delete-orphan",
                                                       order_by="SalesQuoteLine.sequence, SalesQuoteLine.id",
                                                       lazy="selectin")


class SalesQuoteLine(_PricedLine, Entity, Base):
    __tablename__ = "sales_quote_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="positive_qty"),)

    quote_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_quote.id", ondelete="CASCADE"), index=True)

    quote: Mapped[SalesQuote] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship(lazy="joined")


class SalesOrder(_Amounts, CompanyEntity, Base):
    """销售订单. Confirmed orders are immutable: they reserve stock, are delivered (partly, with
    a backorder for the rest), invoiced from what was delivered, and cancelled only while unshipped."""

    __tablename__ = "sales_order"
    __label__ = "销售订单"
    __table_args__ = (UniqueConstraint("company_id", "number"),
                      CheckConstraint("state in ('draft','confirmed','done','cancelled')", name="state"),
                      Index("ix_sales_order_customer", "company_id", "customer_id"),
                      Index("ix_sales_order_state_date", "company_id", "state", "order_date"),
                      Index("ix_sales_order_source", "company_id", "channel", "source_ref"))

    number: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    state: Mapped[str] = mapped_column(String(10), default="draft")
    order_date: Mapped[dt.date] = mapped_column(Date)
    requested_date: Mapped[dt.date | None] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20), default="direct")
    source_ref: Mapped[str | None] = mapped_column(String(80))  # the platform's order number, a CRM deal …
    created_by_module: Mapped[str] = mapped_column(String(20), default="erp")
    salesperson_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employee.id"))
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"))
    price_includes_tax: Mapped[bool] = mapped_column(Boolean, default=False)
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    currency_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # company currency per unit, order date
    quote_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_quote.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # credit control: who let an order over the customer's credit limit through, and why
    credit_override_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    credit_override_reason: Mapped[str | None] = mapped_column(String(300))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))

    customer: Mapped[Partner] = relationship(lazy="joined")
    lines: Mapped[list[SalesOrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                       order_by="SalesOrderLine.sequence, SalesOrderLine.id",
                                                       lazy="selectin")


class SalesOrderLine(_PricedLine, Entity, Base):
    __tablename__ = "sales_order_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="positive_qty"),)

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order.id", ondelete="CASCADE"), index=True)
    qty_delivered: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    qty_invoiced: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))

    order: Mapped[SalesOrder] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship(lazy="joined")


class SalesDelivery(CompanyEntity, Base):
    """销售发货单. An order's open delivery waits (state waiting); shipping part of it makes it
    done with what left and opens a backorder (another waiting delivery) for the rest."""

    __tablename__ = "sales_delivery"
    __label__ = "销售发货"
    __table_args__ = (UniqueConstraint("company_id", "number"),
                      CheckConstraint("state in ('waiting','done','cancelled')", name="state"),
                      Index("ix_sales_delivery_order", "company_id", "order_id"))

    number: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    state: Mapped[str] = mapped_column(String(10), default="waiting")
    scheduled_date: Mapped[dt.date | None] = mapped_column(Date)
    date_done: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    backorder_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_delivery.id"))
    cost_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # stock value that left
    notes: Mapped[str | None] = mapped_column(String(300))

    customer: Mapped[Partner] = relationship(lazy="joined")
    order: Mapped[SalesOrder] = relationship(lazy="joined")
    lines: Mapped[list[SalesDeliveryLine]] = relationship(back_populates="delivery", cascade="all, delete-orphan",
                                                          order_by="SalesDeliveryLine.id", lazy="selectin")


class SalesDeliveryLine(Entity, Base):
    __tablename__ = "sales_delivery_line"
    __table_args__ = (CheckConstraint("quantity >= 0", name="non_negative_qty"),)

    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_delivery.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)  # to ship (waiting) or shipped (done)
    cost_value: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))

    delivery: Mapped[SalesDelivery] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship(lazy="joined")


class CustomerInvoice(_Amounts, CompanyEntity, Base):
    """销售发票 (and 红字发票, kind credit_note). Numbers are gap-free. Posted invoices are never
    edited or deleted: a credit note cancels one."""

    __tablename__ = "customer_invoice"
    __label__ = "销售发票"
    __table_args__ = (UniqueConstraint("company_id", "number"),
                      CheckConstraint("state in ('posted','paid','cancelled')", name="state"),
                      CheckConstraint("kind in ('invoice','credit_note')", name="kind"),
                      CheckConstraint("invoice_type in ('special','normal')", name="invoice_type"),
                      Index("ix_customer_invoice_customer", "company_id", "customer_id", "state"),
                      Index("ix_customer_invoice_order", "company_id", "order_id"))

    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12), default="invoice")
    invoice_type: Mapped[str] = mapped_column(String(10), default="normal")
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_order.id"))
    state: Mapped[str] = mapped_column(String(10), default="posted")
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    buyer_tax_id: Mapped[str | None] = mapped_column(String(40))  # 购买方纳税人识别号 (required for 专票)
    buyer_address_phone: Mapped[str | None] = mapped_column(String(300))
    buyer_bank_account: Mapped[str | None] = mapped_column(String(120))
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    amount_paid: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # receipts and credit applied
    currency_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # invoice-date rate of the receivable
    paid_company: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # receivable cleared, company currency
    reversed_invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer_invoice.id"))
    credit_note_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer_invoice.id"))
    reason: Mapped[str | None] = mapped_column(String(300))

    customer: Mapped[Partner] = relationship(lazy="joined")
    lines: Mapped[list[CustomerInvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="CustomerInvoiceLine.id", lazy="selectin")


class CustomerInvoiceLine(Entity, Base):
    __tablename__ = "customer_invoice_line"

    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer_invoice.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_order_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    description: Mapped[str] = mapped_column(String(300), default="")
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    discount_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    tax_rate: Mapped[Decimal] = mapped_column(Qty)
    amount_untaxed: Mapped[Decimal] = mapped_column(Amount)
    amount_tax: Mapped[Decimal] = mapped_column(Amount)
    amount_total: Mapped[Decimal] = mapped_column(Amount)

    invoice: Mapped[CustomerInvoice] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship(lazy="joined")


class CustomerReceipt(CompanyEntity, Base):
    """收款单: money in from a customer, allocated to invoices; the rest stays as the customer's
    credit on 2203 预收账款 until applied to later invoices."""

    __tablename__ = "customer_receipt"
    __label__ = "收款"
    __table_args__ = (UniqueConstraint("company_id", "number"),
                      CheckConstraint("amount > 0", name="positive_amount"),
                      CheckConstraint("state in ('posted','cancelled')", name="state"),
                      Index("ix_customer_receipt_customer", "company_id", "customer_id"))

    number: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    state: Mapped[str] = mapped_column(String(10), default="posted")
    receipt_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Amount)
    amount_allocated: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    account: Mapped[str] = mapped_column(String(20), default="bank")  # bank | cash | platform_cash
    method: Mapped[str | None] = mapped_column(String(40))  # 银行转账 / 支付宝 / 承兑汇票 …
    reference: Mapped[str | None] = mapped_column(String(80))  # bank slip / transaction number
    notes: Mapped[str | None] = mapped_column(String(300))
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    currency_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # receipt-date rate
    fx_difference: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # realised: + loss, - gain
    reversal_reason: Mapped[str | None] = mapped_column(String(300))

    customer: Mapped[Partner] = relationship(lazy="joined")


class ReceiptAllocation(CompanyEntity, Base):
    """Part of a receipt — or of the customer's credit (receipt_id empty) — settling an invoice."""

    __tablename__ = "sales_receipt_allocation"
    __label__ = "收款核销"
    __table_args__ = (CheckConstraint("amount > 0", name="positive_amount"),
                      Index("ix_sales_receipt_allocation_invoice", "company_id", "invoice_id"))

    receipt_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer_receipt.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer_invoice.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    amount: Mapped[Decimal] = mapped_column(Amount)
    amount_company: Mapped[Decimal | None] = mapped_column(Amount)  # receivable cleared at the invoice's rate
    allocation_date: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(10), default="receipt")  # receipt | credit
    journal_entry_id: Mapped[int | None] = mapped_column(BigInteger)


class CollectionReminder(CompanyEntity, Base):
    """催款记录: a reminder sent to a customer about overdue invoices."""

    __tablename__ = "sales_collection_reminder"
    __label__ = "催款记录"
    __table_args__ = (Index("ix_sales_collection_reminder_customer", "company_id", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    reminder_date: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20), default="phone")  # phone | email | visit | letter | wechat
    note: Mapped[str] = mapped_column(String(500), default="")
    promised_date: Mapped[dt.date | None] = mapped_column(Date)  # 客户承诺付款日
    invoice_ids: Mapped[str] = mapped_column(String(500), default="")  # comma-separated ids it was about
    overdue_amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
