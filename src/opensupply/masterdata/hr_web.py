"""绩效 pages: /employees/{id}/performance (one person) and /departments/{id}/performance (the team), over this
month / the last 30 days / this quarter / custom dates."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from opensupply.core.http import Page, page_permission
from opensupply.core.uow import UnitOfWork
from opensupply.dashboards.service import PERIOD_KINDS
from opensupply.dashboards.service import period as make_period
from opensupply.web import redirect, render

from . import hr

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission("masterdata.read"))


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _period(uow: UnitOfWork, request: Request):
    qp = request.query_params
    return make_period(uow, qp.get("period") or None, _date(qp.get("date_from")), _date(qp.get("date_to")))


def _filters(p) -> dict:
    return {"period": p.kind, "date_from": p.date_from.isoformat(), "date_to": p.date_to.isoformat()}


@router.get("/employees/{employee_id}/performance")
def employee_performance(employee_id: int, request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        period = _period(uow, request)
        d = hr.employee_performance(uow, employee_id, period)
    return render(p, "masterdata/employee_performance.html", d=d, kinds=PERIOD_KINDS, filters=_filters(period))


@router.get("/departments/{department_id}/performance")
def department_performance(department_id: int, request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        period = _period(uow, request)
        d = hr.department_performance(uow, department_id, period)
    return render(p, "masterdata/department_performance.html", d=d, kinds=PERIOD_KINDS, filters=_filters(period))


@router.get("/masterdata/employees/{employee_id}/performance")
def employee_performance_alias(employee_id: int, request: Request, p: Page = READ):
    query = request.url.query
    return redirect(f"/employees/{employee_id}/performance" + (f"?{query}" if query else ""))
