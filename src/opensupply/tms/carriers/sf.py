"""顺丰丰桥-style open API connector (the shape of https://open.sf-express.com "标准接口").

Every call is a form POST to ``{api_base_url}/std/service`` with
``partnerID`` (app_key), ``requestID`` (uuid), ``serviceCode``, ``timestamp`` (ms), ``msgData`` (JSON text) and
``msgDigest = base64(md5(urlencode(msgData + timestamp + checkWord)))`` where checkWord is the app secret.
The answer is ``{"apiResultCode": "A1000", "apiErrorMsg": "", "apiResultData": "<JSON text>"}``; A1005 (流量受控)
and HTTP 429/503 are retried with a short back-off; inside apiResultData ``success`` / ``errorCode`` /
``errorMsg`` carry the business result (8016 重复下单 …), which becomes a `CarrierError` in Chinese.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
import uuid
from urllib.parse import quote_plus

import httpx

from opensupply.core.i18n import _

from . import CarrierError, TrackEvent, WaybillConnector, WaybillRequest, WaybillResult

RETRYABLE_API_CODES = {"A1005", "A1099"}
API_MESSAGES = {"A1001": "必传参数不能为空", "A1002": "请求已过期", "A1003": "IP 不在白名单",
                "A1004": "没有该接口的权限", "A1006": "签名无效，请检查校验码", "A1005": "流量受控，请稍后重试"}
BUSINESS_MESSAGES = {"8016": "重复下单：该订单号已下过单", "1010": "寄件地址不能为空", "1014": "收件地址不能为空",
                     "8114": "该地址不在收派范围内", "6126": "月结卡号不合法", "8252": "运单已揽收，不能取消"}
# 丰桥 route opCode → our tracking status
OP_CODES = {"50": "in_transit", "30": "in_transit", "31": "in_transit", "36": "in_transit", "44": "out_for_delivery",
            "204": "out_for_delivery", "80": "delivered", "8000": "delivered", "70": "failed", "33": "failed",
            "99": "returned", "648": "returned"}


def digest(msg_data: str, timestamp: str, check_word: str) -> str:
    """丰桥 msgDigest: base64(md5(urlencode(msgData + timestamp + checkWord)))."""
    raw = quote_plus(msg_data + timestamp + check_word, encoding="utf-8")
    md5 = hashlib.md5(raw.encode("utf-8"), usedforsecurity=False)  # the carrier protocol
    return base64.b64encode(md5.digest()).decode("ascii")


class SfConnector(WaybillConnector):
    code = "sf"
    retry_delays: tuple[float, ...] = (0.5, 1.5, 3.0)
    timeout_s = 10.0

    # ------------------------------------------------------------------ transport
    def call(self, service_code: str, msg: dict) -> dict:
        st = self.setting
        if not st or not st.api_base_url or not st.app_key or not st.app_secret:
            raise CarrierError(_("{c} 的电子面单接口未配置（地址、顾客编码、校验码）", c=self.carrier.name))
        msg_data = json.dumps(msg, ensure_ascii=False, separators=(",", ":"))
        url = st.api_base_url.rstrip("/") + "/std/service"
        for attempt in range(len(self.retry_delays) + 1):
            ts = str(int(time.time() * 1000))
            form = {"partnerID": st.app_key, "requestID": str(uuid.uuid4()), "serviceCode": service_code,
                    "timestamp": ts, "msgData": msg_data, "msgDigest": digest(msg_data, ts, st.app_secret)}
            try:
                r = httpx.post(url, data=form, timeout=self.timeout_s)
            except httpx.HTTPError as exc:
                if attempt < len(self.retry_delays):
                    time.sleep(self.retry_delays[attempt])
                    continue
                raise CarrierError(_("连接{c}接口失败：{e}", c=self.carrier.name, e=exc.__class__.__name__)) from exc
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            api_code = body.get("apiResultCode")
            if (r.status_code in (429, 503) or api_code in RETRYABLE_API_CODES) and attempt < len(self.retry_delays):
                time.sleep(self.retry_delays[attempt])
                continue
            if r.status_code >= 400 and not api_code:
                raise CarrierError(_("{c}接口返回错误（HTTP {s}）", c=self.carrier.name, s=r.status_code))
            if api_code != "A1000":
                text = API_MESSAGES.get(api_code or "", body.get("apiErrorMsg") or "")
                raise CarrierError(_("{c}接口错误（{code}）：{msg}", c=self.carrier.name, code=api_code, msg=text))
            data = json.loads(body.get("apiResultData") or "{}")
            if not data.get("success"):
                code = str(data.get("errorCode") or "")
                text = BUSINESS_MESSAGES.get(code) or data.get("errorMsg") or _("未知错误")
                raise CarrierError(_("{c}下单失败（{code}）：{msg}", c=self.carrier.name, code=code, msg=text))
            return data.get("msgData") or {}
        raise CarrierError(_("{c}接口繁忙，请稍后重试", c=self.carrier.name))  # pragma: no cover

    # ------------------------------------------------------------------ API
    def create_waybill(self, request: WaybillRequest) -> WaybillResult:
        def contact(d: dict, kind: int) -> dict:
            return {"contactType": kind, "contact": d.get("name") or "", "mobile": d.get("phone") or "",
                    "province": d.get("province") or "", "city": d.get("city") or "",
                    "county": d.get("district") or "", "address": d.get("address") or ""}

        msg = {"language": "zh-CN", "orderId": request.order_id,
               "contactInfoList": [contact(request.sender, 1), contact(request.receiver, 2)],
               "cargoDetails": [{"name": request.reference or request.order_id}],
               "totalWeight": float(request.weight_kg or 0), "parcelQty": max(1, len(request.packages)),
               "expressTypeId": int(request.service) if (request.service or "").isdigit() else 1,
               "isReturnRoutelabel": 1}
        if request.declared_value:
            msg["serviceList"] = [{"name": "INSURE", "value": str(request.declared_value)}]
        data = self.call("EXP_RECE_CREATE_ORDER", msg)
        numbers = [w.get("waybillNo") for w in data.get("waybillNoInfoList") or [] if w.get("waybillNo")]
        if not numbers:
            raise CarrierError(_("{c}没有返回运单号", c=self.carrier.name))
        label = {}
        for info in data.get("routeLabelInfo") or []:
            rl = info.get("routeLabelData") or {}
            label = {"sort_code": rl.get("destRouteLabel"), "dest_code": rl.get("destTeamCode"),
                     "qr": rl.get("twoDimensionCode")}
        return WaybillResult(numbers[0], {k: v for k, v in label.items() if v})

    def cancel_waybill(self, tracking_number: str) -> None:
        self.call("EXP_RECE_UPDATE_ORDER", {"orderId": "", "dealType": 2,
                                            "waybillNoInfoList": [{"waybillType": 1, "waybillNo": tracking_number}]})

    def track(self, tracking_number: str) -> list[TrackEvent]:
        data = self.call("EXP_RECE_SEARCH_ROUTES", {"language": "0", "trackingType": "1",
                                                     "trackingNumber": [tracking_number], "methodType": "1"})
        out = []
        for resp in data.get("routeResps") or []:
            for rt in resp.get("routes") or []:
                at = dt.datetime.strptime(rt["acceptTime"], "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(dt.UTC)
                out.append(TrackEvent(OP_CODES.get(str(rt.get("opCode")), "info"), at, rt.get("remark") or "",
                                      rt.get("acceptAddress"), f"{resp.get('mailNo')}-{rt.get('opCode')}-"
                                      f"{rt['acceptTime']}"))
        return out
