"""`bench jobshop`: makespan of CP-SAT (mes.scheduling) on JSPLIB / Taillard instances against the BKS.

Readers for both standard text layouts:
- JSPLIB / OR-Library ("standard"): optional `#` comment lines, then `n m`, then one line per job of `m` pairs
  `machine duration` in processing order, machines numbered from 0.
- Taillard: a header line (`Nb of jobs, Nb of Machines, ...`) and its numbers (`n m seeds ub lb`), then a
  `Times` block (n rows of m durations) and a `Machines` block (n rows of m machines numbered from 1).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from opensupply.bench.common import BenchError, gap_pct, instance_files, load_bks, number
from opensupply.mes.scheduling import Job, check_schedule, solve_jobshop

_INT_LINE = re.compile(r"^\s*-?\d+(\s+-?\d+)*\s*$")


def parse_jobshop(text: str) -> list[Job]:
    lines = [ln.strip() for ln in text.splitlines()]
    lower = [ln.lower() for ln in lines]
    if any(ln.startswith("times") for ln in lower) and any(ln.startswith("machines") for ln in lower):
        return _parse_taillard(lines, lower)
    rows = [[int(t) for t in ln.split()] for ln in lines if ln and not ln.startswith("#") and _INT_LINE.match(ln)]
    if not rows or len(rows[0]) < 2:
        raise ValueError("job shop file: first data line must be 'jobs machines'")
    n, m = rows[0][0], rows[0][1]
    body = rows[1 : 1 + n]
    if len(body) < n:
        raise ValueError(f"job shop file: {n} jobs announced, {len(body)} found")
    jobs: list[Job] = []
    for j, row in enumerate(body):
        if len(row) != 2 * m:
            raise ValueError(f"job shop file: job {j + 1} has {len(row)} numbers, {2 * m} expected")
        jobs.append([(row[2 * k], row[2 * k + 1]) for k in range(m)])
    return jobs


def _parse_taillard(lines: list[str], lower: list[str]) -> list[Job]:
    t_at = next(i for i, ln in enumerate(lower) if ln.startswith("times"))
    m_at = next(i for i, ln in enumerate(lower) if ln.startswith("machines"))
    header = [ln for ln in lines[:t_at] if _INT_LINE.match(ln)]
    if not header:
        raise ValueError("Taillard file: missing the 'jobs machines ...' line before Times")
    n, m = (int(t) for t in header[0].split()[:2])

    def block(start: int) -> list[list[int]]:
        rows = [[int(t) for t in ln.split()] for ln in lines[start + 1 :] if ln and _INT_LINE.match(ln)][:n]
        if len(rows) != n or any(len(r) != m for r in rows):
            raise ValueError(f"Taillard file: block at line {start + 1} is not {n}×{m}")
        return rows

    times, machines = block(t_at), block(m_at)
    return [[(machines[j][k] - 1, times[j][k]) for k in range(m)] for j in range(n)]


def read_jobshop(path: str | Path) -> list[Job]:
    return parse_jobshop(Path(path).read_text(encoding="utf-8"))


def run_jobshop(
    data: Path,
    time_limit_s: float,
    seed: int,
    workers: int = 2,
    only: list[str] | None = None,
    on_start: Callable[[str, int, int], None] | None = None,
) -> Iterator[dict]:
    files = instance_files(data, (".txt", ".jsp", ".jss"), only)
    bks = load_bks(data)
    from ortools.sat.python import cp_model  # noqa: F401  (import once, outside the timed solves)

    for i, path in enumerate(files):
        if on_start:
            on_start(path.stem, i, len(files))
        try:
            jobs = read_jobshop(path)
        except ValueError as exc:
            raise BenchError(f"{path}: {exc}") from exc
        t0 = time.perf_counter()
        schedule = solve_jobshop(jobs, time_limit_s=time_limit_s, workers=workers, seed=seed)
        seconds = time.perf_counter() - t0
        errors = check_schedule(jobs, schedule.starts, schedule.makespan)
        row: dict = {
            "benchmark": "jobshop",
            "instance": path.stem,
            "jobs": len(jobs),
            "machines": len({m for job in jobs for m, _ in job}),
            "makespan": schedule.makespan,
            "cost": schedule.makespan,
            "lower_bound": schedule.lower_bound,
            "optimal": schedule.optimal,
            "feasible": not errors,
            "seconds": round(seconds, 2),
        }
        if errors:
            row["errors"] = errors[:10]
        ref = bks.get(path.stem.lower())
        if ref is not None:
            row["bks"] = number(ref["bks"])
            row["gap_pct"] = gap_pct(schedule.makespan, ref["bks"])
        yield row
