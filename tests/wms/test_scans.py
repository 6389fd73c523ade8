"""A resubmitted PDA scan (same client scan id) is recorded and acted on once."""

from opensupply.core.errors import ValidationFailed
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.wms.scans import scan_once
from tests import factories as f


def test_a_double_submitted_scan_acts_once_and_replays_its_first_result(db):
    company = f.company(db)
    calls = []

    def act():
        calls.append(1)
        return {"task_id": None, "message": "ok", "n": len(calls)}

    for _ in range(3):
        with UnitOfWork(Actor.system(company), db=db) as uow:
            out = scan_once(uow, "dev1-0001", "pick", "D-01-01", act)
    assert calls == [1] and out["n"] == 1 and out["replayed"] is True


def test_a_refused_scan_is_not_recorded_so_a_retry_is_judged_afresh(db):
    company = f.company(db)

    def refuse():
        raise ValidationFailed("扫描的商品不对")

    try:
        with UnitOfWork(Actor.system(company), db=db) as uow:
            scan_once(uow, "dev1-0002", "pick", "X", refuse)
    except ValidationFailed:
        pass
    with UnitOfWork(Actor.system(company), db=db) as uow:
        assert scan_once(uow, "dev1-0002", "pick", "SKU", lambda: {"ok": True}) == {"ok": True}
