"""The scan terminal: barcodes, start/pause/resume/report/finish, labour time per operator, the machine
following the operation, quantities limited by the previous operation, and double scans counted once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.uow import UnitOfWork
from opensupply.mes import equipment as eqs
from opensupply.mes import terminal
from opensupply.mes import work_orders as wos
from opensupply.mes.models import Equipment, OperationLog
from tests import factories as f
from tests.mes import factories as fm

T0 = dt.datetime(2026, 12, 7, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai


def _released(p: fm.Plant, qty: str = "10") -> dict:
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity=qty)
        wos.release_work_order(uow, wo.id)
        d = wos.work_order_to_dict(uow, wo)
    return d


def _as(db, p: fm.Plant, username: str) -> UnitOfWork:
    return UnitOfWork(f.actor(db, p.company, username), db=db)


def test_labour_per_operator_and_machine_status(db):
    p = fm.plant(db)
    li, wang = f.user(db, p.company, "li", roles=("production",)), f.user(db, p.company, "wang", roles=("production",))
    wo = _released(p)
    op = wo["operations"][0]["id"]
    with _as(db, p, li) as uow:
        terminal.start_operation(uow, op, at=T0)
    with _as(db, p, wang) as uow:  # a second operator joins 10 minutes later
        terminal.start_operation(uow, op, at=T0 + dt.timedelta(minutes=10))
    with p.uow(readonly=True) as uow:
        eq = uow.get(Equipment, p.equipment["CUT-01"])
        assert eq.status == "running"
        assert wos.get_work_order(uow, wo["id"]).state == "in_progress"
    with _as(db, p, li) as uow:
        terminal.pause_operation(uow, op, "等料", at=T0 + dt.timedelta(minutes=30))
    with p.uow(readonly=True) as uow:  # 王 is still on it: still running
        assert uow.get(Equipment, p.equipment["CUT-01"]).status == "running"
    with _as(db, p, wang) as uow:
        terminal.pause_operation(uow, op, "换型调机", at=T0 + dt.timedelta(minutes=40))
    with p.uow(readonly=True) as uow:
        assert uow.get(Equipment, p.equipment["CUT-01"]).status == "idle"
    with _as(db, p, li) as uow:
        terminal.resume_operation(uow, op, at=T0 + dt.timedelta(minutes=50))
    with _as(db, p, li) as uow:
        terminal.finish_operation(uow, op, "10", at=T0 + dt.timedelta(minutes=80))
    with p.uow(readonly=True) as uow:
        labour = {r["username"]: r["labour_minutes"] for r in terminal.labour_by_operator(uow, work_order_id=wo["id"])}
        d = wos.work_order_to_dict(uow, wos.get_work_order(uow, wo["id"]))
        assert uow.get(Equipment, p.equipment["CUT-01"]).status == "idle"
        history = eqs_history(uow, p.equipment["CUT-01"])
    assert labour == {li: Decimal(30 + 30), wang: Decimal(30)}
    op_d = d["operations"][0]
    assert op_d["state"] == "done" and op_d["qty_good"] == "10" and op_d["labour_minutes"] == "90"
    assert history == ["running", "idle", "running", "idle"]


def eqs_history(uow, equipment_id: int) -> list[str]:
    from sqlalchemy import select

    from opensupply.mes.models import EquipmentStatusLog

    return list(uow.session.scalars(select(EquipmentStatusLog.status).where(
        EquipmentStatusLog.equipment_id == equipment_id).order_by(EquipmentStatusLog.started_at,
                                                                  EquipmentStatusLog.id)))


def test_barcodes_and_rules(db):
    p = fm.plant(db)
    wo = _released(p)
    with p.uow(readonly=True) as uow:
        w, op = terminal.resolve_scan(uow, f"{wo['number'].lower()}/20")
        assert (w.id, op.sequence) == (wo["id"], 20)
        assert terminal.resolve_scan(uow, wo["number"])[1].sequence == 10
        with pytest.raises(ValidationFailed):
            terminal.resolve_scan(uow, f"{wo['number']}/x")
    first, second = wo["operations"][0]["id"], wo["operations"][1]["id"]
    with p.uow() as uow:
        terminal.start_operation(uow, first)
    with pytest.raises(Conflict, match="已在加工"), p.uow() as uow:
        terminal.start_operation(uow, first)
    with pytest.raises(ValidationFailed, match="报废原因"), p.uow() as uow:
        terminal.report_quantity(uow, first, "4", "1")
    with p.uow() as uow:
        terminal.report_quantity(uow, first, "4", "1", reason="崩边")
    with p.uow() as uow:
        terminal.start_operation(uow, second)
    with pytest.raises(ValidationFailed, match="超过上道工序"), p.uow() as uow:
        terminal.report_quantity(uow, second, "5")  # only 4 good came from 开料
    with pytest.raises(ValidationFailed, match="暂停原因"), p.uow() as uow:
        terminal.pause_operation(uow, second, " ")


def test_a_broken_machine_cannot_be_started(db):
    p = fm.plant(db)
    wo = _released(p)
    with p.uow() as uow:
        eqs.set_equipment_status(uow, p.equipment["CUT-01"], "down", reason="主轴异响")
    with pytest.raises(Conflict, match="故障"), p.uow() as uow:
        terminal.start_operation(uow, wo["operations"][0]["id"])
    with pytest.raises(ValidationFailed, match="原因"), p.uow() as uow:
        eqs.set_equipment_status(uow, p.equipment["CUT-01"], "maintenance")


def test_terminal_api_counts_a_double_scan_once(db):
    p = fm.plant(db)
    wo = _released(p)
    api = f.api_client(db, f.user(db, p.company, roles=("production",)))
    card = api.post("/api/v1/mes/terminal/scan", json={"code": f"{wo['number']}/10"}).json()
    op = card["operation"]["id"]
    for _ in range(2):
        r = api.post("/api/v1/mes/terminal/start", json={"operation_id": op, "client_scan_id": "pad-3:0001"})
        assert r.status_code == 200, r.text
    body = {"operation_id": op, "qty_good": "10", "client_scan_id": "pad-3:0002"}
    for _ in range(2):
        r = api.post("/api/v1/mes/terminal/finish", json=body)
        assert r.status_code == 200, r.text
    assert r.json()["operation"]["state"] == "done" and r.json()["operation"]["qty_good"] == "10"
    with p.uow(readonly=True) as uow:
        from sqlalchemy import func, select

        assert uow.session.scalar(select(func.count()).select_from(OperationLog)) == 2
    bad = api.post("/api/v1/mes/terminal/scan", json={"code": "WO1999-999999"})
    assert bad.status_code == 404 and "不存在" in bad.json()["error"]["message"]
    viewer = f.api_client(db, f.user(db, p.company, roles=("sales",)))
    assert viewer.post("/api/v1/mes/terminal/start", json={"operation_id": op}).status_code == 403
