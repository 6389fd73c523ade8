"""The command line: demo seeding is idempotent and prints JSON lines; users can be created."""

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from opensupply.cli import app
from opensupply.core.auth import User, verify_password
from opensupply.core.db import Database, set_database
from opensupply.masterdata.models import Company, Product

runner = CliRunner()


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_demo_is_idempotent_and_prints_json(tmp_path, monkeypatch):
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    set_database(db)
    monkeypatch.setenv("OPENSUPPLY_DEMO_PASSWORD", "demo-pass-2026")
    from opensupply.core.config import get_settings

    get_settings.cache_clear()
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    out = _json_lines(first.stdout)[-1]
    assert out["demo"] == "DEMO" and out["created"] is True
    assert {"admin", "sales", "buyer", "warehouse", "production", "finance"} <= set(out["users"])
    with db.sessionmaker() as s:
        products = s.scalar(select(func.count()).select_from(Product))
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        assert verify_password(admin.password_hash, "demo-pass-2026")
    assert products > 0

    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    assert _json_lines(second.stdout)[-1]["created"] is False
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Company)) == 1
        assert s.scalar(select(func.count()).select_from(Product)) == products
    get_settings.cache_clear()
    set_database(None)


def test_user_create(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    set_database(db)
    assert runner.invoke(app, ["demo"]).exit_code == 0
    r = runner.invoke(app, ["user", "create", "lihua", "--password", "Li-hua-2026x", "--role", "buyer"])
    assert r.exit_code == 0, r.output
    assert _json_lines(r.stdout)[-1]["user"] == "lihua"
    again = runner.invoke(app, ["user", "create", "lihua", "--password", "Li-hua-2026x"])
    assert again.exit_code == 2
    weak = runner.invoke(app, ["user", "create", "weak", "--password", "123"])
    assert weak.exit_code == 2
    set_database(None)
