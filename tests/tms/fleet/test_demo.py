"""The demo company has an own fleet: a depot, two vans, two drivers and tomorrow's route plan solved."""

from sqlalchemy import select

from opensupply.core import jobs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.demo import seed_demo
from opensupply.masterdata.models import Company
from opensupply.tms.models import TmsDriver, TmsRoutePlan, TmsVehicle


def test_demo_fleet(sqlite_db, monkeypatch):
    # SQLite only: the demo is the embedded setup (`serve --demo`); its flows run on PostgreSQL in their own tests
    db = sqlite_db
    monkeypatch.setattr(jobs, "in_process", False)
    monkeypatch.setenv("OPENSUPPLY_DEMO_PASSWORD", "Demo-pass-2026")
    from opensupply.core.config import get_settings

    get_settings.cache_clear()
    try:
        assert seed_demo()["created"]
    finally:
        get_settings.cache_clear()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        cid = uow.session.scalar(select(Company.id).where(Company.code == "DEMO"))
    with UnitOfWork(Actor.system(cid), db=db, readonly=True) as uow:
        assert len(list(uow.session.scalars(select(TmsVehicle).where(TmsVehicle.company_id == cid)))) == 2
        assert len(list(uow.session.scalars(select(TmsDriver).where(TmsDriver.company_id == cid)))) == 2
        plan = uow.session.scalars(select(TmsRoutePlan).where(TmsRoutePlan.company_id == cid)).one()
        assert plan.status == "planned" and plan.routes
        assert sum(len(r.stops) for r in plan.routes) + len(plan.unassigned or []) == 12
