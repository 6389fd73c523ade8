"""Fleet, route-plan and driver pages and API through the app: CRUD and export, the background planning job,
the map page, 调度, the driver's marks and photo (only images, only for permitted users), GPS pings."""

import io

from openpyxl import load_workbook
from sqlalchemy import select

from opensupply.core import jobs
from opensupply.tms import dispatch
from opensupply.tms.models import TmsGpsPing, TmsRouteStop, TmsShipment
from tests import factories as f
from tests.tms.fleet.factories import DAY, deliveries, make_fleet


def test_fleet_crud_pages_api_and_export(db):
    company = f.company(db)
    admin = f.user(db, company, "fleetadmin")
    web = f.web_client(db, admin)
    token = f.csrf(web)
    r = web.post("/tms/fleet/depots/new", data={"csrf_token": token, "code": "SH1", "name": "上海浦东站",
                                                "lat": "31.23", "lon": "121.47", "road_factor": "1.4"})
    assert r.status_code == 303, r.text
    r = web.post("/tms/fleet/depots/new", data={"csrf_token": token, "code": "SH2", "name": "坏", "lat": "99",
                                                "lon": "121"})
    assert r.status_code == 422 and "坐标超出范围" in r.text
    api = f.api_client(db, admin)
    depot = api.get("/api/v1/tms/fleet/depots", params={"q": "SH1"}).json()["items"][0]
    assert depot["road_factor"] == 1.4 and depot["speed_kmh"] == 30.0
    r = api.post("/api/v1/tms/fleet/vehicles", json={"code": "T1", "plate": "沪A12345", "depot_id": depot["id"],
                                                     "capacity_kg": "500", "shift_start": "07:30"})
    assert r.status_code == 201 and r.json()["shift_start"] == "07:30", r.text
    r = api.post("/api/v1/tms/fleet/vehicles", json={"code": "T1", "depot_id": depot["id"], "capacity_kg": "1"})
    assert r.status_code == 409
    r = api.post("/api/v1/tms/fleet/vehicles", json={"code": "T2", "depot_id": depot["id"], "capacity_kg": "-1"})
    assert r.status_code == 422
    vid = api.get("/api/v1/tms/fleet/vehicles").json()["items"][0]["id"]
    assert api.patch(f"/api/v1/tms/fleet/vehicles/{vid}", json={"capacity_kg": "800"}).json()["capacity_kg"] == "800"
    r = api.post("/api/v1/tms/fleet/drivers", json={"code": "D1", "name": "周师傅", "username": admin})
    assert r.status_code == 201 and r.json()["username"] == admin
    page = web.get("/tms/fleet?kind=vehicles&q=沪A")
    assert page.status_code == 200 and "沪A12345" in page.text
    x = web.get("/tms/fleet/export?kind=vehicles&format=xlsx")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0][0] == "编码" and rows[1][0] == "T1" and rows[1][2] == "SH1"
    assert api.delete(f"/api/v1/tms/fleet/vehicles/{vid}").status_code == 204
    assert api.get("/api/v1/tms/fleet/vehicles").json()["total"] == 0


