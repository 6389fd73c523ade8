"""Foreign-currency test helpers: exchange rates on dates, USD partners, and the ledger read back
per partner in company currency and in the foreign currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from opensupply.accounting import service as gl
from opensupply.accounting.models import Account, JournalEntry, JournalLine
from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import resources
from opensupply.masterdata.models import CurrencyRate

D = Decimal
NOV = dt.date(2026, 11, 1)


def day(n: int) -> dt.date:
    """A day of November 2026 (all before 'today' of the tests)."""
    return NOV.replace(day=n)


def _uow(db, company: int, readonly: bool = False) -> UnitOfWork:
    return UnitOfWork(Actor.system(company), db=db, readonly=readonly)


def rates(db, company: int, currency: str, table: dict[dt.date, str]) -> None:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        for date, rate in table.items():
            uow.add(CurrencyRate(currency_code=currency, date=date, rate=D(rate)))


def partner(db, company: int, code: str, name: str, *, currency: str = "USD", supplier: bool = False,
            terms: int = 30) -> int:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        return rs.create_record(uow, resources.partners, {
            "code": code, "name": name, "is_supplier": supplier, "is_customer": not supplier,
            "payment_terms_days": terms, "currency_code": currency}).id


def account_lines(db, company: int, code: str, partner_id: int | None = None) -> list[JournalLine]:
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        stmt = (select(JournalLine).join(Account, Account.id == JournalLine.account_id)
                .where(JournalLine.company_id == company, Account.code == code).order_by(JournalLine.id))
        if partner_id is not None:
            stmt = stmt.where(JournalLine.partner_id == partner_id)
        lines = list(uow.session.scalars(stmt))
        uow.session.expunge_all()
        return lines


def balance(db, company: int, code: str, partner_id: int | None = None) -> Decimal:
    """Debit-minus-credit in company currency."""
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        return gl.account_balance(uow, (code,), partner_id=partner_id)


def balance_currency(db, company: int, code: str, partner_id: int) -> Decimal:
    """Debit-minus-credit of the foreign amounts on an account for a partner."""
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        v = uow.session.scalar(select(func.coalesce(func.sum(JournalLine.amount_currency), 0))
                               .join(Account, Account.id == JournalLine.account_id)
                               .where(JournalLine.company_id == company, Account.code == code,
                                      JournalLine.partner_id == partner_id))
        return D(str(v)).quantize(D("0.01"))


def fx_result(db, company: int) -> Decimal:
    """660301 汇兑损益 balance: + a net loss, − a net gain."""
    return balance(db, company, "660301")


def vouchers_balance(db, company: int) -> None:
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        rows = uow.session.execute(select(JournalLine.entry_id, JournalLine.debit, JournalLine.credit)
                                   .where(JournalLine.company_id == company)).all()
        net: dict[int, Decimal] = {}
        for entry_id, debit, credit in rows:
            net[entry_id] = net.get(entry_id, D(0)) + debit - credit
        assert [e for e, v in net.items() if v != 0] == []
        tb = gl.trial_balance(uow)
        assert tb["total_debit"] == tb["total_credit"]
        assert uow.session.scalar(select(func.count()).select_from(JournalEntry)
                                  .where(JournalEntry.company_id == company)) > 0
