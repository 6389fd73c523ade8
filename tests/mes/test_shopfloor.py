"""Work centers and equipment as master data (API, pages, import/export, validation, permissions), the status
board and its status changes, and the downtime log with its export."""

import datetime as dt
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from opensupply.mes.equipment import set_equipment_status
from opensupply.mes.models import Equipment, EquipmentStatusLog, WorkCenter
from tests import factories as f
from tests.mes.factories import plant
from tests.mes.test_oee import DAY, at


def test_work_centers_and_equipment_through_the_api_with_validation(db):
    p = plant(db, stock=False)
    admin = f.user(db, p.company, "wcadmin")
    api = f.api_client(db, admin)
    wh = api.get("/api/v1/warehouses").json()["items"][0]
    bins = api.get("/api/v1/locations", params={"q": "A-01-01"}).json()["items"]
    r = api.post("/api/v1/mes/work-centers", json={"code": "PACK", "name": "包装线", "cost_per_hour": "60",
                                                    "staging_location_id": bins[0]["full_code"]})
    assert r.status_code == 201, r.text
    assert r.json()["warehouse_id"] == wh["id"]  # taken from the staging location
    pack = r.json()["id"]
    view = api.get("/api/v1/locations", params={"q": wh["code"]}).json()["items"]
    not_internal = next(loc for loc in view if loc["usage"] != "internal")
    r = api.patch(f"/api/v1/mes/work-centers/{pack}", json={"staging_location_id": not_internal["id"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "staging_location_id"
    assert "库内库位" in r.json()["error"]["message"]
    r = api.post("/api/v1/mes/work-centers", json={"code": "BAD CODE", "name": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "code"
    r = api.post("/api/v1/mes/work-centers", json={"code": "CAP0", "name": "x", "capacity": 0})
    assert r.status_code == 422 and r.json()["error"]["field"] == "capacity"
    assert api.post("/api/v1/mes/work-centers", json={"code": "CUT", "name": "重复"}).status_code == 409

    r = api.post("/api/v1/mes/equipment", json={"code": "PACK-01", "name": "封箱机", "work_center_id": "PACK",
                                                 "ideal_cycle_seconds": "12"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "idle" and r.json()["work_center_code"] == "PACK"
    r = api.post("/api/v1/mes/equipment", json={"code": "X-01", "name": "无主机", "work_center_id": "NOPE"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "work_center_id"
    r = api.post("/api/v1/mes/equipment", json={"code": "X-02", "name": "坏节拍", "work_center_id": "PACK",
                                                 "ideal_cycle_seconds": "0"})
    assert r.status_code == 422
    r = api.post("/api/v1/mes/equipment", json={"code": "X-03", "name": "改状态", "work_center_id": "PACK",
                                                 "status": "down"})
    assert r.status_code == 422  # status only changes through the board
    with p.uow(readonly=True) as uow:  # nothing of the refused ones was written; the new one has its history
        codes = set(uow.session.scalars(select(Equipment.code).where(Equipment.company_id == p.company)))
        assert codes == {"CUT-01", "ASM-01", "PACK-01"}
        assert uow.session.scalar(select(func.count()).select_from(EquipmentStatusLog)) == 1
    listed = api.get("/api/v1/mes/equipment", params={"work_center_id": pack}).json()
    assert listed["total"] == 1 and listed["items"][0]["code"] == "PACK-01"
    # a work center with active machines cannot be switched off
    r = api.patch(f"/api/v1/mes/work-centers/{pack}", json={"active": False})
    assert r.status_code == 422 and r.json()["error"]["field"] == "active"


def test_import_export_and_permissions(db):
    p = plant(db, stock=False)
    admin = f.user(db, p.company, "wcadmin2")
    viewer = f.user(db, p.company, "wcviewer", roles=("warehouse",))  # mes.read, not mes.admin
    api = f.api_client(db, admin)
    x = api.get("/api/v1/mes/work-centers/export", params={"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0][:2] == ("编码", "名称") and {r[0] for r in rows[1:]} == {"CUT", "ASM"}
    csv = "编码,名称,工作中心,理想节拍(秒/件)\nCUT-02,开料 2 号机,CUT,45\nASM-02,组装 2 号机,ASM,\n".encode("gbk")
    r = api.post("/api/v1/mes/equipment/import", files={"file": ("machines.csv", csv, "text/csv")})
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    bad = "编码,名称,工作中心\nCUT-03,开料 3 号机,NOPE\n".encode()
    r = api.post("/api/v1/mes/equipment/import", files={"file": ("m.csv", bad, "text/csv")})
    assert r.status_code == 422 and r.json()["error"]["rows"][0]["line"] == 2

    ro = f.api_client(db, viewer)
    assert ro.get("/api/v1/mes/work-centers").status_code == 200
    r = ro.patch(f"/api/v1/mes/work-centers/{p.work_centers['CUT']}", json={"name": "改名"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert ro.post("/api/v1/mes/work-centers", json={"code": "NEW", "name": "新线"}).status_code == 403
    web = f.web_client(db, viewer)
    assert web.get("/mes/work-centers").status_code == 200
    assert web.get(f"/mes/work-centers/{p.work_centers['CUT']}/edit").status_code == 403
    token = f.csrf(web)
    r = web.post(f"/mes/work-centers/{p.work_centers['CUT']}/edit", data={"csrf_token": token, "name": "改名"})
    assert r.status_code == 403
    with p.uow(readonly=True) as uow:
        assert uow.get(WorkCenter, p.work_centers["CUT"]).name == "开料线"

    admin_web = f.web_client(db, admin)
    token = f.csrf(admin_web)
    page = admin_web.get(f"/mes/work-centers/{p.work_centers['CUT']}")
    assert page.status_code == 200 and 'id="work-center-machines"' in page.text and "CUT-02" in page.text
    r = admin_web.post("/mes/equipment/new", data={"csrf_token": token, "code": "ASM-09", "name": "组装 9",
                                                   "work_center_id": str(p.work_centers["ASM"]),
                                                   "ideal_cycle_seconds": "-1"})
    assert r.status_code == 422 and "理想节拍" in r.text


def test_status_board_changes_and_downtime_log(db):
    p = plant(db, stock=False)
    admin = f.user(db, p.company, "boardadmin")
    viewer = f.user(db, p.company, "boardviewer", roles=("warehouse",))  # reads, cannot report
    cut, asm = p.equipment["CUT-01"], p.equipment["ASM-01"]
    with p.uow() as uow:
        set_equipment_status(uow, cut, "running", at=at(8))
        set_equipment_status(uow, cut, "down", reason="刀具断裂", at=at(10))
        set_equipment_status(uow, cut, "running", at=at(10, 30))
        set_equipment_status(uow, asm, "maintenance", reason="季度保养", at=at(13))
        set_equipment_status(uow, asm, "idle", at=at(15))
    api = f.api_client(db, admin)
    r = api.post(f"/api/v1/mes/equipment/{cut}/status", json={"status": "down"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    r = api.post(f"/api/v1/mes/equipment/{cut}/status", json={"status": "stopped", "reason": "x"})
    assert r.status_code == 422
    r = api.post(f"/api/v1/mes/equipment/{cut}/status", json={"status": "down", "reason": "液压泄漏",
                                                              "work_order": "WO-NOPE"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "work_order"
    r = api.post(f"/api/v1/mes/equipment/{cut}/status", json={"status": "down", "reason": "液压泄漏"})
    assert r.status_code == 200 and r.json()["status"] == "down" and r.json()["reason"] == "液压泄漏"
    assert f.api_client(db, viewer).post(f"/api/v1/mes/equipment/{cut}/status",
                                         json={"status": "idle"}).status_code == 403

    board = api.get("/api/v1/mes/equipment-board").json()
    machines = {m["code"]: m for g in board["items"] for m in g["machines"]}
    assert machines["CUT-01"]["status_label"] == "故障" and machines["CUT-01"]["colour"] == "#c62828"
    assert machines["ASM-01"]["status"] == "idle" and board["total"] == 2

    web = f.web_client(db, admin)
    token = f.csrf(web)
    page = web.get("/mes/equipment-board")
    assert page.status_code == 200 and "液压泄漏" in page.text and 'data-status="down"' in page.text
    r = web.post(f"/mes/equipment-board/{asm}/status", data={"csrf_token": token, "status": "maintenance"})
    assert r.status_code == 303 and "os_flash" in r.headers.get("set-cookie", "")
    with p.uow(readonly=True) as uow:
        assert uow.get(Equipment, asm).status == "idle"  # refused: 保养 needs a reason
    r = web.post(f"/mes/equipment-board/{asm}/status", data={"csrf_token": token, "status": "running"})
    assert r.status_code == 303
    assert f.web_client(db, viewer).get("/mes/equipment-board").status_code == 200

    # the downtime log: the day's breakdown and maintenance, plus the breakdown still open
    r = api.get("/api/v1/mes/downtime", params={"start": DAY.isoformat(), "end": DAY.isoformat()})
    data = r.json()
    assert r.status_code == 200 and data["total"] == 2
    by_reason = {i["reason"]: i for i in data["items"]}
    assert by_reason["刀具断裂"]["minutes"] == "30.0" and by_reason["季度保养"]["minutes"] == "120.0"
    assert data["totals"] == {"down": "30.0", "maintenance": "120.0"}
    only = api.get("/api/v1/mes/downtime", params={"equipment_id": cut, "status": "down",
                                                   "start": DAY.isoformat()}).json()
    assert {i["reason"] for i in only["items"]} == {"刀具断裂", "液压泄漏"}
    assert next(i for i in only["items"] if i["reason"] == "液压泄漏")["open"] is True
    assert api.get("/api/v1/mes/downtime", params={"status": "running"}).status_code == 422
    page = web.get(f"/mes/downtime?start={DAY.isoformat()}&end={DAY.isoformat()}&work_center_id="
                   f"{p.work_centers['ASM']}")
    assert page.status_code == 200 and "季度保养" in page.text and "刀具断裂" not in page.text
    x = web.get(f"/mes/downtime/export?start={DAY.isoformat()}&end={(DAY + dt.timedelta(days=1)).isoformat()}"
                "&format=xlsx")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0][0] == "设备" and len(rows) == 3 and {r[4] for r in rows[1:]} == {"刀具断裂", "季度保养"}
