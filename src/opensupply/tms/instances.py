"""Readers for the standard routing benchmark formats → `RoutingProblem` (see routing.py).

- VRPLIB / TSPLIB (`.vrp`): CVRP with `EUC_2D` coordinates (any coordinates, rounded to the nearest integer per
  TSPLIB, or another convention on request) or an explicit `EDGE_WEIGHT_SECTION`; first depot of
  `DEPOT_SECTION`; `VEHICLES` when given.
- Solomon text layout (`.txt`, also Gehring & Homberger): `VEHICLE` block (number, capacity) and the `CUSTOMER`
  table (id, x, y, demand, ready, due, service; id 0 is the depot).

Both are parsed by `vrplib`; solution files (`Route #k: c1 c2 ...` / `Cost N`) by `read_solution`.
"""

from __future__ import annotations

import math
from pathlib import Path

from opensupply.tms.routing import RoutingProblem, euclidean_matrix


def _is_solomon(path: Path) -> bool:
    head = path.read_text(encoding="utf-8", errors="replace")[:2000].upper()
    return "VEHICLE" in head and "CUSTOMER" in head and "NODE_COORD_SECTION" not in head


def read_routing_instance(path: str | Path, convention: str | None = None) -> RoutingProblem:
    """Read a VRPLIB or Solomon file, whichever it is."""
    path = Path(path)
    if _is_solomon(path):
        return read_solomon(path, convention or "trunc1")
    return read_vrplib(path, convention or "round")


def read_vrplib(path: str | Path, convention: str = "round") -> RoutingProblem:
    import vrplib

    path = Path(path)
    inst = vrplib.read_instance(str(path))
    depots = [int(d) for d in inst.get("depot", [0])]
    depot = depots[0] if depots else 0
    n_nodes = int(inst.get("dimension", len(inst["demand"])))
    order = [depot, *[i for i in range(n_nodes) if i != depot]]  # depot becomes node 0
    coords = None
    if "node_coord" in inst and inst.get("edge_weight_type", "EUC_2D") in ("EUC_2D", "CEIL_2D", "ATT"):
        raw = [(float(inst["node_coord"][i][0]), float(inst["node_coord"][i][1])) for i in order]
        coords = raw
        if inst.get("edge_weight_type") == "CEIL_2D":
            distance = [[math.ceil(math.hypot(a[0] - b[0], a[1] - b[1])) for b in raw] for a in raw]
            scale = 1
        else:
            distance, scale = euclidean_matrix(raw, convention)
    else:  # explicit matrix (or a type vrplib computed for us): round to integers
        weights = inst["edge_weight"]
        distance = [[round(float(weights[i][j])) for j in order] for i in order]
        scale = 1
        if "node_coord" in inst:
            coords = [(float(inst["node_coord"][i][0]), float(inst["node_coord"][i][1])) for i in order]
    demands = [int(inst["demand"][i]) for i in order]
    vehicles = inst.get("vehicles")
    return RoutingProblem(
        name=str(inst.get("name", path.stem)).strip() or path.stem,
        distance=distance,
        demands=demands,
        capacity=int(inst["capacity"]),
        num_vehicles=int(vehicles) if vehicles is not None else None,
        scale=scale,
        coords=coords,
    )


def read_solomon(path: str | Path, convention: str = "trunc1") -> RoutingProblem:
    """Solomon VRPTW: travel time = distance; times are scaled like distances so everything stays integer."""
    import vrplib

    path = Path(path)
    inst = vrplib.read_instance(str(path), instance_format="solomon")
    coords = [(float(x), float(y)) for x, y in inst["node_coord"]]
    distance, scale = euclidean_matrix(coords, convention)
    time_windows = [(_scaled(e, scale), _scaled(lt, scale)) for e, lt in inst["time_window"]]
    service = [_scaled(s, scale) for s in inst["service_time"]]
    return RoutingProblem(
        name=str(inst.get("name", path.stem)).strip() or path.stem,
        distance=distance,
        demands=[int(d) for d in inst["demand"]],
        capacity=int(inst["capacity"]),
        num_vehicles=int(inst["vehicles"]),
        time_windows=time_windows,
        service_times=service,
        scale=scale,
        coords=coords,
    )


def _scaled(value: float, scale: int) -> int:
    return round(float(value) * scale)


def read_solution(path: str | Path) -> tuple[list[list[int]], float | None]:
    """`Route #k: c1 c2 ...` lines (customer = node index, depot omitted) and an optional `Cost N` line."""
    routes: list[list[int]] = []
    cost: float | None = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.lower().startswith("route"):
            routes.append([int(tok) for tok in s.split(":", 1)[1].split()])
        elif s.lower().startswith("cost"):
            cost = float(s.split()[1])
    return routes, cost
