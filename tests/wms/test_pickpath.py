"""Pick paths: exact walking distances, the Ratliff–Rosenthal optimum checked against brute force,
and heuristics that are never better than the optimum."""

import itertools
import random

import pytest

from opensupply.wms import pickpath as pp
from opensupply.wms.layout import Geometry, LayoutSpec, generate


def brute_force(geo: Geometry, points, depot=None) -> float:
    depot = depot or geo.depot
    uniq = list(dict.fromkeys(geo.snap(p) for p in points))
    d = geo.matrix([depot, *uniq])
    best = float("inf")
    for perm in itertools.permutations(range(1, len(uniq) + 1)):
        tour = (0, *perm, 0)
        best = min(best, sum(d[a][b] for a, b in itertools.pairwise(tour)))
    return best


def test_layout_codes_and_points_follow_the_aisles():
    spec = LayoutSpec(zone="d", aisles=3, bins_per_side=4, blocks=2, levels=2)
    bins = generate(spec)
    assert len(bins) == spec.bin_count == 3 * 2 * 4 * 2
    first = bins[0]
    assert (first.code, first.aisle, first.side, first.position, first.level) == ("D-01-01-1", 1, 0, 1, 1)
    assert {b.code for b in bins if b.aisle == 2 and b.position == 8} == {"D-02-08-1", "D-02-08-2"}
    assert [b.block for b in bins if b.aisle == 1 and b.side == 0 and b.level == 1] == [0, 0, 1, 1]
    geo = Geometry.from_spec(spec)
    assert geo.cross_y == (0.0, 4.0, 8.0)  # 2 m cross-aisles, 2 bins of 1 m per block
    assert [b.y for b in bins if b.aisle == 1 and b.side == 0 and b.level == 1] == [1.5, 2.5, 5.5, 6.5]


def test_walking_distance_goes_round_the_racks():
    geo = Geometry.from_spec(LayoutSpec(aisles=3, bins_per_side=10))  # aisles at x 0, 3, 6; back at y 12
    assert geo.distance((0, 5), (0, 9)) == 4  # same aisle
    assert geo.distance((0, 5), (3, 5)) == 13  # via the front: 5 + 3 + 5 (the back is 7 + 3 + 7)
    assert geo.distance((0, 10), (6, 11)) == 2 + 6 + 1  # via the back
    assert geo.distance(geo.depot, (6, 1)) == 7
    multi = Geometry.from_spec(LayoutSpec(aisles=3, bins_per_side=10, blocks=2))  # cross-aisles y 0, 7, 14
    assert multi.distance((0, 6), (3, 8)) == 1 + 3 + 1  # through the middle cross-aisle


@pytest.mark.parametrize("seed", range(6))
def test_ratliff_rosenthal_is_optimal_on_small_instances(seed):
    rng = random.Random(seed)
    spec = LayoutSpec(aisles=rng.randint(2, 5), bins_per_side=rng.randint(3, 8),
                      depot=rng.choice([None, (4.5, 0.0), (3.0, 0.0)]))
    geo = Geometry.from_spec(spec)
    bins = generate(spec)
    for _ in range(15):
        picks = [b.point for b in rng.sample(bins, rng.randint(1, min(6, len(bins))))]
        if rng.random() < 0.2:  # a pick on the back cross-aisle (a staging spot)
            picks.append((geo.aisle_x[-1], geo.cross_y[-1]))
        route = pp.ratliff_rosenthal(geo, picks)
        assert sorted(route.order) == list(range(len(picks)))
        assert route.length_m == pytest.approx(brute_force(geo, picks, geo.depot))
        assert pp.held_karp(geo, picks).length_m == pytest.approx(route.length_m)


