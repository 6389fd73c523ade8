"""Demo stock: five months of receipts into the demo bins, lots for the lot-tracked goods,
serial-numbered kettles, open reservations and one stock count — posted through the ledger's
own services, so on-hand, moves and valuation agree from the start. Goods leave through the
ERP sales demo, with their invoices, so the demo's 利润表 shows a believable margin."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import service as inv

# sku → (bin, received per supplier delivery (min, max), typical order size (min, max))
PLAN = {
    "YS-CUP-350": ("A-01-01", (240, 480), (12, 60)),
    "YS-CUP-500": ("A-01-02", (120, 360), (6, 48)),
    "YS-TOWEL-01": ("B-01-01", (150, 300), (10, 40)),
    "YS-PILLOW-48": ("B-01-02", (40, 120), (4, 16)),
    "YS-BOX-L": ("A-02-01", (80, 200), (5, 30)),
    "YS-HANGER-10": ("A-02-01", (200, 400), (20, 60)),
    "YS-KETTLE-17": ("D-03-02", (4, 8), (1, 2)),
    "RM-SS304": ("D-03-02", (500, 1200), (80, 260)),
    "RM-COTTON": ("B-01-02", (300, 700), (50, 180)),
}
WEEKS = 22


def seed(uow: UnitOfWork, company: md.Company) -> None:
    rnd = random.Random(20260301)  # the same demo every time
    products = {p.sku: p for p in uow.session.query(md.Product).filter(md.Product.company_id == company.id)
                if p.sku in PLAN}
    if not products:
        return
    base_cost = {sku: Decimal(p.cost or 0) for sku, p in products.items()}
    serial_no = 0
    start = dt.datetime.now(dt.UTC).replace(hour=2, minute=0, second=0, microsecond=0) - dt.timedelta(weeks=WEEKS)
    rcv_no = 0
    for week in range(WEEKS):
        monday = start + dt.timedelta(weeks=week)
        # receipts: two or three suppliers' deliveries a week
        for sku in rnd.sample(sorted(products), rnd.randint(2, 3)):
            p = products[sku]
            bin_code, (lo, hi), _out = PLAN[sku]
            rcv_no += 1
            cost = (base_cost[sku] * Decimal(rnd.uniform(0.94, 1.08))).quantize(Decimal("0.01"))
            when = monday + dt.timedelta(days=rnd.randint(0, 2))
            lines = []
            if p.tracking == "serial":
                for _i in range(rnd.randint(lo, hi)):
                    serial_no += 1
                    name = f"SN-KT{serial_no:06d}"
                    lines.append(inv.StockLine(sku, 1, lot=name, unit_cost=cost))
            else:
                qty = rnd.randint(lo, hi) // 10 * 10 or lo
                lot = f"L{when:%Y%m%d}" if p.tracking == "lot" else None
                expiry = when.date() + dt.timedelta(days=730) if lot and sku.startswith("YS-") else None
                lines.append(inv.StockLine(sku, qty, lot=lot, unit_cost=cost, expiry_date=expiry))
            inv.receive(uow, lines, bin_code, reference=f"RCV{when:%Y}-{rcv_no:05d}", date_done=when)
    # open orders waiting to ship hold reservations
    for i, sku in enumerate(("YS-CUP-350", "YS-HANGER-10", "YS-BOX-L")):
        bin_loc = inv.resolve_location(uow, PLAN[sku][0])
        qty = min(Decimal(20 + 10 * i), inv.available(uow, products[sku].id, bin_loc.id))
        if qty > 0:
            inv.reserve(uow, [inv.ReservationRequest(products[sku].id, bin_loc.id, qty, ref_type="demo",
                                                     reference=f"SO{start:%Y}-{900 + i:05d}")])
    # last month's stock count found two storage boxes broken
    box = products.get("YS-BOX-L")
    if box is not None:
        loc = inv.resolve_location(uow, PLAN["YS-BOX-L"][0])
        counted = max(inv.on_hand(uow, box.id, loc.id) - 2, Decimal(0))
        adj = inv.create_adjustment(uow, "月度盘点：收纳箱破损 2 件", [inv.AdjustmentLineIn(box.id, loc.id, counted)])
        inv.validate_adjustment(uow, adj.id)
