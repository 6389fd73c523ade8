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
from sqlalchemy import text
from sqlalchemy.engine import make_url

from opensupply import registry
from opensupply.core.db import Base, Database, set_database

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
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_database():
    """A database of this test worker's own on the PostgreSQL server, schema created once."""
    db = fresh_pg_database(_worker())
    db.create_all()
    yield db
    db.dispose()


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
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


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
