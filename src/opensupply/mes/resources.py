"""MES master data described once (core.resource): work centers (工作中心), their equipment (设备) and shift
templates (班次), under /api/v1/mes/… and /mes/… — list, search, filters, import/export, REST and pages.

Read with `mes.read`, change with `mes.admin`. A machine's status is not edited here: it changes only through
`mes.equipment.set_equipment_status` (the status board), which keeps the downtime log gap-free.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import event, select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.resource import Field, Resource, register
from opensupply.masterdata import models as md

from .models import Equipment, Shift, WorkCenter

READ = "mes.read"
WRITE = "mes.admin"
CODE_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
STATUS_CHOICES = (("running", _l("运行")), ("idle", _l("空闲")), ("down", _l("故障")), ("maintenance", _l("保养")))


def _code(obj, label: str) -> None:
    if obj.code and not CODE_RE.match(obj.code):
        raise ValidationFailed(_("{label}只能包含字母、数字和 - _", label=label), field="code")


def _validate_work_center(uow, obj: WorkCenter, data: dict) -> None:
    _code(obj, _("编码"))
    if obj.cost_per_hour is not None and obj.cost_per_hour < 0:
        raise ValidationFailed(_("每小时费率不能为负数"), field="cost_per_hour")
    if obj.capacity is None or obj.capacity < 1:
        raise ValidationFailed(_("并行能力至少为 1"), field="capacity")
    if obj.feeding_alert_minutes is not None and obj.feeding_alert_minutes < 0:
        raise ValidationFailed(_("上料提醒时间不能为负数"), field="feeding_alert_minutes")
    if obj.feeding_cover_minutes is not None and obj.feeding_cover_minutes <= 0:
        raise ValidationFailed(_("每次上料覆盖时间必须大于 0"), field="feeding_cover_minutes")
    if obj.staging_location_id:
        loc = uow.session.get(md.Location, obj.staging_location_id)
        if loc.usage != "internal":
            raise ValidationFailed(_("线边库位必须是库内库位：{code}", code=loc.full_code), field="staging_location_id")
        if obj.warehouse_id is None:  # the location says which warehouse feeds the line
            obj.warehouse_id = loc.warehouse_id
        elif loc.warehouse_id != obj.warehouse_id:
            wh = uow.session.get(md.Warehouse, obj.warehouse_id)
            raise ValidationFailed(_("线边库位 {code} 不属于仓库 {wh}", code=loc.full_code, wh=wh.code),
                                   field="staging_location_id")
    if obj.id is not None and obj.active is False:
        running = uow.session.scalar(select(Equipment.code).where(
            Equipment.work_center_id == obj.id, Equipment.active.is_(True)).limit(1))
        if running:
            raise ValidationFailed(_("工作中心下还有启用的设备 {code}，请先停用设备", code=running), field="active")


def _validate_equipment(uow, obj: Equipment, data: dict) -> None:
    _code(obj, _("编码"))
    wc = uow.session.get(WorkCenter, obj.work_center_id) if obj.work_center_id else None
    if wc is None or wc.company_id != uow.company_id:
        raise ValidationFailed(_("请选择工作中心"), field="work_center_id")
    if not wc.active and "work_center_id" in data:
        raise ValidationFailed(_("工作中心 {code} 已停用", code=wc.code), field="work_center_id")
    if obj.ideal_cycle_seconds is not None and obj.ideal_cycle_seconds <= 0:
        raise ValidationFailed(_("理想节拍必须大于 0 秒"), field="ideal_cycle_seconds")


def _equipment_created(uow, obj: Equipment) -> None:
    """A new machine starts its status history as 空闲 now, so OEE and the board know since when."""
    from .equipment import set_equipment_status

    set_equipment_status(uow, obj.id, "idle")


def _work_center_detail(uow, obj: WorkCenter) -> dict:
    machines = list(uow.session.scalars(select(Equipment).where(
        Equipment.company_id == uow.company_id, Equipment.work_center_id == obj.id).order_by(Equipment.code)))
    from .equipment import status_label

    return {"machines": [{"id": e.id, "code": e.code, "name": e.name, "status": e.status,
                          "status_label": status_label(e.status), "active": e.active} for e in machines]}


work_centers = register(Resource(
    name="work-centers", model=WorkCenter, label=_l("工作中心"), key="code", module="mes", api_prefix="mes",
    read_permission=READ, write_permission=WRITE, default_sort="code", validate=_validate_work_center,
    extra={"detail_template": "mes/work_center_detail.html", "detail_context": _work_center_detail},
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=120),
        Field("warehouse_id", _l("仓库"), "ref", ref="warehouses", filter=True),
        Field("staging_location_id", _l("线边库位"), "ref", ref="locations", list=False),
        Field("cost_per_hour", _l("每小时费率"), "decimal", default=0),
        Field("capacity", _l("并行能力"), "int", default=1,
              help=_l("没有登记设备时可同时加工的工单数")),
        Field("feeding_alert_minutes", _l("上料提醒(分钟)"), "int", default=30, list=False),
        Field("feeding_cover_minutes", _l("每次上料覆盖(分钟)"), "int", default=120, list=False),
        Field("notes", _l("备注"), "text", list=False, search=True),
        Field("active", _l("启用"), "bool", default=True, list=False),
    ]))

equipment = register(Resource(
    name="equipment", model=Equipment, label=_l("设备"), key="code", module="mes", api_prefix="mes",
    read_permission=READ, write_permission=WRITE, default_sort="code", validate=_validate_equipment,
    after_create=_equipment_created,
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=120),
        Field("work_center_id", _l("工作中心"), "ref", ref="work-centers", required=True, filter=True),
        Field("model", _l("型号"), search=True, max_length=80),
        Field("ideal_cycle_seconds", _l("理想节拍(秒/件)"), "decimal"),
        Field("status", _l("状态"), "choice", choices=STATUS_CHOICES, filter=True, form=False),
        Field("status_reason", _l("状态原因"), form=False, list=False),
        Field("active", _l("启用"), "bool", default=True, list=False),
    ]))


# ------------------------------------------------------------------ shifts
TIME_RE = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")


def parse_time(raw, field: str, label: str) -> dt.time | None:
    """`08:00`, `8:00`, `08:00:00` (and the time objects of the database) → a time of day."""
    if raw is None or isinstance(raw, dt.time):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    m = TIME_RE.match(text)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3) or 0) > 59:
        raise ValidationFailed(_("{label}格式不正确（例如 08:00）：{value}", label=label, value=text[:20]),
                               field=field)
    return dt.time(int(m.group(1)), int(m.group(2)))


# Shift times arrive as text from forms, files and JSON; they are parsed as they are set, so a field error
# is reported with the others and nothing that is not a time of day ever reaches the column.
@event.listens_for(Shift.start_time, "set", retval=True)
def _set_start(target, value, _old, _initiator):
    return parse_time(value, "start_time", _("开始时间"))


@event.listens_for(Shift.end_time, "set", retval=True)
def _set_end(target, value, _old, _initiator):
    return parse_time(value, "end_time", _("结束时间"))


def shift_minutes(shift: Shift) -> int:
    """Length of a shift from start to end in minutes (an end at or before the start is the next day)."""
    start = shift.start_time.hour * 60 + shift.start_time.minute
    end = shift.end_time.hour * 60 + shift.end_time.minute
    return end - start if end > start else end + 24 * 60 - start


def _validate_shift(uow, obj: Shift, data: dict) -> None:
    _code(obj, _("编码"))
    if obj.break_minutes is None:
        obj.break_minutes = 0
    if obj.break_minutes < 0:
        raise ValidationFailed(_("休息时间不能为负数"), field="break_minutes")
    if obj.break_minutes >= shift_minutes(obj):
        raise ValidationFailed(_("休息时间必须短于班次时长（{n} 分钟）", n=shift_minutes(obj)),
                               field="break_minutes")


shifts = register(Resource(
    name="shifts", model=Shift, label=_l("班次"), key="code", module="mes", api_prefix="mes",
    read_permission=READ, write_permission=WRITE, default_sort="start_time", validate=_validate_shift,
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=60),
        Field("start_time", _l("开始时间"), required=True, max_length=8, help=_l("例如 08:00")),
        Field("end_time", _l("结束时间"), required=True, max_length=8,
              help=_l("早于或等于开始时间表示跨过午夜，到次日结束")),
        Field("break_minutes", _l("休息(分钟)"), "int", default=0,
              help=_l("休息时间按位于班次正中计算")),
        Field("active", _l("启用"), "bool", default=True, list=False),
    ]))

__all__ = ["equipment", "parse_time", "shift_minutes", "shifts", "work_centers"]
