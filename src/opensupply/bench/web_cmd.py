"""`opensupply bench web` — page latency under a locust load of logged-in users (see bench/web.py)."""

from __future__ import annotations

import os
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from opensupply.bench.cli import OUT, err

    @app.command("web")
    def web(
        orders: int = typer.Option(20_000, "--orders", help="platform orders in the database (issue #10: 1000000)"),
        skus: int = typer.Option(5_000, "--skus", help="products (issue #10: 100000)"),
        db: str = typer.Option("sqlite", "--db", help="sqlite | postgresql"),
        database_url: str = typer.Option(None, "--database-url",
                                         help="PostgreSQL server URL (default: OPENSUPPLY_BENCH_DATABASE_URL or "
                                              "OPENSUPPLY_TEST_DATABASE_URL); a fresh database is made on it"),
        users: int = typer.Option(50, "--users", help="concurrent logged-in users"),
        spawn_rate: float = typer.Option(10.0, "--spawn-rate", help="users started per second"),
        duration: float = typer.Option(60.0, "--duration", help="seconds of load, ramp-up included"),
        workers: int = typer.Option(2, "--workers", help="server worker processes (`opensupply serve --workers`)"),
        keep: Path = typer.Option(None, "--keep", help="keep the filled database here (PostgreSQL: not dropped) "
                                                       "and describe it in DIR/web-bench.json"),
        reuse: bool = typer.Option(False, "--reuse", help="with --keep DIR: reuse its database when the scale "
                                                          "and --db match instead of filling a new one"),
        seed: int = typer.Option(1, "--seed"),
        out: Path = OUT,
    ) -> None:
        """Locust users (login once, then 1–3 s think time) on the OMS order list/detail, product list/detail,
        ERP sales orders and order entry, against `opensupply serve --workers N`; p50/p95/p99 and requests/s."""
        from opensupply.bench.common import BenchError, emit, write_results

        if db not in ("sqlite", "postgresql"):
            err.print("[red]bench web: --db must be sqlite or postgresql[/red]")
            raise typer.Exit(2)
        if orders < 1 or skus < 1 or users < 1 or workers < 1 or duration <= 0 or spawn_rate <= 0:
            err.print("[red]bench web: --orders, --skus, --users, --workers, --duration and --spawn-rate must be "
                      "positive[/red]")
            raise typer.Exit(2)
        if reuse and keep is None:
            err.print("[red]bench web: --reuse needs --keep DIR[/red]")
            raise typer.Exit(2)
        server = database_url or os.environ.get("OPENSUPPLY_BENCH_DATABASE_URL") or os.environ.get(
            "OPENSUPPLY_TEST_DATABASE_URL")
        if db == "postgresql" and not server:
            err.print("[red]bench web: --db postgresql needs --database-url (a server the user may create "
                      "databases on)[/red]")
            raise typer.Exit(2)
        import importlib.util

        # only look: importing locust here would monkey-patch this process with gevent (the users run in a
        # subprocess of their own, `bench.web_locust`)
        if importlib.util.find_spec("locust") is None:
            err.print("[red]bench web: needs locust — pip install -e '.[bench]'[/red]")
            raise typer.Exit(2)
        from opensupply.bench.web import run

        results = []
        try:
            for row in run(kind=db, server_url=server, orders=orders, skus=skus, n_users=users,
                           spawn_rate=spawn_rate, duration=duration, workers=workers, keep=keep, reuse=reuse,
                           seed=seed, log=lambda m: err.print(f"bench web: {m}")):
                results.append(row)
                emit(row)
        except BenchError as exc:
            err.print(f"[red]bench web: {exc}[/red]")
            raise typer.Exit(2) from exc
        if out is not None:
            write_results(out, results)
            err.print(f"results written to {out}")
