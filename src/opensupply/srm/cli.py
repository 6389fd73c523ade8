"""`opensupply srm remind-expiring [--days 30] [--company CODE]`: the daily certificate-expiry reminder run
(and expiry of price agreements past their end date), for one company or every company with SRM on — meant
for cron / a systemd timer. stdout: one JSON object per company `{"company", "reminders", "contracts_expired"}`."""

from __future__ import annotations

import json
import sys

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Supplier management (SRM)")


@app.command("remind-expiring")
def remind_expiring(days: int = typer.Option(30, "--days", min=0, max=3650, help="remind this many days ahead"),
                    company: str = typer.Option(None, "--company", help="company code (default: every company)")
                    ) -> None:
    """Create certificate-expiry reminders (once per certificate and expiry date) and expire old contracts."""
    from opensupply.srm.jobs import run_daily

    for row in run_daily(days=days, company_code=company):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    sys.stdout.flush()
