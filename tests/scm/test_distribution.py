"""Multi-warehouse distribution planning computed by hand (lookback 90 days, cover 30 days, no safety stock,
no forecast; daily demand = the warehouse's sales of the last 90 days / 90; target = daily × 30):

    warehouse (province)   CUP sold  daily target stock → surplus/shortage   TOWEL sold daily target stock → ±
    WH  杭州 (浙江)           270      3     90     200   +110                    90    1     30     60    +30
    W2  广州 (广东)           180      2     60      20   −40                      0    0      0     45    +45
    W3  成都 (四川)            90      1     30       0   −30                    180    2     60     10    −50

CUP: only WH has surplus → WH→W2 40, WH→W3 30 (WH keeps 130 ≥ 90).
TOWEL: W3 needs 50; W2 (广州→成都 ≈ 1,240 km) is nearer than WH (杭州→成都 ≈ 1,660 km), so W2→W3 45 (all of
W2's surplus) and WH→W3 5. With a minimum transfer of 10, WH→W3 5 is not proposed: W2→W3 45 only.
Regions of CUP (ship-to provinces): 浙江 50 %, 广东 33.3 %, 四川 16.7 %.
"""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.audit import AuditLog
from opensupply.core.errors import Conflict
from opensupply.core.sequences import company_today
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.inventory import stock_stats
from opensupply.masterdata import resources
from opensupply.masterdata.models import Warehouse
from opensupply.masterdata.service import ensure_bin
from opensupply.scm import distribution
from tests import factories as f
from tests.erp.sales.factories import customer
from tests.inventory import factories as fi

D = Decimal


@pytest.fixture
def net(db):
    s = fi.shop(db)
    ids = {sku: fi.product(s, sku, cost="10") for sku in ("CUP", "TOWEL")}
    custs = {prov: customer(db, s.company, code=f"C-{i}", name=f"客户{i}", province=prov)
             for i, prov in enumerate(("浙江省", "广东省", "四川省"))}
    with s.uow() as uow:
        today = company_today(uow)
        wh = uow.session.scalars(select(Warehouse).where(Warehouse.company_id == s.company)).one()
        wh.province = "浙江省"
        whs = {"WH": wh.id}
        for code, name, prov, bin_code in (("W2", "广州仓", "广东省", "C-01-01"),
                                           ("W3", "成都仓", "四川省", "D-01-01")):
            w = rs.create_record(uow, resources.warehouses, {"code": code, "name": name, "province": prov})
            ensure_bin(uow, uow.get(Warehouse, w.id), bin_code)
            whs[code] = w.id
        # the orders were shipped (history, nothing reserved); then the stock on hand arrives
        for sku, wh_code, prov, qty, days in (("CUP", "WH", "浙江省", 270, 10), ("CUP", "W2", "广东省", 180, 20),
                                              ("CUP", "W3", "四川省", 90, 30), ("TOWEL", "WH", "浙江省", 90, 40),
                                              ("TOWEL", "W3", "四川省", 180, 50), ("CUP", "W2", "广东省", 999, 100)):
            stock = uow.get(Warehouse, whs[wh_code]).stock_location_id
            inv.receive(uow, [inv.StockLine(sku, str(qty), unit_cost="10")], stock)
            so = sales.create_sales_order(uow, customer_id=custs[prov], order_date=today - dt.timedelta(days=days),
                                          warehouse_id=whs[wh_code], confirm=True, override_credit=True,
                                          override_reason="测试",
                                          lines=[sales.SalesLineIn(product_id=ids[sku], quantity=qty, unit_price="1")])
            sales.deliver(uow, so.id)
        for sku, qty, loc in (("CUP", 200, "A-01-01"), ("CUP", 20, "W2/STOCK/C-01-01"), ("TOWEL", 60, "A-01-01"),
                              ("TOWEL", 45, "W2/STOCK/C-01-01"), ("TOWEL", 10, "W3/STOCK/D-01-01")):
            inv.receive(uow, [inv.StockLine(sku, str(qty), unit_cost="10")], loc)
    s.ids, s.whs, s.today = ids, whs, today
    return s


def _stock(s, sku: str, wh: str) -> tuple[Decimal, Decimal]:
    with s.uow(readonly=True) as uow:
        return stock_stats.stock_by_warehouse(uow).get((s.whs[wh], s.ids[sku]), (D(0), D(0)))


