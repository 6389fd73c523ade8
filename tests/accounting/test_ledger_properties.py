"""Random sequences of postings keep the books sound: every voucher balances, the trial balance
balances, the balance sheet balances (assets = liabilities + equity), the income statement's profit
is what the P&L accounts hold, the 收发存 closing value equals the inventory valuation, and the GL
inventory balance (posted by the stock ledger itself) equals that valuation."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from opensupply.accounting import reports
from opensupply.accounting import service as gl
from opensupply.accounting.models import JournalLine
from opensupply.accounting.service import EntryLine
from opensupply.core.errors import Conflict, InsufficientStock
from opensupply.core.sequences import company_today
from opensupply.erp.reports import service as erp_reports
from opensupply.inventory import service as inv
from tests.inventory import factories as fi

D = Decimal
# stock accounts (1402/1403/1405) are left to the stock ledger's own postings: a hand-made voucher on
# them would be a deliberate difference between the books and the valuation
ACCOUNTS = ("1001", "1002", "1221", "1601", "1602", "2001", "2221", "3001", "6001", "6401", "6602", "6603", "6711")
DAY0 = dt.date(2026, 1, 1)

cents = st.integers(1, 5_000_000).map(lambda c: D(c) / 100)
entry = st.tuples(st.integers(0, 300), st.lists(st.tuples(st.sampled_from(ACCOUNTS), cents), min_size=1,
                                                 max_size=4), st.sampled_from(ACCOUNTS))
ops = st.lists(st.one_of(
    st.tuples(st.just("entry"), entry),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("receive"), st.sampled_from(("CUP", "PEN")), st.integers(1, 20), st.integers(1, 5000)),
    st.tuples(st.just("deliver"), st.sampled_from(("CUP", "PEN")), st.integers(1, 20)),
    st.tuples(st.just("carry_forward"), st.integers(1, 12)),
), min_size=1, max_size=12)


def _post(uow, op):
    day_offset, debits, credit_account = op
    total = sum((amount for _acc, amount in debits), D(0))
    lines = [EntryLine(acc, debit=amount) for acc, amount in debits] + [EntryLine(credit_account, credit=total)]
    try:
        return gl.post_entry(uow, journal="GEN", date=DAY0 + dt.timedelta(days=day_offset), lines=lines)
    except Exception as exc:  # a voucher whose lines net to nothing on every account is refused, nothing else
        assert "凭证没有金额" in str(exc), exc
        return None


def _check(uow):
    # every voucher balances (summed as Decimals: SQLite sums NUMERIC as floats)
    net = defaultdict(lambda: D(0))
    for entry_id, debit, credit in uow.session.execute(
            select(JournalLine.entry_id, JournalLine.debit, JournalLine.credit)
            .where(JournalLine.company_id == uow.company_id)):
        net[entry_id] += debit - credit
    assert [e for e, v in net.items() if v != 0] == []
    tb = reports.trial_balance(uow)
    assert tb["total_debit"] == tb["total_credit"] and tb["balanced"]
    assert gl.trial_balance(uow)["total_debit"] == tb["total_debit"]
    for as_of in (dt.date(2026, 3, 31), dt.date(2026, 12, 31)):
        bs = reports.balance_sheet(uow, as_of)
        assert bs["total_assets"] == bs["total_liabilities_equity"], as_of
    # profit in the statements = what income and expense accounts hold net of 期末结转 vouchers
    inc = reports.income_statement(uow, DAY0, dt.date(2026, 12, 31))
    raw = reports._sums(uow, date_from=DAY0, date_to=dt.date(2026, 12, 31), skip_closing=True)
    pl = sum((c - d for code, (d, c) in raw.items() if code[0] == "6"), D(0))
    assert inc["net_profit"] == pl
    valuation = inv.valuation(uow)
    summary = erp_reports.stock_summary(uow, DAY0, company_today(uow))  # Shanghai's today, not the machine's
    assert summary["totals"]["closing_value"] == valuation["total_value"]
    assert valuation["gl_inventory_balance"] == valuation["total_value"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=ops)
def test_random_postings_keep_the_books_balanced(db, ops):
    s = fi.shop(db)
    fi.product(s, "CUP", cost="0")
    fi.product(s, "PEN", cost="0", valuation="fifo")
    posted: list[int] = []
    for op in ops:
        kind = op[0]
        with s.uow() as uow:
            if kind == "entry":
                e = _post(uow, op[1])
                if e is not None:
                    posted.append(e.id)
            elif kind == "reverse" and posted:
                try:
                    gl.reverse_entry(uow, posted[op[1] % len(posted)])
                except Conflict:
                    pass  # already reversed: refused, nothing written
            elif kind == "receive":
                inv.receive(uow, [inv.StockLine(op[1], op[2], unit_cost=D(op[3]) / 100)], "A-01-01",
                            reference="PROP")
            elif kind == "deliver":
                try:
                    inv.deliver(uow, [inv.StockLine(op[1], op[2])], "A-01-01", reference="PROP")
                except InsufficientStock:
                    pass
            elif kind == "carry_forward":
                try:
                    reports.carry_forward(uow, 2026, op[1])
                except Exception as exc:
                    assert "结转" in str(exc), exc
        with s.uow(readonly=True) as uow:
            _check(uow)
