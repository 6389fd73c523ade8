"""The general ledger: balanced vouchers only, gap-free numbers, reversals, closed periods."""

import datetime as dt
from decimal import Decimal

import pytest

from opensupply.accounting import service as gl
from opensupply.accounting.service import EntryLine
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.uow import UnitOfWork
from tests import factories as f

D = Decimal
DAY = dt.date(2026, 11, 3)


def _capital(uow, amount="100000"):
    return gl.post_entry(uow, journal="GEN", date=DAY, memo="股东投入", lines=[
        EntryLine("bank", debit=D(amount)), EntryLine("capital", credit=D(amount))])


def test_balanced_entry_posts_with_a_voucher_number(db):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        entry = _capital(uow)
        assert entry.number == "记2026-000001"
        tb = gl.trial_balance(uow)
    assert tb["total_debit"] == tb["total_credit"] == D("100000.00")
    assert {ln["code"]: ln["balance"] for ln in tb["lines"]} == {"1002": D("100000.00"), "3001": D("100000.00")}


def test_unbalanced_entry_is_refused_and_writes_nothing(db):
    c = f.company(db)
    with pytest.raises(ValidationFailed, match="借贷不平"), UnitOfWork(f.system(c), db=db) as uow:
        gl.post_entry(uow, journal="GEN", date=DAY, lines=[EntryLine("1002", debit=D("10")),
                                                           EntryLine("3001", credit=D("9.99"))])
    with UnitOfWork(f.system(c), db=db) as uow:
        assert gl.trial_balance(uow)["lines"] == []
        assert _capital(uow).number == "记2026-000001"  # the refused voucher used no number


def test_receivable_lines_need_a_partner(db):
    c = f.company(db)
    with pytest.raises(ValidationFailed) as err, UnitOfWork(f.system(c), db=db) as uow:
        gl.post_entry(uow, journal="SAL", date=DAY, lines=[EntryLine("receivable", debit=D("113")),
                                                           EntryLine("revenue", credit=D("113"))])
    assert err.value.field == "partner"


def test_reversal_mirrors_the_entry_and_cannot_repeat(db):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        entry = _capital(uow, "500")
        reversal = gl.reverse_entry(uow, entry.id)
        assert reversal.reversal_of_id == entry.id
        assert gl.account_balance(uow, ("1002",)) == 0
        with pytest.raises(Conflict):
            gl.reverse_entry(uow, entry.id)


def test_closed_period_refuses_postings(db):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        gl.close_period(uow, 2026, 11)
    with pytest.raises(Conflict, match="已结账"), UnitOfWork(f.system(c), db=db) as uow:
        _capital(uow)
    with UnitOfWork(f.system(c), db=db) as uow:
        gl.reopen_period(uow, 2026, 11)
        _capital(uow)


def test_trial_balance_and_manual_entry_over_http(db):
    c = f.company(db)
    client = f.api_client(db, f.user(db, c, roles=("finance",)))
    r = client.post("/api/v1/accounting/entries", json={"date": "2026-11-03", "memo": "存现", "lines": [
        {"account": "1002", "debit": "300"}, {"account": "1001", "credit": "300"}]})
    assert r.status_code == 201, r.text
    bad = client.post("/api/v1/accounting/entries", json={"date": "2026-11-03", "lines": [
        {"account": "1002", "debit": "300"}, {"account": "1001", "credit": "200"}]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "lines"
    tb = client.get("/api/v1/accounting/trial-balance").json()
    assert tb["total_debit"] == tb["total_credit"] == "300.00"
    rev = client.post(f"/api/v1/accounting/entries/{r.json()['id']}/reverse", json={})
    assert rev.status_code == 201
    assert client.get("/api/v1/accounting/entries").json()["total"] == 2
    assert client.get("/api/v1/accounting/accounts", params={"q": "应收"}).json()["total"] >= 1


def test_ledger_is_per_company(db):
    a, b = f.company(db, "GA"), f.company(db, "GB")
    with UnitOfWork(f.system(b), db=db) as uow:
        entry_id = _capital(uow).id
    client = f.api_client(db, f.user(db, a, roles=("finance",)))
    assert client.get(f"/api/v1/accounting/entries/{entry_id}").status_code == 404
    assert client.get("/api/v1/accounting/trial-balance").json()["total_debit"] == "0.00"
