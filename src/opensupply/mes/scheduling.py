"""Finite-capacity scheduling on plain data with OR-Tools CP-SAT (no database).

The core is the classic job shop: each job is a sequence of operations `(machine, duration)`; an operation
needs its machine exclusively; operations of a job run in order; minimise the makespan. `build_jobshop_model`
returns the model and its variables so later MES scheduling (release and due dates, setups, tardiness, shift
calendars) can add constraints and another objective to the same model.

Two things make CP-SAT much stronger than the plain model within a short time limit:
- a dispatch-rule schedule (`dispatch_schedule`, most-work-remaining by default) as a solution hint, and its
  makespan as the horizon, so the search starts from a good feasible schedule with tight variable domains;
- the makespan's lower bound (longest job / most-loaded machine) given to the objective variable;
- two phases: the full portfolio for a fifth of the time (closes small instances, proves bounds), then
  large-neighbourhood search only from the best schedule — with 2 workers the portfolio leaves a single thread
  improving the incumbent, which is what a 20×15 instance needs.

`check_schedule` verifies a schedule without trusting the solver (precedence, no overlap, makespan).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

Job = Sequence[tuple[int, int]]  # [(machine, duration), ...] in processing order


@dataclass
class Schedule:
    makespan: int
    starts: list[list[int]]  # starts[j][k] = start of the k-th operation of job j
    optimal: bool = False
    lower_bound: int = 0
    status: str = ""
    wall_time_s: float = 0.0


@dataclass
class JobShopModel:
    model: object  # cp_model.CpModel
    starts: list[list[object]]
    ends: list[list[object]]
    intervals: list[list[object]]
    makespan: object
    horizon: int
    machine_intervals: dict[int, list[object]] = field(default_factory=dict)


def lower_bound(jobs: Sequence[Job]) -> int:
    """Trivial makespan bound: the longest job and the most loaded machine."""
    longest_job = max((sum(d for _, d in job) for job in jobs), default=0)
    load: dict[int, int] = {}
    for job in jobs:
        for m, d in job:
            load[m] = load.get(m, 0) + d
    return max(longest_job, max(load.values(), default=0))


def dispatch_schedule(jobs: Sequence[Job], rule: str = "MWKR") -> Schedule:
    """Giffler–Thompson active schedule with a priority rule: MWKR (most work remaining), SPT or MOPNR."""
    n = len(jobs)
    remaining = [sum(d for _, d in job) for job in jobs]
    next_op = [0] * n
    job_ready = [0] * n
    machine_ready: dict[int, int] = {}
    starts = [[0] * len(job) for job in jobs]
    todo = sum(len(job) for job in jobs)
    while todo:
        # earliest completion among the schedulable operations decides the conflict machine
        cands = []
        for j in range(n):
            k = next_op[j]
            if k < len(jobs[j]):
                m, d = jobs[j][k]
                s = max(job_ready[j], machine_ready.get(m, 0))
                cands.append((s + d, s, j, m, d))
        c_min, _, _, m_star, _ = min(cands)
        conflict = [c for c in cands if c[3] == m_star and c[1] < c_min]

        def priority(c):
            _, s, j, _, d = c
            if rule == "SPT":
                return (d, s, j)
            if rule == "MOPNR":
                return (-(len(jobs[j]) - next_op[j]), s, j)
            return (-remaining[j], s, j)

        _, s, j, m, d = min(conflict, key=priority)
        starts[j][next_op[j]] = s
        job_ready[j] = s + d
        machine_ready[m] = s + d
        remaining[j] -= d
        next_op[j] += 1
        todo -= 1
    makespan = max((starts[j][-1] + jobs[j][-1][1] for j in range(n) if jobs[j]), default=0)
    return Schedule(makespan=makespan, starts=starts, status=f"dispatch:{rule}")


def best_dispatch_schedule(jobs: Sequence[Job]) -> Schedule:
    return min((dispatch_schedule(jobs, rule) for rule in ("MWKR", "MOPNR", "SPT")), key=lambda s: s.makespan)


def build_jobshop_model(jobs: Sequence[Job], horizon: int | None = None) -> JobShopModel:
    """Interval variables, one no-overlap per machine, precedences inside each job, makespan ≥ every job end."""
    from ortools.sat.python import cp_model

    if horizon is None:
        horizon = sum(d for job in jobs for _, d in job)
    model = cp_model.CpModel()
    starts: list[list[object]] = []
    ends: list[list[object]] = []
    intervals: list[list[object]] = []
    per_machine: dict[int, list[object]] = {}
    for j, job in enumerate(jobs):
        before = sum(d for _, d in job)
        s_row, e_row, i_row = [], [], []
        head = 0
        for k, (m, d) in enumerate(job):
            tail = before - head - d  # work after this operation bounds how late it can start
            s = model.new_int_var(head, max(head, horizon - d - tail), f"s_{j}_{k}")
            e = model.new_int_var(head + d, max(head + d, horizon - tail), f"e_{j}_{k}")
            iv = model.new_interval_var(s, d, e, f"i_{j}_{k}")
            per_machine.setdefault(m, []).append(iv)
            s_row.append(s)
            e_row.append(e)
            i_row.append(iv)
            head += d
        for k in range(1, len(job)):
            model.add(s_row[k] >= e_row[k - 1])
        starts.append(s_row)
        ends.append(e_row)
        intervals.append(i_row)
    for ivs in per_machine.values():
        model.add_no_overlap(ivs)
    makespan = model.new_int_var(lower_bound(jobs), max(horizon, lower_bound(jobs)), "makespan")
    model.add_max_equality(makespan, [row[-1] for row in ends if row])
    return JobShopModel(model, starts, ends, intervals, makespan, horizon, per_machine)


def solve_jobshop(
    jobs: Sequence[Job],
    time_limit_s: float = 30.0,
    workers: int = 2,
    seed: int = 0,
    hint: Schedule | None = None,
    prove_share: float = 0.2,
) -> Schedule:
    """Minimise the makespan of a job shop; returns the best schedule found within the time limit.

    Two phases: the full CP-SAT portfolio for `prove_share` of the time (it closes small instances and gives the
    lower bound), then, if not proven optimal, large-neighbourhood search only (every worker improves the
    incumbent, which is what counts with 2 workers), started from the best schedule so far.
    """
    import time

    t0 = time.perf_counter()
    if not jobs or all(not job for job in jobs):
        return Schedule(makespan=0, starts=[[] for _ in jobs], optimal=True, status="OPTIMAL")
    best = hint if hint is not None and not check_schedule(jobs, hint.starts, hint.makespan) else None
    best = best or best_dispatch_schedule(jobs)
    bound = lower_bound(jobs)
    if best.makespan <= bound:
        return Schedule(best.makespan, best.starts, True, bound, "OPTIMAL", time.perf_counter() - t0)
    phases = (
        [(max(0.5, time_limit_s * prove_share), False), (None, True)] if prove_share < 1 else [(time_limit_s, False)]
    )
    for limit, lns_only in phases:
        left = time_limit_s - (time.perf_counter() - t0)
        if limit is not None:
            left = min(left, limit)
        if left <= 0.05:
            break
        result = _solve_once(jobs, best, left, workers, seed, lns_only)
        if result is None:
            continue
        bound = max(bound, result.lower_bound)  # CP-SAT's bound is valid in both phases (LNS can close small ones)
        if result.makespan <= best.makespan:
            best = result
        if best.makespan <= bound:
            break
    optimal = best.makespan <= bound
    return Schedule(
        makespan=best.makespan,
        starts=best.starts,
        optimal=optimal,
        lower_bound=best.makespan if optimal else bound,
        status="OPTIMAL" if optimal else "FEASIBLE",
        wall_time_s=time.perf_counter() - t0,
    )


def _solve_once(
    jobs: Sequence[Job], start: Schedule, time_limit_s: float, workers: int, seed: int, lns_only: bool
) -> Schedule | None:
    from ortools.sat.python import cp_model

    jm = build_jobshop_model(jobs, horizon=start.makespan)
    model = jm.model
    for j, row in enumerate(jm.starts):
        for k, var in enumerate(row):
            model.add_hint(var, start.starts[j][k])
            model.add_hint(jm.ends[j][k], start.starts[j][k] + jobs[j][k][1])
    model.add_hint(jm.makespan, start.makespan)
    model.minimize(jm.makespan)

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(time_limit_s)
    p.num_workers = int(workers)
    p.random_seed = int(seed)
    p.use_lns_only = lns_only
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return Schedule(
        makespan=int(solver.objective_value),
        starts=[[int(solver.value(v)) for v in row] for row in jm.starts],
        optimal=status == cp_model.OPTIMAL,
        lower_bound=int(solver.best_objective_bound),
        status=solver.status_name(status),
    )


def check_schedule(jobs: Sequence[Job], starts: Sequence[Sequence[int]], makespan: int | None = None) -> list[str]:
    """Everything wrong with a schedule (empty list = feasible): shape, negative starts, precedence, overlaps."""
    errors: list[str] = []
    if len(starts) != len(jobs):
        return [f"{len(starts)} jobs scheduled, {len(jobs)} expected"]
    by_machine: dict[int, list[tuple[int, int, int, int]]] = {}
    end_max = 0
    for j, (job, row) in enumerate(zip(jobs, starts, strict=True)):
        if len(row) != len(job):
            errors.append(f"job {j}: {len(row)} operations scheduled, {len(job)} expected")
            continue
        prev_end = 0
        for k, ((m, d), s) in enumerate(zip(job, row, strict=True)):
            if s < 0:
                errors.append(f"job {j} op {k}: negative start {s}")
            if s < prev_end:
                errors.append(f"job {j} op {k}: starts at {s} before its predecessor ends at {prev_end}")
            prev_end = s + d
            by_machine.setdefault(m, []).append((s, s + d, j, k))
        end_max = max(end_max, prev_end)
    for m, ops in by_machine.items():
        ops.sort()
        for (s1, e1, j1, k1), (s2, _e2, j2, k2) in itertools.pairwise(ops):
            if s2 < e1:
                errors.append(f"machine {m}: job {j1} op {k1} [{s1},{e1}) overlaps job {j2} op {k2} from {s2}")
    if makespan is not None and makespan != end_max:
        errors.append(f"reported makespan {makespan} but the last operation ends at {end_max}")
    return errors
