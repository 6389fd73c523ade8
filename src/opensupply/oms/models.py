"""OMS tables. Tables only; behaviour lives in the services.

* `oms_shop` — a store on a channel (淘宝 旗舰店, 京东 自营 …) with its intake settings.
* `oms_order` / `oms_order_line` — a channel order exactly as the platform knows it (one per
  shop + platform order number), plus what intake derived (normalized phone, split address,
  matched products) and the OMS status.
* `oms_hold` — why an order may not go on (address, price, buyer message, unmatched product …).
* `oms_fulfilment` / `oms_fulfilment_line` — what one warehouse ships in one parcel run: lines of
  one or several (merged) orders. Every confirmed ERP sales order, channel or not, ends up here;
  stock is reserved through the ERP sales order lines the fulfilment lines point to.
* `oms_order_event` — the order's timeline (status changes, holds, merges, tracking events).
* `oms_return` / `oms_return_line` — 售后: goods coming back, restocked or scrapped, refunded.
* `oms_settlement` / `oms_settlement_line` — an imported platform bill and how each line matched.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity, Entity
from opensupply.core.types import Amount, Qty, UTCDateTime

CHANNELS = ("taobao", "tmall", "jd", "pdd", "miniapp", "generic")

# OMS status of a channel order (the platform's own status is kept in platform_status)
ORDER_STATUSES = ("pending", "approved", "allocated", "picking", "shipped", "delivered", "cancelled")
# pending 待审核 → approved 已审核 → allocated 已分配 → picking 拣货中 → shipped 已发货 → delivered 已签收;
# cancelled 已取消. `merged_into_id` marks an order whose lines ship with another order's fulfilment.
HOLD_KINDS = ("unmatched_product", "address", "price", "buyer_message", "refund", "manual", "risk")
FULFILMENT_STATUSES = ("allocated", "picking", "packed", "shipped", "delivered", "cancelled")
# allocated = reserved and waiting for the warehouse (WMS builds waves from these)
REFUND_STATUSES = ("none", "requested", "refunded", "closed")
RETURN_STATUSES = ("requested", "received", "done", "cancelled")
SETTLEMENT_MATCH = ("matched", "amount_diff", "unknown_order", "paid_not_shipped", "shipped_not_paid", "fee", "refund")


class OmsShop(CompanyEntity, Base):
    """A store on a sales channel. `customer_id` is the partner the ERP sales orders of this
    shop's channel orders are made out to (the platform's consumers are not partners)."""

    __tablename__ = "oms_shop"
    __label__ = "店铺"
    __table_args__ = (UniqueConstraint("company_id", "code"),
                      CheckConstraint("channel in ('taobao','tmall','jd','pdd','miniapp','generic')", name="channel"))

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(12))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))
    default_warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"))
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)  # orders without holds skip 待审核
    merge_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    price_includes_tax: Mapped[bool] = mapped_column(Boolean, default=True)
    tax_rate: Mapped[Decimal] = mapped_column(Qty, default=Decimal("0.13"))
    # platform API (pull + push-back) and webhook signing
    api_base_url: Mapped[str | None] = mapped_column(String(300))
    app_key: Mapped[str | None] = mapped_column(String(120))
    app_secret: Mapped[str | None] = mapped_column(String(200))  # also the webhook signing secret
    access_token: Mapped[str | None] = mapped_column(String(300))
    fetch_cursor: Mapped[str | None] = mapped_column(String(120))  # where the last pull stopped
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    settings: Mapped[dict | None] = mapped_column(JSON)  # merge/allocation rule options
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OmsSkuMapping(CompanyEntity, Base):
    """A platform's item code (商家编码 / 平台SKU) → our product, remembered per shop."""

    __tablename__ = "oms_sku_mapping"
    __label__ = "商品编码映射"
    __table_args__ = (UniqueConstraint("shop_id", "channel_sku"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_shop.id"), index=True)
    channel_sku: Mapped[str] = mapped_column(String(120))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # units of product per platform unit


class OmsOrder(CompanyEntity, Base):
    __tablename__ = "oms_order"
    __label__ = "渠道订单"
    __table_args__ = (
        UniqueConstraint("shop_id", "channel_order_id"),
        UniqueConstraint("company_id", "number"),
        Index("ix_oms_order_status", "company_id", "status", "paid_at"),
        Index("ix_oms_order_merge_key", "company_id", "shop_id", "merge_key"),
        Index("ix_oms_order_province", "company_id", "province"),
        CheckConstraint("status in ('pending','approved','allocated','picking','shipped','delivered','cancelled')",
                        name="status"),
    )

    number: Mapped[str] = mapped_column(String(40))  # our number (OMS sequence)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_shop.id"))
    channel: Mapped[str] = mapped_column(String(12))
    channel_order_id: Mapped[str] = mapped_column(String(80))  # 订单编号 on the platform
    platform_status: Mapped[str | None] = mapped_column(String(40))  # as the platform says it
    status: Mapped[str] = mapped_column(String(12), default="pending")
    refund_status: Mapped[str] = mapped_column(String(12), default="none")
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)  # any active oms_hold
    # buyer & receiver: stored as received (sensitive: masked on screens without oms.buyer_data)
    buyer_nick: Mapped[str | None] = mapped_column(String(120))
    receiver_name: Mapped[str | None] = mapped_column(String(120))
    receiver_phone: Mapped[str | None] = mapped_column(String(60))  # as received
    phone: Mapped[str | None] = mapped_column(String(20))  # normalized: 11-digit mobile, or None when masked/bad
    address: Mapped[str | None] = mapped_column(String(400))  # as received
    province: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    address_detail: Mapped[str | None] = mapped_column(String(300))
    address_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    merge_key: Mapped[str | None] = mapped_column(String(64))  # hash of buyer + normalized address
    # money (CNY, tax included as platforms show it)
    goods_amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    freight: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    discount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    paid_amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # 实付款
    ordered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    promised_ship_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    buyer_message: Mapped[str | None] = mapped_column(String(500))
    seller_memo: Mapped[str | None] = mapped_column(String(500))
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first (VIP, promised date)
    is_presale: Mapped[bool] = mapped_column(Boolean, default=False)
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"))
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_order.id"))
    content_hash: Mapped[str | None] = mapped_column(String(64))  # of the normalized order: re-import unchanged?
    source: Mapped[str | None] = mapped_column(String(20))  # file | api | webhook | manual
    import_batch: Mapped[str | None] = mapped_column(String(64))
    manual_edits: Mapped[int] = mapped_column(Integer, default=0)  # advisor evidence
    cancel_reason: Mapped[str | None] = mapped_column(String(300))

    lines: Mapped[list[OmsOrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                     order_by="OmsOrderLine.line_no", lazy="selectin")


class OmsOrderLine(Entity, Base):
    __tablename__ = "oms_order_line"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),
                      CheckConstraint("quantity > 0", name="positive_qty"))

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_order.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    channel_line_id: Mapped[str | None] = mapped_column(String(80))  # 子订单编号 / oid
    channel_sku: Mapped[str | None] = mapped_column(String(120))  # 商家编码 / 平台SKU
    title: Mapped[str] = mapped_column(String(300), default="")
    spec: Mapped[str | None] = mapped_column(String(200))  # 颜色分类 / 销售属性
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product.id"))  # None = 商品未匹配
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_price: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    paid_amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    refund_status: Mapped[str] = mapped_column(String(12), default="none")
    is_presale: Mapped[bool] = mapped_column(Boolean, default=False)

    order: Mapped[OmsOrder] = relationship(back_populates="lines")


