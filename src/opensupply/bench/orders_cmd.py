"""`opensupply bench orders` — TPC-C-style order flow: OpenSupply's services vs hand-written SQL."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from opensupply.bench.cli import OUT, _run, err

    @app.command("orders")
    def orders(
        db: str = typer.Option("sqlite", "--db", help="sqlite | postgresql"),
        database_url: str = typer.Option(None, "--database-url",
                                         help="PostgreSQL server URL (default: OPENSUPPLY_BENCH_DATABASE_URL or "
                                              "OPENSUPPLY_TEST_DATABASE_URL); a fresh database is made on it"),
        workers: str = typer.Option("1", "--workers", help="worker processes; a list such as 1,2,4 runs each"),
        duration: float = typer.Option(30.0, "--duration", help="seconds per implementation and worker count"),
        warehouses: int = typer.Option(None, "--warehouses",
                                       help="TPC-C warehouses (10 districts each); default: one per worker, as "
                                            "TPC-C binds each terminal to a home warehouse"),
        items: int = typer.Option(1000, "--items", help="items (TPC-C: 100000)"),
        customers: int = typer.Option(30, "--customers", help="customers per district (TPC-C: 3000)"),
        seed: int = typer.Option(1, "--seed"),
        out: Path = OUT,
    ) -> None:
        """TPC-C mix (45/43/4/4/4) through the services and as raw SQL on the same data; tpm, ratio, consistency."""
        from opensupply.bench.common import BenchError

        if db not in ("sqlite", "postgresql"):
            err.print("[red]bench orders: --db must be sqlite or postgresql[/red]")
            raise typer.Exit(2)
        try:
            counts = [int(x) for x in workers.split(",") if x.strip()]
        except ValueError:
            counts = []
        if not counts or min(counts) < 1:
            err.print("[red]bench orders: --workers takes positive integers, e.g. 1 or 1,2,4[/red]")
            raise typer.Exit(2)
        server = database_url or os.environ.get("OPENSUPPLY_BENCH_DATABASE_URL") or os.environ.get(
            "OPENSUPPLY_TEST_DATABASE_URL")
        if db == "postgresql" and not server:
            err.print("[red]bench orders: --db postgresql needs --database-url (a server the user may create "
                      "databases on)[/red]")
            raise typer.Exit(2)

        def rows(on_start):
            from opensupply.bench.tpcc.load import Scale

            for i, n in enumerate(counts):
                scale = Scale(warehouses=warehouses or n, items=items, customers=customers)
                on_start(f"{db} × {n} workers", i, len(counts))
                try:
                    yield run_once(db, server, scale, n, duration, seed, err)
                except BenchError:
                    raise
                except Exception as exc:
                    raise BenchError(f"{type(exc).__name__}: {exc}") from exc

        def summary(results: list[dict]) -> dict:
            first = results[0] if results else {}
            return {"db": db, "workers": counts if len(counts) > 1 else counts[0],
                    "tpm_services": first.get("tpm_services"), "tpm_raw": first.get("tpm_raw"),
                    "ratio": first.get("ratio"), "violations": sum(r["violations"] for r in results),
                    "scale": {"warehouses": warehouses or "one per worker", "items": items,
                              "customers_per_district": customers},
                    "duration_s": duration,
                    "by_workers": {r["workers"]: {"tpm_services": r["tpm_services"], "tpm_raw": r["tpm_raw"],
                                                  "ratio": r["ratio"]} for r in results}}

        _run("orders", rows, duration, out, summary)


def run_once(kind: str, server: str | None, scale, workers: int, duration: float, seed: int, err) -> dict:
    from opensupply import registry
    from opensupply.bench.tpcc import checks, driver, load
    from opensupply.core.db import Database

    registry.import_all_models()
    tmp = tempfile.TemporaryDirectory(prefix="opensupply-bench-orders-")
    drop = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp.name}/bench.db"
    else:
        url, drop = _fresh_pg(server)
    db = Database(url)
    try:
        db.create_all()
        t0 = time.perf_counter()
        setup = load.load(db, scale, seed)
        err.print(f"loaded {len(setup.product_ids)} items × {len(setup.warehouse_ids)} warehouses, "
                  f"{sum(len(v) for v in setup.customers.values())} customers in {time.perf_counter() - t0:.1f} s")
        phases = {}
        violations = {}
        for impl in ("services", "raw"):
            phases[impl] = driver.run(impl, url, setup, workers=workers, duration=duration, seed=seed)
            violations[impl] = checks.verify(db, setup)
            err.print(f"{impl}: {phases[impl]['tpm']} tpm, {len(violations[impl])} violations")
        ts, tr = phases["services"]["tpm"], phases["raw"]["tpm"]
        return {"instance": f"{kind}-w{workers}", "db": kind, "workers": workers, "tpm_services": ts, "tpm_raw": tr,
                "ratio": round(ts / tr, 3) if tr else None, "tpmC_services": phases["services"]["tpmC"],
                "tpmC_raw": phases["raw"]["tpmC"],
                "violations": len(violations["services"]) + len(violations["raw"]),
                "violation_examples": (violations["services"] + violations["raw"])[:5],
                "services": phases["services"], "raw": phases["raw"]}
    finally:
        db.dispose()
        if drop:
            drop()
        tmp.cleanup()


def _fresh_pg(server: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1)
                    if server.startswith("postgresql://") else server)
    name = f"opensupply_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop
