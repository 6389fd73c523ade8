"""`opensupply bench import` — channel-order intake vs a plain bulk insert (see bench/imports.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from opensupply.bench.cli import DATA, OUT, err
    from opensupply.bench.common import emit, write_results

    @app.command("import")
    def import_bench(
        orders: int = typer.Option(1_000_000, "--orders", help="channel orders to generate (5 % are duplicates)"),
        batch: int = typer.Option(5000, "--batch", help="orders per transaction"),
        keep: Path = typer.Option(None, "--keep", help="keep the generated files and databases in this folder"),
        data: Path = DATA,
        out: Path = OUT,
    ) -> None:
        """Generate platform exports across channels, import them through OMS intake into a fresh SQLite
        database, then bulk-insert the same orders raw; prints orders/s of both and their ratio."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from opensupply.bench.imports import run

        if data is not None:
            err.print("bench import: the orders are generated; --data is not used")
        if orders < 10 or batch < 1:
            err.print("[red]bench import: --orders ≥ 10 and --batch ≥ 1[/red]")
            raise typer.Exit(2)
        results = []
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err) as progress:
            task = progress.add_task("bench import: generate", total=orders)

            def on_progress(done: int) -> None:
                progress.update(task, completed=done, description="bench import: import")

            def log(message: str) -> None:
                progress.update(task, description=f"bench import: {message}")

            for row in run(orders, batch, keep=keep, log=log, on_progress=on_progress):
                results.append(row)
                emit(row)
        if out is not None:
            write_results(out, results)
            err.print(f"results written to {out}")
