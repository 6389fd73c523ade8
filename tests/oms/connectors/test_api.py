"""Platform APIs against a local fake server answering with the platforms' documented shapes:
signing, pagination, rate limits that are retried, hard errors that raise ConnectorError."""

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest

from opensupply.oms.connectors import ConnectorError, get_connector
from opensupply.oms.connectors.base import SHANGHAI
from opensupply.oms.connectors.generic import generic_signature
from opensupply.oms.connectors.jd import jd_sign
from opensupply.oms.connectors.pdd import pdd_sign
from opensupply.oms.connectors.taobao import taobao_sign

from .fake_platform import FakePlatform, Reply

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=SHANGHAI)
SECRET = "s3cr3t"


def client_for(channel, fake, sleeps, **kw):
    return get_connector(channel).client(base_url=fake.url, app_key="key1", app_secret=SECRET, access_token="tok",
                                         sleep=sleeps.append, clock=lambda: NOW, **kw)


def pull_all(connector, client, cursor=None):
    orders, cursors = [], []
    while True:
        result = connector.fetch_since(client, cursor)
        orders += result.orders
        cursor = result.next_cursor
        cursors.append(cursor)
        if not result.has_more:
            return orders, cursors


# --- 淘宝 / 天猫 -----------------------------------------------------------------------------

def taobao_trade(tid, *, status="WAIT_SELLER_SEND_GOODS", refund="NO_REFUND"):
    return {"tid": int(tid), "tid_str": str(tid), "status": status, "buyer_nick": "tb小王", "receiver_name": "王伟",
            "receiver_mobile": "13800138000", "receiver_state": "浙江省", "receiver_city": "杭州市",
            "receiver_district": "余杭区", "receiver_town": "五常街道", "receiver_address": "文一西路969号",
            "payment": "227.90", "post_fee": "0.00", "discount_fee": "0.00", "total_fee": "227.90",
            "created": "2026-11-25 09:00:00", "pay_time": "2026-11-25 09:01:00", "modified": "2026-11-25 09:01:00",
            "buyer_message": "尽快发货", "seller_memo": "",
            "orders": {"order": [
                {"oid": int(tid) * 10 + 1, "title": "西湖龙井 250g", "sku_properties_name": "规格:250g",
                 "outer_sku_id": "LJ-250", "num": 1, "price": "168.00", "payment": "168.00", "refund_status": refund},
                {"oid": int(tid) * 10 + 2, "title": "碧螺春 100g", "sku_properties_name": "", "outer_iid": "BLC-100",
                 "num": 1, "price": "59.90", "payment": "59.90", "refund_status": "NO_REFUND"}]}}


def test_taobao_pull_pages_retries_rate_limit_and_signs_every_call():
    state = {"limited": False}

    def handle(req):
        form = dict(req.form)
        sign = form.pop("sign")
        if sign != taobao_sign(form, SECRET, form["sign_method"]):
            return Reply({"error_response": {"code": 25, "msg": "Invalid signature"}})
        assert form["method"] == "taobao.trades.sold.increment.get" and form["session"] == "tok"
        page = int(form["page_no"])
        if page == 2 and not state["limited"]:
            state["limited"] = True
            return Reply({"error_response": {"code": 7, "msg": "App Call Limited",
                                             "sub_code": "accesscontrol.limited-by-app-access-count"}})
        trades = [taobao_trade(3862000000000000000 + page * 10 + i) for i in range(2)]
        return Reply({"trades_sold_increment_get_response": {"total_results": 6, "has_next": page < 3,
                                                            "trades": {"trade": trades}}})

    sleeps = []
    with FakePlatform(handle) as fake, client_for("taobao", fake, sleeps) as client:
        orders, cursors = pull_all(get_connector("taobao"), client, "2026-11-25 00:00:00")
    assert len(orders) == 6 and len({o.channel_order_id for o in orders}) == 6
    assert [r.form["page_no"] for r in fake.requests] == ["1", "2", "2", "3"]
    assert sleeps == [0.5]  # one backoff for the rate limit
    assert cursors[-1] == "since=2026-11-25 12:00:00;page=1"
    assert {r.form["start_modified"] for r in fake.requests} == {"2026-11-25 00:00:00"}
    order = orders[0]
    assert order.status == "paid" and order.channel == "taobao"
    assert (order.province, order.city, order.district, order.address_detail) == \
        ("浙江省", "杭州市", "余杭区", "五常街道 文一西路969号")
    assert [(ln.channel_sku, ln.unit_price) for ln in order.lines] == [("LJ-250", Decimal("168.00")),
                                                                       ("BLC-100", Decimal("59.90"))]
    assert order.paid_amount == Decimal("227.90")


