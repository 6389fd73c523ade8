"""`opensupply sales batch-invoice [--customer C] [--channel taobao] [--from DATE] [--to DATE] [--type normal|special]
[--date DATE] [--dry-run] [--company CODE]`: 批量开票 from the command line (a month-end cron, a script after the
platform's settlement). With `--dry-run` it prints the preview and writes nothing; otherwise it invoices every
delivered, not yet invoiced order of the filter, all or nothing (erp/sales/batch_invoicing.py). stdout: one JSON
object (`{"count", "amount_total", "invoices": [...], "skipped": [...]}`, or the preview's `orders`/`blocked`);
a refused batch: the reason on stderr (and each order that cannot be invoiced), exit code 2."""

from __future__ import annotations

import datetime as dt
import json
import sys

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Sales (order-to-cash)")


def _day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        sys.stderr.write(f"{name}: not a date (YYYY-MM-DD): {value}\n")
        raise typer.Exit(2) from None


@app.command("batch-invoice")
def batch_invoice(customer: str = typer.Option(None, "--customer", help="customer id, code or name"),
                  channel: str = typer.Option(None, "--channel", help="taobao, tmall, jd, direct …"),
                  date_from: str = typer.Option(None, "--from", help="order date from (YYYY-MM-DD)"),
                  date_to: str = typer.Option(None, "--to", help="order date to (YYYY-MM-DD)"),
                  invoice_type: str = typer.Option("normal", "--type", help="normal (普票) | special (专票)"),
                  invoice_date: str = typer.Option(None, "--date", help="invoice date (default: today)"),
                  dry_run: bool = typer.Option(False, "--dry-run", help="print what would be invoiced, write nothing"),
                  company: str = typer.Option(None, "--company", help="company code (default: the first company)")
                  ) -> None:
    """Invoice every delivered, not yet invoiced sales order of the filter, one invoice each."""
    from opensupply.core.db import get_database
    from opensupply.core.errors import DomainError
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.sales import batch_invoicing as batch
    from opensupply.erp.sales import schemas as s
    from opensupply.masterdata.service import find_company_id

    flt = batch.BatchFilter(customer=customer, channel=channel, date_from=_day(date_from, "--from"),
                            date_to=_day(date_to, "--to"))
    day = _day(invoice_date, "--date")
    db = get_database()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        cid = find_company_id(uow, company)
    if cid is None:
        sys.stderr.write(f"company not found: {company}\n" if company else "no company yet\n")
        raise typer.Exit(2)
    try:
        with UnitOfWork(Actor.system(cid), db=db, readonly=dry_run) as uow:
            if dry_run:
                out = s.batch_out(batch.preview_batch(uow, flt, invoice_type=invoice_type, invoice_date=day))
            else:
                out = s.batch_out(batch.invoice_batch(uow, flt, invoice_type=invoice_type, invoice_date=day))
    except DomainError as exc:
        sys.stderr.write(f"{exc.message}\n")
        for problem in getattr(exc, "problems", ()):
            sys.stderr.write(f"  {problem['order_number']}: {problem['reason']}\n")
        raise typer.Exit(2) from None
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
