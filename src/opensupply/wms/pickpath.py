"""Pick paths: the order in which a picker walks to a set of pick points and back to the depot.

Pure code: a `layout.Geometry` and points in, a `Route(order, length_m, method)` out; no database.

* `ratliff_rosenthal` — the exact optimum for a single-block warehouse (Ratliff & Rosenthal 1983):
  a dynamic programme over the aisles, left to right, whose states are the equivalence classes of
  partial tour subgraphs (degree parity of the aisle's front and back ends, and which of them are
  connected); from the optimal edge multiset an Euler circuit gives the visiting order.
* `grid_dp` — the same sweep for any number of blocks (one frontier vertex per cross-aisle, built
  up one cross edge or aisle segment at a time; after Roodbergen & de Koster 2001 and Pansart,
  Catusse & Cambazard 2018): exact for multi-block layouts, ≈ 15 ms for 30 picks on 3 blocks.
* `ortools` — the routing solver on the exact graph distances, guided local search with a small
  time limit, then a 2-opt/or-opt polish (for comparison, or any other geometry).
* `held_karp` (≤ 13 distinct points) and `cpsat` (a circuit model, proven optimal when it closes) —
  exact TSP solvers that know nothing of aisles: `reference()` uses them to check the sweeps.
* `sshape`, `largest_gap` — the usual heuristics (single and multi-block, after Roodbergen & de
  Koster 2001), the baseline the optimized route is compared with.

`optimize(geometry, picks, method="auto")`: single block → Ratliff–Rosenthal; up to 3 blocks (4 of up
to 20 aisles) → the multi-block sweep (both exact); larger layouts → OR-Tools. Picks at the same
spot are visited together.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _

from .layout import EPS, Geometry

Point = tuple[float, float]
METHODS = ("auto", "rr", "dp", "ortools", "held_karp", "cpsat", "optimal", "sshape", "largest_gap", "nearest")


@dataclass(frozen=True)
class Route:
    order: list[int]  # indices into the picks, in walking order
    length_m: float  # depot → picks → depot
    method: str
    optimal: bool = False  # proven optimal


# -- input ---------------------------------------------------------------------------------------

def _points(geometry: Geometry, picks: Sequence) -> list[Point]:
    out = []
    for p in picks:
        xy = (float(p.x), float(p.y)) if hasattr(p, "x") and hasattr(p, "y") else (float(p[0]), float(p[1]))
        out.append(geometry.snap(xy))
    return out


def _distinct(points: list[Point]) -> tuple[list[Point], list[list[int]]]:
    """Distinct spots and, per spot, the pick indices there."""
    spots: dict[tuple[float, float], int] = {}
    members: list[list[int]] = []
    uniq: list[Point] = []
    for i, p in enumerate(points):
        key = (round(p[0], 6), round(p[1], 6))
        if key not in spots:
            spots[key] = len(uniq)
            uniq.append(p)
            members.append([])
        members[spots[key]].append(i)
    return uniq, members


def _expand(spot_order: list[int], members: list[list[int]]) -> list[int]:
    return [i for s in spot_order for i in members[s]]


def _length(geometry: Geometry, points: list[Point], order: list[int], depot: Point) -> float:
    return round(geometry.tour_length(points, order, depot), 6)


def optimize(geometry: Geometry, picks: Sequence, *, depot: Point | None = None, method: str = "auto",
             time_limit_ms: int = 30) -> Route:
    """The walking order for `picks` (points or BinGeoms), starting and ending at the depot."""
    if method not in METHODS:
        raise ValidationFailed(_("未知的拣货路径算法：{m}", m=method))
    depot = geometry.snap(depot) if depot is not None else geometry.depot
    points = _points(geometry, picks)
    if not points:
        return Route([], 0.0, method, True)
    if method == "sshape":
        return sshape(geometry, points, depot=depot)
    if method == "largest_gap":
        return largest_gap(geometry, points, depot=depot)
    if method == "optimal":
        return optimal(geometry, points, depot=depot)
    if method == "rr" or (method == "auto" and _single_block_ok(geometry, points, depot)):
        return ratliff_rosenthal(geometry, points, depot=depot)
    if method == "dp" or (method == "auto" and _sweep_is_quick(geometry)):
        return grid_dp(geometry, points, depot=depot)
    if method == "held_karp":
        return held_karp(geometry, points, depot=depot)
    if method == "cpsat":
        return cpsat(geometry, points, depot=depot)
    if method == "nearest":
        return nearest_neighbour(geometry, points, depot=depot)
    return ortools(geometry, points, depot=depot, time_limit_ms=time_limit_ms)


def optimal(geometry: Geometry, picks: Sequence, *, depot: Point | None = None, time_limit_s: float = 20.0) -> Route:
    """The exact optimum: Ratliff–Rosenthal on a single block, the multi-block sweep otherwise.
    `reference()` is an independent exact check (Held–Karp / CP-SAT) for tests and benchmarks."""
    depot = geometry.snap(depot) if depot is not None else geometry.depot
    points = _points(geometry, picks)
    if not points:
        return Route([], 0.0, "optimal", True)
    if _single_block_ok(geometry, points, depot):
        return ratliff_rosenthal(geometry, points, depot=depot)
    if geometry.blocks <= 5:
        return grid_dp(geometry, points, depot=depot)
    return reference(geometry, points, depot=depot, time_limit_s=time_limit_s)


def _sweep_is_quick(geometry: Geometry) -> bool:
    """The multi-block sweep's states grow fast with the cross-aisles (7 for one block, 25, 113, 569,
    3033 for 2–5 blocks); 30 picks take ≈ 12 ms on 2 blocks × 10 aisles, ≈ 15 ms on 3 × 10, ≈ 60 ms
    on 3 × 40 or 4 × 10, ≈ 0.3 s on 5 × 10 (2-core machine)."""
    return geometry.blocks <= 3 or (geometry.blocks == 4 and len(geometry.aisle_x) <= 20)


def reference(geometry: Geometry, picks: Sequence, *, depot: Point | None = None,
              time_limit_s: float = 20.0, hint: list[int] | None = None) -> Route:
    """An exact TSP solution that knows nothing of aisles: Held–Karp up to 12 distinct points,
    else CP-SAT (`optimal` says whether CP-SAT proved it within the time limit)."""
    depot = geometry.snap(depot) if depot is not None else geometry.depot
    points = _points(geometry, picks)
    if len(_distinct(points)[0]) <= 12:
        return held_karp(geometry, points, depot=depot)
    return cpsat(geometry, points, depot=depot, time_limit_s=time_limit_s, hint=hint)


# -- Ratliff–Rosenthal ----------------------------------------------------------------------------

def _single_block_ok(geometry: Geometry, points: list[Point], depot: Point) -> bool:
    if geometry.blocks != 1:
        return False
    return all(geometry.locate(p)[0] == "aisle" or abs(p[1] - geometry.cross_y[0]) <= EPS
               or abs(p[1] - geometry.cross_y[1]) <= EPS for p in [*points, depot])


def _cls(deg: int) -> int:
    """Degree class: 0 none, 1 odd, 2 even and positive."""
    return 0 if deg == 0 else (1 if deg % 2 else 2)


def _add(cls: int, add: int) -> int:
    if add == 0:
        return cls
    if cls == 0:
        return _cls(add)
    return 1 if (cls + add) % 2 else 2


def _canon(ca: int, cb: int) -> tuple[int, int]:
    mapping: dict[int, int] = {}
    out = []
    for c in (ca, cb):
        if c == 0:
            out.append(0)
        else:
            mapping.setdefault(c, len(mapping) + 1)
            out.append(mapping[c])
    return out[0], out[1]


def ratliff_rosenthal(geometry: Geometry, picks: Sequence, *, depot: Point | None = None) -> Route:
    """Exact shortest tour in a single-block warehouse (depot and picks in aisles or on the front
    or back cross-aisle)."""
    depot = geometry.snap(depot) if depot is not None else geometry.depot
    points = _points(geometry, picks)
    if not points:
        return Route([], 0.0, "rr", True)
    if not _single_block_ok(geometry, points, depot):
        raise ValidationFailed(_("Ratliff–Rosenthal 只适用于单区块仓库"))
    y0, y1 = geometry.cross_y[0], geometry.cross_y[1]
    aisle_xs = set(geometry.aisle_x)
    xs = sorted(aisle_xs | {round(p[0], 6) for p in [*points, depot]
                            if geometry.locate(p)[0] == "cross"})
    col_of = {x: j for j, x in enumerate(xs)}
    n = len(xs)
    ys: list[set[float]] = [set() for _ in range(n)]
    need_a = [False] * n
    need_b = [False] * n
    for p in [*points, depot]:
        kind, idx, _b = geometry.locate(p)
        if kind == "cross":
            j = col_of[round(p[0], 6)]
            (need_a if idx == 0 else need_b)[j] = True
        else:
            ys[col_of[geometry.aisle_x[idx]]].add(p[1])
    cols = [sorted(s) for s in ys]
    is_aisle = [x in aisle_xs for x in xs]

    def vertical_options(j: int) -> list[tuple[str, int, int, bool, float]]:
        """(name, add to a, add to b, connects a and b, cost)."""
        return _segment_options(cols[j], y0, y1, is_aisle[j])

    def apply_vertical(state, opt):
        da, db, ca, cb, closed = state
        _name, add_a, add_b, connects, _cost = opt
        if closed:
            return None if (add_a or add_b) else state
        if add_a and not ca:
            ca = 3
        if add_b and not cb:
            cb = 4
        if connects:  # full traversals add to both ends, so both have a component here
            cb = ca
        da, db = _add(da, add_a), _add(db, add_b)
        ca, cb = _canon(ca, cb)
        return (da, db, ca, cb, False)

    def apply_cross(state, hf, hb, j):
        """Leave column j over hf front / hb back cross edges to column j + 1."""
        da, db, ca, cb, closed = state
        fa, fb = _add(da, hf), _add(db, hb)
        if fa == 1 or fb == 1:  # a vertex left behind with odd degree
            return None
        if (need_a[j] and fa == 0) or (need_b[j] and fb == 0):
            return None
        if closed:
            return state if hf == hb == 0 else None
        # a cross edge from an end without edges starts a new component there (3 front, 4 back)
        na = (ca or 3) if hf else 0
        nb = (cb or 4) if hb else 0
        old = {c for c in (ca, cb) if c}
        carried = {c for c, h in ((ca, hf), (cb, hb)) if c and h}
        dropped = old - carried
        if dropped:
            if len(old) > 1 or na or nb:
                return None
            return (0, 0, 0, 0, True)
        na2, nb2 = _canon(na, nb)
        return (_cls(hf), _cls(hb), na2, nb2, False)

    def finish(state, j) -> bool:
        da, db, ca, cb, closed = state
        if da == 1 or db == 1:
            return False
        if (need_a[j] and da == 0) or (need_b[j] and db == 0):
            return False
        if closed:
            return True
        return len({c for c in (ca, cb) if c}) == 1

    # dp[state] = (cost, back-pointer)
    start = (0, 0, 0, 0, False)
    dp: dict = {}
    for opt in vertical_options(0):
        s = apply_vertical(start, opt)
        if s is not None and (s not in dp or opt[4] < dp[s][0]):
            dp[s] = (opt[4], None, None, opt)
    history = [dp]
    for j in range(n - 1):
        dx = xs[j + 1] - xs[j]
        nxt: dict = {}
        vopts = vertical_options(j + 1)
        for s, (cost, *_rest) in dp.items():
            for hf in (0, 1, 2):
                for hb in (0, 1, 2):
                    m = apply_cross(s, hf, hb, j)
                    if m is None:
                        continue
                    base = cost + (hf + hb) * dx
                    for opt in vopts:
                        t = apply_vertical(m, opt)
                        if t is None:
                            continue
                        c = base + opt[4]
                        if t not in nxt or c < nxt[t][0] - 1e-9:
                            nxt[t] = (c, s, (hf, hb), opt)
        dp = nxt
        history.append(dp)
    finals = [(c, s) for s, (c, *_r) in dp.items() if finish(s, n - 1)]
    if not finals:  # cannot happen for a connected layout
        raise ValidationFailed(_("找不到拣货路径"))
    _best_cost, state = min(finals, key=lambda t: t[0])

    # rebuild the edge multiset
    edges: list[tuple[tuple, tuple]] = []
    for j in range(n - 1, -1, -1):
        _c, prev, cross, opt = history[j][state]
        edges.extend(_vertical_edges(j, cols[j], opt[0]))
        if cross is not None:
            hf, hb = cross
            edges.extend([(("a", j - 1), ("a", j))] * hf + [(("b", j - 1), ("b", j))] * hb)
        state = prev
    kind, idx, _b = geometry.locate(depot)
    dcol = col_of[round(depot[0], 6)] if kind == "cross" else col_of[geometry.aisle_x[idx]]
    if kind == "cross":
        start_node = ("a", dcol) if idx == 0 else ("b", dcol)
    else:
        start_node = ("p", dcol, depot[1])
    circuit = _euler(edges, start_node) if edges else [start_node]
    node_of = {}
    for i, p in enumerate(points):
        k, ix, _b = geometry.locate(p)
        if k == "cross":
            node = ("a" if ix == 0 else "b", col_of[round(p[0], 6)])
        else:
            node = ("p", col_of[geometry.aisle_x[ix]], p[1])
        node_of.setdefault(node, []).append(i)
    order, seen = [], set()
    for node in circuit:
        if node in node_of and node not in seen:
            seen.add(node)
            order.extend(node_of[node])
    if len(order) != len(points):  # pragma: no cover - a bug, not a user error
        raise AssertionError("Ratliff–Rosenthal tour misses picks")
    return Route(order, _length(geometry, points, order, depot), "rr", True)


def _vertical_edges(j: int, ys: list[float], name: str) -> list[tuple[tuple, tuple]]:
    chain = [("a", j)] + [("p", j, y) for y in ys] + [("b", j)]
    links = list(itertools.pairwise(chain))
    if name == "none":
        return []
    if name == "full1":
        return links
    if name == "full2":
        return links * 2
    m = len(ys)
    if name == "bottom":
        return links[:m] * 2
    if name == "top":
        return links[1:] * 2
    k = int(name[3:])  # gap between ys[k] and ys[k + 1] = links[k + 1] is skipped
    return (links[:k + 1] + links[k + 2:]) * 2


def _euler(edges: list[tuple], start) -> list:
    adj: dict = defaultdict(list)
    for eid, (u, v) in enumerate(edges):
        adj[u].append((v, eid))
        adj[v].append((u, eid))
    used = [False] * len(edges)
    if start not in adj:  # the depot is not on the tour: start anywhere (cannot happen for a valid DP)
        start = edges[0][0]
    stack, circuit = [start], []
    while stack:
        u = stack[-1]
        while adj[u] and used[adj[u][-1][1]]:
            adj[u].pop()
        if adj[u]:
            v, eid = adj[u].pop()
            used[eid] = True
            stack.append(v)
        else:
            circuit.append(stack.pop())
    return circuit[::-1]


# -- multi-block: the same dynamic programme over every cross-aisle ------------------------------

def _relabel(labels: list[int]) -> tuple[int, ...]:
    mapping: dict[int, int] = {}
    return tuple(0 if c == 0 else mapping.setdefault(c, len(mapping) + 1) for c in labels)


def _segment_options(ys: list[float], y0: float, y1: float, aisle: bool) -> list[tuple[str, int, int, bool, float]]:
    """The Ratliff–Rosenthal ways to cover one aisle segment between two cross-aisles:
    (name, degree added below, degree added above, connects below and above, metres)."""
    if not aisle:
        return [("none", 0, 0, False, 0.0)]
    length = y1 - y0
    opts = [("full1", 1, 1, True, length), ("full2", 2, 2, True, 2 * length)]
    if not ys:
        opts.append(("none", 0, 0, False, 0.0))
        return opts
    opts.append(("bottom", 2, 0, False, 2 * (ys[-1] - y0)))
    opts.append(("top", 0, 2, False, 2 * (y1 - ys[0])))
    if len(ys) >= 2:
        gaps = [ys[k + 1] - ys[k] for k in range(len(ys) - 1)]
        k = max(range(len(gaps)), key=gaps.__getitem__)
        opts.append((f"gap{k}", 2, 2, False, 2 * (length - gaps[k])))
    return opts


# The sweep's frontier states for a number of cross-aisles are enumerated once per process (every
# state any sequence of cross edges and aisle segments can reach: a few hundred for 3 blocks), with
# their transitions as index arrays, so a route is a few vectorized steps per aisle.
_VERTICAL_KINDS = ((1, 1, 1), (2, 2, 1), (0, 0, 0), (2, 0, 0), (0, 2, 0), (2, 2, 0))


@dataclass
class _Tables:
    states: list[tuple]
    vertical: list[dict[tuple[int, int, int], object]]  # per segment b: (lo, hi, connects) → target ids
    cross: list[dict[tuple[int, bool], object]]  # per cross-aisle i: (copies, must visit) → target ids


@functools.lru_cache(maxsize=8)
def _tables(slots: int) -> _Tables:
    start = ((0,) * slots, (0,) * slots, False)
    ids = {start: 0}
    states = [start]
    moves: list[tuple[str, int, tuple, int, int]] = []
    k = 0
    while k < len(states):
        state = states[k]
        for b in range(slots - 1):
            for kind in _VERTICAL_KINDS:
                moves.append(("v", b, kind, k, _intern(ids, states, _vertical_step(state, b, *kind))))
        for i in range(slots):
            for h in (0, 1, 2):
                for needed in (False, True):
                    moves.append(("c", i, (h, needed), k, _intern(ids, states, _cross_step(state, i, h, needed))))
        k += 1
    size = len(states)
    vertical = [{kind: np.full(size, -1) for kind in _VERTICAL_KINDS} for _ in range(slots - 1)]
    cross = [{(h, nd): np.full(size, -1) for h in (0, 1, 2) for nd in (False, True)} for _ in range(slots)]
    for kind, idx, key, src, dst in moves:
        (vertical if kind == "v" else cross)[idx][key][src] = dst
    return _Tables(states, vertical, cross)


def _intern(ids: dict[tuple, int], states: list[tuple], state: tuple | None) -> int:
    if state is None:
        return -1
    if state not in ids:
        ids[state] = len(states)
        states.append(state)
    return ids[state]


def _vertical_step(state: tuple, b: int, lo: int, hi: int, connects: bool) -> tuple | None:
    """The frontier after covering aisle segment b (between cross-aisle vertices b and b + 1)."""
    degs, labels, closed = state
    if closed:
        return None if (lo or hi) else state
    d, lab = list(degs), list(labels)
    top = max(lab) + 1
    if lo and not lab[b]:
        lab[b], top = top, top + 1
    if hi and not lab[b + 1]:
        lab[b + 1] = top
    if connects and lab[b] != lab[b + 1]:
        old = lab[b + 1]
        lab = [lab[b] if c == old else c for c in lab]
    d[b], d[b + 1] = _add(d[b], lo), _add(d[b + 1], hi)
    return (tuple(d), _relabel(lab), False)


def _cross_step(state: tuple, i: int, h: int, needed: bool) -> tuple | None:
    """The frontier after h copies of the cross-aisle edge from vertex i to the next column; the
    vertex left behind must end with an even degree (and a positive one when it must be visited)."""
    degs, labels, closed = state
    final = _add(degs[i], h)
    if final == 1 or (needed and final == 0):
        return None
    if closed:
        return None if h else state
    lab = list(labels)
    if h and not lab[i]:
        lab[i] = max(lab) + 1
    elif not h and lab[i]:
        gone = lab[i]
        lab[i] = 0
        if gone not in lab:  # that component is finished: it must be the whole tour
            if any(lab):
                return None
            return ((0,) * len(degs), (0,) * len(degs), True)
    d = list(degs)
    d[i] = _cls(h)
    return (tuple(d), _relabel(lab), False)


def grid_dp(geometry: Geometry, picks: Sequence, *, depot: Point | None = None) -> Route:
    """Exact shortest tour in a warehouse with any number of blocks: the Ratliff–Rosenthal sweep
    over the aisles, left to right, with one frontier vertex per cross-aisle (after Roodbergen &
    de Koster 2001 and Pansart, Catusse & Cambazard 2018). A state holds, per cross-aisle vertex of
    the current column, its degree class (none / odd / even) and its component, built up one cross
    edge or aisle segment at a time so the state count stays small."""
    depot = geometry.snap(depot) if depot is not None else geometry.depot
    points = _points(geometry, picks)
    if not points:
        return Route([], 0.0, "dp", True)
    cy = geometry.cross_y
    nb = geometry.blocks
    slots = nb + 1
    aisle_xs = set(geometry.aisle_x)
    xs = sorted(aisle_xs | {round(p[0], 6) for p in [*points, depot] if geometry.locate(p)[0] == "cross"})
    col_of = {x: j for j, x in enumerate(xs)}
    n = len(xs)
    segs: list[list[set[float]]] = [[set() for _ in range(nb)] for _ in range(n)]
    need = [[False] * slots for _ in range(n)]
    node_of: dict[tuple, list[int]] = defaultdict(list)

    def node(p: Point) -> tuple:
        kind, idx, block = geometry.locate(p)
        if kind == "cross":
            return ("v", col_of[round(p[0], 6)], idx)
        return ("p", col_of[geometry.aisle_x[idx]], block, p[1])

    for k, p in enumerate([*points, depot]):
        nd = node(p)
        if nd[0] == "v":
            need[nd[1]][nd[2]] = True
        else:
            segs[nd[1]][nd[2]].add(nd[3])
        if k < len(points):
            node_of[nd].append(k)
    seg_opts = [[[(name, lo, hi, int(conn), metres) for name, lo, hi, conn, metres
                  in _segment_options(sorted(segs[j][b]), cy[b], cy[b + 1], xs[j] in aisle_xs)] for b in range(nb)]
                for j in range(n)]

    tables = _tables(slots)
    history: list[tuple[str, int, int, object, object]] = []
    inf = float("inf")

    def step(cost, moves: list[tuple[object, float, object]], kind: str, j: int, idx: int):
        """moves: (target state per state, metres, choice); keep the cheapest way into each state."""
        targets, values, sources, choices = [], [], [], []
        alive = np.isfinite(cost)
        for k, (tgt, metres, _choice) in enumerate(moves):
            ok = alive & (tgt >= 0)
            src = np.nonzero(ok)[0]
            targets.append(tgt[src])
            values.append(cost[src] + metres)
            sources.append(src)
            choices.append(np.full(len(src), k))
        tg, va, so, ch = (np.concatenate(a) for a in (targets, values, sources, choices))
        order = np.lexsort((va, tg))
        tg_sorted = tg[order]
        first = order[np.r_[True, tg_sorted[1:] != tg_sorted[:-1]]] if len(order) else order
        out = np.full(len(cost), inf)
        out[tg[first]] = va[first]
        back_src = np.full(len(cost), -1)
        back_choice = np.full(len(cost), -1)
        back_src[tg[first]] = so[first]
        back_choice[tg[first]] = ch[first]
        history.append((kind, j, idx, back_src, [m[2] for m in moves], back_choice))
        return out

    def vertical(cost, j: int, b: int):
        return step(cost, [(tables.vertical[b][(lo, hi, conn)], metres, opt)
                           for opt in seg_opts[j][b] for _n, lo, hi, conn, metres in [opt]], "v", j, b)

    def cross(cost, j: int, i: int, dx: float):
        needed = bool(need[j][i])
        return step(cost, [(tables.cross[i][(h, needed)], h * dx, h) for h in (0, 1, 2)], "c", j, i)

    cost = np.full(len(tables.states), inf)
    cost[0] = 0.0
    for b in range(nb):
        cost = vertical(cost, 0, b)
    for j in range(n - 1):
        for i in range(slots):
            cost = cross(cost, j, i, xs[j + 1] - xs[j])
        for b in range(nb):
            cost = vertical(cost, j + 1, b)

    def done(state) -> bool:
        degs, labels, closed = state
        if any(d == 1 for d in degs) or any(need[n - 1][i] and degs[i] == 0 for i in range(slots)):
            return False
        return closed or len({c for c in labels if c}) == 1

    finals = [(float(cost[sid]), sid) for sid in np.nonzero(np.isfinite(cost))[0] if done(tables.states[sid])]
    if not finals:  # pragma: no cover - a connected layout always has a tour
        raise ValidationFailed(_("找不到拣货路径"))
    _best, state = min(finals, key=lambda t: t[0])
    edges: list[tuple[tuple, tuple]] = []
    for kind, j, idx, back_src, choice_list, back_choice in reversed(history):
        prev, choice = int(back_src[state]), choice_list[int(back_choice[state])]
        if kind == "c":
            edges.extend([(("v", j, idx), ("v", j + 1, idx))] * choice)
        else:
            ys = sorted(segs[j][idx])
            chain = [("v", j, idx)] + [("p", j, idx, y) for y in ys] + [("v", j, idx + 1)]
            edges.extend(_chain_edges(chain, choice[0]))
        state = prev
    start = node(depot)
    circuit = _euler(edges, start) if edges else [start]
    order, seen = [], set()
    for nd in circuit:
        if nd in node_of and nd not in seen:
            seen.add(nd)
            order.extend(node_of[nd])
    if len(order) != len(points):  # pragma: no cover - a bug, not a user error
        raise AssertionError("grid DP tour misses picks")
    return Route(order, _length(geometry, points, order, depot), "dp", True)


def _chain_edges(chain: list[tuple], name: str) -> list[tuple[tuple, tuple]]:
    links = list(itertools.pairwise(chain))
    m = len(chain) - 2
    if name == "none":
        return []
    if name == "full1":
        return links
    if name == "full2":
        return links * 2
    if name == "bottom":
        return links[:m] * 2
    if name == "top":
        return links[1:] * 2
    k = int(name[3:])
    return (links[:k + 1] + links[k + 2:]) * 2


# -- exact TSP on the graph distances ------------------------------------------------------------

def _tsp_input(geometry: Geometry, picks: Sequence, depot: Point | None):
    depot = geometry.snap(depot) if depot is not None else geometry.depot
    points = _points(geometry, picks)
    uniq, members = _distinct(points)
    nodes = [depot, *uniq]
    return depot, points, uniq, members, geometry.matrix(nodes)


def held_karp(geometry: Geometry, picks: Sequence, *, depot: Point | None = None) -> Route:
    """Exact TSP by dynamic programming over subsets (up to 13 distinct points)."""
    depot, points, uniq, members, d = _tsp_input(geometry, picks, depot)
    m = len(uniq)
    if m == 0:
        return Route([], 0.0, "held_karp", True)
    if m > 13:
        raise ValidationFailed(_("Held–Karp 最多处理 13 个拣货点"))
    full = (1 << m) - 1
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for k in range(m):
        best[(1 << k, k)] = (d[0][k + 1], -1)
    for size in range(2, m + 1):
        for subset in itertools.combinations(range(m), size):
            mask = 0
            for k in subset:
                mask |= 1 << k
            for k in subset:
                prev_mask = mask ^ (1 << k)
                cands = [(best[(prev_mask, q)][0] + d[q + 1][k + 1], q) for q in subset if q != k]
                best[(mask, k)] = min(cands)
    _cost, last = min((best[(full, k)][0] + d[k + 1][0], k) for k in range(m))
    seq, mask = [], full
    while last != -1:
        seq.append(last)
        _c, prev = best[(mask, last)]
        mask ^= 1 << last
        last = prev
    order = _expand(seq[::-1], members)
    return Route(order, _length(geometry, points, order, depot), "held_karp", True)


def _cm(d: list[list[float]]) -> list[list[int]]:
    return [[round(v * 100) for v in row] for row in d]


def ortools(geometry: Geometry, picks: Sequence, *, depot: Point | None = None, time_limit_ms: int = 30) -> Route:
    """OR-Tools routing (one vehicle) on the exact walking distances, guided local search."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    depot, points, uniq, members, d = _tsp_input(geometry, picks, depot)
    m = len(uniq)
    if m <= 3:
        return held_karp(geometry, points, depot=depot)
    matrix = _cm(d)
    manager = pywrapcp.RoutingIndexManager(m + 1, 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(matrix)
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(time_limit_ms)))
    solution = routing.SolveWithParameters(params)
    if solution is None:  # pragma: no cover - the TSP always has a solution
        return nearest_neighbour(geometry, points, depot=depot)
    seq, index = [], routing.Start(0)
    while True:
        index = solution.Value(routing.NextVar(index))
        if routing.IsEnd(index):
            break
        seq.append(manager.IndexToNode(index) - 1)
    seq = _two_opt(seq, d)
    order = _expand(seq, members)
    return Route(order, _length(geometry, points, order, depot), "ortools")


