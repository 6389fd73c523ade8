"""Safety stock / reorder point formulas by hand, ABC/XYZ classes, and the policy page of a run."""

from __future__ import annotations

import math

import pytest

from opensupply.core.errors import ValidationFailed
from opensupply.scm import policy
from opensupply.scm import service as scm
from tests import factories as f
from tests.erp.sales import factories as fs
from tests.scm.test_forecast_runs import _history


def test_safety_stock_by_hand():
    # d = 100, s_d = 20, L = 2, s_L = 0.5, 95 %: z = 1.6449; sqrt(2·400 + 10000·0.25) = sqrt(3300) = 57.4456
    assert policy.z_value(0.95) == pytest.approx(1.644854, abs=1e-6)
    assert policy.safety_stock(100, 20, 2, 0.5, 0.95) == pytest.approx(1.644854 * math.sqrt(3300), rel=1e-6)
    assert policy.safety_stock(100, 20, 2, 0, 0.95) == pytest.approx(1.644854 * 20 * math.sqrt(2), rel=1e-6)


def test_abc_and_xyz():
    classes = policy.abc_classes({1: 700, 2: 150, 3: 100, 4: 50})
    assert classes == {1: "A", 2: "A", 3: "B", 4: "C"}
    assert policy.xyz_class(10, 2) == "X" and policy.xyz_class(10, 8) == "Y" and policy.xyz_class(10, 15) == "Z"
    assert policy.xyz_class(0, 0) == "Z"


def test_policy_of_a_run_and_page(db):
    s = fs.shop(db)
    _history(db, s, months=12)
    admin = f.user(db, s.company, roles=("admin",))
    with s.uow() as uow:
        run_id = scm.run_forecast(uow, horizon=3, history_periods=12).id
    with s.uow(readonly=True) as uow:
        rows = {r["product_id"]: r for r in policy.inventory_policy(uow, run_id, service_level=0.9, lead_time=2)}
        with pytest.raises(ValidationFailed) as e:
            policy.inventory_policy(uow, run_id, service_level=1.2)
        assert e.value.field == "service_level"
    cup, towel = rows[s.cup], rows[s.towel]
    assert cup["abc"] == "A" and towel["abc"] in ("B", "C")
    assert cup["xyz"] == "X" and towel["xyz"] in ("Y", "Z")
    z = policy.z_value(0.9)
    assert float(cup["safety_stock"]) == pytest.approx(z * float(cup["std"]) * math.sqrt(2), abs=0.02)
    assert float(cup["reorder_point"]) == pytest.approx(float(cup["mean"]) * 2 + float(cup["safety_stock"]), abs=0.02)
    web = f.web_client(db, admin)
    page = web.get(f"/scm/forecasts/{run_id}/policy?service_level=0.9&lead_time=2")
    assert page.status_code == 200 and "YS-CUP-350" in page.text and "安全库存" in page.text
    assert web.get(f"/scm/forecasts/{run_id}/policy?lead_time=-1").status_code == 422
    api = f.api_client(db, admin)
    body = api.get(f"/api/v1/scm/forecasts/{run_id}/policy", params={"service_level": 0.9, "lead_time": 2}).json()
    assert body["total"] == 2 and {i["sku"]: i["safety_stock"] for i in body["items"]}["YS-CUP-350"] == str(
        cup["safety_stock"])
