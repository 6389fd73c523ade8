"""Route planning (排线) for the own fleet: one depot, one delivery day.

* `create_plan(uow, depot_id, day, *, shipment_ids=None, time_limit_s=10)` — plan and solve now, in the
  caller's unit of work (tests, CLI, small days).
* `start_plan(uow, depot_id, day, …)` / `replan(uow, plan_id)` — the page's way: the plan is marked 排线中 and
  the background job `tms.plan_routes` solves it, reporting progress and honouring cancel.

The day's fleet shipments (`tms.shipments.shipments_for_day`) become a `routing.RoutingProblem`: distances are
haversine × the depot's road factor in metres, travel times from the depot's average speed in seconds, demands
the weight in whole kg, the vehicles' capacities (a mixed fleet is one PyVRP vehicle type per capacity), time windows
relative to the shift start, a fixed service time per stop. Shipments that cannot be served at all (no
coordinates, heavier than a vehicle, window outside the shift or unreachable) are listed unassigned with the
reason before solving; if the solver's answer is not feasible the offending stops are taken out and listed too.
The kept routes are verified with `routing.check_routes` before anything is stored. Re-planning a plan that is
not dispatched replaces its routes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from opensupply.core import jobs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.uow import UnitOfWork

from . import fleet, routing
from .models import TmsDepot, TmsRoute, TmsRoutePlan, TmsRouteStop, TmsShipment, TmsVehicle

register_sequence("TMS_PLAN", "PX{year}-", 5)
SERVICE_S = 300  # seconds spent at each stop
DEFAULT_SHIFT = (dt.time(8, 0), dt.time(18, 0))
# Optional road-network matrices: fn([(lat, lon), …]) -> (metres, seconds) integer matrices, depot first.
MATRIX_PROVIDER: Callable[[list[tuple[float, float]]], tuple[list[list[int]], list[list[int]]]] | None = None
PLAN_LABELS = {"draft": _l("草稿"), "planning": _l("排线中"), "planned": _l("已排线"), "dispatched": _l("已调度"),
               "done": _l("已完成"), "failed": _l("排线失败")}
STOP_LABELS = {"pending": _l("待配送"), "arrived": _l("已到达"), "delivered": _l("已送达"), "failed": _l("未送达"),
               "skipped": _l("已跳过")}


def plan_label(status: str) -> str:
    return str(PLAN_LABELS.get(status, status))


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(h)))


def _tz(uow: UnitOfWork) -> ZoneInfo:
    company_today(uow)  # caches the company's zone on the session
    return uow.session.info.get("company_tz") or ZoneInfo("Asia/Shanghai")


@dataclass
class PlanInput:
    """What the solver needs, read from the database; plain data so the job can solve outside a transaction."""

    plan_id: int
    problem: routing.RoutingProblem | None
    shipment_ids: list[int]  # node i (1..n) → shipment_ids[i - 1]
    vehicle_ids: list[int]
    shift_start: dt.datetime
    unassigned: list[dict] = field(default_factory=list)
    time_limit_s: float = 10.0


def _shipments(uow: UnitOfWork, plan: TmsRoutePlan, shipment_ids: list[int] | None) -> tuple[list, list[dict]]:
    from . import shipments as ship_svc

    day_rows = {s.id: s for s in ship_svc.shipments_for_day(uow, plan.depot_id, plan.day)}
    own = uow.session.scalars(select(TmsShipment).join(TmsRouteStop, TmsRouteStop.shipment_id == TmsShipment.id)
                              .join(TmsRoute, TmsRoute.id == TmsRouteStop.route_id)
                              .where(TmsRoute.plan_id == plan.id))
    for s in own:
        if s.status not in ("delivered", "cancelled", "returned"):
            day_rows.setdefault(s.id, s)
    if shipment_ids is None:
        return [day_rows[k] for k in sorted(day_rows)], []
    rows, missing = [], []
    for sid in dict.fromkeys(int(x) for x in shipment_ids):
        if sid in day_rows:
            rows.append(day_rows[sid])
        else:
            missing.append({"shipment_id": sid, "reason": _("不是该站点当天待配送的自有车队运单")})
    return rows, missing


def build_input(uow: UnitOfWork, plan_id: int) -> PlanInput:
    plan = uow.get(TmsRoutePlan, plan_id)
    depot = uow.get(TmsDepot, plan.depot_id)
    vehicles = fleet.active_vehicles(uow, depot.id)
    if not vehicles:
        raise ValidationFailed(_("站点 {c} 没有可用车辆", c=depot.code), field="depot_id")
    wanted = (plan.stats or {}).get("shipment_ids")
    rows, unassigned = _shipments(uow, plan, wanted)
    tz = _tz(uow)
    start_t = min((v.shift_start or DEFAULT_SHIFT[0]) for v in vehicles)
    end_t = max((v.shift_end or DEFAULT_SHIFT[1]) for v in vehicles)
    shift_start = dt.datetime.combine(plan.day, start_t, tzinfo=tz)
    horizon = int((dt.datetime.combine(plan.day, end_t, tzinfo=tz) - shift_start).total_seconds())
    capacities = [int(v.capacity_kg) for v in vehicles]  # whole kg, rounded down: never over a vehicle's limit
    capacity = max(capacities)
    speed_ms = depot.speed_kmh * 1000 / 3600
    origin = (depot.lat, depot.lon)

    kept, windows, demands = [], [], []
    for s in rows:
        reason = None
        demand = int(Decimal(s.weight_kg or 0).to_integral_value(ROUND_CEILING))
        early, late = 0, horizon
        if s.window_start:
            early = max(0, int((s.window_start - shift_start).total_seconds()))
        if s.window_end:
            late = min(horizon, int((s.window_end - shift_start).total_seconds()))
        if s.lat is None or s.lon is None:
            reason = _("收货地址没有坐标")
        elif demand > capacity:
            reason = _("重量 {w} kg 超过车辆载重 {c} kg", w=demand, c=capacity)
        elif late < early or late < 0:
            reason = _("送达时间窗不在车辆班次内")
        else:
            travel = haversine_m(origin, (s.lat, s.lon)) * depot.road_factor / speed_ms
            if max(travel, early) > late or max(travel, early) + SERVICE_S + travel > horizon:
                reason = _("从站点出发在时间窗内无法送达并返回")
        if reason:
            unassigned.append({"shipment_id": s.id, "number": s.number, "reason": reason})
            continue
        kept.append(s)
        windows.append((early, late))
        demands.append(demand)

    problem = None
    if kept:
        points = [origin, *[(s.lat, s.lon) for s in kept]]
        n = len(points)
        if MATRIX_PROVIDER is not None:  # a road-network service: metres and seconds
            dist, dur = MATRIX_PROVIDER(points)
        else:
            dist = [[0] * n for _i in range(n)]
            dur = [[0] * n for _i in range(n)]
            for i in range(n):
                for j in range(i + 1, n):
                    d = round(haversine_m(points[i], points[j]) * depot.road_factor)
                    dist[i][j] = dist[j][i] = d
                    dur[i][j] = dur[j][i] = math.ceil(d / speed_ms)
        problem = routing.RoutingProblem(
            name=plan.number, distance=dist, duration=dur, demands=[0, *demands], capacity=capacity,
            vehicle_capacities=capacities,
            num_vehicles=len(vehicles), time_windows=[(0, horizon), *windows],
            service_times=[0, *([SERVICE_S] * len(kept))], scale=1,
            coords=[(p[1], p[0]) for p in points])
    return PlanInput(plan_id=plan.id, problem=problem, shipment_ids=[s.id for s in kept],
                     vehicle_ids=[v.id for v in vehicles], shift_start=shift_start, unassigned=unassigned,
                     time_limit_s=plan.time_limit_s or 10.0)


def _schedule(problem: routing.RoutingProblem, route: list[int]) -> tuple[list[int], bool]:
    """Service start times (seconds after shift start) along a route, and whether it is feasible."""
    tw, service = problem.time_windows, problem.service_times
    t, prev, out = tw[0][0], 0, []
    for c in route:
        t = t + service[prev] + problem.travel_time(prev, c)
        if t > tw[c][1]:
            return out, False
        t = max(t, tw[c][0])
        out.append(t)
        prev = c
    back = t + service[prev] + problem.travel_time(prev, 0)
    return out, back <= tw[0][1]


def _repair(problem: routing.RoutingProblem, routes: list[list[int]]
            ) -> tuple[list[list[int]], list[int], list[int]]:
    """Drop stops until every route keeps its vehicle's capacity and the time windows (the heaviest routes get
    the biggest vehicles); returns (routes, their capacities, dropped nodes)."""
    dropped: list[int] = []
    seen: set[int] = set()
    out, caps = [], []
    pool = sorted(problem.vehicle_capacities or [problem.capacity] * (problem.num_vehicles or len(routes)),
                  reverse=True)
    routes = sorted(routes, key=lambda r: -sum(problem.demands[c] for c in r))
    for route in routes:
        if not pool:
            dropped += [c for c in route if c not in seen]
            seen.update(route)
            continue
        cap = pool[0]
        kept: list[int] = []
        load = 0
        for c in route:
            if c in seen:
                continue
            seen.add(c)
            trial = [*kept, c]
            if load + problem.demands[c] <= cap and _schedule(problem, trial)[1]:
                kept, load = trial, load + problem.demands[c]
            else:
                dropped.append(c)
        if kept:
            out.append(kept)
            caps.append(pool.pop(0))
    dropped += [c for c in range(1, problem.num_customers + 1) if c not in seen]
    return out, caps, dropped


def solve_input(pi: PlanInput) -> tuple[list[list[int]], list[int], list[int], dict]:
    """Solve, repair if needed, and verify with check_routes; returns (routes, their vehicles' capacities,
    dropped nodes, stats)."""
    if pi.problem is None:
        return [], [], [], {"runtime_s": 0.0}
    sol = routing.solve_routes(pi.problem, time_limit_s=pi.time_limit_s)
    pairs = [(list(r), c) for r, c in zip(sol.routes, sol.route_capacities or [None] * len(sol.routes),
                                          strict=True) if r]
    routes, caps, dropped = [r for r, _c in pairs], [c for _r, c in pairs], []
    if (not sol.solver_feasible or None in caps
            or not routing.check_routes(pi.problem, routes, caps).feasible):
        routes, caps, dropped = _repair(pi.problem, routes)
    kept_nodes = sorted(c for r in routes for c in r)
    index = {c: i for i, c in enumerate([0, *kept_nodes])}
    p = pi.problem
    sub = routing.RoutingProblem(
        name=p.name, distance=[[p.distance[a][b] for b in index] for a in index],
        duration=[[p.duration[a][b] for b in index] for a in index], demands=[p.demands[a] for a in index],
        capacity=p.capacity, num_vehicles=p.num_vehicles, time_windows=[p.time_windows[a] for a in index],
        service_times=[p.service_times[a] for a in index], scale=1, vehicle_capacities=p.vehicle_capacities)
    check = routing.check_routes(sub, [[index[c] for c in r] for r in routes], caps)
    if not check.feasible:  # never store what the independent check refuses
        raise Conflict(_("排线结果未通过校验：{e}", e="; ".join(check.errors[:3])), code="routes_infeasible")
    return routes, caps, dropped, {"runtime_s": round(sol.runtime_s, 2), "iterations": sol.iterations,
                             "distance_m": check.cost, "solver_feasible": sol.solver_feasible}


def store_solution(uow: UnitOfWork, pi: PlanInput, routes: list[list[int]], caps: list[int], dropped: list[int],
                   stats: dict) -> TmsRoutePlan:
    plan = uow.get(TmsRoutePlan, pi.plan_id, for_update=True)
    if plan.status in ("dispatched", "done"):
        raise Conflict(_("排线计划 {n} 已调度，不能重新排线", n=plan.number), code="dispatched")
    if plan.status != "planning":
        raise Conflict(_("排线计划 {n} 的排线已取消", n=plan.number), code="cancelled")
    plan.routes.clear()
    uow.flush()
    problem = pi.problem
    vehicles = [uow.get(TmsVehicle, vid) for vid in pi.vehicle_ids]
    ships = {s.id: s for s in uow.session.scalars(select(TmsShipment).where(TmsShipment.id.in_(pi.shipment_ids)))}
    total_km, total_cost = 0.0, Decimal(0)
    free = list(vehicles)
    for route, cap in zip(routes, caps, strict=True):
        vehicle = next(v for v in free if int(v.capacity_kg) == cap)  # the solver's vehicle type
        free.remove(vehicle)
        times, _ok = _schedule(problem, route)
        path = [0, *route, 0]
        metres = sum(problem.distance[a][b] for a, b in itertools.pairwise(path))
        end = times[-1] + SERVICE_S + problem.travel_time(route[-1], 0)
        km = round(metres / 1000, 2)
        cost = (Decimal(str(km)) * vehicle.cost_per_km + vehicle.fixed_cost).quantize(Decimal("0.01"))
        r = TmsRoute(company_id=uow.company_id, vehicle_id=vehicle.id, status="planned", distance_km=km,
                     duration_min=round(end / 60, 1),
                     load_kg=sum((ships[pi.shipment_ids[c - 1]].weight_kg for c in route), Decimal(0)), cost=cost)
        for seq, (c, t) in enumerate(zip(route, times, strict=True), 1):
            r.stops.append(TmsRouteStop(company_id=uow.company_id, shipment_id=pi.shipment_ids[c - 1], sequence=seq,
                                        status="pending",
                                        eta=(pi.shift_start + dt.timedelta(seconds=t)).astimezone(dt.UTC)))
        plan.routes.append(r)
        total_km += km
        total_cost += cost
    unassigned = list(pi.unassigned)
    for c in dropped:
        s = ships[pi.shipment_ids[c - 1]]
        unassigned.append({"shipment_id": s.id, "number": s.number,
                           "reason": _("车辆数量、载重或时间窗不足，未能排入线路")})
    plan.unassigned = unassigned
    plan.total_km = round(total_km, 2)
    plan.total_cost = total_cost
    plan.status = "planned"
    wanted = (plan.stats or {}).get("shipment_ids")
    plan.stats = {**stats, "shipments": len(pi.shipment_ids) + len(pi.unassigned),
                  "routed": sum(len(r) for r in routes), "routes": len(plan.routes),
                  "unassigned": len(unassigned), **({"shipment_ids": wanted} if wanted is not None else {})}
    uow.flush()
    return plan


def _new_plan(uow: UnitOfWork, depot_id: int, day: dt.date, shipment_ids, time_limit_s: float,
              status: str) -> TmsRoutePlan:
    depot = uow.get(TmsDepot, depot_id)
    if not (0.5 <= float(time_limit_s) <= 600):
        raise ValidationFailed(_("求解时限应在 0.5 到 600 秒之间"), field="time_limit_s")
    if not fleet.active_vehicles(uow, depot.id):
        raise ValidationFailed(_("站点 {c} 没有可用车辆", c=depot.code), field="depot_id")
    plan = TmsRoutePlan(number=next_number(uow, "TMS_PLAN"), depot_id=depot.id, day=day, status=status,
                        time_limit_s=float(time_limit_s),
                        stats={"shipment_ids": [int(x) for x in shipment_ids]} if shipment_ids is not None else {})
    uow.add(plan)
    uow.flush()
    return plan


def create_plan(uow: UnitOfWork, depot_id: int, day: dt.date, *, shipment_ids: list[int] | None = None,
                time_limit_s: float = 10) -> TmsRoutePlan:
    """Plan the depot's day now: solve and store the routes in the caller's unit of work."""
    plan = _new_plan(uow, depot_id, day, shipment_ids, time_limit_s, "planning")
    return solve_now(uow, plan.id)


def solve_now(uow: UnitOfWork, plan_id: int) -> TmsRoutePlan:
    """Solve (again) in the caller's unit of work; a plan not yet dispatched gets its routes replaced."""
    plan = uow.get(TmsRoutePlan, plan_id, for_update=True)
    if plan.status in ("dispatched", "done"):
        raise Conflict(_("排线计划 {n} 已调度，不能重新排线", n=plan.number), code="dispatched")
    plan.status = "planning"
    pi = build_input(uow, plan_id)
    routes, caps, dropped, stats = solve_input(pi)
    return store_solution(uow, pi, routes, caps, dropped, stats)


