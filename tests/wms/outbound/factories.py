"""Outbound test helpers: a warehouse with a 4-aisle layout, stocked bins, a customer and a
carrier, and confirmed ERP sales orders — each of which OMS turns into an allocated fulfilment."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.masterdata import resources
from opensupply.oms import fulfilments as _oms_fulfilments  # noqa: F401  (subscribes: ERP order → fulfilment)
from opensupply.oms.models import OmsFulfilment, OmsFulfilmentLine
from tests import factories as f
from tests.erp.sales import factories as fs
from tests.wms.factories import WarehouseSetup, warehouse_with_layout

D = Decimal
PRODUCTS = {  # sku: (name, barcode)
    "YS-CUP-350": ("不锈钢保温杯 350ml", "6901234500011"),
    "YS-TOWEL-01": ("纯棉毛巾 (3 条装)", "6901234500028"),
    "YS-MUG-01": ("陶瓷马克杯", "6901234500035"),
}
STOCK = {"YS-CUP-350": {"A-03-05": 5, "A-01-02": 20},
         "YS-TOWEL-01": {"A-02-07": 20},
         "YS-MUG-01": {"A-04-03": 20}}


@dataclass
class Floor:
    db: object
    company: int
    wh: WarehouseSetup
    customer: int
    carrier: int
    products: dict[str, int] = field(default_factory=dict)

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)


def floor(db, stock: dict[str, dict[str, int]] | None = None) -> Floor:
    company = f.company(db)
    wh = warehouse_with_layout(db, company, aisles=4, bins_per_side=5)
    products = {sku: f.product(db, company, sku, name=name, barcode=barcode, cost=D("10"))
                for sku, (name, barcode) in PRODUCTS.items()}
    with UnitOfWork(Actor.system(company), db=db) as uow:
        for sku, bins in (stock or STOCK).items():
            for code, qty in bins.items():
                inv.receive(uow, [inv.StockLine(sku, str(qty), unit_cost="10")], wh.loc(code), reference="RCV-WMS")
        carrier = rs.create_record(uow, resources.partners, {"code": "YTO", "name": "圆通速递", "is_carrier": True}).id
    customer = fs.customer(db, company, code="C-WMS", name="杭州云杉客户", contact_name="王小明",
                           phone="13800138000", province="浙江省", city="杭州市", address="西湖区文三路 90 号")
    return Floor(db, company, wh, customer, carrier, products)


def order(fl: Floor, lines: dict[str, int], *, confirm: bool = True) -> int:
    """A confirmed ERP sales order; returns the allocated fulfilment OMS made for it."""
    with fl.uow() as uow:
        so = sales.create_sales_order(uow, customer_id=fl.customer, warehouse_id=fl.wh.warehouse_id,
                                      lines=[sales.SalesLineIn(sku=sku, quantity=q, unit_price="50")
                                             for sku, q in lines.items()])
        so_id = so.id
        if confirm:
            sales.confirm_sales_order(uow, so_id)
    with fl.uow(readonly=True) as uow:
        fid = uow.session.scalar(select(OmsFulfilmentLine.fulfilment_id).where(
            OmsFulfilmentLine.sales_order_id == so_id).order_by(OmsFulfilmentLine.fulfilment_id).limit(1))
    assert fid, "OMS made no fulfilment for the confirmed sales order"
    return fid


def fulfilment(fl: Floor, fid: int) -> OmsFulfilment:
    with fl.uow(readonly=True) as uow:
        return uow.get(OmsFulfilment, fid)


def on_hand(fl: Floor, sku: str, code: str) -> Decimal:
    loc = fl.wh.pack.location_id if code == "PACK" else fl.wh.loc(code)
    with fl.uow(readonly=True) as uow:
        return inv.on_hand(uow, fl.products[sku], loc)


def reserved(fl: Floor, sku: str, code: str) -> Decimal:
    loc = fl.wh.pack.location_id if code == "PACK" else fl.wh.loc(code)
    with fl.uow(readonly=True) as uow:
        return inv.reserved(uow, fl.products[sku], loc)
