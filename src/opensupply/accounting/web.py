"""General-ledger pages: vouchers (entry with approval), the chart of accounts, periods and
期末结转, and the reports — trial balance, income statement, balance sheet, general-ledger
detail — on screen, as XLSX and as PDF."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from decimal import Decimal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from opensupply.core import audit
from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.tabular import write_xlsx
from opensupply.core.types import ZERO, to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json
from opensupply.web.resource_pages import resource_pages

from . import reports
from . import service as gl
from .models import Account, AccountingPeriod, JournalEntry
from .resources import accounts

router = APIRouter(include_in_schema=False)
router.include_router(resource_pages(accounts))
READ = Depends(page_permission("accounting.read"))
WRITE = Depends(page_permission("accounting.write"))
APPROVE = Depends(page_permission("accounting.approve"))
PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATE_FILTERS = ("posted", "pending", "rejected")


def amt(value) -> str:
    """An amount as accountants print it: thousands separators, two places, no currency sign."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


def _xlsx(header: list[str], rows: list[list], title: str, filename: str) -> Response:
    return Response(write_xlsx(header, rows, title), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _pdf(template: str, filename: str, uow: UnitOfWork, **ctx) -> Response:
    from opensupply.masterdata.models import Company
    from opensupply.web.pdf import pdf_response, render_pdf

    company = uow.session.get(Company, uow.company_id)
    return pdf_response(render_pdf(template, company=company, amt=amt, **ctx), filename)


# ------------------------------------------------------------------ vouchers
@router.get("/accounting/entries")
def entries_page(request: Request, q: str | None = None, state: str | None = None, journal: str | None = None,
                 date_from: dt.date | None = None, date_to: dt.date | None = None, offset: int = 0,
                 format: str | None = None, p: Page = READ):
    from .models import Journal

    with UnitOfWork(p.actor, readonly=True) as uow:
        stmt = select(JournalEntry).where(JournalEntry.company_id == uow.company_id)
        if q:
            like = f"%{q}%"
            stmt = stmt.where(JournalEntry.number.ilike(like) | JournalEntry.reference.ilike(like)
                              | JournalEntry.memo.ilike(like))
        if state in STATE_FILTERS:
            stmt = stmt.where(JournalEntry.state == state)
        if journal:
            stmt = stmt.join(Journal, Journal.id == JournalEntry.journal_id).where(Journal.code == journal)
        if date_from:
            stmt = stmt.where(JournalEntry.date >= date_from)
        if date_to:
            stmt = stmt.where(JournalEntry.date <= date_to)
        order = (JournalEntry.date.desc(), JournalEntry.id.desc())
        if format in ("xlsx", "csv"):
            return _entries_export(uow, list(uow.session.scalars(stmt.order_by(*order).limit(20000))), format)
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = list(uow.session.scalars(stmt.order_by(*order).limit(PAGE).offset(max(0, offset))))
        pending = uow.session.scalar(select(func.count()).where(JournalEntry.company_id == uow.company_id,
                                                                JournalEntry.state == "pending"))
        journals = [(j.code, j.name) for j in uow.session.scalars(
            select(Journal).where(Journal.company_id == uow.company_id).order_by(Journal.id))]
    keep = urllib.parse.urlencode({"q": q or "", "state": state or "", "journal": journal or "",
                                   "date_from": date_from or "", "date_to": date_to or ""})
    return render(p, "accounting/entries.html", rows=rows, total=total, q=q, state=state or "",
                  journal=journal or "", journals=journals, date_from=date_from, date_to=date_to,
                  offset=max(0, offset), limit=PAGE, keep=keep, pending=pending,
                  can_write=p.actor.can("accounting.write"))


def _entries_export(uow: UnitOfWork, entries: list[JournalEntry], fmt: str) -> Response:
    """One row per voucher line (what a bookkeeper re-keys or checks in a spreadsheet)."""
    from opensupply.core.tabular import write_csv

    header = [_("凭证号"), _("日期"), _("账簿"), _("摘要"), _("单据"), _("状态"), _("科目编码"), _("科目名称"),
              _("借方"), _("贷方")]
    labels = {"posted": _("已过账"), "pending": _("待审核"), "rejected": _("已驳回")}
    rows = []
    for e in entries:
        for ln in gl.entry_lines(uow, e):
            rows.append([e.number or f"#{e.id}", e.date.isoformat(), e.journal.name, ln["memo"] or e.memo,
                         e.reference or "", labels.get(e.state, e.state), ln["account"], ln["account_name"],
                         money_str(ln["debit"]), money_str(ln["credit"])])
    if fmt == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="vouchers.csv"'})
    return _xlsx(header, rows, _("凭证"), "vouchers.xlsx")


def money_str(value) -> str:
    return f"{Decimal(value):.2f}"


def _account_options(uow: UnitOfWork) -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in uow.session.scalars(
        select(Account).where(Account.company_id == uow.company_id, Account.active.is_(True))
        .order_by(Account.code))]


