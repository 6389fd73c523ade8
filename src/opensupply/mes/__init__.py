"""MES — manufacturing execution: work centers and equipment (status board, downtime, OEE), routings, shift
calendars and line rostering, work orders on released BOM versions (material reservation, issue or
backflush, completion posting stock moves and WIP/finished-goods entries), finite-capacity scheduling with
OR-Tools CP-SAT (`scheduling.py`, pure), the operator scan terminal, quality checks, material-feeding
reminders and lot genealogy (trace a lot backward to supplier lots and forward to customers)."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="mes",
    label=_l("生产执行"),
    depends=("masterdata", "inventory", "accounting", "erp"),
    menu=(
        MenuItem(_l("生产工单"), "/mes/work-orders", "mes.read"),
        MenuItem(_l("排产甘特图"), "/mes/schedule", "mes.read"),
        MenuItem(_l("报工终端"), "/mes/terminal", "mes.report"),
        MenuItem(_l("设备看板"), "/mes/equipment-board", "mes.read"),
        MenuItem(_l("设备综合效率 OEE"), "/mes/oee", "mes.read"),
        MenuItem(_l("产能负荷"), "/mes/capacity", "mes.read"),
        MenuItem(_l("质量检验"), "/mes/quality-checks", "mes.read"),
        MenuItem(_l("上料提醒"), "/mes/feeding", "mes.read"),
        MenuItem(_l("批次追溯"), "/mes/trace", "mes.read"),
        MenuItem(_l("工艺路线"), "/mes/routings", "mes.read"),
        MenuItem(_l("工作中心与设备"), "/mes/work-centers", "mes.admin"),
        MenuItem(_l("产线排班"), "/mes/roster", "mes.read"),
        MenuItem(_l("班次"), "/mes/shifts", "mes.admin"),
    ),
    handlers=("opensupply.mes.feeding", "opensupply.mes.schedule_job"),
    permissions=("mes.read", "mes.write", "mes.report", "mes.quality", "mes.feed", "mes.admin"),
    stage=3,
)
