"""General-ledger pages: vouchers, the chart of accounts, the trial balance, periods."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import func, select

from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render
from opensupply.web.resource_pages import resource_pages

from . import service as gl
from .models import AccountingPeriod, JournalEntry
from .resources import accounts

router = APIRouter(include_in_schema=False)
router.include_router(resource_pages(accounts))
READ = Depends(page_permission("accounting.read"))
PAGE = 50


@router.get("/accounting/entries")
def entries_page(request: Request, q: str | None = None, offset: int = 0, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        stmt = select(JournalEntry).where(JournalEntry.company_id == uow.company_id)
        if q:
            like = f"%{q}%"
            stmt = stmt.where(JournalEntry.number.ilike(like) | JournalEntry.reference.ilike(like)
                              | JournalEntry.memo.ilike(like))
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = list(uow.session.scalars(stmt.order_by(JournalEntry.date.desc(), JournalEntry.id.desc())
                                        .limit(PAGE).offset(max(0, offset))))
    keep = urllib.parse.urlencode({"q": q or ""})
    return render(p, "accounting/entries.html", rows=rows, total=total, q=q, offset=max(0, offset), limit=PAGE,
                  keep=keep)


@router.get("/accounting/entries/{entry_id}")
def entry_page(entry_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        entry = gl.get_entry(uow, entry_id)
        lines = [(ln.account.code, ln.account.name, ln.debit, ln.credit, ln.memo) for ln in entry.lines]
    return render(p, "accounting/entry.html", entry=entry, lines=lines,
                  can_write=p.actor.can("accounting.write"))


@router.post("/accounting/entries/{entry_id}/reverse")
def reverse_page(entry_id: int, p: Page = Depends(page_permission("accounting.write"))):
    with UnitOfWork(p.actor) as uow:
        reversal = gl.reverse_entry(uow, entry_id)
        rid = reversal.id
    return redirect(f"/accounting/entries/{rid}", _("已冲销"))


@router.get("/accounting/trial-balance")
def trial_balance_page(date_from: dt.date | None = None, date_to: dt.date | None = None, format: str | None = None,
                       p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        tb = gl.trial_balance(uow, date_from=date_from, date_to=date_to)
    if format == "xlsx":
        from fastapi.responses import Response

        header = [_("科目编码"), _("科目名称"), _("借方发生额"), _("贷方发生额"), _("余额")]
        rows = [[ln["code"], ln["name"], ln["debit"], ln["credit"], ln["balance"]] for ln in tb["lines"]]
        rows.append(["", _("合计"), tb["total_debit"], tb["total_credit"], ""])
        return Response(write_xlsx(header, rows, _("科目余额表")),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="trial-balance.xlsx"'})
    return render(p, "accounting/trial_balance.html", tb=tb, date_from=date_from, date_to=date_to,
                  balanced=tb["total_debit"] == tb["total_credit"])


@router.get("/accounting/periods")
def periods_page(p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows = list(uow.session.scalars(select(AccountingPeriod).where(AccountingPeriod.company_id == uow.company_id)
                                        .order_by(AccountingPeriod.year.desc(), AccountingPeriod.month.desc())))
    today = dt.date.today()
    return render(p, "accounting/periods.html", rows=rows, year=today.year, month=today.month,
                  can_close=p.actor.can("accounting.close"))


@router.post("/accounting/periods")
def period_action(year: int = Form(...), month: int = Form(...), action: str = Form(...),
                  p: Page = Depends(page_permission("accounting.close"))):
    with UnitOfWork(p.actor) as uow:
        if action == "close":
            gl.close_period(uow, year, month)
        else:
            gl.reopen_period(uow, year, month)
    return redirect("/accounting/periods", _("已结账") if action == "close" else _("已反结账"))
