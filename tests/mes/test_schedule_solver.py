"""The pure finite-capacity scheduler (mes.scheduling.schedule_operations), checked by its own independent
checker: precedence, one job per machine at a time, shift calendars, frozen operations, due dates, errors."""

import pytest

from opensupply.mes.scheduling import (
    Operation,
    Order,
    PlannedOperation,
    SchedulingError,
    SchedulingProblem,
    SchedulingResult,
    check_operations,
    dispatch_operations,
    schedule_operations,
)

DAY = 24 * 60
# two shifts a day: 08:00–12:00 and 13:00–17:00 (minutes from midnight of day 0)
SHIFTS = [w for d in range(5) for w in ((d * DAY + 480, d * DAY + 720), (d * DAY + 780, d * DAY + 1020))]


def problem(orders, calendars=None, horizon=5 * DAY, limit=1.0):
    return SchedulingProblem(orders=orders, horizon=horizon, calendars=calendars or {}, time_limit_s=limit)


def test_precedence_no_overlap_and_calendar_are_respected():
    orders = [Order(f"WO{j}", [Operation((j, 0), ["CUT-1", "CUT-2"], 60 + 10 * j),
                               Operation((j, 1), ["ASM-1"], 45)], due=2 * DAY) for j in range(6)]
    p = problem(orders, {m: SHIFTS for m in ("CUT-1", "CUT-2", "ASM-1")})
    result = schedule_operations(p)
    assert check_operations(p, result) == []
    assert result.status in ("OPTIMAL", "FEASIBLE")
    used = {op.machine for op in result.operations.values() if op.key[1] == 0}
    assert used == {"CUT-1", "CUT-2"}  # the alternative machines share the cutting
    for op in result.operations.values():  # nothing in the lunch break or at night
        assert any(s <= op.start and op.end <= e for s, e in SHIFTS)


def test_the_checker_catches_what_is_wrong():
    orders = [Order("A", [Operation("a1", ["M"], 30), Operation("a2", ["M"], 30)]),
              Order("B", [Operation("b1", ["M"], 30)]), Order("C", [Operation("c1", ["M"], 10)])]
    p = problem(orders, {"M": [(0, 100)]}, horizon=200)
    bad = SchedulingResult("FEASIBLE", {"a1": PlannedOperation("a1", "A", "M", 20, 50),
                                        "a2": PlannedOperation("a2", "A", "M", 40, 70),
                                        "b1": PlannedOperation("b1", "B", "M", 90, 120),
                                        "c1": PlannedOperation("c1", "C", "X", 0, 10)}, 0, {}, 120, [])
    errors = " | ".join(check_operations(p, bad))
    assert "before its predecessor" in errors and "overlaps" in errors
    assert "not one of" in errors and "working window" in errors


def test_frozen_operations_stay_where_they_are():
    frozen = Operation("f", ["M1", "M2"], 50, fixed_start=100, fixed_machine="M2")
    orders = [Order("A", [Operation("a0", ["M1", "M2"], 40), frozen, Operation("a2", ["M1"], 20)]),
              Order("B", [Operation("b0", ["M2"], 120)], due=150)]
    p = problem(orders, horizon=600)
    result = schedule_operations(p)
    assert check_operations(p, result) == []
    f = result.operations["f"]
    assert (f.start, f.end, f.machine, f.fixed) == (100, 150, "M2", True)
    assert result.operations["a0"].end <= 100 and result.operations["a2"].start >= 150
    b0 = result.operations["b0"]
    assert b0.end <= 100 or b0.start >= 150  # B works around the frozen operation on M2


def test_a_tight_due_date_goes_first():
    orders = [Order("LOOSE", [Operation("l", ["M"], 120)], due=10 * 60),
              Order("TIGHT", [Operation("t", ["M"], 120)], due=130, weight=1)]
    p = problem(orders, horizon=DAY)
    result = schedule_operations(p)
    assert check_operations(p, result) == []
    assert result.operations["t"].start == 0 and result.operations["l"].start == 120
    assert result.total_tardiness == 0 and result.late_orders == []
    # when both cannot be on time, the weight (priority) decides who is late
    orders = [Order("LOW", [Operation("x", ["M"], 100)], due=100, weight=1),
              Order("HIGH", [Operation("y", ["M"], 100)], due=100, weight=5)]
    p = problem(orders, horizon=DAY)
    result = schedule_operations(p)
    assert result.operations["y"].start == 0 and result.late_orders == ["LOW"]
    assert result.tardiness == {"LOW": 100, "HIGH": 0} and result.total_tardiness == 100


def test_release_and_makespan_after_tardiness():
    orders = [Order("A", [Operation("a", ["M1"], 60), Operation("a2", ["M2"], 60)], release=30),
              Order("B", [Operation("b", ["M2"], 60), Operation("b2", ["M1"], 60)])]
    p = problem(orders, horizon=1000)
    result = schedule_operations(p)
    assert check_operations(p, result) == []
    assert result.operations["a"].start >= 30
    # a 30–90 then b2 90–150 on M1; b 0–60 then a2 90–150 on M2
    assert result.makespan == 150 and result.status == "OPTIMAL"


def test_clear_errors():
    too_long = [Order("A", [Operation("long", ["M"], 300)])]
    with pytest.raises(SchedulingError) as exc:
        schedule_operations(problem(too_long, {"M": SHIFTS}))
    assert exc.value.kind == "too_long" and exc.value.key == "long"
    overlap = [Order("A", [Operation("f1", ["M"], 60, fixed_start=0, fixed_machine="M")]),
               Order("B", [Operation("f2", ["M"], 60, fixed_start=30, fixed_machine="M")])]
    with pytest.raises(SchedulingError) as exc:
        schedule_operations(problem(overlap, horizon=500))
    assert exc.value.kind == "frozen_overlap"
    full = [Order(str(j), [Operation(j, ["M"], 200)]) for j in range(3)]
    with pytest.raises(SchedulingError) as exc:
        schedule_operations(problem(full, {"M": SHIFTS[:2]}, horizon=DAY))  # 2 × 240 min of work time
    assert exc.value.kind == "infeasible"


def test_dispatch_rule_alone_is_feasible_and_the_solver_is_no_worse():
    orders = [Order(j, [Operation((j, k), ["A", "B"] if k != 1 else ["C"], 20 + (7 * j + 3 * k) % 50)
                        for k in range(3)], due=200 + 60 * (j % 4), weight=1 + j % 3) for j in range(10)]
    p = problem(orders, {m: SHIFTS for m in "ABC"}, limit=1.5)
    rule = dispatch_operations(p)
    assert rule is not None and check_operations(p, rule) == []
    best = schedule_operations(p)
    assert check_operations(p, best) == []
    assert best.total_tardiness <= rule.total_tardiness
