"""拼多多 (商家后台 → 订单查询 → 导出) and the 拼多多开放平台 API.

Export columns, as the merchant backend writes them (one row per order; an order with several
goods — rare on 拼多多 — has one row per goods): 商品, 订单号, 订单状态, 商品总价(元), 店铺优惠折扣(元),
平台优惠折扣(元), 邮费(元), 用户实付金额(元), 商家实收金额(元), 商品数量(件), 身份证姓名, 身份证号码,
收货人, 手机, 是否异常, 省, 市, 区, 街道, 支付时间, 拼单成功时间, 订单确认时间, 承诺发货时间, 发货时间,
确认收货时间, 商品id, 商品规格, 用户购买手机号, 样式ID, 商家编码-SKU维度, 商家编码-商品维度, 快递单号,
快递公司, 商家备注, 售后状态, 买家留言. Amount columns are per row and summed per order. The address
comes as separate 省/市/区/街道 parts; some exports write the amount headers with full-width
parentheses (商家实收金额（元）) — both are accepted.

API (https://gw-api.pinduoduo.com/api/router): type, client_id, access_token, timestamp (Unix
seconds), data_type=JSON, version=V1; sign = upper(md5(secret + k1v1k2v2… + secret)) over the
sorted parameters. Pull: pdd.order.list.get (start_confirm_at/end_confirm_at windows of at most 24 h,
order_status=5 all, refund_status=5 all, page, page_size ≤ 100, use_has_next). One order:
pdd.order.information.get. Push-back: pdd.logistics.online.send (order_sn, logistics_id, tracking_number);
logistics_id is 拼多多's numeric carrier id, looked up once per client with pdd.logistics.companies.get
when a carrier code like "SF" is given. Flow-control errors (error_code 70031 and its sub-codes) are retried.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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

PDD_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("商品",),
    "order_id": ("订单号",),
    "status": ("订单状态",),
    "line_amount": ("商品总价(元)",),
    "shop_discount": ("店铺优惠折扣(元)",),
    "platform_discount": ("平台优惠折扣(元)",),
    "freight": ("邮费(元)",),
    "line_paid": ("用户实付金额(元)",),
    "merchant_received": ("商家实收金额(元)",),
    "quantity": ("商品数量(件)",),
    "id_name": ("身份证姓名",),
    "id_number": ("身份证号码",),
    "receiver_name": ("收货人",),
    "receiver_phone": ("手机", "收货人手机"),
    "abnormal": ("是否异常",),
    "province": ("省",),
    "city": ("市",),
    "district": ("区",),
    "address_detail": ("街道", "详细地址"),
    "paid_at": ("支付时间",),
    "grouped_at": ("拼单成功时间",),
    "ordered_at": ("订单确认时间",),
    "promised_ship_by": ("承诺发货时间",),
    "shipped_at": ("发货时间",),
    "received_at": ("确认收货时间",),
    "platform_sku": ("商品id",),
    "spec": ("商品规格",),
    "buyer_phone": ("用户购买手机号",),
    "style_id": ("样式ID",),
    "sku": ("商家编码-SKU维度",),
    "sku_fallback": ("商家编码-商品维度",),
    "tracking": ("快递单号",),
    "carrier": ("快递公司",),
    "seller_memo": ("商家备注",),
    "line_refund": ("售后状态",),
    "buyer_message": ("买家留言",),
    "presale": ("是否预售",),
}

PDD_HEADERS = tuple(names[0] for f, names in PDD_COLUMNS.items() if f != "presale")

PDD_STATUS = {
    "待支付": "unpaid",
    "未支付": "unpaid",
    "待发货": "paid",
    "已发货，待收货": "shipped",
    "已发货，待签收": "shipped",
    "已发货待签收": "shipped",
    "已签收": "delivered",
    "已收货": "delivered",
    "交易成功": "delivered",
    "未发货，退款成功": "cancelled",
    "已发货，退款成功": "closed",
    "已取消": "cancelled",
    "交易关闭": "closed",
}

PDD_REFUND = {
    "无售后或售后取消": "none",
    "无售后": "none",
    "售后取消": "none",
    "售后处理中": "requested",
    "退款中": "requested",
    "待商家处理": "requested",
    "退款成功": "refunded",
    "退货退款成功": "refunded",
    "售后关闭": "closed",
}

API_STATUS = {1: "paid", 2: "shipped", 3: "delivered"}
API_REFUND = {1: "none", 2: "requested", 3: "requested", 4: "refunded"}
RATE_LIMIT_CODES = {70031, 70032, 70033, 52101}


def pdd_sign(params: dict[str, Any], secret: str) -> str:
    return hashlib.md5((secret + concat_sorted(params) + secret).encode(), usedforsecurity=False).hexdigest().upper()


def _pdd_rate_limited(payload: dict) -> str | None:
    err = payload.get("error_response") if isinstance(payload, dict) else None
    if err and (int(err.get("error_code") or 0) in RATE_LIMIT_CODES or "限流" in str(err.get("error_msg", ""))):
        return _("限流：{msg}", msg=err.get("error_msg", ""))
    return None


class PddConnector(Connector):
    channel = "pdd"
    label = "拼多多"
    COLUMNS = PDD_COLUMNS
    HEADERS = PDD_HEADERS
    STATUS = PDD_STATUS
    REFUND = PDD_REFUND
    PER_ROW_FIELDS = ("freight", "shop_discount", "platform_discount")
    base_url = "https://gw-api.pinduoduo.com"
    ROUTER = "/api/router"
    PAGE_SIZE = 100
    WINDOW = dt.timedelta(hours=24)

    def map_status(self, text: str) -> tuple[str, str | None]:
        status, _refund = super().map_status(text)
        return status, "refunded" if "退款成功" in text else None

    def _read_line(self, v):
        line = super()._read_line(v)
        if v.get("line_paid"):  # 用户实付金额 includes the row's 邮费; the line keeps the goods part
            line.paid_amount -= v["freight"]
        return line

    def _add_line(self, order, row, line, number):
        super()._add_line(order, row, line, number)
        order.discount += row["shop_discount"] + row["platform_discount"]

    def sample_extras(self, order, line, rnd) -> dict[str, str]:
        freight = order.freight if line is order.lines[0] else Decimal(0)
        paid = line.paid_amount + freight
        discount = order.discount if line is order.lines[0] else Decimal(0)
        return {"店铺优惠折扣(元)": "0", "平台优惠折扣(元)": str(discount), "商家实收金额(元)": str(paid),
                "用户实付金额(元)": str(paid), "邮费(元)": str(freight), "身份证姓名": "", "身份证号码": "",
                "是否异常": "否",
                "拼单成功时间": _fmt(order.paid_at), "发货时间": "", "确认收货时间": "",
                "商品id": str(300000000 + rnd.randint(0, 99_999_999)), "用户购买手机号": "",
                "样式ID": str(rnd.randint(10**9, 10**10)), "商家编码-商品维度": (line.channel_sku or "").split("-")[0],
                "快递单号": "", "快递公司": "", "商品总价(元)": str(line.unit_price * line.quantity),
                "售后状态": self.refund_words(line.refund_status) or "无售后或售后取消"}

    # -- API -----------------------------------------------------------------------------------

    def call(self, client: PlatformClient, method: str, params: dict[str, Any], what: str) -> dict:
        def build() -> dict:
            signed: dict[str, Any] = {"type": method, "client_id": client.app_key,
                                      "access_token": client.access_token,
                                      "timestamp": str(int(client.clock().timestamp())), "data_type": "JSON",
                                      "version": "V1", **{k: str(v) for k, v in params.items()}}
            signed["sign"] = client.sign(signed)
            return {"data": signed}

        payload = client.request("POST", self.ROUTER, build=build, retry_if=_pdd_rate_limited, what=what)
        err = payload.get("error_response")
        if err:
            raise ConnectorError(_("拼多多 {what} 失败：{code} {msg}", what=what, code=err.get("error_code", ""),
                                   msg=err.get("error_msg") or err.get("sub_msg") or ""),
                                 code=str(err.get("error_code", "")))
        return payload

    def parse_api_order(self, payload: dict) -> ChannelOrder:
        """An order of pdd.order.list.get / pdd.order.information.get (order_info_get_response …)."""
        info = payload.get("order_info_get_response", {}).get("order_info", payload)
        sn = str(info.get("order_sn") or "")
        if not sn:
            raise ConnectorError(_("拼多多订单数据缺少 order_sn"))
        refund = API_REFUND.get(int(info.get("refund_status") or 1), "none")
        status = API_STATUS.get(int(info.get("order_status") or 1), "paid")
        if refund == "refunded":
            status = "cancelled" if status == "paid" else "closed"
        order = ChannelOrder(
            channel=self.channel, channel_order_id=sn, platform_status=str(info.get("order_status")), status=status,
            refund_status=refund, receiver_name=info.get("receiver_name"), receiver_phone=info.get("receiver_phone"),
            province=info.get("province"), city=info.get("city"), district=info.get("town"),
            address_detail=info.get("address"), address=info.get("receiver_address"),
            goods_amount=money(info.get("goods_amount")), freight=money(info.get("postage")),
            discount=money(info.get("discount_amount")), paid_amount=money(info.get("pay_amount")),
            ordered_at=parse_time(info.get("confirm_time") or info.get("created_time")),
            paid_at=parse_time(info.get("pay_time")), promised_ship_by=parse_time(info.get("last_ship_time")),
            buyer_message=info.get("buyer_memo") or None, seller_memo=info.get("remark") or None,
            is_presale=bool(info.get("is_pre_sale")), raw=info)
        for item in info.get("item_list") or []:
            quantity = Decimal(str(item.get("goods_count") or 0))
            price = money(item.get("goods_price"))
            order.lines.append(ChannelOrderLine(
                quantity=quantity, channel_sku=item.get("outer_id") or item.get("outer_goods_id") or None,
                title=item.get("goods_name") or "", spec=item.get("goods_spec") or None, unit_price=price,
                paid_amount=price * quantity, channel_line_id=str(item["sku_id"]) if item.get("sku_id") else None,
                refund_status=refund, is_presale=order.is_presale))
        return order

    def fetch_since(self, client: PlatformClient, cursor: str | None) -> FetchResult:
        now = client.clock().astimezone(SHANGHAI).replace(microsecond=0)
        pos = Cursor.load(cursor, default_since=str(int((now - self.WINDOW).timestamp())))
        since = int(pos.since) if pos.since.isdigit() else int((parse_time(pos.since) or now).timestamp())
        until = int(pos.until) if pos.until else min(since + int(self.WINDOW.total_seconds()), int(now.timestamp()))
        if until <= since:  # nothing new can exist yet (clock skew or a cursor from the future)
            return FetchResult([], cursor, False)
        payload = self.call(client, "pdd.order.list.get", {
            "order_status": 5, "refund_status": 5, "start_confirm_at": since, "end_confirm_at": until,
            "page": pos.page, "page_size": self.PAGE_SIZE, "use_has_next": "true"}, what=_("拉取订单"))
        body = payload.get("order_list_get_response", {})
        orders = [self.parse_api_order(o) for o in body.get("order_list") or []]
        if body.get("has_next"):
            return FetchResult(orders, Cursor(since=str(since), page=pos.page + 1, until=str(until)).dump(), True)
        return FetchResult(orders, Cursor(since=str(until)).dump(), until < int(now.timestamp()))

    def logistics_id(self, client: PlatformClient, carrier_code: str) -> str:
        if carrier_code.isdigit():
            return carrier_code
        companies = getattr(client, "_pdd_companies", None)
        if companies is None:
            payload = self.call(client, "pdd.logistics.companies.get", {}, what=_("查询快递公司"))
            rows = payload.get("logistics_companies_get_response", {}).get("logistics_companies") or []
            companies = {str(r.get("code") or "").upper(): str(r.get("id")) for r in rows}
            companies.update({str(r.get("logistics_company") or ""): str(r.get("id")) for r in rows})
            client._pdd_companies = companies  # type: ignore[attr-defined]
        found = companies.get(carrier_code.upper()) or companies.get(carrier_code)
        if not found:
            raise ConnectorError(_("拼多多没有快递公司 {code}，请在店铺设置中填写拼多多的快递公司 ID",
                                   code=carrier_code))
        return found

    def push_shipment(self, client: PlatformClient, channel_order_id: str, carrier_code: str,
                      tracking_number: str) -> None:
        payload = self.call(client, "pdd.logistics.online.send", {
            "order_sn": channel_order_id, "logistics_id": self.logistics_id(client, carrier_code),
            "tracking_number": tracking_number}, what=_("回传运单号"))
        if not payload.get("logistics_online_send_response", {}).get("is_success"):
            raise ConnectorError(_("拼多多 回传运单号未成功：订单 {sn}", sn=channel_order_id))


def _fmt(value: dt.datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else ""
