"""What crosses HTTP for the general ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(max_length=20, description="account code, e.g. 1002")
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    partner_id: int | None = None
    memo: str = Field("", max_length=500)


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date
    journal: str = Field("GEN", max_length=20)
    memo: str = Field("", max_length=300)
    reference: str | None = Field(None, max_length=80)
    lines: list[LineIn] = Field(min_length=2, max_length=500)


class ReverseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date | None = None
    memo: str = Field("", max_length=300)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=300)


def amount(v: Decimal) -> str:
    return f"{v:.2f}"


def report_out(value):
    """A report for JSON: amounts as decimal strings with two places, dates in ISO form."""
    if isinstance(value, Decimal):
        return amount(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: report_out(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [report_out(v) for v in value]
    return value


def entry_out(e, lines: list[dict] | None = None) -> dict:
    """`lines`: service.entry_lines(uow, e) — needed for a pending voucher, whose lines are not posted yet."""
    if lines is None:
        lines = [{"account": ln.account.code, "account_name": ln.account.name, "debit": ln.debit,
                  "credit": ln.credit, "partner_id": ln.partner_id, "product_id": ln.product_id, "memo": ln.memo}
                 for ln in e.lines]
    return {"id": e.id, "number": e.number, "journal": e.journal.code, "date": e.date.isoformat(), "state": e.state,
            "memo": e.memo, "reference": e.reference, "ref_type": e.ref_type, "ref_id": e.ref_id,
            "reversal_of_id": e.reversal_of_id, "reversed": e.reversed, "total": amount(e.total),
            "rejected_reason": e.rejected_reason,
            "lines": [{**ln, "debit": amount(ln["debit"]), "credit": amount(ln["credit"]),
                       **({"amount_currency": str(ln["amount_currency"])} if ln.get("amount_currency") is not None
                          else {})} for ln in lines]}


def balance_out(tb: dict) -> dict:
    return {"total_debit": amount(tb["total_debit"]), "total_credit": amount(tb["total_credit"]),
            "lines": [{**ln, "debit": amount(ln["debit"]), "credit": amount(ln["credit"]),
                       "balance": amount(ln["balance"])} for ln in tb["lines"]]}
