"""Backup and restore of the whole database with each database's own tool, so a backup is consistent while the
application keeps running and restores exactly:

* SQLite — the online backup API (`sqlite3.Connection.backup`): a page-by-page copy that is a consistent snapshot
  even while other connections write (WAL); restoring copies the file back the same way.
* PostgreSQL — `pg_dump --format=custom` (one consistent snapshot, compressed) and `pg_restore --clean
  --if-exists --single-transaction` (all or nothing: a failed restore leaves the database as it was). Needs the
  `pg_dump`/`pg_restore` of the server's major version on PATH (Debian: package postgresql-client).

Restoring replaces everything in the target database, so it refuses a database that holds data unless asked to
`replace`. Both return a summary: tables and rows counted in what was written or restored."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from .errors import Conflict, ValidationFailed
from .i18n import _


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise ValidationFailed(_("内存数据库不能备份"), field="database")
    return Path(url.database)


def _pg_env(url) -> tuple[list[str], dict]:
    """Connection arguments for the PostgreSQL tools; the password goes through the environment, not argv."""
    args = ["--dbname", url.database or "postgres"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ValidationFailed(_("找不到 {tool}：请安装 PostgreSQL 客户端（Debian：postgresql-client）", tool=name),
                               field="database")
    return path


def _run(cmd: list[str], env: dict) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
    if done.returncode != 0:
        raise ValidationFailed(_("{tool} 失败：{err}", tool=Path(cmd[0]).name,
                                 err=(done.stderr or done.stdout).strip()[-500:]), field="database")


def _sqlite_copy(src: sqlite3.Connection, target: Path) -> None:
    """Copy a whole SQLite database page by page (the online backup API) into the file `target`."""
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def counts(db) -> dict[str, int]:
    """Rows per table of the database (the application's tables and Alembic's)."""
    with db.engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}  # noqa: S608


def backup(db, target: str | Path) -> dict:
    target = Path(target)
    if target.exists() and target.is_dir():
        raise ValidationFailed(_("备份文件不能是目录：{p}", p=target), field="file")
    target.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(db.url)
    tmp = target.with_name(target.name + ".part")  # a crash mid-way never leaves a truncated backup under the name
    tmp.unlink(missing_ok=True)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(sqlite3.connect(_sqlite_path(url)), tmp)
    else:
        args, env = _pg_env(url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(tmp), *args], env)
    os.replace(tmp, target)
    rows = counts(db)
    return {"backup": str(target), "bytes": target.stat().st_size, "tables": len(rows), "rows": sum(rows.values())}


def restore(db, source: str | Path, *, replace: bool = False) -> dict:
    source = Path(source)
    if not source.is_file():
        raise ValidationFailed(_("备份文件不存在：{p}", p=source), field="file")
    url = make_url(db.url)
    existing = counts(db)
    if not replace and any(n for t, n in existing.items() if t != "alembic_version"):
        raise Conflict(_("目标数据库已有数据：恢复会覆盖全部数据，确认请加 --replace"), field="database")
    if url.get_backend_name() == "sqlite":
        with open(source, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise ValidationFailed(_("不是 SQLite 备份文件：{p}", p=source), field="file")
        db.engine.dispose()  # no pooled connection may hold the file while it is replaced
        _sqlite_copy(sqlite3.connect(f"file:{source}?mode=ro", uri=True), _sqlite_path(url))
    else:
        with open(source, "rb") as fh:
            if fh.read(5) != b"PGDMP":
                raise ValidationFailed(_("不是 PostgreSQL 备份文件（pg_dump -Fc）：{p}", p=source), field="file")
        db.engine.dispose()
        args, env = _pg_env(url)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", *args, str(source)], env)
    rows = counts(db)
    return {"restored": str(source), "tables": len(rows), "rows": sum(rows.values())}
