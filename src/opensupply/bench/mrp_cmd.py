"""`opensupply bench mrp` — full MRP regeneration on a generated 10,000-SKU plant (see bench/mrp.py)."""

from __future__ import annotations

import os
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from opensupply.bench.cli import DATA, OUT, _run, err

    @app.command("mrp")
    def mrp(
        skus: int = typer.Option(10000, "--skus", help="SKUs (20 % finished goods, up to 5 BOM levels)"),
        seed: int = typer.Option(1, "--seed", help="random seed of the generated plant"),
        db: str = typer.Option(None, "--db", help="PostgreSQL server URL (a fresh database is made on it); "
                                                  "default OPENSUPPLY_DATABASE_URL when it is PostgreSQL"),
        sqlite: bool = typer.Option(True, "--sqlite/--no-sqlite", help="also run on a SQLite file in a temp dir"),
        data: Path = DATA,
        time_limit: float = typer.Option(None, "--time-limit", help="not used: the run is timed, not limited"),
        out: Path = OUT,
    ) -> None:
        """Times one MRP regeneration (load → net → lot-size → offset → save planned orders with pegging)."""
        from opensupply.bench import mrp as bench
        from opensupply.bench.orders_cmd import _fresh_pg

        if data is not None:
            err.print("bench mrp: the plant is generated from --skus and --seed; --data is not used")
        if skus < 50:
            err.print("[red]bench mrp: --skus must be at least 50[/red]")
            raise typer.Exit(2)
        server = db or (os.environ.get("OPENSUPPLY_DATABASE_URL") or "")
        targets = []
        if sqlite:
            targets.append("sqlite")
        if server.startswith("postgresql"):
            targets.append("postgresql")

        def rows(on_start):
            for i, kind in enumerate(targets):
                on_start(kind, i, len(targets))
                if kind == "sqlite":
                    url, tmp = bench.sqlite_url()
                    try:
                        yield bench.run_one(kind, url, skus, seed, err)
                    finally:
                        tmp.cleanup()
                else:
                    url, drop = _fresh_pg(server)
                    try:
                        yield bench.run_one(kind, url, skus, seed, err)
                    finally:
                        drop()

        def summary(results: list[dict]) -> dict:
            worst = max(results, key=lambda r: r["seconds"]) if results else {}
            return {"skus": skus, "levels": worst.get("levels"), "buckets": 52, "seconds": worst.get("seconds"),
                    "planned_orders": worst.get("planned_orders"),
                    "by_db": {r["db"]: {"seconds": r["seconds"], "planned_orders": r["planned_orders"],
                                        "pegging_rows": r["pegging_rows"]} for r in results}}

        _run("mrp", rows, 0, out, summary)
