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


def _clerk(db, c):
    """A bookkeeper who may enter vouchers but not approve them."""
    from opensupply.core import auth

    with UnitOfWork(f.system(c), db=db) as uow:
        auth.ensure_role(uow, "clerk", "记账员", ["accounting.read", "accounting.write"])
    return f.user(db, c, roles=("clerk",))


def test_voucher_of_a_clerk_waits_for_approval_and_gets_its_number_when_posted(db):
    c = f.company(db)
    clerk, boss = _clerk(db, c), f.user(db, c, roles=("finance",))
    api = f.api_client(db, clerk)
    with UnitOfWork(f.system(c), db=db) as uow:
        _capital(uow, "1000")  # 记2026-000001
    r = api.post("/api/v1/accounting/entries", json={"date": "2026-11-03", "memo": "备用金", "lines": [
        {"account": "1001", "debit": "200"}, {"account": "1002", "credit": "200"}]})
    assert r.status_code == 201, r.text
    pending = r.json()
    assert pending["state"] == "pending" and pending["number"] is None
    assert [ln["account_name"] for ln in pending["lines"]] == ["库存现金", "银行存款"]
    assert api.get("/api/v1/accounting/trial-balance").json()["total_debit"] == "1000.00"  # not in the books yet
    assert api.post(f"/api/v1/accounting/entries/{pending['id']}/approve").status_code == 403
    unbalanced = api.post("/api/v1/accounting/entries", json={"date": "2026-11-03", "lines": [
        {"account": "1001", "debit": "200"}, {"account": "1002", "credit": "100"}]})
    assert unbalanced.status_code == 422  # checked when submitted, not only when approved
    with UnitOfWork(f.system(c), db=db) as uow:
        _capital(uow, "10")  # 记2026-000002 meanwhile: the pending voucher holds no number
    approver = f.api_client(db, boss)
    assert approver.get("/api/v1/accounting/entries", params={"state": "pending"}).json()["total"] == 1
    posted = approver.post(f"/api/v1/accounting/entries/{pending['id']}/approve")
    assert posted.status_code == 200, posted.text
    assert posted.json()["state"] == "posted" and posted.json()["number"] == "记2026-000003"
    assert approver.get("/api/v1/accounting/trial-balance").json()["total_debit"] == "1210.00"
    again = approver.post(f"/api/v1/accounting/entries/{pending['id']}/approve")
    assert again.status_code == 409


def test_rejected_voucher_needs_a_reason_and_never_posts(db):
    c = f.company(db)
    clerk, boss = _clerk(db, c), f.user(db, c, roles=("finance",))
    entry_id = f.api_client(db, clerk).post("/api/v1/accounting/entries", json={"date": "2026-11-03", "lines": [
        {"account": "6602", "debit": "80"}, {"account": "1001", "credit": "80"}]}).json()["id"]
    approver = f.api_client(db, boss)
    assert approver.post(f"/api/v1/accounting/entries/{entry_id}/reject", json={"reason": ""}).status_code == 422
    r = approver.post(f"/api/v1/accounting/entries/{entry_id}/reject", json={"reason": "缺发票"})
    assert r.status_code == 200 and r.json()["state"] == "rejected" and r.json()["rejected_reason"] == "缺发票"
    assert approver.post(f"/api/v1/accounting/entries/{entry_id}/approve").status_code == 409
    assert approver.post(f"/api/v1/accounting/entries/{entry_id}/reverse", json={}).status_code == 409
    assert approver.get("/api/v1/accounting/trial-balance").json()["lines"] == []


def test_voucher_entry_page_submits_and_approver_posts(db):
    import re

    c = f.company(db)
    clerk, boss = _clerk(db, c), f.user(db, c, roles=("finance",))
    web = f.web_client(db, clerk)
    form = web.get("/accounting/entries/new")
    assert form.status_code == 200 and "提交审核" in form.text
    assert web.get("/accounting/entries/new/line").text.count("<tr") == 1
    token = f.csrf(web)
    bad = web.post("/accounting/entries/new", data={
        "csrf_token": token, "date": "2026-11-03", "memo": "报销", "account": ["6602", "1001"],
        "debit": ["100", ""], "credit": ["", "90"], "partner": ["", ""], "line_memo": ["", ""]})
    assert bad.status_code == 422 and "借贷不平" in bad.text and 'value="90"' in bad.text  # form kept
    ok = web.post("/accounting/entries/new", data={
        "csrf_token": token, "date": "2026-11-03", "memo": "报销", "account": ["6602", "1001", ""],
        "debit": ["100", "", ""], "credit": ["", "100", ""], "partner": ["", "", ""], "line_memo": ["差旅", "", ""]})
    assert ok.status_code == 303, ok.text
    entry_url = ok.headers["location"]
    assert "待审核" in web.get(entry_url).text
    boss_web = f.web_client(db, boss)
    page = boss_web.get(entry_url)
    assert "审核过账" in page.text
    r = boss_web.post(f"{entry_url}/approve", data={"csrf_token": f.csrf(boss_web)})
    assert r.status_code == 303
    page = boss_web.get(entry_url).text
    assert re.search(r"记2026-0+1", page) and "已过账" in page and "差旅" in page


