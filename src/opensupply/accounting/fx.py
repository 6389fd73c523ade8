"""Foreign-currency bookkeeping shared by sales and purchasing.

A document in a foreign currency (USD, EUR, JPY …) keeps its amounts in that currency and the
rate it was booked at (units of company currency for one unit, from `core.money.rate_on`). The
ledger stays in company currency: a receivable or payable line carries the company-currency
amount in debit/credit and the foreign amount in `amount_currency` (signed: + debit, − credit).

Settling such a document at another date's rate realises an exchange difference:
(settlement rate − document rate) × foreign amount settled, posted to 660301 财务费用-汇兑损益
(a debit is a loss, a credit a gain). Each settlement clears the receivable/payable at the
document's own rate; the one that settles it completely clears whatever company-currency
amount is still open, so rounding never leaves a cent behind on 1122/2202.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from opensupply.core.money import company_currency, rate_on
from opensupply.core.types import ZERO, to_decimal
from opensupply.core.uow import UnitOfWork

from .service import EntryLine, money

RATE_PLACES = Decimal("0.000001")


def is_foreign(uow: UnitOfWork, currency: str | None) -> bool:
    return bool(currency) and currency.upper() != company_currency(uow)


def document_rate(uow: UnitOfWork, currency: str | None, day: dt.date) -> Decimal:
    """The rate a document dated `day` is booked at (1 for the company's own currency). A
    missing rate raises NotFound ("缺少 USD 在 2026-11-20 或之前的汇率…"), so nothing is written."""
    if not is_foreign(uow, currency):
        return Decimal(1)
    return to_decimal(rate_on(uow, currency, day)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def to_company(amount, rate) -> Decimal:
    """A document-currency amount in company currency at `rate`, to the cent."""
    return money(to_decimal(amount) * to_decimal(rate))


def settle_company(total, rate, paid_before, paid_company_before, take) -> Decimal:
    """Company-currency amount of the receivable/payable that settling `take` (document
    currency) clears: at the document's rate, and everything still open on the final settlement."""
    total, paid_before, take = to_decimal(total), to_decimal(paid_before), to_decimal(take)
    if paid_before + take >= total:
        return to_company(total, rate) - money(paid_company_before or 0)
    return to_company(take, rate)


def open_company(total, rate, paid, paid_company) -> Decimal:
    """What is still open on a document, in company currency."""
    if to_decimal(paid) >= to_decimal(total):
        return ZERO
    return to_company(total, rate) - money(paid_company or 0)


def fx_line(difference: Decimal, memo: str = "") -> EntryLine:
    """The realised exchange difference: + a loss (debit 660301), − a gain (credit 660301)."""
    difference = money(difference)
    return EntryLine("fx_difference", debit=max(difference, ZERO), credit=max(-difference, ZERO), memo=memo)


def currency_fields(uow: UnitOfWork, currency: str | None, amount_currency) -> dict:
    """EntryLine keyword arguments carrying a foreign amount (nothing for company currency)."""
    if not is_foreign(uow, currency):
        return {}
    return {"currency_code": currency.upper(), "amount_currency": to_decimal(amount_currency)}


__all__ = ["currency_fields", "document_rate", "fx_line", "is_foreign", "open_company", "settle_company",
           "to_company"]