def _partner_options(uow: UnitOfWork) -> list[tuple[str, str]]:
    from opensupply.masterdata.models import Partner

    return [(c, n) for c, n in uow.session.execute(
        select(Partner.code, Partner.name).where(Partner.company_id == uow.company_id).order_by(Partner.code)
        .limit(2000))]


def _partner_options_readonly(p: Page) -> list[tuple[str, str]]:
    with UnitOfWork(p.actor, readonly=True) as uow:
        return _partner_options(uow)


def _blank_line() -> dict:
    return {"account": "", "debit": "", "credit": "", "partner": "", "memo": ""}


def _entry_form(p: Page, uow: UnitOfWork, header: dict, lines: list[dict], error: DomainError | None = None):
    rows = lines + [_blank_line() for _i in range(max(0, 4 - len(lines)))]
    return render(p, "accounting/entry_form.html", status_code=422 if error else 200, header=header, lines=rows,
                  account_options=_account_options(uow), partner_options=_partner_options(uow),
                  error=error.message if error else None, error_field=error.field if error else None,
                  can_approve=p.actor.can("accounting.approve"), amt=amt)


@router.get("/accounting/entries/new")
def entry_new(p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return _entry_form(p, uow, {"date": company_today(uow).isoformat(), "memo": "", "reference": ""}, [])


@router.get("/accounting/entries/new/line")
def entry_line(p: Page = WRITE):
    """One empty voucher line (htmx "add line")."""
    return render(p, "accounting/_entry_line.html", line=_blank_line())


def _parse_amount(text: str) -> Decimal:
    text = (text or "").replace(",", "").strip()
    if not text:
        return ZERO
    try:
        return to_decimal(text)
    except ArithmeticError:
        raise ValidationFailed(_("金额格式不正确：{v}", v=text), field="lines") from None


@router.post("/accounting/entries/new")
async def entry_create(request: Request, p: Page = WRITE):

    from opensupply.masterdata.models import Partner

    form = await request.form()
    header = {k: (form.get(k) or "").strip() for k in ("date", "memo", "reference")}
    cols = [form.getlist(k) for k in ("account", "debit", "credit", "partner", "line_memo")]
    lines = [{"account": a.strip().split(" ")[0], "debit": d.strip(), "credit": c.strip(), "partner": pt.strip(),
              "memo": m.strip()} for a, d, c, pt, m in zip(*cols, strict=False)
             if (a or "").strip() or (d or "").strip() or (c or "").strip()]
    try:
        with UnitOfWork(p.actor) as uow:
            try:
                day = dt.date.fromisoformat(header["date"])
            except ValueError:
                raise ValidationFailed(_("日期格式不正确"), field="date") from None
            codes = {ln["partner"] for ln in lines if ln["partner"]}
            partners = dict(uow.session.execute(select(Partner.code, Partner.id).where(
                Partner.company_id == uow.company_id, Partner.code.in_(codes))).all()) if codes else {}
            for ln in lines:
                if ln["partner"] and ln["partner"] not in partners:
                    raise ValidationFailed(_("往来单位不存在：{code}", code=ln["partner"]), field="partner")
            entry = gl.submit_manual_entry(
                uow, date=day, memo=header["memo"], reference=header["reference"] or None,
                lines=[gl.EntryLine(account=ln["account"], debit=_parse_amount(ln["debit"]),
                                    credit=_parse_amount(ln["credit"]), partner_id=partners.get(ln["partner"]),
                                    memo=ln["memo"]) for ln in lines])
            entry_id, state = entry.id, entry.state
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return _entry_form(p, uow, header, lines, error=exc)
    return redirect(f"/accounting/entries/{entry_id}", _("已过账") if state == "posted" else _("已提交审核"))


@router.get("/accounting/entries/{entry_id}")
def entry_page(entry_id: int, p: Page = READ):
    from opensupply.core.auth import User
    from opensupply.masterdata.models import Partner

    with UnitOfWork(p.actor, readonly=True) as uow:
        entry = gl.get_entry(uow, entry_id)
        lines = gl.entry_lines(uow, entry)
        ids = {ln["partner_id"] for ln in lines if ln["partner_id"]}
        partners = dict(uow.session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all()) \
            if ids else {}
        users = {u.id: u.username for u in uow.session.scalars(select(User).where(User.id.in_(
            {i for i in (entry.submitted_by_id, entry.approved_by_id) if i})))}
        history = audit.history(uow.session, "journal_entry", entry.id, uow.company_id)
    return render(p, "accounting/entry.html", entry=entry, lines=lines, partners=partners, users=users, amt=amt,
                  can_write=p.actor.can("accounting.write"), can_approve=p.actor.can("accounting.approve"),
                  audit_rows=history, audit_dumps=audit.dumps)


@router.get("/accounting/entries/{entry_id}/print")
def entry_print(entry_id: int, p: Page = READ):
    """记账凭证 as a printable PDF (posted vouchers only: a pending one has no number yet)."""
    from opensupply.core.auth import User
    from opensupply.masterdata.models import Partner

    with UnitOfWork(p.actor, readonly=True) as uow:
        entry = gl.get_entry(uow, entry_id)
        if entry.state != "posted":
            return render(p, "error.html", status_code=409, status=409, message=_("只有已过账的凭证可以打印"))
        lines = gl.entry_lines(uow, entry)
        ids = {ln["partner_id"] for ln in lines if ln["partner_id"]}
        partners = dict(uow.session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all()) \
            if ids else {}
        users = {u.id: u.username for u in uow.session.scalars(select(User).where(User.id.in_(
            {i for i in (entry.submitted_by_id, entry.approved_by_id, entry.created_by_id) if i})))}
        return _pdf("accounting/print_entry.html", f"{entry.number}.pdf", uow, entry=entry, lines=lines,
                    partners=partners, users=users)


@router.post("/accounting/entries/{entry_id}/reverse")
def reverse_page(entry_id: int, p: Page = WRITE):
    with UnitOfWork(p.actor) as uow:
        reversal = gl.reverse_entry(uow, entry_id)
        rid = reversal.id
    return redirect(f"/accounting/entries/{rid}", _("已冲销"))


@router.post("/accounting/entries/{entry_id}/approve")
def approve_page(entry_id: int, p: Page = APPROVE):
    try:
        with UnitOfWork(p.actor) as uow:
            gl.approve_entry(uow, entry_id)
    except DomainError as exc:
        return redirect(f"/accounting/entries/{entry_id}", exc.message, kind="error")
    return redirect(f"/accounting/entries/{entry_id}", _("已审核过账"))


@router.post("/accounting/entries/{entry_id}/reject")
def reject_page(entry_id: int, reason: str = Form(""), p: Page = APPROVE):
    try:
        with UnitOfWork(p.actor) as uow:
            gl.reject_entry(uow, entry_id, reason)
    except DomainError as exc:
        return redirect(f"/accounting/entries/{entry_id}", exc.message, kind="error")
    return redirect(f"/accounting/entries/{entry_id}", _("已驳回"))


# ------------------------------------------------------------------ periods and 期末结转
@router.get("/accounting/periods")
def periods_page(p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows = list(uow.session.scalars(select(AccountingPeriod).where(AccountingPeriod.company_id == uow.company_id)
                                        .order_by(AccountingPeriod.year.desc(), AccountingPeriod.month.desc())))
        carried = {k: (e.id, e.number) for k, e in reports.closing_entries(uow).items()}
        today = company_today(uow)
    return render(p, "accounting/periods.html", rows=rows, year=today.year, month=today.month, carried=carried,
                  can_close=p.actor.can("accounting.close"))


@router.post("/accounting/periods")
def period_action(year: int = Form(...), month: int = Form(...), action: str = Form(...),
                  p: Page = Depends(page_permission("accounting.close"))):
    try:
        with UnitOfWork(p.actor) as uow:
            if action == "close":
                gl.close_period(uow, year, month)
                message = _("已结账")
            elif action == "carry_forward":
                entries = reports.carry_forward(uow, year, month)
                message = _("已结转损益：{numbers}", numbers=", ".join(e.number for e in entries))
            else:
                gl.reopen_period(uow, year, month)
                message = _("已反结账")
    except DomainError as exc:
        return redirect("/accounting/periods", exc.message, kind="error")
    return redirect("/accounting/periods", message)


# ------------------------------------------------------------------ reports
def _bad_request(p: Page, exc: DomainError):
    return render(p, "error.html", status_code=422, status=422, message=exc.message)


@router.get("/accounting/trial-balance")
def trial_balance_page(date_from: dt.date | None = None, date_to: dt.date | None = None, format: str | None = None,
                       p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        tb = reports.trial_balance(uow, date_from=date_from, date_to=date_to)
        if format == "pdf":
            return _pdf("accounting/print_trial_balance.html", "trial-balance.pdf", uow, tb=tb)
    if format == "xlsx":
        header = [_("科目编码"), _("科目名称"), _("期初借方"), _("期初贷方"), _("本期借方"), _("本期贷方"),
                  _("期末借方"), _("期末贷方")]
        keys = ("opening_debit", "opening_credit", "debit", "credit", "closing_debit", "closing_credit")
        rows = [[ln["code"], ln["name"], *(ln[k] for k in keys)] for ln in tb["lines"]]
        rows.append(["", _("合计"), *(tb["totals"][k] for k in keys)])
        return _xlsx(header, rows, _("科目余额表"), "trial-balance.xlsx")
    return render(p, "accounting/trial_balance.html", tb=tb, date_from=date_from, date_to=date_to, amt=amt,
                  balanced=tb["balanced"])


@router.get("/accounting/reports/income-statement")
def income_statement_page(date_from: dt.date | None = None, date_to: dt.date | None = None,
                          format: str | None = None, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        date_to = date_to or company_today(uow)
        date_from = date_from or date_to.replace(day=1)
        try:
            inc = reports.income_statement(uow, date_from, date_to)
        except DomainError as exc:
            return _bad_request(p, exc)
        if format == "pdf":
            return _pdf("accounting/print_income_statement.html", "income-statement.pdf", uow, inc=inc)
        trend = reports.monthly_profit(uow, date_to.year, through=date_to) if format is None else []
    if format == "xlsx":
        rows = [[ln["label"], ln["period"], ln["year_to_date"]] for ln in inc["lines"]]
        return _xlsx([_("项目"), _("本期金额"), _("本年累计金额")], rows, _("利润表"), "income-statement.xlsx")
    chart = {"tooltip": {"trigger": "axis"}, "legend": {"data": [_("营业收入"), _("营业成本"), _("净利润")]},
             "grid": {"left": 60, "right": 20, "containLabel": True},
             "xAxis": {"type": "category", "data": [m["month"] for m in trend]}, "yAxis": {"type": "value"},
             "series": [{"name": _("营业收入"), "type": "bar", "data": [float(m["revenue"]) for m in trend]},
                        {"name": _("营业成本"), "type": "bar", "data": [float(m["cost"]) for m in trend]},
                        {"name": _("净利润"), "type": "line", "data": [float(m["net_profit"]) for m in trend]}]}
    return render(p, "accounting/income_statement.html", inc=inc, date_from=date_from, date_to=date_to, amt=amt,
                  chart_json=script_json(chart))


@router.get("/accounting/reports/consolidated")
def consolidated_page(kind: str = "income", date_from: dt.date | None = None, date_to: dt.date | None = None,
                      format: str | None = None, p: Page = READ):
    from . import consolidation

    with UnitOfWork(p.actor, readonly=True) as uow:
        date_to = date_to or company_today(uow)
        rep = consolidation.consolidated(uow, kind, date_from, date_to)  # 403 / 404 through the error pages
    title = _("合并利润表") if rep["kind"] == "income" else _("合并资产负债表")
    if format == "xlsx":
        header = [_("项目"), *[c["name"] for c in rep["companies"]], _("内部抵销"), _("合并数")]
        rows = [[ln["label"], *ln["companies"], ln["eliminations"], ln["consolidated"]] for ln in rep["lines"]]
        return _xlsx(header, rows, title, f"consolidated-{rep['kind']}.xlsx")
    return render(p, "accounting/consolidated.html", rep=rep, title=title, amt=amt, date_to=date_to,
                  date_from=rep["date_from"] or "")


@router.get("/accounting/reports/balance-sheet")
def balance_sheet_page(as_of: dt.date | None = None, format: str | None = None, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        as_of = as_of or company_today(uow)
        bs = reports.balance_sheet(uow, as_of)
        if format == "pdf":
            return _pdf("accounting/print_balance_sheet.html", "balance-sheet.pdf", uow, bs=bs)
    if format == "xlsx":
        header = [_("资产"), _("期末余额"), _("年初余额"), _("负债和所有者权益"), _("期末余额"), _("年初余额")]
        left, right = bs["assets"], bs["liabilities_equity"]
        rows = []
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else None
            b = right[i] if i < len(right) else None
            rows.append([a["label"] if a else "", a["closing"] if a else None, a["opening"] if a else None,
                         b["label"] if b else "", b["closing"] if b else None, b["opening"] if b else None])
        return _xlsx(header, rows, _("资产负债表"), "balance-sheet.xlsx")
    pairs = [(bs["assets"][i] if i < len(bs["assets"]) else None,
              bs["liabilities_equity"][i] if i < len(bs["liabilities_equity"]) else None)
             for i in range(max(len(bs["assets"]), len(bs["liabilities_equity"])))]
    return render(p, "accounting/balance_sheet.html", bs=bs, pairs=pairs, as_of=as_of, amt=amt)


@router.get("/accounting/reports/general-ledger")
def general_ledger_page(account: str | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None,
                        partner: str | None = None, format: str | None = None, p: Page = READ):
    from opensupply.masterdata.models import Partner

    with UnitOfWork(p.actor, readonly=True) as uow:
        options = _account_options(uow)
        ledger, error = None, None
        if account:
            try:
                partner_id = None
                if partner:
                    partner_id = uow.session.scalar(select(Partner.id).where(
                        Partner.company_id == uow.company_id, Partner.code == partner.strip()))
                    if partner_id is None:
                        raise ValidationFailed(_("往来单位不存在：{code}", code=partner), field="partner")
                ledger = reports.general_ledger(uow, account.split(" ")[0], date_from=date_from, date_to=date_to,
                                                partner_id=partner_id)
            except DomainError as exc:
                error = exc.message
        if ledger and format == "pdf":
            return _pdf("accounting/print_general_ledger.html", f"ledger-{ledger['account']}.pdf", uow, led=ledger)
    if ledger and format == "xlsx":
        header = [_("日期"), _("凭证号"), _("科目"), _("摘要"), _("往来单位"), _("借方"), _("贷方"), _("余额")]
        rows = [["", "", "", _("期初余额"), "", None, None, ledger["opening"]]]
        rows += [[ln["date"].isoformat(), ln["number"], ln["account"], ln["memo"], ln["partner"] or "", ln["debit"],
                  ln["credit"], ln["balance"]] for ln in ledger["lines"]]
        rows.append(["", "", "", _("期末余额"), "", ledger["total_debit"], ledger["total_credit"], ledger["closing"]])
        return _xlsx(header, rows, _("明细账"), f"ledger-{ledger['account']}.xlsx")
    return render(p, "accounting/general_ledger.html", led=ledger, account=account or "", date_from=date_from,
                  date_to=date_to, partner=partner or "", account_options=options, error=error, amt=amt,
                  partner_options=_partner_options_readonly(p),
                  status_code=422 if error else 200)
