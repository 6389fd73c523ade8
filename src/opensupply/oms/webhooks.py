"""Platform pushes: `POST /api/v1/webhooks/oms/{shop_code}`.

No login: the platform signs the body with the shop's secret (`oms_shop.app_secret`) and the
request is answered 401 unless `connectors.webhook.verify_signature` accepts it for the shop's
channel. The body is the platform's order JSON (one order, a list, or `{"orders": [...]}`),
read by the connector's `parse_api_order` and imported like any other source — idempotently, so a
platform retrying the same push changes nothing.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.db import get_database
from opensupply.core.errors import NotAuthenticated, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import Actor, atomic

from .intake import import_channel_orders
from .models import OmsShop

router = APIRouter(prefix="/webhooks/oms", tags=["webhooks"])
MAX_BODY = 5 * 1024 * 1024


def _shop_for(shop_code: str, body: bytes, headers) -> OmsShop:
    from opensupply.oms.connectors.webhook import verify_signature

    with get_database().readonly_sessionmaker() as s:
        candidates = list(s.scalars(select(OmsShop).where(OmsShop.code == shop_code, OmsShop.active.is_(True))
                                    .order_by(OmsShop.id)))
    for shop in candidates:  # a code is unique per company: the signature says whose shop it is
        if shop.app_secret and verify_signature(shop.channel, shop.app_secret, body, headers):
            return shop
    raise NotAuthenticated(_("签名无效"), code="bad_signature")


def _payload_orders(body: bytes) -> list[dict]:
    try:
        payload = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed(_("推送内容不是有效的 JSON")) from None
    if isinstance(payload, dict) and set(payload) == {"orders"} and isinstance(payload["orders"], list):
        payload = payload["orders"]
    items = payload if isinstance(payload, list) else [payload]
    if not items or not all(isinstance(i, dict) for i in items):
        raise ValidationFailed(_("推送内容中没有订单"))
    return items


def receive_push(shop_code: str, body: bytes, headers) -> dict:
    from opensupply.oms.connectors import ConnectorError, get_connector

    shop = _shop_for(shop_code, body, headers)
    connector = get_connector(shop.channel)
    orders = []
    for item in _payload_orders(body):
        try:
            orders.append(connector.parse_api_order(item))
        except (ConnectorError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ValidationFailed(_("无法读取推送的订单：{e}", e=str(exc)[:200])) from None
    result = atomic(Actor.system(shop.company_id), import_channel_orders, shop.id, orders, source="webhook")
    return {"ok": True, **result.as_dict()}


@router.post("/{shop_code}", summary="Order push from a sales platform (signed; no login)")
async def order_push(shop_code: str, request: Request):
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": {"code": "too_large", "message": _("推送内容过大"), "field": None}},
                            status_code=413)
    headers = {k: v for k, v in request.headers.items()}
    return await run_in_threadpool(receive_push, shop_code, body, headers)