def _two_opt(seq: list[int], d: list[list[float]]) -> list[int]:
    """Polish a tour (depot = -1 first) with 2-opt and or-opt (segments of 1–3, either way round)
    until neither improves; cheap for the ≤ 40 points of a pick run."""
    tour = [-1, *seq]
    n = len(tour)
    if n < 4:
        return list(seq)

    def dd(a, b):
        return d[a + 1][b + 1]

    improved = True
    while improved:
        improved = False
        for i in range(n - 1):
            a, b = tour[i], tour[i + 1]
            for k in range(i + 2, n):
                c, e = tour[k], tour[(k + 1) % n]
                if dd(a, c) + dd(b, e) < dd(a, b) + dd(c, e) - 1e-9:
                    tour[i + 1:k + 1] = reversed(tour[i + 1:k + 1])
                    improved = True
                    a, b = tour[i], tour[i + 1]
        for size in (1, 2, 3):
            i = 1
            while i + size <= n:
                seg = tour[i:i + size]
                prev, after = tour[i - 1], tour[(i + size) % n]
                gain = dd(prev, seg[0]) + dd(seg[-1], after) - dd(prev, after)
                rest = tour[:i] + tour[i + size:]
                best, where, flip = 1e-9, None, False
                for k in range(len(rest)):
                    u, v = rest[k], rest[(k + 1) % len(rest)]
                    base = dd(u, v)
                    fwd = dd(u, seg[0]) + dd(seg[-1], v) - base
                    rev = dd(u, seg[-1]) + dd(seg[0], v) - base
                    if gain - fwd > best:
                        best, where, flip = gain - fwd, k, False
                    if gain - rev > best:
                        best, where, flip = gain - rev, k, True
                if where is not None:
                    tour = rest[:where + 1] + (seg[::-1] if flip else seg) + rest[where + 1:]
                    improved = True
                i += 1
    k = tour.index(-1)
    tour = tour[k:] + tour[:k]
    return tour[1:]


