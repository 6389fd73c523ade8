"""`opensupply mrp run [--bucket week|day] [--horizon 52] [--company CODE]`: a full MRP regeneration for the
company; stdout: one JSON object {"run", "planned_orders", "late_orders", "levels", "seconds"}."""

from __future__ import annotations

import json
import sys
import time

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Production planning (MRP)")


@app.command("run")
def run(bucket: str = typer.Option("week", "--bucket", help="week | day"),
        horizon: int = typer.Option(52, "--horizon", min=1, max=730, help="number of buckets"),
        company: str = typer.Option(None, "--company", help="company code (default: the first company)")) -> None:
    """Regenerate planned purchase and work orders (firmed ones are kept)."""
    from opensupply.core.db import get_database
    from opensupply.core.errors import DomainError
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import service as mrp
    from opensupply.masterdata.service import find_company_id

    db = get_database()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        cid = find_company_id(uow, company)
    if cid is None:
        sys.stderr.write(f"company not found: {company}\n" if company else "no company yet\n")
        raise typer.Exit(2)
    t0 = time.perf_counter()
    try:
        with UnitOfWork(Actor.system(cid), db=db) as uow:
            r = mrp.run_mrp(uow, bucket=bucket, horizon=horizon)
            out = {"run": r.number, "planned_orders": r.planned_orders, "late_orders": r.late_orders,
                   "levels": r.levels}
    except DomainError as exc:
        sys.stderr.write(f"{exc.message}\n")
        raise typer.Exit(2) from None
    out["seconds"] = round(time.perf_counter() - t0, 3)
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
