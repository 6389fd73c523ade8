"""Own-fleet test helpers: a Hangzhou depot with vehicles and drivers (each a login with the 司机 role), and
generated fleet deliveries around it — plain shipments, or shipments linked to OMS fulfilments that the
warehouse has shipped (so a delivery marks the OMS order 已签收)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from opensupply.core import auth
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.tms import fleet
from opensupply.tms import shipments as ship_svc
from tests import factories as f

D = Decimal
DEPOT = (30.2741, 120.1551)  # 杭州 西湖区
DAY = dt.date(2026, 11, 26)
DISTRICTS = ("西湖区", "上城区", "拱墅区", "滨江区", "余杭区")


@dataclass
class Fleet:
    db: object
    company: int
    depot: int
    vehicles: list[int] = field(default_factory=list)
    drivers: list[int] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)


def make_fleet(db, company: int | None = None, *, vehicles: int = 2, capacity_kg: str = "400",
               drivers: int = 2, warehouse_id: int | None = None, password: str | None = None) -> Fleet:
    company = company or f.company(db)
    with UnitOfWork(Actor.system(company), db=db) as uow:
        auth.ensure_preset_roles(uow)
        fleet.ensure_driver_role(uow)
        depot = fleet.create_depot(uow, code=f"HZ{company}", name="杭州城西配送站", lat=DEPOT[0], lon=DEPOT[1],
                                   warehouse_id=warehouse_id, road_factor=1.3, speed_kmh=30)
        fl = Fleet(db, company, depot.id)
        for i in range(1, vehicles + 1):
            fl.vehicles.append(fleet.create_vehicle(
                uow, code=f"V{i:02d}", plate=f"浙A·{i:05d}", depot_id=depot.id, capacity_kg=capacity_kg,
                cost_per_km="2.5", fixed_cost="100", shift_start="08:00", shift_end="20:00").id)
    for i in range(1, drivers + 1):
        username = f"driver{company}x{i}"
        with UnitOfWork(Actor.system(company), db=db) as uow:
            auth.create_user(uow, username=username, password=password or f.PASSWORD, roles=["driver"],
                             company_ids=[company], display_name=f"司机{i}")
        with UnitOfWork(Actor.system(company), db=db) as uow:
            d = fleet.create_driver(uow, code=f"D{i:02d}", name=["张师傅", "李师傅", "王师傅", "赵师傅"][(i - 1) % 4],
                                    phone=f"1390000{i:04d}", username=username)
            fl.drivers.append(d.id)
            fl.usernames.append(username)
    return fl


def point(rng: random.Random, km: float = 8.0) -> tuple[float, float]:
    return (DEPOT[0] + rng.uniform(-km, km) / 111.0, DEPOT[1] + rng.uniform(-km, km) / 96.0)


def deliveries(fl: Fleet, n: int, *, seed: int = 7, weight=(5, 40), day: dt.date = DAY,
               windows: bool = False, fulfilments: list[int] | None = None) -> list[int]:
    """n fleet shipments for `day` around the depot (optionally for the given shipped fulfilments)."""
    rng = random.Random(seed)
    ids = []
    with fl.uow() as uow:
        for i in range(n):
            lat, lon = point(rng)
            ws = we = None
            if windows and i % 3 == 0:
                start = dt.datetime.combine(day, dt.time(1 + (i % 2) * 3, 0), tzinfo=dt.UTC)  # 09:00 / 12:00 CST
                ws, we = start, start + dt.timedelta(hours=3)
            fid = fulfilments[i] if fulfilments else None
            s = ship_svc.create_shipment(
                uow, fulfilment_id=fid, warehouse_id=None, mode="fleet", lat=lat, lon=lon,
                receiver={"name": f"客户{i + 1:02d}", "phone": f"1380000{i:04d}", "province": "浙江省",
                          "city": "杭州市", "district": DISTRICTS[i % len(DISTRICTS)],
                          "address": f"文三路 {100 + i} 号"},
                packages=[{"weight_kg": str(rng.randint(*weight))}], promised_date=day, window_start=ws,
                window_end=we, reference=f"REF-{i + 1:03d}", source_key=f"fleet-{fid}" if fid else None)
            ids.append(s.id)
    return ids


def shipped_fulfilments(db, company: int, n: int) -> tuple[list[int], list[int]]:
    """n Taobao orders imported, allocated, picked, packed and shipped by the warehouse; (order ids, fulfilment ids)."""
    from opensupply.oms import fulfilments as ful
    from tests.wms.outbound.factories import channel_order, floor

    fl = floor(db, {"YS-CUP-350": {"A-01-02": n + 5}}, company=company)
    oids, fids = [], []
    for _i in range(n):
        oid, fid = channel_order(fl, {"YS-CUP-350": 1})
        oids.append(oid)
        fids.append(fid)
    with fl.uow() as uow:
        ful.start_picking(uow, fids, wave_number="W-FLEET")
    for fid in fids:
        with fl.uow() as uow:
            ful.mark_packed(uow, fid, weight_kg=D("1.5"))
            ful.ship(uow, fid, tracking_number=f"FLEET{fid:06d}")
    return oids, fids
