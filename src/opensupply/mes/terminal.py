"""The operator scan terminal's use cases (报工): scan a work order or operation barcode, then start, pause
(with a reason), resume, report quantities and finish an operation.

* A barcode is `WO2026-000123/20` (work order / operation sequence) or just the work order number (its
  first open operation).
* Every event is one `mes_operation_log` row; `client_scan_id` (sent by the terminal with every scan)
  makes a double-submitted scan count once.
* Labour time is per operator: each operator's start/resume opens their working interval on the
  operation, their pause or the finish closes it, and the closing row carries its minutes.
* The machine follows the operation: start → 运行, pause/finish (nobody left on it) → 空闲. A machine that
  is 故障 or 保养 cannot be started on.
* Quantities: an operation cannot pass on more units than the previous (started) operation made good.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import equipment as eqs
from .models import Equipment, OperationLog, WorkOrder, WorkOrderOperation
from .work_orders import _qty, by_number, q6, state_label

OP_STATE_LABELS = {"pending": "待开工", "running": "加工中", "paused": "暂停", "done": "已完工", "cancelled": "已取消"}
PAUSE_REASONS = ("换型调机", "等料", "设备故障", "质量问题", "休息", "其他")


def op_state_label(state: str) -> str:
    return _(OP_STATE_LABELS.get(state, state))


def pause_reasons() -> list[str]:
    return [_(r) for r in PAUSE_REASONS]


# ------------------------------------------------------------------ scanning
def resolve_scan(uow: UnitOfWork, code: str) -> tuple[WorkOrder, WorkOrderOperation | None]:
    """The work order and operation a barcode names (`WO…/20`), or the work order's first open operation."""
    text = (code or "").strip().upper()
    if not text:
        raise ValidationFailed(_("请扫描工单或工序条码"), field="code")
    number, _sep, seq = text.partition("/")
    wo = by_number(uow, number)
    if seq:
        try:
            sequence = int(seq)
        except ValueError:
            raise ValidationFailed(_("工序条码不正确：{code}", code=code), field="code") from None
        op = next((o for o in wo.operations if o.sequence == sequence), None)
        if op is None:
            raise NotFound(_("工单 {n} 没有工序 {seq}", n=wo.number, seq=sequence), field="code")
        return wo, op
    return wo, next((o for o in wo.operations if o.state not in ("done", "cancelled")), None)


def _operation(uow: UnitOfWork, operation_id: int) -> tuple[WorkOrderOperation, WorkOrder]:
    op = uow.get(WorkOrderOperation, operation_id, for_update=True)
    wo = uow.get(WorkOrder, op.work_order_id, for_update=True)
    return op, wo


def _employee_for(uow: UnitOfWork, employee_id: int | None) -> int | None:
    if employee_id:
        uow.get(md.Employee, int(employee_id))
        return int(employee_id)
    if uow.actor.user_id is None:
        return None
    return uow.session.scalar(select(md.Employee.id).where(md.Employee.company_id == uow.company_id,
                                                           md.Employee.user_id == uow.actor.user_id))


def _replayed(uow: UnitOfWork, client_scan_id: str | None) -> OperationLog | None:
    if not client_scan_id:
        return None
    if len(client_scan_id) > 64:
        raise ValidationFailed(_("扫描编号过长"), field="client_scan_id")
    return uow.session.scalar(select(OperationLog).where(OperationLog.company_id == uow.company_id,
                                                         OperationLog.client_scan_id == client_scan_id))


def _open_intervals(uow: UnitOfWork, op_id: int) -> dict[int | None, dt.datetime]:
    """Operator (user id) → when their current working interval on the operation began."""
    open_: dict[int | None, dt.datetime] = {}
    for ev, user, at in uow.session.execute(select(OperationLog.event, OperationLog.user_id, OperationLog.at).where(
            OperationLog.operation_id == op_id).order_by(OperationLog.at, OperationLog.id)):
        if ev in ("start", "resume"):
            open_.setdefault(user, at)
        elif ev == "pause":
            open_.pop(user, None)
        elif ev == "finish":
            open_.clear()
    return open_


def _minutes(since: dt.datetime, until: dt.datetime) -> Decimal:
    return q6(Decimal(str(max((until - since).total_seconds(), 0))) / 60)


def _log(uow: UnitOfWork, op: WorkOrderOperation, event: str, at: dt.datetime, *, user_id: int | None,
         employee_id: int | None, equipment_id: int | None, client_scan_id: str | None, good=ZERO, scrap=ZERO,
         reason: str | None = None, labour=ZERO) -> OperationLog:
    row = uow.add(OperationLog(operation_id=op.id, work_order_id=op.work_order_id, event=event, at=at,
                               user_id=user_id, employee_id=employee_id, equipment_id=equipment_id,
                               qty_good=good, qty_scrap=scrap, reason=reason, labour_minutes=labour,
                               client_scan_id=client_scan_id))
    if labour:
        op.labour_minutes = q6(to_decimal(op.labour_minutes) + labour)
    uow.flush()
    return row


