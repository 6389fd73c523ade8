"""Finite-capacity scheduling of the shop (排产) as a background job, and freezing operations in place.

* `start_schedule(uow, horizon_start=…, time_limit_s=…, horizon_days=…)` records a `ScheduleRun` (运行中) and
  enqueues the job `mes.schedule`, which reads the plant (`build_input`), solves outside any transaction
  (`scheduling.schedule_operations`, pure) and writes the plan (`store_result`). `run_schedule(uow, …)` does
  the same at once in the caller's unit of work (tests, CLI).
* **What is scheduled**: the pending / paused operations of released and in-progress work orders, for their
  remaining standard minutes (`calendar.remaining_minutes`, whole minutes rounded up), on any active machine of
  their work center (a work center without equipment has `capacity` parallel units). Time zero is the horizon
  start — never before now, which is every order's release.
* **What stays**: running operations hold their machine from their start until their planned end (or now +
  what remains); frozen operations (`frozen`, with planned times) are fixed at their slot and machine; done and
  cancelled operations are left out. So re-running keeps frozen operations in place ("drag-free rescheduling":
  freeze what must not move, optionally at a chosen start and machine, and schedule the rest around it).
* **Calendar**: a work center's working time is its roster (`calendar.working_windows`, breaks out) over the
  horizon; one without any roster entry in the horizon is taken as working around the clock (no calendar kept).
  An operation must fit inside one working window; one longer than the longest is reported.
* **Objective**: total tardiness weighted by priority (weight 1 + priority) first, then the makespan. A work
  order is due at the end of its due date in the company's zone.
* **Result**: planned_start / planned_end / equipment_id on every scheduled operation, planned_start / end on
  the work orders, and the run's tardiness, makespan, late orders and solver status. An operation that started,
  finished or was frozen while the solver ran keeps what it has (counted as skipped).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from opensupply.core import jobs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork

from . import calendar, scheduling
from .models import Equipment, ScheduleRun, WorkCenter, WorkOrder, WorkOrderOperation
from .terminal import op_state_label

JOB_KIND = "mes.schedule"
DEFAULT_HORIZON_DAYS = 28
MAX_HORIZON_DAYS = 120
RUN_STATES = {"running": _l("运行中"), "done": _l("已完成"), "failed": _l("失败")}
SCHEDULABLE = ("pending", "paused")


def run_state_label(state: str) -> str:
    return str(RUN_STATES.get(state, state))


def eq_key(equipment_id: int) -> str:
    return f"eq:{equipment_id}"


def unit_key(work_center_id: int, unit: int) -> str:
    return f"wc:{work_center_id}:{unit}"


@dataclass
class ScheduleInput:
    """What the solver needs and how to write its answer back; plain data so the job solves between
    transactions."""

    origin: dt.datetime  # minute 0, UTC
    horizon_days: int
    problem: scheduling.SchedulingProblem
    operations: dict[int, dict] = field(default_factory=dict)  # op id → work order, names, fixed
    orders: dict[int, dict] = field(default_factory=dict)  # work order id → number, due
    longest_window: dict[int, int] = field(default_factory=dict)  # work center → minutes


def _minutes_after(origin: dt.datetime, at: dt.datetime, *, up: bool) -> int:
    m = (at - origin).total_seconds() / 60
    return math.ceil(m - 1e-9) if up else math.floor(m + 1e-9)


def _due_at(tz, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def _origin(horizon_start: dt.datetime | None) -> dt.datetime:
    now = utcnow()
    if horizon_start is not None and horizon_start.tzinfo is None:
        raise ValidationFailed(_("时间必须带时区"), field="horizon_start")
    start = max(horizon_start or now, now)
    return (start + dt.timedelta(minutes=1)).replace(second=0, microsecond=0) if start.second or start.microsecond \
        else start


def _check_params(time_limit_s: Any, horizon_days: Any) -> tuple[float, int]:
    try:
        limit = float(time_limit_s)
        days = int(horizon_days)
    except (TypeError, ValueError):
        raise ValidationFailed(_("求解时限和排产天数必须是数字"), field="time_limit_s") from None
    if not 0.5 <= limit <= 600:
        raise ValidationFailed(_("求解时限应在 0.5 到 600 秒之间"), field="time_limit_s")
    if not 1 <= days <= MAX_HORIZON_DAYS:
        raise ValidationFailed(_("排产天数应在 1 到 {n} 天之间", n=MAX_HORIZON_DAYS), field="horizon_days")
    return limit, days


def build_input(uow: UnitOfWork, *, horizon_start: dt.datetime | None = None, time_limit_s: float = 10,
                horizon_days: int = DEFAULT_HORIZON_DAYS) -> ScheduleInput:
    """Read open work orders, machines and the calendar into a SchedulingProblem (one query per kind)."""
    limit, days = _check_params(time_limit_s, horizon_days)
    origin = _origin(horizon_start)
    now = utcnow()
    tz = calendar.company_tz(uow)
    horizon = days * 24 * 60
    end = origin + dt.timedelta(minutes=horizon)
    orders = list(uow.session.scalars(select(WorkOrder).where(
        WorkOrder.company_id == uow.company_id, WorkOrder.state.in_(calendar.SCHEDULED_WO_STATES))
        .order_by(WorkOrder.id)))
    wc_ids = sorted({op.work_center_id for wo in orders for op in wo.operations})
    machines: dict[int, list[str]] = defaultdict(list)
    for eq_id, wc_id in uow.session.execute(select(Equipment.id, Equipment.work_center_id).where(
            Equipment.company_id == uow.company_id, Equipment.active.is_(True),
            Equipment.work_center_id.in_(wc_ids or [0])).order_by(Equipment.code)).all():
        machines[wc_id].append(eq_key(eq_id))
    caps = dict(uow.session.execute(select(WorkCenter.id, WorkCenter.capacity).where(
        WorkCenter.id.in_(wc_ids or [0]))).all())
    for wc_id in wc_ids:
        if not machines[wc_id]:
            machines[wc_id] = [unit_key(wc_id, k) for k in range(max(1, int(caps.get(wc_id) or 1)))]
    windows = calendar.working_windows(uow, wc_ids, origin, end)
    calendars: dict[object, list[tuple[int, int]]] = {}
    longest: dict[int, int] = {}
    for wc_id, spans in windows.items():
        if not spans:
            longest[wc_id] = horizon
            continue
        mins = [(max(0, _minutes_after(origin, s, up=True)), min(horizon, _minutes_after(origin, e, up=False)))
                for s, e in spans]
        mins = [(s, e) for s, e in mins if e > s]
        longest[wc_id] = max((e - s for s, e in mins), default=0)
        for m in machines[wc_id]:
            calendars[m] = mins
    si = ScheduleInput(origin=origin, horizon_days=days, problem=scheduling.SchedulingProblem(
        orders=[], horizon=horizon, calendars=calendars, time_limit_s=limit), longest_window=longest)
    unit_busy: dict[str, list[tuple[int, int]]] = defaultdict(list)  # frozen work on machine-less units

    def fixed_machine(op: WorkOrderOperation, s: int, e: int) -> str:
        if op.equipment_id:
            return eq_key(op.equipment_id)
        units = machines.get(op.work_center_id) or [unit_key(op.work_center_id, 0)]
        for u in units:
            if all(e <= bs or s >= be for bs, be in unit_busy[u]):
                unit_busy[u].append((s, e))
                return u
        return units[0]

    for wo in orders:
        ops = []
        for op in sorted(wo.operations, key=lambda o: o.sequence):
            if op.state not in ("pending", "paused", "running"):
                continue
            left = calendar.remaining_minutes(op, wo.quantity)
            duration = max(1, math.ceil(left)) if left > 0 else 0
            if op.state == "running":
                began = op.actual_start or op.planned_start or now
                finish = op.planned_end if op.planned_end and op.planned_end > now else \
                    now + dt.timedelta(minutes=max(1, duration))
                s = _minutes_after(origin, began, up=False)
                e = max(s + 1, _minutes_after(origin, finish, up=True))
                fixed = (s, e)
            elif duration <= 0:
                continue  # everything reported: nothing left to plan
            elif op.frozen and op.planned_start and op.planned_end and op.planned_end > op.planned_start:
                s = _minutes_after(origin, op.planned_start, up=False)
                fixed = (s, max(s + 1, _minutes_after(origin, op.planned_end, up=True)))
            else:
                fixed = None
            if fixed:
                m = fixed_machine(op, *fixed)
                sop = scheduling.Operation(op.id, machines.get(op.work_center_id) or [m], fixed[1] - fixed[0],
                                           fixed_start=fixed[0], fixed_machine=m)
            else:
                sop = scheduling.Operation(op.id, list(machines[op.work_center_id]), duration)
            ops.append(sop)
            si.operations[op.id] = {"work_order_id": wo.id, "number": wo.number, "name": op.name,
                                    "sequence": op.sequence, "work_center_id": op.work_center_id,
                                    "fixed": fixed is not None, "minutes": sop.duration}
        if not ops:
            continue
        due = _due_at(tz, wo.due_date) if wo.due_date else None
        si.orders[wo.id] = {"number": wo.number, "due_date": wo.due_date.isoformat() if wo.due_date else None,
                            "due": due}
        si.problem.orders.append(scheduling.Order(
            wo.id, ops, release=0, due=_minutes_after(origin, due, up=False) if due else None,
            weight=1 + max(0, int(wo.priority or 0))))
    return si


def solve_input(si: ScheduleInput) -> scheduling.SchedulingResult:
    """Solve and verify; a problem that cannot be scheduled becomes a clear error naming what is wrong."""
    try:
        result = scheduling.schedule_operations(si.problem)
    except scheduling.SchedulingError as exc:
        raise ValidationFailed(_explain(si, exc), field="schedule", code=f"schedule_{exc.kind}") from exc
    errors = scheduling.check_operations(si.problem, result)
    if errors:  # never store what the independent check refuses
        raise Conflict(_("排产结果未通过校验：{e}", e="; ".join(errors[:3])), code="schedule_infeasible")
    return result


def _explain(si: ScheduleInput, exc: scheduling.SchedulingError) -> str:
    op = si.operations.get(exc.key) if exc.key is not None else None
    if exc.kind == "too_long" and op:
        return _("工单 {n} 的工序 {op} 需要 {m} 分钟，超过该工作中心最长的连续工作时段（{w} 分钟）：请延长班次、"
                 "减少休息或拆分工单", n=op["number"], op=op["name"], m=op["minutes"],
                 w=si.longest_window.get(op["work_center_id"], 0))
    if exc.kind == "frozen_overlap" and op:
        return _("冻结的工序与同一设备上的其他冻结或进行中的工序时间重叠：工单 {n} {op}", n=op["number"], op=op["name"])
    if exc.kind == "frozen_order" and op:
        return _("工单 {n} 的冻结工序 {op} 排在它前一道冻结工序结束之前", n=op["number"], op=op["name"])
    if exc.kind == "no_solution":
        return _("在求解时限内没有找到可行的排程，请延长求解时限")
    return _("{d} 天的排产范围内排不下全部工序（产能不足，或冻结工序之前的工序没有足够时间）：请延长排产天数、"
             "增加班次或解冻部分工序", d=si.horizon_days)


def store_result(uow: UnitOfWork, si: ScheduleInput, result: scheduling.SchedulingResult,
                 run: ScheduleRun) -> ScheduleRun:
    """Write the plan onto the operations and work orders, and the figures onto the run."""
    ids = [k for k, v in si.operations.items() if not v["fixed"]]
    rows = {op.id: op for op in uow.session.scalars(select(WorkOrderOperation).where(
        WorkOrderOperation.company_id == uow.company_id, WorkOrderOperation.id.in_(ids or [0]))
        .with_for_update(of=WorkOrderOperation))} if ids else {}
    skipped = 0
    for op_id in ids:
        op, planned = rows.get(op_id), result.operations[op_id]
        if op is None or op.state not in SCHEDULABLE or op.frozen:  # changed on the floor meanwhile
            skipped += 1
            continue
        op.planned_start = si.origin + dt.timedelta(minutes=planned.start)
        op.planned_end = si.origin + dt.timedelta(minutes=planned.end)
        op.equipment_id = int(planned.machine[3:]) if str(planned.machine).startswith("eq:") else None
    uow.flush()
    wo_ids = list(si.orders)
    bounds = {wo_id: (s, e) for wo_id, s, e in uow.session.execute(
        select(WorkOrderOperation.work_order_id, func.min(WorkOrderOperation.planned_start),
               func.max(WorkOrderOperation.planned_end)).where(
            WorkOrderOperation.work_order_id.in_(wo_ids or [0]), WorkOrderOperation.state != "cancelled")
        .group_by(WorkOrderOperation.work_order_id)).all()}
    for wo in uow.session.scalars(select(WorkOrder).where(WorkOrder.id.in_(wo_ids or [0])).with_for_update(
            of=WorkOrder)):
        s, e = bounds.get(wo.id, (None, None))
        wo.planned_start, wo.planned_end = s, e
    order_end: dict[int, int] = {}
    for op_id, v in si.operations.items():
        order_end[v["work_order_id"]] = max(order_end.get(v["work_order_id"], result.operations[op_id].end),
                                            result.operations[op_id].end)
    late = []
    for wo_id, minutes in result.tardiness.items():
        if minutes > 0:
            info = si.orders[wo_id]
            end = si.origin + dt.timedelta(minutes=order_end[wo_id])
            late.append({"work_order_id": wo_id, "work_order": info["number"], "due": info["due_date"],
                         "end": end.isoformat(), "minutes_late": minutes})
    late.sort(key=lambda x: -x["minutes_late"])
    run.state = "done"
    run.horizon_start = si.origin  # a queued job starts a little after it was asked for
    run.operations = len(ids) - skipped
    run.total_tardiness_minutes = sum(result.tardiness.values())
    run.makespan_minutes = result.makespan
    run.late_orders = late
    run.status = result.status
    run.params = {**(run.params or {}), "weighted_tardiness": result.total_tardiness, "skipped": skipped,
                  "fixed": sum(1 for v in si.operations.values() if v["fixed"]),
                  "work_orders": len(si.orders), "wall_time_s": round(result.wall_time_s, 2)}
    run.message = (_("{n} 道工序在求解期间已开工、完工或被冻结，保持不变", n=skipped) if skipped else None)
    run.finished_at = utcnow()
    uow.flush()
    uow.emit("mes.schedule_done", run_id=run.id, operations=run.operations, late_orders=len(late))
    return run


def _new_run(uow: UnitOfWork, horizon_start, time_limit_s, horizon_days) -> ScheduleRun:
    limit, days = _check_params(time_limit_s, horizon_days)
    origin = _origin(horizon_start)
    busy = uow.session.scalar(select(ScheduleRun.id).join(jobs.Job, jobs.Job.id == ScheduleRun.job_id).where(
        ScheduleRun.company_id == uow.company_id, ScheduleRun.state == "running",
        jobs.Job.status.in_((jobs.QUEUED, jobs.RUNNING))).limit(1))
    if busy:
        raise Conflict(_("已有排产任务在运行，请等待它完成"), field="schedule", code="schedule_running")
    run = ScheduleRun(state="running", horizon_start=origin,
                      params={"time_limit_s": limit, "horizon_days": days})
    uow.add(run)
    uow.flush()
    return run


def run_schedule(uow: UnitOfWork, *, horizon_start: dt.datetime | None = None, time_limit_s: float = 10,
                 horizon_days: int = DEFAULT_HORIZON_DAYS) -> ScheduleRun:
    """Schedule now, in the caller's unit of work."""
    run = _new_run(uow, horizon_start, time_limit_s, horizon_days)
    si = build_input(uow, horizon_start=run.horizon_start, time_limit_s=time_limit_s, horizon_days=horizon_days)
    return store_result(uow, si, solve_input(si), run)