def cpsat(geometry: Geometry, picks: Sequence, *, depot: Point | None = None, time_limit_s: float = 20.0,
          workers: int = 1, hint: list[int] | None = None) -> Route:
    """Exact TSP by CP-SAT (AddCircuit on centimetre distances), hinted with `hint` (a visiting
    order of the picks) or else the OR-Tools route."""
    from ortools.sat.python import cp_model

    depot, points, uniq, members, d = _tsp_input(geometry, picks, depot)
    m = len(uniq)
    if m <= 9:
        return held_karp(geometry, points, depot=depot)
    if hint is not None and sorted(hint) == list(range(len(points))):
        start = Route(list(hint), _length(geometry, points, list(hint), depot), "hint")
    else:
        start = ortools(geometry, points, depot=depot, time_limit_ms=50)
    _u, _m = _distinct([points[i] for i in start.order])
    hint_seq = [uniq.index(p) for p in _u]
    cm = _cm(d)
    model = cp_model.CpModel()
    arcs, lits = [], {}
    for i in range(m + 1):
        for j in range(m + 1):
            if i != j:
                lit = model.NewBoolVar(f"x{i}_{j}")
                lits[(i, j)] = lit
                arcs.append((i, j, lit))
    model.AddCircuit(arcs)
    model.Minimize(sum(cm[i][j] * lit for (i, j), lit in lits.items()))
    tour = [0] + [k + 1 for k in hint_seq] + [0]
    hinted = set(itertools.pairwise(tour))
    for key, lit in lits.items():
        model.AddHint(lit, key in hinted)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return start
    nxt = {i: j for (i, j), lit in lits.items() if solver.Value(lit)}
    seq, node = [], nxt[0]
    while node != 0:
        seq.append(node - 1)
        node = nxt[node]
    order = _expand(seq, members)
    return Route(order, _length(geometry, points, order, depot), "cpsat", status == cp_model.OPTIMAL)


