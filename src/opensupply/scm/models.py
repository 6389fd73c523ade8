"""SCM tables: forecast runs, one series per SKU in a run (its history and chosen model), forecast lines per
product and period with the planner's manual override (who / when / why)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity
from opensupply.core.types import Qty, UTCDateTime
from opensupply.masterdata.models import Product


class ForecastRun(CompanyEntity, Base):
    """One forecast run (a background job): bucket, horizon, how many series, and its review state."""

    __tablename__ = "scm_forecast_run"
    __label__ = "需求预测"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    # running → done → approved → published (to MRP); failed when the job failed
    state: Mapped[str] = mapped_column(String(12), default="running")
    bucket: Mapped[str] = mapped_column(String(8), default="month")  # month | week
    horizon: Mapped[int] = mapped_column(Integer, default=12)
    history_periods: Mapped[int] = mapped_column(Integer, default=36)
    history_start: Mapped[dt.date | None] = mapped_column(Date)
    first_period: Mapped[dt.date | None] = mapped_column(Date)  # start of the first forecast period
    series_count: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    backtest_mase: Mapped[float | None] = mapped_column(Float)  # mean over the series that have one
    message: Mapped[str | None] = mapped_column(String(300))
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_rows: Mapped[int | None] = mapped_column(Integer)


class ForecastSeries(CompanyEntity, Base):
    """One SKU in a run: its bucketed history (for the chart), the model chosen and its backtest error."""

    __tablename__ = "scm_forecast_series"
    __label__ = "预测序列"
    __audit__ = False  # written in bulk by a run; the run itself is audited
    __table_args__ = (UniqueConstraint("run_id", "product_id"),)

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("scm_forecast_run.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    model: Mapped[str] = mapped_column(String(20))
    backtest_mase: Mapped[float | None] = mapped_column(Float)
    history: Mapped[list] = mapped_column(JSON, default=list)  # quantities per period from run.history_start
    history_total: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    forecast_total: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))

    product: Mapped[Product] = relationship(lazy="joined")
    lines: Mapped[list[ForecastLine]] = relationship(back_populates="series", cascade="all, delete-orphan",
                                                     order_by="ForecastLine.period_start", lazy="selectin")


class ForecastLine(CompanyEntity, Base):
    """The forecast of one product in one period; `override_qty`, when set, is what planning uses."""

    __tablename__ = "scm_forecast_line"
    __label__ = "预测明细"
    __audit__ = False  # overrides are recorded explicitly (service.override_line)
    __table_args__ = (UniqueConstraint("series_id", "period_start"),
                      Index("ix_scm_forecast_line_run", "run_id", "product_id"))

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("scm_forecast_run.id", ondelete="CASCADE"))
    series_id: Mapped[int] = mapped_column(BigId, ForeignKey("scm_forecast_series.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Qty)
    override_qty: Mapped[Decimal | None] = mapped_column(Qty)
    override_reason: Mapped[str | None] = mapped_column(String(300))
    override_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    override_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    series: Mapped[ForecastSeries] = relationship(back_populates="lines")

    @property
    def final_qty(self) -> Decimal:
        return self.override_qty if self.override_qty is not None else self.quantity
