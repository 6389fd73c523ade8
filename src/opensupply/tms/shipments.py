"""Shipments (运单): one consignment from a warehouse to a receiver, by a 3PL carrier or the own fleet.

* `create_shipment` — from the WMS ship event (`wms.shipment_confirmed`, handled below), from the own-fleet
  planner or typed in; idempotent on (fulfilment, source key).
* `add_tracking_event` — the ONE place a shipment's status changes. A replay of the same carrier event id is a
  no-op; each event is mirrored onto the OMS order timeline; `delivered` marks the OMS fulfilment 已签收.
* `book_waybill` / `cancel_waybill` — ask the carrier's connector for a waybill number (see `tms/carriers/`).
* `flag_late(uow, today)` — shipments past their promised date and not delivered get the late flag.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.events import Event, subscribe
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.jobs import JobContext, job
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.masterdata.regions import normalize_province

from .models import SHIPMENT_STATUSES, TmsPackage, TmsRouteStop, TmsShipment, TmsTrackingEvent

log = logging.getLogger(__name__)
ZERO = Decimal(0)
register_sequence("TMS_SHIP", "YD{year}-", 6)

STATUS_LABELS = {"draft": _l("待下单"), "booked": _l("已下单"), "in_transit": _l("运输中"),
                 "out_for_delivery": _l("派送中"), "delivered": _l("已签收"), "failed": _l("派送失败"),
                 "returned": _l("已退回"), "cancelled": _l("已取消")}
EVENT_STATUSES = (*SHIPMENT_STATUSES, "info")  # info: a timeline line without a status change
FINAL = ("delivered", "returned", "cancelled")


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status or "", status or ""))


def _province(value: str | None) -> str | None:
    try:
        return normalize_province(value)
    except ValidationFailed:
        return (value or "").strip()[:40] or None


def _dec(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValidationFailed(_("数值不正确：{v}", v=value), field=field) from exc
    if d < 0:
        raise ValidationFailed(_("数值不能为负：{v}", v=value), field=field)
    return d


# ------------------------------------------------------------------ create
def create_shipment(uow: UnitOfWork, *, fulfilment_id: int | None = None, warehouse_id: int | None,
                    receiver: dict, packages: list[dict], carrier_id: int | None = None, mode: str = "carrier",
                    lat: float | None = None, lon: float | None = None, window_start: dt.datetime | None = None,
                    window_end: dt.datetime | None = None, promised_date: dt.date | None = None,
                    reference: str | None = None, source_key: str | None = None,
                    declared_value: Decimal | None = None, options: list[str] | None = None,
                    tracking_number: str | None = None) -> TmsShipment:
    """A new shipment (待下单), or the existing one for the same (fulfilment, source key)."""
    if source_key or fulfilment_id:
        s = TmsShipment
        stmt = select(s).where(s.company_id == uow.company_id)
        stmt = stmt.where(s.fulfilment_id == fulfilment_id if fulfilment_id else s.fulfilment_id.is_(None))
        stmt = stmt.where(s.source_key == source_key if source_key else s.source_key.is_(None))
        found = uow.session.scalars(stmt).first()
        if found is not None and (source_key or found.status != "cancelled"):
            return found
    if mode not in ("carrier", "fleet"):
        raise ValidationFailed(_("运输方式不正确：{m}", m=mode), field="mode")
    receiver = receiver or {}
    if not packages:
        packages = [{"weight_kg": 0}]
    origin = None
    if warehouse_id:
        wh = uow.get(md.Warehouse, warehouse_id)
        origin = _province(wh.province)
    if carrier_id:
        partner = uow.get(md.Partner, carrier_id)
        if not partner.is_carrier:
            raise ValidationFailed(_("{name} 不是承运商", name=partner.name), field="carrier_id")
    if mode == "fleet" and (lat is None or lon is None):
        raise ValidationFailed(_("自有车队配送需要收货地址坐标"), field="lat")
    if window_start and window_end and window_end <= window_start:
        raise ValidationFailed(_("送达时间窗的结束须晚于开始"), field="window_end")
    ship = TmsShipment(
        number=next_number(uow, "TMS_SHIP"), fulfilment_id=fulfilment_id, source_key=source_key,
        warehouse_id=warehouse_id, status="draft", mode=mode, carrier_id=carrier_id, origin_province=origin,
        receiver_name=(receiver.get("name") or None), phone=(receiver.get("phone") or None),
        province=_province(receiver.get("province")), city=receiver.get("city") or None,
        district=receiver.get("district") or None,
        address_detail=(receiver.get("address") or receiver.get("address_detail") or None),
        lat=lat, lon=lon, window_start=window_start, window_end=window_end, promised_date=promised_date,
        reference=reference, declared_value=_dec(declared_value, "declared_value"), options=list(options or []) or None,
        tracking_number=(tracking_number or "").strip() or None)
    weight = volume = ZERO
    for i, p in enumerate(packages, 1):
        w = _dec(p.get("weight_kg"), "weight_kg") or ZERO
        dims = [_dec(p.get(k), k) for k in ("length_cm", "width_cm", "height_cm")]
        ship.packages_rel.append(TmsPackage(number=str(p.get("number") or f"{ship.number}-{i}")[:40], weight_kg=w,
                                            length_cm=dims[0], width_cm=dims[1], height_cm=dims[2]))
        weight += w
        if all(dims):
            volume += dims[0] * dims[1] * dims[2] / Decimal(1_000_000)
    ship.packages = len(packages)
    ship.weight_kg = weight
    ship.volume_m3 = volume.quantize(Decimal("0.000001"))
    uow.add(ship)
    uow.flush()
    return ship


def get_shipment(uow: UnitOfWork, shipment_id: int, *, for_update: bool = False) -> TmsShipment:
    return uow.get(TmsShipment, shipment_id, for_update=for_update)


def find_by_tracking(uow: UnitOfWork, tracking_numbers: list[str], carrier_id: int | None = None
                     ) -> dict[str, TmsShipment]:
    s = TmsShipment
    stmt = select(s).where(s.company_id == uow.company_id, s.tracking_number.in_(list(set(tracking_numbers))))
    if carrier_id:
        stmt = stmt.where(or_(s.carrier_id == carrier_id, s.carrier_id.is_(None)))
    return {x.tracking_number: x for x in uow.session.scalars(stmt)}


# ------------------------------------------------------------------ tracking
def add_tracking_event(uow: UnitOfWork, shipment_id: int, *, status: str, at: dt.datetime, description: str = "",
                       location: str | None = None, source: str = "system", external_id: str | None = None,
                       raw: dict | None = None) -> TmsTrackingEvent | None:
    """Record one tracking event and move the shipment's status. Returns None for a replay."""
    if status not in EVENT_STATUSES:
        raise ValidationFailed(_("跟踪状态不正确：{s}", s=status), field="status")
    if at is None:
        at = utcnow()
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    ship = get_shipment(uow, shipment_id, for_update=True)
    e = TmsTrackingEvent
    if external_id:
        dup = uow.session.scalars(select(e.id).where(e.shipment_id == ship.id, e.source == source,
                                                     e.external_id == external_id)).first()
        if dup is not None:
            return None
    # Out-of-order carrier scans must not move the status back; our own booking is not a carrier scan (the
    # carrier's clock may put its pick-up before our booking time), so it does not count as the latest.
    latest = uow.session.scalar(select(func.max(e.at)).where(e.shipment_id == ship.id,
                                                             e.status.notin_(("info", "booked"))))
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.UTC)
    ev = TmsTrackingEvent(shipment_id=ship.id, at=at, status=status, location=(location or None),
                          description=(description or "")[:300], source=source, external_id=external_id, raw=raw)
    uow.add(ev)
    old = ship.status
    moves = status != "info" and old not in FINAL and (latest is None or at >= latest)
    if ship.status == "cancelled" and status != "info":
        moves = False
    if moves and status != old:
        ship.status = status
        if status in ("in_transit", "out_for_delivery") and ship.shipped_at is None:
            ship.shipped_at = at
        if status == "delivered":
            ship.delivered_at = at
            ship.late = bool(ship.promised_date and at.date() > ship.promised_date)
    uow.flush()
    if ship.fulfilment_id:
        _mirror(uow, ship, ev)
        if moves and status == "delivered":
            _deliver_fulfilment(uow, ship.fulfilment_id)
    if moves and status != old:
        uow.emit("tms.shipment_status", shipment_id=ship.id, number=ship.number, status=status, old=old,
                 fulfilment_id=ship.fulfilment_id, tracking_number=ship.tracking_number)
    return ev


