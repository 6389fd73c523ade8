"""WMS tables. Tables only; behaviour lives in the services.

Bins *are* inventory locations (usage internal, child of the warehouse's stock location, so
stock, reservations and moves stay in the one ledger); `wms_bin` adds what the floor needs:
type, capacity, coordinates and block/aisle geometry for walking distances.

* `wms_layout` — the layout spec a warehouse's bins were generated from (blocks, aisles, bins
  per side, spacing) and the depot (where pick runs start and end).
* `wms_bin` — one row per bin location.
* `wms_task` — one unit of floor work: putaway, pick, replenish, move, count. Tasks of a wave
  carry `sequence` = the optimized walking order.
* `wms_wave` / `wms_wave_fulfilment` — a batch of OMS fulfilments picked together.
* `wms_package` / `wms_package_line` — cartons packed at the pack station.
* `wms_count` / `wms_count_line` — cycle counts (blind or not) and their variance approval.
* `wms_scan` — every PDA scan, keyed by the client's scan id so a double-submit counts once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity, Entity
from opensupply.core.types import Qty, UTCDateTime

BIN_TYPES = ("pick", "reserve", "bulk", "staging", "qc", "pack", "dock")
TASK_KINDS = ("putaway", "pick", "replenish", "move", "count")
TASK_STATES = ("open", "assigned", "done", "short", "cancelled")
WAVE_STATES = ("draft", "released", "picking", "picked", "done", "cancelled")
COUNT_STATES = ("open", "counted", "approved", "cancelled")


class WmsLayout(CompanyEntity, Base):
    """The spec a warehouse's bins were generated from. `spec` (JSON): {"zone": "D", "blocks": 1,
    "aisles": 10, "bins_per_side": 25, "levels": 1, "bin_width_m": 1.0, "aisle_width_m": 3.0,
    "cross_aisle_m": 2.0, "depot": [x, y]} — see wms.layout for the geometry."""

    __tablename__ = "wms_layout"
    __label__ = "仓库布局"
    __table_args__ = (UniqueConstraint("warehouse_id", "zone"),)

    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    zone: Mapped[str] = mapped_column(String(10))
    spec: Mapped[dict] = mapped_column(JSON)
    depot_x: Mapped[float] = mapped_column(Float, default=0.0)
    depot_y: Mapped[float] = mapped_column(Float, default=0.0)


class WmsBin(CompanyEntity, Base):
    __tablename__ = "wms_bin"
    __label__ = "库位"
    __table_args__ = (
        UniqueConstraint("location_id"),
        UniqueConstraint("warehouse_id", "code"),
        Index("ix_wms_bin_type", "warehouse_id", "bin_type"),
        CheckConstraint("bin_type in ('pick','reserve','bulk','staging','qc','pack','dock')", name="bin_type"),
    )

    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"))
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    layout_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("wms_layout.id"))
    code: Mapped[str] = mapped_column(String(40))  # D-03-02 (zone-aisle-position[-level])
    bin_type: Mapped[str] = mapped_column(String(10), default="pick")
    zone: Mapped[str | None] = mapped_column(String(10))
    block: Mapped[int] = mapped_column(Integer, default=0)  # blocks are separated by cross-aisles
    aisle: Mapped[int | None] = mapped_column(Integer)
    side: Mapped[int] = mapped_column(Integer, default=0)  # 0 left / 1 right of the aisle
    position: Mapped[int | None] = mapped_column(Integer)  # along the aisle, from the front
    level: Mapped[int] = mapped_column(Integer, default=1)
    x: Mapped[float] = mapped_column(Float, default=0.0)  # metres; pickers stand at (aisle centre x, y)
    y: Mapped[float] = mapped_column(Float, default=0.0)
    capacity_units: Mapped[Decimal | None] = mapped_column(Qty)
    capacity_volume_m3: Mapped[Decimal | None] = mapped_column(Qty)
    capacity_weight_kg: Mapped[Decimal | None] = mapped_column(Qty)
    fixed_product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product.id"))  # 固定库位
    min_qty: Mapped[Decimal | None] = mapped_column(Qty)  # pick-face replenishment trigger
    max_qty: Mapped[Decimal | None] = mapped_column(Qty)
    abc_class: Mapped[str | None] = mapped_column(String(1))  # distance class: A near dispatch
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WmsWave(CompanyEntity, Base):
    __tablename__ = "wms_wave"
    __label__ = "波次"
    __table_args__ = (UniqueConstraint("company_id", "number"),
                      Index("ix_wms_wave_state", "company_id", "warehouse_id", "state"))

    number: Mapped[str] = mapped_column(String(40))
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    state: Mapped[str] = mapped_column(String(10), default="draft")
    pick_mode: Mapped[str] = mapped_column(String(10), default="cluster")  # single | cluster
    carrier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"))
    cutoff: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    criteria: Mapped[dict | None] = mapped_column(JSON)  # how it was built (carrier, zone, order type …)
    route_length_m: Mapped[float | None] = mapped_column(Float)
    sshape_length_m: Mapped[float | None] = mapped_column(Float)  # the baseline, shown as the saving
    picker_id: Mapped[int | None] = mapped_column(BigId)  # auth user
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WmsWaveFulfilment(CompanyEntity, Base):
    """Fulfilment membership of a wave. `active` is cleared when the wave is cancelled; the
    unique index on (fulfilment_id, active_key) keeps a fulfilment in at most one live wave."""

    __tablename__ = "wms_wave_fulfilment"
    __table_args__ = (UniqueConstraint("fulfilment_id", "active_key"),)

    wave_id: Mapped[int] = mapped_column(BigId, ForeignKey("wms_wave.id", ondelete="CASCADE"), index=True)
    fulfilment_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_fulfilment.id"))
    slot: Mapped[int] = mapped_column(Integer, default=1)  # tote / cart slot in cluster picking
    active_key: Mapped[int | None] = mapped_column(Integer, default=1)  # 1 live, NULL once cancelled


class WmsTask(CompanyEntity, Base):
    __tablename__ = "wms_task"
    __label__ = "作业任务"
    __table_args__ = (
        Index("ix_wms_task_open", "company_id", "warehouse_id", "kind", "state"),
        Index("ix_wms_task_wave", "wave_id", "sequence"),
        CheckConstraint("kind in ('putaway','pick','replenish','move','count')", name="kind"),
        CheckConstraint("state in ('open','assigned','done','short','cancelled')", name="state"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), default="open")
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)
    qty_done: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    source_location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id"))
    dest_location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id"))
    wave_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("wms_wave.id"))
    fulfilment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_fulfilment.id"))
    fulfilment_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("oms_fulfilment_line.id"))
    reservation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_reservation.id"))
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # walking order within the wave
    slot: Mapped[int | None] = mapped_column(Integer)  # cart slot of the fulfilment (cluster picking)
    reference: Mapped[str | None] = mapped_column(String(80))  # PO / receipt / wave number
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None] = mapped_column(BigId)
    assigned_to_id: Mapped[int | None] = mapped_column(BigId)  # auth user
    done_by_id: Mapped[int | None] = mapped_column(BigId)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    move_ids: Mapped[list | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(300))


class WmsPackage(CompanyEntity, Base):
    __tablename__ = "wms_package"
    __label__ = "包裹"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    fulfilment_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_fulfilment.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | closed | shipped
    weight_kg: Mapped[Decimal | None] = mapped_column(Qty)
    length_cm: Mapped[Decimal | None] = mapped_column(Qty)
    width_cm: Mapped[Decimal | None] = mapped_column(Qty)
    height_cm: Mapped[Decimal | None] = mapped_column(Qty)
    tracking_number: Mapped[str | None] = mapped_column(String(80))

    lines: Mapped[list[WmsPackageLine]] = relationship(back_populates="package", cascade="all, delete-orphan",
                                                       order_by="WmsPackageLine.id", lazy="selectin")


class WmsPackageLine(Entity, Base):
    __tablename__ = "wms_package_line"

    package_id: Mapped[int] = mapped_column(BigId, ForeignKey("wms_package.id", ondelete="CASCADE"), index=True)
    fulfilment_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("oms_fulfilment_line.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Qty)

    package: Mapped[WmsPackage] = relationship(back_populates="lines")


class WmsCount(CompanyEntity, Base):
    __tablename__ = "wms_count"
    __label__ = "循环盘点单"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(40))
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    state: Mapped[str] = mapped_column(String(10), default="open")
    blind: Mapped[bool] = mapped_column(Boolean, default=True)  # counters do not see the book quantity
    abc_class: Mapped[str | None] = mapped_column(String(1))  # the ABC class this count was scheduled for
    reason: Mapped[str | None] = mapped_column(String(200))
    adjustment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("inventory_adjustment.id"))
    approved_by_id: Mapped[int | None] = mapped_column(BigId)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[WmsCountLine]] = relationship(back_populates="count", cascade="all, delete-orphan",
                                                     order_by="WmsCountLine.id", lazy="selectin")


class WmsCountLine(Entity, Base):
    __tablename__ = "wms_count_line"
    __table_args__ = (UniqueConstraint("count_id", "location_id", "product_id", "lot_key"),)

    count_id: Mapped[int] = mapped_column(BigId, ForeignKey("wms_count.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("location.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_lot.id"))
    lot_key: Mapped[int] = mapped_column(Integer, default=0)
    book_qty: Mapped[Decimal | None] = mapped_column(Qty)  # snapshot when the count was made
    counted_qty: Mapped[Decimal | None] = mapped_column(Qty)
    counted_by_id: Mapped[int | None] = mapped_column(BigId)
    counted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    count: Mapped[WmsCount] = relationship(back_populates="lines")


class WmsScan(CompanyEntity, Base):
    """Every PDA scan. `client_scan_id` (generated on the device per scan) makes a resubmitted
    scan a no-op: the second insert hits the unique key and the first result is returned."""

    __tablename__ = "wms_scan"
    __audit__ = False  # the task it completes is audited
    __table_args__ = (UniqueConstraint("company_id", "client_scan_id"),
                      Index("ix_wms_scan_flow_message", "company_id", "flow", "message"))  # receiving drafts

    client_scan_id: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(12))  # receive | putaway | pick | move | count | pack
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("wms_task.id"))
    code: Mapped[str] = mapped_column(String(120))  # what was scanned
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    message: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict | None] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(BigId)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
