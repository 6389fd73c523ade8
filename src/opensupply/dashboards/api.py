"""/api/v1/dashboards: the role dashboards' figures as JSON (amounts as decimal strings, dates ISO)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query

from opensupply.core.http import api_actor
from opensupply.core.uow import Actor, UnitOfWork

from . import service

router = APIRouter(prefix="/dashboards", tags=["dashboards"])
ACTOR = Depends(api_actor)


@router.get("", summary="The dashboards the caller may open and the one fitting their role")
def index(actor: Actor = ACTOR) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return {"items": service.available(uow), "landing": service.landing(uow)}


@router.get("/{name}", summary="One dashboard: KPIs with the previous period beside them, and chart data")
def dashboard(name: str, period: str | None = Query(None, description="month | 30d | quarter | custom"),
              date_from: dt.date | None = None, date_to: dt.date | None = None, actor: Actor = ACTOR) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        service.check_access(uow, name)
        p = service.period(uow, period, date_from, date_to)
        return service.plain(service.dashboard(uow, name, p))
