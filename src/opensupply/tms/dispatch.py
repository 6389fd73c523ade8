"""Dispatch (调度) and the driver's day.

* `assign(uow, route_id, driver_id)` — a driver for a planned route (one route per driver in a plan).
* `dispatch_plan(uow, plan_id)` — every route must have a driver; routes become 已调度 and each shipment
  goes 派送中 through `tms.shipments.add_tracking_event` (mirrored to the OMS order timeline).
* `driver_routes(uow, driver_id, day)` — the driver page's stops in order.
* `mark_arrived` / `mark_delivered` / `mark_failed` — by the route's own driver only; delivered and failed are
  tracking events with source "driver" (delivered marks the OMS fulfilment 已签收). The route is done when every
  stop is, the plan when every route is.
* `save_pod(uow, stop_id, driver_id, filename, data)` — the proof-of-delivery photo: images only (JPEG, PNG,
  WebP by content, not by name), at most `POD_MAX_BYTES`, stored under the data directory; `pod_file` gives
  it back to the stop's driver or a TMS reader.
* `record_gps(uow, driver_id, lat, lon, at=None)` — a position ping on the driver's current route.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from sqlalchemy import select

from opensupply.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import utcnow
from opensupply.core.uow import Actor, UnitOfWork

from . import shipments as ship_svc
from .models import TmsDriver, TmsGpsPing, TmsRoute, TmsRoutePlan, TmsRouteStop, TmsShipment, TmsVehicle

POD_MAX_BYTES = 5 * 1024 * 1024
POD_TYPES = {b"\xff\xd8\xff": ("jpg", "image/jpeg"), b"\x89PNG\r\n\x1a\n": ("png", "image/png")}
MEDIA = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def assign(uow: UnitOfWork, route_id: int, driver_id: int | None) -> TmsRoute:
    route = uow.get(TmsRoute, route_id, for_update=True)
    plan = uow.get(TmsRoutePlan, route.plan_id)
    if plan.status not in ("planned", "dispatched") or route.status not in ("planned", "dispatched"):
        raise Conflict(_("排线计划 {n} 当前状态为「{s}」，不能分配司机", n=plan.number, s=_plan_label(plan.status)),
                       code="illegal_transition")
    if driver_id is None:
        if plan.status == "dispatched":
            raise Conflict(_("已调度的线路必须有司机"), field="driver_id")
        route.driver_id = None
        return route
    driver = uow.get(TmsDriver, int(driver_id))
    if not driver.active:
        raise ValidationFailed(_("司机 {n} 已停用", n=driver.name), field="driver_id")
    other = uow.session.scalar(select(TmsRoute.id).where(TmsRoute.plan_id == plan.id, TmsRoute.driver_id == driver.id,
                                                         TmsRoute.id != route.id))
    if other:
        raise Conflict(_("司机 {n} 已分配到本计划的另一条线路", n=driver.name), field="driver_id")
    route.driver_id = driver.id
    uow.flush()
    return route


def _plan_label(status: str) -> str:
    from .planning import plan_label

    return plan_label(status)


def dispatch_plan(uow: UnitOfWork, plan_id: int) -> TmsRoutePlan:
    plan = uow.get(TmsRoutePlan, plan_id, for_update=True)
    if plan.status != "planned":
        raise Conflict(_("排线计划 {n} 当前状态为「{s}」，不能调度", n=plan.number, s=_plan_label(plan.status)),
                       code="illegal_transition")
    if not plan.routes:
        raise Conflict(_("排线计划 {n} 没有线路", n=plan.number))
    missing = [uow.get(TmsVehicle, r.vehicle_id).code for r in plan.routes if not r.driver_id]
    if missing:
        raise ValidationFailed(_("以下车辆的线路还没有司机：{v}", v="、".join(missing)), field="driver_id")
    now = utcnow()
    for r in plan.routes:
        r.status = "dispatched"
        v = uow.get(TmsVehicle, r.vehicle_id)
        d = uow.get(TmsDriver, r.driver_id)
        for st in r.stops:
            ship_svc.add_tracking_event(uow, st.shipment_id, status="out_for_delivery", at=now, source="system",
                                        description=_("已派车：{v} 司机 {d}（第 {s} 站）", v=v.plate or v.code,
                                                      d=d.name, s=st.sequence))
    plan.status = "dispatched"
    uow.flush()
    uow.emit("tms.plan_dispatched", plan_id=plan.id, number=plan.number, routes=len(plan.routes))
    return plan


# ------------------------------------------------------------------ the driver's day
def driver_routes(uow: UnitOfWork, driver_id: int, day: dt.date | None = None) -> list[TmsRoute]:
    stmt = (select(TmsRoute).join(TmsRoutePlan, TmsRoutePlan.id == TmsRoute.plan_id)
            .where(TmsRoute.company_id == uow.company_id, TmsRoute.driver_id == driver_id,
                   TmsRoute.status.in_(("dispatched", "started", "done"))))
    if day is not None:
        stmt = stmt.where(TmsRoutePlan.day == day)
    else:
        stmt = stmt.where(TmsRoute.status.in_(("dispatched", "started")))
    return list(uow.session.scalars(stmt.order_by(TmsRoutePlan.day, TmsRoute.id)))


def _own_stop(uow: UnitOfWork, stop_id: int, driver_id: int | None) -> tuple[TmsRouteStop, TmsRoute]:
    stop = uow.get(TmsRouteStop, stop_id, for_update=True)
    route = uow.get(TmsRoute, stop.route_id, for_update=True)
    if driver_id is None or route.driver_id != driver_id:
        raise PermissionDenied(_("这不是你的配送任务"))
    if route.status not in ("dispatched", "started"):
        raise Conflict(_("线路尚未调度或已完成"), code="illegal_transition")
    return stop, route


def _after_stop(uow: UnitOfWork, route: TmsRoute) -> None:
    route.status = "done" if all(s.status in ("delivered", "failed", "skipped") for s in route.stops) else "started"
    uow.flush()
    if route.status == "done":
        plan = uow.get(TmsRoutePlan, route.plan_id, for_update=True)
        if all(r.status == "done" for r in plan.routes):
            plan.status = "done"


def mark_arrived(uow: UnitOfWork, stop_id: int, driver_id: int | None) -> TmsRouteStop:
    stop, route = _own_stop(uow, stop_id, driver_id)
    if stop.status != "pending":
        raise Conflict(_("该站点已处理"), code="illegal_transition")
    stop.status, stop.arrived_at = "arrived", utcnow()
    _after_stop(uow, route)
    return stop


def mark_delivered(uow: UnitOfWork, stop_id: int, driver_id: int | None) -> TmsRouteStop:
    stop, route = _own_stop(uow, stop_id, driver_id)
    if stop.status not in ("pending", "arrived"):
        raise Conflict(_("该站点已处理"), code="illegal_transition")
    now = utcnow()
    stop.status, stop.done_at = "delivered", now
    stop.arrived_at = stop.arrived_at or now
    driver = uow.get(TmsDriver, driver_id)
    ship_svc.add_tracking_event(uow, stop.shipment_id, status="delivered", at=now, source="driver",
                                description=_("司机 {d} 已送达", d=driver.name), external_id=f"stop-{stop.id}")
    _after_stop(uow, route)
    return stop


def mark_failed(uow: UnitOfWork, stop_id: int, driver_id: int | None, reason: str) -> TmsRouteStop:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写未送达原因"), field="reason")
    stop, route = _own_stop(uow, stop_id, driver_id)
    if stop.status not in ("pending", "arrived"):
        raise Conflict(_("该站点已处理"), code="illegal_transition")
    now = utcnow()
    stop.status, stop.done_at, stop.fail_reason = "failed", now, reason[:200]
    driver = uow.get(TmsDriver, driver_id)
    ship_svc.add_tracking_event(uow, stop.shipment_id, status="failed", at=now, source="driver",
                                description=_("司机 {d}：未送达，{r}", d=driver.name, r=reason[:200]),
                                external_id=f"stop-{stop.id}")
    _after_stop(uow, route)
    return stop


# ------------------------------------------------------------------ proof of delivery
def _pod_dir() -> Path:
    from opensupply.core.config import get_settings

    return get_settings().ensure_data_dir() / "tms_pod"


def _image_kind(data: bytes) -> str | None:
    for magic, (ext, _mt) in POD_TYPES.items():
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def save_pod(uow: UnitOfWork, stop_id: int, driver_id: int | None, filename: str, data: bytes) -> TmsRouteStop:
    stop = uow.get(TmsRouteStop, stop_id, for_update=True)
    route = uow.get(TmsRoute, stop.route_id)
    if driver_id is None or route.driver_id != driver_id:
        raise PermissionDenied(_("这不是你的配送任务"))
    if not data:
        raise ValidationFailed(_("请选择签收照片"), field="file")
    if len(data) > POD_MAX_BYTES:
        raise ValidationFailed(_("照片过大：最大 {n} MB", n=POD_MAX_BYTES // (1024 * 1024)), field="file")
    ext = _image_kind(data)
    if ext is None:
        raise ValidationFailed(_("只能上传 JPEG、PNG 或 WebP 图片：{f}", f=filename or ""), field="file")
    rel = Path(str(uow.company_id)) / f"{stop.id}-{uuid.uuid4().hex}.{ext}"
    path = _pod_dir() / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    old = stop.pod_path
    stop.pod_path = str(rel)
    uow.flush()
    if old:
        uow.after_commit(lambda: (_pod_dir() / old).unlink(missing_ok=True))
    return stop


def pod_file(uow: UnitOfWork, stop_id: int, actor: Actor) -> tuple[Path, str]:
    """The photo's path and media type, for the stop's driver or a TMS reader."""
    stop = uow.get(TmsRouteStop, stop_id)
    route = uow.get(TmsRoute, stop.route_id)
    if not actor.can("tms.read"):
        from .fleet import driver_for_user

        d = driver_for_user(uow, actor.user_id)
        if d is None or d.id != route.driver_id:
            raise PermissionDenied(_("没有权限查看该签收照片"))
    if not stop.pod_path:
        raise NotFound(_("该站点没有签收照片"))
    root = _pod_dir().resolve()
    path = (root / stop.pod_path).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(_("签收照片文件不存在"))
    return path, MEDIA.get(path.suffix.lstrip("."), "application/octet-stream")


# ------------------------------------------------------------------ GPS
def record_gps(uow: UnitOfWork, driver_id: int | None, lat: float, lon: float,
               at: dt.datetime | None = None) -> TmsGpsPing:
    if driver_id is None:
        raise PermissionDenied(_("当前登录账号没有关联司机"))
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("坐标格式不正确"), field="lat") from exc
    if not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
        raise ValidationFailed(_("坐标超出范围"), field="lat")
    route = uow.session.scalar(select(TmsRoute).where(TmsRoute.driver_id == driver_id,
                                                      TmsRoute.status.in_(("dispatched", "started")))
                               .order_by(TmsRoute.id.desc()).limit(1))
    at = at or utcnow()
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    ping = TmsGpsPing(driver_id=driver_id, route_id=route.id if route else None, lat=lat, lon=lon, at=at)
    uow.add(ping)
    uow.flush()
    return ping


def last_positions(uow: UnitOfWork, route_ids: list[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    if not route_ids:
        return out
    rows = uow.session.scalars(select(TmsGpsPing).where(TmsGpsPing.route_id.in_(route_ids))
                               .order_by(TmsGpsPing.at))
    for p in rows:
        out[p.route_id] = {"lat": p.lat, "lon": p.lon, "at": p.at.isoformat()}
    return out


def shipment_of(uow: UnitOfWork, stop: TmsRouteStop) -> TmsShipment:
    return uow.get(TmsShipment, stop.shipment_id)