class OmsHold(CompanyEntity, Base):
    __tablename__ = "oms_hold"
    __label__ = "订单挂起"
    __table_args__ = (Index("ix_oms_hold_order", "order_id", "released_at"),)

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_order.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # HOLD_KINDS
    note: Mapped[str | None] = mapped_column(String(300))
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(BigId)


class OmsFulfilment(CompanyEntity, Base):
    __tablename__ = "oms_fulfilment"
    __label__ = "发货单"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        Index("ix_oms_fulfilment_status", "company_id", "warehouse_id", "status"),
        CheckConstraint("status in ('allocated','picking','packed','shipped','delivered','cancelled')",
                        name="status"),
    )

    number: Mapped[str] = mapped_column(String(40))
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    shop_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_shop.id"))  # None: an ERP-entered order
    status: Mapped[str] = mapped_column(String(12), default="allocated")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    order_type: Mapped[str] = mapped_column(String(12), default="normal")  # normal | presale | b2b | resend
    carrier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))  # partner with is_carrier
    tracking_number: Mapped[str | None] = mapped_column(String(80))
    ship_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # cut-off / promised date
    receiver_name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    province: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    address_detail: Mapped[str | None] = mapped_column(String(300))
    weight_kg: Mapped[Decimal | None] = mapped_column(Qty)
    intercepted: Mapped[bool] = mapped_column(Boolean, default=False)  # cancelled/refunded after picking started
    intercept_reason: Mapped[str | None] = mapped_column(String(300))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pushed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # tracking number written back to the platform
    cancel_reason: Mapped[str | None] = mapped_column(String(300))

    lines: Mapped[list[OmsFulfilmentLine]] = relationship(back_populates="fulfilment", cascade="all, delete-orphan",
                                                          order_by="OmsFulfilmentLine.id", lazy="selectin")