def test_heuristics_visit_every_pick_and_are_never_shorter_than_the_optimum():
    rng = random.Random(11)
    for blocks in (1, 3):
        spec = LayoutSpec(aisles=6, bins_per_side=12, blocks=blocks)
        geo = Geometry.from_spec(spec)
        bins = generate(spec)
        for _ in range(20):
            picks = rng.sample(bins, rng.randint(1, 7))
            best = pp.held_karp(geo, picks).length_m
            for route in (pp.sshape(geo, picks), pp.largest_gap(geo, picks), pp.optimize(geo, picks),
                          pp.optimize(geo, picks, method="ortools")):
                assert sorted(route.order) == list(range(len(picks)))
                assert route.length_m >= best - 1e-6
                # the reported length is a walk that visits the picks in that order
                assert route.length_m >= geo.tour_length([p.point for p in picks], route.order) - 1e-6
            assert pp.optimize(geo, picks).length_m == pytest.approx(best, rel=0.02)


def test_sshape_walks_whole_aisles():
    geo = Geometry.from_spec(LayoutSpec(aisles=4, bins_per_side=10))  # aisle length 12 m
    picks = [(0, 1.5), (3, 10.5), (9, 2.5)]
    # aisle 1 up, aisle 2 down, aisle 4 (odd one out) in and out from the front: 12 + 12 + 2·2.5, across 2·9
    assert pp.sshape(geo, picks).length_m == pytest.approx(12 + 12 + 5 + 18)
    assert pp.sshape(geo, picks).order == [0, 1, 2]
    assert pp.largest_gap(geo, picks).length_m == pytest.approx(12 + 12 + 2 * 1.5 + 18)
    assert pp.optimize(geo, picks).length_m <= pp.largest_gap(geo, picks).length_m


@pytest.mark.parametrize("seed", range(4))
def test_multi_block_sweep_is_optimal_on_small_instances(seed):
    rng = random.Random(100 + seed)
    for _ in range(12):
        blocks = rng.randint(2, 4)
        spec = LayoutSpec(aisles=rng.randint(1, 5), bins_per_side=rng.randint(blocks, 9), blocks=blocks,
                          depot=rng.choice([None, (4.5, 0.0), (6.0, 0.0)]))
        geo = Geometry.from_spec(spec)
        picks = [b.point for b in rng.sample(generate(spec), rng.randint(1, 6))]
        if rng.random() < 0.3:  # a spot on a middle cross-aisle, between two aisles
            picks.append((1.5, geo.cross_y[1]))
        route = pp.grid_dp(geo, picks)
        assert sorted(route.order) == list(range(len(picks)))
        assert route.length_m == pytest.approx(brute_force(geo, picks))


def test_multi_block_optimizer_against_independent_exact_solvers():
    rng = random.Random(3)
    spec = LayoutSpec(aisles=10, bins_per_side=25, blocks=3)
    geo = Geometry.from_spec(spec)
    picks = rng.sample(generate(spec), 11)
    exact = pp.held_karp(geo, picks)
    assert pp.cpsat(geo, picks).length_m == pytest.approx(exact.length_m)
    fast = pp.optimize(geo, picks)
    assert fast.method == "dp" and fast.length_m == pytest.approx(exact.length_m)
    assert pp.ortools(geo, picks).length_m <= exact.length_m * 1.03
    assert fast.length_m < pp.sshape(geo, picks).length_m
    many = [b.point for b in rng.sample(generate(spec), 30)]
    assert pp.optimize(geo, many).length_m == pytest.approx(pp.cpsat(geo, many).length_m)


def test_picks_at_the_same_bin_are_taken_together():
    geo = Geometry.from_spec(LayoutSpec(aisles=2, bins_per_side=5))
    route = pp.optimize(geo, [(0, 1.5), (3, 2.5), (0, 1.5)])
    assert abs(route.order.index(0) - route.order.index(2)) == 1
    assert pp.optimize(geo, []).length_m == 0


def test_the_sweep_has_ratliff_rosenthals_seven_classes_on_one_block():
    # (U,U,1C) (E,E,1C) (E,E,2C) (0,E,1C) (E,0,1C) (0,0,0C) (0,0,1C): the paper's equivalence classes
    assert len(pp._tables(2).states) == 7
    geo = Geometry.from_spec(LayoutSpec(aisles=5, bins_per_side=8))
    picks = [b.point for b in random.Random(9).sample(generate(LayoutSpec(aisles=5, bins_per_side=8)), 9)]
    assert pp.grid_dp(geo, picks).length_m == pytest.approx(pp.ratliff_rosenthal(geo, picks).length_m)
