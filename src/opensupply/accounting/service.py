"""General-ledger use cases: set up the books, post balanced entries, reverse them, close
periods, and read balances.

Every business document posts through `post_entry`: the lines must balance to the cent,
the period must be open, and the voucher number (凭证号) is gap-free — it is taken inside
the posting transaction, so a rolled-back document gives its number back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, insert, or_, select

from opensupply.core.audit import record
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork

from . import chart
from .models import Account, AccountingPeriod, Journal, JournalEntry, JournalLine

CENT = Decimal("0.01")
register_sequence("JV", "记{year}-", 6, gap_free=True)


def money(value) -> Decimal:
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class EntryLine:
    account: str  # account code or role name (see chart.ROLES)
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    partner_id: int | None = None
    product_id: int | None = None
    memo: str = ""
    currency_code: str | None = None
    amount_currency: Decimal | None = None


# ------------------------------------------------------------------ setup
def ensure_books(uow: UnitOfWork) -> None:
    """The preset chart of accounts and journals for the unit of work's company (idempotent)."""
    s = uow.session
    have = set(s.scalars(select(Account.code).where(Account.company_id == uow.company_id)))
    for code, name, kind, side, partner in chart.PRESET:
        if code not in have:
            parent = code[:4] if len(code) > 4 else None
            s.add(Account(company_id=uow.company_id, code=code, name=name, account_type=kind, balance_side=side,
                          parent_code=parent, partner_required=partner))
    journals = set(s.scalars(select(Journal.code).where(Journal.company_id == uow.company_id)))
    for code, name, kind in chart.JOURNALS:
        if code not in journals:
            s.add(Journal(company_id=uow.company_id, code=code, name=name, journal_type=kind))
    s.flush()


def accounts_by_code(uow: UnitOfWork, codes: set[str]) -> dict[str, Account]:
    found = {a.code: a for a in uow.session.scalars(
        select(Account).where(Account.company_id == uow.company_id, Account.code.in_(codes)))}
    if len(found) < len(codes):
        ensure_books(uow)  # a company set up before its books: create them on first posting
        found = {a.code: a for a in uow.session.scalars(
            select(Account).where(Account.company_id == uow.company_id, Account.code.in_(codes)))}
    missing = codes - set(found)
    if missing:
        raise ValidationFailed(_("会计科目不存在：{codes}", codes=", ".join(sorted(missing))), field="account")
    return found


def account_code(ref: str) -> str:
    return chart.ROLES.get(ref, ref)


# ------------------------------------------------------------------ periods
def period_state(uow: UnitOfWork, day: dt.date) -> str:
    state = uow.session.scalar(select(AccountingPeriod.state).where(
        AccountingPeriod.company_id == uow.company_id, AccountingPeriod.year == day.year,
        AccountingPeriod.month == day.month))
    return state or "open"


def close_period(uow: UnitOfWork, year: int, month: int) -> AccountingPeriod:
    uow.actor.require("accounting.close")
    period = _period(uow, year, month)
    period.state = "closed"
    uow.session.flush()
    return period


def reopen_period(uow: UnitOfWork, year: int, month: int) -> AccountingPeriod:
    uow.actor.require("accounting.close")
    period = _period(uow, year, month)
    period.state = "open"
    uow.session.flush()
    return period


def _period(uow: UnitOfWork, year: int, month: int) -> AccountingPeriod:
    if not (1 <= month <= 12 and 1900 < year < 3000):
        raise ValidationFailed(_("会计期间无效：{y}-{m}", y=year, m=month), field="month")
    period = uow.session.scalar(select(AccountingPeriod).where(
        AccountingPeriod.company_id == uow.company_id, AccountingPeriod.year == year,
        AccountingPeriod.month == month).with_for_update())
    if period is None:
        period = AccountingPeriod(company_id=uow.company_id, year=year, month=month, state="open")
        uow.session.add(period)
    return period


# ------------------------------------------------------------------ posting
def _checked_rows(uow: UnitOfWork, lines: list[EntryLine]) -> tuple[list[tuple], dict[str, Account], Decimal]:
    """Round, drop zero lines, check balance, accounts and partners: (line, debit, credit) rows."""
    rows = []
    for ln in lines:
        debit, credit = money(ln.debit), money(ln.credit)
        if debit < 0 or credit < 0:  # a negative debit is a credit: keep each line on its natural side
            debit, credit = max(debit, ZERO) + max(-credit, ZERO), max(credit, ZERO) + max(-debit, ZERO)
        net = debit - credit
        if net == 0:
            continue
        rows.append((ln, max(net, ZERO), max(-net, ZERO)))
    if not rows:
        raise ValidationFailed(_("凭证没有金额"), field="lines")
    total_debit = sum((d for _ln, d, _c in rows), ZERO)
    total_credit = sum((c for _ln, _d, c in rows), ZERO)
    if total_debit != total_credit:
        raise ValidationFailed(_("借贷不平：借方 {d}，贷方 {c}", d=total_debit, c=total_credit), field="lines")
    accounts = accounts_by_code(uow, {account_code(ln.account) for ln, _d, _c in rows})
    for ln, _d, _c in rows:
        acc = accounts[account_code(ln.account)]
        if not acc.active:
            raise ValidationFailed(_("科目已停用：{code} {name}", code=acc.code, name=acc.name), field="account")
        if acc.partner_required and ln.partner_id is None:
            raise ValidationFailed(_("科目 {code} {name} 需要往来单位", code=acc.code, name=acc.name), field="partner")
    return rows, accounts, total_debit


