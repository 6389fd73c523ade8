"""Routing readers and the independent solution check: what the benchmarks (and later TMS route planning) trust."""

from pathlib import Path

import pytest

from opensupply.tms.instances import read_routing_instance, read_solomon, read_solution, read_vrplib
from opensupply.tms.routing import RoutingProblem, check_routes, euclidean_matrix, solve_cvrp, solve_vrptw

DATA = Path(__file__).parent / "data"


def test_vrplib_reader_depot_first_and_distances_rounded():
    p = read_vrplib(DATA / "cvrp" / "T-n11-k3.vrp")
    assert p.name == "T-n11-k3"
    assert p.num_customers == 10 and p.capacity == 30
    assert p.demands[:3] == [0, 10, 8]
    # depot (50,50) → customer 1 (20,80): sqrt(1800) = 42.43 → 42; customer 1 → 2 (25,90): sqrt(125) = 11.18 → 11
    assert p.distance[0][1] == 42 and p.distance[1][2] == 11 and p.scale == 1
    assert p.time_windows is None


def test_solomon_reader_truncates_to_one_decimal_and_scales_times():
    p = read_solomon(DATA / "vrptw" / "T10.txt")
    assert p.num_customers == 10 and p.capacity == 50 and p.num_vehicles == 4
    assert p.scale == 10
    # depot (40,50) → customer 1 (45,68): sqrt(349) = 18.681 → 18.6 → 186 tenths
    assert p.distance[0][1] == 186
    assert p.time_windows[1] == (200, 1200) and p.service_times[1] == 100
    assert read_routing_instance(DATA / "vrptw" / "T10.txt").time_windows == p.time_windows


def test_truncation_is_exact_on_whole_distances():
    matrix, scale = euclidean_matrix([(0, 0), (3, 4), (0, 1)], "trunc1")
    assert scale == 10 and matrix[0][1] == 50 and matrix[0][2] == 10 and matrix[1][2] == 42  # sqrt(18) = 4.24


def test_read_solution(tmp_path):
    f = tmp_path / "x.sol"
    f.write_text("Route #1: 3 1 2\nRoute #2: 5 4\nCost 123.4\n")
    assert read_solution(f) == ([[3, 1, 2], [5, 4]], 123.4)


def _tiny(**kw) -> RoutingProblem:
    coords = [(0, 0), (0, 10), (10, 10), (10, 0)]
    distance, _scale = euclidean_matrix(coords, "round")
    return RoutingProblem(name="t", distance=distance, demands=[0, 5, 5, 5], capacity=10, coords=coords, **kw)


def test_check_accepts_a_valid_solution_and_recomputes_its_cost():
    check = check_routes(_tiny(), [[1, 2], [3]])
    assert check.feasible and check.errors == []
    assert check.cost == 10 + 10 + 14 + 10 + 10  # 0-1-2-0 and 0-3-0


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        ([[1, 2]], "not visited"),
        ([[1, 2], [3, 1]], "visited twice"),
        ([[1, 2, 3]], "exceeds capacity"),
        ([[1], [2], [3, 9]], "not a customer"),
    ],
)
def test_check_catches_infeasible_solutions(routes, problem):
    check = check_routes(_tiny(), routes)
    assert not check.feasible
    assert any(problem in e for e in check.errors)


def test_check_catches_late_arrival_and_too_many_vehicles():
    p = _tiny(num_vehicles=2, time_windows=[(0, 100), (0, 100), (0, 100), (0, 12)], service_times=[0, 0, 0, 0])
    late = check_routes(p, [[1, 2, 3]])  # reaches 3 at 30 > 12 (capacity is broken too, but the window is reported)
    assert any("customer 3" in e and "after 12" in e for e in late.errors)
    too_many = check_routes(p, [[1], [2], [3]])
    assert any("more than the 2 vehicles" in e for e in too_many.errors)
    assert check_routes(p, [[3], [1, 2]]).feasible


def test_solvers_return_checked_feasible_routes():
    cvrp = read_vrplib(DATA / "cvrp" / "T-n11-k3.vrp")
    sol = solve_cvrp(cvrp, time_limit_s=0.5, seed=1)
    check = check_routes(cvrp, sol.routes)
    assert check.feasible, check.errors
    assert check.cost == sol.cost

    vrptw = read_solomon(DATA / "vrptw" / "T10.txt")
    sol = solve_vrptw(vrptw, time_limit_s=0.5, seed=1)
    check = check_routes(vrptw, sol.routes)
    assert check.feasible, check.errors
    assert check.cost == pytest.approx(sol.cost)
    assert len([r for r in sol.routes if r]) <= 4


def test_vrplib_reader_takes_an_explicit_matrix(tmp_path):
    f = tmp_path / "E-n4.vrp"
    f.write_text(
        "NAME : E-n4\nTYPE : CVRP\nDIMENSION : 4\nEDGE_WEIGHT_TYPE : EXPLICIT\nEDGE_WEIGHT_FORMAT : LOWER_ROW\n"
        "CAPACITY : 10\nEDGE_WEIGHT_SECTION\n5\n7 3\n4 6 2\nDEMAND_SECTION\n1 0\n2 4\n3 5\n4 6\n"
        "DEPOT_SECTION\n1\n-1\nEOF\n"
    )
    p = read_vrplib(f)
    assert p.distance == [[0, 5, 7, 4], [5, 0, 3, 6], [7, 3, 0, 2], [4, 6, 2, 0]]
    solution = solve_cvrp(p, time_limit_s=0.2)
    check = check_routes(p, solution.routes)
    assert check.feasible and check.cost == 23  # 0-1-2-0 (5+3+7) and 0-3-0 (4+4): 9 + 6 = 15 > 10 forces two routes
