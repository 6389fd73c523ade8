"""Pushed notifications are accepted only with the platform's signature over the exact body."""

import hashlib
import hmac

import pytest

from opensupply.oms.connectors.webhook import verify_signature

BODY = '{"tid": "3862000000000000001", "status": "WAIT_SELLER_SEND_GOODS", "买家": "王伟"}'.encode()


def md5_wrapped(secret, body):
    return hashlib.md5(secret.encode() + body + secret.encode()).hexdigest().upper()


@pytest.mark.parametrize("channel, header", [("taobao", "sign"), ("tmall", "X-Sign"), ("jd", "X-Jd-Sign"),
                                             ("pdd", "X-Pdd-Sign")])
def test_platform_md5_signatures(channel, header):
    good = md5_wrapped("sec", BODY)
    assert verify_signature(channel, "sec", BODY, {header: good})
    assert verify_signature(channel, "sec", BODY, {header.upper(): good.lower()})  # header and hex case-insensitive
    assert not verify_signature(channel, "sec", BODY + b" ", {header: good})  # body changed
    assert not verify_signature(channel, "other", BODY, {header: good})
    assert not verify_signature(channel, "sec", BODY, {})
    assert not verify_signature(channel, "", BODY, {header: md5_wrapped("", BODY)})  # no secret configured


def test_youzan_event_sign():
    sign = hashlib.md5(b"client1" + BODY + b"sec").hexdigest()
    assert verify_signature("miniapp", "sec", BODY, {"Event-Sign": sign, "Client-Id": "client1"})
    assert verify_signature("miniapp", "client1:sec", BODY, {"Event-Sign": sign})
    assert not verify_signature("miniapp", "client1:sec", BODY, {"Event-Sign": sign, "Client-Id": "client2"})
    assert not verify_signature("miniapp", "sec", BODY, {"Event-Sign": sign})  # whose client id?
    pushed = b'{"client_id": "client1", "type": "trade_TradeBuyerPay", "msg": "..."}'
    signed = hashlib.md5(b"client1" + pushed + b"sec").hexdigest()
    assert verify_signature("miniapp", "sec", pushed, {"Event-Sign": signed})  # client id from the body


def test_generic_hmac_with_timestamp_window():
    plain = "sha256=" + hmac.new(b"sec", BODY, hashlib.sha256).hexdigest()
    assert verify_signature("generic", "sec", BODY, {"X-OpenSupply-Signature": plain})
    stamped = "sha256=" + hmac.new(b"sec", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    headers = {"X-OpenSupply-Signature": stamped, "X-OpenSupply-Timestamp": "1700000000"}
    assert verify_signature("generic", "sec", BODY, headers, now=1700000100)
    assert not verify_signature("generic", "sec", BODY, headers, now=1700000400)  # replayed too late
    assert not verify_signature("amazon", "sec", BODY, {"X-OpenSupply-Signature": plain})
