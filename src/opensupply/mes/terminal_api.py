"""The scan terminal under /api/v1/mes/terminal/: resolve a barcode, then start / pause / resume / report /
finish an operation. Every call may carry `client_scan_id` so a scan sent twice (a flaky Wi-Fi retry) counts
once. Thin: parse, call `mes.terminal` in one unit of work."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import terminal
from . import work_orders as wos

router = APIRouter(prefix="/mes/terminal", tags=["mes terminal"])
REPORT = Depends(require("mes.report"))


class ScanIn(BaseModel):
    code: str = Field(max_length=80, description="WO2026-000001/20 or a work order number")


class EventIn(BaseModel):
    operation_id: int
    employee_id: int | None = None
    equipment_id: int | None = None
    reason: str | None = Field(None, max_length=200)
    qty_good: Decimal = Decimal(0)
    qty_scrap: Decimal = Decimal(0)
    client_scan_id: str | None = Field(None, max_length=64)


def log_dict(row) -> dict:
    return {"id": row.id, "operation_id": row.operation_id, "work_order_id": row.work_order_id, "event": row.event,
            "at": row.at.isoformat(), "user_id": row.user_id, "employee_id": row.employee_id,
            "equipment_id": row.equipment_id, "qty_good": wos._fmt(row.qty_good), "qty_scrap": wos._fmt(row.qty_scrap),
            "reason": row.reason, "labour_minutes": wos._fmt(row.labour_minutes)}


def _card(uow: UnitOfWork, operation_id: int) -> dict:
    from .models import WorkOrderOperation

    op = uow.get(WorkOrderOperation, operation_id)
    wo = wos.get_work_order(uow, op.work_order_id)
    d = wos.work_order_to_dict(uow, wo)
    return {"work_order": d, "operation": next(o for o in d["operations"] if o["id"] == op.id)}


@router.post("/scan", summary="What a barcode names: the work order and its operation")
def scan(body: ScanIn, actor: Actor = REPORT) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        wo, op = terminal.resolve_scan(uow, body.code)
        d = wos.work_order_to_dict(uow, wo)
        return {"work_order": d, "operation": next((o for o in d["operations"] if op and o["id"] == op.id), None)}


def _event(actor: Actor, fn, body: EventIn, **kwargs) -> dict:
    with UnitOfWork(actor) as uow:
        row = fn(uow, body.operation_id, **kwargs, employee_id=body.employee_id, client_scan_id=body.client_scan_id)
        uow.flush()
        uow.session.expire_all()
        return {"event": log_dict(row), **_card(uow, body.operation_id)}


@router.post("/start", summary="开工")
def start(body: EventIn, actor: Actor = REPORT) -> dict:
    return _event(actor, terminal.start_operation, body, equipment_id=body.equipment_id)


@router.post("/pause", summary="暂停 (reason required)")
def pause(body: EventIn, actor: Actor = REPORT) -> dict:
    return _event(actor, terminal.pause_operation, body, reason=body.reason or "")


@router.post("/resume", summary="恢复")
def resume(body: EventIn, actor: Actor = REPORT) -> dict:
    return _event(actor, terminal.resume_operation, body)


@router.post("/report", summary="报数: good and scrapped units so far")
def report(body: EventIn, actor: Actor = REPORT) -> dict:
    return _event(actor, terminal.report_quantity, body, qty_good=body.qty_good, qty_scrap=body.qty_scrap,
                  reason=body.reason)


@router.post("/finish", summary="完工 of the operation")
def finish(body: EventIn, actor: Actor = REPORT) -> dict:
    return _event(actor, terminal.finish_operation, body, qty_good=body.qty_good, qty_scrap=body.qty_scrap,
                  reason=body.reason)


@router.get("/active", summary="Operations running or paused now")
def active(work_center_id: int | None = None, actor: Actor = REPORT) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        ops = terminal.active_operations(uow, work_center_id)
        items = [_card(uow, op.id) for op in ops]
        return {"items": items, "total": len(items)}


@router.get("/labour", summary="Labour minutes and units per operator")
def labour(work_order_id: int | None = None, actor: Actor = REPORT) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows = terminal.labour_by_operator(uow, work_order_id=work_order_id)
        items = [dict(r, labour_minutes=wos._fmt(r["labour_minutes"]), qty_good=wos._fmt(r["qty_good"]),
                      qty_scrap=wos._fmt(r["qty_scrap"])) for r in rows]
        return {"items": items, "total": len(items)}
