"""Planning tables: per-product planning policy, independent demand (manual or from SCM forecasts),
MRP runs, the planned orders a run proposes and their pegging to the demand that caused them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opensupply.core.models import Base, BigId, CompanyEntity, IdMixin
from opensupply.core.types import Qty, UTCDateTime

LOT_RULES = ("lot_for_lot", "fixed", "eoq", "poq")
MAKE_OR_BUY = ("auto", "make", "buy")


class PlanningPolicy(CompanyEntity, Base):
    """How MRP plans one product: lead time, lot sizing, order minimum/multiple, safety stock, make or buy
    ("auto": make when the product has a released BOM, else buy)."""

    __tablename__ = "erp_planning_policy"
    __label__ = "计划参数"
    __table_args__ = (
        Index("ix_erp_planning_policy_product", "company_id", "product_id", "warehouse_id"),
        CheckConstraint("lot_rule in ('lot_for_lot','fixed','eoq','poq')", name="lot_rule"),
        CheckConstraint("make_or_buy in ('auto','make','buy')", name="make_or_buy"),
    )

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"))
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0)
    lot_rule: Mapped[str] = mapped_column(String(12), default="lot_for_lot")
    fixed_qty: Mapped[Decimal | None] = mapped_column(Qty)
    eoq_qty: Mapped[Decimal | None] = mapped_column(Qty)  # given EOQ; else computed from the three below
    annual_demand: Mapped[Decimal | None] = mapped_column(Qty)
    order_cost: Mapped[Decimal | None] = mapped_column(Qty)
    holding_cost: Mapped[Decimal | None] = mapped_column(Qty)  # per unit and year
    poq_periods: Mapped[int | None] = mapped_column(Integer)
    min_qty: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    multiple: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    safety_stock: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    make_or_buy: Mapped[str] = mapped_column(String(4), default="auto")
    preferred_supplier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class IndependentDemand(CompanyEntity, Base):
    """Demand not coming from a sales order: entered by hand or written by the SCM forecast."""

    __tablename__ = "erp_independent_demand"
    __label__ = "独立需求"
    __audit__ = False  # replaced in bulk per source; the run that used it is the record
    __table_args__ = (Index("ix_erp_independent_demand_source", "company_id", "source"),)

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"))
    demand_date: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Qty)
    source: Mapped[str] = mapped_column(String(40), default="manual")


class MrpRun(CompanyEntity, Base):
    __tablename__ = "erp_mrp_run"
    __label__ = "MRP 运算"

    number: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10), default="running")  # running done failed
    bucket: Mapped[str] = mapped_column(String(5), default="week")  # week | day
    horizon: Mapped[int] = mapped_column(Integer, default=52)  # buckets
    start_date: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    products: Mapped[int] = mapped_column(Integer, default=0)
    levels: Mapped[int] = mapped_column(Integer, default=0)
    planned_orders: Mapped[int] = mapped_column(Integer, default=0)
    late_orders: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)


class PlannedOrder(CompanyEntity, Base):
    __tablename__ = "erp_planned_order"
    __label__ = "计划订单"
    __audit__ = False  # written in bulk by a run; firming and cancelling are audited on the documents
    __table_args__ = (Index("ix_erp_planned_order_state", "company_id", "state", "product_id"),
                      CheckConstraint("kind in ('purchase','production')", name="kind"),
                      CheckConstraint("state in ('planned','firmed','cancelled')", name="state"))

    # No foreign keys on purpose: rows are written in bulk by a run and only the planning service writes
    # them; on PostgreSQL the two constraint triggers per row (company, product) cost ≈ 3 s of a 141,000-order
    # regeneration. Companies and products are never deleted (archived), so the keys would guard nothing.
    # company_id is indexed through ix_erp_planned_order_state (company, state, product).
    company_id: Mapped[int] = mapped_column(BigId)
    run_id: Mapped[int] = mapped_column(BigId)
    product_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    release_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    past_due: Mapped[bool] = mapped_column(Boolean, default=False)  # release date before the run's start
    level: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(10), default="planned")
    supplier_id: Mapped[int | None] = mapped_column(BigId)
    purchase_order_id: Mapped[int | None] = mapped_column(BigId)
    work_order_id: Mapped[int | None] = mapped_column(BigId)
    firmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Pegging(IdMixin, Base):
    """Which demand a planned order covers and how much of it: a sales order line, an independent
    demand row, a parent planned order (dependent demand), an open work order's component or safety stock.
    Derived rows, hundreds of thousands per run: no stamps and no foreign keys (the planning service deletes
    them with their planned orders), so a regeneration writes them at bulk-load speed."""

    __tablename__ = "erp_planned_order_pegging"
    __audit__ = False

    company_id: Mapped[int] = mapped_column(BigId)
    planned_order_id: Mapped[int] = mapped_column(BigId, index=True)
    source_kind: Mapped[str] = mapped_column(String(20))  # sales_order_line independent_demand planned_order ...
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[Decimal] = mapped_column(Qty)
    demand_date: Mapped[dt.date] = mapped_column(Date)
