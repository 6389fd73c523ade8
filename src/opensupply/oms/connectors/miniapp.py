"""The seller's own 微信小程序 shop, run on 有赞 (the most common SaaS behind such shops).

Export: 有赞 后台 → 订单 → 订单查询 → 导出 "订单商品明细" (one row per goods of an order): 订单号,
订单状态, 订单创建时间, 买家付款时间, 商品名称, 商品规格, 商品编码, 规格编码, 商品单价, 商品数量,
商品实际成交金额, 运费, 订单实付金额, 收货人/提货人, 收货人手机号/提货人手机号, 收货人省份, 收货人城市,
收货人地区, 详细收货地址/提货地址, 买家备注, 商家订单备注, 买家昵称, 商品退款状态, 商品已退款金额,
归属店铺. 规格编码 (the SKU's code) is preferred over 商品编码 (the goods' code).

API (有赞云, https://open.youzanyun.com): every call is POST /api/<api>/<version>?access_token=…
with a JSON body (OAuth token; no per-request signature). Pull: youzan.trades.sold.get 4.0.0
(start_update/end_update, page_no, page_size ≤ 100) → data.full_order_info_list[].full_order_info with
order_info, buyer_info, address_info, remark_info, pay_info, orders[]. Push-back:
youzan.logistics.online.confirm 3.0.0 (tid, out_stype = 有赞 carrier id, out_sid). Errors are
{"success": false, "code": …, "message": …}; HTTP 429 and 频率/限流 messages are retried.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from opensupply.core.i18n import _
from opensupply.oms.channel_order import ChannelOrder, ChannelOrderLine

from .base import SHANGHAI, Connector, ConnectorError, Cursor, FetchResult, PlatformClient, money, parse_time

MINIAPP_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("订单号",),
    "status": ("订单状态",),
    "ordered_at": ("订单创建时间",),
    "paid_at": ("买家付款时间",),
    "title": ("商品名称",),
    "spec": ("商品规格",),
    "sku_fallback": ("商品编码",),
    "sku": ("规格编码",),
    "unit_price": ("商品单价",),
    "quantity": ("商品数量",),
    "line_paid": ("商品实际成交金额",),
    "freight": ("运费",),
    "paid_amount": ("订单实付金额",),
    "receiver_name": ("收货人/提货人", "收货人"),
    "receiver_phone": ("收货人手机号/提货人手机号", "收货人手机号"),
    "province": ("收货人省份",),
    "city": ("收货人城市",),
    "district": ("收货人地区",),
    "address_detail": ("详细收货地址/提货地址", "详细收货地址"),
    "buyer_message": ("买家备注",),
    "seller_memo": ("商家订单备注",),
    "buyer_nick": ("买家昵称",),
    "line_refund": ("商品退款状态",),
    "refunded_amount": ("商品已退款金额",),
    "shop_name": ("归属店铺",),
}

MINIAPP_HEADERS = tuple(names[0] for names in MINIAPP_COLUMNS.values())

MINIAPP_STATUS = {
    "待付款": "unpaid",
    "WAIT_BUYER_PAY": "unpaid",
    "待发货": "paid",
    "待成团": "paid",
    "WAIT_SELLER_SEND_GOODS": "paid",
    "TRADE_PAID": "paid",
    "已发货": "shipped",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "交易完成": "delivered",
    "交易成功": "delivered",
    "TRADE_SUCCESS": "delivered",
    "交易关闭": "closed",
    "TRADE_CLOSED": "closed",
}

MINIAPP_REFUND = {
    "无退款": "none",
    "退款中": "requested",
    "买家已申请退款": "requested",
    "退款成功": "refunded",
    "退款完成": "refunded",
    "退款关闭": "closed",
}


def _youzan_rate_limited(payload: dict) -> str | None:
    if isinstance(payload, dict) and payload.get("success") is False:
        message = str(payload.get("message") or payload.get("gw_err_resp", {}).get("err_msg") or "")
        if "频率" in message or "限流" in message or str(payload.get("code")) in ("4003", "429"):
            return _("限流：{msg}", msg=message)
    return None


class MiniappConnector(Connector):
    channel = "miniapp"
    label = "小程序商城"
    COLUMNS = MINIAPP_COLUMNS
    HEADERS = MINIAPP_HEADERS
    STATUS = MINIAPP_STATUS
    REFUND = MINIAPP_REFUND
    base_url = "https://open.youzanyun.com"
    PAGE_SIZE = 100

    def sample_extras(self, order, line, rnd) -> dict[str, str]:
        return {"商品编码": (line.channel_sku or "").split("-")[0], "商品已退款金额": "0.00"}

    def call(self, client: PlatformClient, api: str, version: str, body: dict, what: str) -> dict:
        payload = client.request(
            "POST", f"/api/{api}/{version}",
            build=lambda: {"params": {"access_token": client.access_token}, "json": body},
            retry_if=_youzan_rate_limited, what=what)
        if payload.get("success") is False:
            raise ConnectorError(_("有赞 {what} 失败：{code} {msg}", what=what, code=payload.get("code", ""),
                                   msg=payload.get("message", "")), code=str(payload.get("code", "")))
        return payload

    def parse_api_order(self, payload: dict) -> ChannelOrder:
        """A full_order_info of youzan.trades.sold.get / youzan.trade.get."""
        full = payload.get("full_order_info", payload)
        info = full.get("order_info") or {}
        tid = str(info.get("tid") or "")
        if not tid:
            raise ConnectorError(_("有赞订单数据缺少 tid"))
        buyer = full.get("buyer_info") or {}
        address = full.get("address_info") or {}
        remark = full.get("remark_info") or {}
        pay = full.get("pay_info") or {}
        status, _refund = self.map_status(str(info.get("status") or ""))
        order = ChannelOrder(
            channel=self.channel, channel_order_id=tid, platform_status=info.get("status_str") or info.get("status"),
            status=status, buyer_nick=buyer.get("fans_nickname"), receiver_name=address.get("receiver_name"),
            receiver_phone=address.get("receiver_tel"), province=address.get("delivery_province"),
            city=address.get("delivery_city"), district=address.get("delivery_district"),
            address_detail=address.get("delivery_address"), freight=money(pay.get("post_fee")),
            goods_amount=money(pay.get("total_fee")), paid_amount=money(pay.get("payment")),
            ordered_at=parse_time(info.get("created")), paid_at=parse_time(info.get("pay_time")),
            buyer_message=remark.get("buyer_message") or None, seller_memo=remark.get("trade_memo") or None, raw=full)
        refunds = set()
        for item in full.get("orders") or []:
            quantity = Decimal(str(item.get("num") or 0))
            refund = self.map_refund(str(item.get("refund_status_str") or ""))
            refunds.add(refund)
            order.lines.append(ChannelOrderLine(
                quantity=quantity, channel_sku=item.get("outer_sku_id") or item.get("outer_item_id") or None,
                title=item.get("title") or "", spec=item.get("sku_properties_name") or None,
                unit_price=money(item.get("price")), paid_amount=money(item.get("payment")),
                channel_line_id=str(item["oid"]) if item.get("oid") else None, refund_status=refund))
        order.refund_status = "requested" if "requested" in refunds else (
            "refunded" if refunds == {"refunded"} else "none")
        return order

    def fetch_since(self, client: PlatformClient, cursor: str | None) -> FetchResult:
        now = client.clock().astimezone(SHANGHAI).replace(microsecond=0)
        fmt = "%Y-%m-%d %H:%M:%S"
        pos = Cursor.load(cursor, default_since=(now - dt.timedelta(days=1)).strftime(fmt))
        until = pos.until or now.strftime(fmt)
        payload = self.call(client, "youzan.trades.sold.get", "4.0.0", {
            "start_update": pos.since, "end_update": until, "page_no": pos.page, "page_size": self.PAGE_SIZE},
            what=_("拉取订单"))
        data = payload.get("data") or {}
        orders = [self.parse_api_order(o) for o in data.get("full_order_info_list") or []]
        total = int(data.get("total_results") or 0)
        if pos.page * self.PAGE_SIZE < total:
            return FetchResult(orders, Cursor(since=pos.since, page=pos.page + 1, until=until).dump(), True)
        return FetchResult(orders, Cursor(since=until).dump(), False)

    def push_shipment(self, client: PlatformClient, channel_order_id: str, carrier_code: str,
                      tracking_number: str) -> None:
        payload = self.call(client, "youzan.logistics.online.confirm", "3.0.0", {
            "tid": channel_order_id, "out_stype": carrier_code, "out_sid": tracking_number, "is_no_express": 0},
            what=_("回传运单号"))
        data = payload.get("data")
        if isinstance(data, dict) and data.get("is_success") is False:
            raise ConnectorError(_("有赞 回传运单号未成功：订单 {tid}", tid=channel_order_id))
