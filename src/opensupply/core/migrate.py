"""Running Alembic from code, for `opensupply db upgrade` and for every command that needs the schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from .db import get_database

ROOT = Path(__file__).resolve().parents[3]


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    return cfg


def upgrade(revision: str = "head") -> None:
    db = get_database()
    cfg = alembic_config()
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a column by copying the table and dropping the old one, which referencing
            # rows would refuse; the keys are switched off for the copy and checked afterwards instead.
            # (The pragma is a no-op inside a transaction, so it goes first.)
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # not through a transaction
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left {len(broken)} rows with broken references: {broken[:5]}")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
