"""Carrier tracking pushes: `POST /api/v1/webhooks/tms/{carrier_code}`.

No login. The carrier signs the raw body with the secret in its `tms_carrier_setting.app_secret`:
header ``X-Signature: <hex HMAC-SHA256(secret, body)>`` (``sha256=`` prefix accepted); anything else is 401.
The body is ``{"events": [...]}`` or a bare list of events (see `tracking.py`). The answer is 200 with the
counts when every event was taken, 202 with the ``rejected`` list when some were not (unknown waybill, bad
status); a replayed push changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from opensupply.core.db import get_database
from opensupply.core.errors import NotAuthenticated, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import Actor, atomic

from .models import TmsCarrierSetting

router = APIRouter(prefix="/webhooks/tms", tags=["webhooks"])
MAX_BODY = 5 * 1024 * 1024


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _setting_for(code: str, body: bytes, headers) -> TmsCarrierSetting:
    sent = (headers.get("x-signature") or "").strip()
    if sent.startswith("sha256="):
        sent = sent[7:]
    with get_database().readonly_sessionmaker() as s:
        candidates = list(s.scalars(select(TmsCarrierSetting).where(
            func.upper(TmsCarrierSetting.code) == code.upper(), TmsCarrierSetting.active.is_(True))
            .order_by(TmsCarrierSetting.id)))
    for st in candidates:  # the code may repeat across companies: the signature says whose carrier it is
        if sent and st.app_secret and hmac.compare_digest(sent.lower().encode("utf-8"),
                                                          sign(st.app_secret, body).encode("ascii")):
            return st
    raise NotAuthenticated(_("签名无效"), code="bad_signature")


def _events(body: bytes) -> list:
    try:
        payload = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed(_("推送内容不是有效的 JSON")) from None
    if isinstance(payload, dict):
        payload = payload.get("events")
    if not isinstance(payload, list):
        raise ValidationFailed(_("推送内容中没有跟踪事件"))
    return payload


def receive_push(code: str, body: bytes, headers) -> dict:
    from .tracking import ingest

    st = _setting_for(code, body, headers)
    events = _events(body)
    return atomic(Actor.system(st.company_id), ingest, st.carrier_id, events)


@router.post("/{carrier_code}", summary="Tracking push from a carrier (HMAC-signed; no login)")
async def tracking_push(carrier_code: str, request: Request):
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": {"code": "too_large", "message": _("推送内容过大"), "field": None}},
                            status_code=413)
    headers = {k.lower(): v for k, v in request.headers.items()}
    result = await run_in_threadpool(receive_push, carrier_code, body, headers)
    return JSONResponse({"ok": not result["rejected"], **result}, status_code=202 if result["rejected"] else 200)