def _check_open(uow: UnitOfWork, date: dt.date) -> None:
    if period_state(uow, date) == "closed":
        raise Conflict(_("会计期间 {y}-{m:02d} 已结账，不能记账", y=date.year, m=date.month), field="date")


def ensure_open_period(uow: UnitOfWork, date: dt.date) -> None:
    """Refuse (Conflict) when the period of `date` is closed (已结账)."""
    _check_open(uow, date)


def _journal(uow: UnitOfWork, journal: str) -> Journal:
    jrn = uow.session.scalar(select(Journal).where(Journal.company_id == uow.company_id, Journal.code == journal))
    if jrn is None:
        ensure_books(uow)
        jrn = uow.session.scalar(select(Journal).where(Journal.company_id == uow.company_id, Journal.code == journal))
        if jrn is None:
            raise ValidationFailed(_("账簿不存在：{code}", code=journal), field="journal")
    return jrn


def _write_lines(uow: UnitOfWork, entry: JournalEntry, rows: list[tuple], accounts: dict[str, Account]) -> None:
    now = utcnow()
    uow.session.execute(insert(JournalLine), [{
        "company_id": uow.company_id, "entry_id": entry.id, "account_id": accounts[account_code(ln.account)].id,
        "date": entry.date, "partner_id": ln.partner_id, "product_id": ln.product_id, "debit": d, "credit": c,
        "currency_code": ln.currency_code, "amount_currency": ln.amount_currency, "memo": ln.memo[:500],
        "created_at": now, "updated_at": now, "created_by_id": uow.actor.user_id, "updated_by_id": uow.actor.user_id,
    } for ln, d, c in rows])
    record(uow.session, "lines", "journal_entry", entry.id, after={"lines": [
        {"account": account_code(ln.account), "debit": str(d), "credit": str(c), "partner_id": ln.partner_id}
        for ln, d, c in rows]})


def post_entry(uow: UnitOfWork, *, journal: str, date: dt.date, lines: list[EntryLine], memo: str = "",
               reference: str | None = None, ref_type: str | None = None, ref_id: int | None = None,
               reversal_of_id: int | None = None) -> JournalEntry:
    """Post one balanced voucher. Amounts are rounded to the cent; zero lines are dropped."""
    _check_open(uow, date)
    rows, accounts, total_debit = _checked_rows(uow, lines)
    jrn = _journal(uow, journal)
    entry = JournalEntry(company_id=uow.company_id, number=next_number(uow, "JV", on=date), journal_id=jrn.id,
                         date=date, state="posted", memo=memo[:300], reference=reference, ref_type=ref_type,
                         ref_id=ref_id, reversal_of_id=reversal_of_id, total=total_debit)
    uow.session.add(entry)
    uow.session.flush()
    _write_lines(uow, entry, rows, accounts)
    return entry


# ------------------------------------------------------------------ manual vouchers and their approval
def _line_json(ln: EntryLine) -> dict:
    return {"account": ln.account, "debit": str(money(ln.debit)), "credit": str(money(ln.credit)),
            "partner_id": ln.partner_id, "product_id": ln.product_id, "memo": ln.memo[:500]}


def _line_from_json(d: dict) -> EntryLine:
    return EntryLine(account=d["account"], debit=to_decimal(d.get("debit") or 0),
                     credit=to_decimal(d.get("credit") or 0), partner_id=d.get("partner_id"),
                     product_id=d.get("product_id"), memo=d.get("memo") or "")


