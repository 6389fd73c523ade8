"""Route plans and the driver's day under /api/v1/tms/: plans (list, one with routes and stops, create — solved
by the background job, re-plan), driver assignment, dispatch, the driver's stops and marks, and GPS pings
(`POST /api/v1/tms/gps`, from the driver page's geolocation). Thin: `tms.planning` / `tms.dispatch`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import dispatch, fleet, planning

router = APIRouter(prefix="/tms", tags=["tms routes"])
READ = Depends(require("tms.read"))
WRITE = Depends(require("tms.write"))
DRIVE = Depends(require("tms.drive"))


class PlanIn(BaseModel):
    depot_id: int
    day: dt.date
    shipment_ids: list[int] | None = None
    time_limit_s: float = 10
    background: bool = True


class AssignIn(BaseModel):
    driver_id: int | None


class FailIn(BaseModel):
    reason: str


class GpsIn(BaseModel):
    lat: float
    lon: float
    at: dt.datetime | None = None


@router.get("/route-plans")
def list_plans(q: str | None = None, status: str | None = None, limit: int = Query(50, ge=1, le=500),
               offset: int = Query(0, ge=0), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = planning.list_plans(uow, q=q, status=status, limit=limit, offset=offset)
        return {"items": [planning.plan_dict(uow, p, routes=False) for p in rows], "total": total}


@router.post("/route-plans", status_code=201)
def create_plan(body: PlanIn, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        fn = planning.start_plan if body.background else planning.create_plan
        plan = fn(uow, body.depot_id, body.day, shipment_ids=body.shipment_ids, time_limit_s=body.time_limit_s)
        return planning.plan_dict(uow, plan)


@router.get("/route-plans/{plan_id}")
def get_plan(plan_id: int, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        return planning.plan_dict(uow, planning.get_plan(uow, plan_id))


@router.post("/route-plans/{plan_id}/replan")
def replan(plan_id: int, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        return planning.plan_dict(uow, planning.replan(uow, plan_id))


@router.post("/route-plans/{plan_id}/cancel")
def cancel(plan_id: int, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        return planning.plan_dict(uow, planning.cancel_planning(uow, plan_id))


@router.post("/route-plans/{plan_id}/dispatch")
def dispatch_plan(plan_id: int, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        return planning.plan_dict(uow, dispatch.dispatch_plan(uow, plan_id))


@router.put("/routes/{route_id}/driver")
def assign(route_id: int, body: AssignIn, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        r = dispatch.assign(uow, route_id, body.driver_id)
        return {"id": r.id, "driver_id": r.driver_id}


def _driver_id(uow: UnitOfWork, actor: Actor) -> int | None:
    d = fleet.driver_for_user(uow, actor.user_id)
    return d.id if d else None


@router.get("/driver/stops")
def driver_stops(day: dt.date | None = None, actor: Actor = DRIVE):
    with UnitOfWork(actor, readonly=True) as uow:
        did = _driver_id(uow, actor)
        routes = dispatch.driver_routes(uow, did, day) if did else []
        out = []
        for r in routes:
            plan = planning.plan_dict(uow, planning.get_plan(uow, r.plan_id))
            out += [x for x in plan["routes"] if x["id"] == r.id]
        return {"items": out, "total": len(out)}


@router.post("/driver/stops/{stop_id}/arrive")
def arrive(stop_id: int, actor: Actor = DRIVE):
    with UnitOfWork(actor) as uow:
        return {"id": stop_id, "status": dispatch.mark_arrived(uow, stop_id, _driver_id(uow, actor)).status}


@router.post("/driver/stops/{stop_id}/deliver")
def deliver(stop_id: int, actor: Actor = DRIVE):
    with UnitOfWork(actor) as uow:
        return {"id": stop_id, "status": dispatch.mark_delivered(uow, stop_id, _driver_id(uow, actor)).status}


@router.post("/driver/stops/{stop_id}/fail")
def fail(stop_id: int, body: FailIn, actor: Actor = DRIVE):
    with UnitOfWork(actor) as uow:
        st = dispatch.mark_failed(uow, stop_id, _driver_id(uow, actor), body.reason)
        return {"id": stop_id, "status": st.status}


@router.post("/gps", status_code=201)
def gps(body: GpsIn, actor: Actor = DRIVE):
    with UnitOfWork(actor) as uow:
        p = dispatch.record_gps(uow, _driver_id(uow, actor), body.lat, body.lon, body.at)
        return {"id": p.id, "route_id": p.route_id}