def start_plan(uow: UnitOfWork, depot_id: int, day: dt.date, *, shipment_ids: list[int] | None = None,
               time_limit_s: float = 10) -> TmsRoutePlan:
    """A plan (排线中) solved by the background job `tms.plan_routes` after the commit."""
    plan = _new_plan(uow, depot_id, day, shipment_ids, time_limit_s, "planning")
    plan.job_id = jobs.enqueue(uow, "tms.plan_routes", {"plan_id": plan.id}).id
    return plan


def replan(uow: UnitOfWork, plan_id: int, *, time_limit_s: float | None = None) -> TmsRoutePlan:
    """Solve a plan that is not dispatched again (in the background); its routes are replaced."""
    plan = uow.get(TmsRoutePlan, plan_id, for_update=True)
    if plan.status in ("dispatched", "done"):
        raise Conflict(_("排线计划 {n} 已调度，不能重新排线", n=plan.number), code="dispatched")
    if plan.status == "planning" and plan.job_id:
        j = uow.session.get(jobs.Job, plan.job_id)
        if j is not None and j.status in (jobs.QUEUED, jobs.RUNNING):
            raise Conflict(_("排线计划 {n} 正在排线，请稍候", n=plan.number), code="planning")
    if time_limit_s is not None:
        plan.time_limit_s = float(time_limit_s)
    plan.status = "planning"
    plan.job_id = jobs.enqueue(uow, "tms.plan_routes", {"plan_id": plan.id}).id
    return plan


