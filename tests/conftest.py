"""Test databases: every database-facing test runs on SQLite, and on PostgreSQL too when
OPENSUPPLY_TEST_DATABASE_URL points at a server (`.ci/run` starts one).

Each test gets an empty schema: on SQLite a copy of a template file, on PostgreSQL the
tables of a per-worker database truncated. Data is made with the factories in
`tests/factories.py`, never with shared fixtures of everything.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from opensupply import registry
from opensupply.core.db import Base, Database, set_database

# No time limit per example: the suite runs on a shared 2-core CI machine, and a deadline is a timed assertion,
# which belongs in bench/ (speed is measured there), not here — it only made tests flaky under load.
hypothesis_settings.register_profile("opensupply", deadline=None)
hypothesis_settings.load_profile("opensupply")

PG_URL = os.environ.get("OPENSUPPLY_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_configure(config):
    os.environ.setdefault("OPENSUPPLY_SECRET_KEY", "test-secret")


@pytest.fixture(scope="session", autouse=True)
def _data_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("data")
    os.environ["OPENSUPPLY_DATA_DIR"] = str(path)
    from opensupply.core.config import get_settings

    get_settings.cache_clear()
    yield path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.create_all()
    db.dispose()
    return path


def _worker() -> str:
    # two pytest runs on one server (two engineers, two terminals) never share a database: outside xdist the pid
    # tells them apart, under xdist the run's id does (every run has workers gw0, gw1 …)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        return f"{worker}_{os.environ.get('PYTEST_XDIST_TESTRUNUID', '')[:8]}".rstrip("_")
    return f"main{os.getpid()}"


@pytest.fixture(scope="session")
def pg_database():
    """A database of this test worker's own on the PostgreSQL server, schema created once."""
    db = fresh_pg_database(_worker())
    db.create_all()
    yield db
    db.dispose()
    fresh_pg_database(_worker(), drop=True)


def fresh_pg_database(suffix: str, *, drop: bool = False) -> Database:
    """An empty database `<test database name>_<suffix>` on the test server (dropped instead
    when `drop`); skips the test when no server is configured."""
    if not PG_URL:
        pytest.skip("OPENSUPPLY_TEST_DATABASE_URL not set")
    url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{url.database}_{suffix}"
    admin = Database(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return Database(url.set(database=name).render_as_string(hide_password=False))


def _truncate(db: Database) -> None:
    """Empty the tables the previous test wrote to: those holding rows, or whose id sequence moved (a
    rolled-back insert leaves the table empty and the sequence advanced). DELETE with foreign-key triggers
    off (the test server's user is a superuser; warehouse ↔ location reference each other) and sequences
    restarted: a test leaves a few rows in a few dozen tables, and TRUNCATE (new files for every table and
    index) cost ≈ 1 s per test, minutes of the suite; this costs tens of milliseconds."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in tables)
    with db.engine.begin() as conn:
        dirty = set(conn.execute(text(probe)).scalars())
        moved = [s for s in conn.execute(text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() "
            "AND last_value IS NOT NULL")).scalars()]
        names = [n for n in tables if n in dirty]
        try:
            with conn.begin_nested():
                conn.execute(text("SET LOCAL session_replication_role = replica"))
        except DBAPIError:  # not a superuser: TRUNCATE, slower but needs no privilege beyond ownership
            if names:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE"))
        else:
            for name in names:
                conn.execute(text(f'DELETE FROM "{name}"'))
        for seq in moved:
            conn.execute(text(f"ALTER SEQUENCE \"{seq}\" RESTART"))


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path) -> Database:
    """An empty OpenSupply database, made the process-wide default for the test."""
    if request.param == "sqlite":
        path = tmp_path / f"os-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        database = request.getfixturevalue("pg_database")
        _truncate(database)
    registry.import_all_models()
    set_database(database)
    yield database
    set_database(None) if request.param == "sqlite" else None


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template) -> Database:
    """SQLite only: for tests that are about the embedded setup itself (and browser journeys)."""
    path = tmp_path / "os.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    set_database(database)
    yield database
    set_database(None)