def _machine(uow: UnitOfWork, op: WorkOrderOperation, equipment_id: int | None) -> Equipment | None:
    """The machine to run on: the one named, the one planned, else the work center's first free machine."""
    ref = equipment_id or op.equipment_id
    if ref:
        eq = uow.get(Equipment, int(ref))
        if eq.work_center_id != op.work_center_id:
            raise ValidationFailed(_("设备 {code} 不属于工作中心 {wc}", code=eq.code, wc=op.work_center.code),
                                   field="equipment_id")
    else:
        candidates = list(uow.session.scalars(select(Equipment).where(
            Equipment.company_id == uow.company_id, Equipment.work_center_id == op.work_center_id,
            Equipment.active.is_(True)).order_by(Equipment.code)))
        if not candidates:
            return None
        eq = next((e for e in candidates if e.status == "idle"), None) or next(
            (e for e in candidates if e.status == "running"), None) or candidates[0]
    if eq.status in ("down", "maintenance"):
        raise Conflict(_("设备 {code} {status}中（{reason}），不能开工", code=eq.code,
                         status=eqs.status_label(eq.status), reason=eq.status_reason or "-"), field="equipment_id")
    return eq


def _check_open(wo: WorkOrder, op: WorkOrderOperation) -> None:
    if wo.state not in ("released", "in_progress"):
        raise Conflict(_("工单 {n} {state}，不能报工", n=wo.number, state=state_label(wo.state)), field="state")
    if op.state in ("done", "cancelled"):
        raise Conflict(_("工序 {seq} {name} {state}", seq=op.sequence, name=op.name, state=op_state_label(op.state)),
                       field="state")


# ------------------------------------------------------------------ use cases
def start_operation(uow: UnitOfWork, operation_id: int, *, employee_id: int | None = None,
                    equipment_id: int | None = None, client_scan_id: str | None = None,
                    at: dt.datetime | None = None) -> OperationLog:
    """开工 (or join an operation another operator is running)."""
    replay = _replayed(uow, client_scan_id)
    if replay is not None:
        return replay
    op, wo = _operation(uow, operation_id)
    _check_open(wo, op)
    at = at or utcnow()
    user = uow.actor.user_id
    if user in _open_intervals(uow, op.id):
        raise Conflict(_("您已在加工工序 {seq} {name}", seq=op.sequence, name=op.name), field="state")
    if op.state == "paused":
        return resume_operation(uow, operation_id, employee_id=employee_id, client_scan_id=client_scan_id, at=at)
    eq = _machine(uow, op, equipment_id)
    op.equipment_id = eq.id if eq else op.equipment_id
    op.state = "running"
    op.actual_start = op.actual_start or at
    if wo.state == "released":
        wo.state = "in_progress"
    wo.started_at = wo.started_at or at
    if eq is not None and eq.status != "running":
        eqs.set_equipment_status(uow, eq.id, "running", work_order_id=wo.id, at=at)
    row = _log(uow, op, "start", at, user_id=user, employee_id=_employee_for(uow, employee_id),
               equipment_id=op.equipment_id, client_scan_id=client_scan_id)
    uow.emit("mes.operation_started", work_order_id=wo.id, operation_id=op.id, work_center_id=op.work_center_id)
    return row


def pause_operation(uow: UnitOfWork, operation_id: int, reason: str, *, employee_id: int | None = None,
                    client_scan_id: str | None = None, at: dt.datetime | None = None) -> OperationLog:
    """暂停 with a reason: ends this operator's interval; the machine idles when nobody is left on it."""
    replay = _replayed(uow, client_scan_id)
    if replay is not None:
        return replay
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请选择暂停原因"), field="reason")
    op, wo = _operation(uow, operation_id)
    _check_open(wo, op)
    if op.state != "running":
        raise Conflict(_("工序 {seq} 未在加工，不能暂停", seq=op.sequence), field="state")
    at = at or utcnow()
    open_ = _open_intervals(uow, op.id)
    user = uow.actor.user_id
    if user not in open_:
        raise Conflict(_("您没有在加工工序 {seq}", seq=op.sequence), field="state")
    row = _log(uow, op, "pause", at, user_id=user, employee_id=_employee_for(uow, employee_id),
               equipment_id=op.equipment_id, client_scan_id=client_scan_id, reason=reason[:200],
               labour=_minutes(open_[user], at))
    if len(open_) == 1:  # the last operator left
        op.state = "paused"
        _idle(uow, op, at)
    return row