@jobs.job("tms.plan_routes")
def _plan_routes_job(ctx: jobs.JobContext) -> dict:
    plan_id = int(ctx.params["plan_id"])
    try:
        ctx.progress(5, _("读取运单与车辆"))
        with ctx.uow() as uow:
            pi = build_input(uow, plan_id)
        n = len(pi.shipment_ids)
        ctx.progress(20, _("求解 {n} 个站点（最长 {s} 秒）", n=n, s=f"{pi.time_limit_s:g}"))
        routes, caps, dropped, stats = solve_input(pi)
        ctx.progress(85, _("保存线路"))
        with ctx.uow() as uow:
            plan = store_solution(uow, pi, routes, caps, dropped, stats)
            result = {"plan_id": plan.id, "routes": len(plan.routes), "unassigned": len(plan.unassigned or [])}
        return result
    except Exception as exc:
        with ctx.uow() as uow:
            plan = uow.get(TmsRoutePlan, plan_id, for_update=True)
            if plan.status == "planning":
                plan.status = "draft" if isinstance(exc, jobs.JobCancelled) else "failed"
        raise


def cancel_planning(uow: UnitOfWork, plan_id: int) -> TmsRoutePlan:
    """Stop a running planning job; the plan goes back to 草稿 with the routes it had (if any) dropped."""
    plan = uow.get(TmsRoutePlan, plan_id, for_update=True)
    if plan.status != "planning":
        raise Conflict(_("排线计划 {n} 不在排线中", n=plan.number), code="illegal_transition")
    if plan.job_id:
        jobs.cancel(uow, plan.job_id)
    plan.status = "draft"
    return plan


