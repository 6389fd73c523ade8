"""TMS tables. Tables only; behaviour lives in the services.

* Carriers are partners with `is_carrier`; `tms_carrier_setting` adds their connector (waybill API)
  and tracking-webhook secret. `tms_rate_card` / `tms_rate_line` / `tms_surcharge` price a parcel:
  origin → destination province zones, first weight + additional weight, volumetric divisor,
  surcharges, minimum charge, validity dates.
* `tms_shipment` (+ `tms_package`) — one consignment: from a WMS ship event or typed in; its
  `tms_quote` rows are the carrier comparison it was chosen from; `tms_tracking_event` its timeline.
* Own fleet: `tms_depot`, `tms_vehicle`, `tms_driver`; `tms_route_plan` (a delivery day, solved as a
  background job) → `tms_route` per vehicle → `tms_route_stop` per shipment; `tms_gps_ping`.
* `tms_freight_bill` / `tms_freight_bill_line` — a carrier's bill matched per waybill to the quote.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity, Entity
from opensupply.core.types import Amount, Qty, UTCDateTime

SHIPMENT_STATUSES = ("draft", "booked", "in_transit", "out_for_delivery", "delivered", "failed", "returned",
                     "cancelled")
STOP_STATUSES = ("pending", "arrived", "delivered", "failed", "skipped")
PLAN_STATUSES = ("draft", "planning", "planned", "dispatched", "done", "failed")


class TmsCarrierSetting(CompanyEntity, Base):
    __tablename__ = "tms_carrier_setting"
    __label__ = "承运商设置"
    __table_args__ = (UniqueConstraint("carrier_id"),)

    carrier_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    code: Mapped[str] = mapped_column(String(20))  # SF, ZTO, YTO, YUNDA, JD, DEPPON …
    connector: Mapped[str | None] = mapped_column(String(20))  # which waybill connector speaks its API
    api_base_url: Mapped[str | None] = mapped_column(String(300))
    app_key: Mapped[str | None] = mapped_column(String(120))
    app_secret: Mapped[str | None] = mapped_column(String(200))  # also the tracking webhook's signing secret
    default_service: Mapped[str | None] = mapped_column(String(40))
    rules: Mapped[dict | None] = mapped_column(JSON)  # choose-by-rule preferences (see tms/rates.py)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TmsRateCard(CompanyEntity, Base):
    __tablename__ = "tms_rate_card"
    __label__ = "运价表"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    carrier_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    service: Mapped[str] = mapped_column(String(40), default="standard")  # standard | express | freight (零担)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    volumetric_divisor: Mapped[int] = mapped_column(Integer, default=6000)  # cm³ per kg
    min_charge: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    fuel_surcharge_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    max_weight_kg: Mapped[Decimal | None] = mapped_column(Qty)
    source_file: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    lines: Mapped[list[TmsRateLine]] = relationship(back_populates="card", cascade="all, delete-orphan",
                                                    order_by="TmsRateLine.id", lazy="selectin")
    surcharges: Mapped[list[TmsSurcharge]] = relationship(back_populates="card", cascade="all, delete-orphan",
                                                          order_by="TmsSurcharge.id", lazy="selectin")


class TmsRateLine(Entity, Base):
    """Price from an origin province (None: any) to a destination province."""

    __tablename__ = "tms_rate_line"
    __table_args__ = (UniqueConstraint("card_id", "origin_province", "dest_province"),)

    card_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_rate_card.id", ondelete="CASCADE"), index=True)
    origin_province: Mapped[str | None] = mapped_column(String(40))
    dest_province: Mapped[str] = mapped_column(String(40))
    first_weight_kg: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))
    first_price: Mapped[Decimal] = mapped_column(Amount)
    additional_unit_kg: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))
    additional_price: Mapped[Decimal] = mapped_column(Amount)
    min_charge: Mapped[Decimal | None] = mapped_column(Amount)
    lead_days: Mapped[int] = mapped_column(Integer, default=2)

    card: Mapped[TmsRateCard] = relationship(back_populates="lines")


class TmsSurcharge(Entity, Base):
    __tablename__ = "tms_surcharge"

    card_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_rate_card.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # remote 偏远 | insurance 保价 | upstairs 上楼 | cod 代收 …
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10), default="fixed")  # fixed | pct (of freight) | per_kg | value_pct
    amount: Mapped[Decimal] = mapped_column(Amount)
    provinces: Mapped[list | None] = mapped_column(JSON)  # applies only to these destinations (None: all)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)  # applied only when the shipment asks for it

    card: Mapped[TmsRateCard] = relationship(back_populates="surcharges")


class TmsShipment(CompanyEntity, Base):
    __tablename__ = "tms_shipment"
    __label__ = "运单"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        UniqueConstraint("company_id", "fulfilment_id", "source_key"),
        Index("ix_tms_shipment_status", "company_id", "status"),
        Index("ix_tms_shipment_tracking", "company_id", "tracking_number"),
        CheckConstraint("status in ('draft','booked','in_transit','out_for_delivery','delivered','failed',"
                        "'returned','cancelled')", name="status"),
    )

    number: Mapped[str] = mapped_column(String(40))
    fulfilment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_fulfilment.id"))
    source_key: Mapped[str | None] = mapped_column(String(64))  # the WMS event id: one shipment per ship event
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    mode: Mapped[str] = mapped_column(String(10), default="carrier")  # carrier (3PL) | fleet (own vehicles)
    carrier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))
    rate_card_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tms_rate_card.id"))
    service: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(80))  # waybill (运单号)
    choose_by: Mapped[str | None] = mapped_column(String(10))  # cost | lead | rule | manual
    quoted_cost: Mapped[Decimal | None] = mapped_column(Amount)
    actual_cost: Mapped[Decimal | None] = mapped_column(Amount)  # from the approved freight bill
    origin_province: Mapped[str | None] = mapped_column(String(40))
    receiver_name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    province: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    address_detail: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    packages: Mapped[int] = mapped_column(Integer, default=1)
    weight_kg: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    volume_m3: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    declared_value: Mapped[Decimal | None] = mapped_column(Amount)
    options: Mapped[list | None] = mapped_column(JSON)  # optional surcharge codes asked for (insurance …)
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # delivery time window (own fleet)
    window_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    promised_date: Mapped[dt.date | None] = mapped_column(Date)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    reference: Mapped[str | None] = mapped_column(String(80))  # order / fulfilment number shown on labels

    packages_rel: Mapped[list[TmsPackage]] = relationship(back_populates="shipment", cascade="all, delete-orphan",
                                                          order_by="TmsPackage.id", lazy="selectin")


class TmsPackage(Entity, Base):
    __tablename__ = "tms_package"

    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_shipment.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    weight_kg: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    length_cm: Mapped[Decimal | None] = mapped_column(Qty)
    width_cm: Mapped[Decimal | None] = mapped_column(Qty)
    height_cm: Mapped[Decimal | None] = mapped_column(Qty)

    shipment: Mapped[TmsShipment] = relationship(back_populates="packages_rel")


class TmsQuote(Entity, Base):
    """One carrier's price for a shipment, kept so the choice can be shown and audited."""

    __tablename__ = "tms_quote"

    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_shipment.id", ondelete="CASCADE"), index=True)
    carrier_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    rate_card_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tms_rate_card.id"))
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str | None] = mapped_column(String(200))  # why not eligible
    chargeable_kg: Mapped[Decimal | None] = mapped_column(Qty)
    freight: Mapped[Decimal | None] = mapped_column(Amount)
    surcharges: Mapped[Decimal | None] = mapped_column(Amount)
    total: Mapped[Decimal | None] = mapped_column(Amount)
    lead_days: Mapped[int | None] = mapped_column(Integer)
    breakdown: Mapped[dict | None] = mapped_column(JSON)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)


