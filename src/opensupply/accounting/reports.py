"""Financial statements drawn from the general ledger: 利润表 (income statement), 资产负债表
(balance sheet), 明细账 (general-ledger detail), 科目余额表 (trial balance with opening, period
and closing columns), and 期末结转 (carrying profit and loss to 本年利润).

Layouts follow 小企业会计准则. Every account lands in exactly one balance-sheet line (accounts
no line names fall into 其他…), so assets = liabilities + equity holds for any chart."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.types import ZERO
from opensupply.core.uow import UnitOfWork

from . import chart
from . import service as gl
from .models import Account, JournalEntry, JournalLine
from .service import EntryLine, account_code, money, post_entry

CLOSING = "closing"  # ref_type of 期末结转 vouchers: the income statement looks through them
CLOSING_YEAR = "closing_year"


# ------------------------------------------------------------------ sums
def _sums(uow: UnitOfWork, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
          skip_closing: bool = False) -> dict[str, tuple[Decimal, Decimal]]:
    """(debit, credit) per account code over a date range, in one query."""
    stmt = (select(Account.code, func.coalesce(func.sum(JournalLine.debit), 0),
                   func.coalesce(func.sum(JournalLine.credit), 0))
            .join(JournalLine, JournalLine.account_id == Account.id)
            .where(JournalLine.company_id == uow.company_id)
            .group_by(Account.code))
    if date_from:
        stmt = stmt.where(JournalLine.date >= date_from)
    if date_to:
        stmt = stmt.where(JournalLine.date <= date_to)
    if skip_closing:
        stmt = stmt.join(JournalEntry, JournalEntry.id == JournalLine.entry_id).where(
            or_(JournalEntry.ref_type.is_(None), JournalEntry.ref_type.not_in((CLOSING, CLOSING_YEAR))))
    return {code: (money(d), money(c)) for code, d, c in uow.session.execute(stmt)}


def _accounts(uow: UnitOfWork) -> list[Account]:
    from .service import ensure_books

    accounts = list(uow.session.scalars(select(Account).where(Account.company_id == uow.company_id)
                                        .order_by(Account.code)))
    if not accounts and not uow.readonly:
        ensure_books(uow)
        return _accounts(uow)
    return accounts


def _net(sums: dict, prefixes: tuple[str, ...], side: str = "debit") -> Decimal:
    total = ZERO
    for code, (d, c) in sums.items():
        if code.startswith(prefixes):
            total += d - c
    return total if side == "debit" else -total


# ------------------------------------------------------------------ income statement
@dataclass(frozen=True)
class Row:
    key: str
    label: object  # lazy string
    prefixes: tuple[str, ...] = ()
    side: str = "debit"
    formula: tuple[tuple[int, str], ...] = ()  # (sign, key) of earlier rows
    level: int = 0


INCOME_ROWS = (
    Row("revenue", _l("一、营业收入"), ("6001", "6051"), "credit"),
    Row("cost", _l("减：营业成本"), ("6401", "6402"), level=1),
    Row("taxes", _l("税金及附加"), ("6403",), level=1),
    Row("selling", _l("销售费用"), ("6601",), level=1),
    Row("admin", _l("管理费用"), ("6602",), level=1),
    Row("finance", _l("财务费用"), ("6603",), level=1),
    Row("investment", _l("加：投资收益"), ("6111",), "credit", level=1),
    Row("operating_profit", _l("二、营业利润"), formula=((1, "revenue"), (-1, "cost"), (-1, "taxes"),
                                                    (-1, "selling"), (-1, "admin"), (-1, "finance"),
                                                    (1, "investment"))),
    Row("non_operating_income", _l("加：营业外收入"), ("6301",), "credit", level=1),
    Row("non_operating_expense", _l("减：营业外支出"), ("6711",), level=1),
    Row("total_profit", _l("三、利润总额"), formula=((1, "operating_profit"), (1, "non_operating_income"),
                                                 (-1, "non_operating_expense"))),
    Row("income_tax", _l("减：所得税费用"), ("6801",), level=1),
    Row("net_profit", _l("四、净利润"), formula=((1, "total_profit"), (-1, "income_tax"))),
)


def _evaluate(rows: tuple[Row, ...], sums: dict) -> dict[str, Decimal]:
    values: dict[str, Decimal] = {}
    for r in rows:
        if r.formula:
            values[r.key] = money(sum((sign * values[k] for sign, k in r.formula), ZERO))
        else:
            values[r.key] = money(_net(sums, r.prefixes, r.side))
    return values


def income_statement(uow: UnitOfWork, date_from: dt.date, date_to: dt.date) -> dict:
    """利润表: the period's amounts and the year to date (1 January of date_to's year to date_to).
    期末结转 vouchers are looked through, so a closed month still shows its profit."""
    if date_from > date_to:
        raise ValidationFailed(_("开始日期不能晚于结束日期"), field="date_from")
    period = _evaluate(INCOME_ROWS, _sums(uow, date_from=date_from, date_to=date_to, skip_closing=True))
    ytd = _evaluate(INCOME_ROWS, _sums(uow, date_from=date_to.replace(month=1, day=1), date_to=date_to,
                                       skip_closing=True))
    return {"date_from": date_from, "date_to": date_to,
            "lines": [{"key": r.key, "label": str(r.label), "level": r.level, "total": bool(r.formula),
                       "period": period[r.key], "year_to_date": ytd[r.key]} for r in INCOME_ROWS],
            "net_profit": period["net_profit"], "net_profit_ytd": ytd["net_profit"]}


def monthly_profit(uow: UnitOfWork, year: int, *, through: dt.date | None = None) -> list[dict]:
    """Revenue, cost of sales and net profit per month of a year (up to `through`), for the trend chart."""
    out = []
    for month in range(1, 13):
        start = dt.date(year, month, 1)
        if through and start > through:
            break
        values = _evaluate(INCOME_ROWS, _sums(uow, date_from=start, date_to=month_end(year, month), skip_closing=True))
        out.append({"month": f"{year}-{month:02d}", "revenue": values["revenue"], "cost": values["cost"],
                    "net_profit": values["net_profit"]})
    return out


# ------------------------------------------------------------------ balance sheet
ASSET_ROWS = (
    Row("cash", _l("货币资金"), ("1001", "1002", "1012")),
    Row("notes_receivable", _l("应收票据"), ("1121",)),
    Row("receivable", _l("应收账款"), ("1122",)),
    Row("prepayment", _l("预付账款"), ("1123",)),
    Row("other_receivable", _l("其他应收款"), ("1221",)),
    Row("inventory", _l("存货"), ("1401", "1402", "1403", "1404", "1405", "1406", "1407", "1408", "1411",
                                "1421", "1471", "5001", "5101", "5201", "5401")),  # 1471 跌价准备 nets off
    Row("other_current_assets", _l("其他流动资产"), ()),  # every other asset account not named below
)
FIXED_ASSET_ROWS = (
    Row("fixed_assets_cost", _l("固定资产原价"), ("1601",)),
    Row("depreciation", _l("减：累计折旧"), ("1602",), "credit"),
)
LIABILITY_ROWS = (
    Row("short_loans", _l("短期借款"), ("2001",), "credit"),
    Row("notes_payable", _l("应付票据"), ("2201",), "credit"),
    Row("payable", _l("应付账款"), ("2202",), "credit"),
    Row("advances", _l("预收账款"), ("2203",), "credit"),
    Row("payroll", _l("应付职工薪酬"), ("2211",), "credit"),
    Row("taxes_payable", _l("应交税费"), ("2221",), "credit"),
    Row("other_payable", _l("其他应付款"), ("2241",), "credit"),
    Row("other_liabilities", _l("其他负债"), (), "credit"),
)
EQUITY_ROWS = (
    Row("capital", _l("实收资本"), ("3001",), "credit"),
    Row("capital_reserve", _l("资本公积"), ("3002",), "credit"),
    Row("surplus_reserve", _l("盈余公积"), ("3101",), "credit"),
    Row("retained_earnings", _l("未分配利润"), ("3103", "3104"), "credit"),  # + profit not yet carried forward
    Row("other_equity", _l("其他权益"), (), "credit"),
)


def _sheet(accounts: list[Account], sums: dict) -> dict[str, Decimal]:
    """Every account into one line: named prefixes first, the rest by account type."""
    named = sorted(((r, p) for rows in (ASSET_ROWS, FIXED_ASSET_ROWS, LIABILITY_ROWS, EQUITY_ROWS) for r in rows
                    for p in r.prefixes), key=lambda rp: -len(rp[1]))
    kind = {a.code: a.account_type for a in accounts}
    values = {r.key: ZERO for rows in (ASSET_ROWS, FIXED_ASSET_ROWS, LIABILITY_ROWS, EQUITY_ROWS) for r in rows}
    for code, (d, c) in sums.items():
        row = next((r for r, p in named if code.startswith(p)), None)
        if row is None:
            t = kind.get(code, "asset")
            if t in ("income", "expense"):
                row = EQUITY_ROWS[3]  # profit of the year not yet carried to 本年利润
            elif t == "liability":
                row = LIABILITY_ROWS[-1]
            elif t == "equity":
                row = EQUITY_ROWS[-1]
            else:
                row = ASSET_ROWS[-1]
        values[row.key] += (d - c) if row.side == "debit" else (c - d)
    values["current_assets"] = sum((values[r.key] for r in ASSET_ROWS), ZERO)
    values["fixed_assets_net"] = values["fixed_assets_cost"] - values["depreciation"]
    values["non_current_assets"] = values["fixed_assets_net"]
    values["total_assets"] = values["current_assets"] + values["non_current_assets"]
    values["current_liabilities"] = sum((values[r.key] for r in LIABILITY_ROWS), ZERO)
    values["total_liabilities"] = values["current_liabilities"]
    values["total_equity"] = sum((values[r.key] for r in EQUITY_ROWS), ZERO)
    values["total_liabilities_equity"] = values["total_liabilities"] + values["total_equity"]
    return {k: money(v) for k, v in values.items()}


BS_LAYOUT = (  # (key, label, level, is_total), left (assets) then right (liabilities and equity)
    ("assets", (
        *[(r.key, r.label, 1, False) for r in ASSET_ROWS],
        ("current_assets", _l("流动资产合计"), 0, True),
        *[(r.key, r.label, 1, False) for r in FIXED_ASSET_ROWS],
        ("fixed_assets_net", _l("固定资产账面价值"), 1, False),
        ("non_current_assets", _l("非流动资产合计"), 0, True),
        ("total_assets", _l("资产总计"), 0, True),
    )),
    ("liabilities_equity", (
        *[(r.key, r.label, 1, False) for r in LIABILITY_ROWS],
        ("current_liabilities", _l("流动负债合计"), 0, True),
        ("total_liabilities", _l("负债合计"), 0, True),
        *[(r.key, r.label, 1, False) for r in EQUITY_ROWS],
        ("total_equity", _l("所有者权益合计"), 0, True),
        ("total_liabilities_equity", _l("负债和所有者权益总计"), 0, True),
    )),
)


def balance_sheet(uow: UnitOfWork, as_of: dt.date) -> dict:
    """资产负债表 at a date, with the opening of the year (31 December before) beside it."""
    accounts = _accounts(uow)
    closing = _sheet(accounts, _sums(uow, date_to=as_of))
    opening = _sheet(accounts, _sums(uow, date_to=as_of.replace(month=1, day=1) - dt.timedelta(days=1)))
    sections = {name: [{"key": k, "label": str(label), "level": level, "total": total, "closing": closing[k],
                        "opening": opening[k]} for k, label, level, total in rows] for name, rows in BS_LAYOUT}
    return {"as_of": as_of, **sections, "total_assets": closing["total_assets"],
            "total_liabilities": closing["total_liabilities"], "total_equity": closing["total_equity"],
            "total_liabilities_equity": closing["total_liabilities_equity"],
            "balanced": closing["total_assets"] == closing["total_liabilities_equity"]}


# ------------------------------------------------------------------ trial balance with opening and closing
def cash_balance(uow: UnitOfWork, as_of: dt.date | None = None) -> Decimal:
    """货币资金 at a date (cash, bank and other monetary funds such as platform balances), as the balance sheet
    shows it."""
    from .service import account_balance

    cash = next(r for r in ASSET_ROWS if r.key == "cash")
    return account_balance(uow, cash.prefixes, as_of=as_of)


def _split(amount: Decimal) -> tuple[Decimal, Decimal]:
    """A debit-positive balance as (debit, credit) columns, both to the cent."""
    return (money(amount), money(0)) if amount >= 0 else (money(0), money(-amount))


def trial_balance(uow: UnitOfWork, *, date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict:
    """科目余额表: per account opening balance, the period's debits and credits, closing balance."""
    accounts = {a.code: a for a in _accounts(uow)}
    period = _sums(uow, date_from=date_from, date_to=date_to)
    before = _sums(uow, date_to=date_from - dt.timedelta(days=1)) if date_from else {}
    lines, totals = [], dict.fromkeys(("opening_debit", "opening_credit", "debit", "credit", "closing_debit",
                                       "closing_credit"), money(0))
    for code in sorted(set(period) | {c for c, (d, cr) in before.items() if d != cr}):
        acc = accounts.get(code)
        od, oc = before.get(code, (money(0), money(0)))
        d, c = period.get(code, (money(0), money(0)))
        opening_debit, opening_credit = _split(od - oc)
        closing_debit, closing_credit = _split(od - oc + d - c)
        side = acc.balance_side if acc else "debit"
        closing = (od - oc + d - c) if side == "debit" else (oc - od + c - d)
        line = {"code": code, "name": acc.name if acc else code, "type": acc.account_type if acc else "",
                "side": side, "opening_debit": opening_debit, "opening_credit": opening_credit, "debit": d,
                "credit": c, "closing_debit": closing_debit, "closing_credit": closing_credit, "balance": closing}
        for k in totals:
            totals[k] += line[k]
        lines.append(line)
    return {"date_from": date_from, "date_to": date_to, "lines": lines,
            "total_debit": totals["debit"], "total_credit": totals["credit"], "totals": totals,
            "balanced": all(totals[f"{p}debit"] == totals[f"{p}credit"] for p in ("opening_", "", "closing_"))}


