"""Demo own fleet: a Hangzhou depot at the demo warehouse, two vans, two drivers, a dozen deliveries for
tomorrow around the city and the day's route plan already solved (ready for 调度)."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import fleet, planning
from . import shipments as ship_svc
from .models import TmsDepot

DEPOT = (30.2741, 120.1551)
STREETS = ("文三路", "天目山路", "教工路", "古墩路", "莫干山路", "学院路", "丰潭路", "文一西路", "江南大道", "滨盛路")
DISTRICTS = ("西湖区", "拱墅区", "上城区", "滨江区")


def seed(uow: UnitOfWork, company: md.Company) -> None:
    if uow.session.scalar(select(TmsDepot.id).where(TmsDepot.company_id == company.id).limit(1)):
        return
    wh = uow.session.scalar(select(md.Warehouse).where(md.Warehouse.company_id == company.id).order_by(md.Warehouse.id))
    fleet.ensure_driver_role(uow)
    depot = fleet.create_depot(uow, code="HZ-01", name="杭州城西配送站", lat=DEPOT[0], lon=DEPOT[1],
                               warehouse_id=wh.id if wh else None, road_factor=1.35, speed_kmh=28)
    for code, plate, cap in (("VAN-01", "浙A·D0001", "800"), ("VAN-02", "浙A·D0002", "800")):
        fleet.create_vehicle(uow, code=code, plate=plate, depot_id=depot.id, capacity_kg=cap, capacity_m3="8",
                             cost_per_km="2.8", fixed_cost="150", shift_start="08:00", shift_end="18:00")
    for code, name, phone in (("DRV-01", "张建国", "13905710001"), ("DRV-02", "李卫东", "13905710002")):
        fleet.create_driver(uow, code=code, name=name, phone=phone)
    rng = random.Random(2026)
    day = company_today(uow) + dt.timedelta(days=1)
    for i in range(12):
        lat = DEPOT[0] + rng.uniform(-0.07, 0.07)
        lon = DEPOT[1] + rng.uniform(-0.08, 0.08)
        ship_svc.create_shipment(
            uow, warehouse_id=wh.id if wh else None, mode="fleet", lat=lat, lon=lon, promised_date=day,
            receiver={"name": f"{'王李张刘陈杨赵黄周吴徐孙'[i]}先生", "phone": f"1381234{i:04d}", "province": "浙江省",
                      "city": "杭州市", "district": DISTRICTS[i % 4],
                      "address": f"{STREETS[i % 10]} {rng.randint(1, 300)} 号"},
            packages=[{"weight_kg": str(rng.randint(10, 80))}], reference=f"DEMO-FLEET-{i + 1:02d}")
    planning.create_plan(uow, depot.id, day, time_limit_s=1)
