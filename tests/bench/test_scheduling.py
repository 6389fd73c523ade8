"""Job-shop readers (JSPLIB and Taillard layouts), the CP-SAT solver and the independent schedule check."""

from pathlib import Path

import pytest

from opensupply.bench.jobshop import parse_jobshop, read_jobshop
from opensupply.mes.scheduling import check_schedule, dispatch_schedule, lower_bound, solve_jobshop

DATA = Path(__file__).parent / "data" / "jobshop"


def test_both_layouts_read_the_same_instance():
    jsplib = read_jobshop(DATA / "ft06.txt")
    taillard = read_jobshop(DATA / "ft06-taillard.txt")
    assert jsplib == taillard
    assert len(jsplib) == 6 and all(len(job) == 6 for job in jsplib)
    assert jsplib[0][:2] == [(2, 1), (0, 3)]  # job 1: machine 2 for 1, then machine 0 for 3


def test_reader_rejects_a_short_file():
    with pytest.raises(ValueError, match="2 jobs announced"):
        parse_jobshop("2 2\n0 1 1 1\n")


def test_ft06_is_solved_to_its_optimum_55():
    jobs = read_jobshop(DATA / "ft06.txt")
    schedule = solve_jobshop(jobs, time_limit_s=10, workers=2, seed=1)
    assert schedule.makespan == 55 and schedule.optimal
    assert check_schedule(jobs, schedule.starts, schedule.makespan) == []


@pytest.mark.parametrize("rule", ["MWKR", "SPT", "MOPNR"])
def test_dispatch_rules_give_feasible_schedules(rule):
    jobs = read_jobshop(DATA / "ft06.txt")
    schedule = dispatch_schedule(jobs, rule)
    assert check_schedule(jobs, schedule.starts, schedule.makespan) == []
    assert schedule.makespan >= lower_bound(jobs)


def test_check_catches_overlap_precedence_and_wrong_makespan():
    jobs = [[(0, 3), (1, 2)], [(0, 2), (1, 4)]]
    assert check_schedule(jobs, [[0, 3], [3, 5]], 9) == []
    overlap = check_schedule(jobs, [[0, 3], [2, 5]])
    assert any("machine 0" in e and "overlaps" in e for e in overlap)
    early = check_schedule(jobs, [[0, 2], [3, 5]])
    assert any("before its predecessor ends" in e for e in early)
    assert any("reported makespan 7" in e for e in check_schedule(jobs, [[0, 3], [3, 5]], 7))


def test_an_infeasible_hint_is_not_trusted():
    jobs = read_jobshop(DATA / "ft06.txt")
    bogus = dispatch_schedule(jobs)
    bogus.starts = [[0] * 6 for _ in jobs]
    bogus.makespan = 1
    schedule = solve_jobshop(jobs, time_limit_s=10, hint=bogus)
    assert schedule.makespan == 55 and check_schedule(jobs, schedule.starts, schedule.makespan) == []