def test_distribution_by_hand(net):
    with net.uow(readonly=True) as uow:
        data = distribution.plan(uow)
    skus = {s["sku"]: s for s in data["skus"]}
    pos = {(sku, r["warehouse"]): (r["demand"], r["daily_demand"], r["target"], r["available"], r["surplus"],
                                   r["shortage"]) for sku, s in skus.items() for r in s["rows"]}
    assert pos == {
        ("CUP", "WH"): (D(270), D(3), D(90), D(200), D(110), D(0)),
        ("CUP", "W2"): (D(180), D(2), D(60), D(20), D(0), D(40)),
        ("CUP", "W3"): (D(90), D(1), D(30), D(0), D(0), D(30)),
        ("TOWEL", "WH"): (D(90), D(1), D(30), D(60), D(30), D(0)),
        ("TOWEL", "W2"): (D(0), D(0), D(0), D(45), D(45), D(0)),
        ("TOWEL", "W3"): (D(180), D(2), D(60), D(10), D(0), D(50))}
    assert [(p, round(float(sh), 3)) for p, _q, sh in skus["CUP"]["regions"]] == [
        ("浙江", 0.5), ("广东", 0.333), ("四川", 0.167)]
    got = [(p["sku"], p["from_warehouse"], p["to_warehouse"], p["quantity"]) for p in data["proposals"]]
    assert sorted(got) == sorted([("CUP", "WH", "W2", D(40)), ("CUP", "WH", "W3", D(30)),
                                  ("TOWEL", "W2", "W3", D(45)), ("TOWEL", "WH", "W3", D(5))])
    # a source never goes below its own target
    for s in data["skus"]:
        rows = {r["warehouse_id"]: r for r in s["rows"]}
        for wid, r in rows.items():
            out = sum((p["quantity"] for p in data["proposals"]
                       if p["product_id"] == s["product_id"] and p["from_warehouse_id"] == wid), D(0))
            assert out == 0 or r["available"] - out >= r["target"]
    s = distribution.summary(data)
    assert (s["proposals"], s["transfer_qty"], s["shortage_qty"], s["uncovered_qty"]) == (4, D(120), D(120), D(0))
    with net.uow(readonly=True) as uow:
        big = distribution.plan(uow, min_qty=10)["proposals"]
        assert [(p["sku"], p["from_warehouse"], p["to_warehouse"], p["quantity"]) for p in big
                if p["sku"] == "TOWEL"] == [("TOWEL", "W2", "W3", D(45))]
        # a longer cover: CUP's WH target 3 × 60 = 180 leaves 20 to give; W2 and W3 need 100 and 60
        longer = distribution.plan(uow, cover_days=60)["proposals"]
        assert sum(p["quantity"] for p in longer if p["sku"] == "CUP") == D(20)
        page = distribution.distribution(uow, q="towel", warehouse_id=net.whs["W2"])
        assert page["total"] == 1 and page["items"][0]["quantity"] == D(45)


def test_apply_moves_stock_and_a_stale_proposal_is_refused(net):
    with net.uow() as uow:
        out = distribution.apply_transfer(uow, product_id=net.ids["CUP"], from_warehouse_id=net.whs["WH"],
                                          to_warehouse_id=net.whs["W2"], quantity="40", expected_available="200")
    assert _stock(net, "CUP", "WH") == (D(160), D(160)) and _stock(net, "CUP", "W2") == (D(60), D(60))
    with net.uow(readonly=True) as uow:
        assert inv.check_ledger(uow) == []
        audit = uow.session.scalars(select(AuditLog).where(AuditLog.entity == "scm.distribution_transfer")).all()
        assert len(audit) == 1 and out["move_ids"]
        left = [(p["sku"], p["to_warehouse"], p["quantity"]) for p in distribution.plan(uow)["proposals"]
                if p["sku"] == "CUP"]
        assert left == [("CUP", "W3", D(30))]
    # the proposal for W3 was computed when WH had 200: refused, nothing changes
    with pytest.raises(Conflict, match="库存已变动"), net.uow() as uow:
        distribution.apply_transfer(uow, product_id=net.ids["CUP"], from_warehouse_id=net.whs["WH"],
                                    to_warehouse_id=net.whs["W3"], quantity="30", expected_available="200")
    # more than the surplus would take WH below its target of 90
    with pytest.raises(Conflict, match="低于目标"), net.uow() as uow:
        distribution.apply_transfer(uow, product_id=net.ids["CUP"], from_warehouse_id=net.whs["WH"],
                                    to_warehouse_id=net.whs["W3"], quantity="71")
    assert _stock(net, "CUP", "WH") == (D(160), D(160)) and _stock(net, "CUP", "W3") == (D(0), D(0))


