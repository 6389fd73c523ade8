"""Shift calendars and line rostering under /api/v1/mes/: shift templates (declarative resource `shifts`), the
roster (产线排班: list, week grid, create, change crew, delete, apply a weekly pattern), the working windows
the scheduler uses, and capacity vs load. Thin: `mes.calendar`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from opensupply.core.http import require
from opensupply.core.resource_api import resource_router
from opensupply.core.sequences import company_today
from opensupply.core.uow import Actor, UnitOfWork

from . import calendar, resources
from .models import WorkCenter

READ = Depends(require("mes.read"))
ADMIN = Depends(require("mes.admin"))

router = APIRouter()
router.include_router(resource_router(resources.shifts))
area = APIRouter(prefix="/mes", tags=["mes calendar"])


class CrewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    employee: str | int
    role: str | None = None


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    work_center: str | int
    date: dt.date
    shift: str | int
    headcount: int | None = None
    crew: list[CrewIn] = Field(default_factory=list)
    notes: str | None = None


class AssignmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headcount: int | None = None
    crew: list[CrewIn] | None = None
    notes: str | None = None


class PatternIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shift: str | int
    work_centers: list[str | int]
    start: dt.date
    weeks: int | None = 4
    end: dt.date | None = None
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    headcount: int | None = None
    replace: bool = False


def _dates(uow: UnitOfWork, start: dt.date | None, end: dt.date | None, days: int) -> tuple[dt.date, dt.date]:
    first = start or company_today(uow)
    return first, end or first + dt.timedelta(days=days - 1)


@area.get("/roster", summary="Roster entries (产线排班) in a date range")
def roster(start: dt.date | None = None, end: dt.date | None = None, work_center_id: int | None = None,
           limit: int = Query(500, ge=1, le=5000), offset: int = Query(0, ge=0), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        first, last = _dates(uow, start, end, 7)
        items, total = calendar.list_assignments(uow, first, last, limit=limit, offset=offset,
                                                 work_center_ids=[work_center_id] if work_center_id else None)
        return {"items": [calendar.assignment_to_dict(uow, a) for a in items], "total": total}


@area.get("/roster/week", summary="The roster week grid: work centers × days")
def roster_week(date: dt.date | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        return calendar.roster_week(uow, date or company_today(uow))


@area.post("/roster", status_code=201, summary="Roster a work center on a shift for a date, with its crew")
def assign(body: AssignmentIn, actor: Actor = ADMIN):
    with UnitOfWork(actor) as uow:
        a = calendar.assign_shift(uow, work_center=body.work_center, day=body.date, shift=body.shift,
                                  headcount=body.headcount, crew=[c.model_dump() for c in body.crew],
                                  notes=body.notes)
        return calendar.assignment_to_dict(uow, a)


@area.patch("/roster/{assignment_id}", summary="Change a roster entry's headcount, crew or notes")
def update(assignment_id: int, body: AssignmentPatch, actor: Actor = ADMIN):
    changes = body.model_dump(exclude_unset=True)
    if changes.get("crew") is not None:
        changes["crew"] = [dict(c) for c in changes["crew"]]
    with UnitOfWork(actor) as uow:
        return calendar.assignment_to_dict(uow, calendar.update_assignment(uow, assignment_id, changes))


@area.delete("/roster/{assignment_id}", status_code=204, summary="Remove a roster entry")
def remove(assignment_id: int, actor: Actor = ADMIN):
    with UnitOfWork(actor) as uow:
        calendar.remove_assignment(uow, assignment_id)


@area.post("/roster/apply-pattern", summary="Roster a shift on chosen weekdays for some weeks on many work centers")
def apply_pattern(body: PatternIn, actor: Actor = ADMIN):
    with UnitOfWork(actor) as uow:
        return calendar.apply_pattern(uow, shift=body.shift, work_centers=body.work_centers, start=body.start,
                                      weeks=body.weeks, end=body.end, weekdays=body.weekdays,
                                      headcount=body.headcount, replace=body.replace)


@area.get("/working-windows", summary="UTC working intervals per work center (roster, breaks out)")
def windows(start: str, end: str, work_center_id: list[int] = Query(default=[]), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        lo, hi = calendar.local_period(uow, start, end, max_days=92)
        ids = work_center_id or list(uow.session.scalars(select(WorkCenter.id).where(
            WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True)).order_by(WorkCenter.code)))
        found = calendar.working_windows(uow, ids, lo, hi)
        return {"start": lo.isoformat(), "end": hi.isoformat(),
                "items": [{"work_center_id": wc, "windows": [[s.isoformat(), e.isoformat()] for s, e in spans]}
                          for wc, spans in found.items()]}


@area.get("/capacity", summary="Available hours (shifts × machines) vs load per work center and day")
def capacity(start: dt.date | None = None, end: dt.date | None = None, work_center_id: int | None = None,
             actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        first, last = _dates(uow, start, end, 14)
        items = calendar.capacity(uow, first, last, work_center_ids=[work_center_id] if work_center_id else None)
        return {"start": first.isoformat(), "end": last.isoformat(), "items": items, "total": len(items)}


router.include_router(area)
