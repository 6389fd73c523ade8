"""Equipment status (运行 running / 空闲 idle / 故障 down / 保养 maintenance): every change closes the
machine's open status period and opens the next, so the status history is a gap-free downtime log that
OEE and the status board read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork

from .models import EQUIPMENT_STATUSES, Equipment, EquipmentStatusLog

STATUS_LABELS = {"running": "运行", "idle": "空闲", "down": "故障", "maintenance": "保养"}
NEEDS_REASON = ("down", "maintenance")


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def set_equipment_status(uow: UnitOfWork, equipment_id: int, status: str, *, reason: str | None = None,
                         work_order_id: int | None = None, at: dt.datetime | None = None) -> Equipment:
    """Put a machine in a status from `at` (default now). 故障 and 保养 need a reason. Setting the status
    it already has (with the same reason) changes nothing."""
    if status not in EQUIPMENT_STATUSES:
        raise ValidationFailed(_("设备状态无效：{value}", value=status), field="status")
    reason = (reason or "").strip() or None
    if status in NEEDS_REASON and not reason:
        raise ValidationFailed(_("设备{status}需要填写原因", status=status_label(status)), field="reason")
    if reason and len(reason) > 200:
        raise ValidationFailed(_("原因最多 200 个字符"), field="reason")
    eq = uow.get(Equipment, equipment_id, for_update=True)
    if not eq.active:
        raise ValidationFailed(_("设备 {code} 已停用", code=eq.code), field="equipment")
    at = at or utcnow()
    if eq.status == status and (eq.status_reason or None) == reason and eq.status_since is not None:
        return eq
    if eq.status_since is not None and at < eq.status_since:
        raise ValidationFailed(_("状态时间不能早于当前状态的开始时间"), field="at")
    current = uow.session.scalar(select(EquipmentStatusLog).where(
        EquipmentStatusLog.company_id == uow.company_id, EquipmentStatusLog.equipment_id == eq.id,
        EquipmentStatusLog.ended_at.is_(None)).order_by(EquipmentStatusLog.id.desc()).with_for_update())
    if current is not None:
        current.ended_at = at
    uow.add(EquipmentStatusLog(equipment_id=eq.id, status=status, reason=reason, started_at=at,
                               work_order_id=work_order_id))
    previous = eq.status
    eq.status, eq.status_reason, eq.status_since = status, reason, at
    uow.flush()
    uow.emit("mes.equipment_status_changed", equipment_id=eq.id, status=status, previous=previous,
             reason=reason)
    return eq
