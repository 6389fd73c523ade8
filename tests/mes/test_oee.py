"""OEE by hand: one 8-hour shift with a 30-minute break, a 45-minute breakdown, 60 s ideal cycle,
300 good + 20 scrap — and the rules around it (maintenance is not planned time, no roster = whole period)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from opensupply.core import resource as rs
from opensupply.mes import calendar, oee, resources
from opensupply.mes import work_orders as wos
from opensupply.mes.equipment import set_equipment_status
from opensupply.mes.models import OperationLog
from tests import factories as f
from tests.mes.factories import plant

D = Decimal
TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 2)  # a Monday, in the past


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ).astimezone(dt.UTC)


def early_shift(p, code="EARLY") -> None:
    with p.uow() as uow:
        rs.create_record(uow, resources.shifts, {"code": code, "name": "早班", "start_time": "08:00",
                                                 "end_time": "16:00", "break_minutes": 30})


def report(p, equipment: str, good: str, scrap: str, when: dt.datetime) -> None:
    """Scan reports on a machine (what the terminal writes), on an operation of a released work order."""
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity="400")
        wos.release_work_order(uow, wo.id)
        uow.add(OperationLog(operation_id=wo.operations[0].id, work_order_id=wo.id, event="report", at=when,
                             equipment_id=p.equipment[equipment], qty_good=D(good), qty_scrap=D(scrap)))


def test_oee_of_one_shift_by_hand(db):
    p = plant(db)
    early_shift(p)
    with p.uow() as uow:
        calendar.assign_shift(uow, work_center="CUT", day=DAY, shift="EARLY")
        cut = p.equipment["CUT-01"]
        set_equipment_status(uow, cut, "running", at=at(8))
        set_equipment_status(uow, cut, "down", reason="主轴报警", at=at(9))
        set_equipment_status(uow, cut, "running", at=at(9, 45))
        set_equipment_status(uow, cut, "idle", at=at(17))  # ran on after the shift: not planned time
    report(p, "CUT-01", "300", "20", at(15))
    report(p, "CUT-01", "999", "0", at(9, 0, DAY + dt.timedelta(days=1)))  # the next day: not counted

    with p.uow(readonly=True) as uow:
        data = oee.oee(uow, at(0), at(0, 0, DAY + dt.timedelta(days=1)))
    cut = next(i for i in data["items"] if i.code == "CUT-01")
    # planned = 480 − 30 break = 450 min; run = 450 − 45 down = 405 min
    assert cut.calendar == "roster"
    assert cut.planned_seconds == 450 * 60 and cut.run_seconds == 405 * 60 and cut.down_seconds == 45 * 60
    assert (cut.good, cut.scrap) == (D(300), D(20))
    assert cut.availability == D("0.9000")  # 405 / 450
    assert cut.performance == D("0.7901")  # 60 s × 320 / 405 min = 320 / 405
    assert cut.quality == D("0.9375")  # 300 / 320
    assert cut.oee == D("0.6667")  # 0.9 × 0.790123… × 0.9375 = 300 min / 450 min exactly
    asm = next(i for i in data["items"] if i.code == "ASM-01")
    # ASM has no roster that day: the whole day is planned, it never ran and made nothing
    assert asm.calendar == "period" and asm.planned_seconds == 24 * 3600 and asm.run_seconds == 0
    assert asm.availability == D(0) and asm.oee == D(0) and asm.quality is None
    assert data["plant"].planned_seconds == 450 * 60 + 24 * 3600


def test_maintenance_is_not_planned_time_and_breaks_are_in_the_middle(db):
    p = plant(db)
    early_shift(p)
    with p.uow() as uow:
        calendar.assign_shift(uow, work_center="CUT", day=DAY, shift="EARLY")
        cut = p.equipment["CUT-01"]
        set_equipment_status(uow, cut, "maintenance", reason="月度保养", at=at(8))
        set_equipment_status(uow, cut, "running", at=at(9))
        set_equipment_status(uow, cut, "idle", at=at(12))  # 11:45–12:15 is the break
    report(p, "CUT-01", "150", "0", at(11))
    with p.uow(readonly=True) as uow:
        row = oee.oee(uow, at(0), at(0, 0, DAY + dt.timedelta(days=1)),
                      equipment_ids=[p.equipment["CUT-01"]])["items"][0]
    assert row.maintenance_seconds == 3600 and row.planned_seconds == (450 - 60) * 60
    assert row.run_seconds == (11 * 60 + 45 - 9 * 60) * 60  # 09:00–11:45: the break part does not count
    assert row.availability == D("0.4231")  # 165 / 390
    assert row.performance == D("0.9091")  # 150 min of ideal output / 165 min run
    assert row.quality == D(1) and row.oee == D("0.3846")  # 150 / 390


def test_oee_page_and_api(db):
    p = plant(db)
    admin = f.user(db, p.company, "oeeadmin")
    with p.uow() as uow:
        cut = p.equipment["CUT-01"]
        set_equipment_status(uow, cut, "running", at=at(8))
        set_equipment_status(uow, cut, "idle", at=at(20))
    report(p, "CUT-01", "600", "0", at(12))
    api = f.api_client(db, admin)
    r = api.get("/api/v1/mes/oee", params={"start": DAY.isoformat(), "end": DAY.isoformat()})
    assert r.status_code == 200, r.text
    cut = next(i for i in r.json()["items"] if i["code"] == "CUT-01")
    # no roster: 24 h planned, 12 h run, 600 × 60 s = 10 h of ideal output
    assert cut["availability"] == "0.5000" and cut["performance"] == "0.8333" and cut["oee"] == "0.4167"
    assert r.json()["plant"]["good"] == "600"
    assert api.get("/api/v1/mes/oee", params={"start": "2026-11-03", "end": "2026-11-01"}).status_code == 422
    web = f.web_client(db, admin)
    page = web.get(f"/mes/oee?start={DAY.isoformat()}&end={DAY.isoformat()}")
    assert page.status_code == 200 and 'id="oee-chart"' in page.text and "41.7%" in page.text
