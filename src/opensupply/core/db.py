"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from .config import get_settings

# Stable constraint names so Alembic migrations are identical on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite has no DECIMAL type; values come back through float rounded to the column
# scale (6 places), which is exact for the magnitudes a company books.
warnings.filterwarnings("ignore", message=".*does \\*not\\* support Decimal objects natively.*")


SQLITE_BUSY_TIMEOUT_MS = 30000  # a writer waits this long for another one before "database is locked"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed transaction survives power loss, not only a process crash.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.close()


def _sqlite_begin(conn):
    # Writers take the lock at BEGIN so two of them never both read-then-upgrade
    # (which SQLite answers with an immediate "database is locked"); read-only
    # units of work begin deferred and never wait for a writer (WAL).
    if conn.get_execution_options().get("readonly"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def write_briefly(engine: Engine, statement, wait_ms: int = 200) -> bool:
    """Run one small bookkeeping write (a "last seen" stamp, a progress figure) in its own
    transaction, waiting at most `wait_ms` for SQLite's write lock. Returns False, having
    written nothing, when the lock stays taken (a long import, or the caller's own open
    transaction): such writes are skipped rather than stalling — or deadlocking — the caller."""
    from sqlalchemy.exc import OperationalError

    try:
        with engine.connect() as conn:
            conn.execution_options(readonly=True)  # deferred BEGIN, so the short wait below applies
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
            try:
                conn.execute(statement)
                conn.commit()
            finally:
                if sqlite:
                    conn.rollback()
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return True
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return False


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@dataclass
class Database:
    url: str

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.url)

    @cached_property
    def side_engine(self) -> Engine:
        """A small pool of its own for short transactions taken while a unit of work holds a
        connection (ordinary document numbers, job progress). Drawn from the main pool, they
        could leave every connection held by a request waiting for a second one, until timeout.
        SQLite has no such limit that matters (one writer at a time), so it shares the engine."""
        if self.url.startswith("sqlite"):
            return self.engine
        return make_engine(self.url, pool_size=5, max_overflow=10)

    @cached_property
    def sessionmaker(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine, expire_on_commit=False)

    @cached_property
    def readonly_sessionmaker(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine.execution_options(readonly=True), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_all(self) -> None:
        import opensupply.registry as registry

        registry.import_all_models()
        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        for name in ("side_engine", "engine"):
            if name in self.__dict__:
                self.__dict__[name].dispose()


_database: Database | None = None


def get_database() -> Database:
    global _database
    if _database is None:
        settings = get_settings()
        if settings.database_url is None:
            settings.ensure_data_dir()
        _database = Database(settings.resolved_database_url)
    return _database


def set_database(db: Database | None) -> None:
    """Point the process at another database (tests, CLI --database)."""
    global _database
    if _database is not None and _database is not db:
        _database.dispose()
    _database = db