class OmsFulfilmentLine(Entity, Base):
    """`quantity` of one order line shipped by this fulfilment. Invariant (enforced by the
    service under row locks): Σ quantity of a channel order line over fulfilments that are not
    cancelled ≤ the line's quantity — a line is never shipped twice."""

    __tablename__ = "oms_fulfilment_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="positive_qty"),
                      Index("ix_oms_fulfilment_line_order_line", "order_line_id"))

    fulfilment_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_fulfilment.id", ondelete="CASCADE"),
                                               index=True)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_order.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_order_line.id"))
    sales_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_order.id"), index=True)
    sales_order_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_order_line.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    qty_reserved: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))  # < quantity = backorder
    qty_shipped: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))

    fulfilment: Mapped[OmsFulfilment] = relationship(back_populates="lines")


class OmsOrderEvent(CompanyEntity, Base):
    """The timeline shown on an order and its fulfilments (OMS transitions, WMS and TMS events)."""

    __tablename__ = "oms_order_event"
    __audit__ = False  # the writes it describes are audited themselves
    __table_args__ = (Index("ix_oms_order_event_order", "order_id", "id"),
                      Index("ix_oms_order_event_fulfilment", "fulfilment_id", "id"))

    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_order.id", ondelete="CASCADE"))
    fulfilment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_fulfilment.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # created, updated, approved, held, merged, shipped, tracking …
    message: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OmsReturn(CompanyEntity, Base):
    __tablename__ = "oms_return"
    __label__ = "售后退货单"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_order.id"), index=True)
    fulfilment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_fulfilment.id"))
    status: Mapped[str] = mapped_column(String(12), default="requested")
    reason: Mapped[str | None] = mapped_column(String(300))
    refund_amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    tracking_number: Mapped[str | None] = mapped_column(String(80))  # buyer's return parcel
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[OmsReturnLine]] = relationship(back_populates="ret", cascade="all, delete-orphan",
                                                      order_by="OmsReturnLine.id", lazy="selectin")


class OmsReturnLine(Entity, Base):
    __tablename__ = "oms_return_line"

    return_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_return.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_order_line.id"))
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    disposition: Mapped[str | None] = mapped_column(String(10))  # restock | scrap (decided on receipt)
    move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"))

    ret: Mapped[OmsReturn] = relationship(back_populates="lines")


class OmsSettlement(CompanyEntity, Base):
    """One imported platform bill (支付宝账务明细, 京东结算单 …)."""

    __tablename__ = "oms_settlement"
    __label__ = "平台结算单"
    __table_args__ = (UniqueConstraint("company_id", "number"), UniqueConstraint("shop_id", "file_hash"))

    number: Mapped[str] = mapped_column(String(40))
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_shop.id"))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_hash: Mapped[str] = mapped_column(String(64))  # the same file twice is one settlement
    period_from: Mapped[dt.date | None] = mapped_column()
    period_to: Mapped[dt.date | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(10), default="draft")  # draft | posted
    total_income: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    total_fees: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    total_refunds: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    journal_entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entry.id"))
    receipt_id: Mapped[int | None] = mapped_column(BigId)  # ERP customer receipt posted for the income

    lines: Mapped[list[OmsSettlementLine]] = relationship(back_populates="settlement", cascade="all, delete-orphan",
                                                          order_by="OmsSettlementLine.line_no", lazy="selectin")


class OmsSettlementLine(Entity, Base):
    __tablename__ = "oms_settlement_line"
    __table_args__ = (Index("ix_oms_settlement_line_order", "order_id"),)

    settlement_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_settlement.id", ondelete="CASCADE"),
                                               index=True)
    line_no: Mapped[int] = mapped_column(Integer)  # line in the file (header = 1)
    channel_order_id: Mapped[str | None] = mapped_column(String(80))
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_order.id"))
    kind: Mapped[str] = mapped_column(String(12))  # income | fee | refund | other
    description: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Amount)  # + money to us, − money out
    occurred_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    match: Mapped[str | None] = mapped_column(String(20))  # SETTLEMENT_MATCH
    expected_amount: Mapped[Decimal | None] = mapped_column(Amount)
    note: Mapped[str | None] = mapped_column(Text)

    settlement: Mapped[OmsSettlement] = relationship(back_populates="lines")
