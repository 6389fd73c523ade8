"""Performance (绩效) of an employee or a department team as JSON: /api/v1/employees/{id}/performance and
/api/v1/departments/{id}/performance (amounts as decimal strings, dates ISO)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.dashboards.service import period as make_period
from opensupply.dashboards.service import plain

from . import hr

router = APIRouter(tags=["masterdata"])
READ = Depends(require("masterdata.read"))
PERIOD = Query(None, description="month | 30d | quarter | custom")


@router.get("/employees/{employee_id}/performance", summary="An employee's figures from the modules that are on")
def employee_performance(employee_id: int, period: str | None = PERIOD, date_from: dt.date | None = None,
                         date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return plain(hr.employee_performance(uow, employee_id, make_period(uow, period, date_from, date_to)))


@router.get("/departments/{department_id}/performance",
            summary="A department's team (sub-departments included): figures per employee and totals")
def department_performance(department_id: int, period: str | None = PERIOD, date_from: dt.date | None = None,
                           date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return plain(hr.department_performance(uow, department_id, make_period(uow, period, date_from, date_to)))
