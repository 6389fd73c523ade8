"""`opensupply bench pickpath` — the pick-path optimizer against the optimum and the S-shape route.

Scenarios (issue defaults): seed 1, 100 orders of 10–30 lines drawn uniformly over the bins of a
10-aisle × 2-side × 25-bin rack area, depot at the front left. Each order is routed on two layouts of
the same aisles: a single block, and a 3-block variant (two extra cross-aisles; the same bin codes).

Per route: the optimizer's length (`opensupply.wms.pickpath.optimize`, method "auto": the exact
Ratliff–Rosenthal sweep on the single block, its multi-block extension on three blocks) and its
time, the S-shape and largest-gap lengths, OR-Tools guided local search for comparison, and the
optimum from an independent exact TSP solver that knows nothing of aisles (Held–Karp up to 12
stops, else CP-SAT hinted with the optimizer's route, 10 s; `optimal_proven` says whether it
closed the gap). Every route is checked:
it visits each line once and its length is recomputed from the visiting order.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

from opensupply.wms import pickpath as pp
from opensupply.wms.layout import Geometry, LayoutSpec, generate

LAYOUTS = {
    "single_block": LayoutSpec(zone="A", blocks=1, aisles=10, bins_per_side=25),
    "three_block": LayoutSpec(zone="A", blocks=3, aisles=10, bins_per_side=25),
}


def _pct(a: float, b: float) -> float:
    return round(100.0 * (a - b) / b, 3) if b else 0.0


def run_pickpath(scenarios: int, seed: int, time_limit_ms: int, layouts: list[str], min_lines: int,
                 max_lines: int, on_start: Callable[[str, int, int], None], reference_s: float = 10.0
                 ) -> Iterator[dict]:
    rng = random.Random(seed)
    setups = {name: (Geometry.from_spec(LAYOUTS[name]), {b.code: b for b in generate(LAYOUTS[name])})
              for name in layouts}
    codes = sorted(next(iter(setups.values()))[1])
    geo0, bins0 = next(iter(setups.values()))
    pp.ortools(geo0, [b.point for b in list(bins0.values())[::37]], time_limit_ms=5)  # load OR-Tools untimed
    for geo, bins in setups.values():  # and the sweeps' transition tables (filled once per process)
        warm = random.Random(seed + 99)
        for _ in range(5):
            pp.optimize(geo, [b.point for b in warm.sample(list(bins.values()), max_lines)])
    total = scenarios * len(layouts)
    k = 0
    for s in range(1, scenarios + 1):
        lines = [rng.choice(codes) for _ in range(rng.randint(min_lines, max_lines))]
        for name in layouts:
            on_start(f"{name} #{s}", k, total)
            k += 1
            geo, bins = setups[name]
            picks = [bins[c].point for c in lines]
            t0 = time.perf_counter()
            route = pp.optimize(geo, picks, time_limit_ms=time_limit_ms)
            ms = (time.perf_counter() - t0) * 1000
            best = pp.reference(geo, picks, hint=route.order, time_limit_s=reference_s)
            s_route = pp.sshape(geo, picks)
            lg = pp.largest_gap(geo, picks)
            ort = pp.ortools(geo, picks, time_limit_ms=time_limit_ms)
            errors = []
            if best.optimal and route.length_m > best.length_m + 1e-6 and route.method in ("rr", "dp"):
                errors.append(f"{route.method}: longer than the proven optimum {best.length_m}")
            for r in (route, best, s_route, lg, ort):
                if sorted(r.order) != list(range(len(picks))):
                    errors.append(f"{r.method}: does not visit every line exactly once")
                if r.length_m < geo.tour_length(picks, r.order) - 1e-6:
                    errors.append(f"{r.method}: length shorter than its own visiting order")
            reference = min(best.length_m, route.length_m)
            row = {"scenario": s, "layout": name, "lines": len(lines), "stops": len(set(lines)),
                   "method": route.method, "length_m": round(route.length_m, 2), "sshape_m": round(s_route.length_m, 2),
                   "largest_gap_m": round(lg.length_m, 2), "ortools_m": round(ort.length_m, 2),
                   "optimal_m": round(reference, 2),
                   "optimal_method": best.method, "optimal_proven": best.optimal,
                   "gap_pct": _pct(route.length_m, reference),
                   "saving_vs_sshape_pct": round(-_pct(route.length_m, s_route.length_m), 3),
                   "saving_vs_largest_gap_pct": round(-_pct(route.length_m, lg.length_m), 3),
                   "ms": round(ms, 2), "seconds": round(ms / 1000, 4), "feasible": not errors}
            if errors:
                row["errors"] = errors
            yield row


def _avg(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def summarize(rows: list[dict], scenarios: int, time_limit_ms: int) -> dict:
    def part(rs: list[dict]) -> dict:
        return {"routes": len(rs), "avg_gap_to_optimal_pct": _avg([r["gap_pct"] for r in rs]),
                "max_gap_to_optimal_pct": max((r["gap_pct"] for r in rs), default=None),
                "avg_saving_vs_sshape_pct": _avg([r["saving_vs_sshape_pct"] for r in rs]),
                "avg_saving_vs_largest_gap_pct": _avg([r["saving_vs_largest_gap_pct"] for r in rs]),
                "ortools_avg_gap_pct": _avg([_pct(r["ortools_m"], r["optimal_m"]) for r in rs]),
                "avg_ms_per_route": _avg([r["ms"] for r in rs]),
                "max_ms_per_route": max((r["ms"] for r in rs), default=None),
                "optimum_proven": sum(1 for r in rs if r["optimal_proven"])}

    out = {"scenarios": scenarios, **part(rows), "optimizer_time_limit_ms": time_limit_ms,
           "feasible": sum(1 for r in rows if r.get("feasible"))}
    out["layouts"] = {name: part([r for r in rows if r["layout"] == name])
                      for name in dict.fromkeys(r["layout"] for r in rows)}
    return out
