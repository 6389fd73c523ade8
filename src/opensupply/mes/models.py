"""MES tables. Tables only; behaviour lives in the services.

* Shop floor: `mes_work_center` (a line or cell: its staging location 线边库位, hourly conversion cost,
  feeding-alert settings) and its `mes_equipment` (machines with status 运行/空闲/故障/保养, ideal cycle time
  for OEE); `mes_equipment_status` is the status history (downtime log) — one open row per machine.
* Calendar: `mes_shift` (班次 templates) and `mes_shift_assignment` (产线排班: a shift of a work center on a
  day, with its crew in `mes_shift_crew`); capacity and scheduling windows derive from them.
* `mes_routing` (+ `mes_routing_operation`): how a product is made — operations on work centers with setup
  and run times, optionally for one BOM version; `mes_checklist` quality checklists used at operations
  and at final inspection.
* `mes_work_order` — a production order on one released BOM version and routing: its components
  (`mes_work_order_component`, reserved → issued to the line → consumed), operations
  (`mes_work_order_operation`, scheduled and reported) and completions (`mes_completion`, each posting
  consumption and output moves); `mes_operation_log` is every scan-terminal event; `mes_lot_link` the lot
  genealogy (component lot consumed → lot produced).
* `mes_quality_check` (in-process and final inspection results with disposition), `mes_feeding_task`
  (上料提醒 → replenishment of a line's staging location), `mes_schedule_run` (a scheduling job's result).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity, Entity
from opensupply.core.types import Amount, Qty, UTCDateTime

EQUIPMENT_STATUSES = ("running", "idle", "down", "maintenance")  # 运行 / 空闲 / 故障 / 保养
WORK_ORDER_STATES = ("draft", "released", "in_progress", "done", "cancelled")
WORK_ORDER_KINDS = ("normal", "pilot", "rework")  # 量产 / 试产 / 返工
WORK_ORDER_SOURCES = ("manual", "sales_order", "planned_order", "quality")
OPERATION_STATES = ("pending", "running", "paused", "done", "cancelled")
CONSUMPTION = ("backflush", "pick")  # 倒冲 (consumed at report) / 领料 (issued to the line first)
CHECK_RESULTS = ("pass", "fail")
DISPOSITIONS = ("none", "accept", "rework", "scrap")  # nonconformance: 让步接收 / 返工 / 报废
FEEDING_STATES = ("open", "done", "cancelled")


class WorkCenter(CompanyEntity, Base):
    """A production line or cell (产线/工作中心). Material for it is staged at `staging_location_id`
    (线边库位, an internal location of `warehouse_id`); `cost_per_hour` is the labour and overhead
    absorbed into the product per hour of operation time."""

    __tablename__ = "mes_work_center"
    __label__ = "工作中心"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"))
    staging_location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id"))
    cost_per_hour: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    capacity: Mapped[int] = mapped_column(Integer, default=1)  # parallel units when it has no equipment
    feeding_alert_minutes: Mapped[int] = mapped_column(Integer, default=30)  # remind when material lasts less
    feeding_cover_minutes: Mapped[int] = mapped_column(Integer, default=120)  # a feeding task brings this much
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Equipment(CompanyEntity, Base):
    __tablename__ = "mes_equipment"
    __label__ = "设备"
    __table_args__ = (
        UniqueConstraint("company_id", "code"),
        CheckConstraint("status in ('running','idle','down','maintenance')", name="status"),
    )

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    work_center_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_center.id"), index=True)
    model: Mapped[str | None] = mapped_column(String(80))  # 型号
    status: Mapped[str] = mapped_column(String(12), default="idle")
    status_reason: Mapped[str | None] = mapped_column(String(200))
    status_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ideal_cycle_seconds: Mapped[Decimal | None] = mapped_column(Qty)  # per unit, for OEE performance
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    work_center: Mapped[WorkCenter] = relationship(lazy="joined")


class EquipmentStatusLog(CompanyEntity, Base):
    """One period a machine spent in one status; `ended_at` is empty for the current one."""

    __tablename__ = "mes_equipment_status"
    __label__ = "设备状态记录"
    __table_args__ = (Index("ix_mes_equipment_status_equipment_started", "equipment_id", "started_at"),)

    equipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_equipment.id"))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    work_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_work_order.id"))


class Shift(CompanyEntity, Base):
    """A shift template (早班 08:00–16:00); an end at or before the start runs past midnight."""

    __tablename__ = "mes_shift"
    __label__ = "班次"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(60))
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    break_minutes: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ShiftAssignment(CompanyEntity, Base):
    """产线排班: a work center works `shift_id` on `date` with `headcount` people (its crew below)."""

    __tablename__ = "mes_shift_assignment"
    __label__ = "排班"
    __table_args__ = (UniqueConstraint("work_center_id", "date", "shift_id"),)

    work_center_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_center.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    shift_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_shift.id"))
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(String(200))

    shift: Mapped[Shift] = relationship(lazy="joined")
    crew: Mapped[list[ShiftCrew]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ShiftCrew(Entity, Base):
    __tablename__ = "mes_shift_crew"
    __table_args__ = (UniqueConstraint("assignment_id", "employee_id"),)

    assignment_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_shift_assignment.id", ondelete="CASCADE"),
                                               index=True)
    employee_id: Mapped[int] = mapped_column(BigId, ForeignKey("employee.id"))
    role: Mapped[str | None] = mapped_column(String(40))  # 班长 / 操作工 / 质检


class QualityChecklist(CompanyEntity, Base):
    """Check items: `[{"name": "外观", "kind": "check"}, {"name": "长度", "kind": "measure", "min": 99.5,
    "max": 100.5, "unit": "mm"}]` — a check passes or fails, a measurement passes inside its limits."""

    __tablename__ = "mes_checklist"
    __label__ = "质检方案"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    items: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Routing(CompanyEntity, Base):
    """How a product is made: for one BOM version (`bom_id`) or for every version (empty)."""

    __tablename__ = "mes_routing"
    __label__ = "工艺路线"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    bom_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bom.id"), index=True)
    final_checklist_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_checklist.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    operations: Mapped[list[RoutingOperation]] = relationship(
        cascade="all, delete-orphan", order_by="RoutingOperation.sequence", lazy="selectin")


class RoutingOperation(Entity, Base):
    __tablename__ = "mes_routing_operation"
    __table_args__ = (UniqueConstraint("routing_id", "sequence"),
                      CheckConstraint("setup_minutes >= 0 and run_minutes >= 0", name="times"))

    routing_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_routing.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=10)
    name: Mapped[str] = mapped_column(String(80))
    work_center_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_center.id"))
    setup_minutes: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))  # once per work order
    run_minutes: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))  # per unit
    checklist_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_checklist.id"))
    instructions: Mapped[str | None] = mapped_column(Text)

    work_center: Mapped[WorkCenter] = relationship(lazy="joined")


class WorkOrder(CompanyEntity, Base):
    """A production order (生产工单). `bom_id` is the version in force when it was created: a later
    engineering change does not touch it."""

    __tablename__ = "mes_work_order"
    __label__ = "生产工单"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        CheckConstraint("state in ('draft','released','in_progress','done','cancelled')", name="state"),
        CheckConstraint("kind in ('normal','pilot','rework')", name="kind"),
        CheckConstraint("quantity > 0", name="positive_qty"),
        Index("ix_mes_work_order_company_state", "company_id", "state"),
    )

    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10), default="normal")
    state: Mapped[str] = mapped_column(String(12), default="draft")
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    bom_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bom.id"), index=True)
    routing_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_routing.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)  # in the product's unit
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    dest_location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id"))  # finished goods go here
    lot_name: Mapped[str | None] = mapped_column(String(80))  # output lot (lot-tracked products)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first when due dates tie
    planned_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    planned_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    qty_done: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    qty_scrapped: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    source: Mapped[str] = mapped_column(String(16), default="manual")
    sales_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_order.id"), index=True)
    source_ref: Mapped[str | None] = mapped_column(String(80))  # planned order / quality check number
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_work_order.id"))  # rework of
    notes: Mapped[str | None] = mapped_column(Text)

    product = relationship("Product", lazy="joined")
    components: Mapped[list[WorkOrderComponent]] = relationship(
        cascade="all, delete-orphan", order_by="WorkOrderComponent.id", lazy="selectin")
    operations: Mapped[list[WorkOrderOperation]] = relationship(
        cascade="all, delete-orphan", order_by="WorkOrderOperation.sequence", lazy="selectin",
        back_populates="work_order")


class WorkOrderComponent(Entity, Base):
    """One material of a work order, in the component's own unit: `required_qty` for the whole order
    (BOM quantity × scrap factor), `issued_qty` moved to the line, `consumed_qty` used up by completions.
    By-products (`is_byproduct`) are outputs: `consumed_qty` then counts what was produced."""

    __tablename__ = "mes_work_order_component"
    __table_args__ = (CheckConstraint("consumption in ('backflush','pick')", name="consumption"),)

    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_order.id", ondelete="CASCADE"),
                                               index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity_per_unit: Mapped[Decimal] = mapped_column(Qty)  # per unit of output, scrap factor included
    required_qty: Mapped[Decimal] = mapped_column(Qty)
    issued_qty: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    consumed_qty: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    consumption: Mapped[str] = mapped_column(String(10), default="backflush")
    operation_sequence: Mapped[int | None] = mapped_column(Integer)  # consumed at this operation (else the first)
    is_byproduct: Mapped[bool] = mapped_column(Boolean, default=False)

    product = relationship("Product", lazy="joined")


class WorkOrderOperation(CompanyEntity, Base):
    __tablename__ = "mes_work_order_operation"
    __label__ = "工单工序"
    __table_args__ = (
        UniqueConstraint("work_order_id", "sequence"),
        CheckConstraint("state in ('pending','running','paused','done','cancelled')", name="state"),
    )

    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_order.id", ondelete="CASCADE"),
                                               index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    work_center_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_center.id"), index=True)
    equipment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_equipment.id"))
    setup_minutes: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    run_minutes: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))  # per unit
    checklist_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_checklist.id"))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    planned_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    planned_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)  # rescheduling keeps it where it is
    actual_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    actual_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    qty_good: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    qty_scrap: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    labour_minutes: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))

    work_order: Mapped[WorkOrder] = relationship(back_populates="operations")
    work_center: Mapped[WorkCenter] = relationship(lazy="joined")


class OperationLog(CompanyEntity, Base):
    """One scan-terminal event: start / pause / resume / finish of an operation by an operator.
    `client_scan_id` makes a double-submitted scan count once."""

    __tablename__ = "mes_operation_log"
    __label__ = "报工记录"
    __table_args__ = (
        UniqueConstraint("company_id", "client_scan_id"),
        CheckConstraint("event in ('start','pause','resume','finish','report')", name="event"),
        Index("ix_mes_operation_log_operation", "operation_id", "at"),
    )

    operation_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_order_operation.id"))
    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_order.id"), index=True)
    event: Mapped[str] = mapped_column(String(10))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(BigId)
    employee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employee.id"))
    equipment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_equipment.id"), index=True)
    qty_good: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    qty_scrap: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    reason: Mapped[str | None] = mapped_column(String(200))
    labour_minutes: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))  # active time ended by this event
    client_scan_id: Mapped[str | None] = mapped_column(String(64))


class WorkOrderCompletion(CompanyEntity, Base):
    """完工入库: good units into stock and the components they used out of it, valued at what was
    consumed plus the conversion cost of the operations (so 5001 生产成本 clears)."""

    __tablename__ = "mes_completion"
    __label__ = "完工记录"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_order.id"), index=True)
    qty_good: Mapped[Decimal] = mapped_column(Qty)
    qty_scrap: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"), index=True)
    date_done: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    material_value: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    conversion_value: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    byproduct_value: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    finished_value: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    finished_move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"))
    entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entry.id"))  # conversion cost voucher
    client_key: Mapped[str | None] = mapped_column(String(64))


class LotLink(CompanyEntity, Base):
    """Lot genealogy: `quantity` of `consumed_product_id` (lot `consumed_lot_id`, empty when the
    component is not lot-tracked) went into lot `produced_lot_id` of `produced_product_id`."""

    __tablename__ = "mes_lot_link"
    __label__ = "批次谱系"
    __table_args__ = (Index("ix_mes_lot_link_consumed", "company_id", "consumed_lot_id"),
                      Index("ix_mes_lot_link_produced", "company_id", "produced_lot_id"))

    completion_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_completion.id"), index=True)
    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_order.id"))
    produced_product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    produced_lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"))
    consumed_product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    consumed_lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"))


class QualityCheck(CompanyEntity, Base):
    """An inspection (in-process at an operation, or final) of `qty_inspected` units of a work order's
    output lot; failed units get a disposition (rework / scrap / accept) with a reason."""

    __tablename__ = "mes_quality_check"
    __label__ = "质检记录"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        CheckConstraint("stage in ('operation','final')", name="stage"),
        CheckConstraint("result in ('pass','fail')", name="result"),
        CheckConstraint("disposition in ('none','accept','rework','scrap')", name="disposition"),
    )

    number: Mapped[str] = mapped_column(String(40))
    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_order.id"), index=True)
    operation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_work_order_operation.id"))
    stage: Mapped[str] = mapped_column(String(10), default="final")
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"), index=True)
    checklist_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_checklist.id"))
    results: Mapped[list] = mapped_column(JSON, default=list)  # [{"name", "value", "ok"}]
    result: Mapped[str] = mapped_column(String(4))
    qty_inspected: Mapped[Decimal] = mapped_column(Qty)
    qty_failed: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    inspector_id: Mapped[int | None] = mapped_column(BigId)
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disposition: Mapped[str] = mapped_column(String(8), default="none")
    disposition_reason: Mapped[str | None] = mapped_column(String(200))
    disposition_qty: Mapped[Decimal | None] = mapped_column(Qty)  # failed units the disposition covers
    disposed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disposed_by_id: Mapped[int | None] = mapped_column(BigId)
    rework_work_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_work_order.id"))
    scrap_move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"))
    notes: Mapped[str | None] = mapped_column(Text)


class FeedingTask(CompanyEntity, Base):
    """上料提醒: material at a line's staging location will run out within the alert time at the current
    run rate, so the warehouse brings `quantity` from `source_location_id`."""

    __tablename__ = "mes_feeding_task"
    __label__ = "上料任务"
    __table_args__ = (
        CheckConstraint("state in ('open','done','cancelled')", name="state"),
        Index("ix_mes_feeding_task_open", "company_id", "state", "work_center_id"),
    )

    number: Mapped[str] = mapped_column(String(40))
    work_center_id: Mapped[int] = mapped_column(BigId, ForeignKey("mes_work_center.id"))
    work_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mes_work_order.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    source_location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id"))
    dest_location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"))
    minutes_left: Mapped[Decimal | None] = mapped_column(Qty)  # when raised
    run_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="open")
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(BigId)
    move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))


class ScheduleRun(CompanyEntity, Base):
    """One finite-capacity scheduling run (a background job) and what it achieved."""

    __tablename__ = "mes_schedule_run"
    __label__ = "排产记录"

    job_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(10), default="running")  # running | done | failed
    horizon_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    operations: Mapped[int] = mapped_column(Integer, default=0)
    total_tardiness_minutes: Mapped[int | None] = mapped_column(Integer)
    makespan_minutes: Mapped[int | None] = mapped_column(Integer)
    late_orders: Mapped[list] = mapped_column(JSON, default=list)  # [{"work_order", "due", "end"}]
    status: Mapped[str | None] = mapped_column(String(20))  # solver status (OPTIMAL / FEASIBLE)
    message: Mapped[str | None] = mapped_column(String(300))
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
