"""Forecast runs from an ERP sales history made through the services: history, lines, override, approval,
publishing, the job, pages in both languages, API and permissions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opensupply.core import jobs
from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.erp.sales import service as sales
from opensupply.scm import service as scm
from opensupply.scm.models import ForecastLine, ForecastSeries
from tests import factories as f
from tests.erp.sales import factories as fs


def _history(db, s, months: int = 24):
    """Monthly confirmed orders of the cup (seasonal) and a few of the towel; one draft and one cancelled order
    that must not count."""
    with s.uow() as uow:
        today = company_today(uow)
        first = scm.period_start(today, "month")
        for k in range(1, months + 1):
            day = scm.shift(first, "month", -k) + dt.timedelta(days=9)
            qty = 10 + (6 if day.month in (11, 12) else 0) + k % 3
            sales.create_sales_order(uow, customer_id=s.customer, order_date=day, confirm=True, override_credit=True,
                                     override_reason="测试", lines=[sales.SalesLineIn(product_id=s.cup, quantity=qty,
                                                                                      unit_price="1")])
            if k % 4 == 0:
                sales.create_sales_order(uow, customer_id=s.customer, order_date=day, confirm=True,
                                         override_credit=True, override_reason="测试",
                                         lines=[sales.SalesLineIn(product_id=s.towel, quantity=2, unit_price="1")])
        day = scm.shift(first, "month", -1) + dt.timedelta(days=2)
        sales.create_sales_order(uow, customer_id=s.customer, order_date=day,
                                 lines=[sales.SalesLineIn(product_id=s.cup, quantity=500, unit_price="1")])
        gone = sales.create_sales_order(uow, customer_id=s.customer, order_date=day, confirm=True,
                                        override_credit=True, override_reason="测试",
                                        lines=[sales.SalesLineIn(product_id=s.cup, quantity=700, unit_price="1")])
        sales.cancel_sales_order(uow, gone.id, reason="测试")
    return first


@pytest.fixture
def shop(db):
    s = fs.shop(db)
    _history(db, s)
    return s


def _series(uow, run_id):
    return {x.product_id: x for x in uow.session.query(ForecastSeries).filter_by(run_id=run_id)}


def test_run_forecast_builds_history_and_lines(db, shop):
    with shop.uow() as uow:
        run = scm.run_forecast(uow, bucket="month", horizon=6, history_periods=24)
        assert run.state == "done" and run.series_count == 2 and run.number.startswith("FC")
        series = _series(uow, run.id)
        cup = series[shop.cup]
        assert len(cup.history) == 24 and sum(cup.history) == pytest.approx(float(cup.history_total))
        # draft and cancelled orders are not demand
        assert max(cup.history) < 30
        assert len(cup.lines) == 6 and all(ln.quantity >= 0 for ln in cup.lines)
        assert cup.lines[0].period_start == run.first_period
        assert cup.model in scm.MODELS and cup.backtest_mase is not None
        assert 8 <= float(cup.lines[0].quantity) <= 25
        towel = series[shop.towel]
        assert towel.model in ("croston", "tsb", "adida", "imapa")
        chart = scm.chart_data(run, cup)
        assert len(chart["periods"]) == 30 and chart["history"][-1] is None and chart["final"][0] is None


def test_override_approve_and_publish(db, shop):
    planner = f.user(db, shop.company, roles=("admin",))
    actor = f.actor(db, shop.company, planner)
    with UnitOfWork(actor, db=db) as uow:
        run = scm.run_forecast(uow, horizon=3, history_periods=24)
        run_id = run.id
        line = _series(uow, run_id)[shop.cup].lines[0]
        line_id = line.id
    with UnitOfWork(actor, db=db) as uow, pytest.raises(ValidationFailed) as e:
        scm.override_line(uow, line_id, quantity="40", reason=" ")
    assert e.value.field == "reason"
    with UnitOfWork(actor, db=db) as uow, pytest.raises(ValidationFailed) as e:
        scm.override_line(uow, line_id, quantity="-1", reason="促销")
    assert e.value.field == "quantity"
    with UnitOfWork(actor, db=db) as uow:
        ln = scm.override_line(uow, line_id, quantity="40", reason="双十一促销")
        assert ln.override_qty == Decimal("40.00") and ln.final_qty == Decimal("40.00")
        assert ln.override_by_id is not None and ln.override_at is not None
        scm.approve_run(uow, run_id)
    with UnitOfWork(actor, db=db) as uow:
        assert uow.get(ForecastLine, line_id).override_reason == "双十一促销"
        with pytest.raises(Conflict):
            scm.approve_run(uow, run_id)

    from opensupply.erp.planning.models import IndependentDemand

    with UnitOfWork(actor, db=db) as uow:
        run = scm.publish_to_mrp(uow, run_id)
        assert run.state == "published" and run.published_rows > 0
    with UnitOfWork(actor, db=db, readonly=True) as uow:
        rows = uow.session.query(IndependentDemand).filter_by(source="scm_forecast").all()
        assert len(rows) == run.published_rows
        cup = sorted((r for r in rows if r.product_id == shop.cup), key=lambda r: r.demand_date)
        assert cup[0].quantity == Decimal("40") and cup[0].demand_date == run.first_period
    # publishing again replaces the rows of that source (no duplicates)
    with UnitOfWork(actor, db=db) as uow:
        scm.publish_to_mrp(uow, run_id)
    with UnitOfWork(actor, db=db, readonly=True) as uow:
        assert uow.session.query(IndependentDemand).filter_by(source="scm_forecast").count() == run.published_rows
    # overriding a published run is refused
    with UnitOfWork(actor, db=db) as uow, pytest.raises(Conflict):
        scm.override_line(uow, line_id, quantity="5", reason="x")


def test_permissions_in_services(db):
    company = f.company(db)
    viewer = f.actor(db, company, f.user(db, company, roles=("sales",)))
    with UnitOfWork(viewer, db=db) as uow, pytest.raises(PermissionDenied):
        scm.run_forecast(uow)
    with UnitOfWork(viewer, db=db, readonly=True) as uow, pytest.raises(PermissionDenied):
        scm.list_runs(uow)


def test_background_job_and_pages(db, shop):
    admin = f.user(db, shop.company, roles=("admin",))
    with UnitOfWork(f.actor(db, shop.company, admin), db=db) as uow:
        run = scm.start_forecast(uow, horizon=4, history_periods=24)
        run_id, job_id = run.id, run.job_id
    job = jobs.wait_for(db, job_id, timeout=120)
    assert job.status == jobs.DONE, job.error
    with shop.uow(readonly=True) as uow:
        run = scm.get_run(uow, run_id)
        assert run.state == "done" and run.series_count == 2

    web = f.web_client(db, admin)
    page = web.get("/scm/forecasts")
    assert page.status_code == 200 and "需求预测" in page.text and run.number in page.text
    detail = web.get(f"/scm/forecasts/{run_id}?q=YS-CUP")
    assert detail.status_code == 200 and "YS-CUP-350" in detail.text and "YS-TOWEL-01" not in detail.text
    with shop.uow(readonly=True) as uow:
        cup = _series(uow, run_id)[shop.cup]
        series_id, line_id = cup.id, cup.lines[0].id
    sp = web.get(f"/scm/forecast-series/{series_id}")
    assert sp.status_code == 200 and "forecast-chart" in sp.text and "echarts" in sp.text
    r = web.post(f"/scm/forecast-lines/{line_id}/override",
                 data={"csrf_token": f.csrf(web), "series_id": series_id, "quantity": "33", "reason": "新客户"})
    assert r.status_code == 303
    assert "新客户" in web.get(f"/scm/forecast-series/{series_id}").text
    assert "YS-CUP-350" in web.get(f"/scm/forecasts/{run_id}?overridden=1").text
    web.post("/settings/locale", data={"csrf_token": f.csrf(web), "locale": "en", "next": "/"})
    en = web.get(f"/scm/forecasts/{run_id}")
    assert en.status_code == 200 and "Backtest MASE" in en.text and "回测" not in en.text
    assert "Override reason" in web.get(f"/scm/forecast-series/{series_id}").text

    api = f.api_client(db, admin)
    assert api.get("/api/v1/scm/forecasts").json()["total"] == 1
    items = api.get(f"/api/v1/scm/forecasts/{run_id}/series", params={"model": cup.model}).json()["items"]
    assert [i["sku"] for i in items] == ["YS-CUP-350"]
    one = api.get(f"/api/v1/scm/forecast-series/{series_id}").json()
    assert Decimal(one["lines"][0]["override_qty"]) == 33 and len(one["chart"]["periods"]) == 28
    csv = api.get(f"/api/v1/scm/forecasts/{run_id}/export", params={"format": "csv"})
    assert csv.status_code == 200 and "YS-CUP-350" in csv.text
    xlsx = api.get(f"/api/v1/scm/forecasts/{run_id}/export")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bad = api.post("/api/v1/scm/forecasts", json={"bucket": "day"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "bucket"

    buyer = f.user(db, shop.company, roles=("buyer",))  # the buyer plans from the forecast
    assert f.api_client(db, buyer).get(f"/api/v1/scm/forecasts/{run_id}").status_code == 200
    sales_user = f.user(db, shop.company, roles=("sales",))
    assert f.api_client(db, sales_user).get("/api/v1/scm/forecasts").status_code == 403
    assert f.web_client(db, sales_user).get("/scm/forecasts").status_code in (403, 303)


def test_weekly_bucket(db, shop):
    with shop.uow() as uow:
        run = scm.run_forecast(uow, bucket="week", horizon=8, history_periods=60)
        assert run.first_period.weekday() == 0
        lines = _series(uow, run.id)[shop.cup].lines
        assert len(lines) == 8 and (lines[1].period_start - lines[0].period_start).days == 7
