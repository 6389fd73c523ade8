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

MES scheduling (`schedule_operations`, below the job shop) adds what a plant needs on the same kind of model:
alternative machines (optional intervals), shift calendars (non-working time as fixed intervals in each
machine's no-overlap), release times, frozen operations, due dates with priority weights (lexicographic: total
weighted tardiness, then makespan), an earliest-due-date dispatch schedule as the hint; `check_operations` is its
independent checker.
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


# --------------------------------------------------------------------------- MES finite-capacity scheduling
# Work orders on a calendar: the job shop above plus what a plant needs. Times are integer minutes from the
# horizon start (0). Pure: plain dataclasses in, plain dataclasses out.


@dataclass
class Operation:
    """One operation to place: it needs one of `machines` (alternatives) for `duration` minutes without
    interruption. A fixed operation (frozen, or already running) sits at `fixed_start` on `fixed_machine`."""

    key: object
    machines: Sequence[object]
    duration: int
    fixed_start: int | None = None
    fixed_machine: object | None = None

    @property
    def fixed(self) -> bool:
        return self.fixed_start is not None


@dataclass
class Order:
    """A work order: its operations run in the given sequence, none before `release`; `due` (minutes, may be
    negative when already late) and `weight` (priority) make its tardiness count."""

    key: object
    operations: list[Operation]
    release: int = 0
    due: int | None = None
    weight: int = 1


@dataclass
class SchedulingProblem:
    orders: list[Order]
    horizon: int  # nothing that is not fixed may end after it
    # machine → its working windows [(start, end), …]; a machine not listed is available all the time
    calendars: dict[object, list[tuple[int, int]]] = field(default_factory=dict)
    time_limit_s: float = 10.0
    workers: int = 2
    seed: int = 0


@dataclass
class PlannedOperation:
    key: object
    order: object
    machine: object
    start: int
    end: int
    fixed: bool = False


@dataclass
class SchedulingResult:
    status: str  # OPTIMAL | FEASIBLE (CP-SAT) | DISPATCH (the rule's schedule, CP-SAT found nothing better)
    operations: dict[object, PlannedOperation]
    total_tardiness: int  # priority-weighted minutes
    tardiness: dict[object, int]  # per order, minutes late (unweighted)
    makespan: int
    late_orders: list[object]
    wall_time_s: float = 0.0
    tardiness_optimal: bool = False


class SchedulingError(ValueError):
    """The problem cannot be scheduled as given; `kind` says why (too_long, no_machine, frozen_overlap,
    frozen_order, bad_duration, infeasible, no_solution) and `key` names the operation or order concerned."""

    def __init__(self, kind: str, message: str, key: object = None):
        super().__init__(message)
        self.kind = kind
        self.key = key


