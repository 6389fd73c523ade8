"""`opensupply import orders FILE --channel … [--shop NAME]`: one JSON object on stdout, bad rows
named by line (header = 1), exit 2 when rows were rejected, 0 when all were accepted; idempotent."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from opensupply.cli import app
from opensupply.core.db import Database, set_database
from opensupply.core.migrate import upgrade
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata.service import setup_company
from opensupply.oms.models import OmsOrder, OmsShop
from opensupply.oms.samples import write_sample

runner = CliRunner()


def _db(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    set_database(db)
    upgrade("head")
    with UnitOfWork(Actor.system(), db=db) as uow:
        setup_company(uow, code="ACME", name="示例公司")
    return db


def test_import_orders_cli(tmp_path):
    db = _db(tmp_path)
    messy = write_sample("taobao", tmp_path / "tb.csv", orders=15)
    r = runner.invoke(app, ["import", "orders", str(messy), "--channel", "taobao", "--shop", "淘宝旗舰店"])
    assert r.exit_code == 2, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["created"] == 15 and out["updated"] == 0 and out["unchanged"] == 0
    assert out["rejected"]
    assert all(isinstance(e["line"], int) and e["line"] > 1 and e["reason"] for e in out["rejected"])
    again = runner.invoke(app, ["import", "orders", str(messy), "--channel", "taobao", "--shop", "淘宝旗舰店"])
    out2 = json.loads(again.stdout.strip().splitlines()[-1])
    assert (out2["created"], out2["updated"], out2["unchanged"]) == (0, 0, 15)
    assert out2["rejected"] == out["rejected"]

    clean = write_sample("jd", tmp_path / "jd.csv", orders=6, messy=False)
    ok = runner.invoke(app, ["import", "orders", str(clean), "--channel", "jd", "--company", "ACME"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout.strip().splitlines()[-1]) == {"created": 6, "updated": 0, "unchanged": 0,
                                                             "rejected": []}
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(OmsOrder)) == 21
        assert sorted(s.scalars(select(OmsShop.name))) == ["京东", "淘宝旗舰店"]

    assert runner.invoke(app, ["import", "orders", str(clean), "--channel", "ebay"]).exit_code == 2
    assert runner.invoke(app, ["import", "orders", str(tmp_path / "nope.csv"), "--channel", "jd"]).exit_code == 2
    assert runner.invoke(app, ["import", "orders", str(clean), "--channel", "jd", "--company", "NOPE"]).exit_code == 2
    set_database(None)
