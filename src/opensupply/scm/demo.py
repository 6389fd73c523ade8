"""Demo demand forecast: one monthly run over the demo's sales history (its few SKUs only, computed at once in
the seeding transaction, not as a background job), approved by the buyer — the planner of the demo company."""

from __future__ import annotations

from sqlalchemy import select

from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import service as svc
from .models import ForecastRun


def seed(uow: UnitOfWork, company: md.Company) -> None:
    if uow.session.scalar(select(ForecastRun.id).where(ForecastRun.company_id == company.id).limit(1)):
        return  # already seeded
    run = svc.run_forecast(uow, bucket="month", horizon=6, history_periods=12)
    if run.series_count:
        svc.approve_run(uow, run.id)