def submit_manual_entry(uow: UnitOfWork, *, date: dt.date, lines: list[EntryLine], journal: str = "GEN",
                        memo: str = "", reference: str | None = None) -> JournalEntry:
    """A voucher typed by a bookkeeper. With accounting.approve it posts at once; without, it
    waits as `pending` (checked now, no number, no ledger lines) for someone who may approve."""
    uow.actor.require("accounting.write")
    if uow.actor.can("accounting.approve"):
        entry = post_entry(uow, journal=journal, date=date, lines=lines, memo=memo, reference=reference,
                           ref_type="manual")
        entry.submitted_by_id = entry.approved_by_id = uow.actor.user_id
        uow.session.flush()
        return entry
    _check_open(uow, date)
    rows, _accounts, total = _checked_rows(uow, lines)
    jrn = _journal(uow, journal)
    entry = JournalEntry(company_id=uow.company_id, number=None, journal_id=jrn.id, date=date, state="pending",
                         memo=memo[:300], reference=reference, ref_type="manual", total=total,
                         pending_lines=[_line_json(EntryLine(ln.account, d, c, ln.partner_id, ln.product_id, ln.memo))
                                        for ln, d, c in rows],
                         submitted_by_id=uow.actor.user_id)
    uow.session.add(entry)
    uow.session.flush()
    return entry


def _pending(uow: UnitOfWork, entry_id: int) -> JournalEntry:
    entry = uow.get(JournalEntry, entry_id, for_update=True)
    if entry.state != "pending":
        raise Conflict(_("凭证不在待审核状态"), field="state")
    return entry


def approve_entry(uow: UnitOfWork, entry_id: int) -> JournalEntry:
    """Post a pending voucher: it gets its gap-free number now, dated as submitted."""
    uow.actor.require("accounting.approve")
    entry = _pending(uow, entry_id)
    _check_open(uow, entry.date)
    rows, accounts, total = _checked_rows(uow, [_line_from_json(d) for d in entry.pending_lines or []])
    entry.number = next_number(uow, "JV", on=entry.date)
    entry.state, entry.total, entry.pending_lines = "posted", total, None
    entry.approved_by_id = uow.actor.user_id
    uow.session.flush()
    _write_lines(uow, entry, rows, accounts)
    uow.session.expire(entry, ["lines"])
    return entry


def reject_entry(uow: UnitOfWork, entry_id: int, reason: str) -> JournalEntry:
    uow.actor.require("accounting.approve")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写驳回原因"), field="reason")
    entry = _pending(uow, entry_id)
    entry.state, entry.rejected_reason, entry.approved_by_id = "rejected", reason[:300], uow.actor.user_id
    uow.session.flush()
    return entry


def entry_lines(uow: UnitOfWork, entry: JournalEntry) -> list[dict]:
    """The voucher's lines for display, posted or still pending."""
    if entry.state == "posted" or not entry.pending_lines:
        return [{"account": ln.account.code, "account_name": ln.account.name, "debit": ln.debit,
                 "credit": ln.credit, "partner_id": ln.partner_id, "product_id": ln.product_id, "memo": ln.memo,
                 "currency_code": ln.currency_code, "amount_currency": ln.amount_currency}
                for ln in entry.lines]
    codes = {account_code(d["account"]) for d in entry.pending_lines}
    names = dict(uow.session.execute(select(Account.code, Account.name).where(
        Account.company_id == uow.company_id, Account.code.in_(codes))).all())
    return [{**d, "account": account_code(d["account"]), "account_name": names.get(account_code(d["account"]), ""),
             "debit": to_decimal(d["debit"]), "credit": to_decimal(d["credit"])} for d in entry.pending_lines]


def reverse_entry(uow: UnitOfWork, entry_id: int, *, date: dt.date | None = None, memo: str = "") -> JournalEntry:
    """Cancel a posted voucher with its mirror image; the original stays as it was."""
    original = uow.get(JournalEntry, entry_id, for_update=True)
    if original.state != "posted":
        raise Conflict(_("只有已过账的凭证可以冲销"), field="state")
    if original.reversed:
        raise Conflict(_("凭证 {n} 已冲销", n=original.number))
    if original.reversal_of_id is not None:
        raise Conflict(_("冲销凭证不能再冲销：{n}", n=original.number))
    date = date or original.date
    if period_state(uow, date) == "closed":
        date = utcnow().date()  # reverse into the current open period, as bookkeepers do
    lines = [EntryLine(account=ln.account.code, debit=ln.credit, credit=ln.debit, partner_id=ln.partner_id,
                       product_id=ln.product_id, memo=ln.memo, currency_code=ln.currency_code,
                       amount_currency=-ln.amount_currency if ln.amount_currency is not None else None)
             for ln in original.lines]
    reversal = post_entry(uow, journal=original.journal.code, date=date, lines=lines,
                          memo=memo or _("冲销 {n}", n=original.number), reference=original.reference,
                          ref_type=original.ref_type, ref_id=original.ref_id, reversal_of_id=original.id)
    original.reversed = True
    uow.session.flush()
    return reversal


