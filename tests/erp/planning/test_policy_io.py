"""Planning policies as a spreadsheet: export → import round trip changes nothing; an import names every bad row
with its line number and changes nothing; Chinese or English headings and labels; another company's supplier is
not found; the page's one-row form, import preview/confirm and export; the CLI's JSON and exit codes."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from opensupply.core.resource import ImportRejected
from opensupply.core.tabular import read_table, write_csv
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.planning import policy_io
from opensupply.erp.planning.models import PlanningPolicy
from tests import factories as f
from tests.erp.planning.test_mrp import bike  # noqa: F401  (fixture)
from tests.mes.factories import partner

D = Decimal
HEADER = "商品编码,提前期(天),批量规则,固定批量,经济批量,合并期数,最小订货量,订货倍数,安全库存,自制/外购,首选供应商\n"


def _import(db, company, text: str, *, dry_run=False, username=None):
    actor = f.actor(db, company, username) if username else Actor.system(company)
    with UnitOfWork(actor, db=db) as uow:
        return policy_io.import_policies(uow, read_table("p.csv", text.encode("gb18030")), dry_run=dry_run)


def _policies(db, company) -> dict[str, tuple]:
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        rows, _n = policy_io.policy_rows(uow, limit=1000)
        return {r["sku"]: (r["policy"].lead_time_days, r["policy"].lot_rule, r["policy"].fixed_qty,
                           r["policy"].safety_stock, r["policy"].make_or_buy, r["supplier_code"]) for r in rows}


def test_import_creates_replaces_and_a_replay_changes_nothing(db, bike):  # noqa: F811
    c = bike["company"]
    before = _policies(db, c)
    assert before["FRAME"][1] == "fixed" and before["WHEEL"][5] == "S-LUN"
    text = HEADER + ("FRAME,10,固定批量,40,,,,,5,自制,\n"
                     "TUBE,3,lot_for_lot,,,,100,50,0,外购,S-LUN\n"
                     "WHEEL,7,经济批量,,120,,,,,buy,S-LUN\n")
    report = _import(db, c, text)
    assert (report.created, report.updated, report.unchanged) == (0, 3, 0)  # the fixture made all four
    after = _policies(db, c)
    assert after["FRAME"] == (10, "fixed", D(40), D(5), "make", "")
    assert after["TUBE"] == (3, "lot_for_lot", None, D(0), "buy", "S-LUN")
    assert after["BIKE"] == before["BIKE"]  # not in the file: untouched
    again = _import(db, c, text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    with UnitOfWork(Actor.system(c), db=db, readonly=True) as uow:  # export → import is a no-op
        header, rows = policy_io.export_table(uow)
    exported = write_csv(header, rows).decode("utf-8-sig")
    assert exported.splitlines()[0].startswith("商品编码,提前期(天),批量规则")
    with UnitOfWork(Actor.system(c), db=db) as uow:
        replay = policy_io.import_policies(uow, read_table("x.csv", exported.encode()))
    assert (replay.created, replay.updated, replay.unchanged) == (0, 0, 4)


@f.SQLITE_ONLY
def test_every_bad_row_is_named_and_nothing_changes(db, bike):  # noqa: F811
    c = bike["company"]
    other = f.company(db)
    partner(db, other, "S-ELSE", "别家的供应商", is_supplier=True)
    f.product(db, c, "SEAT")
    f.product(db, c, "BELL")
    before = _policies(db, c)
    text = HEADER + ("FRAME,10,固定批量,,,,,,,,\n"            # line 2: fixed without a quantity
                     "NOPE,1,,,,,,,,,\n"                      # line 3: unknown product
                     "TUBE,-1,,,,,,,,,\n"                     # line 4: negative lead time
                     "WHEEL,2,月批,,,,,,,,\n"                  # line 5: unknown rule
                     "BIKE,2,,,,,,,,,S-ELSE\n"                # line 6: another company's supplier
                     "FRAME,2,,,,,,,,,\n"                     # line 7: FRAME again
                     "SEAT,2,周期批量,,,,,,,,\n"               # line 8: poq without periods
                     "BELL,2,,,,,,abc,,,\n")                  # line 9: not a number
    with pytest.raises(ImportRejected) as info:
        _import(db, c, text)
    lines = {e["line"]: e["reason"] for e in info.value.report.errors}
    assert sorted(lines) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert "固定批量" in lines[2] and "NOPE" in lines[3] and "非负整数" in lines[4] and "月批" in lines[5]
    assert "S-ELSE" in lines[6] and "第 2 行" in lines[7] and "合并期数" in lines[8] and "abc" in lines[9]
    assert _policies(db, c) == before
    with pytest.raises(Exception, match="商品编码"):
        _import(db, c, "SKU码,提前期\nFRAME,1\n")


@f.SQLITE_ONLY
def test_english_headings_and_a_dry_run(db, bike):  # noqa: F811
    c = bike["company"]
    text = "SKU,Lead time (days),Lot rule\nTUBE,4,Lot for lot\n"
    report = _import(db, c, text, dry_run=True)
    assert report.updated == 1 and _policies(db, c)["TUBE"][0] == 0


@f.SQLITE_ONLY
def test_pages_form_import_preview_confirm_and_export(db, bike):  # noqa: F811
    c = bike["company"]
    web = f.web_client(db, f.user(db, c, roles=("admin",)))
    page = web.get("/erp/planning/policies", params={"q": "WHEEL"})
    assert page.status_code == 200 and "S-LUN" in page.text and "经济批量" in page.text
    assert 'data-sku="FRAME"' not in page.text
    token = f.csrf(web)
    r = web.post("/erp/planning/policies", data={"csrf_token": token, "sku": "TUBE", "lead_time_days": "6",
                                                 "lot_rule": "fixed", "fixed_qty": ""})
    assert "固定批量规则需要填写固定批量" in web.get(r.headers["location"]).text
    r = web.post("/erp/planning/policies", data={"csrf_token": token, "sku": "TUBE", "lead_time_days": "6",
                                                 "lot_rule": "fixed", "fixed_qty": "500",
                                                 "preferred_supplier": "S-LUN"})
    assert "已保存 TUBE 的计划参数" in web.get(r.headers["location"]).text
    assert _policies(db, c)["TUBE"][:3] == (6, "fixed", D(500))

    csv = web.get("/erp/planning/policies/export", params={"format": "csv"}).content
    upload = csv.decode("utf-8-sig").replace("TUBE,6,", "TUBE,8,").encode("utf-8")
    r = web.post("/erp/planning/policies/import", data={"csrf_token": token},
                 files={"file": ("policies.csv", upload, "text/csv")})
    assert r.status_code == 200 and "预览：新建 0 条，更新 1 条，不变 3 条" in r.text
    assert _policies(db, c)["TUBE"][0] == 6  # a preview changes nothing
    upload_token = re.search(r'name="token" value="([0-9a-f]+)"', r.text).group(1)
    r = web.post("/erp/planning/policies/import", data={"csrf_token": token, "token": upload_token})
    assert r.status_code == 303 and _policies(db, c)["TUBE"][0] == 8
    bad = web.post("/erp/planning/policies/import", data={"csrf_token": token},
                   files={"file": ("p.csv", (HEADER + "NOPE,1,,,,,,,,,\n").encode(), "text/csv")})
    assert bad.status_code == 422 and "NOPE" in bad.text
    assert web.get("/erp/planning/policies/import/template").text.lstrip("\ufeff").startswith("商品编码")

    pol = _policy_id(db, c, "TUBE")
    assert web.post(f"/erp/planning/policies/{pol}/delete", data={"csrf_token": token}).status_code == 303
    assert "TUBE" not in _policies(db, c)
    sales = f.web_client(db, f.user(db, c, roles=("sales",)))
    assert sales.get("/erp/planning/policies").status_code == 403


def _policy_id(db, company, sku) -> int:
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        return next(r["id"] for r in policy_io.policy_rows(uow, q=sku)[0] if r["sku"] == sku)


@f.SQLITE_ONLY
def test_api_and_cli(db, bike, tmp_path, monkeypatch):  # noqa: F811
    from typer.testing import CliRunner

    from opensupply.cli import app as cli

    c = bike["company"]
    api = f.api_client(db, f.user(db, c, roles=("admin",)))
    r = api.get("/api/v1/erp/planning-policies/export", params={"format": "csv"})
    assert r.status_code == 200 and "S-LUN" in r.text
    r = api.post("/api/v1/erp/planning-policies/import", params={"dry_run": "true"},
                 files={"file": ("p.csv", (HEADER + "NOPE,1,,,,,,,,,\n").encode(), "text/csv")})
    assert r.status_code == 422 and r.json()["error"]["rows"][0]["line"] == 2

    monkeypatch.setattr("opensupply.core.db.get_database", lambda: db)
    out = tmp_path / "policies.xlsx"
    res = CliRunner().invoke(cli, ["mrp", "policies-export", str(out)])
    assert res.exit_code == 0, res.output and json.loads(res.stdout)["exported"] == 4
    res = CliRunner().invoke(cli, ["mrp", "policies-import", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"created": 0, "updated": 0, "unchanged": 4, "rejected": []}
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "FRAME,1,,,,,,,,,\nNOPE,1,,,,,,,,,\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["mrp", "policies-import", str(bad)])
    assert res.exit_code == 2 and [e["line"] for e in json.loads(res.stdout)["rejected"]] == [3]
    with UnitOfWork(Actor.system(c), db=db, readonly=True) as uow:
        assert uow.session.query(PlanningPolicy).filter_by(company_id=c).count() == 4
