"""Document numbers per company and document type, e.g. `PO2026-000123`.

Never a duplicate, on either database. Two kinds:

* gap-free (vouchers 凭证号, invoices): the counter row is incremented inside the
  business transaction, so a rollback gives the number back; the row lock is held
  until commit, which serializes only documents of that one kind and company.
* ordinary (orders, receipts, …): on PostgreSQL the number is taken in a separate,
  immediately committed transaction, so no lock is held while the business
  transaction runs; a rolled-back document leaves a gap, which the law allows here.
  SQLite has one writer at a time anyway, so it always uses the first path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, Boolean, Integer, String, UniqueConstraint, select, text
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base
from .models import BigId
from .types import utcnow
from .uow import UnitOfWork


class Sequence(Base):
    __tablename__ = "sequence"
    __audit__ = False
    __table_args__ = (UniqueConstraint("company_id", "code", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    company_id: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(10), default="")
    prefix: Mapped[str] = mapped_column(String(40))
    padding: Mapped[int] = mapped_column(Integer, default=6)
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)
    gap_free: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class SequenceSpec:
    prefix: str  # may contain {year}
    padding: int = 6
    gap_free: bool = False
    yearly: bool = True


SPECS: dict[str, SequenceSpec] = {}
DEFAULT_TZ = "Asia/Shanghai"


def register_sequence(code: str, prefix: str, padding: int = 6, *, gap_free: bool = False,
                      yearly: bool = True) -> None:
    SPECS[code] = SequenceSpec(prefix, padding, gap_free, yearly)


def _spec(code: str) -> SequenceSpec:
    return SPECS.get(code) or SequenceSpec(code + "{year}-")


_INSERT = {
    "sqlite": "INSERT OR IGNORE INTO sequence (company_id, code, period, prefix, padding, next_value, gap_free) "
              "VALUES (:c, :code, :p, :prefix, :pad, 1, :gf)",
    "postgresql": "INSERT INTO sequence (company_id, code, period, prefix, padding, next_value, gap_free) "
                  "VALUES (:c, :code, :p, :prefix, :pad, 1, :gf) ON CONFLICT DO NOTHING",
}
_TAKE = ("UPDATE sequence SET next_value = next_value + :n WHERE company_id = :c AND code = :code "
         "AND period = :p RETURNING next_value - :n, prefix, padding")


def _take(conn, dialect: str, company_id: int, code: str, period: str, spec: SequenceSpec, n: int):
    params = dict(c=company_id, code=code, p=period, n=n)
    row = conn.execute(text(_TAKE), params).first()
    if row is None:
        conn.execute(text(_INSERT[dialect]), dict(c=company_id, code=code, p=period, prefix=spec.prefix,
                                                  pad=spec.padding, gf=spec.gap_free))
        row = conn.execute(text(_TAKE), params).first()
    return row


def company_today(uow: UnitOfWork) -> dt.date:
    """Today where the company is: a document made at 07:00 on New Year's Day in Shanghai
    (23:00 UTC the day before) belongs to the new year's series."""
    tz = uow.session.info.get("company_tz")
    if tz is None:
        from opensupply.masterdata.models import Company

        name = uow.session.scalar(select(Company.timezone).where(Company.id == uow.company_id))
        try:
            tz = ZoneInfo(name or DEFAULT_TZ)
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo(DEFAULT_TZ)
        uow.session.info["company_tz"] = tz
    return utcnow().astimezone(tz).date()


def next_numbers(uow: UnitOfWork, code: str, n: int = 1, *, on: dt.date | None = None) -> list[str]:
    """Take `n` consecutive numbers of document type `code` for the unit of work's company."""
    if n < 1:
        raise ValueError(f"next_numbers needs n >= 1, got {n}")  # n <= 0 would hand numbers out again
    spec = _spec(code)
    on = on or company_today(uow)
    period = str(on.year) if spec.yearly else ""
    dialect = uow.db.dialect
    if spec.gap_free or dialect == "sqlite":
        row = _take(uow.session.connection(), dialect, uow.company_id, code, period, spec, n)
    else:
        with uow.db.side_engine.begin() as conn:  # its own short transaction: no lock kept
            row = _take(conn, dialect, uow.company_id, code, period, spec, n)
    first, prefix, padding = row
    prefix = prefix.format(year=on.year, month=f"{on.month:02d}")
    return [f"{prefix}{value:0{padding}d}" for value in range(first, first + n)]


def next_number(uow: UnitOfWork, code: str, *, on: dt.date | None = None) -> str:
    return next_numbers(uow, code, 1, on=on)[0]