def nearest_neighbour(geometry: Geometry, picks: Sequence, *, depot: Point | None = None) -> Route:
    depot, points, uniq, members, d = _tsp_input(geometry, picks, depot)
    left, cur, seq = set(range(len(uniq))), 0, []
    while left:
        k = min(left, key=lambda q: d[cur][q + 1])
        seq.append(k)
        left.remove(k)
        cur = k + 1
    order = _expand(seq, members)
    return Route(order, _length(geometry, points, order, depot), "nearest")


# -- heuristics: S-shape and largest gap ---------------------------------------------------------

class _Walk:
    """A walk as straight waypoints; its length is the sum of the straight legs."""

    def __init__(self, geometry: Geometry, depot: Point):
        self.g = geometry
        self.points: list[Point] = [depot]

    def to(self, p: Point) -> None:
        if abs(p[0] - self.points[-1][0]) > EPS or abs(p[1] - self.points[-1][1]) > EPS:
            self.points.append(p)

    @property
    def here(self) -> Point:
        return self.points[-1]

    def length(self) -> float:
        return sum(self.g.distance(a, b) for a, b in zip(self.points, self.points[1:], strict=False))


def _by_aisle_block(geometry: Geometry, points: list[Point]):
    """{(aisle index, block): sorted ys}, and the pick indices at each spot, and cross-aisle picks."""
    cells: dict[tuple[int, int], set[float]] = defaultdict(set)
    at: dict[tuple[float, float], list[int]] = defaultdict(list)
    loose: list[int] = []
    for i, p in enumerate(points):
        kind, idx, block = geometry.locate(p)
        if kind == "cross":
            loose.append(i)
            continue
        cells[(idx, block)].add(p[1])
        at[(round(p[0], 6), round(p[1], 6))].append(i)
    return {k: sorted(v) for k, v in cells.items()}, at, loose


