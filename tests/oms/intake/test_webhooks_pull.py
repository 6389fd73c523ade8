"""Pushes and pulls: a signed platform push is imported (a replay is a no-op, a bad signature is
401 and changes nothing); a pull walks the platform's pages, survives a rate limit, and stores
the cursor so the next pull starts where this one stopped."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from urllib.parse import parse_qs

import httpx
from sqlalchemy import func, select

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.oms import pull
from opensupply.oms.models import OmsOrder, OmsShop
from tests import factories as f
from tests.oms.intake.factories import dump, shop

NOW = dt.datetime(2026, 11, 25, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def trade(tid: int, sku="SKU-A", num=1, status="WAIT_SELLER_SEND_GOODS") -> dict:
    return {"tid": tid, "status": status, "buyer_nick": "tb_buyer", "receiver_name": "李四",
            "receiver_mobile": "13900139000", "receiver_state": "浙江省", "receiver_city": "杭州市",
            "receiver_district": "西湖区", "receiver_address": "文三路 100 号 2 单元", "payment": "59.00",
            "post_fee": "0.00", "created": "2026-11-20 10:00:00", "pay_time": "2026-11-20 10:01:00",
            "orders": {"order": [{"oid": tid * 10 + 1, "title": "保温杯", "outer_sku_id": sku, "num": num,
                                  "price": "59.00", "payment": "59.00"}]}}


def sign(secret: str, body: bytes) -> str:
    return hashlib.md5(secret.encode() + body + secret.encode(), usedforsecurity=False).hexdigest().upper()


def _count(db):
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(OmsOrder))


def test_signed_push_is_imported_once_and_a_bad_signature_is_refused(db):
    c = f.company(db)
    f.product(db, c, "SKU-A")
    s = shop(db, c)
    with db.sessionmaker() as ses:
        sh = ses.get(OmsShop, s)
        code, secret = sh.code, sh.app_secret
    client = f.anonymous(db)
    body = json.dumps({"trade_fullinfo_get_response": {"trade": trade(5001)}}).encode()
    url = f"/api/v1/webhooks/oms/{code}"
    bad = client.post(url, content=body, headers={"sign": sign("wrong", body), "content-type": "application/json"})
    assert bad.status_code == 401 and _count(db) == 0
    missing = client.post(url, content=body, headers={"content-type": "application/json"})
    assert missing.status_code == 401
    r = client.post(url, content=body, headers={"sign": sign(secret, body), "content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1
    state = dump(db)
    again = client.post(url, content=body, headers={"sign": sign(secret, body), "content-type": "application/json"})
    assert again.json() == {"ok": True, "created": 0, "updated": 0, "unchanged": 1, "rejected": []}
    assert dump(db) == state
    with db.sessionmaker() as ses:
        o = ses.scalars(select(OmsOrder)).one()
        assert (o.channel_order_id, o.source, o.province, o.phone) == ("5001", "webhook", "浙江省", "13900139000")
    assert client.post("/api/v1/webhooks/oms/NOPE", content=body, headers={"sign": sign(secret, body)}
                       ).status_code == 401
    assert "/api/v1/webhooks/oms/{shop_code}" in client.get("/api/v1/openapi.json").json()["paths"]


class FakeTop:
    """A local stand-in for the TOP router: trades in pages of 2, one rate-limit error first."""

    def __init__(self, trades: list[dict]):
        self.trades = trades
        self.calls: list[dict] = []
        self.limited = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.calls.append(form)
        if not self.limited:
            self.limited = True
            return httpx.Response(200, json={"error_response": {"code": 7, "msg": "App Call Limited",
                                                                "sub_code": "accesscontrol.limited-by-app"}})
        page = int(form["page_no"])
        chunk = self.trades[(page - 1) * 2: page * 2]
        return httpx.Response(200, json={"trades_sold_increment_get_response": {
            "trades": {"trade": chunk}, "has_next": page * 2 < len(self.trades)}})


def test_pull_walks_the_pages_and_keeps_the_cursor(db):
    c = f.company(db)
    f.product(db, c, "SKU-A")
    s = shop(db, c, api_base_url="http://top.fake", app_key="k1")
    fake = FakeTop([trade(t) for t in (7001, 7002, 7003, 7004, 7005)])
    clock = [NOW]

    def client_factory(connector, sh):
        return connector.client(base_url="http://top.fake", app_key=sh.app_key, app_secret=sh.app_secret,
                                access_token="tok", transport=httpx.MockTransport(fake), sleep=lambda _s: None,
                                clock=lambda: clock[0])  # the platform's "now" is ours: pages do not depend on timing

    out = pull.pull_orders(db, Actor.system(c), s, client_factory=client_factory)
    assert out["created"] == 5 and out["pages"] == 3
    assert [call["page_no"] for call in fake.calls] == ["1", "1", "2", "3"]  # the limited call retried
    assert all(call["app_key"] == "k1" and call["sign"] for call in fake.calls)
    with db.sessionmaker() as ses:
        stored = ses.get(OmsShop, s)
        assert stored.fetch_cursor == out["cursor"] and stored.fetched_at is not None
    # the platform reports a change on one order: the next pull updates it, starting from the cursor
    fake.trades = [trade(7003, status="TRADE_CLOSED_BY_TAOBAO")]
    fake.calls.clear()
    clock[0] = NOW + dt.timedelta(hours=1)
    again = pull.pull_orders(db, Actor.system(c), s, client_factory=client_factory)
    assert (again["created"], again["updated"]) == (0, 1)
    assert "start_modified" in fake.calls[0]
    with db.sessionmaker() as ses:
        assert ses.scalars(select(OmsOrder.status).where(OmsOrder.channel_order_id == "7003")).one() == "cancelled"


def test_pull_button_needs_the_api_configured(db):
    import pytest

    from opensupply.core.errors import ValidationFailed

    c = f.company(db)
    s = shop(db, c)
    with UnitOfWork(Actor.system(c), db=db) as uow, pytest.raises(ValidationFailed):
        pull.queue_pull(uow, s)
