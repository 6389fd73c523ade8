"""The generic template: for channels without a connector of their own (线下, 分销, a website).

File columns (CSV or XLSX, one row per order line; rows of one order next to each other; only
订单号 and 数量 are required, every other column may be left out):

    订单号        the channel's order number (required)
    子订单号      the line's own number, if the channel has one
    店铺          shop name
    买家昵称      buyer account
    收货人        receiver name
    手机          mobile or landline (+86, spaces and dashes are fine)
    收货地址      the whole address on one line — or the parts below
    省 / 市 / 区 / 详细地址
    商品编码      your product code (SKU); unknown codes are kept and the order held until mapped
    商品名称 / 规格
    数量          required, > 0
    单价          unit price (yuan; "¥1,234.50" is fine)
    行实付金额    what the buyer paid for the line (default 单价 × 数量)
    运费 / 优惠 / 订单实付金额   order totals, repeated on every row of the order
    订单状态      待付款 / 已付款 (待发货) / 已发货 / 已签收 / 已关闭 / 已取消
    退款状态      无 / 退款中 / 已退款 / 退款关闭
    下单时间 / 付款时间 / 最晚发货时间   Beijing time, 2026-11-25 10:30:00 or 2026/11/25 10:30
    买家留言 / 卖家备注
    是否预售      是 / 否

API: the seller's own system speaking plain JSON (the same field names in English as
ChannelOrder: channel_order_id, receiver_name, receiver_phone, address …, lines: [{channel_sku,
quantity, unit_price, paid_amount …}]). GET /orders?updated_since=…&page=… returns {"orders": […],
"has_more": bool}; POST /orders/{id}/shipments {"carrier_code", "tracking_number"}. Requests carry
Authorization: Bearer <access_token>, X-Timestamp and X-Signature = hex(hmac_sha256(app_secret,
"<timestamp>\\n<METHOD>\\n<path>\\n<body>")).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

from opensupply.core.i18n import _
from opensupply.oms.channel_order import ChannelOrder, ChannelOrderLine

from .base import Connector, ConnectorError, Cursor, FetchResult, PlatformClient, money, parse_time

GENERIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("订单号", "订单编号"),
    "line_id": ("子订单号", "子订单编号"),
    "shop_name": ("店铺", "店铺名称"),
    "buyer_nick": ("买家昵称", "买家"),
    "receiver_name": ("收货人", "收货人姓名"),
    "receiver_phone": ("手机", "电话", "收货人手机", "联系电话"),
    "address": ("收货地址", "地址"),
    "province": ("省", "省份"),
    "city": ("市", "城市"),
    "district": ("区", "区县"),
    "address_detail": ("详细地址",),
    "sku": ("商品编码", "SKU", "商家编码"),
    "title": ("商品名称", "商品"),
    "spec": ("规格",),
    "quantity": ("数量",),
    "unit_price": ("单价",),
    "line_paid": ("行实付金额",),
    "freight": ("运费",),
    "discount": ("优惠",),
    "paid_amount": ("订单实付金额", "实付金额"),
    "status": ("订单状态", "状态"),
    "line_refund": ("退款状态",),
    "ordered_at": ("下单时间",),
    "paid_at": ("付款时间",),
    "promised_ship_by": ("最晚发货时间",),
    "buyer_message": ("买家留言",),
    "seller_memo": ("卖家备注", "备注"),
    "presale": ("是否预售",),
}

GENERIC_HEADERS = tuple(names[0] for names in GENERIC_COLUMNS.values())

GENERIC_STATUS = {
    "待付款": "unpaid", "未付款": "unpaid", "unpaid": "unpaid",
    "已付款": "paid", "待发货": "paid", "paid": "paid",
    "已发货": "shipped", "shipped": "shipped",
    "已签收": "delivered", "已完成": "delivered", "delivered": "delivered",
    "已关闭": "closed", "closed": "closed",
    "已取消": "cancelled", "cancelled": "cancelled",
}

GENERIC_REFUND = {
    "无": "none", "none": "none",
    "退款中": "requested", "requested": "requested",
    "已退款": "refunded", "退款成功": "refunded", "refunded": "refunded",
    "退款关闭": "closed", "closed": "closed",
}


def generic_signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}\n{method.upper()}\n{path}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class GenericConnector(Connector):
    channel = "generic"
    label = "通用模板"
    COLUMNS = GENERIC_COLUMNS
    HEADERS = GENERIC_HEADERS
    STATUS = GENERIC_STATUS
    REFUND = GENERIC_REFUND
    base_url = "http://localhost"

    def _signed(self, client: PlatformClient, method: str, path: str, body: bytes = b"") -> dict:
        stamp = str(int(client.clock().timestamp()))
        return {"Authorization": f"Bearer {client.access_token}", "X-Timestamp": stamp,
                "X-Signature": generic_signature(client.app_secret, stamp, method, path, body),
                "Content-Type": "application/json"}

    def parse_api_order(self, payload: dict) -> ChannelOrder:
        oid = str(payload.get("channel_order_id") or payload.get("order_id") or "")
        if not oid:
            raise ConnectorError(_("订单数据缺少 channel_order_id"))
        status = payload.get("status") or "paid"
        if status not in ("unpaid", "paid", "shipped", "delivered", "closed", "cancelled"):
            status, _refund = self.map_status(str(status))
        order = ChannelOrder(
            channel=self.channel, channel_order_id=oid, platform_status=payload.get("platform_status"),
            status=status, refund_status=payload.get("refund_status") or "none",
            **{f: payload.get(f) for f in ("buyer_nick", "receiver_name", "receiver_phone", "address", "province",
                                           "city", "district", "address_detail", "buyer_message", "seller_memo",
                                           "shop_name")},
            goods_amount=money(payload.get("goods_amount")), freight=money(payload.get("freight")),
            discount=money(payload.get("discount")), paid_amount=money(payload.get("paid_amount")),
            ordered_at=parse_time(payload.get("ordered_at")), paid_at=parse_time(payload.get("paid_at")),
            promised_ship_by=parse_time(payload.get("promised_ship_by")),
            is_presale=bool(payload.get("is_presale")), raw=payload)
        for item in payload.get("lines") or []:
            quantity = Decimal(str(item.get("quantity") or 0))
            price = money(item.get("unit_price"))
            order.lines.append(ChannelOrderLine(
                quantity=quantity, channel_sku=item.get("channel_sku"), title=item.get("title") or "",
                spec=item.get("spec"), unit_price=price,
                paid_amount=money(item["paid_amount"]) if item.get("paid_amount") is not None else price * quantity,
                channel_line_id=item.get("channel_line_id"), refund_status=item.get("refund_status") or "none",
                is_presale=bool(item.get("is_presale"))))
        if not order.goods_amount:
            order.goods_amount = sum((ln.unit_price * ln.quantity for ln in order.lines), Decimal(0))
        return order

    def fetch_since(self, client: PlatformClient, cursor: str | None) -> FetchResult:
        pos = Cursor.load(cursor, default_since="")
        params = {"updated_since": pos.since, "page": pos.page}
        payload = client.request("GET", "/orders", build=lambda: {
            "params": params, "headers": self._signed(client, "GET", "/orders")}, what=_("拉取订单"))
        orders = [self.parse_api_order(o) for o in payload.get("orders") or []]
        if payload.get("has_more"):
            return FetchResult(orders, Cursor(since=pos.since, page=pos.page + 1).dump(), True)
        latest = payload.get("until") or max((o.raw.get("updated_at", "") for o in orders if o.raw), default="")
        return FetchResult(orders, Cursor(since=latest or pos.since).dump(), False)

    def push_shipment(self, client: PlatformClient, channel_order_id: str, carrier_code: str,
                      tracking_number: str) -> None:
        path = f"/orders/{channel_order_id}/shipments"
        body = json.dumps({"carrier_code": carrier_code, "tracking_number": tracking_number}).encode()
        payload = client.request("POST", path, build=lambda: {
            "content": body, "headers": self._signed(client, "POST", path, body)}, what=_("回传运单号"))
        if payload.get("ok") is False:
            raise ConnectorError(_("回传运单号未成功：订单 {oid} {msg}", oid=channel_order_id,
                                   msg=payload.get("message", "")))