def _heuristic_route(geometry: Geometry, points: list[Point], depot: Point, walk: _Walk, at, loose,
                     method: str) -> Route:
    """Visiting order from the waypoints (each pick when first passed), cross-aisle picks inserted
    where cheapest; length = the walk itself plus those insertions."""
    path = [*walk.points, depot]
    length = sum(geometry.distance(a, b) for a, b in itertools.pairwise(path))
    seen: set = set()
    seq: list[list[int]] = []
    for k in range(len(path) - 1):
        a, b = path[k], path[k + 1]
        leg = []
        for key, idxs in at.items():
            if key in seen:
                continue
            if _on_segment(key, a, b):
                leg.append((abs(key[0] - a[0]) + abs(key[1] - a[1]), key, idxs))
        for _dist, key, idxs in sorted(leg):
            seen.add(key)
            seq.append(list(idxs))
    stops = [depot] + [points[s[0]] for s in seq] + [depot]
    for i in loose:
        p = points[i]
        best = min(range(len(stops) - 1), key=lambda k: geometry.distance(stops[k], p)
                   + geometry.distance(p, stops[k + 1]) - geometry.distance(stops[k], stops[k + 1]))
        length += (geometry.distance(stops[best], p) + geometry.distance(p, stops[best + 1])
                   - geometry.distance(stops[best], stops[best + 1]))
        stops.insert(best + 1, p)
        seq.insert(best, [i])
    order = [i for group in seq for i in group]
    if sorted(order) != list(range(len(points))):  # pragma: no cover - a bug, not a user error
        raise AssertionError(f"{method} misses picks")
    return Route(order, round(length, 6), method)