def resume_operation(uow: UnitOfWork, operation_id: int, *, employee_id: int | None = None,
                     client_scan_id: str | None = None, at: dt.datetime | None = None) -> OperationLog:
    """恢复 a paused operation."""
    replay = _replayed(uow, client_scan_id)
    if replay is not None:
        return replay
    op, wo = _operation(uow, operation_id)
    _check_open(wo, op)
    if op.state != "paused":
        raise Conflict(_("工序 {seq} 未暂停", seq=op.sequence), field="state")
    at = at or utcnow()
    eq = _machine(uow, op, None)
    op.state = "running"
    if eq is not None and eq.status != "running":
        eqs.set_equipment_status(uow, eq.id, "running", work_order_id=wo.id, at=at)
    return _log(uow, op, "resume", at, user_id=uow.actor.user_id, employee_id=_employee_for(uow, employee_id),
                equipment_id=op.equipment_id, client_scan_id=client_scan_id)


def _check_quantities(wo: WorkOrder, op: WorkOrderOperation, good: Decimal, scrap: Decimal) -> None:
    before = [o for o in wo.operations if o.sequence < op.sequence and o.state != "cancelled" and o.actual_start]
    if not before:
        return
    prev = max(before, key=lambda o: o.sequence)
    total = to_decimal(op.qty_good) + to_decimal(op.qty_scrap) + good + scrap
    if total > to_decimal(prev.qty_good):
        raise ValidationFailed(_("工序 {seq} 报工数量 {q} 超过上道工序 {p} 的合格数 {g}", seq=op.sequence, q=_n(total),
                                 p=prev.sequence, g=_n(prev.qty_good)), field="qty_good")


def _n(value) -> str:
    from opensupply.inventory.service import fmt_qty

    return fmt_qty(to_decimal(value))


def report_quantity(uow: UnitOfWork, operation_id: int, qty_good: Any, qty_scrap: Any = 0, *,
                    reason: str | None = None, employee_id: int | None = None, client_scan_id: str | None = None,
                    at: dt.datetime | None = None) -> OperationLog:
    """报数 while the operation runs (a batch came off the machine); scrap needs a reason."""
    replay = _replayed(uow, client_scan_id)
    if replay is not None:
        return replay
    op, wo = _operation(uow, operation_id)
    _check_open(wo, op)
    good = _qty(qty_good, "qty_good", _("合格数量"), allow_zero=True)
    scrap = _qty(qty_scrap, "qty_scrap", _("报废数量"), allow_zero=True)
    if good + scrap <= 0:
        raise ValidationFailed(_("请填写合格或报废数量"), field="qty_good")
    if scrap > 0 and not (reason or "").strip():
        raise ValidationFailed(_("有报废时请填写报废原因"), field="reason")
    if op.state == "pending":
        raise Conflict(_("工序 {seq} 还未开工", seq=op.sequence), field="state")
    _check_quantities(wo, op, good, scrap)
    at = at or utcnow()
    op.qty_good = q6(to_decimal(op.qty_good) + good)
    op.qty_scrap = q6(to_decimal(op.qty_scrap) + scrap)
    row = _log(uow, op, "report", at, user_id=uow.actor.user_id, employee_id=_employee_for(uow, employee_id),
               equipment_id=op.equipment_id, client_scan_id=client_scan_id, good=good, scrap=scrap,
               reason=(reason or "").strip()[:200] or None)
    uow.emit("mes.operation_reported", work_order_id=wo.id, operation_id=op.id, work_center_id=op.work_center_id,
             qty_good=str(good), qty_scrap=str(scrap))
    return row


def finish_operation(uow: UnitOfWork, operation_id: int, qty_good: Any, qty_scrap: Any = 0, *,
                     reason: str | None = None, employee_id: int | None = None, client_scan_id: str | None = None,
                     at: dt.datetime | None = None) -> OperationLog:
    """完工 of an operation with its last good and scrapped quantities; closes every operator's interval."""
    replay = _replayed(uow, client_scan_id)
    if replay is not None:
        return replay
    op, wo = _operation(uow, operation_id)
    _check_open(wo, op)
    if op.state == "pending":
        raise Conflict(_("工序 {seq} 还未开工", seq=op.sequence), field="state")
    good = _qty(qty_good, "qty_good", _("合格数量"), allow_zero=True)
    scrap = _qty(qty_scrap, "qty_scrap", _("报废数量"), allow_zero=True)
    if scrap > 0 and not (reason or "").strip():
        raise ValidationFailed(_("有报废时请填写报废原因"), field="reason")
    if to_decimal(op.qty_good) + good <= 0:
        raise ValidationFailed(_("完工时合格数量必须大于 0"), field="qty_good")
    _check_quantities(wo, op, good, scrap)
    at = at or utcnow()
    open_ = _open_intervals(uow, op.id)
    user = uow.actor.user_id
    emp = _employee_for(uow, employee_id)
    for other, since in open_.items():  # the others' intervals end with the operation
        if other != user:
            _log(uow, op, "pause", at, user_id=other, employee_id=None, equipment_id=op.equipment_id,
                 client_scan_id=None, reason=_("工序完工"), labour=_minutes(since, at))
    op.qty_good = q6(to_decimal(op.qty_good) + good)
    op.qty_scrap = q6(to_decimal(op.qty_scrap) + scrap)
    row = _log(uow, op, "finish", at, user_id=user, employee_id=emp, equipment_id=op.equipment_id,
               client_scan_id=client_scan_id, good=good, scrap=scrap, reason=(reason or "").strip()[:200] or None,
               labour=_minutes(open_[user], at) if user in open_ else ZERO)
    op.state, op.actual_end = "done", at
    _idle(uow, op, at)
    uow.emit("mes.operation_finished", work_order_id=wo.id, operation_id=op.id, work_center_id=op.work_center_id,
             qty_good=str(good), qty_scrap=str(scrap))
    return row


