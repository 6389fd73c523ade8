"""Shift calendars and line rostering: shift templates, windows with the break in the middle, a night shift
crossing midnight, overlapping entries and double-booked crew refused, the weekly pattern, capacity vs load,
and the roster pages and API."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.masterdata import resources as mdr
from opensupply.mes import calendar, resources
from opensupply.mes import work_orders as wos
from opensupply.mes.models import ShiftAssignment
from tests import factories as f
from tests.mes.factories import plant
from tests.mes.test_oee import DAY, at


def shifts(p) -> None:
    with p.uow() as uow:
        rs.create_record(uow, resources.shifts, {"code": "EARLY", "name": "早班", "start_time": "08:00",
                                                 "end_time": "16:00", "break_minutes": 30})
        rs.create_record(uow, resources.shifts, {"code": "NIGHT", "name": "夜班", "start_time": "22:00",
                                                 "end_time": "06:00", "break_minutes": 60})
        rs.create_record(uow, resources.shifts, {"code": "DAY", "name": "白班", "start_time": "08:00",
                                                 "end_time": "20:00", "break_minutes": 0})


def employees(p, *codes: str) -> None:
    with p.uow() as uow:
        for code in codes:
            rs.create_record(uow, mdr.employees, {"code": code, "name": f"员工{code}"})


def test_shift_templates_parse_times_and_check_the_break(db):
    p = plant(db, stock=False)
    shifts(p)
    admin = f.user(db, p.company, "shiftadmin")
    api = f.api_client(db, admin)
    night = api.get("/api/v1/mes/shifts", params={"q": "NIGHT"}).json()["items"][0]
    assert night["start_time"] == "22:00:00" and night["end_time"] == "06:00:00"
    r = api.post("/api/v1/mes/shifts", json={"code": "BAD", "name": "坏", "start_time": "25:00",
                                             "end_time": "06:00"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "start_time"
    r = api.post("/api/v1/mes/shifts", json={"code": "LONG", "name": "休息太长", "start_time": "08:00",
                                             "end_time": "09:00", "break_minutes": 60})
    assert r.status_code == 422 and r.json()["error"]["field"] == "break_minutes"
    r = api.patch(f"/api/v1/mes/shifts/{night['id']}", json={"end_time": "7:30"})
    assert r.status_code == 200 and r.json()["end_time"] == "07:30:00"
    r = api.patch(f"/api/v1/mes/shifts/{night['id']}", json={"end_time": "later"})
    assert r.status_code == 422
    x = api.get("/api/v1/mes/shifts/export", params={"format": "csv"})
    assert "22:00" in x.content.decode("utf-8-sig")
    csv = "编码,名称,开始时间,结束时间,休息(分钟)\nMID,中班,16:00,00:00,30\n".encode()
    r = api.post("/api/v1/mes/shifts/import", files={"file": ("s.csv", csv, "text/csv")})
    assert r.status_code == 200 and r.json()["created"] == 1, r.text


def test_windows_take_the_break_from_the_middle_and_cross_midnight(db):
    p = plant(db, stock=False)
    shifts(p)
    cut, asm = p.work_centers["CUT"], p.work_centers["ASM"]
    with p.uow() as uow:
        calendar.assign_shift(uow, work_center="CUT", day=DAY, shift="EARLY")
        calendar.assign_shift(uow, work_center="CUT", day=DAY, shift="NIGHT")
        windows = calendar.working_windows(uow, [cut, asm], at(0), at(12, 0, DAY + dt.timedelta(days=1)))
        # clipped to the period: the night shift of the day before does not exist, the one of DAY runs into DAY+1
        clipped = calendar.working_windows(uow, [cut], at(3, 0, DAY + dt.timedelta(days=1)),
                                           at(5, 0, DAY + dt.timedelta(days=1)))
    nxt = DAY + dt.timedelta(days=1)
    assert windows[cut] == [(at(8), at(11, 45)), (at(12, 15), at(16)),  # 早班: 30 min break at 11:45–12:15
                            (at(22), at(1, 30, nxt)), (at(2, 30, nxt), at(6, 0, nxt))]  # 夜班 crosses midnight
    assert windows[asm] == []  # no roster
    assert clipped[cut] == [(at(3, 0, nxt), at(5, 0, nxt))]


def test_overlaps_and_double_booked_crew_are_refused(db):
    p = plant(db, stock=False)
    shifts(p)
    employees(p, "E01", "E02")
    with p.uow() as uow:
        a = calendar.assign_shift(uow, work_center="CUT", day=DAY, shift="NIGHT",
                                  crew=[{"employee": "E01", "role": "班长"}, "E02"])
        assert a.headcount == 2 and {c.role for c in a.crew} == {"班长", None}
    for kwargs, error in [
        ({"work_center": "CUT", "day": DAY, "shift": "NIGHT"}, Conflict),  # the same entry again
        ({"work_center": "CUT", "day": DAY, "shift": "DAY"}, None),  # 08–20 does not touch 22–06
        ({"work_center": "CUT", "day": DAY + dt.timedelta(days=1), "shift": "EARLY"}, None),  # after the 06:00 end
        ({"work_center": "ASM", "day": DAY + dt.timedelta(days=1), "shift": "EARLY", "crew": ["E01"]}, None),
        ({"work_center": "ASM", "day": DAY, "shift": "NIGHT", "crew": ["E02"]}, Conflict),  # E02 is on CUT then
        ({"work_center": "ASM", "day": DAY, "shift": "EARLY", "crew": ["NOBODY"]}, ValidationFailed),
        ({"work_center": "ASM", "day": DAY, "shift": "EARLY", "headcount": 0, "crew": ["E02"]}, ValidationFailed),
        ({"work_center": "NOPE", "day": DAY, "shift": "EARLY"}, ValidationFailed),
    ]:
        try:
            with p.uow() as uow:
                calendar.assign_shift(uow, **kwargs)
            assert error is None, kwargs
        except (Conflict, ValidationFailed) as exc:
            assert error is not None and isinstance(exc, error), (kwargs, exc.message)
    with pytest.raises(Conflict, match="早班"), p.uow() as uow:  # a 白班 on DAY+1 overlaps the 早班 there
        calendar.assign_shift(uow, work_center="CUT", day=DAY + dt.timedelta(days=1), shift="DAY")
    with p.uow(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ShiftAssignment)) == 4


def test_apply_pattern_week_grid_and_capacity(db):
    p = plant(db)
    shifts(p)
    monday = DAY
    with p.uow() as uow:
        report = calendar.apply_pattern(uow, shift="EARLY", work_centers=["CUT", "ASM"], start=monday, weeks=4,
                                        headcount=3)
        assert report == {"created": 40, "existing": 0, "replaced": 0, "conflicts": []}
    with p.uow() as uow:  # again: the existing ones stay; a 白班 on Monday collides with its 早班
        again = calendar.apply_pattern(uow, shift="EARLY", work_centers=["CUT"], start=monday, weeks=2)
        assert again["existing"] == 10 and again["created"] == 0
        weekend = calendar.apply_pattern(uow, shift="DAY", work_centers=["CUT"], start=monday, weeks=1,
                                         weekdays=[0, 5])
        assert weekend["created"] == 1 and weekend["conflicts"][0]["date"] == monday.isoformat()
        replaced = calendar.apply_pattern(uow, shift="DAY", work_centers=["CUT"], start=monday, weeks=1,
                                          weekdays=[0], replace=True)
        assert replaced["created"] == 1 and replaced["replaced"] == 1
    with p.uow(readonly=True) as uow:
        grid = calendar.roster_week(uow, monday + dt.timedelta(days=2))
        assert grid["week_start"] == monday.isoformat() and len(grid["dates"]) == 7
        cut_row = next(r for r in grid["rows"] if r["work_center"] == "CUT")
        assert [c["shift"] for c in cut_row["cells"][0]] == ["DAY"]
        assert [c["shift"] for c in cut_row["cells"][1]] == ["EARLY"] and cut_row["cells"][6] == []

    # load: a released top order scheduled over Tuesday; capacity: 7.5 h × 1 machine per 早班 day
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity="10")
        wos.release_work_order(uow, wo.id)
        first = min(wo.operations, key=lambda o: o.sequence)
        tue = monday + dt.timedelta(days=1)
        first.planned_start, first.planned_end = at(8, 0, tue), at(9, 20, tue)  # 20 + 6 × 10 = 80 min
        desk = wos.create_work_order(uow, product="YS-DESK-120", quantity="2")
        wos.release_work_order(uow, desk.id)  # unscheduled: 10 + 15×2 + 5×2 = 50 min on ASM
    with p.uow(readonly=True) as uow:
        cap = {w["work_center"]: w for w in calendar.capacity(uow, monday, monday + dt.timedelta(days=6))}
    cut_days = {d["date"]: d for d in cap["CUT"]["days"]}
    assert cut_days[monday.isoformat()]["available_hours"] == "12.00"  # the 白班 that replaced the 早班
    assert cut_days[tue.isoformat()] == {"date": tue.isoformat(), "shift_hours": "7.50", "available_hours": "7.50",
                                         "load_hours": "1.33", "utilisation_pct": "17.8"}
    assert cut_days[(monday + dt.timedelta(days=5)).isoformat()]["available_hours"] == "12.00"  # Saturday 白班
    assert cut_days[(monday + dt.timedelta(days=6)).isoformat()]["available_hours"] == "0.00"
    assert cap["CUT"]["unscheduled_hours"] == "0.67"  # 封边 4 × 10 min, not scheduled yet
    assert cap["ASM"]["unscheduled_hours"] == "0.83" and cap["ASM"]["units"] == 1
    assert Decimal(cap["ASM"]["available_hours"]) == Decimal("37.50")


def test_roster_pages_and_api(db):
    p = plant(db, stock=False)
    shifts(p)
    employees(p, "E07", "E08")
    admin = f.user(db, p.company, "rosteradmin")
    viewer = f.user(db, p.company, "rosterviewer", roles=("warehouse",))
    api = f.api_client(db, admin)
    r = api.post("/api/v1/mes/roster", json={"work_center": "CUT", "date": DAY.isoformat(), "shift": "NIGHT",
                                             "crew": [{"employee": "E07", "role": "班长"}]})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["start_local"] == "22:00" and entry["end_local"] == "06:00" and entry["work_hours"] == "7.00"
    assert entry["crew"][0]["code"] == "E07" and entry["headcount"] == 1
    r = api.post("/api/v1/mes/roster", json={"work_center": "CUT", "date": DAY.isoformat(), "shift": "NIGHT"})
    assert r.status_code == 409
    r = api.patch(f"/api/v1/mes/roster/{entry['id']}", json={"crew": [{"employee": "E07"}, {"employee": "E08"}]})
    assert r.status_code == 200 and r.json()["headcount"] == 2 and len(r.json()["crew"]) == 2
    r = api.patch(f"/api/v1/mes/roster/{entry['id']}", json={"headcount": 1})
    assert r.status_code == 422 and r.json()["error"]["field"] == "headcount"
    r = api.post("/api/v1/mes/roster/apply-pattern", json={"shift": "EARLY", "work_centers": ["ASM"],
                                                          "start": DAY.isoformat(), "weeks": 1})
    assert r.status_code == 200 and r.json()["created"] == 5
    r = api.post("/api/v1/mes/roster/apply-pattern", json={"shift": "EARLY", "work_centers": ["ASM"],
                                                          "start": DAY.isoformat(), "weeks": 1, "weekdays": []})
    assert r.status_code == 422 and r.json()["error"]["field"] == "weekdays"
    week = api.get("/api/v1/mes/roster/week", params={"date": DAY.isoformat()}).json()
    assert sum(len(c) for row in week["rows"] for c in row["cells"]) == 6
    ww = api.get("/api/v1/mes/working-windows", params={"start": DAY.isoformat(), "end": DAY.isoformat(),
                                                        "work_center_id": p.work_centers["ASM"]}).json()
    assert ww["items"][0]["windows"] == [[at(8).isoformat(), at(11, 45).isoformat()],
                                         [at(12, 15).isoformat(), at(16).isoformat()]]
    cap = api.get("/api/v1/mes/capacity", params={"start": DAY.isoformat(), "end": DAY.isoformat()}).json()
    assert {w["work_center"]: w["available_hours"] for w in cap["items"]} == {"ASM": "7.50", "CUT": "7.00"}
    ro = f.api_client(db, viewer)
    assert ro.get("/api/v1/mes/roster", params={"start": DAY.isoformat()}).json()["total"] == 6
    assert ro.delete(f"/api/v1/mes/roster/{entry['id']}").status_code == 403

    web = f.web_client(db, admin)
    token = f.csrf(web)
    page = web.get(f"/mes/roster?week={DAY.isoformat()}")
    assert page.status_code == 200 and 'id="roster"' in page.text and "夜班" in page.text and "员工E07" in page.text
    r = web.post("/mes/roster/new", data={"csrf_token": token, "work_center": "ASM", "date": DAY.isoformat(),
                                          "shift": "NIGHT", "crew": "E07"})
    assert r.status_code == 422 and "员工 E07" in r.text  # E07 works CUT's night shift then
    r = web.post("/mes/roster/pattern", data={"csrf_token": token, "shift": "DAY", "start": DAY.isoformat(),
                                              "weeks": "1", "weekdays": ["0"], "work_centers": [
                                                  str(p.work_centers["ASM"])]})
    assert r.status_code == 200 and 'id="pattern-report"' in r.text  # a conflict with the 早班 is listed
    r = web.post(f"/mes/roster/{entry['id']}", data={"csrf_token": token, "headcount": "3", "notes": "加班",
                                                     "crew_employee": ["E07", ""], "crew_role": ["班长", ""]})
    assert r.status_code == 303
    assert api.get("/api/v1/mes/roster", params={"start": DAY.isoformat(), "end": DAY.isoformat(),
                                                 "work_center_id": p.work_centers["CUT"]}).json()["items"][0][
        "headcount"] == 3
    assert web.get(f"/mes/capacity?start={DAY.isoformat()}&days=7").status_code == 200
    viewer_web = f.web_client(db, viewer)
    assert viewer_web.get(f"/mes/roster/{entry['id']}").status_code == 200
    token = f.csrf(viewer_web)
    assert viewer_web.post(f"/mes/roster/{entry['id']}/delete", data={"csrf_token": token}).status_code == 403
