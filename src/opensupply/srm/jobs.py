"""The SRM daily run (certificate-expiry reminders, expiry of price agreements), as a background job kind
`srm.daily` (enqueue it from /jobs or a scheduler) and as `opensupply srm remind-expiring`. There is no
periodic scheduler in core, so running it daily is cron's job."""

from __future__ import annotations

from sqlalchemy import select

from opensupply.core.db import get_database
from opensupply.core.jobs import JobContext, job
from opensupply.core.modules import enabled_for
from opensupply.core.uow import Actor, UnitOfWork

from . import contracts, suppliers


def _run_for(uow: UnitOfWork, days: int) -> dict:
    return {"reminders": len(suppliers.remind_expiring(uow, days)),
            "contracts_expired": contracts.expire_contracts(uow)}


def run_daily(*, days: int = 30, company_code: str | None = None, db=None) -> list[dict]:
    from opensupply.masterdata.models import Company

    db = db or get_database()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        stmt = select(Company.id, Company.code).where(Company.active.is_(True)).order_by(Company.id)
        if company_code:
            stmt = stmt.where(Company.code == company_code)
        companies = list(uow.session.execute(stmt).all())
    out = []
    for cid, code in companies:
        with UnitOfWork(Actor.system(cid), db=db) as uow:
            if "srm" not in enabled_for(uow):
                continue
            out.append({"company": code, **_run_for(uow, days)})
    return out


@job("srm.daily")
def daily_job(ctx: JobContext) -> dict:
    with ctx.uow() as uow:
        return _run_for(uow, int(ctx.params.get("days", 30)))