def test_taobao_parse_fullinfo_with_refund_and_hmac_signing():
    order = get_connector("tmall").parse_api_order(
        {"trade_fullinfo_get_response": {"trade": taobao_trade(1, status="TRADE_CLOSED", refund="SUCCESS")}})
    assert (order.channel, order.status, order.lines[0].refund_status) == ("tmall", "closed", "refunded")
    assert order.refund_status == "none"  # one of two lines refunded
    params = {"method": "x", "app_key": "k", "b": "2", "a": "1"}
    assert taobao_sign(params, "s") == hashlib.md5(b"sa1app_keykb2methodxs").hexdigest().upper()
    assert taobao_sign(params, "s", "hmac") != taobao_sign(params, "s")


def test_taobao_push_shipment_success_and_platform_error():
    calls = []

    def handle(req):
        calls.append(req.form)
        if req.form["tid"] == "bad":
            return Reply({"error_response": {"code": 15, "msg": "Remote service error",
                                             "sub_code": "isv.logistics-offline-service-error:B04",
                                             "sub_msg": "订单已发货，不能重复发货"}})
        return Reply({"logistics_offline_send_response": {"shipping": {"is_success": True}}})

    sleeps = []
    with FakePlatform(handle) as fake, client_for("taobao", fake, sleeps) as client:
        get_connector("taobao").push_shipment(client, "3862000000000000001", "SF", "SF1234567890")
        with pytest.raises(ConnectorError, match="订单已发货，不能重复发货"):
            get_connector("taobao").push_shipment(client, "bad", "SF", "SF1")
    assert calls[0]["method"] == "taobao.logistics.offline.send"
    assert (calls[0]["tid"], calls[0]["company_code"], calls[0]["out_sid"]) == \
        ("3862000000000000001", "SF", "SF1234567890")
    assert sleeps == []  # a hard error is not retried


def test_server_errors_are_retried_then_reported():
    def handle(req):
        return Reply("<html>502 Bad Gateway</html>", status=502)

    sleeps = []
    with FakePlatform(handle) as fake, client_for("taobao", fake, sleeps, retries=3) as client:
        with pytest.raises(ConnectorError, match="重试 3 次后仍失败") as err:
            get_connector("taobao").push_shipment(client, "1", "SF", "SF1")
    assert err.value.retryable
    assert len(fake.requests) == 4 and sleeps == [0.5, 1.0, 2.0]


# --- 京东 --------------------------------------------------------------------------------------

def jd_order(order_id):
    return {"orderId": str(order_id), "venderId": "10086", "orderType": "22" if order_id % 5 == 0 else "0",
            "orderTotalPrice": "338.00", "orderSellerPrice": "318.00", "orderPayment": "318.00",
            "freightPrice": "0.00", "sellerDiscount": "20.00", "orderState": "WAIT_SELLER_STOCK_OUT",
            "orderStateRemark": "等待出库", "orderRemark": "", "venderRemark": "",
            "orderStartTime": "2026-11-25 08:00:00", "paymentConfirmTime": "2026-11-25 08:00:30", "pin": "jd_abc",
            "consigneeInfo": {"fullname": "刘洋", "mobile": "139****0001", "telephone": "", "province": "江西",
                              "city": "南昌市", "county": "青山湖区", "town": "",
                              "fullAddress": "江西南昌市青山湖区昌东工业区1号"},
            "itemInfoList": [{"skuId": "100012", "outerSkuId": "TGY-500", "skuName": "铁观音礼盒", "jdPrice": "169.00",
                              "itemTotal": "2", "wareId": "900"}]}


