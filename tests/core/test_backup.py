"""Backup and restore round trip on SQLite and PostgreSQL: every table's rows after a restore are exactly those at
backup time (changes made since are gone); a database with data is not overwritten without --replace; a file that
is no backup is refused and changes nothing; the CLI prints one JSON line and exits 2 on refusal."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import inspect, text

from opensupply.core import backup as bk
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from tests import factories as f


def _everything(db) -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        out = {}
        for name in sorted(inspect(conn).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
        return out


def _history(db) -> int:
    c = f.company(db)
    f.bin_location(db, c, "A-01-01")
    f.product(db, c, "BK-CUP", name="备份测试杯", cost=Decimal("12.5"))
    f.user(db, c, "backup-admin")
    with UnitOfWork(Actor.system(c), db=db) as uow:
        inv.receive(uow, [inv.StockLine(product="BK-CUP", quantity="40", unit_cost="12.5")], "A-01-01",
                    reference="INIT")
    return c


def test_a_restore_brings_back_every_row_exactly(db, tmp_path):
    c = _history(db)
    before = _everything(db)
    assert before["stock_move"] and before["product"]
    out = bk.backup(db, tmp_path / "opensupply.backup")
    assert out["tables"] == len(before) and out["rows"] == sum(len(v) for v in before.values())
    assert not (tmp_path / "opensupply.backup.part").exists()

    f.product(db, c, "BK-NEW", name="备份后新建")  # changes after the backup …
    with UnitOfWork(Actor.system(c), db=db) as uow:
        inv.receive(uow, [inv.StockLine(product="BK-CUP", quantity="5", unit_cost="12.5")], "A-01-01")
    assert _everything(db) != before

    with pytest.raises(Conflict, match="--replace"):  # … are not overwritten by accident
        bk.restore(db, tmp_path / "opensupply.backup")
    restored = bk.restore(db, tmp_path / "opensupply.backup", replace=True)
    assert restored["rows"] == out["rows"]
    assert _everything(db) == before  # … and are gone after the restore


def test_a_file_that_is_no_backup_is_refused_and_changes_nothing(db, tmp_path):
    _history(db)
    before = _everything(db)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all")
    with pytest.raises(ValidationFailed, match="备份文件"):
        bk.restore(db, junk, replace=True)
    with pytest.raises(ValidationFailed, match="不存在"):
        bk.restore(db, tmp_path / "missing.backup", replace=True)
    assert _everything(db) == before


def test_cli_backup_and_restore(sqlite_db, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from opensupply.cli import app as cli

    _history(sqlite_db)
    monkeypatch.setattr("opensupply.core.db.get_database", lambda: sqlite_db)
    target = tmp_path / "cli.backup"
    r = CliRunner().invoke(cli, ["backup", str(target)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["backup"] == str(target) and target.stat().st_size > 0
    r = CliRunner().invoke(cli, ["restore", str(target)])
    assert r.exit_code == 2 and "--replace" in r.output
    r = CliRunner().invoke(cli, ["restore", str(target), "--replace"])
    assert r.exit_code == 0, r.output and json.loads(r.stdout)["restored"] == str(target)