class TmsTrackingEvent(CompanyEntity, Base):
    __tablename__ = "tms_tracking_event"
    __audit__ = False  # the shipment's status changes are audited
    __table_args__ = (Index("ix_tms_tracking_event_shipment", "shipment_id", "at"),
                      UniqueConstraint("shipment_id", "source", "external_id"))

    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_shipment.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(10), default="system")  # carrier | driver | system
    external_id: Mapped[str | None] = mapped_column(String(80))  # the carrier's event id: a replay is a no-op
    raw: Mapped[dict | None] = mapped_column(JSON)


class TmsDepot(CompanyEntity, Base):
    __tablename__ = "tms_depot"
    __label__ = "车队站点"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    road_factor: Mapped[float] = mapped_column(Float, default=1.3)  # haversine × this ≈ road distance
    speed_kmh: Mapped[float] = mapped_column(Float, default=30.0)


class TmsVehicle(CompanyEntity, Base):
    __tablename__ = "tms_vehicle"
    __label__ = "车辆"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    plate: Mapped[str | None] = mapped_column(String(20))  # 车牌
    depot_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_depot.id"))
    capacity_kg: Mapped[Decimal] = mapped_column(Qty)
    capacity_m3: Mapped[Decimal | None] = mapped_column(Qty)
    cost_per_km: Mapped[Decimal] = mapped_column(Amount, default=Decimal("2.5"))
    fixed_cost: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    shift_start: Mapped[dt.time | None] = mapped_column()
    shift_end: Mapped[dt.time | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TmsDriver(CompanyEntity, Base):
    __tablename__ = "tms_driver"
    __label__ = "司机"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(BigId)  # the login the driver page shows today's stops to
    employee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employee.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TmsRoutePlan(CompanyEntity, Base):
    __tablename__ = "tms_route_plan"
    __label__ = "排线计划"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    depot_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_depot.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    job_id: Mapped[int | None] = mapped_column(BigId)  # the background job that solved it
    time_limit_s: Mapped[float] = mapped_column(Float, default=10.0)
    total_km: Mapped[float | None] = mapped_column(Float)
    total_cost: Mapped[Decimal | None] = mapped_column(Amount)
    unassigned: Mapped[list | None] = mapped_column(JSON)  # shipment ids that did not fit, with reasons
    stats: Mapped[dict | None] = mapped_column(JSON)

    routes: Mapped[list[TmsRoute]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                                  order_by="TmsRoute.id", lazy="selectin")


class TmsRoute(CompanyEntity, Base):
    __tablename__ = "tms_route"
    __label__ = "线路"

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_route_plan.id", ondelete="CASCADE"), index=True)
    vehicle_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_vehicle.id"))
    driver_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tms_driver.id"))
    status: Mapped[str] = mapped_column(String(12), default="planned")  # planned | dispatched | started | done
    distance_km: Mapped[float] = mapped_column(Float, default=0.0)
    duration_min: Mapped[float] = mapped_column(Float, default=0.0)
    load_kg: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    cost: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))

    plan: Mapped[TmsRoutePlan] = relationship(back_populates="routes")
    stops: Mapped[list[TmsRouteStop]] = relationship(back_populates="route", cascade="all, delete-orphan",
                                                     order_by="TmsRouteStop.sequence", lazy="selectin")