def test_jd_pull_pages_by_order_total_and_retries_flow_control(monkeypatch):
    jd = get_connector("jd")
    monkeypatch.setattr(jd, "PAGE_SIZE", 2)
    state = {"limited": False}

    def handle(req):
        form = dict(req.form)
        if form.pop("sign") != jd_sign(form, SECRET):
            return Reply({"error_response": {"code": "19", "zh_desc": "签名错误"}})
        business = json.loads(form["360buy_param_json"])
        page = int(business["page"])
        if page == 1 and not state["limited"]:
            state["limited"] = True
            return Reply({"error_response": {"code": "67", "zh_desc": "调用频率超限，请稍后再试"}})
        ids = [290000000000 + page * 10 + i for i in range(2 if page < 3 else 1)]
        return Reply({"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
            "apiResult": {"success": True}, "orderTotal": 5, "orderInfoList": [jd_order(i) for i in ids]}}})

    sleeps = []
    with FakePlatform(handle) as fake, client_for("jd", fake, sleeps) as client:
        orders, cursors = pull_all(jd, client, "since=2026-11-24 12:00:00;page=1")
    assert len(orders) == 5
    assert [json.loads(r.form["360buy_param_json"])["page"] for r in fake.requests] == ["1", "1", "2", "3"]
    assert len(sleeps) == 1
    assert cursors[-1].startswith("since=2026-11-25 12:00:00")
    order = orders[0]
    assert (order.status, order.receiver_phone, order.province, order.address_detail) == \
        ("paid", "139****0001", "江西", "昌东工业区1号")
    assert order.lines[0].channel_sku == "TGY-500" and order.lines[0].quantity == 2
    assert order.is_presale is (int(order.channel_order_id) % 5 == 0)


def test_jd_shipment_error_names_the_order():
    def handle(req):
        business = json.loads(req.form["360buy_param_json"])
        ok = business["logiNo"] != "BAD"
        return Reply({"jingdong_pop_order_shipment_responce": {"code": "0", "sopjosshipment_result": {
            "success": ok, "chineseErrCode": "" if ok else "运单号不符合规则"}}})

    with FakePlatform(handle) as fake, client_for("jd", fake, []) as client:
        get_connector("jd").push_shipment(client, "290000000011", "467", "JDV001")
        with pytest.raises(ConnectorError, match="290000000011 运单号不符合规则"):
            get_connector("jd").push_shipment(client, "290000000011", "467", "BAD")
    assert json.loads(fake.requests[0].form["360buy_param_json"]) == \
        {"orderId": "290000000011", "logiCoprId": "467", "logiNo": "JDV001"}
    assert fake.requests[0].form["method"] == "jingdong.pop.order.shipment"


# --- 拼多多 ------------------------------------------------------------------------------------

def pdd_order(sn, refund_status=1):
    return {"order_sn": sn, "order_status": 1, "refund_status": refund_status, "confirm_status": 1,
            "receiver_name": "陈静", "receiver_phone": "13700000000", "province": "广东省", "city": "深圳市",
            "town": "南山区", "address": "科技南路16号", "goods_amount": 99.0, "pay_amount": 89.0, "postage": 0,
            "discount_amount": 10.0, "created_time": "2026-11-25 07:00:00", "confirm_time": "2026-11-25 07:00:05",
            "pay_time": "2026-11-25 07:00:04", "last_ship_time": "2026-11-27 07:00:04", "buyer_memo": "",
            "remark": "", "item_list": [{"goods_id": 1, "goods_name": "茉莉花茶", "goods_spec": "250g",
                                         "goods_count": 2, "goods_price": 49.5, "outer_id": "MJ-250", "sku_id": 77}]}


