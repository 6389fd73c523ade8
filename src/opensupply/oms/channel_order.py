"""The common shape every channel connector produces and intake consumes.

A connector turns a platform's export rows or API JSON into `ChannelOrder`s (one per platform
order number, lines grouped). Values are as the platform gave them, only typed: normalization
(phone, address split, product matching) is intake's job, so the raw values can be stored as
received. Structural problems (no order number, unreadable quantity or amount) are reported as
`RowError`s with the file line (header = line 1) and never stop the rest of the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class ChannelOrderLine:
    quantity: Decimal
    channel_sku: str | None = None  # 商家编码 / 外部编码 / 平台 SKU id
    title: str = ""
    spec: str | None = None  # 颜色分类 / 销售属性
    unit_price: Decimal = Decimal(0)
    paid_amount: Decimal = Decimal(0)
    channel_line_id: str | None = None  # 子订单编号 / oid / sku line id
    refund_status: str = "none"  # none | requested | refunded | closed
    is_presale: bool = False
    source_line: int | None = None  # file line this came from


@dataclass
class ChannelOrder:
    channel: str  # taobao | tmall | jd | pdd | miniapp | generic
    channel_order_id: str
    lines: list[ChannelOrderLine] = field(default_factory=list)
    platform_status: str | None = None  # the platform's words (e.g. 买家已付款，等待卖家发货)
    status: str = "paid"  # the platform status mapped: unpaid | paid | shipped | delivered | closed | cancelled
    refund_status: str = "none"
    buyer_nick: str | None = None
    receiver_name: str | None = None
    receiver_phone: str | None = None
    address: str | None = None  # one line as exported
    province: str | None = None  # when the platform gives the parts separately
    city: str | None = None
    district: str | None = None
    address_detail: str | None = None
    goods_amount: Decimal = Decimal(0)
    freight: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)
    paid_amount: Decimal = Decimal(0)  # 实付款 of the whole order
    ordered_at: dt.datetime | None = None  # timezone-aware (platform times are Asia/Shanghai)
    paid_at: dt.datetime | None = None
    promised_ship_by: dt.datetime | None = None
    buyer_message: str | None = None
    seller_memo: str | None = None
    is_presale: bool = False
    shop_name: str | None = None  # when the export carries it (店铺名称)
    source_lines: list[int] = field(default_factory=list)  # file lines (header = 1)
    raw: dict | None = None  # the API payload, for the record


@dataclass
class RowError:
    line: int  # file line, header = 1
    reason: str  # Chinese, says what is wrong and with which column


@dataclass
class ParseResult:
    orders: list[ChannelOrder]
    errors: list[RowError]
    encoding: str | None = None
    rows: int = 0  # data rows read
