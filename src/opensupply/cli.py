"""The `opensupply` command. Machine-readable output is one JSON object per line on stdout;
progress and human text go to stderr."""

from __future__ import annotations

import json
import os
import sys

import typer
from rich.console import Console

from opensupply.bench.cli import app as bench_app
from opensupply.core.config import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="OpenSupply supply-chain suite")
db_app = typer.Typer(no_args_is_help=True, help="Database schema")
user_app = typer.Typer(no_args_is_help=True, help="Users")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(bench_app, name="bench")
app.add_typer(__import__("opensupply.oms.cli", fromlist=["app"]).app, name="import")
app.add_typer(__import__("opensupply.srm.cli", fromlist=["app"]).app, name="srm")
app.add_typer(__import__("opensupply.erp.planning.cli", fromlist=["app"]).app, name="mrp")
app.add_typer(__import__("opensupply.scm.cli", fromlist=["app"]).app, name="scm")
app.add_typer(__import__("opensupply.erp.sales.cli", fromlist=["app"]).app, name="sales")
err = Console(stderr=True, soft_wrap=True)


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or migrate the schema to the latest version (Alembic)."""
    from opensupply.core.migrate import upgrade

    upgrade(revision)
    emit({"upgraded": revision, "database": _redacted_url()})


def _redacted_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)


@app.command()
def demo(company: str = typer.Option("DEMO", help="code of the demo company")) -> None:
    """Create the demo company with its data and users (idempotent), without serving."""
    from opensupply.core.migrate import upgrade
    from opensupply.demo import seed_demo

    upgrade("head")
    result = seed_demo(company_code=company, progress=err)
    _print_demo_users(result)
    emit({"demo": result["company"], "created": result["created"], "users": [u for u, _ in result["users"]]})


def _print_demo_users(result: dict) -> None:
    if not result["users"]:
        return
    err.print("[bold]演示账号 / demo users[/bold]")
    for username, role in result["users"]:
        err.print(f"  {username:<12} ({role})")
    if result.get("password"):
        err.print(f"  password / 密码: [bold]{result['password']}[/bold]")
    elif result.get("password_hint"):
        err.print(f"  {result['password_hint']}")


@app.command()
def serve(
    demo: bool = typer.Option(False, "--demo", help="create the demo company first (once)"),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1, help="web worker processes (PostgreSQL for more than one)"),
) -> None:
    """Serve the web UI and the REST API."""
    import uvicorn

    from opensupply.core.migrate import upgrade

    upgrade("head")
    from opensupply.core.db import get_database
    from opensupply.core.jobs import fail_stale_jobs

    fail_stale_jobs(get_database())  # in-process jobs of a previous run died with it
    if demo:
        from opensupply.demo import seed_demo

        result = seed_demo(progress=err)
        _print_demo_users(result)
    err.print(f"OpenSupply → http://{host}:{port}/  (login: /login)")
    if workers > 1:
        uvicorn.run("opensupply.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="warning")
    else:
        from opensupply.app import create_app

        uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@app.command()
def worker(poll: float = typer.Option(1.0, help="seconds between polls when idle")) -> None:
    """Run queued background jobs and deliver domain events (any number of these may run)."""
    from opensupply.core import jobs
    from opensupply.core.migrate import upgrade

    upgrade("head")
    jobs.in_process = False
    err.print("worker started; Ctrl+C to stop")
    try:
        jobs.work_forever(poll_seconds=poll)
    except KeyboardInterrupt:
        pass


@user_app.command("create")
def user_create(
    username: str,
    password: str = typer.Option(None, help="password (prompted when omitted)"),
    role: list[str] = typer.Option([], "--role", help="role code (repeatable)"),
    company: str = typer.Option(None, "--company", help="company code (default: the first company)"),
    superuser: bool = typer.Option(False, "--superuser"),
) -> None:
    """Create a user with roles in a company."""
    from sqlalchemy import select

    from opensupply.core import auth
    from opensupply.core.errors import DomainError
    from opensupply.core.migrate import upgrade
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.masterdata.models import Company

    upgrade("head")
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with UnitOfWork(Actor.system()) as uow:
            stmt = select(Company).order_by(Company.id)
            if company:
                stmt = stmt.where(Company.code == company)
            comp = uow.session.scalars(stmt).first()
            if comp is None:
                raise DomainError("no company yet: run `opensupply demo` or create one first")
            auth.ensure_preset_roles(uow)
            user = auth.create_user(uow, username=username, password=password, roles=role,
                                    company_ids=[comp.id], is_superuser=superuser)
            out = {"user": user.username, "id": user.id, "company": comp.code, "roles": role}
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    emit(out)


@app.command()
def advise(answers: str = typer.Option(..., "--answers", help="questionnaire answers, a JSON file ('-' for stdin)")
           ) -> None:
    """Which systems first: prints {"stage", "modules", "next", "reasons", …} for the answers (schema in
    ARCHITECTURE.md §4). Bad answers: the reason on stderr, exit code 2."""
    from opensupply.advisor import rules

    try:
        text = sys.stdin.read() if answers == "-" else open(answers, encoding="utf-8-sig").read()
        data = json.loads(text)
    except OSError as exc:
        err.print(f"[red]无法读取答卷文件：{exc}[/red]")
        raise typer.Exit(2) from None
    except json.JSONDecodeError as exc:
        err.print(f"[red]答卷不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}[/red]")
        raise typer.Exit(2) from None
    try:
        emit(rules.recommend(rules.parse_answers(data)))
    except rules.InvalidAnswers as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@app.command()
def backup(path: str = typer.Argument(..., help="backup file to write (SQLite copy or pg_dump custom format)")
           ) -> None:
    """Back up the whole database, consistently while the application runs."""
    from opensupply.core import backup as bk
    from opensupply.core.db import get_database
    from opensupply.core.errors import DomainError

    try:
        emit(bk.backup(get_database(), path))
    except DomainError as exc:
        err.print(exc.message)
        raise typer.Exit(2) from None


@app.command()
def restore(path: str = typer.Argument(..., help="a file written by `opensupply backup`"),
            replace: bool = typer.Option(False, "--replace", help="overwrite a database that holds data")) -> None:
    """Restore the whole database from a backup (all or nothing); refuses a database with data without --replace."""
    from opensupply.core import backup as bk
    from opensupply.core.db import get_database
    from opensupply.core.errors import DomainError

    try:
        emit(bk.restore(get_database(), path, replace=replace))
    except DomainError as exc:
        err.print(exc.message)
        raise typer.Exit(2) from None


def main() -> None:  # pragma: no cover
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
