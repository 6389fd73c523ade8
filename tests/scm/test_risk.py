"""Inventory risk computed by hand (T = today; demand = confirmed sales orders of the last 90 days / 90;
default lead time 14 days, overstock > 180 days of cover, slow = no sale in 90 days, dead = no move in 180 days):

    SKU    stock received (unit cost)        demand in 90 d  daily  cover  risk                  at risk
    CUP    100 at T−10 in WH + 40 at T−3 in W2 (30)   450      5     28.0   stockout (lead 30 d)  5×30−140 = 10 → 300
    TOWEL  400 at T−5 (10)                             90      1    400.0   overstock             400−180 = 220 → 2200
    OLD     50 at T−200 (8)                             —      0      —     dead                  50 → 400
    SLOW    20 at T−100 (5), last sale T−120            —      0      —     slow                  20 → 100
    SAFE    30 at T−2 (6), safety stock 40             45    0.5     60.0   stockout (< safety)   40−30 = 10 → 60
    OK      60 at T−1 (2)                              90      1     60.0   ok                    0
    PART   100 at T−50 (3), 45 issued to production T−10 —    0.5    110.0   ok (a component)      0

ABC on 365 days' sales and issues × cost: CUP 13,500 (A), TOWEL 900 (B: 90.0 % before it), SAFE 270, OK 180,
PART 135, SLOW 20, OLD 0 (C).
"""

import datetime as dt
from decimal import Decimal

import pytest

from opensupply.core import resource as rs
from opensupply.core.sequences import company_today
from opensupply.erp.planning.models import PlanningPolicy
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.masterdata import resources
from opensupply.masterdata.models import Warehouse
from opensupply.masterdata.service import ensure_bin, virtual_location
from opensupply.scm import risk
from opensupply.scm.models import ForecastLine, ForecastRun, ForecastSeries
from opensupply.scm.service import shift
from tests import factories as f
from tests.erp.sales.factories import customer
from tests.inventory import factories as fi

D = Decimal


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(4), tzinfo=dt.UTC)  # noon in Shanghai


@pytest.fixture
def store(db):
    s = fi.shop(db)
    ids = {sku: fi.product(s, sku, cost="1") for sku in ("CUP", "TOWEL", "OLD", "SLOW", "SAFE", "OK", "PART")}
    cust = customer(db, s.company)
    with s.uow() as uow:
        today = company_today(uow)
        w2 = rs.create_record(uow, resources.warehouses, {"code": "W2", "name": "广州仓"}).id
        ensure_bin(uow, uow.get(Warehouse, w2), "C-01-01")
        for sku, qty, cost, days, loc in (("CUP", 100, 30, 10, "A-01-01"), ("CUP", 40, 30, 3, "W2/STOCK/C-01-01"),
                                          ("TOWEL", 400, 10, 5, "A-01-01"), ("OLD", 50, 8, 200, "A-01-01"),
                                          ("SLOW", 20, 5, 100, "A-01-01"), ("SAFE", 30, 6, 2, "A-01-01"),
                                          ("OK", 60, 2, 1, "A-01-01"), ("PART", 100, 3, 50, "A-01-01")):
            inv.receive(uow, [inv.StockLine(sku, str(qty), unit_cost=str(cost))], loc,
                        date_done=_at(today - dt.timedelta(days=days)))
        for sku, qty, days in (("CUP", 200, 80), ("CUP", 250, 5), ("TOWEL", 90, 30), ("SLOW", 4, 120),
                               ("SAFE", 45, 89), ("OK", 90, 60)):
            sales.create_sales_order(uow, customer_id=cust, order_date=today - dt.timedelta(days=days), confirm=True,
                                     override_credit=True, override_reason="测试",
                                     lines=[sales.SalesLineIn(product_id=ids[sku], quantity=qty, unit_price="1")])
        inv.post_moves(uow, [inv.MoveSpec(ids["PART"], D(45), s.bin_a, virtual_location(uow, "production").id)],
                       date_done=_at(today - dt.timedelta(days=10)))
        uow.add(PlanningPolicy(product_id=ids["CUP"], lead_time_days=30))
        uow.add(PlanningPolicy(product_id=ids["SAFE"], safety_stock=D(40)))
    s.ids, s.today, s.w2 = ids, today, w2
    return s