def test_api_page_export_and_permissions(net, db):
    admin = f.user(db, net.company, roles=("admin",))
    api = f.api_client(db, admin)
    body = api.get("/api/v1/scm/distribution").json()
    assert body["total"] == 4 and body["summary"]["transfer_qty"] == "120" and body["summary"]["shortage_qty"] == "120"
    cup = next(s for s in body["skus"] if s["sku"] == "CUP")
    assert {w["warehouse"]: w["share"] for w in cup["warehouses"]} == {"WH": "0.5000", "W2": "0.3333", "W3": "0.1667"}
    assert api.get("/api/v1/scm/distribution", params={"cover_days": 0}).status_code == 422
    towel = next(p for p in body["items"] if p["sku"] == "TOWEL" and p["from_warehouse"] == "W2")
    r = api.post("/api/v1/scm/distribution/apply", json={k: towel[k] for k in (
        "product_id", "from_warehouse_id", "to_warehouse_id", "quantity")} | {"expected_available": "45"})
    assert r.status_code == 200, r.text
    assert _stock(net, "TOWEL", "W3") == (D(55), D(55))
    again = api.post("/api/v1/scm/distribution/apply", json={k: towel[k] for k in (
        "product_id", "from_warehouse_id", "to_warehouse_id", "quantity")} | {"expected_available": "45"})
    assert again.status_code == 409 and "库存已变动" in again.text
    csv = api.get("/api/v1/scm/distribution/export", params={"format": "csv"}).content.decode("utf-8-sig")
    assert "CUP" in csv and csv.count("\n") >= 4
    web = f.web_client(db, admin)
    page = web.get("/scm/distribution")
    assert page.status_code == 200 and "多地分仓" in page.text
    assert 'data-sku="CUP" data-from="WH" data-to="W2" data-qty="40"' in page.text
    assert "distribution-share-chart" in page.text and 'href="/scm/distribution"' in web.get("/scm/forecasts").text
    assert web.get("/scm/distribution?min_qty=0").status_code == 422
    xlsx = web.get("/scm/distribution/export?q=CUP")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    form = {"csrf_token": f.csrf(web), "product_id": net.ids["CUP"], "from_warehouse_id": net.whs["WH"],
            "to_warehouse_id": net.whs["W3"], "quantity": "30", "expected_available": "200"}
    done = web.post("/scm/distribution/apply", data=form, follow_redirects=False)
    assert done.status_code == 303 and _stock(net, "CUP", "W3") == (D(30), D(30))
    # a user without SCM rights sees nothing and moves nothing
    clerk = f.user(db, net.company, roles=("sales",))
    other = f.api_client(db, clerk)
    assert other.get("/api/v1/scm/distribution").status_code == 403
    assert other.post("/api/v1/scm/distribution/apply", json={
        "product_id": net.ids["CUP"], "from_warehouse_id": net.whs["WH"], "to_warehouse_id": net.whs["W2"],
        "quantity": "10"}).status_code == 403
    assert f.web_client(db, clerk).get("/scm/distribution").status_code == 403
    assert _stock(net, "CUP", "WH") == (D(170), D(170))


