"""The dashboards over HTTP: pages and JSON for each role, who may see what, and widgets of modules switched off."""

from opensupply.core.modules import apply_modules
from tests import factories as f
from tests.dashboards import factories as fd

OCT = {"period": "custom", "date_from": "2026-10-01", "date_to": "2026-10-31"}
NAMES = ("owner", "warehouse", "purchasing", "production", "sales")


def test_each_role_lands_on_its_dashboard_and_sees_the_figures(sqlite_db):
    db = sqlite_db
    t = fd.trade(db)
    users = {role: f.user(db, t.company, roles=(role,)) for role in ("admin", "sales", "buyer", "warehouse",
                                                                     "production")}
    lands = {"admin": "owner", "sales": "sales", "buyer": "purchasing", "warehouse": "warehouse",
             "production": "production"}
    for role, name in users.items():
        web = f.web_client(db, name)
        r = web.get("/dashboards?period=30d")
        assert r.status_code == 303 and r.headers["location"] == f"/dashboards/{lands[role]}?period=30d", role
        home = web.get("/").text
        assert 'href="/dashboards"' in home and "经营看板" in home, role

    web = f.web_client(db, users["admin"])
    for name in NAMES:  # the administrator may open every dashboard, each with its charts
        page = web.get(f"/dashboards/{name}", params=OCT)
        assert page.status_code == 200, (name, page.text[:300])
        assert "echarts.min.js" in page.text and 'class="card kpi"' in page.text
        assert all(f'href="/dashboards/{n}?period=custom' in page.text for n in NAMES)  # the tabs
    page = web.get("/dashboards/owner", params=OCT).text
    assert "天猫" in page and "¥435.00" in page and "¥165.00" in page and "37.9%" in page
    assert 'id="sales_by_channel-chart-options"' in page and 'id="monthly_profit-chart-options"' in page

    api = f.api_client(db, users["admin"])
    r = api.get("/api/v1/dashboards/owner", params=OCT)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["period"] == {"kind": "custom", "label": "自定义", "date_from": "2026-10-01", "date_to": "2026-10-31",
                           "previous_from": "2026-08-31", "previous_to": "2026-09-30"}
    now = fd.figures(d)
    assert (now["revenue"], now["gross_margin"], now["cash"], now["stock_value"], now["on_time_delivery"]) == (
        "435.00", "165.00", "282.50", "510.00", "50.0")
    assert fd.previous(d)["revenue"] == "50.00"
    assert api.get("/api/v1/dashboards").json() == {
        "items": [{"name": n, "label": lbl} for n, lbl in zip(NAMES, ("老板看板", "仓库看板", "采购看板", "生产看板",
                                                                     "销售看板"), strict=True)],
        "landing": "owner"}

    sales = f.api_client(db, users["sales"])
    s = sales.get("/api/v1/dashboards/sales", params=OCT).json()
    assert fd.figures(s)["collections"] == "226.00"
    buyer = f.api_client(db, users["buyer"])
    pu = fd.figures(buyer.get("/api/v1/dashboards/purchasing", params=OCT).json())
    assert pu["late_orders"] == 1 and pu["received_value"] == "150.00"
    assert buyer.get("/api/v1/dashboards/owner").status_code == 403
    assert buyer.get("/api/v1/dashboards/nope").status_code == 404
    assert buyer.get("/api/v1/dashboards/purchasing", params={"period": "week"}).status_code == 422


def test_without_permission_403(sqlite_db):
    db = sqlite_db
    t = fd.trade(db)
    allowed = {"sales": {"sales"}, "warehouse": {"warehouse", "production"},  # mes.read: material feeding
               "production": {"production"}, "buyer": {"purchasing"}, "finance": set()}
    for role, names in allowed.items():
        api = f.api_client(db, f.user(db, t.company, roles=(role,)))
        for name in NAMES:
            want = 200 if name in names else 403
            assert api.get(f"/api/v1/dashboards/{name}").status_code == want, (role, name)
        assert {d["name"] for d in api.get("/api/v1/dashboards").json()["items"]} == names, role
    web = f.web_client(db, f.user(db, t.company, roles=("sales",)))
    assert web.get("/dashboards/sales").status_code == 200
    denied = web.get("/dashboards/owner")
    assert denied.status_code == 403 and "dashboards.owner" in denied.text
    finance = f.web_client(db, f.user(db, t.company, roles=("finance",)))
    assert finance.get("/dashboards").status_code == 200  # nothing to land on: a page that says so
    assert 'href="/dashboards"' not in finance.get("/").text
    assert f.anonymous(db).get("/api/v1/dashboards/owner").status_code == 401


def test_widgets_of_switched_off_modules_are_absent(sqlite_db):
    db = sqlite_db
    t = fd.trade(db)
    admin = f.user(db, t.company, roles=("admin",))
    api, web = f.api_client(db, admin), f.web_client(db, admin)
    before = {n: {k["key"] for k in api.get(f"/api/v1/dashboards/{n}", params=OCT).json()["kpis"]}
              for n in ("sales", "purchasing")}
    assert {"pipeline_value", "collections"} <= before["sales"]
    assert {"late_orders", "supplier_on_time", "received_value"} <= before["purchasing"]
    with t.uow() as uow:
        apply_modules(uow, {"oms"})  # CRM, WMS, MES, SRM … off
    s = api.get("/api/v1/dashboards/sales", params=OCT).json()
    assert "pipeline" not in s["charts"] and "pipeline_value" not in fd.figures(s)
    assert fd.figures(s)["collections"] == "226.00" and "ar_aging" in s["charts"]
    pu = api.get("/api/v1/dashboards/purchasing", params=OCT).json()
    assert "late_orders" not in fd.figures(pu) and "supplier_ranking" not in pu["charts"]
    assert fd.figures(pu)["received_value"] == "150.00"
    assert api.get("/api/v1/dashboards/warehouse").status_code == 404
    assert api.get("/api/v1/dashboards/production").status_code == 404
    assert [d["name"] for d in api.get("/api/v1/dashboards").json()["items"]] == ["owner", "purchasing", "sales"]
    page = web.get("/dashboards/sales", params=OCT).text
    assert "pipeline-chart" not in page and "ar_aging-chart" in page
    assert 'href="/dashboards/warehouse' not in page and 'href="/dashboards/purchasing' in page
    assert web.get("/dashboards/owner").status_code == 200  # the owner's figures come from the core ledgers