def _idle(uow: UnitOfWork, op: WorkOrderOperation, at: dt.datetime) -> None:
    """Put the operation's machine back to 空闲 unless another running operation still uses it."""
    if not op.equipment_id:
        return
    busy = uow.session.scalar(select(func.count()).select_from(WorkOrderOperation).where(
        WorkOrderOperation.equipment_id == op.equipment_id, WorkOrderOperation.state == "running",
        WorkOrderOperation.id != op.id))
    eq = uow.get(Equipment, op.equipment_id)
    if not busy and eq.status == "running":
        eqs.set_equipment_status(uow, eq.id, "idle", at=at)


# ------------------------------------------------------------------ queries
def labour_by_operator(uow: UnitOfWork, *, work_order_id: int | None = None, date_from: dt.datetime | None = None,
                       date_to: dt.datetime | None = None) -> list[dict]:
    """Labour minutes, good and scrapped units per operator (user) — from the scan events."""
    from opensupply.core.auth import User

    stmt = (select(OperationLog.user_id, User.username, func.sum(OperationLog.labour_minutes),
                   func.sum(OperationLog.qty_good), func.sum(OperationLog.qty_scrap))
            .outerjoin(User, User.id == OperationLog.user_id)
            .where(OperationLog.company_id == uow.company_id).group_by(OperationLog.user_id, User.username))
    if work_order_id:
        stmt = stmt.where(OperationLog.work_order_id == work_order_id)
    if date_from:
        stmt = stmt.where(OperationLog.at >= date_from)
    if date_to:
        stmt = stmt.where(OperationLog.at < date_to)
    return [{"user_id": u, "username": name or "-", "labour_minutes": q6(to_decimal(m or 0)),
             "qty_good": to_decimal(g or 0), "qty_scrap": to_decimal(s or 0)}
            for u, name, m, g, s in uow.session.execute(stmt.order_by(User.username))]


def output_by_operator(uow: UnitOfWork, *, date_from: dt.datetime, date_to: dt.datetime) -> list[dict]:
    """Operator output from the scan events between two instants, per (employee badge scanned, login):
    good and scrapped units reported, labour minutes and the number of 报工/完工 reports. The employee
    performance page credits a row to the employee scanned, else to the employee linked to the login."""
    log = OperationLog
    reports = func.sum(case((log.event.in_(("report", "finish")), 1), else_=0))
    stmt = (select(log.employee_id, log.user_id, func.sum(log.labour_minutes), func.sum(log.qty_good),
                   func.sum(log.qty_scrap), reports)
            .where(log.company_id == uow.company_id, log.at >= date_from, log.at < date_to)
            .group_by(log.employee_id, log.user_id))
    return [{"employee_id": e, "user_id": u, "labour_minutes": q6(to_decimal(m or 0)), "qty_good": to_decimal(g or 0),
             "qty_scrap": to_decimal(s or 0), "reports": int(n or 0)}
            for e, u, m, g, s, n in uow.session.execute(stmt)]


def operation_log(uow: UnitOfWork, work_order_id: int) -> list[OperationLog]:
    return list(uow.session.scalars(select(OperationLog).where(
        OperationLog.company_id == uow.company_id, OperationLog.work_order_id == work_order_id)
        .order_by(OperationLog.at, OperationLog.id)))


def active_operations(uow: UnitOfWork, work_center_id: int | None = None) -> list[WorkOrderOperation]:
    """Operations running or paused now (the terminal's list), oldest start first."""
    stmt = select(WorkOrderOperation).where(WorkOrderOperation.company_id == uow.company_id,
                                            WorkOrderOperation.state.in_(("running", "paused")))
    if work_center_id:
        stmt = stmt.where(WorkOrderOperation.work_center_id == work_center_id)
    return list(uow.session.scalars(stmt.order_by(WorkOrderOperation.actual_start)))