def start_schedule(uow: UnitOfWork, *, horizon_start: dt.datetime | None = None, time_limit_s: float = 10,
                   horizon_days: int = DEFAULT_HORIZON_DAYS) -> ScheduleRun:
    """A run (运行中) solved by the background job `mes.schedule` after the commit."""
    run = _new_run(uow, horizon_start, time_limit_s, horizon_days)
    run.job_id = jobs.enqueue(uow, JOB_KIND, {"run_id": run.id}).id
    return run


@jobs.job(JOB_KIND)
def _schedule_job(ctx: jobs.JobContext) -> dict:
    run_id = int(ctx.params["run_id"])
    try:
        ctx.progress(5, _("读取工单、设备与排班"))
        with ctx.uow() as uow:
            run = uow.get(ScheduleRun, run_id)
            params = dict(run.params or {})
            si = build_input(uow, horizon_start=run.horizon_start, time_limit_s=params.get("time_limit_s", 10),
                             horizon_days=params.get("horizon_days", DEFAULT_HORIZON_DAYS))
        n = len(si.operations)
        ctx.progress(20, _("求解 {n} 道工序（最长 {s} 秒）", n=n, s=f"{si.problem.time_limit_s:g}"))
        result = solve_input(si)
        ctx.progress(85, _("保存排产结果"))
        with ctx.uow() as uow:
            run = uow.get(ScheduleRun, run_id, for_update=True)
            store_result(uow, si, result, run)
            return {"run_id": run.id, "operations": run.operations, "late_orders": len(run.late_orders or []),
                    "status": run.status}
    except Exception as exc:
        with ctx.uow() as uow:
            run = uow.get(ScheduleRun, run_id, for_update=True)
            if run.state == "running":
                run.state = "failed"
                run.finished_at = utcnow()
                run.message = (_("已取消") if isinstance(exc, jobs.JobCancelled) else
                               getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")[:300]
        raise


# ------------------------------------------------------------------ runs
def get_run(uow: UnitOfWork, run_id: int) -> ScheduleRun:
    return uow.get(ScheduleRun, run_id)


def list_runs(uow: UnitOfWork, *, limit: int = 20, offset: int = 0) -> tuple[list[ScheduleRun], int]:
    stmt = select(ScheduleRun).where(ScheduleRun.company_id == uow.company_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(uow.session.scalars(stmt.order_by(ScheduleRun.id.desc()).limit(max(1, min(limit, 500)))
                                     .offset(max(0, offset))))
    return items, total


def run_to_dict(uow: UnitOfWork, run: ScheduleRun) -> dict:
    job = None
    if run.job_id:
        j = uow.session.get(jobs.Job, run.job_id)
        if j is not None:
            job = {"id": j.id, "status": j.status, "progress": j.progress, "message": j.message, "error": j.error}
    return {"id": run.id, "state": run.state, "state_label": run_state_label(run.state),
            "horizon_start": run.horizon_start.isoformat(), "params": run.params or {},
            "operations": run.operations, "total_tardiness_minutes": run.total_tardiness_minutes,
            "makespan_minutes": run.makespan_minutes, "late_orders": run.late_orders or [], "status": run.status,
            "message": run.message, "created_at": run.created_at.isoformat() if run.created_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None, "job": job}


# ------------------------------------------------------------------ freeze
def _op_for_update(uow: UnitOfWork, op_id: int) -> WorkOrderOperation:
    op = uow.get(WorkOrderOperation, op_id, for_update=True)
    if op.state not in SCHEDULABLE:
        raise Conflict(_("工序状态为{state}，只能冻结或解冻未开工的工序", state=_op_state_label(op.state)),
                       field="state")
    return op


def _op_state_label(state: str) -> str:
    return op_state_label(state)  # the scan terminal's words, so the floor and the plan say the same


def freeze_operation(uow: UnitOfWork, op_id: int, *, planned_start: dt.datetime | None = None,
                     equipment_id: int | None = None) -> WorkOrderOperation:
    """Keep an operation where it is planned — or pin it at `planned_start` on `equipment_id` — so that
    rescheduling leaves it there. It may not overlap another frozen or running operation of the machine, nor
    its work order's other fixed operations out of sequence."""
    op = _op_for_update(uow, op_id)
    wo = uow.get(WorkOrder, op.work_order_id)
    if wo.state not in calendar.SCHEDULED_WO_STATES:
        raise Conflict(_("工单 {n} 未下达，不能冻结排产", n=wo.number), field="state")
    if equipment_id not in (None, ""):
        eq = uow.session.scalar(select(Equipment).where(Equipment.company_id == uow.company_id,
                                                        Equipment.id == int(equipment_id)))
        if eq is None or not eq.active:
            raise ValidationFailed(_("设备不存在或已停用：{value}", value=equipment_id), field="equipment_id")
        if eq.work_center_id != op.work_center_id:
            raise ValidationFailed(_("设备 {code} 不属于该工序的工作中心", code=eq.code), field="equipment_id")
        op.equipment_id = eq.id
    if planned_start is not None:
        if planned_start.tzinfo is None:
            raise ValidationFailed(_("时间必须带时区"), field="planned_start")
        minutes = calendar.remaining_minutes(op, wo.quantity)
        op.planned_start = planned_start.astimezone(dt.UTC).replace(second=0, microsecond=0)
        op.planned_end = op.planned_start + dt.timedelta(minutes=max(1, math.ceil(minutes)))
    if op.planned_start is None or op.planned_end is None:
        raise ValidationFailed(_("工序还没有排产时间：请先排产，或指定开始时间"), field="planned_start")
    if op.equipment_id is None and uow.session.scalar(select(func.count()).select_from(Equipment).where(
            Equipment.work_center_id == op.work_center_id, Equipment.active.is_(True))):
        raise ValidationFailed(_("请指定设备"), field="equipment_id")
    _check_fixed_neighbours(uow, op, wo)
    op.frozen = True
    uow.flush()
    return op


def _check_fixed_neighbours(uow: UnitOfWork, op: WorkOrderOperation, wo: WorkOrder) -> None:
    if op.equipment_id:
        other = uow.session.scalar(select(WorkOrderOperation).where(
            WorkOrderOperation.company_id == uow.company_id, WorkOrderOperation.id != op.id,
            WorkOrderOperation.equipment_id == op.equipment_id,
            (WorkOrderOperation.frozen.is_(True) & WorkOrderOperation.state.in_(SCHEDULABLE))
            | (WorkOrderOperation.state == "running"),
            WorkOrderOperation.planned_start < op.planned_end, WorkOrderOperation.planned_end > op.planned_start)
            .limit(1))
        if other is not None:
            number = uow.session.scalar(select(WorkOrder.number).where(WorkOrder.id == other.work_order_id))
            raise Conflict(_("与设备上已固定的工序重叠：工单 {n} {op}", n=number, op=other.name),
                           field="planned_start")
    for other in wo.operations:
        if other.id == op.id or other.planned_start is None or other.planned_end is None:
            continue
        if not ((other.frozen and other.state in SCHEDULABLE) or other.state == "running"):
            continue
        if (other.sequence < op.sequence and other.planned_end > op.planned_start) or (
                other.sequence > op.sequence and other.planned_start < op.planned_end):
            raise Conflict(_("与本工单已固定的工序 {op} 的先后顺序冲突", op=other.name), field="planned_start")


def unfreeze_operation(uow: UnitOfWork, op_id: int) -> WorkOrderOperation:
    """Let the next scheduling run move the operation again."""
    op = _op_for_update(uow, op_id)
    op.frozen = False
    uow.flush()
    return op


# ------------------------------------------------------------------ the plan as the Gantt shows it
def planned_operations(uow: UnitOfWork, start: dt.datetime, end: dt.datetime, *,
                       work_center_id: int | None = None, limit: int = 5000, offset: int = 0) -> tuple[list, int]:
    """Operations of open work orders whose planned slot overlaps [start, end), by start."""
    stmt = (select(WorkOrderOperation, WorkOrder).join(WorkOrder, WorkOrder.id == WorkOrderOperation.work_order_id)
            .where(WorkOrderOperation.company_id == uow.company_id,
                   WorkOrder.state.in_(calendar.SCHEDULED_WO_STATES),
                   WorkOrderOperation.state != "cancelled", WorkOrderOperation.planned_start.is_not(None),
                   WorkOrderOperation.planned_start < end, WorkOrderOperation.planned_end > start))
    if work_center_id:
        stmt = stmt.where(WorkOrderOperation.work_center_id == work_center_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = uow.session.execute(stmt.order_by(WorkOrderOperation.planned_start, WorkOrderOperation.id)
                               .limit(max(1, min(limit, 20000))).offset(max(0, offset))).all()
    return rows, total


def operation_to_dict(uow: UnitOfWork, op: WorkOrderOperation, wo: WorkOrder, *, equipment: dict | None = None,
                      tz=None) -> dict:
    tz = tz or calendar.company_tz(uow)
    due = _due_at(tz, wo.due_date) if wo.due_date else None
    eq = (equipment or {}).get(op.equipment_id) if op.equipment_id else None
    return {"id": op.id, "work_order_id": wo.id, "work_order": wo.number, "sku": wo.product.sku,
            "product_name": wo.product.name, "sequence": op.sequence, "name": op.name,
            "work_center_id": op.work_center_id, "work_center": op.work_center.code,
            "equipment_id": op.equipment_id, "equipment": eq["code"] if eq else None, "state": op.state,
            "state_label": _op_state_label(op.state), "frozen": op.frozen,
            "planned_start": op.planned_start.isoformat() if op.planned_start else None,
            "planned_end": op.planned_end.isoformat() if op.planned_end else None,
            "due_date": wo.due_date.isoformat() if wo.due_date else None, "due": due.isoformat() if due else None,
            "priority": wo.priority,
            "late": bool(due and wo.planned_end and wo.planned_end > due)}


def schedule_view(uow: UnitOfWork, start: dt.datetime, end: dt.datetime, *,
                  work_center_id: int | None = None) -> dict:
    """The Gantt: one row per active machine (work centers without equipment get as many rows as their
    overlapping operations need), the planned operations in [start, end), and the work orders shown."""
    tz = calendar.company_tz(uow)
    wc_stmt = select(WorkCenter).where(WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True))
    if work_center_id:
        wc_stmt = wc_stmt.where(WorkCenter.id == work_center_id)
    wcs = list(uow.session.scalars(wc_stmt.order_by(WorkCenter.code)))
    eqs = list(uow.session.scalars(select(Equipment).where(
        Equipment.company_id == uow.company_id, Equipment.work_center_id.in_([w.id for w in wcs] or [0]))
        .order_by(Equipment.code)))
    equipment = {e.id: {"code": e.code, "name": e.name, "active": e.active} for e in eqs}
    rows_raw, _total = planned_operations(uow, start, end, work_center_id=work_center_id)
    ops = [operation_to_dict(uow, op, wo, equipment=equipment, tz=tz) for op, wo in rows_raw]
    rows, index = [], {}
    for w in wcs:
        mine = [e for e in eqs if e.work_center_id == w.id and (e.active or any(
            o["equipment_id"] == e.id for o in ops))]
        for e in mine:
            index[eq_key(e.id)] = len(rows)
            rows.append({"key": eq_key(e.id), "label": f"{e.code} {e.name}", "work_center": w.code})
        lanes: list[dt.datetime] = []  # operations without a machine: first lane free at their start
        for o in (o for o in ops if o["work_center_id"] == w.id and o["equipment_id"] is None):
            s = dt.datetime.fromisoformat(o["planned_start"])
            lane = next((i for i, free in enumerate(lanes) if free <= s), None)
            if lane is None:
                lanes.append(s)
                lane = len(lanes) - 1
            lanes[lane] = dt.datetime.fromisoformat(o["planned_end"])
            key = f"wc:{w.id}:{lane}"
            if key not in index:
                index[key] = len(rows)
                rows.append({"key": key, "label": f"{w.code} {w.name}" + (f" #{lane + 1}" if lane else ""),
                             "work_center": w.code})
            o["row"] = index[key]
        if not mine and not any(r["work_center"] == w.code for r in rows):
            index[f"wc:{w.id}:0"] = len(rows)
            rows.append({"key": f"wc:{w.id}:0", "label": f"{w.code} {w.name}", "work_center": w.code})
    for o in ops:
        if "row" not in o:
            o["row"] = index.get(eq_key(o["equipment_id"])) if o["equipment_id"] else None
    ops = [o for o in ops if o["row"] is not None]
    orders: dict[int, dict] = {}
    for o in ops:
        orders.setdefault(o["work_order_id"], {"id": o["work_order_id"], "number": o["work_order"],
                                               "sku": o["sku"], "due_date": o["due_date"], "due": o["due"],
                                               "late": o["late"], "colour": len(orders)})
        o["colour"] = orders[o["work_order_id"]]["colour"]
    return {"rows": rows, "operations": ops, "orders": list(orders.values()), "start": start.isoformat(),
            "end": end.isoformat()}


__all__ = ["build_input", "freeze_operation", "get_run", "list_runs", "planned_operations", "run_schedule",
           "run_to_dict", "schedule_view", "solve_input", "start_schedule", "store_result", "unfreeze_operation"]