def _mirror(uow: UnitOfWork, ship: TmsShipment, ev: TmsTrackingEvent) -> None:
    from opensupply.oms import fulfilments as oms_ful
    from opensupply.oms import orders as oms_orders

    text = _("运单 {n}：{s}", n=ship.tracking_number or ship.number,
             s=status_label(ev.status) if ev.status != "info" else _("物流信息"))
    if ev.location:
        text += f"（{ev.location}）"
    if ev.description:
        text += f" {ev.description}"
    data = {"shipment_id": ship.id, "status": ev.status, "at": ev.at.isoformat(), "source": ev.source}
    f = oms_ful.get_fulfilment(uow, ship.fulfilment_id)
    oms_orders.add_event(uow, fulfilment_id=f.id, kind=f"tms_{ev.status}", message=text, data=data)
    for oid in sorted({fl.order_id for fl in f.lines if fl.order_id}):
        oms_orders.add_event(uow, order_id=oid, fulfilment_id=f.id, kind=f"tms_{ev.status}", message=text, data=data)


def _deliver_fulfilment(uow: UnitOfWork, fulfilment_id: int) -> None:
    from opensupply.oms import fulfilments as oms_ful

    f = oms_ful.get_fulfilment(uow, fulfilment_id)
    if f.status == "shipped":
        oms_ful.mark_delivered(uow, fulfilment_id)


