"""WMS factories: a warehouse with a generated bin layout and its special bins, made through the
WMS services (`wms.bins.generate_bins`, `ensure_special_bins`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata.models import Warehouse
from opensupply.wms import bins as wms_bins
from opensupply.wms.layout import LayoutSpec


@dataclass(frozen=True)
class BinRef:
    id: int  # wms_bin.id
    location_id: int
    code: str


@dataclass(frozen=True)
class WarehouseSetup:
    warehouse_id: int
    stock_location_id: int
    bins: dict[str, BinRef] = field(default_factory=dict)  # by code ("A-01-01")
    dock: BinRef | None = None
    qc: BinRef | None = None
    pack: BinRef | None = None
    staging: BinRef | None = None
    spec: LayoutSpec | None = None

    def loc(self, code: str) -> int:
        """Location id of a bin by code."""
        return self.bins[code].location_id


def warehouse_with_layout(db, company: int, *, aisles: int = 4, bins_per_side: int = 5, blocks: int = 1,
                          zone: str = "A", capacity_units=None, warehouse_id: int | None = None) -> WarehouseSetup:
    """The company's first warehouse (or `warehouse_id`) with a `zone` layout of aisles × 2 sides ×
    bins_per_side pick bins (codes A-01-01 …) plus RCV / QC / PACK / STAGE."""
    spec = LayoutSpec(zone=zone, aisles=aisles, bins_per_side=bins_per_side, blocks=blocks)
    with UnitOfWork(Actor.system(company), db=db) as uow:
        if warehouse_id is None:
            warehouse_id = uow.session.scalars(select(Warehouse.id).where(Warehouse.company_id == company)
                                               .order_by(Warehouse.id)).first()
        wh = uow.get(Warehouse, warehouse_id)
        made = wms_bins.generate_bins(uow, warehouse_id, spec, capacity_units=capacity_units)
        special = wms_bins.ensure_special_bins(uow, warehouse_id)

        def ref(b):
            return BinRef(b.id, b.location_id, b.code)

        return WarehouseSetup(warehouse_id=warehouse_id, stock_location_id=wh.stock_location_id,
                              bins={b.code: ref(b) for b in made}, dock=ref(special["dock"]), qc=ref(special["qc"]),
                              pack=ref(special["pack"]), staging=ref(special["staging"]), spec=spec)
