"""MES test helpers: a small furniture plant made through the services.

    desk YS-DESK-120 实木书桌 (lot-tracked)          V1.0: 1 × top, 4 × leg (lot), 16 × screw
      └─ top YS-TOP-120 桌面板 (lot-tracked)          V1.0: 2 × oak board (lot) + 0.1 kg glue, 5 % scrap on oak

Work centers CUT 开料 (¥120/h) and ASM 组装 (¥90/h), each with one machine; routings: top = 开料 (setup 20,
run 6 min) → 封边 (run 4 on CUT); desk = 组装 (setup 10, run 15 on ASM) → 包装 (run 5 on ASM). Raw
materials arrive through purchase orders from two suppliers with lot numbers, so a trace ends at real
receipts and purchase orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.masterdata import boms, resources
from opensupply.mes import routings
from opensupply.mes.models import Equipment, WorkCenter
from tests import factories as f

D = Decimal


@dataclass
class Plant:
    db: object
    company: int
    products: dict[str, int] = field(default_factory=dict)
    boms: dict[str, int] = field(default_factory=dict)
    work_centers: dict[str, int] = field(default_factory=dict)
    equipment: dict[str, int] = field(default_factory=dict)
    suppliers: dict[str, int] = field(default_factory=dict)

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)


def partner(db, company: int, code: str, name: str, **fields) -> int:
    data = {"code": code, "name": name, "payment_terms_days": 30}
    data.update(fields)
    with UnitOfWork(Actor.system(company), db=db) as uow:
        return rs.create_record(uow, resources.partners, data).id


def work_center(p: Plant, code: str, name: str, rate: str, machines: int = 1) -> int:
    with p.uow() as uow:
        wc = uow.add(WorkCenter(code=code, name=name, cost_per_hour=D(rate)))
        uow.flush()
        for i in range(machines):
            eq = uow.add(Equipment(code=f"{code}-{i + 1:02d}", name=f"{name} {i + 1} 号机", work_center_id=wc.id,
                                   ideal_cycle_seconds=D(60)))
            uow.flush()
            p.equipment[eq.code] = eq.id
        p.work_centers[code] = wc.id
        return wc.id


def purchase(p: Plant, supplier: str, lines: list[tuple], *, day: dt.date | None = None) -> dict:
    """Order and receive into A-01-01: lines of (sku, quantity, unit price, lot[, expiry date])."""
    with p.uow() as uow:
        po = purchasing.create_order(uow, p.suppliers[supplier], [purchasing.OrderLineIn(ln[0], ln[1], ln[2])
                                                                  for ln in lines],
                                     location="A-01-01", order_date=day)
        purchasing.confirm_order(uow, po.id)
        receipt = purchasing.receive_order(uow, po.id, [
            purchasing.ReceiptLineIn(line[1], order_line_id=ln.id, lot=line[3],
                                     expiry_date=line[4] if len(line) > 4 else None)
            for ln, line in zip(po.lines, lines, strict=True)], receipt_date=day)
        return {"po": po.number, "po_id": po.id, "receipt": receipt.number, "receipt_id": receipt.id}


def plant(db, code: str | None = None, *, stock: bool = True) -> Plant:
    c = f.company(db, code)
    f.bin_location(db, c, "A-01-01")
    p = Plant(db, c)
    p.products = {
        "desk": f.product(db, c, "YS-DESK-120", name="实木书桌 120cm", tracking="lot", cost=D(0), list_price=D(899)),
        "top": f.product(db, c, "YS-TOP-120", name="桌面板 120cm", tracking="lot", cost=D(0)),
        "oak": f.product(db, c, "RM-OAK-18", name="橡木板材 18mm", tracking="lot", cost=D(80)),
        "glue": f.product(db, c, "RM-GLUE", name="环保白乳胶", uom_id="kg", cost=D(20)),
        "leg": f.product(db, c, "RM-LEG-72", name="实木桌腿 72cm", tracking="lot", cost=D(25)),
        "screw": f.product(db, c, "RM-SCREW-M6", name="M6 螺丝", cost=D("0.2")),
    }
    p.suppliers = {"wood": partner(db, c, "S-MUYE", "湖州德清木业有限公司", is_supplier=True),
                   "parts": partner(db, c, "S-WUJIN", "永康五金配件厂", is_supplier=True)}
    with p.uow() as uow:
        top = boms.create_bom(uow, product="YS-TOP-120", lines=[
            {"component": "RM-OAK-18", "quantity": "2", "scrap_pct": "5"},
            {"component": "RM-GLUE", "quantity": "0.1"}])
        boms.release_bom(uow, top.id)
        desk = boms.create_bom(uow, product="YS-DESK-120", lines=[
            {"component": "YS-TOP-120", "quantity": "1"}, {"component": "RM-LEG-72", "quantity": "4"},
            {"component": "RM-SCREW-M6", "quantity": "16"}])
        boms.release_bom(uow, desk.id)
        p.boms = {"top": top.id, "desk": desk.id}
    work_center(p, "CUT", "开料线", "120")
    work_center(p, "ASM", "组装线", "90")
    with p.uow() as uow:
        routings.create_routing(uow, product="YS-TOP-120", operations=[
            {"name": "开料", "work_center": "CUT", "setup_minutes": "20", "run_minutes": "6"},
            {"name": "封边", "work_center": "CUT", "run_minutes": "4"}])
        routings.create_routing(uow, product="YS-DESK-120", operations=[
            {"name": "组装", "work_center": "ASM", "setup_minutes": "10", "run_minutes": "15"},
            {"name": "包装", "work_center": "ASM", "run_minutes": "5"}])
    if stock:
        purchase(p, "wood", [("RM-OAK-18", "50", "80", "OAK-2611-A"), ("RM-GLUE", "10", "20", None)])
        purchase(p, "parts", [("RM-LEG-72", "100", "25", "LEG-2611-01"), ("RM-SCREW-M6", "1000", "0.2", None)])
    return p


def books(p: Plant) -> dict:
    """Trial balance totals, stock value vs GL stock, and balances per account code."""
    from opensupply.accounting import service as gl
    from opensupply.inventory import service as inv

    with p.uow(readonly=True) as uow:
        tb = gl.trial_balance(uow)
        val = inv.valuation(uow)
        bal = {ln["code"]: D(str(ln.get("debit", 0))) - D(str(ln.get("credit", 0))) for ln in tb["lines"]}
        return {"debit": D(str(tb["total_debit"])), "credit": D(str(tb["total_credit"])),
                "stock_value": D(str(val["total_value"])), "gl_stock": D(str(val["gl_inventory_balance"])),
                "balances": bal}


def customer(p: Plant, code: str, name: str) -> int:
    return partner(p.db, p.company, code, name, is_customer=True, province="浙江省", city="杭州市")


def sell(p: Plant, customer_id: int, sku: str, qty: str) -> dict:
    """A confirmed sales order delivered at once; returns its and the delivery's numbers."""
    from opensupply.erp.sales import service as sales

    with p.uow() as uow:
        so = sales.create_sales_order(uow, customer_id=customer_id, lines=[sales.SalesLineIn(sku=sku, quantity=qty)],
                                      confirm=True)
        d = sales.deliver(uow, so.id)
        return {"order": so.number, "order_id": so.id, "delivery": d.number}


def make(p: Plant, sku: str, qty: str, lot: str) -> int:
    """Release and complete a work order in one go (materials backflushed)."""
    from opensupply.mes import work_orders as wos

    with p.uow() as uow:
        wo = wos.create_work_order(uow, product=sku, quantity=qty, lot_name=lot)
        wos.release_work_order(uow, wo.id)
        wos.complete_work_order(uow, wo.id, qty)
        return wo.id