def test_pdd_pull_with_has_next_and_rate_limit_then_push_with_carrier_lookup():
    state = {"limited": False}

    def handle(req):
        form = dict(req.form)
        if form.pop("sign") != pdd_sign(form, SECRET):
            return Reply({"error_response": {"error_code": 10019, "error_msg": "签名错误"}})
        kind = form["type"]
        if kind == "pdd.order.list.get":
            page = int(form["page"])
            if page == 2 and not state["limited"]:
                state["limited"] = True
                return Reply({"error_response": {"error_code": 70031, "error_msg": "调用过于频繁，请调整调用频率"}})
            refund = 4 if page == 2 else 1
            return Reply({"order_list_get_response": {"total_count": 4, "has_next": page < 2, "order_list": [
                pdd_order(f"261125-00000000000{page}{i}", refund) for i in range(2)]}})
        if kind == "pdd.logistics.companies.get":
            return Reply({"logistics_companies_get_response": {"logistics_companies": [
                {"id": 44, "logistics_company": "顺丰快递", "code": "SF"},
                {"id": 115, "logistics_company": "中通快递", "code": "ZTO"}]}})
        if kind == "pdd.logistics.online.send":
            if form["tracking_number"] == "DUP":
                return Reply({"error_response": {"error_code": 50000, "error_msg": "订单已发货"}})
            return Reply({"logistics_online_send_response": {"is_success": True}})
        return Reply({"error_response": {"error_code": 10000, "error_msg": f"unknown {kind}"}})

    pdd = get_connector("pdd")
    sleeps = []
    with FakePlatform(handle) as fake, client_for("pdd", fake, sleeps) as client:
        orders, cursors = pull_all(pdd, client)
        pdd.push_shipment(client, "261125-000000000010", "SF", "SF100")
        pdd.push_shipment(client, "261125-000000000011", "ZTO", "ZT100")
        with pytest.raises(ConnectorError, match="订单已发货"):
            pdd.push_shipment(client, "261125-000000000011", "115", "DUP")
        with pytest.raises(ConnectorError, match="没有快递公司 XYZ"):
            pdd.push_shipment(client, "261125-000000000011", "XYZ", "X1")
    assert len(orders) == 4 and len(sleeps) == 1
    assert [o.status for o in orders] == ["paid", "paid", "cancelled", "cancelled"]  # refunded before shipping
    assert orders[0].district == "南山区" and orders[0].lines[0].unit_price == Decimal("49.5")
    sends = [r.form for r in fake.requests if r.form["type"] == "pdd.logistics.online.send"]
    assert [s["logistics_id"] for s in sends] == ["44", "115", "115"]
    assert sum(r.form["type"] == "pdd.logistics.companies.get" for r in fake.requests) == 1  # looked up once
    window = fake.requests[0].form
    assert int(window["end_confirm_at"]) - int(window["start_confirm_at"]) == 24 * 3600
    assert not cursors[-1].endswith("page=2")


# --- 小程序 (有赞) ------------------------------------------------------------------------------

def youzan_order(tid):
    return {"full_order_info": {
        "order_info": {"tid": tid, "status": "WAIT_SELLER_SEND_GOODS", "status_str": "待发货",
                       "created": "2026-11-25 10:00:00", "pay_time": "2026-11-25 10:00:10"},
        "buyer_info": {"fans_nickname": "小茶"},
        "address_info": {"receiver_name": "周杰", "receiver_tel": "15000000000", "delivery_province": "上海市",
                         "delivery_city": "上海市", "delivery_district": "浦东新区", "delivery_address": "张江路200号"},
        "remark_info": {"buyer_message": "送人的", "trade_memo": ""},
        "pay_info": {"payment": "45.50", "post_fee": "0.00", "total_fee": "45.50"},
        "orders": [{"oid": "1", "title": "茉莉花茶", "sku_properties_name": "250g", "outer_sku_id": "MJ-250",
                    "num": 1, "price": "45.50", "payment": "45.50", "refund_status_str": ""}]}}


def test_miniapp_pull_retries_http_429_and_pushes(monkeypatch):
    miniapp = get_connector("miniapp")
    monkeypatch.setattr(miniapp, "PAGE_SIZE", 1)
    state = {"limited": False}

    def handle(req):
        assert req.query["access_token"] == "tok"
        if req.path == "/api/youzan.trades.sold.get/4.0.0":
            page = req.json["page_no"]
            if page == 2 and not state["limited"]:
                state["limited"] = True
                return Reply({"message": "too many requests"}, status=429, headers={"Retry-After": "2"})
            return Reply({"success": True, "code": 200, "data": {
                "total_results": 3, "full_order_info_list": [youzan_order(f"E2026112510000000000{page}")]}})
        if req.path == "/api/youzan.logistics.online.confirm/3.0.0":
            return Reply({"success": False, "code": 101300001, "message": "订单状态不允许发货"}
                         if req.json["tid"] == "bad" else {"success": True, "data": {"is_success": True}})
        return Reply({"success": False, "message": "no such api"}, status=404)

    sleeps = []
    with FakePlatform(handle) as fake, client_for("miniapp", fake, sleeps) as client:
        orders, _cursors = pull_all(miniapp, client)
        miniapp.push_shipment(client, "E20261125100000000001", "1", "YT100")
        with pytest.raises(ConnectorError, match="订单状态不允许发货"):
            miniapp.push_shipment(client, "bad", "1", "YT100")
    assert [o.channel_order_id for o in orders] == [f"E2026112510000000000{p}" for p in (1, 2, 3)]
    assert sleeps[0] == 2.0  # Retry-After honoured
    order = orders[0]
    assert (order.status, order.city, order.district, order.buyer_message) == ("paid", "上海市", "浦东新区", "送人的")


