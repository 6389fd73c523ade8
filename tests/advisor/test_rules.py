"""The advisor's answers: one case per stage and per pain point, each with the expected modules and a reason
naming the stage or the pain point; refinements by revenue and scale; bad answers refused clearly; the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from opensupply.advisor import rules
from opensupply.cli import app

BASE = {"channels": [], "daily_orders": 0, "skus": 0, "warehouses": 1, "own_production": False, "own_fleet": False,
        "multi_company": False, "pain_points": []}


def advise(**answers) -> dict:
    return rules.recommend({**BASE, **answers})


def test_startup_gets_erp_and_light_crm():
    r = advise(headcount=12, industry="retail", channels=["taobao"], daily_orders=40, skus=120)
    assert r["stage"] == 1 and r["modules"] == ["erp", "crm"]
    assert "起步期" in r["reasons"]["erp"] and "起步期" in r["reasons"]["crm"]
    assert set(r["next"]) == {"oms", "wms"} and all("成长期" in r["next_reasons"][m] for m in r["next"])


def test_growth_adds_orders_and_warehouse():
    r = advise(headcount=80, industry="retail", channels=["taobao", "jd"], daily_orders=800, skus=1200, warehouses=2)
    assert r["stage"] == 2 and r["modules"] == ["erp", "crm", "oms", "wms"]
    assert "成长期" in r["reasons"]["oms"] and "800" in r["reasons"]["oms"] and "成长期" in r["reasons"]["wms"]
    assert r["next"] == ["tms"] and "稳定期" in r["next_reasons"]["tms"]


def test_stable_manufacturer_gets_mes_distributor_gets_tms():
    maker = advise(headcount=220, industry="manufacturing", own_production=True)
    assert maker["stage"] == 3 and "mes" in maker["modules"] and "tms" not in maker["modules"]
    assert "稳定期" in maker["reasons"]["mes"] and "制造" in maker["reasons"]["mes"]
    seller = advise(headcount=300, industry="distribution", warehouses=3)
    assert seller["stage"] == 3 and "tms" in seller["modules"] and "mes" not in seller["modules"]
    assert "稳定期" in seller["reasons"]["tms"] and {"oms", "wms"} <= set(seller["modules"])
    assert set(maker["next"]) == {"plm", "srm", "scm"}


def test_group_gets_plm_srm_scm_on_the_integrated_core():
    r = advise(headcount=600, industry="mixed", own_production=True, multi_company=True)
    assert r["stage"] == 4 and {"erp", "crm", "oms", "wms", "mes", "plm", "srm", "scm"} <= set(r["modules"])
    assert all("集团化" in r["reasons"][m] for m in ("plm", "srm", "scm"))
    assert r["next"] == [] and r["stage_name"] == "集团化"
    assert advise(headcount=1200, industry="retail")["stage"] == 4


@pytest.mark.parametrize(("pain", "module", "extra"), [
    ("order_aggregation", "oms", {}),
    ("picking_errors", "wms", {}),
    ("inventory_inaccuracy", "wms", {}),
    ("late_delivery", "tms", {}),
    ("late_delivery", "mes", {"own_production": True}),
    ("freight_opacity", "tms", {}),
    ("supplier_delivery", "srm", {}),
    ("bom_versions", "plm", {}),
    ("customer_followup", "crm", {}),
    ("books_mismatch", "erp", {}),
])
def test_a_pain_point_pulls_its_module_earlier_with_the_reason(pain, module, extra):
    r = advise(headcount=10, industry="retail", pain_points=[pain], **extra)
    assert r["stage"] == 1 and module in r["modules"]
    label = rules.PAIN_POINTS[pain]
    if module in ("erp", "crm"):  # already on at stage 1: the stage reason stays
        assert "起步期" in r["reasons"][module]
    else:
        assert str(label) in r["reasons"][module]
    for need in rules.PREREQUISITES[module]:  # what it needs comes with it
        assert need in r["modules"] and r["reasons"][need]


def test_prerequisites_come_with_a_pulled_module():
    r = advise(headcount=10, industry="retail", pain_points=["freight_opacity"])
    assert {"tms", "oms", "wms", "erp"} <= set(r["modules"])
    assert "前置" in r["reasons"]["oms"] and "TMS" in r["reasons"]["oms"]


def test_revenue_and_scale_refine_the_answer():
    assert advise(headcount=20, industry="retail", annual_revenue_cny=80_000_000)["stage"] == 2
    assert advise(headcount=100, industry="retail", annual_revenue_cny=600_000_000)["stage"] == 3
    r = advise(headcount=15, industry="retail", channels=["taobao", "tmall", "jd", "pdd"], daily_orders=500)
    assert r["stage"] == 1 and "oms" in r["modules"] and "规模" in r["reasons"]["oms"]
    assert "tms" in advise(headcount=40, industry="mixed", own_fleet=True)["modules"]


@pytest.mark.parametrize(("answers", "message"), [
    ({"headcount": 10, "industry": "retail", "employees": 3}, "未知字段：employees"),
    ({"headcount": 10, "industry": "farming"}, "industry 无效：farming"),
    ({"headcount": 10, "industry": "retail", "channels": ["ebay"]}, "未知渠道：ebay"),
    ({"headcount": 10, "industry": "retail", "pain_points": ["slow_pc"]}, "未知痛点：slow_pc"),
    ({"industry": "retail"}, "缺少必填字段：headcount"),
    ({"headcount": "many", "industry": "retail"}, "headcount 必须是数字"),
    ({"headcount": -3, "industry": "retail"}, "不能为负数"),
    ({"headcount": 10, "industry": "retail", "own_fleet": "yes"}, "true 或 false"),
])
def test_bad_answers_are_refused_with_a_clear_message(answers, message):
    with pytest.raises(rules.InvalidAnswers, match=message):
        rules.parse_answers(answers)


def test_cli_prints_the_recommendation_and_refuses_bad_answers(tmp_path):
    good = tmp_path / "answers.json"
    good.write_text(json.dumps({"headcount": 80, "annual_revenue_cny": 20000000, "industry": "manufacturing",
                                "channels": ["taobao", "tmall", "jd", "pdd", "miniapp", "offline"], "daily_orders": 800,
                                "skus": 1200, "warehouses": 2, "own_production": True, "own_fleet": False,
                                "multi_company": False, "pain_points": ["bom_versions"]}), encoding="utf-8")
    run = CliRunner().invoke(app, ["advise", "--answers", str(good)])
    assert run.exit_code == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["stage"] == 2 and set(out["reasons"]) == set(out["modules"])
    assert {"erp", "crm", "oms", "wms", "plm", "mes"} <= set(out["modules"]) and out["next"] == []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"headcount": 80, "industry": "retail", "colour": "red"}), encoding="utf-8")
    run = CliRunner().invoke(app, ["advise", "--answers", str(bad)])
    assert run.exit_code == 2 and "colour" in run.stderr and run.stdout == ""