def _on_segment(p: tuple[float, float], a: Point, b: Point) -> bool:
    if abs(a[0] - b[0]) <= EPS and abs(p[0] - a[0]) <= EPS:
        return min(a[1], b[1]) - EPS <= p[1] <= max(a[1], b[1]) + EPS
    if abs(a[1] - b[1]) <= EPS and abs(p[1] - a[1]) <= EPS:
        return min(a[0], b[0]) - EPS <= p[0] <= max(a[0], b[0]) + EPS
    return False


def sshape(geometry: Geometry, picks: Sequence, *, depot: Point | None = None) -> Route:
    """S-shape (traversal): every aisle with picks is walked end to end; with an odd number the
    last one is entered and left at the front. Multi-block: up the leftmost pick aisle to the
    farthest block with picks, then block by block towards the front (Roodbergen & de Koster)."""
    return _heuristic(geometry, picks, depot, "sshape")


def largest_gap(geometry: Geometry, picks: Sequence, *, depot: Point | None = None) -> Route:
    """Largest gap: the first and last pick aisles are walked end to end; the others are entered
    from the back and from the front up to their largest gap between picks. Multi-block: per block
    from the farthest one, entered from the block's back cross-aisle."""
    return _heuristic(geometry, picks, depot, "largest_gap")


