"""Money: an exact Decimal amount in one currency, and conversion between currencies at the
company's recorded rates.

Arithmetic only happens within one currency (adding ¥ to $ is an error, not a number);
`quantize()` rounds half-up to the currency's minor unit (CNY 2 places, JPY 0). Rates are
`masterdata.CurrencyRate` rows: units of company currency for one unit of a foreign
currency on a date; a conversion uses the latest rate on or before the date asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import total_ordering

from babel import numbers

from .errors import ValidationFailed
from .i18n import _, format_money
from .types import to_decimal


class CurrencyMismatch(ValidationFailed):
    code = "currency_mismatch"


def currency_decimals(code: str) -> int:
    """Minor-unit digits of a currency (ISO 4217 through Babel's data): CNY 2, JPY 0."""
    return numbers.get_currency_precision(code.upper())


def quantize_amount(amount, currency: str) -> Decimal:
    exp = Decimal(1).scaleb(-currency_decimals(currency))
    return to_decimal(amount).quantize(exp, rounding=ROUND_HALF_UP)


def _currency_code(code: str) -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationFailed(_("币种代码不正确：{code}", code=code), field="currency_code")
    return code


@total_ordering
@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str = "CNY"

    def __post_init__(self):
        object.__setattr__(self, "amount", to_decimal(self.amount))
        object.__setattr__(self, "currency", _currency_code(self.currency))

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(Decimal(0), currency)

    # -- arithmetic (one currency only) ------------------------------------
    def _check(self, other) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(_("币种不同，不能直接计算：{a} 与 {b}", a=self.currency, b=other.currency),
                                   field="currency_code")
        return other

    def __add__(self, other: Money) -> Money:
        if isinstance(other, int) and other == 0:  # sum() starts from 0
            return self
        return Money(self.amount + self._check(other).amount, self.currency)

    __radd__ = __add__

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._check(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor) -> Money:
        if isinstance(factor, Money):
            raise TypeError("cannot multiply money by money")
        return Money(self.amount * to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor) -> Money:
        if isinstance(divisor, Money):
            raise TypeError("divide Money.amount values to get a ratio")
        return Money(self.amount / to_decimal(divisor), self.currency)

    def __eq__(self, other) -> bool:
        if isinstance(other, Money):
            return self.currency == other.currency and self.amount == other.amount
        if isinstance(other, int) and other == 0:
            return self.amount == 0
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    # -- rounding and display ------------------------------------------------
    @property
    def decimals(self) -> int:
        return currency_decimals(self.currency)

    def quantize(self) -> Money:
        """Rounded half-up to the currency's minor unit (¥1.005 → ¥1.01, ¥1.004 → ¥1.00)."""
        return Money(quantize_amount(self.amount, self.currency), self.currency)

    def allocate(self, weights: list) -> list[Money]:
        """Split into parts proportional to `weights`, each rounded to the minor unit, the
        rounding remainder going to the largest part, so the parts add up to the whole exactly."""
        total = self.quantize()
        ws = [to_decimal(w) for w in weights]
        if not ws or sum(ws) <= 0 or any(w < 0 for w in ws):
            raise ValidationFailed(_("分摊比例无效"), field="weights")
        parts = [quantize_amount(total.amount * w / sum(ws), self.currency) for w in ws]
        biggest = max(range(len(ws)), key=lambda i: ws[i])
        parts[biggest] += total.amount - sum(parts)
        return [Money(p, self.currency) for p in parts]

    def format(self) -> str:
        """Locale-aware text (¥1,234.50 in Chinese, CN¥1,234.50 in English)."""
        return format_money(self.amount, self.currency)

    def __str__(self) -> str:
        return self.format()

    def as_dict(self) -> dict:
        return {"amount": str(quantize_amount(self.amount, self.currency)), "currency": self.currency}


# ------------------------------------------------------------------ conversion
def company_currency(uow) -> str:
    """The currency the company keeps its books in (cached on the session)."""
    cache = uow.session.info.setdefault("company_currency", {})
    if uow.company_id not in cache:
        from opensupply.masterdata.models import Company

        company = uow.session.get(Company, uow.company_id)
        cache[uow.company_id] = ((company.currency_code if company else None) or "CNY").upper()
    return cache[uow.company_id]


def rate_on(uow, currency: str, on_date: dt.date) -> Decimal:
    """Units of company currency for one `currency` on `on_date`: the latest rate recorded
    on or before that date (the company's own currency is 1)."""
    from sqlalchemy import select

    from opensupply.masterdata.models import Company, CurrencyRate

    currency = _currency_code(currency)
    company = uow.session.get(Company, uow.company_id)
    if company is not None and company.currency_code == currency:
        return Decimal(1)
    rate = uow.session.scalar(
        select(CurrencyRate.rate)
        .where(CurrencyRate.company_id == uow.company_id, CurrencyRate.currency_code == currency,
               CurrencyRate.date <= on_date)
        .order_by(CurrencyRate.date.desc()).limit(1))
    if rate is None:
        # the request is fine, the books lack a rate: 422 (the document cannot be booked yet), not 404
        raise ValidationFailed(_("缺少 {currency} 在 {date} 或之前的汇率，请先维护汇率", currency=currency,
                                 date=on_date.isoformat()), field="currency_code", code="rate_missing")
    return to_decimal(rate)


def convert(uow, amount, from_currency: str, to_currency: str, on_date: dt.date | None = None) -> Money:
    """Convert `amount` (a Decimal, or a Money in `from_currency`) into `to_currency` at the
    rates in force on `on_date` (default today), rounded to the target currency's minor unit.

    Between two foreign currencies the amount goes through the company currency:
    100 USD at 7.10 CNY/USD into HKD at 0.91 CNY/HKD = 100 × 7.10 / 0.91 = 780.22 HKD."""
    from_currency, to_currency = _currency_code(from_currency), _currency_code(to_currency)
    if isinstance(amount, Money):
        if amount.currency != from_currency:
            raise CurrencyMismatch(_("币种不同，不能直接计算：{a} 与 {b}", a=amount.currency, b=from_currency),
                                   field="currency_code")
        amount = amount.amount
    amount = to_decimal(amount)
    if from_currency == to_currency:
        return Money(amount, to_currency).quantize()
    if on_date is None:
        from .sequences import company_today

        on_date = company_today(uow)
    value = amount * rate_on(uow, from_currency, on_date) / rate_on(uow, to_currency, on_date)
    return Money(value, to_currency).quantize()


__all__ = ["CurrencyMismatch", "Money", "company_currency", "convert", "currency_decimals", "quantize_amount",
           "rate_on"]