def entries_for(uow: UnitOfWork, ref_type: str, ref_id: int) -> list[JournalEntry]:
    return list(uow.session.scalars(select(JournalEntry).where(
        JournalEntry.company_id == uow.company_id, JournalEntry.ref_type == ref_type,
        JournalEntry.ref_id == ref_id).order_by(JournalEntry.id)))


def reverse_document(uow: UnitOfWork, ref_type: str, ref_id: int, memo: str = "") -> list[JournalEntry]:
    """Reverse every still-standing entry a business document posted (its cancellation)."""
    return [reverse_entry(uow, e.id, memo=memo) for e in entries_for(uow, ref_type, ref_id)
            if not e.reversed and e.reversal_of_id is None]


# ------------------------------------------------------------------ reading
def balances(uow: UnitOfWork, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
             partner_id: int | None = None) -> list[dict]:
    """Debit and credit totals per account over a date range (one query)."""
    stmt = (select(Account.code, Account.name, Account.account_type, Account.balance_side,
                   func.coalesce(func.sum(JournalLine.debit), 0), func.coalesce(func.sum(JournalLine.credit), 0))
            .join(JournalLine, JournalLine.account_id == Account.id)
            .where(JournalLine.company_id == uow.company_id)
            .group_by(Account.code, Account.name, Account.account_type, Account.balance_side)
            .order_by(Account.code))
    if date_from:
        stmt = stmt.where(JournalLine.date >= date_from)
    if date_to:
        stmt = stmt.where(JournalLine.date <= date_to)
    if partner_id:
        stmt = stmt.where(JournalLine.partner_id == partner_id)
    out = []
    for code, name, kind, side, debit, credit in uow.session.execute(stmt):
        debit, credit = money(debit), money(credit)
        out.append({"code": code, "name": name, "type": kind, "side": side, "debit": debit, "credit": credit,
                    "balance": debit - credit if side == "debit" else credit - debit})
    return out


def trial_balance(uow: UnitOfWork, *, date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict:
    lines = balances(uow, date_from=date_from, date_to=date_to)
    return {"total_debit": sum((ln["debit"] for ln in lines), ZERO),
            "total_credit": sum((ln["credit"] for ln in lines), ZERO), "lines": lines}


def account_balance(uow: UnitOfWork, code_prefixes: tuple[str, ...], *, as_of: dt.date | None = None,
                    partner_id: int | None = None) -> Decimal:
    """Debit-minus-credit balance of every account whose code starts with one of the prefixes."""
    cond = [Account.code.startswith(p) for p in code_prefixes]
    stmt = (select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
            .join(Account, Account.id == JournalLine.account_id)
            .where(JournalLine.company_id == uow.company_id, or_(*cond)))
    if as_of:
        stmt = stmt.where(JournalLine.date <= as_of)
    if partner_id is not None:
        stmt = stmt.where(JournalLine.partner_id == partner_id)
    return money(uow.session.scalar(stmt))


def partner_balances(uow: UnitOfWork, role: str) -> dict[int, Decimal]:
    """Open balance per partner on a receivable/payable account (debit-positive)."""
    code = account_code(role)
    stmt = (select(JournalLine.partner_id, func.sum(JournalLine.debit - JournalLine.credit))
            .join(Account, Account.id == JournalLine.account_id)
            .where(JournalLine.company_id == uow.company_id, Account.code == code,
                   JournalLine.partner_id.is_not(None))
            .group_by(JournalLine.partner_id))
    return {pid: money(v) for pid, v in uow.session.execute(stmt)}


def partner_currency_balance(uow: UnitOfWork, role: str, partner_id: int,
                             currency: str | None) -> tuple[Decimal, Decimal]:
    """(company-currency, foreign) debit-minus-credit balance of one partner on a receivable/payable
    account, over the lines carrying `currency` (None: the lines without a foreign amount)."""
    cond = JournalLine.currency_code.is_(None) if currency is None else JournalLine.currency_code == currency
    row = uow.session.execute(
        select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0),
               func.coalesce(func.sum(JournalLine.amount_currency), 0))
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.company_id == uow.company_id, Account.code == account_code(role),
               JournalLine.partner_id == partner_id, cond)).one()
    return money(row[0]), to_decimal(row[1] or 0)


def get_entry(uow: UnitOfWork, entry_id: int) -> JournalEntry:
    entry = uow.session.scalar(select(JournalEntry).where(JournalEntry.id == entry_id,
                                                          JournalEntry.company_id == uow.company_id))
    if entry is None:
        raise NotFound(_("凭证不存在：#{id}", id=entry_id))
    return entry


def inventory_gl_balance(uow: UnitOfWork) -> Decimal:
    """What the ledger says stock is worth: raw materials, goods and goods in transit."""
    return account_balance(uow, (chart.ROLES["raw_materials"], chart.ROLES["inventory"],
                                 chart.ROLES["goods_in_transit"]))

