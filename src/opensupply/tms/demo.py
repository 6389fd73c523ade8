"""Demo carriers: 顺丰, 中通, 圆通, 韵达, 京东物流, 德邦 (partners marked 承运商) with connector settings and a
rate card each for every mainland province from 浙江 (zones: 省内 / 江浙沪皖 / 近邻 / 远程 / 偏远), a handful
of shipments quoted and chosen by cost (some booked and tracked, one late) and a 顺丰 freight bill with one
overcharged waybill waiting for approval. Everything goes through the TMS services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.sequences import company_today
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.masterdata import resources
from opensupply.masterdata.regions import PROVINCES

from . import freight, rates, shipments
from .models import TmsRateCard

D = Decimal
ZONES = {
    "local": ("浙江省",),
    "near": ("上海市", "江苏省", "安徽省"),
    "mid": ("福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "北京市", "天津市", "河北省",
            "重庆市"),
    "far": ("山西省", "辽宁省", "吉林省", "黑龙江省", "广西壮族自治区", "海南省", "四川省", "贵州省", "云南省",
            "陕西省", "甘肃省", "宁夏回族自治区", "青海省", "内蒙古自治区"),
    "remote": ("新疆维吾尔自治区", "西藏自治区"),
}
LEAD = {"local": 1, "near": 1, "mid": 2, "far": 3, "remote": 5}
# code, name, existing partner code, service, divisor, first price by zone, additional per kg by zone, speed bonus
CARRIERS = (
    ("SF", "顺丰速运", "L-SF", "express", 6000, {"local": 12, "near": 14, "mid": 20, "far": 23, "remote": 28},
     {"local": 2, "near": 4, "mid": 10, "far": 13, "remote": 20}, -1),
    ("ZTO", "中通快递", "L-ZTO", "standard", 8000, {"local": 5, "near": 6, "mid": 8, "far": 10, "remote": 18},
     {"local": 1, "near": 2, "mid": 4, "far": 6, "remote": 12}, 0),
    ("YTO", "圆通速递", "L-YTO", "standard", 8000, {"local": 5, "near": 6.5, "mid": 8.5, "far": 10, "remote": 19},
     {"local": 1, "near": 2, "mid": 4, "far": 5.5, "remote": 13}, 0),
    ("YUNDA", "韵达快递", "L-YUNDA", "standard", 8000, {"local": 4.5, "near": 6, "mid": 8, "far": 11, "remote": 20},
     {"local": 1, "near": 2, "mid": 3.5, "far": 6, "remote": 12}, 1),
    ("JD", "京东物流", "L-JD", "express", 6000, {"local": 10, "near": 12, "mid": 16, "far": 20, "remote": 26},
     {"local": 2, "near": 3, "mid": 6, "far": 9, "remote": 16}, -1),
    ("DEPPON", "德邦快递", "L-DEPPON", "freight", 6000, {"local": 15, "near": 18, "mid": 25, "far": 30, "remote": 45},
     {"local": 1, "near": 1.5, "mid": 2.5, "far": 3.5, "remote": 6}, 1),
)
NAMES = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "周杰")
SHIPMENTS = (("北京市", "朝阳区", "2.3"), ("广东省", "天河区", "1.2"), ("江苏省", "鼓楼区", "0.8"),
             ("四川省", "武侯区", "5"), ("新疆维吾尔自治区", "天山区", "2"), ("上海市", "浦东新区", "12"),
             ("湖北省", "洪山区", "3.6"), ("浙江省", "西湖区", "0.5"))


def _zone(province: str) -> str | None:
    return next((z for z, ps in ZONES.items() if province in ps), None)


def seed(uow: UnitOfWork, company: md.Company) -> None:
    if uow.session.scalar(select(TmsRateCard.id).where(TmsRateCard.company_id == company.id).limit(1)):
        return  # seeded already
    wh = uow.session.scalar(select(md.Warehouse).where(md.Warehouse.company_id == company.id)
                            .order_by(md.Warehouse.id))
    partners = {p.code: p for p in uow.session.scalars(select(md.Partner).where(md.Partner.company_id == company.id))}
    today = company_today(uow)
    ids = {}
    for code, name, pcode, service, divisor, first, extra, speed in CARRIERS:
        p = partners.get(pcode) or rs.create_record(uow, resources.partners, {
            "code": pcode, "name": name, "is_carrier": True})
        if not p.is_carrier:
            p.is_carrier = True
        ids[code] = p.id
        rates.save_carrier_setting(uow, p.id, code=code, connector="manual", app_secret=f"demo-{code.lower()}-secret",
                                   rules={"priority": 1, "provinces": list(ZONES["remote"])} if code == "ZTO" else None)
        lines = []
        for prov in PROVINCES:
            z = _zone(prov)
            if z is None or (code == "DEPPON" and z == "remote"):
                continue  # 港澳台 not served; 德邦 does not go to 新疆/西藏
            lines.append({"dest_province": prov, "first_weight_kg": "1", "first_price": str(first[z]),
                          "additional_unit_kg": "0.5" if code == "JD" else "1",
                          "additional_price": str(D(str(extra[z])) / (2 if code == "JD" else 1)),
                          "lead_days": max(1, LEAD[z] + speed)})
        rates.create_card(
            uow, code=f"{code}-{service.upper()}-ZJ", name=f"{name} 浙江始发", carrier_id=p.id, service=service,
            valid_from=today.replace(month=1, day=1), valid_to=today.replace(month=12, day=31),
            volumetric_divisor=divisor, min_charge=D(30) if code == "DEPPON" else D(0),
            fuel_surcharge_pct=D(2) if code == "SF" else D(0), max_weight_kg=None if code == "DEPPON" else D(50),
            lines=lines, surcharges=[
                {"code": "remote", "name": "偏远附加费", "kind": "fixed", "amount": "10",
                 "provinces": list(ZONES["remote"])},
                {"code": "insurance", "name": "保价", "kind": "value_pct", "amount": "0.5", "optional": True}])
    made = []
    for i, (prov, district, kg) in enumerate(SHIPMENTS):
        s = shipments.create_shipment(
            uow, warehouse_id=wh.id if wh else None, reference=f"DEMO-{i + 1:03d}",
            receiver={"name": NAMES[i], "phone": "13800138000",
                      "province": prov, "district": district, "address": f"示例路 {i + 10} 号"},
            packages=[{"weight_kg": kg}], promised_date=today - dt.timedelta(days=3) if i == 3 else
            today + dt.timedelta(days=3))
        rates.quote(uow, s.id)
        rates.choose(uow, s.id, by="rule" if prov == "新疆维吾尔自治区" else "cost")
        made.append(s)
    for s in made[:5]:
        shipments.book_waybill(uow, s.id)
    now = utcnow()
    for s in made[:4]:
        shipments.add_tracking_event(uow, s.id, status="in_transit", at=now, location="杭州转运中心",
                                     description="快件已发往下一站", source="carrier", external_id=f"DEMO-{s.id}-1")
    shipments.add_tracking_event(uow, made[0].id, status="delivered", at=now + dt.timedelta(seconds=1),
                                 location="北京朝阳", description="已签收，签收人：本人", source="carrier",
                                 external_id=f"DEMO-{made[0].id}-2")
    shipments.flag_late(uow, today)
    # a freight bill from the carrier of the first shipment: one line 12 % over its quote
    first = made[0]
    rows = ["运单号,计费重量,运费金额"]
    for s in made[:5]:
        if s.carrier_id == first.carrier_id and s.tracking_number:
            amt = s.quoted_cost * (D("1.12") if s.id == first.id else 1)
            rows.append(f"{s.tracking_number},{s.weight_kg.normalize()},{amt.quantize(D('0.01'))}")
    rows.append("UNKNOWN0001,1,8.00")
    freight.import_bill(uow, first.carrier_id, "demo-freight-bill.csv", ("\n".join(rows) + "\n").encode())
