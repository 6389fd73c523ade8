"""`opensupply import orders FILE --channel … [--shop NAME] [--company CODE]`.

stdout: one JSON object `{"created", "updated", "unchanged", "rejected": [{"line", "reason"}]}`
(counts are channel orders; lines are file lines, header = line 1). stderr: progress.
Exit 0 when every row was accepted, 2 when some rows were rejected (the others are imported)
or the import could not run (unknown channel, missing file, no company).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from opensupply.oms.models import CHANNELS

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Import data (orders from sales channels)")
err = Console(stderr=True, soft_wrap=True)


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def _fail(message: str) -> None:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(2)


@app.command("orders")
def orders(
    file: Path = typer.Argument(..., help="platform order export (CSV or XLSX; GBK/GB18030/UTF-8)"),
    channel: str = typer.Option(..., "--channel", help=" | ".join(CHANNELS)),
    shop: str = typer.Option(None, "--shop", help="shop name (created on first use; default: the channel's name)"),
    company: str = typer.Option(None, "--company", help="company code (default: the first company)"),
    batch: int = typer.Option(2000, "--batch", min=1, help="orders per transaction"),
) -> None:
    """Import a platform's order export; idempotent (importing the same file again changes nothing)."""
    from sqlalchemy import select

    from opensupply.core.db import get_database
    from opensupply.core.errors import DomainError
    from opensupply.core.migrate import upgrade
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.masterdata.models import Company
    from opensupply.oms import intake, shops

    channel = channel.strip().lower()
    if channel not in CHANNELS:
        _fail(f"--channel must be one of: {', '.join(CHANNELS)}")
    if not file.is_file():
        _fail(f"no such file: {file}")
    upgrade("head")
    db = get_database()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        stmt = select(Company.id, Company.code).order_by(Company.id)
        if company:
            stmt = stmt.where(Company.code == company)
        found = uow.session.execute(stmt).first()
    if found is None:
        _fail(f"company not found: {company}" if company else "no company yet: run `opensupply demo` or create one")
    actor = Actor.system(found[0])
    try:
        with UnitOfWork(actor, db=db) as uow:
            shop_id = shops.get_or_create_shop(uow, channel=channel, name=shop).id

        def progress(total: intake.ImportResult, orders_read: int) -> None:
            err.print(f"{orders_read} orders read: {total.created} created, {total.updated} updated, "
                      f"{total.unchanged} unchanged, {len(total.rejected)} rejected")

        result = intake.import_file(db, actor, shop_id, file, channel, batch_size=batch, progress=progress)
    except DomainError as exc:
        _fail(exc.message)
    out = result.as_dict()
    _emit(out)
    if out["rejected"]:
        raise typer.Exit(2)
