"""`opensupply bench pickpath` — optimized pick routes vs the optimum and S-shape (see bench/pickpath.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from opensupply.bench.cli import DATA, OUT, _run, err

    @app.command("pickpath")
    def pickpath(
        scenarios: int = typer.Option(100, "--scenarios", help="orders (each routed on every layout)"),
        seed: int = typer.Option(1, "--seed", help="random seed of the orders"),
        time_limit: float = typer.Option(0.03, "--time-limit", help="seconds for the OR-Tools comparison route"),
        layout: str = typer.Option("both", "--layout", help="both | single_block | three_block"),
        min_lines: int = typer.Option(10, "--min-lines"),
        max_lines: int = typer.Option(30, "--max-lines"),
        data: Path = DATA,
        out: Path = OUT,
    ) -> None:
        """Pick paths on a 10-aisle × 2 × 25-bin area (single block and 3 blocks): optimizer vs optimum and S-shape."""
        from opensupply.bench.pickpath import LAYOUTS, run_pickpath, summarize

        if data is not None:
            if not data.is_dir():
                err.print(f"[red]bench pickpath: --data {data}: no such folder (and none is needed: the scenarios "
                          "come from --seed)[/red]")
                raise typer.Exit(2)
            err.print("bench pickpath: the scenarios are generated from --seed; --data is not used")
        layouts = list(LAYOUTS) if layout == "both" else [layout]
        if any(name not in LAYOUTS for name in layouts):
            err.print(f"[red]bench pickpath: --layout must be both or one of {', '.join(LAYOUTS)}[/red]")
            raise typer.Exit(2)
        if scenarios < 1 or not 1 <= min_lines <= max_lines or time_limit <= 0:
            err.print("[red]bench pickpath: --scenarios ≥ 1, 1 ≤ --min-lines ≤ --max-lines, --time-limit > 0[/red]")
            raise typer.Exit(2)
        ms = max(1, round(time_limit * 1000))
        _run("pickpath", lambda cb: run_pickpath(scenarios, seed, ms, layouts, min_lines, max_lines, cb), time_limit,
             out, lambda rows: summarize(rows, scenarios, ms))
