"""京东 POP (商家后台 → 订单管理 → 订单查询 → 导出) and the 京东宙斯 (JOS) API.

Export columns, as the POP backend writes them (one row per SKU of an order): 订单号, 商品ID,
商品名称, 订购数量, 支付方式, 下单时间, 京东价, 订单金额, 结算金额, 余额支付, 应付金额, 订单状态,
订单类型, 下单帐号, 客户姓名, 客户地址, 联系电话, 订单备注, 发票类型, 发票抬头, 发票内容, 商家备注,
商家备注等级（等级1-5为由高到低）, 运费金额, 付款确认时间, 增值税发票, 货号, 订单完成时间, 订单来源,
订单渠道; newer exports add 商家SKUID / 商家编码 — the seller's own code, preferred over 货号 and
商品ID when present. A status prefixed with "(删除)" is a deleted (cancelled) order.

API (https://api.jd.com/routerjson): method, app_key, access_token, timestamp, v=2.0 and the
business parameters as one JSON string 360buy_param_json; sign = upper(md5(secret + k1v1k2v2… +
secret)) over the sorted parameters. Pull: jingdong.pop.order.search (start_date/end_date,
order_state, page, page_size ≤ 100; orderTotal tells the pages). Push-back:
jingdong.pop.order.shipment (orderId, logiCoprId = the carrier's JD id, logiNo). Errors come back as
error_response {code, zh_desc}; flow-control codes (调用频率超限/限流) are retried with backoff.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

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

JD_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("订单号", "订单编号"),
    "platform_sku": ("商品ID", "商品编号", "SKU"),
    "title": ("商品名称",),
    "quantity": ("订购数量", "商品数量"),
    "pay_type": ("支付方式",),
    "ordered_at": ("下单时间",),
    "unit_price": ("京东价", "单价"),
    "goods_amount": ("订单金额",),
    "settle": ("结算金额",),
    "balance": ("余额支付",),
    "paid_amount": ("应付金额",),
    "status": ("订单状态",),
    "order_type": ("订单类型",),
    "buyer_nick": ("下单帐号", "下单账号"),
    "receiver_name": ("客户姓名", "收货人"),
    "address": ("客户地址", "收货地址"),
    "receiver_phone": ("联系电话", "收货人手机"),
    "buyer_message": ("订单备注",),
    "invoice_type": ("发票类型",),
    "invoice_title": ("发票抬头",),
    "invoice_content": ("发票内容",),
    "seller_memo": ("商家备注",),
    "memo_level": ("商家备注等级（等级1-5为由高到低）", "商家备注等级"),
    "freight": ("运费金额",),
    "paid_at": ("付款确认时间",),
    "vat_invoice": ("增值税发票",),
    "sku_fallback": ("货号",),
    "finished_at": ("订单完成时间",),
    "source": ("订单来源",),
    "order_channel": ("订单渠道",),
    "sku": ("商家SKUID", "商家编码", "商家SKU"),
}

JD_HEADERS = tuple(names[0] for names in JD_COLUMNS.values())

JD_STATUS = {
    "等待付款": "unpaid",
    "WAIT_PAY": "unpaid",
    "等待出库": "paid",
    "等待打印": "paid",
    "暂停": "paid",
    "锁定": "paid",
    "WAIT_SELLER_STOCK_OUT": "paid",
    "POP_ORDER_PAUSE": "paid",
    "LOCKED": "paid",
    "等待确认收货": "shipped",
    "WAIT_GOODS_RECEIVE_CONFIRM": "shipped",
    "WAIT_SELLER_DELIVERY": "shipped",
    "完成": "delivered",
    "FINISHED_L": "delivered",
    "TRADE_CANCELED": "cancelled",
    "已取消": "cancelled",
    "(删除)": "cancelled",
}

RATE_LIMIT_WORDS = ("限流", "频率", "超限", "too many", "flow control")


def jd_sign(params: dict[str, Any], secret: str) -> str:
    return hashlib.md5((secret + concat_sorted(params) + secret).encode(), usedforsecurity=False).hexdigest().upper()


def _jd_rate_limited(payload: dict) -> str | None:
    err = payload.get("error_response") if isinstance(payload, dict) else None
    if err:
        text = f"{err.get('zh_desc', '')} {err.get('en_desc', '')}".lower()
        if any(w in text for w in RATE_LIMIT_WORDS):
            return _("限流：{msg}", msg=err.get("zh_desc") or err.get("en_desc") or "")
    return None


class JdConnector(Connector):
    channel = "jd"
    label = "京东"
    COLUMNS = JD_COLUMNS
    HEADERS = JD_HEADERS
    STATUS = JD_STATUS
    base_url = "https://api.jd.com"
    ROUTER = "/routerjson"
    PAGE_SIZE = 100

    def map_status(self, text: str) -> tuple[str, str | None]:
        text = text.strip()
        if text.startswith(("(删除)", "（删除）")):
            return "cancelled", None
        status, refund = super().map_status(text)
        if text in ("锁定", "LOCKED"):  # locked by JD while a refund/after-sale request is handled
            return status, "requested"
        return status, refund

    def line_sku(self, v: dict[str, str]) -> str:
        return v.get("sku") or v.get("sku_fallback") or v.get("platform_sku") or ""

    def sample_extras(self, order, line, rnd) -> dict[str, str]:
        return {"商品ID": str(100000000000 + rnd.randint(0, 9_999_999)), "支付方式": "在线支付",
                "结算金额": str(order.paid_amount), "余额支付": "0.00", "订单类型": "销售订单",
                "发票类型": "电子发票", "发票抬头": "个人", "发票内容": "明细", "商家备注等级（等级1-5为由高到低）": "",
                "增值税发票": "", "订单完成时间": "", "订单来源": rnd.choice(["移动端订单", "PC端订单", "微信订单"]),
                "订单渠道": "暂无来源", "货号": line.channel_sku or ""}

    # -- API -----------------------------------------------------------------------------------

    def call(self, client: PlatformClient, method: str, business: dict[str, Any], what: str) -> dict:
        def build() -> dict:
            params: dict[str, Any] = {"method": method, "app_key": client.app_key,
                                      "access_token": client.access_token, "timestamp": client.timestamp(),
                                      "v": "2.0", "360buy_param_json": json.dumps(business, ensure_ascii=False,
                                                                                  separators=(",", ":"))}
            params["sign"] = client.sign(params)
            return {"data": params}

        payload = client.request("POST", self.ROUTER, build=build, retry_if=_jd_rate_limited, what=what)
        err = payload.get("error_response")
        if err:
            raise ConnectorError(_("京东 {what} 失败：{code} {msg}", what=what, code=err.get("code", ""),
                                   msg=err.get("zh_desc") or err.get("en_desc") or ""), code=str(err.get("code")))
        return payload

    def parse_api_order(self, payload: dict) -> ChannelOrder:
        """An OrderSearchInfo of jingdong.pop.order.search / jingdong.pop.order.get."""
        info = payload.get("orderInfo", payload)
        order_id = str(info.get("orderId") or "")
        if not order_id:
            raise ConnectorError(_("京东订单数据缺少 orderId"))
        consignee = info.get("consigneeInfo") or {}
        status, refund = self.map_status(str(info.get("orderState") or ""))
        order = ChannelOrder(
            channel=self.channel, channel_order_id=order_id, platform_status=info.get("orderStateRemark")
            or info.get("orderState"), status=status, refund_status=refund or "none", buyer_nick=info.get("pin"),
            receiver_name=consignee.get("fullname"), receiver_phone=consignee.get("mobile")
            or consignee.get("telephone"), province=consignee.get("province"), city=consignee.get("city"),
            district=consignee.get("county"),
            address_detail=_jd_detail(consignee), address=consignee.get("fullAddress"),
            goods_amount=money(info.get("orderTotalPrice")), freight=money(info.get("freightPrice")),
            discount=money(info.get("sellerDiscount")), paid_amount=money(info.get("orderPayment")),
            ordered_at=parse_time(info.get("orderStartTime")), paid_at=parse_time(info.get("paymentConfirmTime")),
            buyer_message=info.get("orderRemark") or None, seller_memo=info.get("venderRemark") or None,
            is_presale=str(info.get("orderType")) == "22" or bool(info.get("isPreSale")), raw=info)
        for item in info.get("itemInfoList") or []:
            quantity = Decimal(str(item.get("itemTotal") or 0))
            price = money(item.get("jdPrice"))
            order.lines.append(ChannelOrderLine(
                quantity=quantity,
                channel_sku=item.get("outerSkuId") or item.get("productNo") or str(item.get("skuId")),
                title=item.get("skuName") or "", unit_price=price, paid_amount=price * quantity,
                channel_line_id=str(item.get("skuId")) if item.get("skuId") else None,
                refund_status=order.refund_status,
                is_presale=order.is_presale))
        return order

    def fetch_since(self, client: PlatformClient, cursor: str | None) -> FetchResult:
        now = client.clock().astimezone(SHANGHAI).replace(microsecond=0)
        fmt = "%Y-%m-%d %H:%M:%S"
        pos = Cursor.load(cursor, default_since=(now - dt.timedelta(days=1)).strftime(fmt))
        since = parse_time(pos.since) or now - dt.timedelta(days=1)
        until = parse_time(pos.until) if pos.until else min(since + dt.timedelta(days=30), now)
        if until <= since:  # nothing new can exist yet (clock skew or a cursor from the future)
            return FetchResult([], cursor, False)
        payload = self.call(client, "jingdong.pop.order.search", {
            "start_date": since.strftime(fmt), "end_date": until.strftime(fmt),
            "order_state": "WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,TRADE_CANCELED,LOCKED",
            "optional_fields": "orderId,venderId,orderType,orderTotalPrice,orderSellerPrice,orderPayment,"
                               "freightPrice,sellerDiscount,orderState,orderStateRemark,orderRemark,venderRemark,"
                               "orderStartTime,paymentConfirmTime,modified,pin,consigneeInfo,itemInfoList",
            "page": str(pos.page), "page_size": str(self.PAGE_SIZE), "dateType": "0"}, what=_("拉取订单"))
        body = payload.get("jingdong_pop_order_search_responce", {}).get("searchorderinfo_result", {})
        api_result = body.get("apiResult") or {}
        if api_result and not api_result.get("success", True):
            raise ConnectorError(_("京东 拉取订单 失败：{msg}", msg=api_result.get("chineseErrCode")
                                   or api_result.get("englishErrCode") or ""))
        orders = [self.parse_api_order(o) for o in body.get("orderInfoList") or []]
        total = int(body.get("orderTotal") or 0)
        if pos.page * self.PAGE_SIZE < total:
            nxt = Cursor(since=since.strftime(fmt), page=pos.page + 1, until=until.strftime(fmt))
            return FetchResult(orders, nxt.dump(), True)
        return FetchResult(orders, Cursor(since=until.strftime(fmt)).dump(), until < now)

    def push_shipment(self, client: PlatformClient, channel_order_id: str, carrier_code: str,
                      tracking_number: str) -> None:
        """carrier_code is the carrier's 京东 logiCoprId (shop settings map our carriers to it)."""
        payload = self.call(client, "jingdong.pop.order.shipment", {
            "orderId": channel_order_id, "logiCoprId": carrier_code, "logiNo": tracking_number},
            what=_("回传运单号"))
        result = payload.get("jingdong_pop_order_shipment_responce", {}).get("sopjosshipment_result", {})
        if not result.get("success"):
            raise ConnectorError(_("京东 回传运单号失败：订单 {oid} {msg}", oid=channel_order_id,
                                   msg=result.get("chineseErrCode") or result.get("errorCode") or ""))


def _jd_detail(consignee: dict) -> str | None:
    full = consignee.get("fullAddress") or ""
    for part in (consignee.get("province"), consignee.get("city"), consignee.get("county")):
        if part and full.startswith(part):
            full = full[len(part):]
    return full.strip() or None
