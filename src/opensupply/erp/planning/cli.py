"""`opensupply mrp run [--bucket week|day] [--horizon 52] [--company CODE]`: a full MRP regeneration for the
company; stdout: one JSON object {"run", "planned_orders", "late_orders", "levels", "seconds"}.

`opensupply mrp policies-export FILE.xlsx|.csv` and `opensupply mrp policies-import FILE [--dry-run]`: the
planning policies as a spreadsheet. The import is all or nothing; stdout: {"created", "updated", "unchanged",
"rejected": [{"line", "reason"}]}; exit 0 when imported (or checked, with --dry-run), 2 when rejected."""

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
    from opensupply.core.errors import DomainError
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import service as mrp

    db, cid = _company(company)
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


def _company(company: str | None):
    from opensupply.core.db import get_database
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.masterdata.service import find_company_id

    db = get_database()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        cid = find_company_id(uow, company)
    if cid is None:
        sys.stderr.write(f"company not found: {company}\n" if company else "no company yet\n")
        raise typer.Exit(2)
    return db, cid


@app.command("policies-export")
def policies_export(path: str = typer.Argument(..., help="FILE.xlsx or FILE.csv"),
                    company: str = typer.Option(None, "--company", help="company code (default: the first company)"),
                    ) -> None:
    """Write every company-wide planning policy to a spreadsheet (the import's columns)."""
    from pathlib import Path

    from opensupply.core.tabular import write_csv, write_xlsx
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import policy_io

    db, cid = _company(company)
    with UnitOfWork(Actor.system(cid), db=db, readonly=True) as uow:
        header, rows = policy_io.export_table(uow)
    data = write_xlsx(header, rows, "planning-policies") if path.lower().endswith(".xlsx") else write_csv(header, rows)
    Path(path).write_bytes(data)
    sys.stdout.write(json.dumps({"exported": len(rows), "file": path}, ensure_ascii=False) + "\n")


@app.command("policies-import")
def policies_import(path: str = typer.Argument(..., help="CSV or XLSX with a 商品编码 column"),
                    dry_run: bool = typer.Option(False, "--dry-run", help="check the file, change nothing"),
                    company: str = typer.Option(None, "--company", help="company code (default: the first company)"),
                    ) -> None:
    """Create or replace planning policies from a spreadsheet, all rows or none."""
    from pathlib import Path

    from opensupply.core.errors import DomainError
    from opensupply.core.resource import ImportRejected
    from opensupply.core.tabular import read_table
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import policy_io

    db, cid = _company(company)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        sys.stderr.write(f"cannot read {path}: {exc.strerror}\n")
        raise typer.Exit(2) from None
    out = {"created": 0, "updated": 0, "unchanged": 0, "rejected": []}
    try:
        with UnitOfWork(Actor.system(cid), db=db) as uow:
            report = policy_io.import_policies(uow, read_table(path, data), dry_run=dry_run)
        out.update(created=report.created, updated=report.updated, unchanged=report.unchanged)
    except ImportRejected as exc:
        out["rejected"] = [{"line": e["line"], "reason": e["reason"]} for e in exc.report.errors]
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        raise typer.Exit(2) from None
    except DomainError as exc:
        sys.stderr.write(f"{exc.message}\n")
        raise typer.Exit(2) from None
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