def test_two_planners_racing_never_take_a_source_below_its_target(net):
    """WH has 200 cups and a target of 90: two transfers of 60 at once — one is booked, the other refused."""
    import threading

    from opensupply.core.errors import DomainError
    from opensupply.core.uow import Actor, atomic

    barrier, results = threading.Barrier(2), [None, None]

    def run(i, to):
        barrier.wait()
        try:
            results[i] = atomic(Actor.system(net.company), lambda uow: distribution.apply_transfer(
                uow, product_id=net.ids["CUP"], from_warehouse_id=net.whs["WH"], to_warehouse_id=net.whs[to],
                quantity="60"), db=net.db)
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, to)) for i, to in enumerate(("W2", "W3"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "dict"]
    assert _stock(net, "CUP", "WH") == (D(140), D(140))
    assert _stock(net, "CUP", "W2")[0] + _stock(net, "CUP", "W3")[0] == D(80)


def test_transfer_between_warehouses_moves_free_stock_by_lot(net):
    lot_sku = net.ids["LOTX"] = fi.product(net, "LOTX", tracking="lot")
    for lot, qty in (("L1", 10), ("L2", 5)):
        fi.receive(net, "LOTX", qty, lot=lot)
    with net.uow() as uow:
        l1 = inv.lots_by_name(uow, [(lot_sku, "L1")])[(lot_sku, "L1")]
        inv.reserve(uow, [inv.ReservationRequest(lot_sku, net.bin_a, D(4), lot_id=l1, ref_type="test", ref_id=1)])
    with net.uow() as uow:
        inv.transfer_between_warehouses(uow, [inv.WarehouseTransfer(lot_sku, D(11), net.whs["WH"], net.whs["W2"])])
    assert _stock(net, "LOTX", "WH") == (D(4), D(0)) and _stock(net, "LOTX", "W2") == (D(11), D(11))
    with pytest.raises(Conflict, match="库存不足"), net.uow() as uow:
        inv.transfer_between_warehouses(uow, [inv.WarehouseTransfer(lot_sku, D(1), net.whs["WH"], net.whs["W2"])])
    assert _stock(net, "LOTX", "WH") == (D(4), D(0))
    with net.uow(readonly=True) as uow:
        assert inv.check_ledger(uow) == []


def test_an_approved_forecast_is_split_by_each_warehouse_share(net):
    from opensupply.scm.models import ForecastLine, ForecastRun, ForecastSeries
    from opensupply.scm.service import shift

    with net.uow() as uow:
        first = net.today.replace(day=1)
        run = uow.add(ForecastRun(number="FC-D", state="approved", bucket="month", horizon=1, history_periods=2,
                                  first_period=first, history_start=shift(first, "month", -2)))
        uow.flush()
        days = (shift(first, "month", 1) - first).days
        series = uow.add(ForecastSeries(run_id=run.id, product_id=net.ids["CUP"], model="mean", history=[300, 300]))
        uow.flush()
        uow.add(ForecastLine(run_id=run.id, series_id=series.id, product_id=net.ids["CUP"], period_start=first,
                             quantity=D(12 * days)))
    with net.uow(readonly=True) as uow:
        data = distribution.plan(uow)
    cup = next(s for s in data["skus"] if s["sku"] == "CUP")
    # 12 a day from the forecast: WH 50 % → 6 a day → 180 (+ its share of the run's safety stock: 0, the history
    # does not vary)
    assert cup["demand_source"] == "forecast" and data["forecast_run"]["number"] == "FC-D"
    assert {r["warehouse"]: (r["daily_demand"], r["target"]) for r in cup["rows"]} == {
        "WH": (D(6), D(180)), "W2": (D(4), D(120)), "W3": (D(2), D(60))}
    # WH (200) has 20 above its 180; W2 (short 100, 广州) is nearer to 杭州 than W3 (short 60, 成都)
    assert [(p["from_warehouse"], p["to_warehouse"], p["quantity"]) for p in data["proposals"]
            if p["sku"] == "CUP"] == [("WH", "W2", D(20))]


def test_one_warehouse_says_there_is_nothing_to_transfer(db):
    s = fi.shop(db)
    web = f.web_client(db, f.user(db, s.company, roles=("admin",)))
    page = web.get("/scm/distribution")
    assert page.status_code == 200 and 'id="single-warehouse"' in page.text and "没有调拨建议" in page.text


def test_a_warehouse_safety_stock_raises_its_target(net):
    from opensupply.erp.planning.models import PlanningPolicy

    with net.uow() as uow:
        uow.add(PlanningPolicy(product_id=net.ids["TOWEL"], warehouse_id=net.whs["W2"], safety_stock=D(10)))
    with net.uow(readonly=True) as uow:
        data = distribution.plan(uow)
    towel = next(s for s in data["skus"] if s["sku"] == "TOWEL")
    assert {r["warehouse"]: r["target"] for r in towel["rows"]} == {"WH": D(30), "W2": D(10), "W3": D(60)}
    # W2 now gives 35 (45 − 10), WH the other 15 of W3's 50
    assert sorted((p["from_warehouse"], p["quantity"]) for p in data["proposals"] if p["sku"] == "TOWEL") == [
        ("W2", D(35)), ("WH", D(15))]


def test_a_channel_order_counts_for_its_receiver_province(db, monkeypatch):
    """The shop's platform customer has no address: the region is where the OMS ships the order (江苏)."""
    from opensupply.core import jobs
    from opensupply.oms import allocation
    from tests.oms.orders import factories as fo

    monkeypatch.setattr(jobs, "in_process", False)
    w = fo.world(db)
    oid = fo.approved(w, [("CUP", 10, "500")], province="江苏省")
    with w.uow() as uow:
        assert allocation.allocate_orders(uow, [oid])[0]["ok"]
    with w.uow(readonly=True) as uow:
        data = distribution.plan(uow)
    cup = next(s for s in data["skus"] if s["sku"] == "CUP")
    assert [(p, q) for p, q, _s in cup["regions"]] == [("江苏", D(10))]
    assert {r["warehouse"]: r["demand"] for r in cup["rows"]} == {"GZ": D(0), "WH": D(10)}


def test_cli_prints_the_proposals_as_json_lines(net, monkeypatch):
    import json

    from typer.testing import CliRunner

    from opensupply.cli import app as cli

    monkeypatch.setattr("opensupply.core.db.get_database", lambda: net.db)
    r = CliRunner().invoke(cli, ["scm", "distribution", "--min-qty", "10"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.strip().splitlines()]
    assert sorted((x["sku"], x["from"], x["to"], x["quantity"]) for x in lines[:-1]) == [
        ("CUP", "WH", "W2", "40"), ("CUP", "WH", "W3", "30"), ("TOWEL", "W2", "W3", "45")]
    assert lines[-1]["summary"]["proposals"] == 3 and lines[-1]["summary"]["uncovered_qty"] == "5"
    assert CliRunner().invoke(cli, ["scm", "distribution", "--cover-days", "0"]).exit_code == 2
