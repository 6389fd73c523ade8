"""Electronic waybill connectors (电子面单): one class per carrier API family.

A connector speaks to one carrier: `create_waybill(request) -> WaybillResult` (tracking number + label data),
`cancel_waybill(tracking_number)`, `track(tracking_number) -> list[TrackEvent]`. `connector_for(uow, carrier_id)`
picks it from the carrier's `tms_carrier_setting.connector`:

* ``manual`` — no API: numbers come from the company's sequence (`<carrier code><year><8 digits>`);
* ``sf`` — 顺丰丰桥-style open API (signed form POST, apiResultCode / errorCode), see `sf.py`.

Connector errors are `CarrierError` (a `Conflict` with a Chinese message naming the carrier's error code).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from opensupply.core.errors import Conflict
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork


class CarrierError(Conflict):
    code = "carrier_error"


@dataclass
class WaybillRequest:
    order_id: str  # our shipment number: the carrier's idempotency key
    carrier_code: str
    service: str | None
    sender: dict
    receiver: dict
    packages: list[dict]
    weight_kg: Decimal
    declared_value: Decimal | None = None
    reference: str | None = None


@dataclass
class WaybillResult:
    tracking_number: str
    label: dict = field(default_factory=dict)  # sort code (分拣码), routing (大头笔) … printed on the label


@dataclass
class TrackEvent:
    status: str
    at: dt.datetime
    description: str = ""
    location: str | None = None
    external_id: str | None = None


class WaybillConnector:
    code = "base"

    def __init__(self, uow: UnitOfWork, setting, carrier):
        self.uow, self.setting, self.carrier = uow, setting, carrier

    def create_waybill(self, request: WaybillRequest) -> WaybillResult:  # pragma: no cover - interface
        raise NotImplementedError

    def cancel_waybill(self, tracking_number: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def track(self, tracking_number: str) -> list[TrackEvent]:  # pragma: no cover - interface
        raise NotImplementedError


def _registry() -> dict[str, type[WaybillConnector]]:
    from .manual import ManualConnector
    from .sf import SfConnector

    return {"manual": ManualConnector, "sf": SfConnector}


CONNECTORS = ("manual", "sf")


def connector_for(uow: UnitOfWork, carrier_id: int) -> WaybillConnector:
    from opensupply.masterdata import models as md

    from ..rates import carrier_setting

    carrier = uow.get(md.Partner, carrier_id)
    setting = carrier_setting(uow, carrier_id)
    name = (setting.connector if setting and setting.active else None) or "manual"
    cls = _registry().get(name)
    if cls is None:
        raise CarrierError(_("不支持的电子面单接口：{c}", c=name))
    return cls(uow, setting, carrier)


def waybill_request(uow: UnitOfWork, ship) -> WaybillRequest:
    from opensupply.masterdata import models as md

    from ..rates import carrier_setting

    st = carrier_setting(uow, ship.carrier_id) if ship.carrier_id else None
    wh = uow.session.get(md.Warehouse, ship.warehouse_id) if ship.warehouse_id else None
    company = uow.session.get(md.Company, uow.company_id)
    sender = {"name": company.name if company else "", "phone": company.phone if company else None,
              "province": wh.province if wh else ship.origin_province, "city": wh.city if wh else None,
              "district": wh.district if wh else None, "address": wh.address if wh else None}
    receiver = {"name": ship.receiver_name, "phone": ship.phone, "province": ship.province, "city": ship.city,
                "district": ship.district, "address": ship.address_detail}
    return WaybillRequest(order_id=ship.number, carrier_code=st.code if st else "", service=ship.service
                          or (st.default_service if st else None), sender=sender, receiver=receiver,
                          packages=[{"number": p.number, "weight_kg": str(p.weight_kg)} for p in ship.packages_rel],
                          weight_kg=ship.weight_kg, declared_value=ship.declared_value, reference=ship.reference)