def _windows(problem: SchedulingProblem, machine: object) -> list[tuple[int, int]] | None:
    if machine not in problem.calendars:
        return None
    out: list[tuple[int, int]] = []
    for s, e in sorted((int(s), int(e)) for s, e in problem.calendars[machine] if e > s):
        if out and s <= out[-1][1]:  # adjacent shifts make one window: an operation may run across them
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _blocked(windows: list[tuple[int, int]] | None, horizon: int,
             fixed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-working time in [0, horizon) as intervals, minus the time fixed operations already occupy (a running
    operation may run over into a break: it is there, and nothing else can be)."""
    if windows is None:
        return []
    gaps, t = [], 0
    for s, e in windows:
        if s > t:
            gaps.append((t, min(s, horizon)))
        t = max(t, e)
    if t < horizon:
        gaps.append((t, horizon))
    out = []
    for s, e in gaps:
        pieces = [(s, e)]
        for fs, fe in fixed:
            nxt = []
            for ps, pe in pieces:
                if fe <= ps or fs >= pe:
                    nxt.append((ps, pe))
                    continue
                if fs > ps:
                    nxt.append((ps, fs))
                if fe < pe:
                    nxt.append((fe, pe))
            pieces = nxt
        out += [p for p in pieces if p[1] > p[0]]
    return out


def validate_problem(problem: SchedulingProblem) -> None:
    """Raise SchedulingError for what no solver can fix: an operation without a machine or duration, one longer
    than every working window of its machines, frozen operations overlapping on a machine or out of order."""
    fixed_by_machine: dict[object, list[tuple[int, int, object]]] = {}
    seen = set()
    for order in problem.orders:
        last_fixed_end = None
        for op in order.operations:
            if op.key in seen:
                raise SchedulingError("duplicate", f"operation {op.key!r} appears twice", op.key)
            seen.add(op.key)
            if op.duration <= 0:
                raise SchedulingError("bad_duration", f"operation {op.key!r} has no duration", op.key)
            if op.fixed:
                machine = op.fixed_machine if op.fixed_machine is not None else (op.machines[0] if op.machines
                                                                                 else None)
                if machine is None:
                    raise SchedulingError("no_machine", f"operation {op.key!r} has no machine", op.key)
                fixed_by_machine.setdefault(machine, []).append((op.fixed_start, op.fixed_start + op.duration,
                                                                 op.key))
                if last_fixed_end is not None and op.fixed_start < last_fixed_end:
                    raise SchedulingError("frozen_order", f"fixed operation {op.key!r} starts before the fixed "
                                          "operation before it ends", op.key)
                last_fixed_end = op.fixed_start + op.duration
                continue
            if not op.machines:
                raise SchedulingError("no_machine", f"operation {op.key!r} has no machine", op.key)
            longest = 0
            for m in op.machines:
                wins = _windows(problem, m)
                longest = max(longest, problem.horizon if wins is None else max((e - s for s, e in wins), default=0))
            if op.duration > longest:
                raise SchedulingError("too_long", f"operation {op.key!r} takes {op.duration} min, the longest "
                                      f"working window of its machines is {longest} min", op.key)
    for m, spans in fixed_by_machine.items():
        spans.sort(key=lambda x: (x[0], x[1]))
        for (_s1, e1, k1), (s2, _e2, k2) in itertools.pairwise(spans):
            if s2 < e1:
                raise SchedulingError("frozen_overlap", f"fixed operations {k1!r} and {k2!r} overlap on {m!r}", k2)


def _fixed_machine(op: Operation) -> object:
    return op.fixed_machine if op.fixed_machine is not None else op.machines[0]


def _order_priority(problem: SchedulingProblem) -> list[int]:
    """Earliest due date first, then higher weight, earlier release, input order (the dispatch rule)."""
    return sorted(range(len(problem.orders)), key=lambda i: (
        problem.orders[i].due is None, problem.orders[i].due if problem.orders[i].due is not None else 0,
        -problem.orders[i].weight, problem.orders[i].release, i))


def _evaluate(problem: SchedulingProblem, placed: dict[object, PlannedOperation], status: str,
              wall: float = 0.0, tardiness_optimal: bool = False) -> SchedulingResult:
    tardiness, total = {}, 0
    for order in problem.orders:
        if not order.operations:
            continue
        end = max(placed[op.key].end for op in order.operations)
        late = max(0, end - order.due) if order.due is not None else 0
        tardiness[order.key] = late
        total += late * max(1, order.weight)
    makespan = max((p.end for p in placed.values()), default=0)
    return SchedulingResult(status=status, operations=placed, total_tardiness=total, tardiness=tardiness,
                            makespan=makespan, late_orders=[k for k, v in tardiness.items() if v > 0],
                            wall_time_s=wall, tardiness_optimal=tardiness_optimal)


def dispatch_operations(problem: SchedulingProblem) -> SchedulingResult | None:
    """A feasible schedule by a dispatch rule, or None when the rule gets stuck (a frozen operation leaves its
    predecessors too little room): orders by earliest due date (then weight), each operation inserted at the
    earliest gap of the machine where it ends first, respecting calendars, frozen operations and release."""
    import bisect

    horizon = problem.horizon
    busy: dict[object, list[tuple[int, int]]] = {}
    fixed_spans: dict[object, list[tuple[int, int]]] = {}
    placed: dict[object, PlannedOperation] = {}
    for order in problem.orders:
        for op in order.operations:
            if op.fixed:
                m = _fixed_machine(op)
                fixed_spans.setdefault(m, []).append((op.fixed_start, op.fixed_start + op.duration))
                placed[op.key] = PlannedOperation(op.key, order.key, m, op.fixed_start, op.fixed_start + op.duration,
                                                  True)
    machines = {m for o in problem.orders for op in o.operations for m in op.machines} | set(fixed_spans)
    for m in machines:
        busy[m] = sorted(_blocked(_windows(problem, m), horizon, fixed_spans.get(m, [])) + fixed_spans.get(m, []))

    def earliest(m, ready: int, d: int) -> int | None:
        t = ready
        for s, e in busy[m]:
            if e <= t:
                continue
            if s >= t + d:
                break
            t = max(t, e)
        return t if t + d <= horizon else None

    for i in _order_priority(problem):
        order = problem.orders[i]
        ready = max(0, order.release)
        ops = order.operations
        for k, op in enumerate(ops):
            if op.fixed:
                ready = max(ready, op.fixed_start + op.duration)
                continue
            limit = next((o.fixed_start for o in ops[k + 1:] if o.fixed), None)
            best = None
            for m in op.machines:
                t = earliest(m, ready, op.duration)
                if t is not None and (best is None or t + op.duration < best[0] + op.duration):
                    best = (t, m)
            if best is None or (limit is not None and best[0] + op.duration > limit):
                return None
            t, m = best
            bisect.insort(busy[m], (t, t + op.duration))
            placed[op.key] = PlannedOperation(op.key, order.key, m, t, t + op.duration, False)
            ready = t + op.duration
    return _evaluate(problem, placed, "DISPATCH")


def schedule_operations(problem: SchedulingProblem) -> SchedulingResult:
    """Schedule work orders' operations with CP-SAT: precedence inside each order, one machine out of the
    alternatives per operation, each machine doing one thing at a time with its non-working time as fixed
    intervals in its no-overlap, release times, frozen operations fixed. Objective, lexicographic in two solves:
    first the priority-weighted total tardiness, then (tardiness kept at its best) the makespan. The dispatch
    rule's schedule is the hint, and the answer whenever CP-SAT finds nothing better in the time limit.

    Raises SchedulingError when the problem cannot be scheduled (see `validate_problem`; kind "infeasible" when
    no schedule fits the horizon, "no_solution" when none was found in time)."""
    import time

    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    validate_problem(problem)
    ops_all = [(o, op) for o in problem.orders for op in o.operations]
    if not ops_all:
        return _evaluate(problem, {}, "OPTIMAL", 0.0, True)
    hint = dispatch_operations(problem)
    horizon = max([problem.horizon] + [op.fixed_start + op.duration for _o, op in ops_all if op.fixed])

    model = cp_model.CpModel()
    start: dict[object, object] = {}
    end: dict[object, object] = {}
    choice: dict[object, dict[object, object]] = {}
    per_machine: dict[object, list[object]] = {}
    fixed_spans: dict[object, list[tuple[int, int]]] = {}
    for _o, op in ops_all:
        if op.fixed:
            m = _fixed_machine(op)
            fixed_spans.setdefault(m, []).append((op.fixed_start, op.fixed_start + op.duration))
            per_machine.setdefault(m, []).append(model.new_fixed_size_interval_var(
                op.fixed_start, op.duration, f"fixed_{op.key}"))

    def feasible_starts(m, d: int, lo: int) -> list[list[int]]:
        """Starts at which `d` minutes fit inside one working window of `m` (and the horizon), from `lo`."""
        wins = _windows(problem, m)
        out = []
        for s, e in [(0, problem.horizon)] if wins is None else wins:
            first, last = max(s, lo), min(e, problem.horizon) - d
            if last >= first:
                out.append([first, last])
        return out

    for order in problem.orders:
        lo = max(0, order.release)
        for op in order.operations:
            if op.fixed:
                start[op.key] = op.fixed_start
                end[op.key] = op.fixed_start + op.duration
                lo = max(lo, op.fixed_start + op.duration)
                continue
            domains = {m: feasible_starts(m, op.duration, lo) for m in op.machines}
            union = sorted(iv for ivs in domains.values() for iv in ivs)
            if not union:
                raise SchedulingError("infeasible", f"operation {op.key!r} fits nowhere in the horizon", op.key)
            s = model.new_int_var_from_domain(cp_model.Domain.from_intervals(union), f"s_{op.key}")
            start[op.key] = s
            end[op.key] = s + op.duration
            if len(op.machines) == 1:
                m = op.machines[0]
                per_machine.setdefault(m, []).append(model.new_fixed_size_interval_var(s, op.duration, f"i_{op.key}"))
                choice[op.key] = {m: None}
                continue
            lits = {}
            for m in op.machines:
                lit = model.new_bool_var(f"x_{op.key}_{m}")
                lits[m] = lit
                if not domains[m]:
                    model.add(lit == 0)
                else:
                    model.add_linear_expression_in_domain(
                        s, cp_model.Domain.from_intervals(domains[m])).only_enforce_if(lit)
                per_machine.setdefault(m, []).append(model.new_optional_fixed_size_interval_var(
                    s, op.duration, lit, f"i_{op.key}_{m}"))
            model.add_exactly_one(lits.values())
            choice[op.key] = lits
    for m, ivs in per_machine.items():
        for k, (bs, be) in enumerate(_blocked(_windows(problem, m), horizon, fixed_spans.get(m, []))):
            ivs.append(model.new_fixed_size_interval_var(bs, be - bs, f"off_{m}_{k}"))
        model.add_no_overlap(ivs)
    tard_terms = []
    for order in problem.orders:
        ops = order.operations
        for a, b in itertools.pairwise(ops):
            if not (a.fixed and b.fixed):
                model.add(start[b.key] >= end[a.key])
        if ops and order.due is not None:
            t = model.new_int_var(0, max(0, horizon - order.due), f"late_{order.key}")
            model.add(t >= end[ops[-1].key] - order.due)
            tard_terms.append((max(1, order.weight), t))
    lowest = min([0] + [op.fixed_start + op.duration for _o, op in ops_all if op.fixed])  # running ones may end early
    makespan = model.new_int_var(lowest, horizon, "makespan")
    model.add_max_equality(makespan, [end[op.key] for _o, op in ops_all])
    weighted = sum(w * t for w, t in tard_terms) if tard_terms else 0

    def set_hint(res: SchedulingResult) -> None:
        model.clear_hints()
        for _o, op in ops_all:
            if op.fixed:
                continue
            p = res.operations[op.key]
            model.add_hint(start[op.key], p.start)
            for m, lit in choice[op.key].items():
                if lit is not None:
                    model.add_hint(lit, 1 if m == p.machine else 0)

    def read(solver) -> SchedulingResult:
        placed = {}
        for o, op in ops_all:
            if op.fixed:
                placed[op.key] = PlannedOperation(op.key, o.key, _fixed_machine(op), op.fixed_start,
                                                  op.fixed_start + op.duration, True)
                continue
            s = int(solver.value(start[op.key]))
            m = next(m for m, lit in choice[op.key].items() if lit is None or solver.boolean_value(lit))
            placed[op.key] = PlannedOperation(op.key, o.key, m, s, s + op.duration, False)
        return _evaluate(problem, placed, "")

    def solve(limit: float):
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.max_time_in_seconds = max(0.05, float(limit))
        p.num_workers = int(problem.workers)
        p.random_seed = int(problem.seed)
        return solver, solver.solve(model)

    best, tardiness_optimal, statuses = hint, False, []
    budget = float(problem.time_limit_s)
    if tard_terms:
        if best is not None:
            set_hint(best)
        model.minimize(weighted)
        solver, status = solve(budget * 0.6)
        statuses.append(status)
        if status == cp_model.INFEASIBLE:
            raise SchedulingError("infeasible", "no schedule fits the horizon")
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = read(solver)
            if best is None or found.total_tardiness <= best.total_tardiness:
                best = found
            tardiness_optimal = status == cp_model.OPTIMAL
    if best is not None:
        if tard_terms:  # keep the best tardiness while shortening the makespan
            model.add(weighted <= best.total_tardiness)
        set_hint(best)
    model.minimize(makespan)
    left = budget - (time.perf_counter() - t0)
    solver, status = solve(max(left, 0.1))
    statuses.append(status)
    if status == cp_model.INFEASIBLE and best is None:
        raise SchedulingError("infeasible", "no schedule fits the horizon")
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = read(solver)
        if best is None or (found.total_tardiness, found.makespan) <= (best.total_tardiness, best.makespan):
            best = found
    if best is None:
        raise SchedulingError("no_solution", "no schedule found within the time limit")
    optimal = (not tard_terms or tardiness_optimal) and status == cp_model.OPTIMAL
    solved = any(s in (cp_model.OPTIMAL, cp_model.FEASIBLE) for s in statuses)
    best = _evaluate(problem, best.operations, "OPTIMAL" if optimal else ("FEASIBLE" if solved else "DISPATCH"),
                     time.perf_counter() - t0, tardiness_optimal or not tard_terms)
    return best


def check_operations(problem: SchedulingProblem, result: SchedulingResult) -> list[str]:
    """Everything wrong with a schedule of a SchedulingProblem (empty = feasible), checked without trusting the
    solver: every operation once, on one of its machines, for its duration; fixed ones where they were; release,
    horizon and precedence; one operation at a time per machine; non-fixed ones inside a working window;
    reported tardiness and makespan."""
    errors: list[str] = []
    placed = result.operations
    keys = [op.key for o in problem.orders for op in o.operations]
    if sorted(map(repr, placed)) != sorted(map(repr, keys)):
        missing = [k for k in keys if k not in placed]
        extra = [k for k in placed if k not in set(keys)]
        errors.append(f"operations missing {missing[:5]} / unexpected {extra[:5]}")
        return errors
    per_machine: dict[object, list[tuple[int, int, object]]] = {}
    for order in problem.orders:
        prev_end = None
        for op in order.operations:
            p = placed[op.key]
            if p.end - p.start != op.duration:
                errors.append(f"{op.key!r}: lasts {p.end - p.start}, needs {op.duration}")
            if op.fixed:
                if p.start != op.fixed_start or p.machine != _fixed_machine(op):
                    errors.append(f"{op.key!r}: fixed at {op.fixed_start} on {_fixed_machine(op)!r}, "
                                  f"placed at {p.start} on {p.machine!r}")
            else:
                if p.machine not in op.machines:
                    errors.append(f"{op.key!r}: machine {p.machine!r} is not one of {list(op.machines)!r}")
                if p.start < max(0, order.release):
                    errors.append(f"{op.key!r}: starts at {p.start} before the release {order.release}")
                if p.end > problem.horizon:
                    errors.append(f"{op.key!r}: ends at {p.end} after the horizon {problem.horizon}")
                wins = _windows(problem, p.machine)
                if wins is not None and not any(s <= p.start and p.end <= e for s, e in wins):
                    errors.append(f"{op.key!r}: [{p.start},{p.end}) on {p.machine!r} is not inside a working window")
            if prev_end is not None and p.start < prev_end:
                errors.append(f"{op.key!r}: starts at {p.start} before its predecessor ends at {prev_end}")
            prev_end = p.end
            per_machine.setdefault(p.machine, []).append((p.start, p.end, op.key))
    for m, spans in per_machine.items():
        spans.sort(key=lambda x: (x[0], x[1]))
        for (s1, e1, k1), (s2, _e2, k2) in itertools.pairwise(spans):
            if s2 < e1:
                errors.append(f"machine {m!r}: {k1!r} [{s1},{e1}) overlaps {k2!r} from {s2}")
    again = _evaluate(problem, placed, result.status)
    if again.total_tardiness != result.total_tardiness:
        errors.append(f"reported tardiness {result.total_tardiness}, actual {again.total_tardiness}")
    if again.makespan != result.makespan:
        errors.append(f"reported makespan {result.makespan}, actual {again.makespan}")
    return errors
