"""Cost roll-up through the furniture plant of tests/mes, computed by hand:

    top YS-TOP-120, per unit: oak 2 × 1.05 (5 % scrap) × ¥80 = 168, glue 0.1 kg × ¥20 = 2 → material 170
        routing on CUT (¥120/h): 20 min setup + 6 + 4 min per unit
    desk YS-DESK-120, per unit: 1 top + 4 legs × ¥25 = 100 + 16 screws × ¥0.2 = 3.2
        routing on ASM (¥90/h): 10 min setup + 15 + 5 min per unit

    1 desk:   top conversion 30 min × ¥2 = 60 → top 230; desk conversion 30 min × ¥1.5 = 45
              → 230 + 100 + 3.2 + 45 = 378.2
    10 desks: top conversion 120 min × ¥2 = 240 (24 a top) → tops 1,940; desk conversion 210 min × ¥1.5 = 315
              → 1,940 + 1,000 + 32 + 315 = 3,287, i.e. 328.7 a desk
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from opensupply.core.errors import PermissionDenied
from opensupply.plm import costing, eco

from . import factories as pf

D = Decimal


def test_roll_up_matches_the_hand_calculation(db):
    w = pf.world(db)
    desk = w.plant.products["desk"]
    with w.uow(readonly=True) as uow:
        one = costing.roll_up(uow, desk, quantity=1)
        assert one.total_cost == D("378.2") and one.unit_cost == D("378.2")
        assert (one.material_cost, one.conversion_cost) == (D("333.2"), D("45"))
        lines = {ln.sku: ln for ln in one.lines}
        assert lines["YS-TOP-120"].made and lines["YS-TOP-120"].unit_cost == D("230")
        assert lines["YS-TOP-120"].conversion_cost == D("60")
        assert lines["RM-OAK-18"].level == 2 and lines["RM-OAK-18"].quantity == D("2.1")
        assert lines["RM-OAK-18"].total_cost == D("168")
        assert not lines["RM-SCREW-M6"].made and lines["RM-SCREW-M6"].total_cost == D("3.2")
        levels = {lv["level"]: lv for lv in one.as_dict()["levels"]}
        assert levels[1]["bought_cost"] == "103.2" and levels[1]["conversion_cost"] == "60"
        assert levels[2]["bought_cost"] == "170"
        ten = costing.roll_up(uow, desk, quantity=10)
        assert ten.total_cost == D("3287") and ten.unit_cost == D("328.7")


def test_cost_impact_of_an_eco_and_the_api(db):
    w = pf.world(db)
    with w.uow("engineer") as uow:
        eco_id = eco.create_eco(uow, "YS-DESK-120", "螺丝改 20 颗", "加固", lines=[
            {"component": "YS-TOP-120", "quantity": "1"}, {"component": "RM-LEG-72", "quantity": "4"},
            {"component": "RM-SCREW-M6", "quantity": "20"}]).id
    r = w.api("engineer").get(f"/api/v1/plm/ecos/{eco_id}/cost-impact")
    assert r.status_code == 200, r.text
    impact = r.json()
    assert impact["base"]["unit_cost"] == "378.2" and impact["new"]["unit_cost"] == "379"
    assert impact["delta_unit_cost"] == "0.8" and impact["delta_pct"] == "0.21"
    r = w.api("engineer").get("/api/v1/plm/cost-rollup", params={"product": "YS-DESK-120", "quantity": "10"})
    assert r.status_code == 200 and r.json()["unit_cost"] == "328.7" and r.json()["bom_version"] == "V1.0"
    assert w.api("engineer").get("/api/v1/plm/cost-rollup", params={"product": "YS-DESK-120",
                                                                    "quantity": "0"}).status_code == 422
    # costs are shown only to those who may see product costs
    assert w.api("viewer").get(f"/api/v1/plm/ecos/{eco_id}/cost-impact").status_code == 403
    with w.uow("viewer", readonly=True) as uow, pytest.raises(PermissionDenied):
        costing.roll_up(uow, w.plant.products["desk"])
    html = w.web("engineer").get(f"/plm/ecos/{eco_id}").text
    assert "379.00" in html and "378.20" in html and "delta-up" in html
    assert "没有查看成本的权限" in w.web("viewer").get(f"/plm/ecos/{eco_id}").text
