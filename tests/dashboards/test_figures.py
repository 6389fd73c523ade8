"""The dashboards' figures against what a person works out by hand from a small history made through the
services (see factories.py)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from opensupply.core.errors import ValidationFailed
from opensupply.dashboards import service as dash
from opensupply.inventory import service as inv
from opensupply.srm import scorecard as sc
from tests.dashboards import factories as fd

D = Decimal


def test_owner_dashboard_by_hand(db):
    t = fd.trade(db)
    with t.uow(readonly=True) as uow:
        p = dash.period(uow, "custom", *fd.OCT)
        assert (p.prev_from, p.prev_to) == (dt.date(2026, 8, 31), dt.date(2026, 9, 30))  # as long, just before
        d = dash.owner(uow, p)
        now_value = inv.valuation(uow)["total_value"]
    now, before = fd.figures(d), fd.previous(d)
    # sales untaxed: 4 × 50 + (2 × 55 + 5 × 25) = 435; September 1 × 50
    assert (now["revenue"], before["revenue"]) == (D("435.00"), D("50.00"))
    channels = {r["key"]: (r["amount"], r["previous"]) for r in d["charts"]["sales_by_channel"]["channels"]}
    assert channels == {"direct": (D("200.00"), D("50.00")), "tmall": (D("235.00"), 0)}
    # cost: 6 cups × 30 + 5 towels × 18 = 270 → margin 165 (37.9 %); September 50 − 30 = 20 (40.0 %)
    assert (now["gross_margin"], now["gross_margin_pct"]) == (D("165.00"), D("37.9"))
    assert (before["gross_margin"], before["gross_margin_pct"]) == (D("20.00"), D("40.0"))
    pct = next(k for k in d["kpis"] if k["key"] == "gross_margin_pct")
    assert pct["delta"] == D("-2.1")
    # cash: 56.50 received in September, 226.00 more in October
    assert (now["cash"], before["cash"]) == (D("282.50"), D("56.50"))
    # stock: 660 bought on 1 Sep, 30 out in September; October +150 in, 270 out → 510 = the valuation now
    assert (now["stock_value"], before["stock_value"]) == (D("510.00"), D("630.00"))
    assert now["stock_value"] == now_value
    # on time: 华东's October order asked for 11 Oct and left on the 12th; 天猫店's left the day it was ordered
    assert (now["on_time_delivery"], before["on_time_delivery"]) == (D("50.0"), D("100.0"))
    months = {m["month"]: m["revenue"] for m in d["charts"]["monthly_profit"]["months"]}
    assert months["2026-09"] == D("50.00") and months["2026-10"] == D("435.00")


def test_sales_and_purchasing_dashboards_by_hand(db):
    from opensupply.crm import schemas as cs
    from opensupply.crm import service as crm

    t = fd.trade(db)
    with t.uow() as uow:
        crm.create_opportunity(uow, cs.OpportunityIn(name="年框", partner_id=t.east, expected_value=D("3000")))
        big = crm.create_opportunity(uow, cs.OpportunityIn(name="门店", partner_id=t.tmall,
                                                           expected_value=D("5000")))
        crm.set_stage(uow, big.id, "qualified")
        sc.recompute(uow, "2026-10")
        sc.recompute(uow, "2026-09")
    with t.uow(readonly=True) as uow:
        p = dash.period(uow, "custom", *fd.OCT)
        s, pu = dash.sales(uow, p), dash.purchasing(uow, p)
    now, before = fd.figures(s), fd.previous(s)
    assert now["pipeline_value"] == D("8000.00") and now["pipeline_weighted"] == D("1800.00")  # 10 % + 30 %
    assert now["won_value"] == 0
    assert (now["collections"], before["collections"]) == (D("226.00"), D("56.50"))
    # open on 31 Oct: 天猫店's invoice 235 × 1.13 = 265.55, due in 30 days (not yet overdue)
    assert (now["receivable"], now["overdue"]) == (D("265.55"), 0)
    assert [r["stage"] for r in s["charts"]["pipeline"]["stages"]][:2] == ["initial", "qualified"]

    now, before = fd.figures(pu), fd.previous(pu)
    assert (now["received_value"], before["received_value"]) == (D("150.00"), D("660.00"))
    assert now["late_orders"] == 1  # the towels expected 5 Oct
    assert [o["id"] for o in pu["charts"]["late_orders"]["orders"]] == [t.late_po]
    assert pu["charts"]["late_orders"]["orders"][0]["days_late"] == 26
    # October's receipt came two days early; September's order had no expected date (not counted)
    assert now["supplier_on_time"] == D("100.0") and before["supplier_on_time"] is None
    assert [(r["rank"], r["name"]) for r in pu["charts"]["supplier_ranking"]["suppliers"]] == [(1, "宏达")]


def test_production_dashboard_counts_work_orders_and_oee(db):
    from opensupply.mes import calendar
    from opensupply.mes.equipment import set_equipment_status
    from tests.mes import test_oee as oee_case
    from tests.mes.factories import make, plant

    p = plant(db)
    oee_case.early_shift(p)
    with p.uow() as uow:  # the MES OEE case: 450 planned minutes, 300 good of 60 s → OEE 66.67 %
        calendar.assign_shift(uow, work_center="CUT", day=oee_case.DAY, shift="EARLY")
        cut = p.equipment["CUT-01"]
        set_equipment_status(uow, cut, "running", at=oee_case.at(8))
        set_equipment_status(uow, cut, "down", reason="主轴报警", at=oee_case.at(9))
        set_equipment_status(uow, cut, "running", at=oee_case.at(9, 45))
        set_equipment_status(uow, cut, "idle", at=oee_case.at(17))
    make(p, "YS-TOP-120", "2", "TOP-1")  # one done today: 2 good
    oee_case.report(p, "CUT-01", "300", "20", oee_case.at(15))  # one released work order
    with p.uow(readonly=True) as uow:
        day = dash.production(uow, dash.period(uow, "custom", oee_case.DAY, oee_case.DAY))
        month = dash.production(uow, dash.period(uow, "month"))
    machines = {m["code"]: m for m in day["charts"]["oee_by_machine"]["machines"]}
    assert machines["CUT-01"]["oee"] == D("66.7") and machines["CUT-01"]["availability"] == D("90.0")
    states = {s["state"]: s["count"] for s in day["charts"]["work_orders_by_state"]["states"]}
    assert states == {"released": 1, "done": 1}
    now = fd.figures(month)
    assert now["open_work_orders"] == 1
    assert (now["completed_work_orders"], now["qty_good"]) == (1, D(2))


def test_warehouse_dashboard_counts_waves_backlog_and_picks(db):
    from tests.wms.outbound import factories as fo
    from tests.wms.outbound.test_flow import build_and_release, pick_all

    fl = fo.floor(db)
    fo.order(fl, {"YS-CUP-350": 2})
    fo.order(fl, {"YS-TOWEL-01": 1, "YS-MUG-01": 1})
    fo.order(fl, {"YS-MUG-01": 3})
    wid = build_and_release(fl, max_orders=2)
    pick_all(fl, wid)
    with fl.uow(readonly=True) as uow:
        d = dash.warehouse(uow, dash.period(uow, "30d"))
    now = fd.figures(d)
    assert now["waves_created"] == 1 and now["waves_finished"] == 0
    assert now["pick_lines"] == 3  # the two waved orders' three lines
    assert now["backlog_fulfilments"] == 1 and now["backlog_pick_lines"] == 0  # the third order waits
    assert now["lines_per_hour"] == 60.0  # three picks within a few minutes count a minute each
    assert [p["lines"] for p in d["charts"]["pickers"]["pickers"]] == [3]


def test_periods_in_the_company_time_zone(sqlite_db):
    db = sqlite_db
    from opensupply.masterdata.models import Company

    t = fd.trade(db)
    with t.uow() as uow:
        uow.get(Company, t.company).timezone = "America/Los_Angeles"
    with t.uow(readonly=True) as uow:
        p = dash.period(uow, "quarter")
        today = dt.datetime.now(ZoneInfo("America/Los_Angeles")).date()
        assert p.date_to == today and p.date_from.day == 1 and p.date_from.month in (1, 4, 7, 10)
        assert p.bounds[0].utcoffset() == ZoneInfo("America/Los_Angeles").utcoffset(
            dt.datetime.combine(p.date_from, dt.time()))
        m = dash.period(uow, "month")
        assert m.date_from == today.replace(day=1) and m.prev_from.day == 1 and m.prev_from.month != today.month
        d30 = dash.period(uow, "30d")
        assert (d30.date_to - d30.date_from).days == 29 and d30.prev_to == d30.date_from - dt.timedelta(days=1)
        with pytest.raises(ValidationFailed):
            dash.period(uow, "custom", dt.date(2026, 10, 5), dt.date(2026, 10, 1))
        with pytest.raises(ValidationFailed):
            dash.period(uow, "week")
