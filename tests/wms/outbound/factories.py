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


def floor(db, stock: dict[str, dict[str, int]] | None = None, *, company: int | None = None) -> Floor:
    company = company or f.company(db)
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


def channel_order(fl: Floor, lines: dict[str, int], *, order_id: str | None = None) -> tuple[int, int]:
    """A paid Taobao order imported through OMS intake, approved and allocated to the floor's
    warehouse; returns (OMS order id, fulfilment id)."""
    import datetime as dt
    import itertools

    from opensupply.oms import allocation, intake, shops
    from opensupply.oms import orders as oms_orders
    from opensupply.oms.channel_order import ChannelOrder, ChannelOrderLine
    from opensupply.oms.models import OmsOrder

    global _orders
    try:
        _orders
    except NameError:
        _orders = itertools.count(1)
    cid = order_id or f"TB{fl.company:03d}{next(_orders):09d}"
    co = ChannelOrder(channel="taobao", channel_order_id=cid, platform_status="买家已付款，等待卖家发货",
                      buyer_nick="yunshan_buyer", receiver_name="王小明", receiver_phone="13800138000",
                      address="浙江省杭州市西湖区文三路 90 号东部软件园", paid_at=dt.datetime.now(dt.UTC),
                      lines=[ChannelOrderLine(quantity=D(q), channel_sku=sku, title=PRODUCTS[sku][0],
                                              unit_price=D("50"), paid_amount=D(50 * q), channel_line_id=f"{cid}-{i}")
                             for i, (sku, q) in enumerate(lines.items(), 1)])
    co.goods_amount = co.paid_amount = sum((ln.paid_amount for ln in co.lines), D(0))
    with fl.uow() as uow:
        shop = shops.get_or_create_shop(uow, channel="taobao", name="云杉淘宝旗舰店")
        shop.auto_approve = True
        shop.default_warehouse_id = fl.wh.warehouse_id
        shop_id = shop.id
    with fl.uow() as uow:
        result = intake.import_channel_orders(uow, shop_id, [co], source="api")
        assert result.created == 1, result
        oid = uow.session.scalar(select(OmsOrder.id).where(OmsOrder.channel_order_id == cid))
    with fl.uow() as uow:
        if uow.get(OmsOrder, oid).status == "pending":
            oms_orders.approve_orders(uow, [oid])
    with fl.uow() as uow:
        if uow.get(OmsOrder, oid).status == "approved":
            res = allocation.allocate_orders(uow, [oid])
            assert res[0]["ok"], res
    with fl.uow(readonly=True) as uow:
        fid = uow.session.scalar(select(OmsFulfilmentLine.fulfilment_id).where(OmsFulfilmentLine.order_id == oid)
                                 .order_by(OmsFulfilmentLine.fulfilment_id.desc()).limit(1))
    assert fid, "the channel order was not allocated"
    return oid, fid
