"""Demo production for 杭州云杉家居: the cups are pressed and polished from 304 steel plate, the towels woven
and hemmed from cotton yarn. Work centers with their machines, routings, a machine breakdown last week,
and work orders in every state — done ones with lots you can trace from the supplier's steel or yarn lot
to the customer who received the towels, one on the line right now, released and draft ones to schedule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot
from opensupply.masterdata import models as md

from . import equipment as eqs
from . import routings, terminal
from . import work_orders as wos
from .models import Equipment, WorkCenter

D = Decimal

# code, name, ¥ per hour, machines (code suffix, name, ideal seconds per unit)
WORK_CENTERS = (
    ("PRESS", "冲压线", "110", (("01", "250 吨冲床 1 号", "20"), ("02", "250 吨冲床 2 号", "20"))),
    ("POLISH", "抛光线", "80", (("01", "自动抛光机", "30"),)),
    ("WEAVE", "织造车间", "95", (("01", "剑杆织机 1 号", "45"), ("02", "剑杆织机 2 号", "45"))),
    ("SEW", "缝制包装线", "70", (("01", "缝边包装工位", "25"),)),
)
# product, operations (name, work center, setup minutes, run minutes per unit)
ROUTINGS = (
    ("YS-CUP-350", (("冲压拉伸", "PRESS", "30", "0.4"), ("抛光", "POLISH", "10", "0.6"))),
    ("YS-CUP-500", (("冲压拉伸", "PRESS", "30", "0.5"), ("抛光", "POLISH", "10", "0.7"))),
    ("YS-TOWEL-01", (("织造", "WEAVE", "20", "0.9"), ("缝边包装", "SEW", "10", "0.5"))),
)


def _local(uow: UnitOfWork, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    company = uow.session.get(md.Company, uow.company_id)
    return dt.datetime(day.year, day.month, day.day, hour, minute,
                       tzinfo=ZoneInfo(company.timezone or "Asia/Shanghai")).astimezone(dt.UTC)


def seed(uow: UnitOfWork, company: md.Company) -> None:
    skus = {p.sku: p for p in uow.session.scalars(select(md.Product).where(md.Product.company_id == company.id))}
    if "YS-TOWEL-01" not in skus or "YS-CUP-350" not in skus:
        return
    today = company_today(uow)
    wh = uow.session.scalar(select(md.Warehouse).where(md.Warehouse.company_id == company.id)
                            .order_by(md.Warehouse.id))
    machines: dict[str, int] = {}
    for code, name, rate, eqs_ in WORK_CENTERS:
        wc = uow.add(WorkCenter(code=code, name=name, cost_per_hour=D(rate), warehouse_id=wh.id,
                                feeding_alert_minutes=30, feeding_cover_minutes=120))
        uow.flush()
        wos.staging_location(uow, wc, wh)
        for suffix, mname, ideal in eqs_:
            eq = uow.add(Equipment(code=f"{code}-{suffix}", name=mname, work_center_id=wc.id,
                                   ideal_cycle_seconds=D(ideal), model="YS-" + code))
            uow.flush()
            machines[eq.code] = eq.id
    for sku, ops in ROUTINGS:
        routings.create_routing(uow, product=sku, operations=[
            {"name": n, "work_center": wc, "setup_minutes": s, "run_minutes": r} for n, wc, s, r in ops])

    # done: towels woven from yarn lot CT2607-01 two weeks ago, then a customer received them
    if "RM-COTTON" in skus and inv.available(uow, skus["RM-COTTON"].id) >= D("60"):
        _made(uow, "YS-TOWEL-01", "120", "TW-M2611-01", today - dt.timedelta(days=14))
        _sell_towels(uow, today)
    # done: 350 ml cups pressed from the steel plate lots
    if "RM-SS304" in skus and inv.available(uow, skus["RM-SS304"].id) >= D("40"):
        _made(uow, "YS-CUP-350", "200", None, today - dt.timedelta(days=5))
    # a breakdown of press 2 last week, and polishing maintenance, so the status history has downtime
    week_ago = today - dt.timedelta(days=7)
    eqs.set_equipment_status(uow, machines["PRESS-02"], "running", at=_local(uow, week_ago, 8))
    eqs.set_equipment_status(uow, machines["PRESS-02"], "down", reason="液压系统漏油", at=_local(uow, week_ago, 10, 30))
    eqs.set_equipment_status(uow, machines["PRESS-02"], "idle", at=_local(uow, week_ago, 13, 15))
    eqs.set_equipment_status(uow, machines["POLISH-01"], "maintenance", reason="月度保养：更换抛光轮",
                             at=_local(uow, today - dt.timedelta(days=3), 8))
    eqs.set_equipment_status(uow, machines["POLISH-01"], "idle", at=_local(uow, today - dt.timedelta(days=3), 10))
    # on the line now: 500 ml cups, pressing started this morning
    if "RM-SS304" in skus and inv.available(uow, skus["RM-SS304"].id) >= D("40"):
        wo = wos.create_work_order(uow, product="YS-CUP-500", quantity="240", due_date=today + dt.timedelta(days=2),
                                   priority=1, notes="天猫双十二备货")
        wos.release_work_order(uow, wo.id)
        first = wo.operations[0]
        terminal.start_operation(uow, first.id, equipment_id=machines["PRESS-01"], client_scan_id=None,
                                 at=_local(uow, today, 8, 10))
        terminal.report_quantity(uow, first.id, "120", "3", reason="拉伸破裂", at=_local(uow, today, 9, 20))
    # the roster: 早班 Monday–Saturday on every line, 中班 on the presses, from three weeks back
    from opensupply.core import resource as rs

    from . import calendar, resources, schedule_job

    rs.create_record(uow, resources.shifts, {"code": "DAY", "name": "早班", "start_time": "08:00", "end_time": "17:00",
                                             "break_minutes": 60})
    rs.create_record(uow, resources.shifts, {"code": "EVE", "name": "中班", "start_time": "17:00", "end_time": "01:00",
                                             "break_minutes": 30})
    start = today - dt.timedelta(days=21)
    calendar.apply_pattern(uow, shift="DAY", work_centers=[c for c, *_r in WORK_CENTERS], start=start, weeks=7,
                           weekdays=(0, 1, 2, 3, 4, 5), headcount=6)
    calendar.apply_pattern(uow, shift="EVE", work_centers=["PRESS"], start=start, weeks=7, weekdays=(0, 1, 2, 3, 4),
                           headcount=3)
    # released and draft orders waiting for the schedule
    for sku, qty, days, kind in (("YS-CUP-350", "300", 4, "normal"), ("YS-TOWEL-01", "150", 6, "normal"),
                                 ("YS-CUP-350", "60", 9, "normal")):
        wo = wos.create_work_order(uow, product=sku, quantity=qty, due_date=today + dt.timedelta(days=days),
                                   kind=kind)
        if days < 9:
            wos.release_work_order(uow, wo.id)
    schedule_job.run_schedule(uow, time_limit_s=3)  # the Gantt chart has a plan to show


def _made(uow: UnitOfWork, sku: str, qty: str, lot: str | None, day: dt.date) -> None:
    """A work order reported on the terminal through the day and completed in the evening."""
    wo = wos.create_work_order(uow, product=sku, quantity=qty, lot_name=lot, due_date=day)
    wos.release_work_order(uow, wo.id)
    hour = 8
    for op in wo.operations:
        eq = uow.session.scalar(select(Equipment.id).where(Equipment.work_center_id == op.work_center_id)
                                .order_by(Equipment.code))
        start = _local(uow, day, hour)
        minutes = int(routings.operation_minutes(op, D(qty)))
        end = start + dt.timedelta(minutes=minutes)
        terminal.start_operation(uow, op.id, equipment_id=eq, at=start)
        terminal.finish_operation(uow, op.id, qty, at=end)
        hour = min(end.astimezone(ZoneInfo("Asia/Shanghai")).hour + 1, 20)
    wos.complete_work_order(uow, wo.id, qty, done_at=_local(uow, day, 20))


def _sell_towels(uow: UnitOfWork, today: dt.date) -> None:
    """A direct customer order large enough to take the bought towel lots and part of the one made here."""
    from opensupply.erp.sales import service as sales

    customer = uow.session.scalar(select(md.Partner.id).where(md.Partner.company_id == uow.company_id,
                                                              md.Partner.code == "C-HZJY"))
    towel = uow.session.scalar(select(md.Product.id).where(md.Product.company_id == uow.company_id,
                                                           md.Product.sku == "YS-TOWEL-01"))
    made = uow.session.scalar(select(StockLot.id).where(StockLot.company_id == uow.company_id,
                                                        StockLot.name == "TW-M2611-01"))
    if not customer or not towel or not made:
        return
    other = inv.available(uow, towel) - inv.on_hand(uow, towel, lot_id=made)
    qty = max(other, D(0)) + D(40)
    so = sales.create_sales_order(uow, customer_id=customer, lines=[sales.SalesLineIn(product_id=towel, quantity=qty)],
                                  confirm=True, order_date=today - dt.timedelta(days=10), notes="酒店客房毛巾年度补货")
    sales.deliver(uow, so.id, date=today - dt.timedelta(days=9))
