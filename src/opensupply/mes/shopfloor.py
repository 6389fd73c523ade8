"""Shop-floor status board and downtime log (设备看板 / 停机记录).

* `equipment_board(uow)` — every active machine grouped by work center, with its status (运行 green / 空闲
  grey / 故障 red / 保养 amber), reason, since when, and the work order it is on (its running operation, else
  the work order given with the status change).
* `change_status(uow, equipment_id, status, reason=…, work_order=…)` — the status board's and terminal's way to
  change a machine's status; it goes through `equipment.set_equipment_status`, so the history stays gap-free.
* `downtime(uow, …)` — the periods machines spent in 故障 (breakdown) or 保养 (maintenance), filtered by
  machine, work center, kind and a period they overlap, with their duration (an open period lasts until now),
  for the downtime page and its XLSX export.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork

from .equipment import NEEDS_REASON, STATUS_LABELS, set_equipment_status, status_label
from .models import Equipment, EquipmentStatusLog, WorkCenter, WorkOrder, WorkOrderOperation

STATUS_COLOURS = {"running": "#1b873f", "idle": "#9aa5b1", "down": "#c62828", "maintenance": "#e0a100"}
DOWNTIME_STATUSES = ("down", "maintenance")


def _work_order_id(uow: UnitOfWork, ref: Any) -> int | None:
    if ref in (None, ""):
        return None
    stmt = select(WorkOrder.id).where(WorkOrder.company_id == uow.company_id)
    text = str(ref).strip()
    found = uow.session.scalar(stmt.where(WorkOrder.number == text))
    if found is None and text.isdigit():
        found = uow.session.scalar(stmt.where(WorkOrder.id == int(text)))
    if found is None:
        raise ValidationFailed(_("生产工单不存在：{n}", n=text), field="work_order")
    return found


def change_status(uow: UnitOfWork, equipment_id: int, status: str, *, reason: str | None = None,
                  work_order: Any = None, at: dt.datetime | None = None) -> Equipment:
    """Put a machine in 运行 / 空闲 / 故障 / 保养 (故障 and 保养 need a reason), optionally naming the work
    order (number or id) it runs or that the stop concerns. `at` may not lie in the future."""
    if at is not None:
        if at.tzinfo is None:
            raise ValidationFailed(_("时间必须带时区"), field="at")
        if at > utcnow() + dt.timedelta(minutes=1):
            raise ValidationFailed(_("状态时间不能晚于现在"), field="at")
    return set_equipment_status(uow, equipment_id, status, reason=reason,
                                work_order_id=_work_order_id(uow, work_order), at=at)


def _running_work_orders(uow: UnitOfWork, equipment_ids: list[int]) -> dict[int, tuple[int, str, str]]:
    """Machine → (work order id, number, operation name) of the operation running on it."""
    rows = uow.session.execute(
        select(WorkOrderOperation.equipment_id, WorkOrder.id, WorkOrder.number, WorkOrderOperation.name)
        .join(WorkOrder, WorkOrder.id == WorkOrderOperation.work_order_id)
        .where(WorkOrderOperation.company_id == uow.company_id, WorkOrderOperation.state == "running",
               WorkOrderOperation.equipment_id.in_(equipment_ids or [0]))
        .order_by(WorkOrderOperation.actual_start.desc().nulls_last())).all()
    out: dict[int, tuple[int, str, str]] = {}
    for eq_id, wo_id, number, op_name in rows:
        out.setdefault(eq_id, (wo_id, number, op_name))
    return out


def equipment_board(uow: UnitOfWork, *, work_center_id: int | None = None) -> list[dict]:
    """Active machines grouped by (active) work center, each with its status, reason, since when and work order."""
    stmt = select(Equipment).join(WorkCenter, WorkCenter.id == Equipment.work_center_id).where(
        Equipment.company_id == uow.company_id, Equipment.active.is_(True))
    if work_center_id:
        stmt = stmt.where(Equipment.work_center_id == work_center_id)
    machines = list(uow.session.scalars(stmt.order_by(WorkCenter.code, Equipment.code)))
    ids = [m.id for m in machines]
    running = _running_work_orders(uow, ids)
    logged = dict(uow.session.execute(select(EquipmentStatusLog.equipment_id, EquipmentStatusLog.work_order_id).where(
        EquipmentStatusLog.company_id == uow.company_id, EquipmentStatusLog.equipment_id.in_(ids or [0]),
        EquipmentStatusLog.ended_at.is_(None), EquipmentStatusLog.work_order_id.is_not(None))).all())
    numbers = dict(uow.session.execute(select(WorkOrder.id, WorkOrder.number).where(
        WorkOrder.id.in_(set(logged.values()) or {0}))).all())
    now = utcnow()
    groups: dict[int, dict] = {}
    for m in machines:
        wc = m.work_center
        g = groups.setdefault(wc.id, {"work_center_id": wc.id, "work_center": wc.code, "name": wc.name,
                                      "machines": [], "counts": defaultdict(int)})
        wo = running.get(m.id)
        wo_id, wo_number, op_name = wo if wo else (logged.get(m.id), numbers.get(logged.get(m.id)), None)
        g["counts"][m.status] += 1
        g["machines"].append({
            "id": m.id, "code": m.code, "name": m.name, "model": m.model, "status": m.status,
            "status_label": status_label(m.status), "colour": STATUS_COLOURS.get(m.status, "#9aa5b1"),
            "reason": m.status_reason, "since": m.status_since.isoformat() if m.status_since else None,
            "since_dt": m.status_since,
            "minutes": int((now - m.status_since).total_seconds() // 60) if m.status_since else None,
            "work_order_id": wo_id, "work_order": wo_number, "operation": op_name})
    out = list(groups.values())
    for g in out:
        g["counts"] = dict(g["counts"])
    return out


def status_choices() -> list[tuple[str, str]]:
    return [(code, _(label)) for code, label in STATUS_LABELS.items()]


# ------------------------------------------------------------------ downtime log
def _downtime_stmt(uow: UnitOfWork, *, equipment_id: int | None, work_center_id: int | None, status: str | None,
                   start: dt.datetime | None, end: dt.datetime | None, q: str | None):
    log = EquipmentStatusLog
    stmt = select(log, Equipment).join(Equipment, Equipment.id == log.equipment_id).where(
        log.company_id == uow.company_id)
    if status:
        if status not in DOWNTIME_STATUSES:
            raise ValidationFailed(_("停机类型无效：{value}", value=status), field="status")
        stmt = stmt.where(log.status == status)
    else:
        stmt = stmt.where(log.status.in_(DOWNTIME_STATUSES))
    if equipment_id:
        stmt = stmt.where(log.equipment_id == equipment_id)
    if work_center_id:
        stmt = stmt.where(Equipment.work_center_id == work_center_id)
    if start is not None:
        stmt = stmt.where(or_(log.ended_at.is_(None), log.ended_at > start))
    if end is not None:
        stmt = stmt.where(log.started_at < end)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(log.reason.ilike(like), Equipment.code.ilike(like), Equipment.name.ilike(like)))
    return stmt


def downtime(uow: UnitOfWork, *, equipment_id: int | None = None, work_center_id: int | None = None,
             status: str | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None,
             q: str | None = None, limit: int = 50, offset: int = 0) -> dict:
    """故障 / 保养 periods overlapping [start, end), newest first. `minutes` is the whole period (an open one
    until now); `minutes_in_period` the part inside [start, end). Totals are over every matching period."""
    if start is not None and end is not None and end <= start:
        raise ValidationFailed(_("结束时间必须晚于开始时间"), field="end")
    stmt = _downtime_stmt(uow, equipment_id=equipment_id, work_center_id=work_center_id, status=status,
                          start=start, end=end, q=q)
    log = EquipmentStatusLog
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    now = utcnow()
    wcs = dict(uow.session.execute(select(WorkCenter.id, WorkCenter.code).where(
        WorkCenter.company_id == uow.company_id)).all())

    def row(entry: EquipmentStatusLog, eq: Equipment) -> dict:
        finish = entry.ended_at or now
        lo = max(entry.started_at, start) if start else entry.started_at
        hi = min(finish, end) if end else finish
        return {"id": entry.id, "equipment_id": eq.id, "equipment": eq.code, "equipment_name": eq.name,
                "work_center": wcs.get(eq.work_center_id), "status": entry.status,
                "status_label": status_label(entry.status), "reason": entry.reason,
                "started_at": entry.started_at.isoformat(), "ended_at": entry.ended_at.isoformat()
                if entry.ended_at else None, "started_dt": entry.started_at, "ended_dt": entry.ended_at,
                "open": entry.ended_at is None, "work_order_id": entry.work_order_id,
                "minutes": _minutes(finish - entry.started_at),
                "minutes_in_period": _minutes(max(hi - lo, dt.timedelta(0)))}

    items = [row(e, eq) for e, eq in uow.session.execute(
        stmt.order_by(log.started_at.desc(), log.id.desc()).limit(max(1, min(limit, 100000)))
        .offset(max(0, offset))).all()]
    by_status: dict[str, Decimal] = defaultdict(Decimal)
    for e, eq in uow.session.execute(stmt).all():  # totals over all matches, not just the page
        by_status[e.status] += row(e, eq)["minutes_in_period"]
    return {"items": items, "total": total,
            "totals": {s: str(by_status[s]) for s in DOWNTIME_STATUSES},
            "total_minutes": str(sum(by_status.values(), Decimal(0)))}


def _minutes(delta: dt.timedelta) -> Decimal:
    return (Decimal(int(delta.total_seconds())) / 60).quantize(Decimal("0.1"))


DOWNTIME_HEADER = [_l("设备"), _l("设备名称"), _l("工作中心"), _l("类型"), _l("原因"), _l("开始"), _l("结束"),
                   _l("时长(分钟)"), _l("期间内(分钟)")]


def downtime_rows(uow: UnitOfWork, items: list[dict], fmt) -> tuple[list[str], list[list]]:
    """Header and rows for the export; `fmt` formats a datetime in the company's zone."""
    header = [str(h) for h in DOWNTIME_HEADER]
    rows = [[r["equipment"], r["equipment_name"], r["work_center"], r["status_label"], r["reason"] or "",
             fmt(r["started_dt"]), fmt(r["ended_dt"]) if r["ended_dt"] else _("进行中"), float(r["minutes"]),
             float(r["minutes_in_period"])] for r in items]
    return header, rows


__all__ = ["DOWNTIME_STATUSES", "NEEDS_REASON", "STATUS_COLOURS", "change_status", "downtime", "downtime_rows",
           "equipment_board", "status_choices"]
