"""`opensupply scm distribution [--lookback-days 90] [--cover-days 30] [--min-qty 1] [--company CODE]`: the
multi-warehouse transfer proposals of the company (computed, nothing booked); stdout: one JSON object per
proposal {"sku", "from", "to", "quantity", "reason"}, then {"summary": {...}}. Thin: `scm.distribution`."""

from __future__ import annotations

import json
import sys

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Supply chain planning")


@app.command("distribution")
def distribution_cmd(lookback_days: int = typer.Option(90, "--lookback-days", help="days of sales history"),
                     cover_days: int = typer.Option(30, "--cover-days", help="days of demand each warehouse holds"),
                     min_qty: int = typer.Option(1, "--min-qty", help="smallest transfer proposed"),
                     company: str = typer.Option(None, "--company", help="company code (default: the first)")
                     ) -> None:
    """Transfer proposals between warehouses: surplus above target to warehouses below it."""
    from opensupply.core.db import get_database
    from opensupply.core.errors import DomainError
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.inventory.service import fmt_qty
    from opensupply.masterdata.service import find_company_id

    from . import distribution

    db = get_database()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        cid = find_company_id(uow, company)
    if cid is None:
        sys.stderr.write(f"company not found: {company}\n" if company else "no company yet\n")
        raise typer.Exit(2)
    try:
        with UnitOfWork(Actor.system(cid), db=db, readonly=True) as uow:
            data = distribution.plan(uow, lookback_days=lookback_days, cover_days=cover_days, min_qty=min_qty)
    except DomainError as exc:
        sys.stderr.write(f"{exc.message}\n")
        raise typer.Exit(2) from None
    for p in data["proposals"]:
        sys.stdout.write(json.dumps({"sku": p["sku"], "from": p["from_warehouse"], "to": p["to_warehouse"],
                                     "quantity": str(p["quantity"]), "distance_km": p["distance_km"],
                                     "reason": p["reason"]}, ensure_ascii=False) + "\n")
    s = distribution.summary(data)
    sys.stdout.write(json.dumps({"summary": {k: v if isinstance(v, int) else fmt_qty(v) for k, v in s.items()}},
                                ensure_ascii=False) + "\n")
