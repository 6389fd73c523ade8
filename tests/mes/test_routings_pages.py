"""Routing pages and API: list with search and export, detail with the conversion cost, the form with operation
rows (errors point at the row), edit, archive / restore, and permissions."""

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from opensupply.mes import work_orders as wos
from opensupply.mes.models import Routing
from tests import factories as f
from tests.mes.factories import plant


def test_routing_api_crud_cost_archive_and_export(db):
    p = plant(db, stock=False)
    admin = f.user(db, p.company, "routeadmin")
    api = f.api_client(db, admin)
    listed = api.get("/api/v1/mes/routings", params={"q": "DESK"}).json()
    assert listed["total"] == 1 and [op["name"] for op in listed["items"][0]["operations"]] == ["组装", "包装"]
    desk = listed["items"][0]
    one = api.get(f"/api/v1/mes/routings/{desk['id']}", params={"quantity": "10"}).json()
    # (10 + 15 × 10) + 5 × 10 = 210 min at ¥90/h = ¥315
    assert one["cost"] == "315" and one["unit_cost"] == "45"  # one unit carries the whole setup
    assert api.get(f"/api/v1/mes/routings/{desk['id']}", params={"quantity": "0"}).status_code == 422

    assembly = {"name": "组装", "work_center": "ASM", "setup_minutes": "5", "run_minutes": "12"}
    r = api.post("/api/v1/mes/routings", json={"product": "YS-DESK-120", "code": "RT-DESK-B",
                                               "name": "书桌（外协包装）", "operations": [assembly]})
    assert r.status_code == 201 and r.json()["operations"][0]["sequence"] == 10, r.text
    new_id = r.json()["id"]
    r = api.post("/api/v1/mes/routings", json={"product": "YS-DESK-120", "code": "RT-DESK-B",
                                               "operations": [assembly]})
    assert r.status_code == 409
    r = api.post("/api/v1/mes/routings", json={"product": "YS-DESK-120", "code": "RT-X", "operations": [
        {"name": "组装", "work_center": "ASM", "run_minutes": "1"}, {"name": "包装", "work_center": "NOPE"}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "operations.1.work_center"
    r = api.post("/api/v1/mes/routings", json={"product": "YS-DESK-120", "code": "RT-Y", "operations": []})
    assert r.status_code == 422 and r.json()["error"]["field"] == "operations"
    r = api.patch(f"/api/v1/mes/routings/{new_id}", json={"operations": [
        {"sequence": 10, "name": "组装", "work_center": "ASM", "run_minutes": "10"},
        {"sequence": 20, "name": "质检", "work_center": "ASM", "run_minutes": "2"}], "notes": "外协包装"})
    assert r.status_code == 200 and len(r.json()["operations"]) == 2 and r.json()["notes"] == "外协包装"
    with p.uow(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Routing)) == 3  # refused ones wrote nothing

    assert api.delete(f"/api/v1/mes/routings/{desk['id']}").json() == {"id": desk["id"], "archived": True}
    assert api.delete(f"/api/v1/mes/routings/{desk['id']}").status_code == 409
    assert api.get("/api/v1/mes/routings", params={"product": "YS-DESK-120"}).json()["total"] == 1
    assert api.get("/api/v1/mes/routings", params={"product": "YS-DESK-120",
                                                   "include_archived": True}).json()["total"] == 2
    with p.uow() as uow:  # a new work order now follows the routing still in use
        wo = wos.create_work_order(uow, product="YS-DESK-120", quantity="1")
        assert [op.name for op in wo.operations] == ["组装", "质检"]
    assert api.post(f"/api/v1/mes/routings/{desk['id']}/restore").json()["active"] is True

    x = api.get("/api/v1/mes/routings/export", params={"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0][0] == "工艺路线编码" and len(rows) == 1 + 6  # one row per operation of the three routings
    assert {r[0] for r in rows[1:]} == {"RT-YS-TOP-120", "RT-YS-DESK-120", "RT-DESK-B"}

    viewer = f.user(db, p.company, "routeviewer", roles=("warehouse",))
    ro = f.api_client(db, viewer)
    assert ro.get("/api/v1/mes/routings").status_code == 200
    assert ro.patch(f"/api/v1/mes/routings/{new_id}", json={"name": "x"}).status_code == 403
    assert ro.delete(f"/api/v1/mes/routings/{new_id}").status_code == 403


def test_routing_pages_list_form_detail_and_archive(db):
    p = plant(db, stock=False)
    admin = f.user(db, p.company, "routepages")
    web = f.web_client(db, admin)
    token = f.csrf(web)
    page = web.get("/mes/routings?q=TOP")
    assert page.status_code == 200 and "RT-YS-TOP-120" in page.text and "RT-YS-DESK-120" not in page.text
    assert "开料 → 封边" in page.text
    assert web.get("/mes/routings/new").status_code == 200
    assert 'name="op_name"' in web.get("/mes/routings/op-row").text

    form = {"csrf_token": token, "product": "YS-TOP-120", "code": "RT-TOP-CNC", "name": "桌面板 CNC",
            "op_sequence": ["", "", ""], "op_name": ["CNC 开料", "封边", ""],
            "op_work_center": ["CUT", "CUT", ""], "op_setup_minutes": ["15", "", ""],
            "op_run_minutes": ["4", "-1", ""], "op_checklist": ["", "", ""], "op_instructions": ["", "", ""]}
    r = web.post("/mes/routings/new", data=form)
    assert r.status_code == 422 and "第 2 道工序" in r.text and 'aria-invalid="true"' in r.text
    assert 'value="CNC 开料"' in r.text  # what was typed comes back
    form["op_run_minutes"] = ["4", "3", ""]
    r = web.post("/mes/routings/new", data=form)
    assert r.status_code == 303, r.text
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    detail = web.get(f"/mes/routings/{rid}?quantity=10")
    # (15 + 4 × 10) + 3 × 10 = 85 min at ¥120/h = ¥170
    assert detail.status_code == 200 and 'id="routing-cost">170<' in detail.text
    assert "CNC 开料" in web.get(f"/mes/routings/{rid}/edit").text
    form.update(name="桌面板 CNC 二代", op_name=["CNC 开料", ""], op_work_center=["CUT", ""],
                op_setup_minutes=["10", ""], op_run_minutes=["4", ""], op_sequence=["10", ""],
                op_checklist=["", ""], op_instructions=["先校准", ""])
    r = web.post(f"/mes/routings/{rid}/edit", data=form)
    assert r.status_code == 303
    detail = web.get(f"/mes/routings/{rid}")
    assert "桌面板 CNC 二代" in detail.text and "先校准" in detail.text and "封边" not in detail.text
    r = web.post(f"/mes/routings/{rid}/archive", data={"csrf_token": token})
    assert r.status_code == 303
    assert "RT-TOP-CNC" not in web.get("/mes/routings").text
    assert "RT-TOP-CNC" in web.get("/mes/routings?archived=1").text
    x = web.get("/mes/routings/export?format=csv&include_archived=true")
    assert "RT-TOP-CNC" in x.content.decode("utf-8-sig")

    viewer = f.user(db, p.company, "routepageviewer", roles=("warehouse",))
    vweb = f.web_client(db, viewer)
    assert vweb.get(f"/mes/routings/{rid}").status_code == 200
    assert vweb.get("/mes/routings/new").status_code == 403
    token = f.csrf(vweb)
    assert vweb.post(f"/mes/routings/{rid}/restore", data={"csrf_token": token}).status_code == 403
