"""OMS order-flow test helpers: a company with two warehouses (杭州, 广州), stock in bins, a shop
with its platform customer, and channel orders put in through the ORM (as intake stores them)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md
from opensupply.masterdata import resources
from opensupply.masterdata.service import create_warehouse_locations, ensure_bin
from opensupply.oms.models import OmsOrder, OmsShop
from tests import factories as f

D = Decimal
_seq = itertools.count(1)


@dataclass
class World:
    db: object
    company: int
    wh1: int  # 杭州 (浙江省), bins WH/STOCK/A-01-01
    wh2: int  # 广州 (广东省), bins GZ/STOCK/A-01-01
    shop: int
    customer: int
    products: dict[str, int] = field(default_factory=dict)

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)

    @property
    def actor(self) -> Actor:
        return Actor.system(self.company)


def world(db, *, stock: dict | None = None, shop_settings: dict | None = None, channel: str = "taobao",
          company: int | None = None) -> World:
    """stock = {sku: {"WH": qty, "GZ": qty}}; default: CUP 100 in WH, 20 in GZ; TOWEL 50 in WH; LAMP 30 in GZ.
    A new company unless `company` is given (it must have its warehouse WH)."""
    c = company or f.company(db)
    stock = stock if stock is not None else {"CUP": {"WH": 100, "GZ": 20}, "TOWEL": {"WH": 50}, "LAMP": {"GZ": 30}}
    with UnitOfWork(Actor.system(c), db=db) as uow:
        wh1 = uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == c)).first()
        wh1.province, wh1.city = "浙江省", "杭州市"
        wh2 = md.Warehouse(company_id=c, code="GZ", name="广州仓", province="广东省", city="广州市")
        uow.session.add(wh2)
        uow.session.flush()
        create_warehouse_locations(uow, wh2)
        ensure_bin(uow, wh1, "A-01-01")
        ensure_bin(uow, wh2, "A-01-01")
        customer = rs.create_record(uow, resources.partners, {"code": f"TB-{c}", "name": "淘宝消费者",
                                                              "is_customer": True}).id
        shop = OmsShop(company_id=c, code=f"S{next(_seq)}", name="云杉淘宝旗舰店", channel=channel,
                       customer_id=customer, settings=shop_settings or {})
        uow.session.add(shop)
        uow.session.flush()
        w = World(db, c, wh1.id, wh2.id, shop.id, customer)
        ids = (wh1.id, wh2.id)
    for sku in ("CUP", "TOWEL", "LAMP"):
        w.products[sku] = f.product(db, c, sku, name={"CUP": "保温杯", "TOWEL": "毛巾", "LAMP": "台灯"}[sku],
                                    list_price=D("50"))
    for sku, per in stock.items():
        for code, qty in per.items():
            with w.uow() as uow:
                inv.receive(uow, [inv.StockLine(sku, str(qty), unit_cost="10")], f"{code}/STOCK/A-01-01",
                            reference="RCV")
    assert ids
    return w


PLACES = {"浙江省": ("杭州市", "西湖区"), "广东省": ("广州市", "天河区"), "江苏省": ("南京市", "鼓楼区"),
          "北京市": ("北京市", "朝阳区")}


def order(w: World, lines: list[tuple[str, int, str]], *, status: str = "pending", province: str = "浙江省",
          name: str = "张三", phone: str = "13800138000", detail: str = "文三路 478 号华星大厦", freight: str = "0",
          priority: int = 0, presale: bool = False, paid_at: dt.datetime | None = None, shop: int | None = None,
          unmatched: bool = False) -> int:
    """A channel order as a platform export gives it, stored through OMS intake (normalized phone,
    split address, merge key, matched products, intake holds); lines = [(sku, qty, paid amount of
    the line)]. status="approved" approves it too."""
    from opensupply.oms import intake
    from opensupply.oms import orders as oo
    from opensupply.oms.channel_order import ChannelOrder, ChannelOrderLine

    n = next(_seq)
    shop = shop or w.shop
    city, district = PLACES.get(province, ("", ""))
    goods = sum((D(p) for _s, _q, p in lines), D(0))
    paid_at = paid_at or dt.datetime.now(dt.UTC)
    coid = f"TB{w.company}{n:08d}"
    co = ChannelOrder(
        channel="taobao", channel_order_id=coid, buyer_nick=f"buyer{n}", receiver_name=name, receiver_phone=phone,
        address=f"{province}{city}{district}{detail}", goods_amount=goods, freight=D(freight),
        paid_amount=goods + D(freight), ordered_at=paid_at, paid_at=paid_at, is_presale=presale,
        lines=[ChannelOrderLine(quantity=D(q), channel_sku=f"NOPE-{sku}" if unmatched else sku, title=sku,
                                unit_price=D(p) / D(q), paid_amount=D(p)) for sku, q, p in lines])
    with w.uow() as uow:
        res = intake.import_channel_orders(uow, shop, [co], source="file")
        assert res.created == 1, res
        o = uow.session.scalars(select(OmsOrder).where(OmsOrder.shop_id == shop,
                                                       OmsOrder.channel_order_id == coid)).one()
        if priority:
            o.priority = priority
        if status == "approved":
            (r,) = oo.approve_orders(uow, [o.id])
            assert r["ok"], r
        return o.id


def approved(w: World, lines, **kw) -> int:
    return order(w, lines, status="approved", **kw)
