"""Scheduling the plant: the job reads released work orders and the roster, writes planned times and machines;
frozen and running operations stay; a tight due date goes first; the API, the background job, the Gantt page,
freeze / unfreeze and the permissions."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from opensupply.core import jobs
from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.sequences import company_today
from opensupply.mes import calendar, resources, schedule_job
from opensupply.mes import work_orders as wos
from opensupply.mes.models import ScheduleRun, WorkOrder, WorkOrderOperation
from tests import factories as f
from tests.mes.factories import plant

TZ = ZoneInfo("Asia/Shanghai")


def next_monday(p) -> dt.date:
    with p.uow(readonly=True) as uow:
        today = company_today(uow)
    return today + dt.timedelta(days=7 - today.weekday())


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ).astimezone(dt.UTC)


def setup_plant(db):
    """The furniture plant with 早班 (08:00–16:00, 30 min break → 08:00–11:45 and 12:15–16:00) on CUT and ASM,
    Monday to Friday for two weeks from next Monday."""
    p = plant(db)
    monday = next_monday(p)
    with p.uow() as uow:
        rs.create_record(uow, resources.shifts, {"code": "EARLY", "name": "早班", "start_time": "08:00",
                                                 "end_time": "16:00", "break_minutes": 30})
        calendar.apply_pattern(uow, shift="EARLY", work_centers=["CUT", "ASM"], start=monday, weeks=2)
    return p, monday


def work_order(p, sku: str, qty: str, *, due: dt.date | None = None, priority: int = 0) -> int:
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product=sku, quantity=qty, due_date=due, priority=priority)
        wos.release_work_order(uow, wo.id)
        return wo.id


def plan(p) -> dict[int, list[WorkOrderOperation]]:
    with p.uow(readonly=True) as uow:
        ops = uow.session.scalars(select(WorkOrderOperation).order_by(WorkOrderOperation.work_order_id,
                                                                      WorkOrderOperation.sequence)).all()
        out: dict[int, list] = {}
        for op in ops:
            out.setdefault(op.work_order_id, []).append(op)
        return out


def assert_feasible(p, monday: dt.date) -> None:
    """What a planner would check on the Gantt: each machine one operation at a time, operations in sequence,
    nothing outside the shifts (so never in the lunch break)."""
    with p.uow(readonly=True) as uow:
        windows = calendar.working_windows(uow, p.work_centers.values(), local(monday, 0),
                                           local(monday + dt.timedelta(days=14), 0))
    by_machine: dict[int, list] = {}
    for ops in plan(p).values():
        for a, b in itertools.pairwise(ops):
            assert b.planned_start >= a.planned_end, (a.name, b.name)
        for op in ops:
            assert op.equipment_id is not None and op.planned_end > op.planned_start
            assert any(s <= op.planned_start and op.planned_end <= e for s, e in windows[op.work_center_id]), op.name
            by_machine.setdefault(op.equipment_id, []).append((op.planned_start, op.planned_end))
    for spans in by_machine.values():
        spans.sort()
        for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
            assert s2 >= e1


def test_the_job_writes_planned_times_on_operations_and_work_orders(db):
    p, monday = setup_plant(db)
    top = work_order(p, "YS-TOP-120", "10", due=monday + dt.timedelta(days=1))  # CUT: 80 + 40 min
    desk = work_order(p, "YS-DESK-120", "4", due=monday + dt.timedelta(days=2))  # ASM: 70 + 20 min
    with p.uow() as uow:
        run = schedule_job.run_schedule(uow, horizon_start=local(monday, 0), time_limit_s=1, horizon_days=14)
        run_id = run.id
    assert_feasible(p, monday)
    ops = plan(p)
    assert ops[top][0].planned_start == local(monday, 8)  # the first minute of the first shift
    assert ops[top][0].equipment_id == p.equipment["CUT-01"] and ops[desk][0].equipment_id == p.equipment["ASM-01"]
    assert ops[top][0].planned_end == local(monday, 9, 20) and ops[top][1].planned_end == local(monday, 10)
    with p.uow(readonly=True) as uow:
        wo = uow.get(WorkOrder, top)
        assert (wo.planned_start, wo.planned_end) == (local(monday, 8), local(monday, 10))
        run = uow.get(ScheduleRun, run_id)
        assert run.state == "done" and run.operations == 4 and run.total_tardiness_minutes == 0
        assert run.late_orders == [] and run.status in ("OPTIMAL", "FEASIBLE")
        assert run.makespan_minutes == 10 * 60  # minutes from the horizon start: the top's 封边 ends 10:00


def test_frozen_and_running_operations_stay_when_rescheduling(db):
    p, monday = setup_plant(db)
    a = work_order(p, "YS-TOP-120", "10", due=monday + dt.timedelta(days=3))
    b = work_order(p, "YS-TOP-120", "10", due=monday + dt.timedelta(days=3))
    with p.uow() as uow:
        schedule_job.run_schedule(uow, horizon_start=local(monday, 0), time_limit_s=1)
    first_b = plan(p)[b][0]
    with p.uow() as uow:  # pin A's 开料 on Tuesday afternoon; B's first operation is on the line already
        schedule_job.freeze_operation(uow, plan(p)[a][0].id, planned_start=local(monday + dt.timedelta(days=1), 13),
                                      equipment_id=p.equipment["CUT-01"])
        running = uow.get(WorkOrderOperation, first_b.id)
        running.state, running.actual_start = "running", first_b.planned_start
    with p.uow() as uow:
        schedule_job.run_schedule(uow, horizon_start=local(monday, 0), time_limit_s=1)
    after = plan(p)
    pinned = after[a][0]
    assert pinned.frozen and pinned.planned_start == local(monday + dt.timedelta(days=1), 13)
    assert pinned.planned_end == local(monday + dt.timedelta(days=1), 14, 20)
    assert after[a][1].planned_start >= pinned.planned_end  # A's 封边 follows its frozen 开料
    assert (after[b][0].planned_start, after[b][0].planned_end) == (first_b.planned_start, first_b.planned_end)
    assert after[b][1].planned_start >= after[b][0].planned_end
    cut = [(op.planned_start, op.planned_end) for ops in after.values() for op in ops]
    cut.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(cut):
        assert s2 >= e1
    # an overlapping pin on the same machine is refused, and unfreezing lets it move again
    with pytest.raises(Conflict, match="重叠"), p.uow() as uow:
        schedule_job.freeze_operation(uow, after[b][1].id, planned_start=local(monday + dt.timedelta(days=1), 14),
                                      equipment_id=p.equipment["CUT-01"])
    with p.uow() as uow:
        schedule_job.unfreeze_operation(uow, pinned.id)
        schedule_job.run_schedule(uow, horizon_start=local(monday, 0), time_limit_s=1)
    assert plan(p)[a][0].planned_start < local(monday + dt.timedelta(days=1), 13)


def test_a_tight_due_date_is_scheduled_first(db):
    p, monday = setup_plant(db)
    # 开料 20 + 6 × 30 = 200 min, 封边 120 min: only one order fits on Monday's shift
    loose = work_order(p, "YS-TOP-120", "30", due=monday + dt.timedelta(days=9))
    tight = work_order(p, "YS-TOP-120", "30", due=monday)
    with p.uow() as uow:
        run = schedule_job.run_schedule(uow, horizon_start=local(monday, 0), time_limit_s=2)
        assert run.total_tardiness_minutes == 0 and run.late_orders == []
    assert_feasible(p, monday)
    ops = plan(p)
    assert ops[tight][0].planned_start == local(monday, 8) and ops[tight][-1].planned_end <= local(monday, 16)
    assert ops[loose][0].planned_start >= ops[tight][0].planned_end
    # an order that cannot be on time is reported late
    late = work_order(p, "YS-TOP-120", "30", due=monday)
    with p.uow() as uow:
        run = schedule_job.run_schedule(uow, horizon_start=local(monday, 0), time_limit_s=2)
        assert run.late_orders and {x["work_order_id"] for x in run.late_orders} <= {late, tight}
        assert run.total_tardiness_minutes > 0


def test_an_operation_longer_than_any_shift_is_a_clear_error(db):
    p, monday = setup_plant(db)
    work_order(p, "YS-DESK-120", "20")  # 组装 10 + 15 × 20 = 310 min > 225 min between breaks
    with pytest.raises(ValidationFailed) as exc, p.uow() as uow:
        schedule_job.run_schedule(uow, horizon_start=local(monday, 0), time_limit_s=1)
    assert "310 分钟" in exc.value.message and "225 分钟" in exc.value.message and "组装" in exc.value.message
    with p.uow(readonly=True) as uow:
        assert uow.session.scalar(select(ScheduleRun.id)) is None
        assert all(op.planned_start is None for op in uow.session.scalars(select(WorkOrderOperation)))


def test_api_background_job_gantt_page_and_permissions(db):
    p, monday = setup_plant(db)
    top = work_order(p, "YS-TOP-120", "10", due=monday)
    admin = f.user(db, p.company, "planner")
    viewer = f.user(db, p.company, "planviewer", roles=("warehouse",))
    api = f.api_client(db, admin)
    r = api.post("/api/v1/mes/schedule-runs", json={"horizon_start": local(monday, 0).isoformat(),
                                                    "time_limit_s": 1, "horizon_days": 14})
    assert r.status_code == 201 and r.json()["state"] == "running", r.text
    job = jobs.wait_for(db, r.json()["job"]["id"], timeout=60)
    assert job.status == "done", job.error
    run = api.get(f"/api/v1/mes/schedule-runs/{r.json()['id']}").json()
    assert run["state"] == "done" and run["operations"] == 2 and run["job"]["progress"] == 100
    assert api.get("/api/v1/mes/schedule-runs").json()["total"] == 1
    plan_ = api.get("/api/v1/mes/schedule", params={"start": monday.isoformat(), "end": monday.isoformat()}).json()
    assert plan_["total"] == 2 and plan_["items"][0]["planned_start"] == local(monday, 8).isoformat()
    assert plan_["items"][0]["equipment"] == "CUT-01" and plan_["items"][0]["late"] is False
    op_id = plan_["items"][0]["id"]
    r = api.post(f"/api/v1/mes/schedule/operations/{op_id}/freeze")
    assert r.status_code == 200 and r.json()["frozen"] is True
    r = api.post(f"/api/v1/mes/schedule/operations/{op_id}/freeze", json={"equipment_id": p.equipment["ASM-01"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "equipment_id"
    assert api.post(f"/api/v1/mes/schedule/operations/{op_id}/unfreeze").json()["frozen"] is False
    r = api.post("/api/v1/mes/schedule-runs", json={"time_limit_s": 0.1})
    assert r.status_code == 422 and r.json()["error"]["field"] == "time_limit_s"

    ro = f.api_client(db, viewer)
    assert ro.get("/api/v1/mes/schedule").status_code == 200
    assert ro.post("/api/v1/mes/schedule-runs", json={}).status_code == 403
    assert ro.post(f"/api/v1/mes/schedule/operations/{op_id}/freeze").status_code == 403

    web = f.web_client(db, admin)
    token = f.csrf(web)
    page = web.get(f"/mes/schedule?start={monday.isoformat()}&days=5")
    assert page.status_code == 200 and 'id="gantt"' in page.text and "echarts.min.js" in page.text
    assert 'id="schedule-operations"' in page.text and f'data-op="{op_id}"' in page.text
    r = web.post(f"/mes/schedule/operations/{op_id}/freeze", data={"csrf_token": token,
                                                                   "next": f"/mes/schedule?start={monday}"})
    assert r.status_code == 303 and r.headers["location"] == f"/mes/schedule?start={monday}"
    with p.uow(readonly=True) as uow:
        assert uow.get(WorkOrderOperation, op_id).frozen
    progress = web.get(f"/mes/schedule/runs/{run['id']}/progress")
    assert progress.status_code == 200 and progress.headers.get("HX-Refresh") == "true"
    with p.uow(readonly=True) as uow:
        assert uow.get(WorkOrder, top).planned_end is not None
    viewer_web = f.web_client(db, viewer)
    assert viewer_web.get("/mes/schedule").status_code == 200
    token = f.csrf(viewer_web)
    assert viewer_web.post("/mes/schedule/runs", data={"csrf_token": token}).status_code == 403
