"""Financial statements from the ledger: a small month of business, checked by hand."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from opensupply.accounting import reports
from opensupply.accounting import service as gl
from opensupply.accounting.service import EntryLine
from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import resources
from tests import factories as f

D = Decimal


def _partner(db, c, name="华东贸易"):
    with UnitOfWork(f.system(c), db=db) as uow:
        return rs.create_record(uow, resources.partners, {"code": f"P{name}", "name": name,
                                                          "is_customer": True}).id


def _month(db, c, customer):
    """October 2026: capital 100,000; buy goods 20,000 on credit (VAT 2,600); sell for 30,000 + VAT 3,900
    (cost 18,000); rent 2,000 from the bank; bank fee 50; income tax 2,000 accrued."""
    with UnitOfWork(f.system(c), db=db) as uow:
        post = gl.post_entry
        post(uow, journal="GEN", date=dt.date(2026, 10, 1), memo="股东投入",
             lines=[EntryLine("bank", debit=D(100000)), EntryLine("capital", credit=D(100000))])
        post(uow, journal="PUR", date=dt.date(2026, 10, 5), memo="采购入库",
             lines=[EntryLine("inventory", debit=D(20000)), EntryLine("vat_input", debit=D(2600)),
                    EntryLine("payable", credit=D(22600), partner_id=customer)])
        post(uow, journal="SAL", date=dt.date(2026, 10, 10), memo="销售",
             lines=[EntryLine("receivable", debit=D(33900), partner_id=customer),
                    EntryLine("revenue", credit=D(30000)), EntryLine("vat_output", credit=D(3900))])
        post(uow, journal="STK", date=dt.date(2026, 10, 10), memo="结转成本",
             lines=[EntryLine("cogs", debit=D(18000)), EntryLine("inventory", credit=D(18000))])
        post(uow, journal="BNK", date=dt.date(2026, 10, 15), memo="房租",
             lines=[EntryLine("admin_expense", debit=D(2000)), EntryLine("bank", credit=D(2000))])
        post(uow, journal="BNK", date=dt.date(2026, 10, 20), memo="手续费",
             lines=[EntryLine("finance_expense", debit=D(50)), EntryLine("bank", credit=D(50))])
        post(uow, journal="GEN", date=dt.date(2026, 10, 31), memo="计提所得税",
             lines=[EntryLine("6801", debit=D(2000)), EntryLine("2221", credit=D(2000))])


def test_income_statement_and_balance_sheet_by_hand(db):
    c = f.company(db)
    customer = _partner(db, c)
    _month(db, c, customer)
    with UnitOfWork(f.system(c), db=db) as uow:
        inc = reports.income_statement(uow, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
        lines = {ln["key"]: ln["period"] for ln in inc["lines"]}
        assert lines["revenue"] == D("30000.00") and lines["cost"] == D("18000.00")
        assert lines["admin"] == D("2000.00") and lines["finance"] == D("50.00")
        assert lines["operating_profit"] == D("9950.00")
        assert lines["total_profit"] == D("9950.00")
        assert lines["net_profit"] == inc["net_profit"] == D("7950.00")
        trend = reports.monthly_profit(uow, 2026, through=dt.date(2026, 11, 15))
        assert [m["month"] for m in trend][-2:] == ["2026-10", "2026-11"]
        assert trend[9]["net_profit"] == D("7950.00") and trend[10]["revenue"] == 0
        nov = reports.income_statement(uow, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        assert nov["net_profit"] == 0 and nov["net_profit_ytd"] == D("7950.00")  # year to date carries October

        bs = reports.balance_sheet(uow, dt.date(2026, 10, 31))
        assets = {ln["key"]: ln["closing"] for ln in bs["assets"]}
        right = {ln["key"]: ln["closing"] for ln in bs["liabilities_equity"]}
        assert assets["cash"] == D("97950.00")
        assert assets["receivable"] == D("33900.00")
        assert assets["inventory"] == D("2000.00")
        assert right["payable"] == D("22600.00")
        assert right["taxes_payable"] == D("3300.00")  # 3,900 output − 2,600 input + 2,000 income tax
        assert right["capital"] == D("100000.00")
        assert right["retained_earnings"] == D("7950.00")  # profit not yet carried forward
        assert bs["total_assets"] == bs["total_liabilities_equity"] == D("133850.00")
        assert bs["balanced"]
        opening = {ln["key"]: ln["opening"] for ln in bs["assets"]}
        assert opening["total_assets"] == 0


def test_carry_forward_moves_profit_to_current_year_profit_and_keeps_statements(db):
    c = f.company(db)
    _month(db, c, _partner(db, c))
    with UnitOfWork(f.system(c), db=db) as uow:
        entries = reports.carry_forward(uow, 2026, 10)
        assert len(entries) == 1 and entries[0].date == dt.date(2026, 10, 31)
        assert gl.account_balance(uow, ("6",)) == 0  # every P&L account is empty now
        assert gl.account_balance(uow, ("3103",)) == D("-7950.00")  # a credit of 7,950
        with pytest.raises(Conflict, match="已结转"):
            reports.carry_forward(uow, 2026, 10)
    with UnitOfWork(f.system(c), db=db) as uow:
        inc = reports.income_statement(uow, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
        assert inc["net_profit"] == D("7950.00")  # the closing voucher is looked through
        bs = reports.balance_sheet(uow, dt.date(2026, 10, 31))
        assert {ln["key"]: ln["closing"] for ln in bs["liabilities_equity"]}["retained_earnings"] == D("7950.00")
        assert bs["balanced"]
        tb = reports.trial_balance(uow)
        assert tb["balanced"] and tb["total_debit"] == tb["total_credit"]
    with UnitOfWork(f.system(c), db=db) as uow:
        gl.close_period(uow, 2026, 10)
    with pytest.raises(Conflict, match="已结账"), UnitOfWork(f.system(c), db=db) as uow:
        gl.post_entry(uow, journal="GEN", date=dt.date(2026, 10, 31),
                      lines=[EntryLine("bank", debit=D(1)), EntryLine("capital", credit=D(1))])
    with pytest.raises(ValidationFailed, match="没有需要结转"), UnitOfWork(f.system(c), db=db) as uow:
        reports.carry_forward(uow, 2026, 11)


def test_year_end_carries_the_year_profit_to_profit_distribution(db):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        gl.post_entry(uow, journal="GEN", date=dt.date(2026, 12, 5),
                      lines=[EntryLine("cash", debit=D(500)), EntryLine("6051", credit=D(500))])
        reports.carry_forward(uow, 2026, 12)
        assert gl.account_balance(uow, ("3103",)) == 0
        assert gl.account_balance(uow, ("3104",)) == D("-500.00")
        assert reports.balance_sheet(uow, dt.date(2026, 12, 31))["balanced"]
        # the new year opens with the profit in 未分配利润
        bs = reports.balance_sheet(uow, dt.date(2027, 1, 31))
        assert {ln["key"]: ln["opening"] for ln in bs["liabilities_equity"]}["retained_earnings"] == D("500.00")


def test_general_ledger_detail_with_running_balance(db):
    c = f.company(db)
    customer = _partner(db, c)
    _month(db, c, customer)
    with UnitOfWork(f.system(c), db=db) as uow:
        gl_ = reports.general_ledger(uow, "1002", date_from=dt.date(2026, 10, 2), date_to=dt.date(2026, 10, 31))
        assert gl_["opening"] == D("100000.00")
        assert [ln["balance"] for ln in gl_["lines"]] == [D("98000.00"), D("97950.00")]
        assert [ln["memo"] for ln in gl_["lines"]] == ["房租", "手续费"]
        assert gl_["lines"][0]["number"].startswith("记2026-")
        assert gl_["closing"] == D("97950.00")
        ar = reports.general_ledger(uow, "receivable")
        assert ar["lines"][0]["partner"] == "华东贸易" and ar["closing"] == D("33900.00")
        payable = reports.general_ledger(uow, "2202")  # a credit account runs credit-positive
        assert payable["closing"] == D("22600.00")
        with pytest.raises(ValidationFailed):
            reports.general_ledger(uow, "9999")


def test_trial_balance_opening_period_closing(db):
    c = f.company(db)
    _month(db, c, _partner(db, c))
    with UnitOfWork(f.system(c), db=db) as uow:
        tb = reports.trial_balance(uow, date_from=dt.date(2026, 10, 2), date_to=dt.date(2026, 10, 31))
        bank = next(ln for ln in tb["lines"] if ln["code"] == "1002")
        assert (bank["opening_debit"], bank["credit"], bank["closing_debit"]) == (
            D("100000.00"), D("2050.00"), D("97950.00"))
        capital = next(ln for ln in tb["lines"] if ln["code"] == "3001")  # no movement, still listed
        assert capital["opening_credit"] == capital["closing_credit"] == D("100000.00")
        assert tb["balanced"]


def test_reports_over_http_xlsx_and_pdf(db):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    c = f.company(db)
    _month(db, c, _partner(db, c))
    user = f.user(db, c, roles=("finance",))
    api = f.api_client(db, user)
    inc = api.get("/api/v1/accounting/reports/income-statement",
                  params={"date_from": "2026-10-01", "date_to": "2026-10-31"}).json()
    assert {ln["key"]: ln["period"] for ln in inc["lines"]}["net_profit"] == "7950.00"
    bs = api.get("/api/v1/accounting/reports/balance-sheet", params={"as_of": "2026-10-31"}).json()
    assert bs["total_assets"] == bs["total_liabilities_equity"] == "133850.00"
    led = api.get("/api/v1/accounting/reports/general-ledger", params={"account": "1002"}).json()
    assert led["closing"] == "97950.00" and len(led["lines"]) == 3
    bad = api.get("/api/v1/accounting/reports/general-ledger", params={"account": "8888"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "account"
    tb = api.get("/api/v1/accounting/trial-balance").json()
    assert set(tb) >= {"total_debit", "total_credit", "lines"} and tb["total_debit"] == tb["total_credit"]

    web = f.web_client(db, user)
    page = web.get("/accounting/reports/income-statement?date_from=2026-10-01&date_to=2026-10-31")
    assert page.status_code == 200 and "营业利润" in page.text and "7,950.00" in page.text
    assert "profit-chart-options" in page.text and '"2026-10"' in page.text and "7950.0" in page.text
    page = web.get("/accounting/reports/balance-sheet?as_of=2026-10-31")
    assert page.status_code == 200 and "负债和所有者权益总计" in page.text and "133,850.00" in page.text
    page = web.get("/accounting/reports/general-ledger?account=1002")
    assert page.status_code == 200 and "手续费" in page.text
    page = web.get("/accounting/reports/general-ledger?account=1122&partner=P华东贸易")  # 往来明细账 of one customer
    assert page.status_code == 200 and "33,900.00" in page.text
    assert web.get("/accounting/reports/general-ledger?account=1122&partner=NOPE").status_code == 422
    x = web.get("/accounting/reports/balance-sheet?as_of=2026-10-31&format=xlsx")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.content)).worksheets[0]
    cells = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert "货币资金" in cells and "133850.00" in cells
    pdf = web.get("/accounting/reports/income-statement?date_from=2026-10-01&date_to=2026-10-31&format=pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "利润表" in text and "净利润" in text and "7,950.00" in text
    pdf = web.get("/accounting/reports/general-ledger?account=1002&format=pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "明细账" in text and "房租" in text


def test_trial_balance_page_and_export_show_opening_and_closing(db):
    from openpyxl import load_workbook

    c = f.company(db)
    _month(db, c, _partner(db, c))
    web = f.web_client(db, f.user(db, c, roles=("finance",)))
    page = web.get("/accounting/trial-balance?date_from=2026-10-02&date_to=2026-10-31")
    assert page.status_code == 200 and "期初余额" in page.text and "借贷平衡" in page.text
    assert "100,000.00" in page.text and "97,950.00" in page.text
    x = web.get("/accounting/trial-balance?date_from=2026-10-02&date_to=2026-10-31&format=xlsx")
    rows = list(load_workbook(io.BytesIO(x.content)).worksheets[0].iter_rows(values_only=True))
    bank = next(r for r in rows if r[0] == "1002")
    assert bank[2:] == ("100000.00", "0.00", "0.00", "2050.00", "97950.00", "0.00")
    assert rows[-1][1] == "合计" and rows[-1][4] == rows[-1][5]
    with UnitOfWork(f.system(c), db=db) as uow:
        led = reports.general_ledger(uow, "1002", limit=2)
        assert led["truncated"] and len(led["lines"]) == 2
