"""Line and document amounts: pure arithmetic, no database.

A line's base is quantity × unit price × (1 − discount %). With tax-exclusive prices the base
is the net amount (不含税金额) and VAT is added on top; with tax-inclusive prices (usual for
Chinese B2C shops) the base is the gross amount (价税合计) and net is carved out of it. Every
amount is rounded half-up to the cent per line, net + tax = gross on every line, and a
document's totals are the sums of its rounded lines — so printed invoices always add up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import to_decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
VAT_RATES = (Decimal("0.13"), Decimal("0.09"), Decimal("0.06"), Decimal("0"))


def cents(value) -> Decimal:
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    gross: Decimal


def tax_rate(value) -> Decimal:
    """A VAT rate as a fraction: 0.13, 13 and "13%" all mean 13 %. Only the rates Chinese VAT
    uses for goods and services (13 %, 9 %, 6 %, 0) are accepted."""
    try:
        text = str(value).strip().rstrip("%")
        rate = to_decimal(text)
    except (InvalidOperation, ValueError, ArithmeticError):
        raise ValidationFailed(_("税率格式不正确：{v}", v=value), field="tax_rate") from None
    if rate >= 1 or str(value).strip().endswith("%"):
        rate = rate / 100
    rate = rate.quantize(Decimal("0.0001"))
    if rate not in VAT_RATES:
        raise ValidationFailed(_("税率只能是 13%、9%、6% 或 0：{v}", v=value), field="tax_rate")
    return rate.quantize(CENT)


def line_amounts(quantity, unit_price, rate, discount_pct=ZERO, *, price_includes_tax: bool) -> LineAmounts:
    qty, price, rate, disc = (to_decimal(quantity), to_decimal(unit_price), to_decimal(rate),
                              to_decimal(discount_pct or 0))
    base = qty * price * (Decimal(100) - disc) / Decimal(100)
    if price_includes_tax:
        gross = cents(base)
        net = cents(gross / (1 + rate))
        return LineAmounts(net, gross - net, gross)
    net = cents(base)
    tax = cents(net * rate)
    return LineAmounts(net, tax, net + tax)


def totals(lines: Iterable[LineAmounts]) -> LineAmounts:
    net = tax = gross = ZERO
    for ln in lines:
        net, tax, gross = net + ln.net, tax + ln.tax, gross + ln.gross
    return LineAmounts(net, tax, gross)


def part_of_line(part_qty, remaining_qty, unit_price, rate, discount_pct, *, price_includes_tax: bool,
                 line: LineAmounts, already: LineAmounts | None = None) -> LineAmounts:
    """The amounts of `part_qty` of a line (a partial invoice): priced like a line of that quantity,
    except that the part completing the line takes exactly what is left of it, so the parts of a
    line always add up to the line. `remaining_qty`: the line's quantity not yet in earlier parts,
    `already`: the amounts those earlier parts took."""
    already = already or LineAmounts(ZERO, ZERO, ZERO)
    rest = LineAmounts(line.net - already.net, line.tax - already.tax, line.gross - already.gross)
    if to_decimal(part_qty) >= to_decimal(remaining_qty):
        return rest
    part = line_amounts(part_qty, unit_price, rate, discount_pct, price_includes_tax=price_includes_tax)
    if part.gross > rest.gross or part.net > rest.net:
        return rest
    return part
