"""Vehicle routing on plain data: dataclasses in, dataclasses out, no database.

A `RoutingProblem` is a depot (node 0) plus customers (nodes 1..n) with an integer travel matrix. Integers are
what PyVRP needs; `scale` says how many matrix units make one cost unit (10 for the Solomon convention of one
truncated decimal, 1 for rounded CVRPLIB distances or metres from geocoded addresses). The TMS route-planning job
builds the same problem from addresses; the benchmarks build it from VRPLIB / Solomon files (see instances.py).

`check_routes` validates a solution independently of the solver (every customer exactly once, capacity, time
windows, fleet size) and recomputes its cost from the matrix, so a solver bug cannot report a false figure.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

MAX_TIME = 2**62  # "no time window" sentinel; well inside PyVRP's int64 domain


@dataclass(frozen=True)
class RoutingProblem:
    """Depot = node 0, customers = nodes 1..n. Matrices are integer `scale`-ths of a cost unit."""

    name: str
    distance: Sequence[Sequence[int]]
    demands: Sequence[int]
    capacity: int
    num_vehicles: int | None = None  # None: unlimited fleet (one vehicle per customer is always enough)
    duration: Sequence[Sequence[int]] | None = None  # travel times; None: same as distance
    time_windows: Sequence[tuple[int, int]] | None = None  # (earliest, latest) start of service per node
    service_times: Sequence[int] | None = None
    scale: int = 1
    coords: Sequence[tuple[float, float]] | None = None
    # heterogeneous fleet: one capacity per vehicle (overrides `capacity` / `num_vehicles` for the fleet make-up)
    vehicle_capacities: Sequence[int] | None = None

    @property
    def num_customers(self) -> int:
        return len(self.demands) - 1

    @property
    def has_time_windows(self) -> bool:
        return self.time_windows is not None

    def travel_time(self, i: int, j: int) -> int:
        return (self.duration or self.distance)[i][j]


@dataclass(frozen=True)
class RouteSolution:
    routes: list[list[int]]  # customer node indices per route, depot omitted
    cost: float  # in cost units (matrix units / scale), as reported by the solver
    solver_feasible: bool = True
    iterations: int = 0
    runtime_s: float = 0.0
    route_capacities: list[int] | None = None  # with `vehicle_capacities`: the capacity of each route's vehicle


@dataclass
class RouteCheck:
    feasible: bool
    cost: float
    errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- distances


def euclidean_matrix(coords: Sequence[tuple[float, float]], convention: str = "round") -> tuple[list[list[int]], int]:
    """Integer distance matrix and its scale for a cost convention.

    - ``"round"``: Euclidean distance rounded to the nearest integer (TSPLIB EUC_2D, CVRPLIB X instances).
    - ``"trunc1"``: truncated to one decimal (the DIMACS Solomon convention) → tenths, scale 10.
    - ``"exact"``: rounded to 1/1000 (scale 1000) — for real-world coordinates where precision hardly matters.
    """
    n = len(coords)
    out = [[0] * n for _ in range(n)]
    if convention == "round":
        scale = 1
    elif convention == "trunc1":
        scale = 10
    elif convention == "exact":
        scale = 1000
    else:
        raise ValueError(f"unknown distance convention: {convention}")
    integral = all(float(x).is_integer() and float(y).is_integer() for x, y in coords)
    for i in range(n):
        xi, yi = coords[i]
        row = out[i]
        for j in range(i + 1, n):
            dx, dy = xi - coords[j][0], yi - coords[j][1]
            if convention == "round":
                d = math.floor(math.hypot(dx, dy) + 0.5)
            elif convention == "trunc1":
                if integral:  # exact integer arithmetic: floor(10 * sqrt(s)) = isqrt(100 * s)
                    d = math.isqrt(100 * int(dx * dx + dy * dy))
                else:
                    d = math.floor(math.hypot(dx, dy) * 10 + 1e-9)
            else:
                d = round(math.hypot(dx, dy) * scale)
            row[j] = d
            out[j][i] = d
    return out, scale


# --------------------------------------------------------------------------- validation


def check_routes(problem: RoutingProblem, routes: Sequence[Sequence[int]],
                 capacities: Sequence[int] | None = None) -> RouteCheck:
    """Check a solution without trusting the solver; return feasibility, recomputed cost and what is wrong.
    With a heterogeneous fleet pass `capacities` (one per route, as the solver assigned them)."""
    errors: list[str] = []
    n = problem.num_customers
    seen: dict[int, int] = {}
    for r, route in enumerate(routes):
        for c in route:
            if not (1 <= c <= n):
                errors.append(f"route {r + 1}: node {c} is not a customer")
                continue
            if c in seen:
                errors.append(f"customer {c} visited twice (routes {seen[c] + 1} and {r + 1})")
            seen[c] = r
    missing = [c for c in range(1, n + 1) if c not in seen]
    if missing:
        errors.append(f"{len(missing)} customers not visited, e.g. {missing[:5]}")
    used = [route for route in routes if route]
    if problem.num_vehicles is not None and len(used) > problem.num_vehicles:
        errors.append(f"{len(used)} routes use more than the {problem.num_vehicles} vehicles available")
    route_caps = [problem.capacity] * len(used)
    if problem.vehicle_capacities is not None:
        caps = list(capacities) if capacities is not None else [max(problem.vehicle_capacities)] * len(routes)
        route_caps = [c for route, c in zip(routes, caps, strict=True) if route]
        pool = sorted(problem.vehicle_capacities)
        for c in sorted(route_caps):
            if c in pool:
                pool.remove(c)
            else:
                errors.append(f"no vehicle of capacity {c} left for a route")

    units = 0
    tw = problem.time_windows
    service = problem.service_times
    for r, route in enumerate(used):
        nodes = [c for c in route if 1 <= c <= n]
        load = sum(problem.demands[c] for c in nodes)
        if load > route_caps[r]:
            errors.append(f"route {r + 1}: load {load} exceeds capacity {route_caps[r]}")
        path = [0, *nodes, 0]
        units += sum(problem.distance[a][b] for a, b in itertools.pairwise(path))
        if tw is not None:
            t = tw[0][0]
            prev = 0
            for c in [*nodes, 0]:
                t = t + (service[prev] if service else 0) + problem.travel_time(prev, c)
                early, late = tw[c]
                if t > late:
                    who = "depot" if c == 0 else f"customer {c}"
                    at, limit = t / problem.scale, late / problem.scale
                    errors.append(f"route {r + 1}: arrives at {who} at {at:g}, after {limit:g}")
                    break
                t = max(t, early)
                prev = c
    cost = units / problem.scale
    if problem.scale > 1:
        cost = round(cost, len(str(problem.scale)) - 1)
    return RouteCheck(feasible=not errors, cost=cost, errors=errors)


# --------------------------------------------------------------------------- solving


def _problem_data(problem: RoutingProblem):
    import numpy as np
    import pyvrp

    n = problem.num_customers
    coords = problem.coords or [(0.0, 0.0)] * (n + 1)
    locations = [pyvrp.Location(float(x), float(y)) for x, y in coords]
    tw = problem.time_windows
    service = problem.service_times or [0] * (n + 1)
    depot_early, depot_late = tw[0] if tw else (0, MAX_TIME)
    depots = [pyvrp.Depot(location=0, tw_early=int(depot_early), tw_late=int(depot_late))]
    clients = [
        pyvrp.Client(
            location=c,
            delivery=[int(problem.demands[c])],
            service_duration=int(service[c]),
            tw_early=int(tw[c][0]) if tw else 0,
            tw_late=int(tw[c][1]) if tw else MAX_TIME,
        )
        for c in range(1, n + 1)
    ]
    fleet = problem.num_vehicles if problem.num_vehicles is not None else max(n, 1)
    make_up = ([(int(problem.capacity), int(fleet))] if problem.vehicle_capacities is None else
               sorted(Counter(int(c) for c in problem.vehicle_capacities).items(), reverse=True))
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=count,
            capacity=[capacity],
            tw_early=int(depot_early),
            tw_late=int(depot_late),
        )
        for capacity, count in make_up
    ]
    distance = np.asarray(problem.distance, dtype=np.int64)
    duration = np.asarray(problem.duration, dtype=np.int64) if problem.duration is not None else distance.copy()
    if tw is None:
        duration = np.zeros_like(distance)
    return pyvrp.ProblemData(locations, clients, depots, vehicle_types, [distance], [duration], [], [])


def solve_routes(problem: RoutingProblem, time_limit_s: float = 30.0, seed: int = 1) -> RouteSolution:
    """Solve a CVRP / VRPTW with PyVRP's iterated local search within `time_limit_s` seconds."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    if problem.num_customers == 0:
        return RouteSolution(routes=[], cost=0.0)
    data = _problem_data(problem)
    result = pyvrp.solve(data, MaxRuntime(time_limit_s), seed=seed, display=False, collect_stats=False)
    best = result.best
    client = pyvrp.ActivityType.CLIENT
    routes = [[activity.idx + 1 for activity in route if activity.type == client] for route in best.routes()]
    caps = None
    if problem.vehicle_capacities is not None:
        caps = [int(data.vehicle_type(route.vehicle_type()).capacity[0]) for route in best.routes()]
    return RouteSolution(
        routes=routes,
        cost=best.distance() / problem.scale,
        solver_feasible=bool(best.is_feasible()),
        iterations=int(result.num_iterations),
        runtime_s=float(result.runtime),
        route_capacities=caps,
    )


def solve_cvrp(problem: RoutingProblem, time_limit_s: float = 30.0, seed: int = 1) -> RouteSolution:
    """Capacitated VRP, minimise total distance; the fleet is unlimited unless `problem.num_vehicles` says so."""
    if problem.time_windows is not None:
        problem = replace(problem, time_windows=None, service_times=None)
    return solve_routes(problem, time_limit_s, seed)


def solve_vrptw(problem: RoutingProblem, time_limit_s: float = 30.0, seed: int = 1) -> RouteSolution:
    """VRP with time windows: minimise total distance with at most `problem.num_vehicles` vehicles."""
    if problem.time_windows is None:
        raise ValueError("solve_vrptw needs time windows")
    return solve_routes(problem, time_limit_s, seed)
