"""淘宝 and 天猫 (same seller backend, 千牛/卖家中心): order export and the TOP API.

Export: 千牛 卖家中心 → 已卖出的宝贝 → 批量导出, the order report merged with its 宝贝 (sub-order)
report, one row per 子订单. Order-level columns (买家应付邮费, 买家实际支付金额, 收货人姓名 …) repeat on
every row of the order; 价格/购买数量/实付款/退款状态 belong to the row's 子订单. Older exports call some
columns differently (商品标题/标题 for 宝贝标题, 订单备注 for 卖家备注, 外部系统编号 for 商家编码,
收货人手机 for 联系手机, 买家实付金额 for 买家实际支付金额); those names are accepted too. 淘宝 writes
order numbers as ="2841234567890123" and phones as '13800138000 so Excel keeps them as text.

API (TOP, https://eco.taobao.com/router/rest): every call carries method, app_key, session,
timestamp, format=json, v=2.0, sign_method and sign = upper(md5(secret + k1v1k2v2… + secret)) over
the sorted parameters (sign_method=md5) or upper(hmac_md5(secret, k1v1…)) (sign_method=hmac).
Pull: taobao.trades.sold.increment.get (start_modified/end_modified windows of at most one day,
page_no, page_size ≤ 100, use_has_next). Push-back: taobao.logistics.offline.send (tid, out_sid,
company_code). Rate limits come back as error_response code 7 (App Call Limited) or an
isp.*-limit sub_code and are retried with backoff; other error_responses raise ConnectorError.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal
from typing import Any, ClassVar

from opensupply.core.i18n import _
from opensupply.oms.channel_order import ChannelOrder, ChannelOrderLine

from .base import (
    SHANGHAI,
    Connector,
    ConnectorError,
    Cursor,
    FetchResult,
    PlatformClient,
    concat_sorted,
    money,
    parse_time,
)

TAOBAO_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("订单编号", "主订单编号", "订单号"),
    "line_id": ("子订单编号",),
    "buyer_nick": ("买家会员名", "买家昵称"),
    "alipay": ("买家支付宝账号",),
    "status": ("订单状态",),
    "ordered_at": ("订单创建时间", "创建时间"),
    "paid_at": ("订单付款时间", "付款时间", "买家付款时间"),
    "title": ("宝贝标题", "商品标题", "标题"),
    "spec": ("商品属性", "宝贝属性", "颜色分类", "销售属性"),
    "sku": ("商家编码", "外部系统编号", "SKU编码"),
    "unit_price": ("价格", "商品价格", "单价"),
    "quantity": ("购买数量", "宝贝数量", "数量"),
    "line_paid": ("实付款", "子订单实付金额"),
    "line_refund": ("退款状态",),
    "freight": ("买家应付邮费", "邮费"),
    "goods_amount": ("买家应付货款",),
    "paid_amount": ("买家实际支付金额", "买家实付金额"),
    "receiver_name": ("收货人姓名", "收货人"),
    "address": ("收货地址", "收货地址 "),
    "receiver_tel": ("联系电话",),
    "receiver_phone": ("联系手机", "收货人手机", "手机"),
    "shipping": ("运送方式",),
    "carrier": ("物流公司",),
    "tracking": ("物流单号",),
    "buyer_message": ("买家留言",),
    "seller_memo": ("卖家备注", "订单备注", "备注"),
    "shop_name": ("店铺名称",),
    "presale": ("分阶段订单信息", "是否预售"),
}

TAOBAO_HEADERS = (
    "订单编号", "子订单编号", "买家会员名", "买家支付宝账号", "订单状态", "订单创建时间", "订单付款时间",
    "宝贝标题", "商品属性", "商家编码", "价格", "购买数量", "实付款", "退款状态", "买家应付货款", "买家应付邮费",
    "买家实际支付金额", "收货人姓名", "收货地址", "运送方式", "联系电话", "联系手机", "物流公司", "物流单号",
    "买家留言", "卖家备注", "店铺名称", "分阶段订单信息",
)

TAOBAO_STATUS = {
    "等待买家付款": "unpaid",
    "买家已付款，等待卖家发货": "paid",
    "卖家部分发货": "paid",
    "卖家已发货，等待买家确认": "shipped",
    "买家已签收": "delivered",
    "交易成功": "delivered",
    "交易关闭": "closed",
    "付款以前，卖家或买家主动关闭交易": "cancelled",
    "WAIT_BUYER_PAY": "unpaid",
    "PAY_PENDING": "unpaid",
    "WAIT_PRE_AUTH_CONFIRM": "unpaid",
    "TRADE_NO_CREATE_PAY": "unpaid",
    "WAIT_SELLER_SEND_GOODS": "paid",
    "SELLER_CONSIGNED_PART": "paid",
    "PAID_FORBID_CONSIGN": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "TRADE_BUYER_SIGNED": "delivered",
    "TRADE_FINISHED": "delivered",
    "TRADE_CLOSED": "closed",
    "TRADE_CLOSED_BY_TAOBAO": "cancelled",
}

TAOBAO_REFUND = {
    "没有申请退款": "none",
    "NO_REFUND": "none",
    "买家已经申请退款，等待卖家同意": "requested",
    "卖家已经同意退款，等待买家退货": "requested",
    "买家已经退货，等待卖家确认收货": "requested",
    "卖家拒绝退款": "requested",
    "退款成功": "refunded",
    "退款关闭": "closed",
    "WAIT_SELLER_AGREE": "requested",
    "WAIT_BUYER_RETURN_GOODS": "requested",
    "WAIT_SELLER_CONFIRM_GOODS": "requested",
    "SELLER_REFUSE_BUYER": "requested",
    "SUCCESS": "refunded",
    "CLOSED": "closed",
}

# ask only for what parse_api_order reads
TRADE_FIELDS = ("tid,tid_str,status,buyer_nick,receiver_name,receiver_mobile,receiver_phone,receiver_state,"
                "receiver_city,receiver_district,receiver_town,receiver_address,payment,post_fee,discount_fee,"
                "total_fee,created,pay_time,modified,buyer_message,seller_memo,step_trade_status,"
                "orders.oid,orders.title,orders.sku_properties_name,orders.outer_sku_id,orders.outer_iid,"
                "orders.num,orders.price,orders.payment,orders.refund_status,orders.status")

RATE_LIMIT_CODES = {"7", "520"}  # 7 App Call Limited; 520 isp remote service busy


def taobao_sign(params: dict[str, Any], secret: str, method: str = "md5") -> str:
    text = concat_sorted(params)
    if method == "hmac":
        return hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest().upper()
    if method == "hmac-sha256":
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    return hashlib.md5((secret + text + secret).encode(), usedforsecurity=False).hexdigest().upper()


def _top_error(payload: dict) -> dict | None:
    return payload.get("error_response") if isinstance(payload, dict) else None


def _top_rate_limited(payload: dict) -> str | None:
    err = _top_error(payload)
    if not err:
        return None
    sub = str(err.get("sub_code") or "")
    if str(err.get("code")) in RATE_LIMIT_CODES or "limit" in sub or "call-limited" in sub:
        return _("限流：{msg} {sub}", msg=err.get("msg", ""), sub=sub)
    return None


class TaobaoConnector(Connector):
    channel = "taobao"
    label = "淘宝"
    COLUMNS = TAOBAO_COLUMNS
    HEADERS = TAOBAO_HEADERS
    STATUS = TAOBAO_STATUS
    REFUND = TAOBAO_REFUND
    base_url = "https://eco.taobao.com"
    ROUTER = "/router/rest"
    WINDOW = dt.timedelta(days=1)
    PAGE_SIZE = 100

    def sample_extras(self, order, line, rnd) -> dict[str, str]:
        return {"买家支付宝账号": f"{rnd.choice('abcdefghjk')}**{rnd.randint(10, 99)}@163.com",
                "运送方式": "快递", "联系电话": "", "物流公司": "", "物流单号": ""}

    # -- API -----------------------------------------------------------------------------------

    def call(self, client: PlatformClient, method: str, params: dict[str, Any], what: str) -> dict:
        def build() -> dict:
            signed: dict[str, Any] = {"method": method, "app_key": client.app_key, "session": client.access_token,
                                      "timestamp": client.timestamp(), "format": "json", "v": "2.0",
                                      "sign_method": client.sign_method, **params}
            signed["sign"] = client.sign(signed)
            return {"data": signed}

        payload = client.request("POST", self.ROUTER, build=build, retry_if=_top_rate_limited, what=what)
        err = _top_error(payload)
        if err:
            raise ConnectorError(_("{label} {what} 失败：{code} {msg} {sub}", label=self.label, what=what,
                                   code=err.get("code", ""), msg=err.get("msg", ""),
                                   sub=err.get("sub_msg") or err.get("sub_code") or ""),
                                 code=str(err.get("code", "")))
        return payload

    def parse_api_order(self, payload: dict) -> ChannelOrder:
        """A Trade from taobao.trades.sold(.increment).get or taobao.trade.fullinfo.get (wrapped or not)."""
        trade = payload.get("trade_fullinfo_get_response", {}).get("trade", payload) if isinstance(payload, dict) \
            else payload
        tid = str(trade.get("tid_str") or trade.get("tid") or "")
        if not tid:
            raise ConnectorError(_("{label} 订单数据缺少 tid", label=self.label))
        status, _refund = self.map_status(str(trade.get("status") or ""))
        order = ChannelOrder(
            channel=self.channel, channel_order_id=tid, platform_status=trade.get("status"), status=status,
            buyer_nick=trade.get("buyer_nick"), receiver_name=trade.get("receiver_name"),
            receiver_phone=trade.get("receiver_mobile") or trade.get("receiver_phone"),
            province=trade.get("receiver_state"), city=trade.get("receiver_city"),
            district=trade.get("receiver_district"),
            address_detail=" ".join(x for x in (trade.get("receiver_town"), trade.get("receiver_address")) if x)
            or None,
            freight=money(trade.get("post_fee")), discount=money(trade.get("discount_fee")),
            paid_amount=money(trade.get("payment")), ordered_at=parse_time(trade.get("created")),
            paid_at=parse_time(trade.get("pay_time")), buyer_message=trade.get("buyer_message"),
            seller_memo=trade.get("seller_memo"), is_presale=bool(trade.get("step_trade_status")), raw=trade)
        sub_orders = trade.get("orders", {})
        sub_orders = sub_orders.get("order", []) if isinstance(sub_orders, dict) else sub_orders
        for sub in sub_orders:
            quantity = Decimal(str(sub.get("num") or 0))
            order.lines.append(ChannelOrderLine(
                quantity=quantity, channel_sku=sub.get("outer_sku_id") or sub.get("outer_iid") or None,
                title=sub.get("title") or "", spec=sub.get("sku_properties_name") or None,
                unit_price=money(sub.get("price")), paid_amount=money(sub.get("payment")),
                channel_line_id=str(sub["oid"]) if sub.get("oid") is not None else None,
                refund_status=self.map_refund(str(sub.get("refund_status") or "")),
                is_presale=order.is_presale))
        order.goods_amount = sum((ln.unit_price * ln.quantity for ln in order.lines), Decimal(0))
        refunds = {ln.refund_status for ln in order.lines}
        order.refund_status = "requested" if "requested" in refunds else (
            "refunded" if refunds == {"refunded"} else "none")
        return order

    def fetch_since(self, client: PlatformClient, cursor: str | None) -> FetchResult:
        """One page of trades modified in [since, since + 1 day ∧ now). The cursor remembers the
        window and page; when a window is exhausted it moves on to the next one."""
        now = client.clock().astimezone(SHANGHAI).replace(microsecond=0)
        pos = Cursor.load(cursor, default_since=(now - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"))
        since = parse_time(pos.since) or now - dt.timedelta(days=1)
        until = parse_time(pos.until) if pos.until else min(since + self.WINDOW, now)
        if until <= since:  # nothing new can exist yet (clock skew or a cursor from the future)
            return FetchResult([], cursor, False)
        fmt = "%Y-%m-%d %H:%M:%S"
        payload = self.call(client, "taobao.trades.sold.increment.get", {
            "fields": TRADE_FIELDS, "start_modified": since.strftime(fmt), "end_modified": until.strftime(fmt),
            "page_no": pos.page, "page_size": self.PAGE_SIZE, "use_has_next": "true"}, what=_("拉取订单"))
        body = payload.get("trades_sold_increment_get_response", {})
        trades = body.get("trades", {})
        trades = trades.get("trade", []) if isinstance(trades, dict) else trades
        orders = [self.parse_api_order(t) for t in trades]
        if body.get("has_next"):
            nxt = Cursor(since=since.strftime(fmt), page=pos.page + 1, until=until.strftime(fmt))
            return FetchResult(orders, nxt.dump(), True)
        nxt = Cursor(since=until.strftime(fmt))
        return FetchResult(orders, nxt.dump(), until < now)

    def push_shipment(self, client: PlatformClient, channel_order_id: str, carrier_code: str,
                      tracking_number: str) -> None:
        payload = self.call(client, "taobao.logistics.offline.send", {
            "tid": channel_order_id, "out_sid": tracking_number, "company_code": carrier_code},
            what=_("回传运单号"))
        shipping = payload.get("logistics_offline_send_response", {}).get("shipping", {})
        if not shipping.get("is_success"):
            raise ConnectorError(_("{label} 回传运单号未成功：订单 {tid}", label=self.label, tid=channel_order_id))


class TmallConnector(TaobaoConnector):
    """天猫: the same 千牛 export and TOP API as 淘宝; the export adds 天猫卡券抵扣 and 集分宝抵扣."""

    channel = "tmall"
    label = "天猫"
    COLUMNS: ClassVar[dict[str, tuple[str, ...]]] = {**TAOBAO_COLUMNS, "discount": ("天猫卡券抵扣",),
                                                     "points": ("集分宝抵扣",)}
    HEADERS = (*TAOBAO_HEADERS[:17], "天猫卡券抵扣", "集分宝抵扣", *TAOBAO_HEADERS[17:])

    def sample_extras(self, order, line, rnd) -> dict[str, str]:
        return {**super().sample_extras(order, line, rnd), "集分宝抵扣": "0.00"}
