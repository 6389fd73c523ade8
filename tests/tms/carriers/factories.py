"""TMS carrier test helpers: carriers (partners is_carrier) with connector settings and rate cards made through
`tms.rates`, and shipments through `tms.shipments.create_shipment`.

Hand-priced cards (from 浙江省):
* 顺丰 特快 SF-EXP: 北京 first 1 kg ¥23 + ¥13 per kg, 1 day; 广东 ¥18 + ¥10; optional 保价 0.5 % of declared value.
* 中通 ZTO-STD, volumetric divisor 8000: 北京 first 1 kg ¥8 + ¥4 per kg, 3 days; 新疆 ¥18 + ¥12, 5 days;
  浙江 ¥5 + ¥1 with a ¥12 minimum; 偏远 surcharge ¥10 for 新疆/西藏.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import models as md
from opensupply.masterdata import resources
from opensupply.tms import rates, shipments

D = Decimal
_seq = itertools.count(1)


def carrier(db, company: int, code: str, name: str, *, connector: str | None = "manual", secret: str = "s3cret",
            base_url: str | None = None, rules: dict | None = None) -> int:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        pid = rs.create_record(uow, resources.partners, {"code": f"{code}-{next(_seq)}", "name": name,
                                                         "is_carrier": True}).id
        rates.save_carrier_setting(uow, pid, code=code, connector=connector, api_base_url=base_url,
                                   app_key="K1" if base_url else None, app_secret=secret, rules=rules)
        return pid


def zhejiang_warehouse(db, company: int) -> int:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        wh = uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == company)).first()
        wh.province, wh.city = "浙江省", "杭州市"
        return wh.id


def sf_card(db, company: int, sf: int, **kw) -> int:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        return rates.create_card(
            uow, code=kw.pop("code", f"SF-EXP-{next(_seq)}"), name="顺丰特快", carrier_id=sf, service="express",
            lines=[{"dest_province": "北京", "first_weight_kg": "1", "first_price": "23", "additional_unit_kg": "1",
                    "additional_price": "13", "lead_days": 1},
                   {"dest_province": "广东", "first_weight_kg": "1", "first_price": "18", "additional_unit_kg": "1",
                    "additional_price": "10", "lead_days": 1}],
            surcharges=[{"code": "insurance", "name": "保价", "kind": "value_pct", "amount": "0.5", "optional": True}],
            **kw).id


def zto_card(db, company: int, zto: int, **kw) -> int:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        return rates.create_card(
            uow, code=kw.pop("code", f"ZTO-STD-{next(_seq)}"), name="中通标快", carrier_id=zto,
            volumetric_divisor=8000,
            lines=[{"dest_province": "北京市", "first_weight_kg": "1", "first_price": "8", "additional_unit_kg": "1",
                    "additional_price": "4", "lead_days": 3},
                   {"dest_province": "新疆", "first_weight_kg": "1", "first_price": "18", "additional_unit_kg": "1",
                    "additional_price": "12", "lead_days": 5},
                   {"dest_province": "浙江", "first_weight_kg": "1", "first_price": "5", "additional_unit_kg": "1",
                    "additional_price": "1", "min_charge": "12", "lead_days": 1}],
            surcharges=[{"code": "remote", "name": "偏远附加费", "kind": "fixed", "amount": "10",
                         "provinces": ["新疆", "西藏"]}],
            **kw).id


def shipment(db, company: int, *, warehouse_id: int, province: str = "北京市", packages=None, **kw) -> int:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        return shipments.create_shipment(
            uow, warehouse_id=warehouse_id,
            receiver={"name": "李四", "phone": "13900139000", "province": province, "city": "市辖区",
                      "address": "建国路 1 号"},
            packages=packages or [{"weight_kg": "2.3"}], **kw).id