def test_risk_by_hand(store):
    with store.uow(readonly=True) as uow:
        data = risk.inventory_risk(uow)
    rows = {r["sku"]: r for r in data["items"]}
    assert data["demand_source"] == "history" and data["total"] == 7
    assert [r["sku"] for r in data["items"]] == ["TOWEL", "OLD", "CUP", "SLOW", "SAFE", "OK", "PART"]
    got = {k: (r["on_hand"], r["daily_demand"], r["cover_days"], r["kind"], r["qty_at_risk"], r["value_at_risk"],
               r["abc"]) for k, r in rows.items()}
    assert got == {
        "CUP": (D(140), D(5), D("28.0"), "stockout", D(10), D(300), "A"),
        "TOWEL": (D(400), D(1), D("400.0"), "overstock", D(220), D(2200), "B"),
        "OLD": (D(50), D(0), None, "dead", D(50), D(400), "C"),
        "SLOW": (D(20), D(0), None, "slow", D(20), D(100), "C"),
        "SAFE": (D(30), D("0.5"), D("60.0"), "stockout", D(10), D(60), "C"),
        "OK": (D(60), D(1), D("60.0"), "ok", D(0), D(0), "C"),
        "PART": (D(55), D("0.5"), D("110.0"), "ok", D(0), D(0), "C")}
    assert rows["PART"]["last_consumed"] == store.today - dt.timedelta(days=10) and rows["PART"]["last_sale"] is None
    assert rows["CUP"]["lead_time_days"] == 30 and rows["OK"]["lead_time_days"] == 14
    assert rows["SLOW"]["last_sale"] == store.today - dt.timedelta(days=120)
    assert rows["OLD"]["last_movement"] == store.today - dt.timedelta(days=200)
    s = data["summary"]
    assert {k: (v["count"], v["value_at_risk"]) for k, v in s["by_kind"].items()} == {
        "dead": (1, D(400)), "slow": (1, D(100)), "stockout": (2, D(360)), "overstock": (1, D(2200)), "ok": (2, D(0))}
    assert s["cover"] == {"0-7": 0, "7-30": 1, "30-90": 2, "90-180": 1, "180+": 1, "none": 2}
    assert s["stock_value"] == D(140 * 30 + 400 * 10 + 50 * 8 + 20 * 5 + 30 * 6 + 60 * 2 + 55 * 3)
    with store.uow(readonly=True) as uow:
        # filters: kind, ABC, search, pagination; the summary still covers every kind
        stock = risk.inventory_risk(uow, kind="stockout")
        assert [r["sku"] for r in stock["items"]] == ["CUP", "SAFE"] and stock["summary"]["skus"] == 7
        assert [r["sku"] for r in risk.inventory_risk(uow, abc="C", limit=2, offset=1)["items"]] == ["SLOW", "SAFE"]
        assert [r["sku"] for r in risk.inventory_risk(uow, q="tow")["items"]] == ["TOWEL"]
        # one warehouse: its stock and its orders only (W2 sold nothing, so its cups are slow)
        w2 = risk.inventory_risk(uow, warehouse_id=store.w2)["items"]
        assert [(r["sku"], r["on_hand"], r["kind"], r["value_at_risk"]) for r in w2] == [
            ("CUP", D(40), "slow", D(1200))]
        # thresholds
        assert {r["sku"]: r["kind"] for r in risk.inventory_risk(uow, overstock_days=500)["items"]}["TOWEL"] == "ok"


def test_an_approved_forecast_drives_daily_demand(store):
    with store.uow() as uow:
        first = store.today.replace(day=1)
        run = uow.add(ForecastRun(number="FC-T", state="approved", bucket="month", horizon=1, history_periods=2,
                                  first_period=first, history_start=shift(first, "month", -2)))
        uow.flush()
        days = (shift(first, "month", 1) - first).days
        series = uow.add(ForecastSeries(run_id=run.id, product_id=store.ids["TOWEL"], model="mean", history=[10, 30]))
        uow.flush()
        uow.add(ForecastLine(run_id=run.id, series_id=series.id, product_id=store.ids["TOWEL"], period_start=first,
                             quantity=D(3 * days)))
    with store.uow(readonly=True) as uow:
        data = risk.inventory_risk(uow)
    rows = {r["sku"]: r for r in data["items"]}
    assert data["demand_source"] == "forecast" and data["forecast_run"]["number"] == "FC-T"
    towel = rows["TOWEL"]
    # 3 a day from the forecast → 133.3 days; safety stock from scm.policy: z(0.95) × std(10, 30) × √1 = 23.26
    assert (towel["daily_demand"], towel["cover_days"], towel["kind"]) == (D(3), D("133.3"), "ok")
    assert towel["safety_stock"] == D("23.26")
    assert rows["CUP"]["daily_demand"] == D(5)  # not in the forecast: its sales history still counts


def test_risk_page_api_and_export(store, db):
    admin = f.user(db, store.company, roles=("admin",))
    api = f.api_client(db, admin)
    body = api.get("/api/v1/scm/risk", params={"kind": "stockout"}).json()
    assert body["total"] == 2 and body["items"][0]["sku"] == "CUP" and body["items"][0]["value_at_risk"] == "300.00"
    assert body["summary"]["by_kind"]["overstock"] == {"count": 1, "value_at_risk": "2200.00", "label": "积压"}
    assert api.get("/api/v1/scm/risk", params={"kind": "nope"}).status_code == 422
    csv = api.get("/api/v1/scm/risk/export", params={"format": "csv"}).content.decode("utf-8-sig")
    assert csv.count("\n") >= 8 and "TOWEL" in csv and "2200" in csv
    web = f.web_client(db, admin)
    page = web.get("/scm/risk")
    assert page.status_code == 200 and "库存风险" in page.text and 'data-sku="TOWEL" data-kind="overstock"' in page.text
    assert "risk-value-chart" in page.text and 'href="/scm/risk"' in web.get("/scm/forecasts").text
    assert 'data-sku="OLD"' in web.get("/scm/risk?kind=dead").text
    assert web.get("/scm/risk?slow_days=0").status_code == 422
    xlsx = web.get("/scm/risk/export?abc=A")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


