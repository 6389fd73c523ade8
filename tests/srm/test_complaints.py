"""Supplier complaints: lifecycle open → action proposed → verified → closed, overdue list, counts."""

from __future__ import annotations

import datetime as dt

import pytest

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.srm import complaints
from tests.srm.factories import registered, shop


def _complaint(s, key="steel", **kw):
    data = {"partner": s.partners[key], "title": "钢板表面划伤", "product": "RM-STEEL", "lot": "L2611",
            "receipt_ref": "GR2026-000001", "defect_description": "抽检 20 张有 3 张划伤", "defect_quantity": "3",
            "supplier_contact": "王经理 13800000000", "owner": "buyer1", "reported_on": "2026-11-20",
            "due_date": "2026-11-27"}
    data.update(kw)
    with s.uow(s.actor("buyer1")) as uow:
        return complaints.open_complaint(uow, data).id


def test_complaint_lifecycle(db):
    s = shop(db)
    registered(s, "steel")
    cid = _complaint(s)
    with pytest.raises(Conflict, match="不能执行此操作"), s.uow() as uow:
        complaints.close_complaint(uow, cid)
    with s.uow(s.actor("buyer1")) as uow:
        complaints.propose_action(uow, cid, "更换包装隔纸，出货前全检")
    with pytest.raises(ValidationFailed, match="验证不通过的原因"), s.uow() as uow:
        complaints.verify_action(uow, cid, effective=False)
    with s.uow(s.actor("buyer2")) as uow:
        assert complaints.verify_action(uow, cid, "下一批仍有划伤", effective=False).state == "open"
    with s.uow(s.actor("buyer1")) as uow:
        complaints.propose_action(uow, cid, "增加覆膜")
    with s.uow(s.actor("buyer2")) as uow:
        complaints.verify_action(uow, cid, "连续三批无划伤")
        c = complaints.close_complaint(uow, cid)
        assert (c.state, c.corrective_action, c.owner_name) == ("closed", "增加覆膜", "buyer1")


def test_complaint_validation(db):
    s = shop(db)
    registered(s, "steel")
    with pytest.raises(ValidationFailed) as exc:
        _complaint(s, defect_description=" ")
    assert exc.value.field == "defect_description"
    with pytest.raises(ValidationFailed) as exc:
        _complaint(s, due_date="2026-11-01")
    assert exc.value.field == "due_date"
    with pytest.raises(ValidationFailed, match="负责人不存在"):
        _complaint(s, owner="nobody")


def test_overdue_list_and_counts_per_supplier(db):
    s = shop(db)
    registered(s, "steel")
    registered(s, "plastic")
    a = _complaint(s, severity="critical")
    _complaint(s, due_date="2099-01-01")
    done = _complaint(s)
    _complaint(s, "plastic", severity="minor", reported_on="2026-10-01", due_date="2026-10-08")
    with s.uow() as uow:
        complaints.propose_action(uow, done, "x")
        complaints.verify_action(uow, done)
        complaints.close_complaint(uow, done)
    with s.uow(readonly=True) as uow:
        overdue, total = complaints.complaint_rows(uow, overdue=True, today=dt.date(2026, 12, 1))
        assert total == 2 and overdue[0].partner_id == s.partners["plastic"] and overdue[1].id == a
        counts = complaints.complaint_counts(uow, [s.partners["steel"], s.partners["plastic"], s.partners["customer"]],
                                             dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert counts[s.partners["steel"]]["total"] == 3
    assert counts[s.partners["steel"]]["critical"] == 1 and counts[s.partners["steel"]]["open"] == 2
    assert counts[s.partners["plastic"]]["total"] == 0  # reported in October
    assert counts[s.partners["customer"]] == {"total": 0, "critical": 0, "major": 0, "minor": 0, "open": 0,
                                              "overdue": 0}
