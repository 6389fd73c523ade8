"""Checking that a pushed order notification really comes from the platform.

    verify_signature(channel, secret, body, headers) -> bool

The body is checked byte for byte as received (never re-serialized); comparisons are constant-time.
Header names are case-insensitive.

- taobao / tmall (奇门/聚石塔 push): header `sign` (or `X-Sign`) = upper(md5(secret + body + secret)).
- jd: header `X-Jd-Sign` (or `sign`) = upper(md5(secret + body + secret)), the JOS signing rule
  applied to the pushed body.
- pdd: header `X-Pdd-Sign` (or `sign`) = upper(md5(secret + body + secret)).
- miniapp (有赞 push): header `Event-Sign` = md5(client_id + body + client_secret), with the client
  id from the `Client-Id` header or the body's "client_id"; `secret` is the client secret, or
  "client_id:client_secret" to also pin the client id.
- generic: header `X-OpenSupply-Signature` = "sha256=" + hex(hmac_sha256(secret, payload)), where
  payload is "<X-OpenSupply-Timestamp>.<body>" when that header is sent (and must then be within
  5 minutes of now), else the body alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping

MAX_SKEW_SECONDS = 300


def _header(headers: Mapping[str, str], *names: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value:
            return value.strip()
    return ""


def _body_client_id(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    return str(payload.get("client_id") or "") if isinstance(payload, dict) else ""


def _md5_wrapped(secret: str, body: bytes) -> str:
    return hashlib.md5(secret.encode() + body + secret.encode(), usedforsecurity=False).hexdigest().upper()


def verify_signature(channel: str, secret: str, body: bytes, headers: Mapping[str, str], *,
                     now: float | None = None) -> bool:
    if not secret:
        return False
    if channel in ("taobao", "tmall", "jd", "pdd"):
        names = {"taobao": ("sign", "X-Sign"), "tmall": ("sign", "X-Sign"), "jd": ("X-Jd-Sign", "sign"),
                 "pdd": ("X-Pdd-Sign", "sign")}[channel]
        given = _header(headers, *names)
        return bool(given) and hmac.compare_digest(given.upper(), _md5_wrapped(secret, body))
    if channel == "miniapp":
        given = _header(headers, "Event-Sign")
        client_id = _header(headers, "Client-Id") or _body_client_id(body)
        client_secret = secret
        if ":" in secret:
            configured_id, client_secret = secret.split(":", 1)
            client_id = client_id or configured_id
            if client_id != configured_id:
                return False
        if not (given and client_id):
            return False
        expected = hashlib.md5(client_id.encode() + body + client_secret.encode(), usedforsecurity=False).hexdigest()
        return hmac.compare_digest(given.lower(), expected)
    if channel == "generic":
        given = _header(headers, "X-OpenSupply-Signature")
        stamp = _header(headers, "X-OpenSupply-Timestamp")
        payload = body
        if stamp:
            if not stamp.isdigit() or abs((now if now is not None else time.time()) - int(stamp)) > MAX_SKEW_SECONDS:
                return False
            payload = stamp.encode() + b"." + body
        expected = "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        return bool(given) and hmac.compare_digest(given, expected)
    return False
