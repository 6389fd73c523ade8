"""`opensupply bench forecast` — the SCM forecasting engine on `unique_id,ds,y` CSV files (see bench/forecast.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from opensupply.bench.cli import DATA, OUT, _need_data, _run, err

    @app.command("forecast")
    def forecast(
        data: Path = DATA,
        horizon: int = typer.Option(18, "--horizon", help="points held out at the end of each series"),
        season: int = typer.Option(12, "--season", help="season length (12 monthly, 52 weekly, 1 none)"),
        jobs: int = typer.Option(2, "--jobs", help="worker processes for the forecasts"),
        limit: int = typer.Option(None, "--limit", help="forecast only the first N series"),
        out: Path = OUT,
    ) -> None:
        """Holdout of the last --horizon points: MASE/sMAPE of the engine vs seasonal naive, and series/s."""
        from opensupply.bench.forecast import run_forecast

        folder = _need_data("forecast", data)
        if horizon < 1 or season < 1 or jobs < 1 or (limit is not None and limit < 1):
            err.print("[red]bench forecast: --horizon, --season, --jobs and --limit must be ≥ 1[/red]")
            raise typer.Exit(2)
        totals: dict = {}
        _run("forecast", lambda cb: run_forecast(folder, horizon, season, jobs, limit, cb, totals), 0.0, out,
             lambda rows: {"instances": len(rows), **totals})
