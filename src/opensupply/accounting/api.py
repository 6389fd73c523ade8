"""General-ledger endpoints under /api/v1/accounting/."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from opensupply.core.http import require
from opensupply.core.resource_api import resource_router
from opensupply.core.sequences import company_today
from opensupply.core.uow import Actor, UnitOfWork

from . import reports, schemas
from . import service as gl
from .models import AccountingPeriod, JournalEntry
from .resources import accounts

router = APIRouter(tags=["accounting"])
router.include_router(resource_router(accounts))
READ, WRITE = Depends(require("accounting.read")), Depends(require("accounting.write"))


@router.get("/accounting/trial-balance")
def trial_balance(date_from: dt.date | None = None, date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    """Ledger health: total debits and credits of the range, one line per account with its opening
    balance, the range's debits and credits and its closing balance (`balance`, on its normal side)."""
    with UnitOfWork(actor, readonly=True) as uow:
        tb = reports.trial_balance(uow, date_from=date_from, date_to=date_to)
        return schemas.report_out({"total_debit": tb["total_debit"], "total_credit": tb["total_credit"],
                                   "lines": tb["lines"], "totals": tb["totals"]})


def _month_range(date_from: dt.date | None, date_to: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    date_to = date_to or today
    return date_from or date_to.replace(day=1), date_to


@router.get("/accounting/reports/income-statement")
def income_statement(date_from: dt.date | None = None, date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    """利润表 for the period (default: this month so far) with year-to-date amounts."""
    with UnitOfWork(actor, readonly=True) as uow:
        period = _month_range(date_from, date_to, company_today(uow))
        return schemas.report_out(reports.income_statement(uow, *period))


@router.get("/accounting/reports/balance-sheet")
def balance_sheet(as_of: dt.date | None = None, actor: Actor = READ) -> dict:
    """资产负债表 at a date (default today) with the year's opening beside it."""
    with UnitOfWork(actor, readonly=True) as uow:
        return schemas.report_out(reports.balance_sheet(uow, as_of or company_today(uow)))


@router.get("/accounting/reports/consolidated")
def consolidated(kind: str = "income", date_from: dt.date | None = None, date_to: dt.date | None = None,
                 actor: Actor = READ) -> dict:
    """合并报表 of the acting company and its subsidiaries: `kind` income (利润表 over date_from…date_to,
    default this month) or balance (资产负债表 at date_to): a column per company, the eliminations of
    inter-company sales and receivables/payables, and the consolidated total, in the parent's currency.
    Needs access to every company of the group."""
    from . import consolidation

    with UnitOfWork(actor, readonly=True) as uow:
        return schemas.report_out(consolidation.consolidated(uow, kind, date_from, date_to or company_today(uow)))


@router.get("/accounting/reports/general-ledger")
def general_ledger(account: str, date_from: dt.date | None = None, date_to: dt.date | None = None,
                   partner_id: int | None = None, actor: Actor = READ) -> dict:
    """明细账 of an account (code or role) and its sub-accounts with running balance."""
    with UnitOfWork(actor, readonly=True) as uow:
        return schemas.report_out(reports.general_ledger(uow, account, date_from=date_from, date_to=date_to,
                                                         partner_id=partner_id))


@router.get("/accounting/reports/trial-balance")
def trial_balance_report(date_from: dt.date | None = None, date_to: dt.date | None = None,
                         actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return schemas.report_out(reports.trial_balance(uow, date_from=date_from, date_to=date_to))


@router.get("/accounting/entries")
def list_entries(q: str | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None,
                 journal: str | None = None, state: str | None = None, limit: int = Query(50, ge=1, le=500),
                 offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        stmt = select(JournalEntry).where(JournalEntry.company_id == uow.company_id)
        if q:
            like = f"%{q}%"
            stmt = stmt.where(JournalEntry.number.ilike(like) | JournalEntry.reference.ilike(like)
                              | JournalEntry.memo.ilike(like))
        if date_from:
            stmt = stmt.where(JournalEntry.date >= date_from)
        if date_to:
            stmt = stmt.where(JournalEntry.date <= date_to)
        if journal:
            from .models import Journal

            stmt = stmt.join(Journal).where(Journal.code == journal)
        if state:
            stmt = stmt.where(JournalEntry.state == state)
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.scalars(stmt.order_by(JournalEntry.date.desc(), JournalEntry.id.desc())
                                   .limit(limit).offset(offset))
        return {"items": [schemas.entry_out(e, gl.entry_lines(uow, e)) for e in rows], "total": total}


@router.get("/accounting/entries/{entry_id}")
def get_entry(entry_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        entry = gl.get_entry(uow, entry_id)
        return schemas.entry_out(entry, gl.entry_lines(uow, entry))


@router.post("/accounting/entries", status_code=201)
def create_entry(body: schemas.EntryIn, actor: Actor = WRITE) -> dict:
    """A manual voucher: posted at once with accounting.approve, else `pending` until approved."""
    with UnitOfWork(actor) as uow:
        entry = gl.submit_manual_entry(uow, journal=body.journal, date=body.date, memo=body.memo,
                                       reference=body.reference,
                                       lines=[gl.EntryLine(account=ln.account, debit=ln.debit, credit=ln.credit,
                                                           partner_id=ln.partner_id, memo=ln.memo)
                                              for ln in body.lines])
        return schemas.entry_out(entry, gl.entry_lines(uow, entry))


@router.post("/accounting/entries/{entry_id}/approve")
def approve(entry_id: int, actor: Actor = Depends(require("accounting.approve"))) -> dict:
    with UnitOfWork(actor) as uow:
        entry = gl.approve_entry(uow, entry_id)
        return schemas.entry_out(entry, gl.entry_lines(uow, entry))


@router.post("/accounting/entries/{entry_id}/reject")
def reject(entry_id: int, body: schemas.RejectIn, actor: Actor = Depends(require("accounting.approve"))) -> dict:
    with UnitOfWork(actor) as uow:
        entry = gl.reject_entry(uow, entry_id, body.reason)
        return schemas.entry_out(entry, gl.entry_lines(uow, entry))


@router.post("/accounting/entries/{entry_id}/reverse", status_code=201)
def reverse(entry_id: int, body: schemas.ReverseIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return schemas.entry_out(gl.reverse_entry(uow, entry_id, date=body.date, memo=body.memo))


@router.get("/accounting/periods")
def periods(actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows = list(uow.session.scalars(select(AccountingPeriod).where(AccountingPeriod.company_id == uow.company_id)
                                        .order_by(AccountingPeriod.year.desc(), AccountingPeriod.month.desc())))
        return {"items": [{"year": p.year, "month": p.month, "state": p.state} for p in rows], "total": len(rows)}


@router.post("/accounting/periods/{year}/{month}/close")
def close(year: int, month: int, actor: Actor = Depends(require("accounting.close"))) -> dict:
    with UnitOfWork(actor) as uow:
        p = gl.close_period(uow, year, month)
        return {"year": p.year, "month": p.month, "state": p.state}


@router.post("/accounting/periods/{year}/{month}/carry-forward", status_code=201)
def carry_forward(year: int, month: int, actor: Actor = Depends(require("accounting.close"))) -> dict:
    """期末结转: income and expense balances to 本年利润 (and, in December, on to 利润分配)."""
    with UnitOfWork(actor) as uow:
        return {"items": [schemas.entry_out(e) for e in reports.carry_forward(uow, year, month)]}


@router.post("/accounting/periods/{year}/{month}/reopen")
def reopen(year: int, month: int, actor: Actor = Depends(require("accounting.close"))) -> dict:
    with UnitOfWork(actor) as uow:
        p = gl.reopen_period(uow, year, month)
        return {"year": p.year, "month": p.month, "state": p.state}