# --- 通用 --------------------------------------------------------------------------------------

def test_generic_rest_is_signed_and_paged():
    def handle(req):
        stamp = req.headers["X-Timestamp"]
        expected = generic_signature(SECRET, stamp, req.method, req.path, req.body)
        if req.headers.get("X-Signature") != expected or req.headers["Authorization"] != "Bearer tok":
            return Reply({"message": "bad signature"}, status=401)
        if req.method == "GET":
            page = int(req.query["page"])
            return Reply({"orders": [{"channel_order_id": f"W{page}", "receiver_name": "张三", "status": "已付款",
                                      "updated_at": f"2026-11-25T10:0{page}:00",
                                      "lines": [{"channel_sku": "LJ-250", "quantity": 2, "unit_price": "168"}]}],
                          "has_more": page < 2})
        return Reply({"ok": True})

    generic = get_connector("generic")
    with FakePlatform(handle) as fake, client_for("generic", fake, []) as client:
        orders, cursors = pull_all(generic, client)
        generic.push_shipment(client, "W1", "SF", "SF9")
    assert [o.channel_order_id for o in orders] == ["W1", "W2"]
    assert orders[0].status == "paid" and orders[0].goods_amount == 336
    assert cursors[-1] == "since=2026-11-25T10:02:00;page=1"
    assert fake.requests[-1].json == {"carrier_code": "SF", "tracking_number": "SF9"}

    with FakePlatform(handle) as fake, get_connector("generic").client(
            base_url=fake.url, app_secret="wrong", access_token="tok", sleep=lambda s: None) as client:
        with pytest.raises(ConnectorError, match="HTTP 401"):
            generic.push_shipment(client, "W1", "SF", "SF9")


def test_client_for_a_shop_uses_the_documented_endpoint_and_signs_per_platform():
    from types import SimpleNamespace

    from opensupply.oms.connectors import client_for_shop

    shop = SimpleNamespace(channel="pdd", api_base_url=None, app_key="k", app_secret="s", access_token="t")
    with client_for_shop(shop) as client:
        assert client.base_url == "https://gw-api.pinduoduo.com"
        assert client.sign({"type": "x", "b": 1}) == pdd_sign({"type": "x", "b": 1}, "s")
    with client_for_shop(SimpleNamespace(channel="tmall", api_base_url="http://127.0.0.1:9", app_key="k",
                                         app_secret="s", access_token="t"), sign_method="hmac") as client:
        assert client.base_url == "http://127.0.0.1:9"
        assert client.sign({"a": "1"}) == taobao_sign({"a": "1"}, "s", "hmac")
    with client_for_shop(SimpleNamespace(channel="generic", api_base_url="http://x", app_key="", app_secret="s",
                                         access_token="")) as client, pytest.raises(ConnectorError):
        client.sign({"a": "1"})


def test_single_order_responses_are_read_too():
    info = pdd_order("261125-000000000099", refund_status=2)
    order = get_connector("pdd").parse_api_order({"order_info_get_response": {"order_info": info}})
    assert (order.channel_order_id, order.status, order.refund_status) == ("261125-000000000099", "paid", "requested")
    assert order.promised_ship_by.isoformat() == "2026-11-27T07:00:04+08:00"
    jd = get_connector("jd").parse_api_order({"orderInfo": jd_order(290000000005)})
    assert jd.is_presale and jd.discount == 20 and jd.paid_amount == 318
    yz = get_connector("miniapp").parse_api_order(youzan_order("E1")["full_order_info"])
    assert yz.channel_order_id == "E1" and yz.lines[0].channel_sku == "MJ-250"
    with pytest.raises(ConnectorError):
        get_connector("taobao").parse_api_order({"status": "WAIT_SELLER_SEND_GOODS"})


@pytest.mark.parametrize("channel, cursor", [("taobao", "2026-11-25 12:00:00"), ("jd", "2026-11-26 00:00:00"),
                                             ("pdd", str(int(NOW.timestamp())))])
def test_a_cursor_at_now_asks_nothing(channel, cursor):
    def handle(req):
        raise AssertionError("no call expected")

    with FakePlatform(handle) as fake, client_for(channel, fake, []) as client:
        result = get_connector(channel).fetch_since(client, cursor)
    assert (result.orders, result.next_cursor, result.has_more) == ([], cursor, False)
    assert fake.requests == []
