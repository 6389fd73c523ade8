"""MRP through the API: run, list late planned orders, pegging, firm; a sales user may not run MRP."""

import re

from tests import factories as f
from tests.erp.planning.test_mrp import bike  # noqa: F401  (fixture)


def test_run_list_peg_and_firm_over_http(db, bike):  # noqa: F811
    c = bike["company"]
    admin = f.user(db, c, roles=("admin",))
    api = f.api_client(db, admin)
    r = api.post("/api/v1/erp/mrp-runs", json={"bucket": "week", "horizon": 52})
    assert r.status_code == 201, r.text
    assert r.json()["planned_orders"] == 5 and r.json()["state"] == "done"
    assert api.get("/api/v1/erp/mrp-runs").json()["total"] == 1
    late = api.get("/api/v1/erp/planned-orders", params={"late": "true"}).json()
    assert late["total"] == 2
    wheel = next(o for o in late["items"] if o["product_id"] == bike["ids"]["WHEEL"])
    detail = api.get(f"/api/v1/erp/planned-orders/{wheel['id']}").json()
    assert [p["quantity"] for p in detail["pegging"]] == ["10.000000", "40.000000"]
    firmed = api.post(f"/api/v1/erp/planned-orders/{wheel['id']}/firm", json={})
    assert firmed.status_code == 200, firmed.text
    assert firmed.json()["state"] == "firmed" and firmed.json()["document_number"].startswith("PO")
    again = api.post(f"/api/v1/erp/planned-orders/{wheel['id']}/firm", json={})
    assert again.status_code == 409


def test_sales_user_cannot_run_mrp(db, bike):  # noqa: F811
    sales = f.user(db, bike["company"], roles=("sales",))
    api = f.api_client(db, sales)
    assert api.post("/api/v1/erp/mrp-runs", json={}).status_code == 403
    assert api.get("/api/v1/erp/planned-orders").status_code == 403


def test_planning_pages_render_and_firm(db, bike):  # noqa: F811
    admin = f.user(db, bike["company"], roles=("admin",))
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import service as mrp

    with UnitOfWork(Actor.system(bike["company"]), db=db) as uow:
        mrp.run_mrp(uow)
        wheel = next(o for o in mrp.list_planned_orders(uow)[0] if o.product_id == bike["ids"]["WHEEL"])
    web = f.web_client(db, admin)
    page = web.get("/erp/planning", params={"late": "1"})
    assert page.status_code == 200 and "生产计划" in page.text and "WHEEL" in page.text
    detail = web.get(f"/erp/planning/orders/{wheel.id}")
    assert detail.status_code == 200 and "上层计划订单" in detail.text
    r = web.post(f"/erp/planning/orders/{wheel.id}/firm", data={"csrf_token": f.csrf(web)}, follow_redirects=False)
    assert r.status_code == 303
    assert "已确认" in web.get(f"/erp/planning/orders/{wheel.id}").text


