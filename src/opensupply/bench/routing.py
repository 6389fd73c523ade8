"""`bench vrp` (CVRPLIB X instances, `.vrp`) and `bench vrptw` (Solomon `.txt`) on PyVRP.

Each solution is validated and re-costed by `tms.routing.check_routes` with the benchmark's convention
(CVRP: Euclidean distance rounded to the nearest integer, unlimited fleet; VRPTW: total distance, distances and
travel times truncated to one decimal, at most the instance's vehicles) before its gap to the BKS is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from opensupply.bench.common import gap_pct, instance_files, load_bks, number
from opensupply.tms.instances import read_solomon, read_vrplib
from opensupply.tms.routing import check_routes, solve_cvrp, solve_vrptw


def run_routing(
    kind: str,
    data: Path,
    time_limit_s: float,
    seed: int,
    only: list[str] | None = None,
    on_start: Callable[[str, int, int], None] | None = None,
) -> Iterator[dict]:
    if kind == "vrp":
        files = instance_files(data, (".vrp",), only)
        read, solve = read_vrplib, solve_cvrp
    else:
        files = instance_files(data, (".txt",), only)
        read, solve = read_solomon, solve_vrptw
    bks = load_bks(data)
    for i, path in enumerate(files):
        if on_start:
            on_start(path.stem, i, len(files))
        problem = read(path)
        if kind == "vrp":  # CVRPLIB convention: unlimited fleet
            problem = replace(problem, num_vehicles=None)
        t0 = time.perf_counter()
        solution = solve(problem, time_limit_s=time_limit_s, seed=seed)
        seconds = time.perf_counter() - t0
        check = check_routes(problem, solution.routes)
        row: dict = {
            "benchmark": kind,
            "instance": path.stem,
            "customers": problem.num_customers,
            "cost": number(check.cost),
            "solver_cost": number(round(solution.cost, 3)),
            "routes": sum(1 for r in solution.routes if r),
            "feasible": check.feasible,
            "seconds": round(seconds, 2),
            "iterations": solution.iterations,
        }
        if not check.feasible:
            row["errors"] = check.errors[:10]
        ref = bks.get(path.stem.lower())
        if ref is not None:
            row["bks"] = number(ref["bks"])
            row["gap_pct"] = gap_pct(check.cost, ref["bks"])
            if ref.get("vehicles_in_bks"):
                row["bks_vehicles"] = int(float(ref["vehicles_in_bks"]))
        yield row