class TmsRouteStop(CompanyEntity, Base):
    __tablename__ = "tms_route_stop"
    __table_args__ = (UniqueConstraint("route_id", "sequence"),
                      CheckConstraint("status in ('pending','arrived','delivered','failed','skipped')", name="status"))

    route_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_route.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_shipment.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    eta: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    fail_reason: Mapped[str | None] = mapped_column(String(200))
    pod_path: Mapped[str | None] = mapped_column(String(300))  # proof-of-delivery photo in the data dir

    route: Mapped[TmsRoute] = relationship(back_populates="stops")


class TmsGpsPing(CompanyEntity, Base):
    __tablename__ = "tms_gps_ping"
    __audit__ = False  # high volume telemetry
    __table_args__ = (Index("ix_tms_gps_ping_route", "route_id", "at"),)

    driver_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_driver.id"))
    route_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tms_route.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TmsFreightBill(CompanyEntity, Base):
    __tablename__ = "tms_freight_bill"
    __label__ = "运费账单"
    __table_args__ = (UniqueConstraint("company_id", "number"), UniqueConstraint("carrier_id", "file_hash"))

    number: Mapped[str] = mapped_column(String(40))
    carrier_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_hash: Mapped[str] = mapped_column(String(64))
    tolerance_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(5))
    state: Mapped[str] = mapped_column(String(10), default="draft")  # draft | approved | posted
    total_billed: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    total_approved: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    journal_entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entry.id"))
    vendor_bill_id: Mapped[int | None] = mapped_column(BigId)

    lines: Mapped[list[TmsFreightBillLine]] = relationship(back_populates="bill", cascade="all, delete-orphan",
                                                           order_by="TmsFreightBillLine.line_no", lazy="selectin")


class TmsFreightBillLine(Entity, Base):
    __tablename__ = "tms_freight_bill_line"

    bill_id: Mapped[int] = mapped_column(BigId, ForeignKey("tms_freight_bill.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)  # file line, header = 1
    tracking_number: Mapped[str] = mapped_column(String(80))
    shipment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tms_shipment.id"))
    billed_weight_kg: Mapped[Decimal | None] = mapped_column(Qty)
    billed_amount: Mapped[Decimal] = mapped_column(Amount)
    expected_amount: Mapped[Decimal | None] = mapped_column(Amount)  # the quote
    variance_pct: Mapped[Decimal | None] = mapped_column(Qty)
    status: Mapped[str] = mapped_column(String(12), default="matched")  # matched | over | under | unknown | approved
    approved_amount: Mapped[Decimal | None] = mapped_column(Amount)
    note: Mapped[str | None] = mapped_column(String(300))

    bill: Mapped[TmsFreightBill] = relationship(back_populates="lines")
