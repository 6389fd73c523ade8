"""Stock ledger tables: moves (the ledger), quants (derived on-hand), reservations, lots,
adjustments and valuation layers. Tables only; behaviour lives in service.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity, Entity, IdMixin
from opensupply.core.types import Amount, Qty, UTCDateTime, utcnow

MOVE_STATES = ("draft", "confirmed", "done", "cancelled")
RESERVATION_STATES = ("active", "released", "consumed")
ADJUSTMENT_STATES = ("draft", "done", "cancelled")


class StockLot(CompanyEntity, Base):
    """A lot (批次) or serial number (序列号) of one product."""

    __tablename__ = "stock_lot"
    __label__ = "批次/序列号"
    __table_args__ = (UniqueConstraint("company_id", "product_id", "name"),)

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)


class StockMove(CompanyEntity, Base):
    """One line of the stock ledger: `quantity` of a product (in the product's unit) from one
    location to another. Append-only once done: corrections are reversing moves."""

    __tablename__ = "stock_move"
    __label__ = "库存移动"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive_qty"),
        CheckConstraint("state in ('draft','confirmed','done','cancelled')", name="state"),
        CheckConstraint("source_location_id <> dest_location_id", name="distinct_locations"),
        Index("ix_stock_move_product_state", "company_id", "product_id", "state"),
        Index("ix_stock_move_ref", "company_id", "ref_type", "ref_id"),
        Index("ix_stock_move_reference", "company_id", "reference"),
        Index("ix_stock_move_date_done", "company_id", "date_done"),
    )

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    uom_id: Mapped[int] = mapped_column(BigId, ForeignKey("uom.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    source_location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"), index=True)
    dest_location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="draft")
    date_done: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(80))
    unit_cost: Mapped[Decimal | None] = mapped_column(Amount)
    value: Mapped[Decimal | None] = mapped_column(Amount)
    reversed_move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"))
    note: Mapped[str | None] = mapped_column(String(200))


class StockQuant(IdMixin, Base):
    """On-hand of product × internal location × lot. Derived from done moves, maintained only by
    the inventory service in the same transaction; it is the row locked to serialize contention.
    `lot_key` is lot_id or 0, so the unique key also holds for stock without a lot."""

    __tablename__ = "stock_quant"
    __audit__ = False  # derived: the moves that change it are audited
    __table_args__ = (UniqueConstraint("company_id", "product_id", "location_id", "lot_key"),
                      Index("ix_stock_quant_location", "company_id", "location_id"))

    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("company.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"))
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"))
    lot_key: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockReservation(CompanyEntity, Base):
    """Goods promised to a document. Available = on-hand − Σ active reservations; there is no
    mutable reserved counter. A reservation without a lot counts against the location's total."""

    __tablename__ = "stock_reservation"
    __label__ = "库存预留"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive_qty"),
        CheckConstraint("state in ('active','released','consumed')", name="state"),
        Index("ix_stock_reservation_active", "company_id", "product_id", "location_id", "state"),
        Index("ix_stock_reservation_ref", "company_id", "ref_type", "ref_id"),
    )

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"))
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    state: Mapped[str] = mapped_column(String(10), default="active")
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(80))
    move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"))  # the move that consumed it
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class InventoryAdjustment(CompanyEntity, Base):
    """A stock count (盘点): counted quantities whose differences are posted against the
    company's inventory-loss location when the document is validated."""

    __tablename__ = "inventory_adjustment"
    __label__ = "盘点调整单"
    __table_args__ = (UniqueConstraint("company_id", "number"),
                      CheckConstraint("state in ('draft','done','cancelled')", name="state"))

    number: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(10), default="draft")
    date_done: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[InventoryAdjustmentLine]] = relationship(
        back_populates="adjustment", cascade="all, delete-orphan", order_by="InventoryAdjustmentLine.id",
        lazy="selectin")


class InventoryAdjustmentLine(Entity, Base):
    __tablename__ = "inventory_adjustment_line"
    __table_args__ = (CheckConstraint("counted_quantity >= 0", name="counted_not_negative"),)

    adjustment_id: Mapped[int] = mapped_column(BigId, ForeignKey("inventory_adjustment.id", ondelete="CASCADE"),
                                               index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"))
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"))
    counted_quantity: Mapped[Decimal] = mapped_column(Qty)
    theoretical_quantity: Mapped[Decimal | None] = mapped_column(Qty)  # on-hand when validated
    difference: Mapped[Decimal | None] = mapped_column(Qty)
    move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"))

    adjustment: Mapped[InventoryAdjustment] = relationship(back_populates="lines")


class StockValuationLayer(CompanyEntity, Base):
    """Value entering (+) or leaving (−) the company's stock with one move. For FIFO, incoming
    layers keep `remaining_quantity`/`remaining_value`, consumed oldest first by outgoing moves."""

    __tablename__ = "stock_valuation_layer"
    __label__ = "估值层"
    __table_args__ = (Index("ix_stock_valuation_layer_product", "company_id", "product_id"),)

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    move_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_move.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Qty)
    unit_cost: Mapped[Decimal] = mapped_column(Amount)
    value: Mapped[Decimal] = mapped_column(Amount)
    remaining_quantity: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    remaining_value: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    description: Mapped[str | None] = mapped_column(String(200))