# ------------------------------------------------------------------ general-ledger detail
def general_ledger(uow: UnitOfWork, account: str, *, date_from: dt.date | None = None,
                   date_to: dt.date | None = None, partner_id: int | None = None, limit: int = 5000) -> dict:
    """明细账 of one account and its sub-accounts: opening balance, every line with voucher
    number, date, memo and partner, the running balance, and the closing balance."""
    from opensupply.masterdata.models import Partner

    code = account_code((account or "").strip())
    acc = uow.session.scalar(select(Account).where(Account.company_id == uow.company_id, Account.code == code))
    if acc is None:
        raise ValidationFailed(_("会计科目不存在：{codes}", codes=code or "—"), field="account")
    sign = 1 if acc.balance_side == "debit" else -1
    ids = list(uow.session.scalars(select(Account.id).where(Account.company_id == uow.company_id,
                                                             Account.code.startswith(code))))
    base = [JournalLine.company_id == uow.company_id, JournalLine.account_id.in_(ids)]
    if partner_id is not None:
        base.append(JournalLine.partner_id == partner_id)
    opening = ZERO
    if date_from:
        opening = money(uow.session.scalar(select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
                                           .where(*base, JournalLine.date < date_from))) * sign
    stmt = (select(JournalLine, JournalEntry.number, JournalEntry.memo, JournalEntry.reference, Account.code,
                   Account.name, Partner.name)
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .join(Account, Account.id == JournalLine.account_id)
            .outerjoin(Partner, Partner.id == JournalLine.partner_id)
            .where(*base).order_by(JournalLine.date, JournalEntry.number, JournalLine.id))
    if date_from:
        stmt = stmt.where(JournalLine.date >= date_from)
    if date_to:
        stmt = stmt.where(JournalLine.date <= date_to)
    running, lines, total_debit, total_credit = opening, [], ZERO, ZERO
    rows = uow.session.execute(stmt.limit(limit + 1)).all()
    truncated = len(rows) > limit
    for ln, number, entry_memo, reference, acode, aname, partner in rows[:limit]:
        running += (ln.debit - ln.credit) * sign
        total_debit += ln.debit
        total_credit += ln.credit
        lines.append({"date": ln.date, "number": number, "entry_id": ln.entry_id, "account": acode,
                      "account_name": aname, "memo": ln.memo or entry_memo, "reference": reference,
                      "partner_id": ln.partner_id, "partner": partner, "debit": money(ln.debit),
                      "credit": money(ln.credit), "balance": running})
    return {"account": acc.code, "account_name": acc.name, "side": acc.balance_side, "date_from": date_from,
            "date_to": date_to, "opening": opening, "lines": lines, "total_debit": total_debit,
            "total_credit": total_credit, "closing": running, "truncated": truncated}