def get_plan(uow: UnitOfWork, plan_id: int) -> TmsRoutePlan:
    return uow.get(TmsRoutePlan, plan_id)


def job_state(uow: UnitOfWork, plan: TmsRoutePlan) -> dict | None:
    if not plan.job_id:
        return None
    j = uow.session.get(jobs.Job, plan.job_id)
    if j is None:
        return None
    return {"id": j.id, "status": j.status, "progress": j.progress, "message": j.message, "error": j.error}


def list_plans(uow: UnitOfWork, *, q: str | None = None, status: str | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[TmsRoutePlan], int]:
    from sqlalchemy import func

    p = TmsRoutePlan
    stmt = select(p).where(p.company_id == uow.company_id)
    if q:
        stmt = stmt.where(p.number.ilike(f"%{q.strip()}%"))
    if status:
        stmt = stmt.where(p.status == status)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(uow.session.scalars(stmt.order_by(p.id.desc()).limit(limit).offset(offset))), total


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def plan_dict(uow: UnitOfWork, plan: TmsRoutePlan, *, routes: bool = True) -> dict:
    from .models import TmsDriver

    depot = uow.get(TmsDepot, plan.depot_id)
    out = {"id": plan.id, "number": plan.number, "depot_id": depot.id, "depot": depot.name,
           "depot_lat": depot.lat, "depot_lon": depot.lon, "day": plan.day.isoformat(), "status": plan.status,
           "status_label": plan_label(plan.status), "total_km": plan.total_km,
           "total_cost": None if plan.total_cost is None else _money(plan.total_cost),
           "unassigned": plan.unassigned or [], "stats": plan.stats or {}, "job": job_state(uow, plan)}
    if not routes:
        return out
    ids = [s.shipment_id for r in plan.routes for s in r.stops]
    ships = {s.id: s for s in uow.session.scalars(select(TmsShipment).where(TmsShipment.id.in_(ids or [0])))}
    tz = _tz(uow)
    out["routes"] = []
    for r in plan.routes:
        v = uow.get(TmsVehicle, r.vehicle_id)
        d = uow.get(TmsDriver, r.driver_id) if r.driver_id else None
        stops = []
        load = Decimal(0)
        for st in r.stops:
            s = ships[st.shipment_id]
            load += s.weight_kg or 0
            stops.append({"id": st.id, "sequence": st.sequence, "shipment_id": s.id, "number": s.number,
                          "reference": s.reference, "receiver": s.receiver_name, "phone": s.phone,
                          "address": " ".join(x for x in (s.city, s.district, s.address_detail) if x),
                          "lat": s.lat, "lon": s.lon, "weight_kg": str(s.weight_kg), "load_kg": str(load),
                          "eta": st.eta.astimezone(tz).strftime("%H:%M") if st.eta else None,
                          "status": st.status, "status_label": str(STOP_LABELS.get(st.status, st.status)),
                          "fail_reason": st.fail_reason, "has_pod": bool(st.pod_path)})
        out["routes"].append({"id": r.id, "vehicle_id": v.id, "vehicle": v.code, "plate": v.plate,
                              "driver_id": r.driver_id, "driver": d.name if d else None, "status": r.status,
                              "distance_km": r.distance_km, "duration_min": r.duration_min,
                              "load_kg": str(r.load_kg), "capacity_kg": str(v.capacity_kg), "cost": _money(r.cost),
                              "stops": stops})
    return out