def test_plan_in_background_map_dispatch_and_driver_page(db, tmp_path, monkeypatch):
    monkeypatch.setattr(dispatch, "_pod_dir", lambda: tmp_path)
    fl = make_fleet(db, vehicles=2, capacity_kg="200", drivers=2)
    ids = deliveries(fl, 14)
    admin = f.user(db, fl.company, "planner")
    api = f.api_client(db, admin)
    r = api.post("/api/v1/tms/route-plans", json={"depot_id": fl.depot, "day": DAY.isoformat(), "time_limit_s": 1})
    assert r.status_code == 201 and r.json()["status"] == "planning", r.text
    plan_id = r.json()["id"]
    job = jobs.wait_for(db, r.json()["job"]["id"], timeout=60)
    assert job.status == "done", job.error
    plan = api.get(f"/api/v1/tms/route-plans/{plan_id}").json()
    assert plan["status"] == "planned"
    routed = [s["shipment_id"] for r in plan["routes"] for s in r["stops"]]
    assert sorted(routed + [u["shipment_id"] for u in plan["unassigned"]]) == sorted(ids)

    web = f.web_client(db, admin)
    token = f.csrf(web)
    page = web.get(f"/tms/route-plans/{plan_id}")
    assert page.status_code == 200 and 'id="route-map"' in page.text and "echarts.min.js" in page.text
    assert "调度" in page.text and plan["routes"][0]["stops"][0]["number"] in page.text
    x = web.get(f"/tms/route-plans/{plan_id}/export?format=xlsx")
    sheet = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert sheet[0][:4] == ("车辆", "车牌", "司机", "站序") and len(sheet) == 1 + len(routed)
    assert {row[4] for row in sheet[1:]} == {s["number"] for r in plan["routes"] for s in r["stops"]}
    prog = web.get(f"/tms/route-plans/{plan_id}/progress")
    assert prog.headers.get("HX-Refresh") == "true"
    r = web.post(f"/tms/route-plans/{plan_id}/dispatch", data={"csrf_token": token, "action": "dispatch"})
    assert r.status_code == 303
    assert "还没有司机" in web.get(f"/tms/route-plans/{plan_id}").text or api.get(
        f"/api/v1/tms/route-plans/{plan_id}").json()["status"] == "planned"
    form = {"csrf_token": token, "action": "dispatch"}
    for route, did in zip(plan["routes"], fl.drivers, strict=False):
        form[f"driver_{route['id']}"] = str(did)
    assert web.post(f"/tms/route-plans/{plan_id}/dispatch", data=form).status_code == 303
    assert api.get(f"/api/v1/tms/route-plans/{plan_id}").json()["status"] == "dispatched"

    route = plan["routes"][0]
    me = f.web_client(db, fl.usernames[0])
    other = f.web_client(db, fl.usernames[1])
    my_token = f.csrf(me)
    page = me.get("/tms/driver?all_days=1")
    assert page.status_code == 200 and "uri.amap.com/marker" in page.text and "已送达" in page.text
    stop = route["stops"][0]["id"]
    r = other.post(f"/tms/driver/stops/{stop}", data={"csrf_token": f.csrf(other), "action": "deliver"})
    assert r.status_code == 303  # refused with a message; nothing changed
    with fl.uow(readonly=True) as uow:
        assert uow.get(TmsRouteStop, stop).status == "pending"
    r = me.post(f"/tms/driver/stops/{stop}", data={"csrf_token": my_token, "action": "fail", "reason": ""})
    with fl.uow(readonly=True) as uow:
        assert uow.get(TmsRouteStop, stop).status == "pending"
    me.post(f"/tms/driver/stops/{stop}", data={"csrf_token": my_token, "action": "deliver"})
    with fl.uow(readonly=True) as uow:
        st = uow.get(TmsRouteStop, stop)
        assert st.status == "delivered" and uow.get(TmsShipment, st.shipment_id).status == "delivered"
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    r = me.post(f"/tms/driver/stops/{stop}/pod", data={"csrf_token": my_token},
                files={"file": ("sign.txt", b"hello", "text/plain")})
    with fl.uow(readonly=True) as uow:
        assert uow.get(TmsRouteStop, stop).pod_path is None
    me.post(f"/tms/driver/stops/{stop}/pod", data={"csrf_token": my_token},
            files={"file": ("sign.png", png, "image/png")})
    assert me.get(f"/tms/pod/{stop}").content == png
    assert other.get(f"/tms/pod/{stop}").status_code == 403
    assert web.get(f"/tms/pod/{stop}").status_code == 200  # a TMS reader may see it

    drv_api = f.api_client(db, fl.usernames[0])
    r = drv_api.post("/api/v1/tms/gps", json={"lat": 30.28, "lon": 120.16})
    assert r.status_code == 201 and r.json()["route_id"] == route["id"]
    assert api.post("/api/v1/tms/gps", json={"lat": 30.28, "lon": 120.16}).status_code in (403, 422)
    with fl.uow(readonly=True) as uow:
        assert len(list(uow.session.scalars(select(TmsGpsPing)))) == 1
    assert drv_api.get("/api/v1/tms/route-plans").status_code == 403  # a driver sees only the driver page
