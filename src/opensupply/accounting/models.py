"""General-ledger tables. Entries and lines are append-only once posted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity
from opensupply.core.types import Amount

ACCOUNT_TYPES = ("asset", "liability", "equity", "cost", "income", "expense")
ENTRY_STATES = ("draft", "pending", "posted", "rejected")


class Account(CompanyEntity, Base):
    """A ledger account. `code` follows the Chinese four-digit numbering (1001 库存现金 …),
    sub-accounts extend it (222101). `balance_side` is the side its balance normally sits on."""

    __tablename__ = "account"
    __label__ = "会计科目"
    __table_args__ = (UniqueConstraint("company_id", "code"),
                      CheckConstraint("balance_side in ('debit','credit')", name="side"))

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    account_type: Mapped[str] = mapped_column(String(10))  # asset liability equity cost income expense
    balance_side: Mapped[str] = mapped_column(String(6))  # debit | credit
    parent_code: Mapped[str | None] = mapped_column(String(20))
    partner_required: Mapped[bool] = mapped_column(Boolean, default=False)  # AR/AP: lines carry a partner
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Journal(CompanyEntity, Base):
    __tablename__ = "journal"
    __label__ = "账簿"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))  # GEN SAL PUR BNK CSH STK
    name: Mapped[str] = mapped_column(String(80))
    journal_type: Mapped[str] = mapped_column(String(10), default="general")


class AccountingPeriod(CompanyEntity, Base):
    __tablename__ = "accounting_period"
    __label__ = "会计期间"
    __table_args__ = (UniqueConstraint("company_id", "year", "month"),)

    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | closed


class JournalEntry(CompanyEntity, Base):
    """A voucher (凭证). Posted entries are never edited: a correction is a reversal."""

    __tablename__ = "journal_entry"
    __label__ = "凭证"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        Index("ix_journal_entry_ref", "company_id", "ref_type", "ref_id"),
        Index("ix_journal_entry_date", "company_id", "date"),
        CheckConstraint("state in ('draft','pending','posted','rejected')", name="state"),
    )

    number: Mapped[str | None] = mapped_column(String(40))  # gap-free, given at posting
    journal_id: Mapped[int] = mapped_column(BigId, ForeignKey("journal.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="posted")
    memo: Mapped[str] = mapped_column(String(300), default="")
    reference: Mapped[str | None] = mapped_column(String(80))  # the business document's number
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None] = mapped_column(BigId)
    reversal_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entry.id"))
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    # a manual voucher waiting for approval keeps its lines here (no ledger lines, no number
    # yet): balances never see it until it is posted
    pending_lines: Mapped[list | None] = mapped_column(JSON)
    submitted_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    approved_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    rejected_reason: Mapped[str | None] = mapped_column(String(300))

    journal: Mapped[Journal] = relationship(lazy="joined")
    lines: Mapped[list[JournalLine]] = relationship(back_populates="entry", order_by="JournalLine.id",
                                                    lazy="selectin")


class JournalLine(CompanyEntity, Base):
    __tablename__ = "journal_line"
    __audit__ = False  # written with the entry's own audit row (batched)
    __table_args__ = (
        Index("ix_journal_line_account_date", "company_id", "account_id", "date"),
        Index("ix_journal_line_partner", "company_id", "partner_id", "account_id"),
        CheckConstraint("debit >= 0 and credit >= 0", name="non_negative"),
        CheckConstraint("not (debit > 0 and credit > 0)", name="one_side"),
    )

    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("journal_entry.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id"))
    date: Mapped[dt.date] = mapped_column(Date)  # copy of the entry date: balances without a join
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product.id"))
    debit: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    currency_code: Mapped[str | None] = mapped_column(String(3))  # foreign currency, when any
    amount_currency: Mapped[Decimal | None] = mapped_column(Amount)
    memo: Mapped[str] = mapped_column(Text, default="")

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship(lazy="joined")
