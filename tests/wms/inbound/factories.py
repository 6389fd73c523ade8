"""Inbound test helpers: a company with a laid-out warehouse (tests/wms/factories), a supplier,
products (one lot-tracked) and confirmed purchase orders made through ERP's service."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.wms import bins as wms_bins
from tests import factories as f
from tests.erp.purchasing.factories import partner
from tests.wms.factories import WarehouseSetup, warehouse_with_layout

D = Decimal


@dataclass
class Inbound:
    db: object
    company: int
    supplier: int
    wh: WarehouseSetup
    products: dict[str, int] = field(default_factory=dict)

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)

    def order(self, lines: list[tuple[str, str]], **kw) -> int:
        """A confirmed PO of (product key, quantity) lines; returns its id."""
        with self.uow() as uow:
            po = purchasing.create_order(uow, self.supplier, [purchasing.OrderLineIn(self.products[k], q, "20")
                                                              for k, q in lines], **kw)
            purchasing.confirm_order(uow, po.id)
            return po.id

    def set_bin(self, code: str, **changes) -> None:
        with self.uow() as uow:
            wms_bins.update_bin(uow, self.wh.bins[code].id, **changes)

    def on_hand(self, key: str, code: str) -> Decimal:
        from opensupply.inventory import service as inv

        loc = {"RCV": self.wh.dock, "QC": self.wh.qc}.get(code) or self.wh.bins[code]
        with self.uow(readonly=True) as uow:
            return inv.on_hand(uow, self.products[key], loc.location_id)


def setup(db, *, aisles: int = 2, bins_per_side: int = 3, capacity_units=None) -> Inbound:
    c = f.company(db)
    wh = warehouse_with_layout(db, c, aisles=aisles, bins_per_side=bins_per_side, capacity_units=capacity_units)
    sup = partner(db, c, "S-HD", "永康市宏达不锈钢制品厂")
    s = Inbound(db, c, sup, wh)
    s.products["cup"] = f.product(db, c, "YS-CUP-350", name="不锈钢保温杯 350ml", cost=D("30"), barcode="6901234567892")
    s.products["towel"] = f.product(db, c, "YS-TOWEL-01", name="纯棉毛巾", cost=D("18"), tracking="lot")
    s.products["mug"] = f.product(db, c, "YS-MUG-01", name="陶瓷马克杯", cost=D("12"))
    return s


def stock(s: Inbound, key: str, code: str, qty, lot: str | None = None) -> None:
    """Put `qty` of a product straight into a bin (a plain inventory receipt)."""
    from opensupply.inventory import service as inv

    loc = {"RCV": s.wh.dock, "QC": s.wh.qc}.get(code) or s.wh.bins[code]
    with s.uow() as uow:
        inv.receive(uow, [inv.StockLine(s.products[key], D(qty), lot=lot, unit_cost=D("10"))], loc.location_id)


def clerk(s: Inbound, username: str | None = None, *, approve: bool = False):
    """A warehouse user with wms.read/write (and wms.approve when asked), as an Actor."""
    from opensupply.core import auth

    role = "wms_lead" if approve else "wms_clerk"
    perms = ["wms.read", "wms.write", "inventory.read"] + (["wms.approve"] if approve else [])
    with s.uow() as uow:
        auth.ensure_role(uow, role, "仓库主管" if approve else "仓库员", perms)
    name = f.user(s.db, s.company, username, roles=(role,))
    return f.actor(s.db, s.company, name)
