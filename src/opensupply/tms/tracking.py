"""Tracking: carrier pushes and pulls turned into `shipments.add_tracking_event` calls.

A carrier push (see `webhooks.py`) is a list of events by waybill::

    {"events": [{"waybill": "SF1234567890", "status": "in_transit", "at": "2026-11-25T10:00:00+08:00",
                 "location": "杭州转运中心", "description": "快件已发车", "event_id": "E1"}]}

``status`` is one of our statuses (in_transit, out_for_delivery, delivered, failed, returned, info) or a
carrier code mapped by the connector (丰桥 opCode 50 揽收, 44 派送, 80 签收 …). ``event_id`` makes a replay a
no-op (without it the waybill + status + time is the key). Unknown waybills are returned as rejected, never an
error for the whole push.
"""

from __future__ import annotations

import datetime as dt

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork

from . import shipments
from .carriers.sf import OP_CODES

ALIASES = {"picked_up": "in_transit", "collected": "in_transit", "transit": "in_transit", "delivering":
           "out_for_delivery", "signed": "delivered", "exception": "failed", "return": "returned",
           "揽收": "in_transit", "运输中": "in_transit", "派送中": "out_for_delivery", "已签收": "delivered",
           "签收": "delivered", "派送失败": "failed", "退回": "returned"}


def map_status(value: str) -> str:
    v = str(value or "").strip()
    if v in shipments.EVENT_STATUSES:
        return v
    if v in ALIASES:
        return ALIASES[v]
    if v in OP_CODES:
        return OP_CODES[v]
    raise ValidationFailed(_("无法识别的跟踪状态：{s}", s=v or "—"), field="status")


def parse_time(value) -> dt.datetime:
    if not value:
        raise ValidationFailed(_("缺少事件时间"), field="at")
    text = str(value).strip().replace("Z", "+00:00")
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            at = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise ValidationFailed(_("事件时间格式不正确：{v}", v=text), field="at") from None
    if at.tzinfo is None:  # carriers in China send Beijing time
        at = at.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return at.astimezone(dt.UTC)


def ingest(uow: UnitOfWork, carrier_id: int | None, events: list[dict], *, source: str = "carrier") -> dict:
    """Apply pushed events; returns {"accepted": n, "duplicates": n, "rejected": [{"index", "waybill", "reason"}]}."""
    numbers = [str(e.get("waybill") or e.get("tracking_number") or e.get("mailNo") or "").strip()
               for e in events if isinstance(e, dict)]
    found = shipments.find_by_tracking(uow, [n for n in numbers if n], carrier_id)
    accepted = duplicates = 0
    rejected = []
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            rejected.append({"index": i, "waybill": None, "reason": _("事件格式不正确")})
            continue
        number = str(e.get("waybill") or e.get("tracking_number") or e.get("mailNo") or "").strip()
        ship = found.get(number)
        if ship is None:
            rejected.append({"index": i, "waybill": number or None, "reason": _("运单号不存在：{t}", t=number or "—")})
            continue
        try:
            status = map_status(e.get("status") or e.get("opCode"))
            at = parse_time(e.get("at") or e.get("acceptTime") or e.get("time"))
        except ValidationFailed as exc:
            rejected.append({"index": i, "waybill": number, "reason": exc.message})
            continue
        ext = str(e.get("event_id") or e.get("id") or f"{number}|{status}|{at.isoformat()}")[:80]
        ev = shipments.add_tracking_event(uow, ship.id, status=status, at=at,
                                          description=str(e.get("description") or e.get("remark") or "")[:300],
                                          location=(str(e.get("location") or e.get("acceptAddress") or "")[:120]
                                                    or None), source=source, external_id=ext, raw=e)
        if ev is None:
            duplicates += 1
        else:
            accepted += 1
    return {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}


def refresh(uow: UnitOfWork, shipment_id: int) -> dict:
    """Pull the carrier's route for one shipment through its connector and apply what is new."""
    from . import carriers

    ship = shipments.get_shipment(uow, shipment_id)
    if not ship.carrier_id or not ship.tracking_number:
        raise ValidationFailed(_("运单 {n} 还没有承运商运单号", n=ship.number), field="tracking_number")
    events = carriers.connector_for(uow, ship.carrier_id).track(ship.tracking_number)
    return ingest(uow, ship.carrier_id, [{"waybill": ship.tracking_number, "status": e.status,
                                          "at": e.at.isoformat(), "location": e.location,
                                          "description": e.description, "event_id": e.external_id}
                                         for e in events])