def timeline(uow: UnitOfWork, shipment_id: int) -> list[TmsTrackingEvent]:
    e = TmsTrackingEvent
    return list(uow.session.scalars(select(e).where(e.company_id == uow.company_id, e.shipment_id == shipment_id)
                                    .order_by(e.at, e.id)))


# ------------------------------------------------------------------ waybills
def book_waybill(uow: UnitOfWork, shipment_id: int) -> TmsShipment:
    """Ask the chosen carrier's connector for a waybill number (manual: from the sequence) → 已下单."""
    from . import carriers

    ship = get_shipment(uow, shipment_id, for_update=True)
    if ship.status not in ("draft",):
        raise Conflict(_("运单 {n} 当前状态为「{s}」，不能下单", n=ship.number, s=status_label(ship.status)),
                       field="status")
    if not ship.carrier_id:
        raise ValidationFailed(_("运单 {n} 还没有选择承运商", n=ship.number), field="carrier_id")
    if not ship.tracking_number:
        result = carriers.connector_for(uow, ship.carrier_id).create_waybill(carriers.waybill_request(uow, ship))
        ship.tracking_number = result.tracking_number
    add_tracking_event(uow, ship.id, status="booked", at=utcnow(), description=_("已下单，运单号 {t}",
                                                                                    t=ship.tracking_number))
    return ship


def cancel_shipment(uow: UnitOfWork, shipment_id: int, reason: str = "") -> TmsShipment:
    from . import carriers

    ship = get_shipment(uow, shipment_id, for_update=True)
    if ship.status not in ("draft", "booked"):
        raise Conflict(_("运单 {n} 已发出，不能取消", n=ship.number), field="status")
    if ship.status == "booked" and ship.carrier_id and ship.tracking_number:
        carriers.connector_for(uow, ship.carrier_id).cancel_waybill(ship.tracking_number)
    add_tracking_event(uow, ship.id, status="cancelled", at=utcnow(), description=reason or _("取消运单"))
    return ship


