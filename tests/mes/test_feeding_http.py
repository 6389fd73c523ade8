"""Feeding through HTTP: the warehouse completes tasks from its phone page and the API, others cannot; the
board, history and check; bad input answers 4xx and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from opensupply.inventory import service as inv
from opensupply.mes import terminal
from opensupply.mes import work_orders as wos
from opensupply.mes.models import FeedingTask, WorkCenter
from tests import factories as f
from tests.mes import factories as fm


def _short_line(db) -> tuple[fm.Plant, dict[str, int]]:
    """A cutting line running a top order with 2 boards staged: tasks for oak and glue are open."""
    p = fm.plant(db)
    for name, role in (("wh1", "warehouse"), ("pm1", "production"), ("sales1", "sales")):
        f.user(db, p.company, name, roles=(role,))
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity="10")
        wos.release_work_order(uow, wo.id)
        oak = next(c.id for c in wo.components if c.product_id == p.products["oak"])
        wos.issue_materials(uow, wo.id, {oak: "2"})
        op = wo.operations[0].id
    with p.uow() as uow:
        terminal.start_operation(uow, op)
    with p.uow(readonly=True) as uow:
        tasks = {t.product_id: t.id for t in uow.session.scalars(select(FeedingTask))}
    return p, {"oak": tasks[p.products["oak"]], "glue": tasks[p.products["glue"]]}


def _state(p: fm.Plant, task_id: int) -> str:
    with p.uow(readonly=True) as uow:
        return uow.get(FeedingTask, task_id).state


def test_the_warehouse_completes_tasks_and_other_roles_cannot(db):
    p, tasks = _short_line(db)
    wh = f.api_client(db, "wh1")
    listing = wh.get("/api/v1/mes/feeding-tasks?state=open").json()
    assert listing["total"] == 2 and {t["sku"] for t in listing["items"]} == {"RM-OAK-18", "RM-GLUE"}
    oak = next(t for t in listing["items"] if t["sku"] == "RM-OAK-18")
    assert oak["source"].endswith("A-01-01") and oak["dest"].endswith("LINE-CUT") and oak["quantity"] == "19"
    sales = f.api_client(db, "sales1")
    assert sales.post(f"/api/v1/mes/feeding-tasks/{tasks['oak']}/complete").status_code == 403
    assert wh.post(f"/api/v1/mes/feeding-tasks/{tasks['oak']}/complete", json={"quantity": "-3"}).status_code == 422
    assert wh.post(f"/api/v1/mes/feeding-tasks/{tasks['oak']}/complete", json={"qty": "3"}).status_code == 422
    assert _state(p, tasks["oak"]) == "open"
    r = wh.post(f"/api/v1/mes/feeding-tasks/{tasks['oak']}/complete")
    assert r.status_code == 200 and r.json()["state"] == "done" and r.json()["done_by"] == "wh1"
    again = wh.post(f"/api/v1/mes/feeding-tasks/{tasks['oak']}/complete")
    assert again.status_code == 409 and again.json()["error"]["field"] == "state"
    assert wh.post("/api/v1/mes/feeding/check").json() == {"created": 0, "items": []}
    r = wh.post(f"/api/v1/mes/feeding-tasks/{tasks['glue']}/cancel", json={"reason": "胶水改为倒冲"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert wh.get(f"/api/v1/mes/feeding-tasks/{tasks['glue']}").json()["cancel_reason"] == "胶水改为倒冲"
    assert wh.get("/api/v1/mes/feeding-tasks/999999").status_code == 404
    board = wh.get("/api/v1/mes/feeding/board").json()["work_centers"]
    assert board[0]["code"] == "CUT" and {ln["sku"]: ln["staged"] for ln in board[0]["lines"]}["RM-OAK-18"] == "21"
    csv = wh.get("/api/v1/mes/feeding-tasks/export?format=csv").content.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("上料单号") and len(csv.splitlines()) == 3  # header + 2 tasks
    # the warehouse cannot record a quality check
    assert wh.post("/api/v1/mes/quality-checks", json={"work_order_id": 1, "qty_inspected": "1"}).status_code == 403


def test_the_phone_page_lists_open_tasks_and_completes_them(db):
    p, tasks = _short_line(db)
    web = f.web_client(db, "wh1")
    token = f.csrf(web)
    page = web.get("/mes/feeding")  # the warehouse opens on its task list
    assert page.status_code == 200 and "完成上料" in page.text and "分钟后断料" in page.text
    r = web.post(f"/mes/feeding/tasks/{tasks['oak']}/complete", data={"csrf_token": token, "quantity": "19",
                                                                      "back": "view=warehouse"})
    assert r.status_code == 303 and r.headers["location"] == "/mes/feeding?view=warehouse"
    assert _state(p, tasks["oak"]) == "done"
    with p.uow(readonly=True) as uow:
        staging = uow.session.scalar(select(WorkCenter.staging_location_id).where(WorkCenter.code == "CUT"))
        assert inv.on_hand(uow, p.products["oak"], staging) == 21
    r = web.post(f"/mes/feeding/tasks/{tasks['glue']}/complete", data={"csrf_token": token, "quantity": "500"})
    assert r.status_code == 303 and _state(p, tasks["glue"]) == "open"  # a shortage comes back as the banner
    assert "库存不足" in web.get(r.headers["location"]).text
    line = web.get("/mes/feeding?view=line")
    assert line.status_code == 200 and "开料线" in line.text and "RM-OAK-18" in line.text
    history = web.get("/mes/feeding/history?state=done")
    assert history.status_code == 200 and "RM-OAK-18" in history.text and "RM-GLUE" not in history.text
    assert web.get("/mes/feeding/history/export").status_code == 200
    r = web.post("/mes/feeding/check", data={"csrf_token": token, "back": "view=line"})
    assert r.status_code == 303
    sales = f.web_client(db, "sales1")
    assert sales.get("/mes/feeding").status_code == 403
    pm = f.web_client(db, "pm1")
    assert "产线看板" in pm.get("/mes/feeding").text and "线边数量" in pm.get("/mes/feeding").text
