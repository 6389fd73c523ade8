"""Finite-capacity scheduling under /api/v1/mes/: start a scheduling run (the background job, or at once with
`"background": false`), the runs, the plan (operations with planned times), and freezing / unfreezing an
operation so that re-running leaves it in place. Thin: `mes.schedule_job`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from opensupply.core.http import require
from opensupply.core.sequences import company_today
from opensupply.core.uow import Actor, UnitOfWork

from . import calendar, schedule_job
from .models import Equipment, WorkOrder

READ = Depends(require("mes.read"))
WRITE = Depends(require("mes.write"))

router = APIRouter(prefix="/mes", tags=["mes scheduling"])


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    horizon_start: dt.datetime | None = None
    time_limit_s: float = 10
    horizon_days: int = schedule_job.DEFAULT_HORIZON_DAYS
    background: bool = True


class FreezeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    planned_start: dt.datetime | None = None
    equipment_id: int | None = None


@router.post("/schedule-runs", status_code=201, summary="Schedule open work orders (background job by default)")
def start_run(body: RunIn, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        horizon_start = calendar.parse_moment(uow, body.horizon_start, "horizon_start")
        fn = schedule_job.start_schedule if body.background else schedule_job.run_schedule
        run = fn(uow, horizon_start=horizon_start, time_limit_s=body.time_limit_s, horizon_days=body.horizon_days)
        return schedule_job.run_to_dict(uow, run)


@router.get("/schedule-runs", summary="Scheduling runs, newest first")
def list_runs(limit: int = Query(20, ge=1, le=500), offset: int = Query(0, ge=0), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = schedule_job.list_runs(uow, limit=limit, offset=offset)
        return {"items": [schedule_job.run_to_dict(uow, r) for r in items], "total": total}


@router.get("/schedule-runs/{run_id}", summary="One scheduling run with its job's progress")
def get_run(run_id: int, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        return schedule_job.run_to_dict(uow, schedule_job.get_run(uow, run_id))


@router.get("/schedule", summary="Planned operations of open work orders overlapping [start, end)")
def plan(start: str | None = None, end: str | None = None, work_center_id: int | None = None,
         limit: int = Query(1000, ge=1, le=20000), offset: int = Query(0, ge=0), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        if start is None and end is None:  # default: from today on, four weeks
            lo = calendar.parse_moment(uow, company_today(uow).isoformat(), "start")
            hi = lo + dt.timedelta(days=28)
        else:
            lo, hi = calendar.local_period(uow, start, end, default_days=28, max_days=180)
        rows, total = schedule_job.planned_operations(uow, lo, hi, work_center_id=work_center_id, limit=limit,
                                                      offset=offset)
        eq_ids = {op.equipment_id for op, _wo in rows if op.equipment_id}
        equipment = {e.id: {"code": e.code} for e in uow.session.scalars(select(Equipment).where(
            Equipment.id.in_(eq_ids or {0})))}
        tz = calendar.company_tz(uow)
        return {"start": lo.isoformat(), "end": hi.isoformat(), "total": total,
                "items": [schedule_job.operation_to_dict(uow, op, wo, equipment=equipment, tz=tz) for op, wo in rows]}


def _op(uow, op) -> dict:
    wo = uow.get(WorkOrder, op.work_order_id)
    eq = uow.session.get(Equipment, op.equipment_id) if op.equipment_id else None
    return schedule_job.operation_to_dict(uow, op, wo, equipment={eq.id: {"code": eq.code}} if eq else {})


@router.post("/schedule/operations/{op_id}/freeze", summary="Keep an operation at its slot (or pin it at a start "
             "and machine) when rescheduling")
def freeze(op_id: int, body: FreezeIn | None = None, actor: Actor = WRITE):
    body = body or FreezeIn()
    with UnitOfWork(actor) as uow:
        start = calendar.parse_moment(uow, body.planned_start, "planned_start")
        return _op(uow, schedule_job.freeze_operation(uow, op_id, planned_start=start,
                                                      equipment_id=body.equipment_id))


@router.post("/schedule/operations/{op_id}/unfreeze", summary="Let rescheduling move the operation again")
def unfreeze(op_id: int, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        return _op(uow, schedule_job.unfreeze_operation(uow, op_id))
