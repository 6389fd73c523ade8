"""Column types: timezone-aware UTC timestamps and exact decimals on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores UTC, returns aware datetimes; refuses naive input so no local time sneaks in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime (UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Qty(TypeDecorator):
    """A quantity: Decimal with 6 places (unit lives in its own column)."""

    impl = Numeric(24, 6)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return Decimal(value)



class Amount(Qty):
    """Money or unit cost: Decimal with 6 places; the currency sits in its own column."""

    cache_ok = True


ZERO = Decimal("0")
CENT = Decimal("0.01")


def to_decimal(value) -> Decimal:
    """Parse user input or a database float into an exact Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value).strip().replace(",", ""))