def test_cli_mrp_run(db, bike, monkeypatch):  # noqa: F811
    import json

    from typer.testing import CliRunner

    from opensupply.cli import app as cli

    monkeypatch.setattr("opensupply.core.db.get_database", lambda: db)
    r = CliRunner().invoke(cli, ["mrp", "run"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["planned_orders"] == 5


def test_planning_policy_put_list_validate_and_delete_over_http(db, bike):  # noqa: F811
    c = bike["company"]
    api = f.api_client(db, f.user(db, c, roles=("admin",)))
    wheel = bike["ids"]["WHEEL"]
    before = api.get("/api/v1/erp/planning-policies").json()["total"]
    r = api.put("/api/v1/erp/planning-policies", json={"product_id": wheel, "lot_rule": "fixed"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "fixed_qty"
    r = api.put("/api/v1/erp/planning-policies", json={"product_id": wheel, "lot_rule": "fixed", "fixed_qty": "50",
                                                        "lead_time_days": 7})
    assert r.status_code == 200, r.text
    policy_id = r.json()["id"]
    again = api.put("/api/v1/erp/planning-policies", json={"product_id": wheel, "lead_time_days": 9})
    assert again.json()["id"] == policy_id and again.json()["lead_time_days"] == 9
    assert again.json()["lot_rule"] == "lot_for_lot"  # PUT replaces the whole policy: unsent fields take defaults
    total = api.get("/api/v1/erp/planning-policies").json()["total"]
    assert total == before == 4  # the fixture's wheel policy was replaced, not duplicated
    other = f.company(db)
    stranger = f.api_client(db, f.user(db, other, roles=("admin",)))
    assert stranger.delete(f"/api/v1/erp/planning-policies/{policy_id}").status_code == 404
    assert api.delete(f"/api/v1/erp/planning-policies/{policy_id}").status_code == 204
    assert api.get("/api/v1/erp/planning-policies").json()["total"] == total - 1


def test_a_firmed_planned_production_links_to_its_work_order(db, bike):  # noqa: F811
    """The planner firms a planned work order on its page and goes on from there to the work order it became."""
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import service as mrp

    with UnitOfWork(Actor.system(bike["company"]), db=db) as uow:
        mrp.run_mrp(uow)
        frame = next(o for o in mrp.list_planned_orders(uow, kind="production")[0]
                     if o.product_id == bike["ids"]["FRAME"])
    web = f.web_client(db, f.user(db, bike["company"], roles=("admin",)))
    assert "/mes/work-orders/" not in web.get(f"/erp/planning/orders/{frame.id}").text
    r = web.post(f"/erp/planning/orders/{frame.id}/firm", data={"csrf_token": f.csrf(web)}, follow_redirects=False)
    assert r.status_code == 303
    with UnitOfWork(Actor.system(bike["company"]), db=db, readonly=True) as uow:
        wo_id = mrp.get_planned_order(uow, frame.id).work_order_id
    page = web.get(f"/erp/planning/orders/{frame.id}").text
    link = re.search(r'id="planned-documents".*?<a href="/mes/work-orders/(\d+)">(WO[\d-]+)</a> 草稿', page, re.S)
    assert link and int(link.group(1)) == wo_id
    assert web.get(f"/mes/work-orders/{wo_id}").status_code == 200


def test_firm_selected_planned_orders_on_the_list_all_or_none(db, bike):  # noqa: F811
    """Ticking planned orders on the list firms them in one go; one that cannot be firmed stops them all, and the
    message says which."""
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import service as mrp

    with UnitOfWork(Actor.system(bike["company"]), db=db) as uow:
        mrp.run_mrp(uow)
        planned = mrp.list_planned_orders(uow, state="planned")[0]
        wheel = next(o.id for o in planned if o.product_id == bike["ids"]["WHEEL"])
        frame = next(o.id for o in planned if o.product_id == bike["ids"]["FRAME"])
        tube = next(o.id for o in planned if o.product_id == bike["ids"]["TUBE"])  # no supplier known for tubes
    web = f.web_client(db, f.user(db, bike["company"], roles=("admin",)))
    page = web.get("/erp/planning").text
    assert f'name="order_ids" value="{wheel}"' in page and "确认所选计划订单" in page
    token = f.csrf(web)
    r = web.post("/erp/planning/firm-selected", data={"csrf_token": token, "order_ids": [wheel, frame, tube]})
    assert r.status_code == 303
    assert f"计划订单 #{tube}：" in web.get(r.headers["location"]).text
    with UnitOfWork(Actor.system(bike["company"]), db=db, readonly=True) as uow:
        assert {mrp.get_planned_order(uow, i).state for i in (wheel, frame, tube)} == {"planned"}  # none of them
    r = web.post("/erp/planning/firm-selected", data={"csrf_token": token, "order_ids": [wheel, frame],
                                                       "keep": "kind=purchase"})
    assert r.status_code == 303 and r.headers["location"] == "/erp/planning?kind=purchase"
    text = web.get(r.headers["location"]).text
    assert "已确认 2 个计划订单" in text and re.search(r"PO\d{4}-\d{6}", text) and re.search(r"WO[\d-]+", text)
    with UnitOfWork(Actor.system(bike["company"]), db=db, readonly=True) as uow:
        assert {mrp.get_planned_order(uow, i).state for i in (wheel, frame)} == {"firmed"}
    r = web.post("/erp/planning/firm-selected", data={"csrf_token": token})
    assert "请选择要确认的计划订单" in web.get(r.headers["location"]).text
    assert web.post(f"/erp/planning/orders/{tube}/delete", data={"csrf_token": token}).status_code == 404
    viewer = f.web_client(db, f.user(db, bike["company"], roles=("sales",)))
    assert viewer.post("/erp/planning/firm-selected", data={"csrf_token": f.csrf(viewer),
                                                            "order_ids": [tube]}).status_code == 403


@f.SQLITE_ONLY
def test_planned_order_list_search_export_and_refresh_while_running(db, bike):  # noqa: F811
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import service as mrp
    from opensupply.erp.planning.models import MrpRun

    with UnitOfWork(Actor.system(bike["company"]), db=db) as uow:
        mrp.run_mrp(uow)
    web = f.web_client(db, f.user(db, bike["company"], roles=("admin",)))
    page = web.get("/erp/planning", params={"q": "WHEEL", "state": "all"}).text
    assert "WHEEL" in page and "FRAME" not in page and 'http-equiv="refresh"' not in page
    csv = web.get("/erp/planning/export", params={"format": "csv", "kind": "purchase"}).content.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("编号,商品编码,商品名称,类型,数量") and "WHEEL" in csv and "FRAME" not in csv
    xlsx = web.get("/erp/planning/export")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    with UnitOfWork(Actor.system(bike["company"]), db=db) as uow:
        uow.session.query(MrpRun).update({"state": "running"})
    assert 'http-equiv="refresh"' in web.get("/erp/planning").text


@f.SQLITE_ONLY
def test_firming_a_planned_production_needs_mes_switched_on(db, bike):  # noqa: F811
    import pytest

    from opensupply.core import modules
    from opensupply.core.errors import Conflict
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.planning import service as mrp

    with UnitOfWork(Actor.system(bike["company"]), db=db) as uow:
        mrp.run_mrp(uow)
        frame = next(o.id for o in mrp.list_planned_orders(uow, kind="production")[0]
                     if o.product_id == bike["ids"]["FRAME"])
        modules.set_module(uow, "plm", False)  # PLM builds on MES: off first
        modules.set_module(uow, "mes", False)
    with UnitOfWork(Actor.system(bike["company"]), db=db) as uow:
        with pytest.raises(Conflict, match="未启用生产模块"):
            mrp.firm_planned_order(uow, frame)
