"""Unit-of-measure conversion: quantities move between units of one category (件 ↔ 箱,
克 ↔ 千克), never across categories (千克 → 件 needs a product-specific factor, not a unit).

A unit's `ratio` is how many reference units of its category make one of it (箱 = 12 件 →
ratio 12), so `qty × from.ratio / to.ratio` converts; the result is rounded to the target
unit's `rounding` step (件 rounds to 1, 千克 to 0.01) unless the caller asks for the exact value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from .errors import ValidationFailed
from .i18n import _
from .types import to_decimal


class UnitLike(Protocol):
    code: str
    category_id: int
    ratio: Decimal
    rounding: Decimal


def round_qty(qty: Decimal, step: Decimal | None, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to a multiple of `step` (1, 0.01, 0.5 …); no step or a zero step leaves it as is."""
    if not step:
        return qty
    step = to_decimal(step)
    steps = (qty / step).quantize(Decimal(1), rounding=rounding)
    exponent = step.normalize().as_tuple().exponent
    result = steps * step
    return result.quantize(Decimal(1).scaleb(min(0, exponent))) if isinstance(exponent, int) else result


def same_category(a: UnitLike, b: UnitLike) -> bool:
    return a.category_id == b.category_id


def convert_qty(qty, from_uom: UnitLike, to_uom: UnitLike, *, round: bool = True,
                rounding: str = ROUND_HALF_UP) -> Decimal:
    """Convert `qty` expressed in `from_uom` into `to_uom` (same category only).

    >>> convert_qty(Decimal("2"), box, pcs)      # 箱 = 12 件
    Decimal('24')
    """
    qty = to_decimal(qty)
    if from_uom.code == to_uom.code:
        return round_qty(qty, to_uom.rounding, rounding) if round else qty
    if not same_category(from_uom, to_uom):
        raise ValidationFailed(_("单位 {a} 和 {b} 不属于同一类别，不能换算", a=from_uom.code, b=to_uom.code),
                               field="uom_id", code="uom_category_mismatch")
    result = qty * to_decimal(from_uom.ratio) / to_decimal(to_uom.ratio)
    return round_qty(result, to_uom.rounding, rounding) if round else result


__all__ = ["convert_qty", "round_qty", "same_category"]
