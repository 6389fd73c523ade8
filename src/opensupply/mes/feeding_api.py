"""Material feeding under /api/v1/mes/: feeding tasks (list, one, complete, cancel, export), the line board and
an on-demand check (`POST /mes/feeding/check`). Read with mes.read; the warehouse's actions and the check need
mes.feed. Thin: parse, call `mes.feeding`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import feeding
from .quality_api import _download

router = APIRouter(prefix="/mes", tags=["mes feeding"])
READ = Depends(require("mes.read"))
FEED = Depends(require(feeding.FEED_PERMISSION))


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: Decimal | None = Field(None, description="default: the task's quantity")


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=200)


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_center_ids: list[int] | None = Field(None, description="default: every line with a running operation")


@router.get("/feeding-tasks", summary="Feeding tasks (?state=open|done|cancelled&work_center_id=&q=&limit=&offset=)")
def list_tasks(state: str | None = None, work_center_id: int | None = None, q: str | None = None,
               date_from: dt.date | None = None, date_to: dt.date | None = None,
               limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = feeding.list_tasks(uow, state=state or None, work_center_id=work_center_id, q=q,
                                          date_from=date_from, date_to=date_to, limit=limit, offset=offset)
        return {"items": feeding.tasks_to_dicts(uow, items), "total": total}


@router.get("/feeding-tasks/export", summary="Export feeding tasks as CSV or XLSX")
def export_tasks(format: str = Query("csv", pattern="^(csv|xlsx)$"), state: str | None = None,
                 work_center_id: int | None = None, q: str | None = None, date_from: dt.date | None = None,
                 date_to: dt.date | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = feeding.export_rows(uow, state=state or None, work_center_id=work_center_id, q=q,
                                           date_from=date_from, date_to=date_to)
    return _download(header, rows, format, "feeding-tasks")


@router.get("/feeding-tasks/{task_id}", summary="One feeding task")
def get_task(task_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return feeding.tasks_to_dicts(uow, [feeding.get_task(uow, task_id)])[0]


@router.post("/feeding-tasks/{task_id}/complete", summary="完成上料: issue the material to the line's staging location")
def complete_task(task_id: int, body: CompleteIn | None = None, actor: Actor = FEED) -> dict:
    with UnitOfWork(actor) as uow:
        task = feeding.complete_feeding_task(uow, task_id, (body or CompleteIn()).quantity)
        return feeding.tasks_to_dicts(uow, [task])[0]


@router.post("/feeding-tasks/{task_id}/cancel", summary="Cancel an open feeding task")
def cancel_task(task_id: int, body: CancelIn | None = None, actor: Actor = FEED) -> dict:
    with UnitOfWork(actor) as uow:
        task = feeding.cancel_feeding_task(uow, task_id, (body or CancelIn()).reason)
        return feeding.tasks_to_dicts(uow, [task])[0]


@router.post("/feeding/check", summary="Check the running lines now; opens the tasks that are due")
def check(body: CheckIn | None = None, actor: Actor = FEED) -> dict:
    with UnitOfWork(actor) as uow:
        tasks = feeding.check_feeding(uow, (body or CheckIn()).work_center_ids)
        return {"created": len(tasks), "items": feeding.tasks_to_dicts(uow, tasks)}


@router.get("/feeding/board", summary="The line board: staged material, minutes left, open tasks per work center")
def board(work_center_id: list[int] | None = Query(None), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return {"work_centers": feeding.feeding_board(uow, work_center_id)}
