"""The database underneath: SQLite settings for durability and concurrency, and the migrations."""

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text, update

from opensupply import registry
from opensupply.core import migrate
from opensupply.core.auth import AuthSession
from opensupply.core.db import Base, Database, set_database
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import ProductCategory
from tests import factories as f
from tests.conftest import fresh_pg_database


def test_sqlite_connections_are_durable_and_wait_for_locks(sqlite_db):
    with sqlite_db.engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL: a commit survives a power cut
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000  # writers queue instead of failing at once


@contextmanager
def write_lock_held(db, company_id: int, code: str):
    """Another thread writes a category and keeps its transaction open (SQLite's one write lock)."""
    writing, release = threading.Event(), threading.Event()

    def long_writer():
        with UnitOfWork(f.system(company_id), db=db) as uow:
            uow.add(ProductCategory(code=code, name="未提交"))
            uow.flush()
            writing.set()
            release.wait(20)

    with ThreadPoolExecutor(1) as pool:
        holder = pool.submit(long_writer)
        assert writing.wait(5)
        try:
            yield
        finally:
            release.set()
            holder.result(timeout=5)


def test_read_only_unit_of_work_does_not_wait_for_a_writer(sqlite_db):
    c = f.company(sqlite_db)

    def read_categories():
        with UnitOfWork(f.system(c), db=sqlite_db, readonly=True) as uow:
            return list(uow.session.scalars(select(ProductCategory.code)))

    def other_writer():
        with UnitOfWork(f.system(c), db=sqlite_db) as uow:
            uow.add(ProductCategory(code="LATER", name="等待"))

    with ThreadPoolExecutor(2) as pool:
        with write_lock_held(sqlite_db, c, "NEW"):
            blocked = pool.submit(other_writer)
            with pytest.raises(FutureTimeout):
                blocked.result(timeout=0.3)  # the write lock really is held
            assert pool.submit(read_categories).result(timeout=3) == []  # the reader neither waits nor sees it
        blocked.result(timeout=10)
    with UnitOfWork(f.system(c), db=sqlite_db, readonly=True) as uow:
        assert sorted(uow.session.scalars(select(ProductCategory.code))) == ["LATER", "NEW"]


# ----------------------------------------------------------------- migrations
@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path):
    """A database with no tables at all, for `alembic upgrade head` to build."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield database
        database.dispose()
        return
    suffix = f"migrate_{uuid.uuid4().hex[:6]}"
    database = fresh_pg_database(suffix)
    try:
        yield database
    finally:
        database.dispose()
        fresh_pg_database(suffix, drop=True)


def _upgrade(database: Database) -> None:
    set_database(database)
    try:
        migrate.upgrade()
    finally:
        set_database(None)


def test_upgrade_head_builds_an_empty_database(empty_db):
    _upgrade(empty_db)
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    with empty_db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
        assert conn.execute(text("SELECT count(*) FROM auth_user")).scalar() == 0
    _upgrade(empty_db)  # running it again is harmless


def test_migrated_schema_matches_the_models(empty_db):
    _upgrade(empty_db)
    registry.import_all_models()
    with empty_db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_reading_requests_do_not_queue_behind_a_long_write(sqlite_db):
    """An import holding SQLite's write lock must not freeze every page and API read."""
    c = f.company(sqlite_db)
    user = f.user(sqlite_db, c)
    api, web = f.api_client(sqlite_db, user), f.web_client(sqlite_db, user)
    with sqlite_db.engine.begin() as conn:  # due for its once-a-minute "last seen" touch
        conn.execute(update(AuthSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=5)))
    with ThreadPoolExecutor(1) as pool, write_lock_held(sqlite_db, c, "IMPORT"):
        for client, path in ((api, "/api/v1/me"), (api, "/api/v1/jobs"), (web, "/jobs"), (web, "/")):
            r = pool.submit(client.get, path).result(timeout=5)
            assert r.status_code == 200, (path, r.text)