# ------------------------------------------------------------------ 期末结转
def month_end(year: int, month: int) -> dt.date:
    if not (1 <= month <= 12 and 1900 < year < 3000):
        raise ValidationFailed(_("会计期间无效：{y}-{m}", y=year, m=month), field="month")
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def carry_forward(uow: UnitOfWork, year: int, month: int, *, close_year: bool | None = None) -> list[JournalEntry]:
    """期末结转: move every income and expense account's balance to 3103 本年利润 with a voucher
    dated the month's last day. In December (or when `close_year`), the year's profit then
    moves from 本年利润 to 3104 利润分配. Done once per month: reverse the voucher to redo it."""
    uow.actor.require("accounting.close")
    day = month_end(year, month)
    ref_id = year * 100 + month
    gl._period(uow, year, month)  # row lock on the period: two carry-forwards of one month queue here
    done = uow.session.scalar(select(JournalEntry.id).where(
        JournalEntry.company_id == uow.company_id, JournalEntry.ref_type == CLOSING, JournalEntry.ref_id == ref_id,
        JournalEntry.reversed.is_(False), JournalEntry.reversal_of_id.is_(None)))
    if done is not None:
        raise Conflict(_("{y}-{m:02d} 已结转损益", y=year, m=month), field="month")
    kinds = {a.code: a.account_type for a in _accounts(uow)}
    sums = _sums(uow, date_to=day)
    profit_account = chart.ROLES["current_year_profit"]
    lines, profit = [], ZERO
    for code, (d, c) in sorted(sums.items()):
        if kinds.get(code) not in ("income", "expense") or d == c:
            continue
        lines.append(EntryLine(account=code, debit=max(c - d, ZERO), credit=max(d - c, ZERO),
                               memo=_("结转损益")))
        profit += c - d
    entries = []
    if lines:
        lines.append(EntryLine(account=profit_account, debit=max(-profit, ZERO), credit=max(profit, ZERO),
                               memo=_("本期利润")))
        entries.append(post_entry(uow, journal="GEN", date=day, lines=lines, ref_type=CLOSING, ref_id=ref_id,
                                  memo=_("{y}年{m}月期末结转损益", y=year, m=month)))
    if close_year if close_year is not None else month == 12:
        uow.session.flush()
        d, c = _sums(uow, date_to=day).get(profit_account, (ZERO, ZERO))
        if d != c:
            entries.append(post_entry(uow, journal="GEN", date=day, ref_type=CLOSING_YEAR, ref_id=ref_id,
                                      memo=_("{y}年度本年利润转入利润分配", y=year),
                                      lines=[EntryLine(profit_account, debit=max(c - d, ZERO), credit=max(d - c, ZERO)),
                                             EntryLine("3104", debit=max(d - c, ZERO), credit=max(c - d, ZERO))]))
    if not entries:
        raise ValidationFailed(_("{y}-{m:02d} 没有需要结转的损益", y=year, m=month), field="month")
    return entries


def closing_entries(uow: UnitOfWork) -> dict[tuple[int, int], JournalEntry]:
    """Standing 期末结转 vouchers by (year, month)."""
    rows = uow.session.scalars(select(JournalEntry).where(
        JournalEntry.company_id == uow.company_id, JournalEntry.ref_type == CLOSING,
        JournalEntry.reversed.is_(False), JournalEntry.reversal_of_id.is_(None)))
    return {(e.ref_id // 100, e.ref_id % 100): e for e in rows}