# ------------------------------------------------------------------ queries
def shipments_for_day(uow: UnitOfWork, depot_id: int, day: dt.date) -> list[TmsShipment]:
    """Own-fleet shipments to deliver on `day` from the depot's warehouse that no live route holds yet."""
    from .models import TmsDepot, TmsRoute, TmsRoutePlan

    depot = uow.get(TmsDepot, depot_id)
    s = TmsShipment
    routed = (select(TmsRouteStop.shipment_id).join(TmsRoute, TmsRoute.id == TmsRouteStop.route_id)
              .join(TmsRoutePlan, TmsRoutePlan.id == TmsRoute.plan_id)
              .where(TmsRouteStop.company_id == uow.company_id, TmsRoutePlan.status != "failed",
                     TmsRouteStop.status.in_(("pending", "arrived", "delivered"))))
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(hours=8)  # Asia/Shanghai day
    end = start + dt.timedelta(days=1)
    on_day = or_(s.promised_date == day, and_(s.window_start >= start, s.window_start < end),
                 and_(s.promised_date.is_(None), s.window_start.is_(None)))
    stmt = select(s).where(s.company_id == uow.company_id, s.mode == "fleet", s.status.in_(("draft", "booked",
                                                                                              "failed")),
                           s.id.not_in(routed), on_day)
    if depot.warehouse_id:
        stmt = stmt.where(or_(s.warehouse_id == depot.warehouse_id, s.warehouse_id.is_(None)))
    return list(uow.session.scalars(stmt.order_by(s.id)))


def list_shipments(uow: UnitOfWork, *, q: str | None = None, status: str | None = None,
                   carrier_id: int | None = None, late: bool | None = None, date_from: dt.date | None = None,
                   date_to: dt.date | None = None, province: str | None = None, mode: str | None = None,
                   limit: int = 50, offset: int = 0) -> tuple[list[TmsShipment], int]:
    s = TmsShipment
    stmt = select(s).where(s.company_id == uow.company_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(s.number.ilike(like), s.tracking_number.ilike(like), s.reference.ilike(like),
                              s.receiver_name.ilike(like)))
    if status:
        stmt = stmt.where(s.status == status)
    if carrier_id:
        stmt = stmt.where(s.carrier_id == carrier_id)
    if late is not None:
        stmt = stmt.where(s.late.is_(late))
    if date_from:
        stmt = stmt.where(s.created_at >= dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC))
    if date_to:
        stmt = stmt.where(s.created_at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min,
                                                             tzinfo=dt.UTC))
    if province:
        stmt = stmt.where(s.province == _province(province))
    if mode:
        stmt = stmt.where(s.mode == mode)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(s.id.desc()).limit(limit).offset(offset)))
    return rows, total


def flag_late(uow: UnitOfWork, today: dt.date | None = None) -> int:
    """Mark shipments past their promised date and not delivered as late (and a timeline line once)."""
    today = today or company_today(uow)
    s = TmsShipment
    rows = list(uow.session.scalars(select(s).where(
        s.company_id == uow.company_id, s.late.is_(False), s.promised_date < today,
        s.status.not_in(("delivered", "cancelled", "returned")))))
    for ship in rows:
        ship.late = True
        add_tracking_event(uow, ship.id, status="info", at=utcnow(), source="system",
                           description=_("已超过承诺送达日 {d}", d=ship.promised_date.isoformat()))
    return len(rows)


def shipment_dict(uow: UnitOfWork, ship: TmsShipment, *, carriers: dict[int, str] | None = None) -> dict:
    carrier_name = None
    if ship.carrier_id:
        carrier_name = (carriers or {}).get(ship.carrier_id) or uow.session.get(md.Partner, ship.carrier_id).name
    return {"id": ship.id, "number": ship.number, "status": ship.status, "status_label": status_label(ship.status),
            "mode": ship.mode, "fulfilment_id": ship.fulfilment_id, "warehouse_id": ship.warehouse_id,
            "carrier_id": ship.carrier_id, "carrier": carrier_name, "service": ship.service,
            "tracking_number": ship.tracking_number, "choose_by": ship.choose_by,
            "quoted_cost": _m(ship.quoted_cost), "actual_cost": _m(ship.actual_cost),
            "origin_province": ship.origin_province, "receiver_name": ship.receiver_name,
            "province": ship.province, "city": ship.city, "district": ship.district,
            "address": ship.address_detail, "packages": ship.packages, "weight_kg": _s(ship.weight_kg),
            "volume_m3": _s(ship.volume_m3), "promised_date": ship.promised_date.isoformat()
            if ship.promised_date else None, "late": ship.late, "reference": ship.reference,
            "shipped_at": ship.shipped_at.isoformat() if ship.shipped_at else None,
            "delivered_at": ship.delivered_at.isoformat() if ship.delivered_at else None,
            "created_at": ship.created_at.isoformat() if getattr(ship, "created_at", None) else None}


