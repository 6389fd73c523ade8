"""The 丰桥-style waybill connector against a local fake carrier server: signed requests, a rate limit
retried, a business error turned into a clear Chinese message; the manual connector numbers from the sequence."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.tms import rates, shipments
from opensupply.tms.carriers import CarrierError
from opensupply.tms.carriers.sf import SfConnector, digest
from tests import factories as f

from . import factories as tf

SECRET = "checkword-123"


class FakeSf:
    def __init__(self):
        self.requests: list[dict] = []
        self.script: list = []  # what to answer next: "429", "A1005", "8016", or None (success)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"]))
                                                     .decode()).items()}
                fake.requests.append(form)
                step = fake.script.pop(0) if fake.script else None
                if form.get("msgDigest") != digest(form["msgData"], form["timestamp"], SECRET):
                    return self._json(200, {"apiResultCode": "A1006", "apiErrorMsg": "签名错误"})
                if step == "429":
                    return self._json(429, {})
                if step == "A1005":
                    return self._json(200, {"apiResultCode": "A1005", "apiErrorMsg": "流量受控"})
                if step == "8016":
                    data = {"success": False, "errorCode": "8016", "errorMsg": "重复下单"}
                elif form["serviceCode"] == "EXP_RECE_SEARCH_ROUTES":
                    data = {"success": True, "errorCode": "S0000", "msgData": {"routeResps": [{
                        "mailNo": "SF1000000001", "routes": [
                            {"acceptTime": "2026-11-25 10:00:00", "acceptAddress": "杭州", "remark": "已揽收",
                             "opCode": "50"},
                            {"acceptTime": "2026-11-26 09:00:00", "acceptAddress": "北京", "remark": "已签收",
                             "opCode": "80"}]}]}}
                else:
                    data = {"success": True, "errorCode": "S0000", "msgData": {
                        "waybillNoInfoList": [{"waybillType": 1, "waybillNo": "SF1000000001"}],
                        "routeLabelInfo": [{"routeLabelData": {"destRouteLabel": "010WA-朝阳"}}]}}
                return self._json(200, {"apiResultCode": "A1000", "apiErrorMsg": "",
                                        "apiResultData": json.dumps(data, ensure_ascii=False)})

            def _json(self, status, body):
                raw = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def fake_sf(monkeypatch):
    monkeypatch.setattr(SfConnector, "retry_delays", (0.0, 0.0))
    fake = FakeSf()
    yield fake
    fake.server.shutdown()


def _setup(db, fake, secret=SECRET):
    c = f.company(db)
    wh = tf.zhejiang_warehouse(db, c)
    sf = tf.carrier(db, c, "SF", "顺丰速运", connector="sf", base_url=fake.url, secret=secret)
    tf.sf_card(db, c, sf)
    sid = tf.shipment(db, c, warehouse_id=wh, province="北京")
    with UnitOfWork(Actor.system(c)) as uow:
        rates.choose(uow, sid, by=sf)
    return c, sid


def test_signed_order_with_a_rate_limit_retried(db, fake_sf):
    c, sid = _setup(db, fake_sf)
    fake_sf.script = ["429", "A1005"]
    with UnitOfWork(Actor.system(c)) as uow:
        s = shipments.book_waybill(uow, sid)
        assert s.tracking_number == "SF1000000001" and s.status == "booked"
    assert len(fake_sf.requests) == 3
    req = fake_sf.requests[-1]
    assert req["serviceCode"] == "EXP_RECE_CREATE_ORDER" and req["partnerID"] == "K1"
    msg = json.loads(req["msgData"])
    assert msg["orderId"] == s.number and msg["contactInfoList"][1]["province"] == "北京市"
    assert msg["totalWeight"] == 2.3


def test_business_error_is_a_clear_chinese_message_and_nothing_changes(db, fake_sf):
    c, sid = _setup(db, fake_sf)
    fake_sf.script = ["8016"]
    with UnitOfWork(Actor.system(c)) as uow, pytest.raises(CarrierError, match="重复下单"):
        shipments.book_waybill(uow, sid)
    with UnitOfWork(Actor.system(c)) as uow:
        s = shipments.get_shipment(uow, sid)
        assert s.status == "draft" and s.tracking_number is None


def test_wrong_secret_is_reported_as_a_signature_error(db, fake_sf):
    c, sid = _setup(db, fake_sf, secret="wrong")
    with UnitOfWork(Actor.system(c)) as uow, pytest.raises(CarrierError, match="签名无效"):
        shipments.book_waybill(uow, sid)


def test_track_pulls_routes_into_the_timeline(db, fake_sf):
    from opensupply.tms import tracking

    c, sid = _setup(db, fake_sf)
    with UnitOfWork(Actor.system(c)) as uow:
        shipments.book_waybill(uow, sid)
    with UnitOfWork(Actor.system(c)) as uow:
        res = tracking.refresh(uow, sid)
    assert res["rejected"] == [] and res["accepted"] == 2
    with UnitOfWork(Actor.system(c)) as uow:
        assert tracking.refresh(uow, sid)["duplicates"] == 2
        assert {e.status for e in shipments.timeline(uow, sid)} == {"booked", "in_transit", "delivered"}
        assert shipments.get_shipment(uow, sid).status == "delivered"


def test_manual_connector_numbers_from_the_sequence(db):
    c = f.company(db)
    wh = tf.zhejiang_warehouse(db, c)
    zto = tf.carrier(db, c, "ZTO", "中通快递")
    tf.zto_card(db, c, zto)
    numbers = []
    for _ in range(2):
        sid = tf.shipment(db, c, warehouse_id=wh)
        with UnitOfWork(Actor.system(c)) as uow:
            rates.choose(uow, sid, by="cost")
            numbers.append(shipments.book_waybill(uow, sid).tracking_number)
    assert numbers[0].startswith("ZTO") and numbers[0] != numbers[1]
