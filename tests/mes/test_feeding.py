"""Material-feeding reminders (上料提醒): a running operation with little staged material opens one task per
line and material (however often the check runs), completing it issues the material to the line's staging
location, the next check then opens nothing; shortages change nothing; the events and the job trigger it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from opensupply.core.errors import Conflict, InsufficientStock
from opensupply.core.events import Event
from opensupply.core.jobs import JobContext
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockReservation
from opensupply.mes import feeding, terminal
from opensupply.mes import work_orders as wos
from opensupply.mes.models import FeedingTask, WorkCenter
from tests import factories as f
from tests.mes import factories as fm

D = Decimal


def _running_top(p: fm.Plant, qty: str = "10", oak_staged: str = "2") -> dict:
    """A released top order with a little oak issued to the cutting line and its first operation started.
    At 6 min a top and 2.1 boards a top, the line uses 0.35 boards a minute: 2 boards last under 6 minutes."""
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity=qty, lot_name="TOP-2612-07")
        wos.release_work_order(uow, wo.id)
        comps = {c.product_id: c.id for c in wo.components}
        wos.issue_materials(uow, wo.id, {comps[p.products["oak"]]: oak_staged})
        op = wo.operations[0].id
        wo_id = wo.id
    with p.uow() as uow:
        terminal.start_operation(uow, op)  # "mes.operation_started" → the feeding check runs
    return {"wo": wo_id, "op": op, "oak": comps[p.products["oak"]], "glue": comps[p.products["glue"]]}


def _open(p: fm.Plant) -> dict[int, FeedingTask]:
    with p.uow(readonly=True) as uow:
        tasks = uow.session.scalars(select(FeedingTask).where(FeedingTask.state == "open")).all()
        return {t.product_id: t for t in tasks}


def _staging(p: fm.Plant) -> int:
    with p.uow(readonly=True) as uow:
        return uow.get(WorkCenter, p.work_centers["CUT"]).staging_location_id


def test_a_short_line_gets_one_task_and_completing_it_stages_the_material(db):
    p = fm.plant(db)
    run = _running_top(p)
    opened = _open(p)  # opened by the operation-started event already
    assert set(opened) == {p.products["oak"], p.products["glue"]}
    oak = opened[p.products["oak"]]
    # 0.35 boards/min × 120 cover minutes = 42, but the order only still needs 21 − 2 = 19
    assert oak.quantity == 19 and oak.work_order_id == run["wo"] and oak.number.startswith("SL")
    assert oak.minutes_left == D("5.714286") and oak.dest_location_id == _staging(p)
    assert oak.run_out_at - oak.created_at < dt.timedelta(minutes=6)
    assert opened[p.products["glue"]].quantity == 1  # 0.1 kg a top, all of it: nothing staged yet
    for _i in range(2):  # checking again (the report event, the job) never duplicates
        with p.uow() as uow:
            assert feeding.check_feeding(uow) == []
    assert len(_open(p)) == 2

    f.user(db, p.company, "wh1", roles=("warehouse",))
    with UnitOfWork(f.actor(db, p.company, "wh1")) as uow:
        done = feeding.complete_feeding_task(uow, oak.id)
        assert done.state == "done" and done.move_id and done.done_by_id
    with p.uow(readonly=True) as uow:
        assert inv.on_hand(uow, p.products["oak"], _staging(p)) == 21
        staged_for_order = uow.session.scalar(select(func.sum(StockReservation.quantity)).where(
            StockReservation.ref_type == wos.COMPONENT_REF, StockReservation.ref_id == run["oak"],
            StockReservation.state == "active", StockReservation.location_id == _staging(p)))
        assert staged_for_order == 21  # still reserved for the order at the line
        comp = next(c for c in wos.get_work_order(uow, run["wo"]).components if c.id == run["oak"])
        assert comp.issued_qty == 21
    with p.uow() as uow:
        assert feeding.check_feeding(uow) == []  # oak lasts 60 minutes now; glue's task is still open
    with pytest.raises(Conflict, match="已上料"), UnitOfWork(f.actor(db, p.company, "wh1")) as uow:
        feeding.complete_feeding_task(uow, oak.id)


def test_a_shortage_changes_nothing_and_new_stock_is_reserved_when_the_task_is_done(db):
    p = fm.plant(db)
    run = _running_top(p, qty="30")  # needs 63 boards, 50 in stock: 50 reserved at release, 2 staged
    oak = _open(p)[p.products["oak"]]
    assert oak.quantity == 42

    def reservations():
        with p.uow(readonly=True) as uow:
            return uow.session.scalar(select(func.count()).select_from(StockReservation))

    before = reservations()
    with pytest.raises(InsufficientStock, match=r"库存不足：上料需要 55，工单 \S+ 在仓库可领 48"), p.uow() as uow:
        feeding.complete_feeding_task(uow, oak.id, "55")
    assert reservations() == before
    with p.uow(readonly=True) as uow:
        assert uow.get(FeedingTask, oak.id).state == "open"
        assert inv.on_hand(uow, p.products["oak"], _staging(p)) == 2
    fm.purchase(p, "wood", [("RM-OAK-18", "20", "82", "OAK-2612-B")])
    with p.uow() as uow:
        feeding.complete_feeding_task(uow, oak.id, "55")  # reserves the new boards for the order first
    with p.uow(readonly=True) as uow:
        assert inv.on_hand(uow, p.products["oak"], _staging(p)) == 57
        assert next(c for c in wos.get_work_order(uow, run["wo"]).components if c.id == run["oak"]).issued_qty == 57


def test_cancelled_task_lets_the_next_check_raise_a_new_one_and_the_job_and_events_are_idempotent(db):
    p = fm.plant(db)
    run = _running_top(p)
    glue = _open(p)[p.products["glue"]]
    with p.uow() as uow:
        feeding.cancel_feeding_task(uow, glue.id, "换线")
    with pytest.raises(Conflict), p.uow() as uow:
        feeding.cancel_feeding_task(uow, glue.id)
    event = Event("e-1", "mes.operation_reported", p.company, {"work_center_id": p.work_centers["CUT"],
                                                                 "operation_id": run["op"]})
    for _i in range(2):
        with p.uow() as uow:
            feeding.on_operation_reported(uow, event)
    opened = _open(p)
    assert opened[p.products["glue"]].id != glue.id and len(opened) == 2
    result = feeding.check_feeding_job(JobContext(0, Actor.system(p.company), db, {}))
    assert result == {"created": 0, "tasks": []}
    with p.uow(readonly=True) as uow:
        history, total = feeding.list_tasks(uow, state="cancelled")
        rows = feeding.tasks_to_dicts(uow, history)
    assert total == 1 and rows[0]["cancel_reason"] == "换线" and rows[0]["state_label"] == "已取消"


def test_the_line_board_shows_what_is_staged_and_how_long_it_lasts(db):
    p = fm.plant(db)
    _running_top(p)
    with p.uow(readonly=True) as uow:
        board = feeding.feeding_board(uow)
    cut = next(b for b in board if b["code"] == "CUT")
    lines = {ln["sku"]: ln for ln in cut["lines"]}
    assert lines["RM-OAK-18"]["staged"] == "2" and lines["RM-OAK-18"]["minutes_left"] == "5.7"
    assert lines["RM-OAK-18"]["level"] == "danger" and lines["RM-OAK-18"]["use_per_hour"] == "21"
    assert lines["RM-OAK-18"]["open_task"]["quantity"] == "19"
    assert len(cut["operations"]) == 1 and len(cut["open_tasks"]) == 2 and cut["worst"] == "danger"
    assert feeding.level(D(45), 30) == "warn" and feeding.level(D(61), 30) == "ok"
