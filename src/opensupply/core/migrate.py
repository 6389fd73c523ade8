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
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
