"""The carrier the packer picks with the waybill is the one the parcel ships with: the label names it,
ship confirm hands the fulfilment to it (and TMS hears it), without the packer choosing it twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.events import OutboxEvent
from opensupply.masterdata import resources
from opensupply.oms import fulfilments as oms_ful
from opensupply.oms.models import OmsFulfilment
from opensupply.wms import labels, packing
from tests import factories as f
from tests.wms.outbound import factories as fo
from tests.wms.outbound.test_flow import build_and_release, pack_all, pdf_text, pick_all
from tests.wms.outbound.test_pages import csrf


def packed(fl, lines: dict[str, int]) -> int:
    fid = fo.order(fl, lines)
    pick_all(fl, build_and_release(fl))
    pack_all(fl, fid)
    return fid


def zto(fl) -> int:
    with fl.uow() as uow:
        return rs.create_record(uow, resources.partners, {"code": "ZTO", "name": "中通快递", "is_carrier": True}).id


def test_the_waybill_carrier_is_on_the_label_and_ships_the_parcel(db):
    fl = fo.floor(db)
    carrier = zto(fl)
    fid = packed(fl, {"YS-MUG-01": 1})
    with fl.uow() as uow:
        tracking = labels.assign_waybill(uow, fid, carrier_id=carrier)
    assert tracking.startswith("ZTO")
    with fl.uow(readonly=True) as uow:
        assert uow.get(OmsFulfilment, fid).carrier_id == carrier
        label, _name = labels.shipping_label_pdf(uow, fid)
    assert "中通快递" in pdf_text(label) and tracking in pdf_text(label)
    with fl.uow() as uow:  # the ship button sends no carrier: the one chosen with the waybill is used
        out = packing.ship_confirm(uow, fid)
    assert out["carrier_id"] == carrier and out["tracking_number"] == tracking
    with fl.uow(readonly=True) as uow:
        assert uow.get(OmsFulfilment, fid).carrier_id == carrier
        event = uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == "wms.shipment_confirmed")).one()
        assert event.payload["carrier_id"] == carrier
    with pytest.raises(Conflict), fl.uow() as uow:  # shipped: the carrier is history
        oms_ful.set_carrier(uow, fid, fl.carrier)


def test_a_partner_that_is_no_carrier_is_refused(db):
    fl = fo.floor(db)
    fid = packed(fl, {"YS-MUG-01": 1})
    with pytest.raises(ValidationFailed) as exc, fl.uow() as uow:
        labels.assign_waybill(uow, fid, carrier_id=fl.customer)
    assert exc.value.message == "请选择承运商"
    with fl.uow(readonly=True) as uow:
        assert uow.get(OmsFulfilment, fid).carrier_id is None
        assert all(p.tracking_number is None for p in packing.packages_of(uow, fid))


def test_pack_station_waybill_form_sets_the_carrier_the_ship_button_uses(db):
    fl = fo.floor(db)
    carrier = zto(fl)
    fid = packed(fl, {"YS-MUG-01": 1})
    c = f.web_client(db, f.user(db, fl.company, roles=("warehouse",)))
    hdr = {"X-PDA": "1", "X-CSRF-Token": csrf(c)}
    assert c.post(f"/wms/pack/{fid}/waybill", headers=hdr, data={"carrier_id": str(carrier)}).json()["ok"]
    assert c.post(f"/wms/pack/{fid}/ship", headers=hdr, data={}).json()["ok"]
    with fl.uow(readonly=True) as uow:
        f_ = uow.get(OmsFulfilment, fid)
        assert f_.status == "shipped" and f_.carrier_id == carrier and f_.tracking_number.startswith("ZTO")