def _s(v) -> str | None:
    return None if v is None else f"{Decimal(v).normalize():f}"


def _m(v) -> str | None:
    return None if v is None else str(Decimal(v).quantize(Decimal("0.01")))


def carrier_names(uow: UnitOfWork, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(uow.session.execute(select(md.Partner.id, md.Partner.name).where(md.Partner.id.in_(ids))).all())


# ------------------------------------------------------------------ the WMS ship event
@subscribe("wms.shipment_confirmed", "tms.shipments.on_shipment_confirmed")
def _on_shipment_confirmed(uow: UnitOfWork, event: Event) -> None:
    """Warehouse shipped a fulfilment: a shipment (idempotent on the event id). With a carrier and waybill from
    the warehouse it is handed over (运输中); without a carrier TMS quotes, chooses by the default rule and books
    the waybill when the chosen carrier's connector is configured."""
    from . import rates

    p = event.payload
    fid = p.get("fulfilment_id")
    ship = create_shipment(uow, fulfilment_id=fid, warehouse_id=p.get("warehouse_id"),
                           receiver=p.get("receiver") or {}, packages=p.get("packages") or [],
                           carrier_id=p.get("carrier_id"), reference=p.get("number"), source_key=event.event_id,
                           tracking_number=p.get("tracking_number"))
    if ship.status != "draft" or uow.session.scalar(select(func.count(TmsTrackingEvent.id)).where(
            TmsTrackingEvent.shipment_id == ship.id)):
        return  # a replay of the same event
    quotes = rates.quote(uow, ship.id)
    if ship.carrier_id:
        rates.choose(uow, ship.id, by=ship.carrier_id) if any(
            q.carrier_id == ship.carrier_id and q.eligible for q in quotes) else None
    elif any(q.eligible for q in quotes):
        rates.choose(uow, ship.id, by="rule")
    if ship.tracking_number:
        add_tracking_event(uow, ship.id, status="in_transit", at=utcnow(), source="system",
                           description=_("仓库已发货，交承运商揽收"))
    elif ship.carrier_id and rates.connector_configured(uow, ship.carrier_id):
        book_waybill(uow, ship.id)


# ------------------------------------------------------------------ label
def label_pdf(uow: UnitOfWork, shipment_id: int) -> tuple[bytes, str]:
    """The waybill label (100 × 150 mm, one page per package) with the Code128 waybill barcode."""
    from opensupply.web.barcodes import code128, qr
    from opensupply.web.pdf import render_pdf

    ship = get_shipment(uow, shipment_id)
    if not ship.tracking_number:
        raise Conflict(_("运单 {n} 还没有运单号：请先下单", n=ship.number), field="tracking_number")
    carrier = uow.session.get(md.Partner, ship.carrier_id) if ship.carrier_id else None
    pkgs = ship.packages_rel or []
    pages = [{"index": i, "total": max(len(pkgs), 1), "number": p.number,
              "weight": f"{p.weight_kg.normalize():f}" if p.weight_kg else None} for i, p in enumerate(pkgs, 1)] \
        or [{"index": 1, "total": 1, "number": ship.number, "weight": None}]
    phone = ship.phone
    if phone and len(phone) == 11:
        phone = phone[:3] + "****" + phone[7:]  # 面单隐私：中间四位打码
    ctx = {"s": ship, "phone": phone, "carrier": carrier.name if carrier else _("快递"), "pages": pages,
           "company": uow.session.get(md.Company, uow.company_id),
           "warehouse": uow.session.get(md.Warehouse, ship.warehouse_id) if ship.warehouse_id else None,
           "sort_code": ship.province or "", "tracking_barcode": code128(ship.tracking_number),
           "number_barcode": code128(ship.number, height_mm=8, module_mm=0.25), "tracking_qr": qr(ship.tracking_number)}
    return render_pdf("tms/label_waybill.html", **ctx), f"{ship.tracking_number}.pdf"


@job("tms.flag_late")
def flag_late_job(ctx: JobContext) -> dict:
    """The daily job: flag late shipments (params: {"today": "YYYY-MM-DD"} optional)."""
    today = dt.date.fromisoformat(ctx.params["today"]) if ctx.params.get("today") else None
    with ctx.uow() as uow:
        return {"flagged": flag_late(uow, today)}
