"""Route planning and dispatch on plain fleet shipments: capacity and time windows hold (checked independently),
every shipment is routed once or listed with a reason, re-planning replaces routes, dispatch needs drivers,
drivers mark only their own stops."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.tms import dispatch, planning, routing
from opensupply.tms.models import TmsRoute, TmsRouteStop, TmsShipment
from tests.tms.fleet.factories import DAY, deliveries, make_fleet

D = Decimal


def _routed(plan) -> list[int]:
    return [s.shipment_id for r in plan.routes for s in r.stops]


def test_plan_respects_capacity_and_windows_and_lists_the_rest(db):
    fl = make_fleet(db, vehicles=2, capacity_kg="300", drivers=0)
    ids = deliveries(fl, 24, windows=True)
    with fl.uow() as uow:  # one impossible: heavier than any vehicle; one without a reachable window
        heavy = uow.get(TmsShipment, ids[1])
        heavy.weight_kg = D("350")
        late = uow.get(TmsShipment, ids[2])
        late.window_start = dt.datetime.combine(DAY, dt.time(23, 0), tzinfo=dt.UTC)
        late.window_end = late.window_start + dt.timedelta(hours=1)
    with fl.uow() as uow:
        plan = planning.create_plan(uow, fl.depot, DAY, time_limit_s=1)
        pi = planning.build_input(uow, plan.id)
        routed = _routed(plan)
        unassigned = {u["shipment_id"]: u["reason"] for u in plan.unassigned}
        assert sorted(routed + list(unassigned)) == sorted(ids)  # each once: routed or listed
        assert len(routed) == len(set(routed))
        assert "超过车辆载重" in unassigned[ids[1]]
        assert "时间窗" in unassigned[ids[2]]
        assert all(u["reason"] for u in plan.unassigned)
        assert 1 <= len(plan.routes) <= 2 and plan.status == "planned"
        for r in plan.routes:
            assert r.load_kg <= D(300)
            assert r.load_kg == sum(uow.get(TmsShipment, s.shipment_id).weight_kg for s in r.stops)
            assert r.cost == (D(str(r.distance_km)) * D("2.5") + D(100)).quantize(D("0.01"))
            etas = [s.eta for s in r.stops]
            assert etas == sorted(etas) and all(etas)
            for s in r.stops:
                ship = uow.get(TmsShipment, s.shipment_id)
                if ship.window_end:
                    assert ship.window_start <= s.eta.replace(tzinfo=dt.UTC) <= ship.window_end
        # the stored routes pass the solver-independent check on the problem built from the same data
        node = {sid: i + 1 for i, sid in enumerate(pi.shipment_ids)}
        routes = [[node[s.shipment_id] for s in r.stops] for r in plan.routes]
        keep = [0, *sorted(c for r in routes for c in r)]
        p = pi.problem
        sub = routing.RoutingProblem(
            name="x", distance=[[p.distance[a][b] for b in keep] for a in keep],
            duration=[[p.duration[a][b] for b in keep] for a in keep], demands=[p.demands[a] for a in keep],
            capacity=p.capacity, num_vehicles=2, time_windows=[p.time_windows[a] for a in keep],
            service_times=[p.service_times[a] for a in keep])
        idx = {c: i for i, c in enumerate(keep)}
        check = routing.check_routes(sub, [[idx[c] for c in r] for r in routes])
        assert check.feasible, check.errors
        assert plan.total_km == pytest.approx(sum(r.distance_km for r in plan.routes), abs=0.05)


def test_too_few_vehicles_lists_what_does_not_fit(db):
    fl = make_fleet(db, vehicles=1, capacity_kg="100", drivers=0)
    ids = deliveries(fl, 10, weight=(20, 30))  # 200-300 kg for one 100 kg vehicle
    with fl.uow() as uow:
        plan = planning.create_plan(uow, fl.depot, DAY, time_limit_s=0.5)
        routed = _routed(plan)
        assert len(plan.routes) == 1 and plan.routes[0].load_kg <= D(100)
        assert sorted(routed + [u["shipment_id"] for u in plan.unassigned]) == sorted(ids)
        assert len(plan.unassigned) >= 6


def test_replan_replaces_routes_and_dispatch_needs_drivers(db):
    fl = make_fleet(db, vehicles=2, capacity_kg="400", drivers=2)
    ids = deliveries(fl, 12)
    with fl.uow() as uow:
        plan = planning.create_plan(uow, fl.depot, DAY, time_limit_s=0.5)
        plan_id, first = plan.id, {r.id for r in plan.routes}
    with fl.uow() as uow:
        plan = planning.solve_now(uow, plan_id)
        assert sorted(_routed(plan)) == sorted(ids) and first
        stored = list(uow.session.scalars(select(TmsRoute).where(TmsRoute.plan_id == plan_id)))
        assert len(stored) == len(plan.routes)  # the old routes are gone, not added to
        stops = uow.session.scalars(select(TmsRouteStop.shipment_id).join(TmsRoute).where(TmsRoute.plan_id == plan_id))
        assert sorted(stops) == sorted(ids)
        route_ids = [r.id for r in plan.routes]
    with fl.uow() as uow:
        with pytest.raises(ValidationFailed, match="还没有司机"):
            dispatch.dispatch_plan(uow, plan_id)
    for rid, did in zip(route_ids, fl.drivers, strict=False):
        with fl.uow() as uow:
            dispatch.assign(uow, rid, did)
    if len(route_ids) == 2:
        with fl.uow() as uow, pytest.raises(Conflict, match="另一条线路"):
            dispatch.assign(uow, route_ids[1], fl.drivers[0])
    with fl.uow() as uow:
        dispatch.dispatch_plan(uow, plan_id)
    with fl.uow(readonly=True) as uow:
        assert {uow.get(TmsShipment, i).status for i in ids} == {"out_for_delivery"}
    with fl.uow() as uow, pytest.raises(Conflict, match="已调度"):
        planning.solve_now(uow, plan_id)


def test_driver_marks_only_own_stops_and_completes_the_plan(db):
    fl = make_fleet(db, vehicles=1, capacity_kg="1000", drivers=2)
    ids = deliveries(fl, 4)
    with fl.uow() as uow:
        plan = planning.create_plan(uow, fl.depot, DAY, time_limit_s=0.5)
        plan_id, route_id = plan.id, plan.routes[0].id
        stops = [s.id for s in plan.routes[0].stops]
        dispatch.assign(uow, route_id, fl.drivers[0])
        dispatch.dispatch_plan(uow, plan_id)
    me, other = fl.drivers
    with fl.uow() as uow, pytest.raises(PermissionDenied):
        dispatch.mark_delivered(uow, stops[0], other)
    with fl.uow() as uow, pytest.raises(ValidationFailed, match="原因"):
        dispatch.mark_failed(uow, stops[0], me, "  ")
    with fl.uow() as uow:
        dispatch.mark_arrived(uow, stops[0], me)
        dispatch.mark_delivered(uow, stops[0], me)
        dispatch.mark_failed(uow, stops[1], me, "客户不在家")
    with fl.uow() as uow, pytest.raises(Conflict):
        dispatch.mark_delivered(uow, stops[0], me)
    with fl.uow() as uow:
        assert uow.get(TmsRoute, route_id).status == "started"
        for sid in stops[2:]:
            dispatch.mark_delivered(uow, sid, me)
    with fl.uow(readonly=True) as uow:
        assert uow.get(TmsRoute, route_id).status == "done"
        assert planning.get_plan(uow, plan_id).status == "done"
        st = {s.id: s for s in uow.session.scalars(select(TmsRouteStop).where(TmsRouteStop.route_id == route_id))}
        assert st[stops[1]].fail_reason == "客户不在家"
        ships = [uow.get(TmsShipment, st[s].shipment_id) for s in stops]
        assert [s.status for s in ships] == ["delivered", "failed", "delivered", "delivered"]
        assert sorted(s.id for s in ships) == sorted(ids)


def test_pod_upload_limits_and_gps(db, tmp_path, monkeypatch):
    monkeypatch.setattr(dispatch, "_pod_dir", lambda: tmp_path)
    fl = make_fleet(db, vehicles=1, capacity_kg="1000", drivers=2)
    deliveries(fl, 2)
    with fl.uow() as uow:
        plan = planning.create_plan(uow, fl.depot, DAY, time_limit_s=0.5)
        route = plan.routes[0]
        dispatch.assign(uow, route.id, fl.drivers[0])
        dispatch.dispatch_plan(uow, plan.id)
        stop_id = route.stops[0].id
    me, other = fl.drivers
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    with fl.uow() as uow, pytest.raises(ValidationFailed, match="只能上传"):
        dispatch.save_pod(uow, stop_id, me, "x.png", b"GIF89a not allowed")
    with fl.uow() as uow, pytest.raises(ValidationFailed, match="过大"):
        dispatch.save_pod(uow, stop_id, me, "x.png", png + b"\0" * dispatch.POD_MAX_BYTES)
    with fl.uow() as uow, pytest.raises(PermissionDenied):
        dispatch.save_pod(uow, stop_id, other, "x.png", png)
    with fl.uow() as uow:
        dispatch.save_pod(uow, stop_id, me, "x.png", png)
    with fl.uow(readonly=True) as uow:
        path, media = dispatch.pod_file(uow, stop_id, uow.actor)
        assert media == "image/png" and path.read_bytes() == png and tmp_path in path.parents
    with fl.uow() as uow:
        ping = dispatch.record_gps(uow, me, 30.28, 120.16)
        assert ping.route_id == route.id
        with pytest.raises(ValidationFailed):
            dispatch.record_gps(uow, me, 91, 0)


def test_mixed_fleet_uses_each_vehicles_own_capacity(db):
    from opensupply.tms import fleet
    from opensupply.tms.models import TmsVehicle

    fl = make_fleet(db, vehicles=1, capacity_kg="120", drivers=0)
    with fl.uow() as uow:
        big = fleet.create_vehicle(uow, code="TRUCK", depot_id=fl.depot, capacity_kg="400", cost_per_km="4").id
    ids = deliveries(fl, 12, weight=(15, 30))
    with fl.uow() as uow:
        uow.get(TmsShipment, ids[0]).weight_kg = D("250")  # only the truck can take it
    with fl.uow() as uow:
        plan = planning.create_plan(uow, fl.depot, DAY, time_limit_s=1)
        assert not plan.unassigned and sorted(_routed(plan)) == sorted(ids)
        for r in plan.routes:
            assert r.load_kg <= uow.get(TmsVehicle, r.vehicle_id).capacity_kg
        heavy = next(r for r in plan.routes if ids[0] in [s.shipment_id for s in r.stops])
        assert heavy.vehicle_id == big
        assert len({r.vehicle_id for r in plan.routes}) == len(plan.routes)


def test_background_job_cancel_replan_and_a_road_matrix(db, monkeypatch):
    from opensupply.core import jobs

    monkeypatch.setattr(jobs, "in_process", False)
    fl = make_fleet(db, vehicles=2, capacity_kg="400", drivers=0)
    ids = deliveries(fl, 8)
    with fl.uow() as uow:
        plan = planning.start_plan(uow, fl.depot, DAY, time_limit_s=0.5)
        plan_id, job_id = plan.id, plan.job_id
        assert plan.status == "planning"
    with fl.uow() as uow:
        assert planning.cancel_planning(uow, plan_id).status == "draft"
    assert jobs.run_job(db, job_id) is None  # a cancelled job never runs
    with fl.uow(readonly=True) as uow:
        assert uow.session.get(jobs.Job, job_id).status == jobs.CANCELLED

    calls = []

    def matrix(points):
        calls.append(len(points))
        n = len(points)
        dist = [[0 if i == j else 2000 for j in range(n)] for i in range(n)]  # every leg 2 km, 4 minutes
        return dist, [[0 if i == j else 240 for j in range(n)] for i in range(n)]

    monkeypatch.setattr(planning, "MATRIX_PROVIDER", matrix)
    with fl.uow() as uow:
        new_job = planning.replan(uow, plan_id).job_id
    jobs.run_job(db, new_job)
    with fl.uow(readonly=True) as uow:
        j = uow.session.get(jobs.Job, new_job)
        assert j.status == jobs.DONE and j.progress == 100, j.error
        plan = planning.get_plan(uow, plan_id)
        assert plan.status == "planned" and calls == [9]
        assert sorted(_routed(plan)) == sorted(ids)
        assert plan.total_km == pytest.approx(2.0 * (8 + len(plan.routes)))
