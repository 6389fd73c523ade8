"""合并报表: the consolidated 利润表 and 资产负债表 of a parent company and its subsidiaries.

Each company's statement is computed exactly as its own report does (`reports._sums` → `_evaluate`
/ `_sheet`), converted into the parent's currency at the parent's rate of the last day (`fx`), and
set side by side; an eliminations column removes what the group did with itself:

* 内部销售: revenue a company booked on a partner standing for another group company
  (``Partner.represents_company_id``) leaves 营业收入, and the same amount leaves 营业成本 — the buyer's
  cost of those goods is the seller's price, the group's cost is the seller's own cost.
* 内部往来: a company's 1122 应收账款 on a group partner against the other company's 2202 应付账款 on the
  partner standing for the first: the matching amount leaves both sides. What does not match (a bill
  not yet booked, a payment in transit) stays and is listed as a difference to look into.

Not eliminated yet: unrealised profit on group goods still in the buyer's stock, inter-company
advances (1123/2203), investments against equity. The caller needs accounting.read and access to
every company of the group; a company the user may not open is never shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.errors import NotFound, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.money import company_currency
from opensupply.core.types import ZERO
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import models as md
from opensupply.masterdata.service import subsidiaries

from . import fx, reports
from .models import Account, JournalLine
from .service import money

KINDS = ("income", "balance")
REVENUE = ("6001", "6051")
RECEIVABLE, PAYABLE, COST = "1122", "2202", "6401"


@contextmanager
def _reading_as(uow: UnitOfWork, company_id: int) -> Iterator[None]:
    saved = uow.actor
    uow.actor = Actor.system(company_id)
    try:
        yield
    finally:
        uow.actor = saved


def group_companies(uow: UnitOfWork) -> list[md.Company]:
    """The acting company and its subsidiaries, once the user may see all of them."""
    uow.actor.require("accounting.read")
    ids = subsidiaries(uow, uow.company_id)
    if len(ids) < 2:
        raise NotFound(_("本公司没有子公司，无需合并报表"))
    actor = uow.actor
    if not actor.is_superuser and any(cid not in actor.company_ids for cid in ids):
        raise PermissionDenied(_("合并报表需要能访问集团内的所有公司"))
    by_id = {c.id: c for c in uow.session.scalars(select(md.Company).where(md.Company.id.in_(ids)))}
    return [by_id[cid] for cid in ids]


def _converted(sums: dict, rate: Decimal) -> dict:
    if rate == 1:
        return sums
    return {code: (money(d * rate), money(c * rate)) for code, (d, c) in sums.items()}


def _ic_partners(uow: UnitOfWork, company_id: int, group: set[int]) -> dict[int, int]:
    """partner id → the group company it stands for, among `company_id`'s partners."""
    return dict(uow.session.execute(select(md.Partner.id, md.Partner.represents_company_id).where(
        md.Partner.company_id == company_id, md.Partner.represents_company_id.in_(group))).all())


def _ic_sums(uow: UnitOfWork, company_id: int, partners: dict[int, int], prefixes: tuple[str, ...], *,
             date_from: dt.date | None, date_to: dt.date) -> dict[tuple[int, str], Decimal]:
    """(other company, prefix) → debit-minus-credit of `company_id`'s lines on group partners."""
    if not partners:
        return {}
    stmt = (select(JournalLine.partner_id, Account.code, func.coalesce(func.sum(JournalLine.debit), 0),
                   func.coalesce(func.sum(JournalLine.credit), 0))
            .join(Account, Account.id == JournalLine.account_id)
            .where(JournalLine.company_id == company_id, JournalLine.partner_id.in_(partners),
                   JournalLine.date <= date_to)
            .group_by(JournalLine.partner_id, Account.code))
    if date_from:
        stmt = stmt.where(JournalLine.date >= date_from)
    out: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for pid, code, debit, credit in uow.session.execute(stmt):
        prefix = next((p for p in prefixes if code.startswith(p)), None)
        if prefix:
            out[(partners[pid], prefix)] += money(debit) - money(credit)
    return out


