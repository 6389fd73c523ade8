"""`opensupply bench NAME …` — Typer sub-app mounted by opensupply.cli.

stdout: one JSON object per instance and a final `{"summary": {...}}` (JSON lines, `ensure_ascii=False`);
stderr: progress and messages. `--out FILE.json` also writes every object as one JSON array.
Exit codes: 0 done, 2 cannot run (benchmark not available yet, bad or missing --data).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from opensupply.bench.common import BenchError, emit, gap_summary, write_results

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help='Benchmarks: one JSON object per instance on stdout, then {"summary": …}; progress on stderr.',
)
err = Console(stderr=True, soft_wrap=True)  # messages stay on one line, whatever the width

# benchmarks that arrive with their modules (orders/import with OMS, pickpath with WMS, mrp with ERP planning,
# forecast with SCM, web with the load test)
PENDING = {
    "orders": "TPC-C-style order flow vs raw SQL (arrives with OMS)",
    "import": "bulk channel-order import vs a plain bulk insert (arrives with OMS import)",
    "pickpath": "pick-path optimisation vs optimal and S-shape routing (arrives with WMS)",
    "mrp": "MRP run on a multi-level BOM (arrives with ERP planning)",
    "forecast": "demand forecasting on M3 monthly series (arrives with SCM)",
    "web": "web load test (arrives with the load-test harness)",
}

DATA = typer.Option(None, "--data", help="folder of instance files plus an optional bks.csv (instance,bks,…)")
OUT = typer.Option(None, "--out", help="also write every object as one JSON array to this file")
SEED = typer.Option(1, "--seed", help="random seed of the solver")
ONLY = typer.Option(None, "--instance", "-i", help="run only this instance (file name without extension); repeatable")


def _run(
    name: str,
    rows: Callable[[Callable[[str, int, int], None]], Iterator[dict]],
    time_limit: float,
    out: Path | None,
    extra_summary: Callable[[list[dict]], dict] | None = None,
) -> None:
    results: list[dict] = []
    t0 = time.perf_counter()
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as progress:
            task = progress.add_task(f"bench {name}", total=None)

            def on_start(instance: str, i: int, total: int) -> None:
                progress.update(task, total=total, completed=i, description=f"bench {name}: {instance}")

            for row in rows(on_start):
                results.append(row)
                emit(row)
                progress.advance(task)
            progress.update(task, description=f"bench {name}")
    except BenchError as exc:
        err.print(f"[red]bench {name}: {exc}[/red]")
        raise typer.Exit(2) from exc
    summary = {"benchmark": name, **gap_summary(results, time_limit)}
    summary["wall_seconds"] = round(time.perf_counter() - t0, 2)
    if extra_summary:
        summary.update(extra_summary(results))
    final = {"summary": summary}
    emit(final)
    if out is not None:
        write_results(out, [*results, final])
        err.print(f"results written to {out}")


def _need_data(name: str, data: Path | None) -> Path:
    if data is None:
        err.print(f"[red]bench {name}: --data DIR is required (instance files and an optional bks.csv)[/red]")
        raise typer.Exit(2)
    return data


@app.command("vrp")
def vrp(
    data: Path = DATA,
    time_limit: float = typer.Option(30.0, "--time-limit", help="seconds per instance"),
    out: Path = OUT,
    seed: int = SEED,
    instance: list[str] = ONLY,
) -> None:
    """CVRP (VRPLIB .vrp, e.g. CVRPLIB X): PyVRP vs best-known solutions; EUC_2D rounded, unlimited fleet."""
    from opensupply.bench.routing import run_routing

    folder = _need_data("vrp", data)
    _run("vrp", lambda cb: run_routing("vrp", folder, time_limit, seed, instance, cb), time_limit, out)


@app.command("vrptw")
def vrptw(
    data: Path = DATA,
    time_limit: float = typer.Option(30.0, "--time-limit", help="seconds per instance"),
    out: Path = OUT,
    seed: int = SEED,
    instance: list[str] = ONLY,
) -> None:
    """VRPTW (Solomon .txt): PyVRP vs best-known total distance (one decimal, truncated), instance fleet."""
    from opensupply.bench.routing import run_routing

    folder = _need_data("vrptw", data)
    _run("vrptw", lambda cb: run_routing("vrptw", folder, time_limit, seed, instance, cb), time_limit, out)


@app.command("jobshop")
def jobshop(
    data: Path = DATA,
    time_limit: float = typer.Option(30.0, "--time-limit", help="seconds per instance"),
    out: Path = OUT,
    seed: int = SEED,
    workers: int = typer.Option(2, "--workers", help="CP-SAT search workers"),
    instance: list[str] = ONLY,
) -> None:
    """Job shop (JSPLIB / Taillard text): CP-SAT makespan vs best-known values."""
    from opensupply.bench.jobshop import run_jobshop

    folder = _need_data("jobshop", data)

    def extra(rows: list[dict]) -> dict:
        return {"optimal": sum(1 for r in rows if r.get("optimal")), "workers": workers}

    _run("jobshop", lambda cb: run_jobshop(folder, time_limit, seed, workers, instance, cb), time_limit, out, extra)


def _pending_command(name: str, what: str):
    def command(ctx: typer.Context) -> None:
        err.print(f"[red]bench {name}: 尚未提供 / not yet available — {what}.[/red]")
        raise typer.Exit(2)

    command.__doc__ = f"{what} — not yet available."
    return command


# A benchmark arrives as `opensupply/bench/<name>_cmd.py` with `register(app)`, which adds the
# command (using `_run`, `err`, DATA, OUT from here); until then the name answers "not yet available".
for _name, _what in PENDING.items():
    try:
        _mod = importlib.import_module(f"opensupply.bench.{_name}_cmd")
    except ModuleNotFoundError as exc:
        if exc.name != f"opensupply.bench.{_name}_cmd":
            raise
        app.command(_name, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
            _pending_command(_name, _what)
        )
    else:
        _mod.register(app)


@app.command("report")
def report(
    files: list[Path] = typer.Argument(..., help="results files written by --out (or captured JSON lines)"),
    out_dir: Path = typer.Option(None, "--out-dir", help="write report.md and gaps.svg here"),
) -> None:
    """Markdown table (stdout, or report.md) and an SVG bar chart of the gaps (gaps.svg) from results files."""
    from opensupply.bench.report import load_runs, markdown, svg_gaps

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        err.print(f"[red]bench report: no such file: {', '.join(missing)}[/red]")
        raise typer.Exit(2)
    runs = load_runs(files)
    text = markdown(runs)
    if out_dir is None:
        typer.echo(text)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.md").write_text(text, encoding="utf-8")
    (out_dir / "gaps.svg").write_text(svg_gaps(runs), encoding="utf-8")
    emit({"markdown": str(out_dir / "report.md"), "svg": str(out_dir / "gaps.svg")})