def test_closed_period_refuses_pending_approval_too(db):
    c = f.company(db)
    clerk = _clerk(db, c)
    entry_id = f.api_client(db, clerk).post("/api/v1/accounting/entries", json={"date": "2026-11-03", "lines": [
        {"account": "1001", "debit": "5"}, {"account": "1002", "credit": "5"}]}).json()["id"]
    with UnitOfWork(f.system(c), db=db) as uow:
        gl.close_period(uow, 2026, 11)
    with pytest.raises(Conflict, match="已结账"), UnitOfWork(f.system(c), db=db) as uow:
        gl.approve_entry(uow, entry_id)


def test_posted_voucher_prints_as_pdf(db):
    import io

    from pypdf import PdfReader

    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        entry_id = _capital(uow, "8800").id
    web = f.web_client(db, f.user(db, c, roles=("finance",)))
    assert f"/accounting/entries/{entry_id}/print" in web.get(f"/accounting/entries/{entry_id}").text
    pdf = web.get(f"/accounting/entries/{entry_id}/print")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "记账凭证" in text and "记2026-000001" in text and "股东投入" in text and "8,800.00" in text


def test_period_page_carries_forward_then_closes(db):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        gl.post_entry(uow, journal="GEN", date=DAY,
                      lines=[EntryLine("cash", debit=D(90)), EntryLine("6051", credit=D(90))])
    web = f.web_client(db, f.user(db, c, roles=("finance",)))
    token = f.csrf(web)
    r = web.post("/accounting/periods", data={"csrf_token": token, "year": "2026", "month": "11",
                                              "action": "carry_forward"})
    assert r.status_code == 303
    page = web.get("/accounting/periods").text
    assert "已结转损益" in page and "记2026-000002" in page
    again = web.post("/accounting/periods", data={"csrf_token": token, "year": "2026", "month": "11",
                                                  "action": "carry_forward"})
    assert "已结转" in web.get(again.headers["location"], cookies=again.cookies).text
    web.post("/accounting/periods", data={"csrf_token": token, "year": "2026", "month": "11", "action": "close"})
    api = f.api_client(db, f.user(db, c, roles=("finance",)))
    r = api.post("/api/v1/accounting/entries", json={"date": "2026-11-30", "lines": [
        {"account": "1001", "debit": "1"}, {"account": "1002", "credit": "1"}]})
    assert r.status_code == 409 and r.json()["error"]["field"] == "date"
    tb = api.get("/api/v1/accounting/reports/trial-balance", params={"date_from": "2026-11-01"}).json()
    assert tb["balanced"] and {ln["code"]: ln["closing_credit"] for ln in tb["lines"]}["3103"] == "90.00"


def test_voucher_list_filters_and_exports_one_row_per_line(db):
    import io

    from openpyxl import load_workbook

    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        _capital(uow, "700")
        gl.post_entry(uow, journal="BNK", date=dt.date(2026, 11, 20), memo="手续费",
                      lines=[EntryLine("6603", debit=D(5)), EntryLine("bank", credit=D(5))])
    web = f.web_client(db, f.user(db, c, roles=("finance",)))
    page = web.get("/accounting/entries?journal=BNK").text
    assert "手续费" in page and "股东投入" not in page
    page = web.get("/accounting/entries?date_to=2026-11-10").text
    assert "股东投入" in page and "手续费" not in page
    x = web.get("/accounting/entries?format=xlsx")
    rows = list(load_workbook(io.BytesIO(x.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 4 and rows[0][0] == "凭证号"
    assert ("记2026-000002", "6603", "5.00") in {(r[0], r[6], r[8]) for r in rows}
    detail = web.get(f"/accounting/entries/{_first_id(db, c)}").text
    assert "变更记录" in detail  # the voucher's audit trail


def _first_id(db, c):
    from sqlalchemy import select

    from opensupply.accounting.models import JournalEntry

    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        return uow.session.scalar(select(JournalEntry.id).where(JournalEntry.company_id == c)
                                  .order_by(JournalEntry.id))
