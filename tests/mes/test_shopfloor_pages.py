"""Every shop-floor, calendar, scheduling and routing page renders for a planner, in Chinese and in English,
with data on it (a roster, a schedule, a breakdown)."""

import datetime as dt

from opensupply.core import resource as rs
from opensupply.mes import calendar, resources, schedule_job
from opensupply.mes.equipment import set_equipment_status
from tests import factories as f
from tests.mes.test_schedule_job import local, setup_plant, work_order

PAGES = ["/mes/equipment-board", "/mes/downtime", "/mes/oee", "/mes/work-centers", "/mes/equipment", "/mes/shifts",
         "/mes/roster", "/mes/capacity", "/mes/schedule", "/mes/routings", "/mes/routings/new"]
ENGLISH = {"/mes/equipment-board": "Change status", "/mes/downtime": "Downtime log", "/mes/oee": "Availability",
           "/mes/roster": "Apply a weekly pattern", "/mes/capacity": "Available hours",
           "/mes/schedule": "Run scheduling", "/mes/routings": "Conversion cost per unit",
           "/mes/routings/new": "Add operation"}


def test_pages_render_in_both_languages(db):
    p, monday = setup_plant(db)
    work_order(p, "YS-TOP-120", "10", due=monday)
    with p.uow() as uow:
        set_equipment_status(uow, p.equipment["CUT-01"], "down", reason="主轴报警")
        schedule_job.run_schedule(uow, horizon_start=local(monday, 0), time_limit_s=1)
        rs.create_record(uow, resources.shifts, {"code": "NIGHT", "name": "夜班", "start_time": "22:00",
                                                 "end_time": "06:00", "break_minutes": 60})
        entry = calendar.assign_shift(uow, work_center="ASM", day=monday + dt.timedelta(days=5), shift="NIGHT")
    admin = f.user(db, p.company, "pagesadmin")
    web = f.web_client(db, admin)
    for path in [*PAGES, f"/mes/roster/{entry.id}", f"/mes/schedule?start={monday}"]:
        r = web.get(path)
        assert r.status_code == 200, (path, r.text[:500])
    assert "主轴报警" in web.get("/mes/equipment-board").text
    token = f.csrf(web)
    r = web.post("/settings/locale", data={"csrf_token": token, "locale": "en", "next": "/"})
    assert r.status_code == 303
    for path in PAGES:
        r = web.get(path)
        assert r.status_code == 200, path
        if path in ENGLISH:
            assert ENGLISH[path] in r.text, path
    gantt = web.get(f"/mes/schedule?start={monday}")
    assert "Scheduling runs" in gantt.text and "Freeze" in gantt.text
    assert "Mon" in web.get(f"/mes/roster?week={monday}").text