def _heuristic(geometry: Geometry, picks: Sequence, depot: Point | None, method: str) -> Route:
    depot = geometry.snap(depot) if depot is not None else geometry.depot
    points = _points(geometry, picks)
    if not points:
        return Route([], 0.0, method)
    cells, at, loose = _by_aisle_block(geometry, points)
    walk = _Walk(geometry, depot)
    front = geometry.cross_y[0]
    if geometry.locate(depot)[0] == "aisle":
        walk.to((depot[0], front))
    if cells:
        blocks_used = sorted({b for _a, b in cells})
        far = blocks_used[-1]
        if far == 0:
            aisles = sorted(a for a, _b in cells)
            if method == "sshape":
                _single_sshape(geometry, walk, aisles, cells)
            else:
                _single_largest_gap(geometry, walk, aisles, cells)
        else:
            _multi(geometry, walk, cells, far, method)
        walk.to((walk.here[0], front))
        walk.to((depot[0], front))
    return _heuristic_route(geometry, points, depot, walk, at, loose, method)


def _single_sshape(geometry: Geometry, walk: _Walk, aisles: list[int], cells) -> None:
    y0, y1 = geometry.cross_y[0], geometry.cross_y[1]
    xs = geometry.aisle_x
    if abs(walk.here[0] - xs[aisles[-1]]) < abs(walk.here[0] - xs[aisles[0]]):
        aisles = aisles[::-1]
    for k, a in enumerate(aisles):
        x = xs[a]
        walk.to((x, walk.here[1]))
        last = k == len(aisles) - 1
        if last and len(aisles) % 2 == 1:
            walk.to((x, cells[(a, 0)][-1]))
            walk.to((x, y0))
        else:
            walk.to((x, y1 if k % 2 == 0 else y0))