def consolidated(uow: UnitOfWork, kind: str, date_from: dt.date | None, date_to: dt.date) -> dict:
    """Per-company columns, eliminations and the consolidated total, all in the parent's currency.
    `kind` "income": the period date_from…date_to; "balance": balances at date_to."""
    if kind not in KINDS:
        raise ValidationFailed(_("报表类型不正确：{v}", v=kind), field="kind")
    if kind == "income":
        date_from = date_from or date_to.replace(day=1)
        if date_from > date_to:
            raise ValidationFailed(_("开始日期不能晚于结束日期"), field="date_from")
    else:
        date_from = None
    companies = group_companies(uow)
    group = {c.id for c in companies}
    currency = company_currency(uow)
    names = {c.id: c.name for c in companies}
    columns, rates, ic = [], {}, {}
    accounts: list = []
    for c in companies:
        rate = Decimal(1) if (c.currency_code or "CNY").upper() == currency else fx.document_rate(
            uow, c.currency_code, date_to)  # the parent's rate of the last day
        rates[c.id] = rate
        with _reading_as(uow, c.id):
            own = reports._accounts(uow)
            accounts += own
            sums = reports._sums(uow, date_from=date_from, date_to=date_to, skip_closing=kind == "income")
        sums = _converted(sums, rate)
        columns.append(reports._evaluate(reports.INCOME_ROWS, sums) if kind == "income"
                       else reports._sheet(own, sums))
        prefixes = REVENUE if kind == "income" else (RECEIVABLE, PAYABLE)
        ic[c.id] = {k: money(v * rate) for k, v in _ic_sums(uow, c.id, _ic_partners(uow, c.id, group), prefixes,
                                                            date_from=date_from, date_to=date_to).items()}
    details, warnings = [], []
    if kind == "income":
        total = ZERO
        for c in companies:
            for (other, _p), amount in sorted(ic[c.id].items()):
                sold = -amount  # revenue is a credit
                if sold:
                    total += sold
                    details.append({"what": _("内部销售收入与成本"), "from": names[c.id], "to": names[other],
                                    "amount": sold})
        elim = reports._evaluate(reports.INCOME_ROWS, {REVENUE[0]: (total, ZERO), COST: (ZERO, total)})
        layout = [(r.key, str(r.label), r.level, bool(r.formula)) for r in reports.INCOME_ROWS]
    else:
        total = ZERO
        for i, x in enumerate(companies):
            for y in companies[i + 1:]:
                for seller, buyer in ((x, y), (y, x)):
                    receivable = ic[seller.id].get((buyer.id, RECEIVABLE), ZERO)
                    payable = -ic[buyer.id].get((seller.id, PAYABLE), ZERO)
                    matched = max(min(receivable, payable), ZERO)
                    if matched:
                        total += matched
                        details.append({"what": _("内部应收应付"), "from": names[seller.id], "to": names[buyer.id],
                                        "amount": matched})
                    if receivable != payable:
                        warnings.append(_("{a} 对 {b} 的应收 {r} 与 {b} 对 {a} 的应付 {p} 不一致，差额未抵销",
                                          a=names[seller.id], b=names[buyer.id], r=money(receivable),
                                          p=money(payable)))
        elim = reports._sheet(accounts, {RECEIVABLE: (ZERO, total), PAYABLE: (total, ZERO)})
        layout = [(key, str(label), level, is_total) for _side, rows in reports.BS_LAYOUT
                  for key, label, level, is_total in rows]
    lines = []
    for key, label, level, is_total in layout:
        per = [money(col[key]) for col in columns]
        lines.append({"key": key, "label": label, "level": level, "total": is_total, "companies": per,
                      "eliminations": money(elim[key]), "consolidated": money(sum(per, ZERO) + elim[key])})
    out = {"kind": kind, "date_from": date_from, "date_to": date_to, "currency": currency,
           "companies": [{"id": c.id, "code": c.code, "name": c.name, "currency": c.currency_code,
                          "rate": format(rates[c.id].normalize(), "f")} for c in companies],
           "lines": lines, "eliminations": details, "warnings": warnings}
    value = {ln["key"]: ln["consolidated"] for ln in lines}
    if kind == "balance":
        out["balanced"] = value["total_assets"] == value["total_liabilities_equity"]
    else:
        out["net_profit"] = value["net_profit"]
    return out
