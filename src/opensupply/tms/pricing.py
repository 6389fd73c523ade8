"""Parcel pricing from a carrier's rate card: pure code, plain data in, Decimal amounts out.

How a price is made (all amounts in ¥, weights in kg):

1. Chargeable weight per package = max(actual, L×W×H cm ÷ volumetric divisor), rounded *up* to the card's
   weight unit (its 续重单位, 0.5 kg or 1 kg); the shipment's chargeable weight is the sum over its packages.
2. Freight = first_price + ceil((w − first_weight) ÷ additional_unit) × additional_price (nothing additional
   while w ≤ first_weight).
3. Surcharges: ``fixed`` (¥ per shipment), ``pct`` (% of freight), ``per_kg`` (¥ per chargeable kg),
   ``value_pct`` (% of the declared value — 保价). A surcharge limited to some provinces (偏远 for 新疆/西藏)
   applies only there; an ``optional`` one only when the shipment asks for it by code.
4. Fuel surcharge % of freight; then the minimum charge (the line's, else the card's) lifts the total.

Eligibility: card valid on the day, carrier active, destination covered, weight within the card's maximum.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from opensupply.core.i18n import _

ZERO = Decimal(0)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Parcel:
    weight_kg: Decimal
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None


@dataclass(frozen=True)
class Line:
    dest_province: str
    first_weight_kg: Decimal
    first_price: Decimal
    additional_unit_kg: Decimal
    additional_price: Decimal
    origin_province: str | None = None
    min_charge: Decimal | None = None
    lead_days: int = 2


@dataclass(frozen=True)
class Surcharge:
    code: str
    name: str
    kind: str  # fixed | pct | per_kg | value_pct
    amount: Decimal
    provinces: tuple[str, ...] | None = None
    optional: bool = False


@dataclass(frozen=True)
class Card:
    lines: tuple[Line, ...]
    surcharges: tuple[Surcharge, ...] = ()
    volumetric_divisor: int = 6000
    weight_unit_kg: Decimal | None = None  # None: the line's 续重单位 (0.5 kg or 1 kg)
    min_charge: Decimal = ZERO
    fuel_surcharge_pct: Decimal = ZERO
    max_weight_kg: Decimal | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    active: bool = True
    carrier_active: bool = True


@dataclass
class Price:
    eligible: bool
    reason: str | None = None
    chargeable_kg: Decimal | None = None
    freight: Decimal | None = None
    surcharges: Decimal | None = None
    total: Decimal | None = None
    lead_days: int | None = None
    breakdown: dict = field(default_factory=dict)


def money(x: Decimal) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def round_up(weight: Decimal, unit: Decimal) -> Decimal:
    """Round a weight up to a multiple of `unit` (1.2 kg → 1.5 kg at 0.5 kg)."""
    if unit <= 0:
        return weight
    steps = (Decimal(weight) / unit).to_integral_value(rounding=ROUND_CEILING)
    return (steps * unit).normalize() if steps else ZERO


def volumetric_kg(p: Parcel, divisor: int) -> Decimal:
    if not (p.length_cm and p.width_cm and p.height_cm) or divisor <= 0:
        return ZERO
    return Decimal(p.length_cm) * Decimal(p.width_cm) * Decimal(p.height_cm) / Decimal(divisor)


def chargeable_weight(parcels: list[Parcel], divisor: int, unit: Decimal) -> Decimal:
    """Sum over packages of max(actual, volumetric), each rounded up to the card's unit."""
    total = ZERO
    for p in parcels:
        total += round_up(max(Decimal(p.weight_kg or 0), volumetric_kg(p, divisor)), unit)
    return total


def freight(line: Line, weight: Decimal) -> Decimal:
    extra = max(ZERO, Decimal(weight) - line.first_weight_kg)
    steps = (extra / line.additional_unit_kg).to_integral_value(rounding=ROUND_CEILING) if extra else ZERO
    return money(line.first_price + steps * line.additional_price)


def find_line(card: Card, origin: str | None, dest: str | None) -> Line | None:
    """The line for this origin → destination; a line for the exact origin beats an any-origin line."""
    best = None
    for ln in card.lines:
        if ln.dest_province != dest:
            continue
        if ln.origin_province == origin:
            return ln
        if ln.origin_province is None:
            best = ln
    return best


def price(card: Card, *, origin: str | None, dest: str | None, parcels: list[Parcel], on: dt.date,
          declared_value: Decimal | None = None, options: tuple[str, ...] | list[str] = ()) -> Price:
    """Price one shipment on one card, or say why the card cannot carry it."""
    if not card.carrier_active or not card.active:
        return Price(False, _("承运商已停用"))
    if card.valid_from and on < card.valid_from:
        return Price(False, _("运价表 {d} 起生效", d=card.valid_from.isoformat()))
    if card.valid_to and on > card.valid_to:
        return Price(False, _("运价表已于 {d} 过期", d=card.valid_to.isoformat()))
    line = find_line(card, origin, dest)
    if line is None:
        return Price(False, _("不覆盖目的地：{p}", p=dest or _("未知")))
    unit = card.weight_unit_kg or line.additional_unit_kg
    weight = chargeable_weight(parcels, card.volumetric_divisor, unit)
    if card.max_weight_kg is not None and weight > card.max_weight_kg:
        return Price(False, _("计费重量 {w} kg 超过上限 {m} kg", w=weight, m=card.max_weight_kg), chargeable_kg=weight)
    base = freight(line, weight)
    items = []
    extra = ZERO
    for s in card.surcharges:
        if s.provinces and dest not in s.provinces:
            continue
        if s.optional and s.code not in options:
            continue
        if s.kind == "fixed":
            amt = s.amount
        elif s.kind == "pct":
            amt = base * s.amount / HUNDRED
        elif s.kind == "per_kg":
            amt = weight * s.amount
        elif s.kind == "value_pct":
            amt = Decimal(declared_value or 0) * s.amount / HUNDRED
        else:
            continue
        amt = money(amt)
        extra += amt
        items.append({"code": s.code, "name": s.name, "amount": str(amt)})
    fuel = money(base * card.fuel_surcharge_pct / HUNDRED)
    if fuel:
        extra += fuel
        items.append({"code": "fuel", "name": _("燃油附加费"), "amount": str(fuel)})
    total = base + extra
    minimum = line.min_charge if line.min_charge is not None else card.min_charge
    lifted = ZERO
    if minimum and total < minimum:
        lifted = minimum - total
        total = Decimal(minimum)
    breakdown = {"line": {"dest": line.dest_province, "first_weight_kg": str(line.first_weight_kg),
                          "first_price": str(line.first_price), "additional_unit_kg": str(line.additional_unit_kg),
                          "additional_price": str(line.additional_price)},
                 "chargeable_kg": str(weight), "freight": str(base), "surcharges": items,
                 "minimum_lift": str(money(lifted))}
    return Price(True, None, weight, base, money(extra + lifted), money(total), line.lead_days, breakdown)