def _single_largest_gap(geometry: Geometry, walk: _Walk, aisles: list[int], cells) -> None:
    y0, y1 = geometry.cross_y[0], geometry.cross_y[1]
    xs = geometry.aisle_x
    if abs(walk.here[0] - xs[aisles[-1]]) < abs(walk.here[0] - xs[aisles[0]]):
        aisles = aisles[::-1]
    if len(aisles) == 1:
        a = aisles[0]
        walk.to((xs[a], y0))
        walk.to((xs[a], cells[(a, 0)][-1]))
        walk.to((xs[a], y0))
        return
    splits = {a: _gap_split(cells[(a, 0)], y0, y1) for a in aisles}
    walk.to((xs[aisles[0]], y0))
    walk.to((xs[aisles[0]], y1))
    for a in aisles[1:-1]:  # back parts, left to right along the back
        lo, _hi = splits[a]
        walk.to((xs[a], y1))
        if lo is not None:
            walk.to((xs[a], lo))
            walk.to((xs[a], y1))
    walk.to((xs[aisles[-1]], y1))
    walk.to((xs[aisles[-1]], y0))
    for a in aisles[-2:0:-1]:  # front parts, coming back along the front
        _lo, hi = splits[a]
        walk.to((xs[a], y0))
        if hi is not None:
            walk.to((xs[a], hi))
            walk.to((xs[a], y0))


def _gap_split(ys: list[float], y_front: float, y_back: float) -> tuple[float | None, float | None]:
    """(lowest y reached from the back, highest y reached from the front) around the largest gap."""
    stops = [y_front, *ys, y_back]
    gaps = [stops[k + 1] - stops[k] for k in range(len(stops) - 1)]
    g = max(range(len(gaps)), key=gaps.__getitem__)
    front_part = ys[:g]  # picks below the gap
    back_part = ys[g:]
    return (back_part[0] if back_part else None, front_part[-1] if front_part else None)


def _multi(geometry: Geometry, walk: _Walk, cells: dict, far: int, method: str) -> None:
    xs, cy = geometry.aisle_x, geometry.cross_y
    left = min(a for a, _b in cells)
    walk.to((xs[left], cy[0]))
    walk.to((xs[left], cy[far + 1]))  # up the leftmost pick aisle, picking on the way
    remaining = {k: v for k, v in cells.items() if k[0] != left}
    for b in range(far, -1, -1):
        aisles = sorted(a for a, bb in remaining if bb == b)
        top, bottom = cy[b + 1], cy[b]
        x = walk.here[0]
        if not aisles:
            walk.to((x, bottom))
            continue
        if abs(x - xs[aisles[-1]]) < abs(x - xs[aisles[0]]):
            aisles = aisles[::-1]
        if method == "sshape":
            for k, a in enumerate(aisles):
                last = k == len(aisles) - 1
                if last and len(aisles) % 2 == 0:  # at the front of the block: in and out
                    walk.to((xs[a], bottom))
                    walk.to((xs[a], remaining[(a, b)][-1]))
                    walk.to((xs[a], bottom))
                else:
                    walk.to((xs[a], walk.here[1]))
                    walk.to((xs[a], bottom if k % 2 == 0 else top))
        else:
            splits = {a: _gap_split(remaining[(a, b)], bottom, top) for a in aisles}
            for a in aisles[:-1]:  # back parts along the block's back cross-aisle
                lo, _hi = splits[a]
                walk.to((xs[a], top))
                if lo is not None:
                    walk.to((xs[a], lo))
                    walk.to((xs[a], top))
            walk.to((xs[aisles[-1]], top))
            walk.to((xs[aisles[-1]], bottom))
            for a in aisles[-2::-1]:  # front parts on the way back along the front cross-aisle
                _lo, hi = splits[a]
                if hi is None:
                    continue
                walk.to((xs[a], bottom))
                walk.to((xs[a], hi))
                walk.to((xs[a], bottom))
