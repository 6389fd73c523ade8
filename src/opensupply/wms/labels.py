"""Printed paper of the outbound flow, as PDF (`opensupply.web.pdf.render_pdf`):

* ``shipping_label_pdf(uow, fulfilment_id)`` — the 100×150 mm carrier label (面单), one page per carton:
  carrier, Code128 of the tracking number and of the fulfilment number, receiver, sender, order
  numbers, carton n/N and weight, and a QR code of the tracking number.
* ``packing_slip_pdf(uow, fulfilment_id)`` — the A4 装箱单 that goes into the carton.
* ``pick_list_pdf(uow, wave_id)`` — the wave's pick list in walking order (for pickers without a PDA).

``assign_waybill(uow, fulfilment_id, *, carrier_id=None, tracking_number=None)`` gives the packed cartons
their waybill number before the label is printed (ship confirm then uses it); a carrier chosen with it is
kept on the fulfilment (``oms.fulfilments.set_carrier``), so the label names it and the parcel ships with it.

Barcodes are SVG (python-barcode's SVGWriter, segno) embedded as data URIs; every number is printed as
text as well, so what a person reads is what a scanner reads and tests can extract it with pypdf.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from opensupply.core.errors import Conflict
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.erp.sales.models import SalesOrder
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md
from opensupply.oms import fulfilments as oms_ful
from opensupply.oms.models import OmsFulfilment, OmsFulfilmentLine, OmsOrder
from opensupply.web.barcodes import code128, qr
from opensupply.web.pdf import render_pdf

from . import packing, waves
from .models import WmsWave

ZERO = Decimal(0)


def _company(uow: UnitOfWork) -> md.Company:
    return uow.session.get(md.Company, uow.company_id)


def order_numbers(uow: UnitOfWork, fulfilment_id: int) -> list[dict]:
    """The orders a fulfilment ships: OMS number with the platform's order id, or the ERP sales order."""
    fl = OmsFulfilmentLine
    out, seen = [], set()
    for number, channel_id in uow.session.execute(
            select(OmsOrder.number, OmsOrder.channel_order_id).join(fl, fl.order_id == OmsOrder.id)
            .where(fl.fulfilment_id == fulfilment_id).distinct().order_by(OmsOrder.number)):
        seen.add(number)
        out.append({"number": number, "channel_order_id": channel_id})
    if not out:
        for (number,) in uow.session.execute(
                select(SalesOrder.number).join(fl, fl.sales_order_id == SalesOrder.id)
                .where(fl.fulfilment_id == fulfilment_id).distinct().order_by(SalesOrder.number)):
            out.append({"number": number, "channel_order_id": None})
    return out


def assign_waybill(uow: UnitOfWork, fulfilment_id: int, *, carrier_id: int | None = None,
                   tracking_number: str | None = None) -> str:
    """The waybill number of the fulfilment's cartons: kept when they have one, else the given one or
    the carrier's next number. Needed before the label is printed."""
    f = uow.get(OmsFulfilment, int(fulfilment_id))
    oms_ful.lock(uow, [f.id])  # OMS's lock order: orders, then the fulfilment
    if f.intercepted:
        raise Conflict(_("发货单 {n} 已拦截，不能打印面单", n=f.number), code="intercepted")
    pkgs = [p for p in packing.packages_of(uow, f.id) if p.lines and p.state != "shipped"]
    if not pkgs:
        if f.tracking_number:
            return f.tracking_number
        raise Conflict(_("发货单 {n} 还没有装箱，不能打印面单", n=f.number), field="packages")
    given = (tracking_number or "").strip()[:80]
    current = next((p.tracking_number for p in pkgs if p.tracking_number), None)
    if carrier_id and not current:  # the carrier chosen with the waybill is the one the label and TMS name
        oms_ful.set_carrier(uow, f.id, carrier_id)
    number = given or current or packing.waybill_number(uow, carrier_id or f.carrier_id or _wave_carrier(uow, f.id))
    for p in pkgs:
        p.tracking_number = number
    return number


def _wave_carrier(uow: UnitOfWork, fulfilment_id: int) -> int | None:
    wave = waves.live_wave_of(uow, fulfilment_id)
    return wave.carrier_id if wave else None


def _carrier_name(uow: UnitOfWork, carrier_id: int | None) -> str | None:
    if not carrier_id:
        return None
    p = uow.session.get(md.Partner, carrier_id)
    return p.name if p else None


def shipping_label_pdf(uow: UnitOfWork, fulfilment_id: int) -> tuple[bytes, str]:
    f = uow.get(OmsFulfilment, int(fulfilment_id))
    pkgs = [p for p in packing.packages_of(uow, f.id) if p.lines]
    tracking = f.tracking_number or next((p.tracking_number for p in pkgs if p.tracking_number), None)
    if not tracking:
        raise Conflict(_("发货单 {n} 还没有运单号：请先获取运单号", n=f.number), field="tracking_number")
    company = _company(uow)
    wh = uow.session.get(md.Warehouse, f.warehouse_id)
    orders = order_numbers(uow, f.id)
    pages = []
    total = max(len(pkgs), 1)
    for i, p in enumerate(pkgs or [None], start=1):
        pages.append({"index": i, "total": total, "number": p.number if p else None,
                      "weight": inv.fmt_qty(p.weight_kg) if p is not None and p.weight_kg is not None else None,
                      "units": inv.fmt_qty(sum((Decimal(x.quantity) for x in p.lines), ZERO)) if p else None})
    html_ctx = {
        "f": f, "tracking": tracking, "carrier": _carrier_name(uow, f.carrier_id or _wave_carrier(uow, f.id))
        or _("快递"), "company": company, "warehouse": wh, "orders": orders, "pages": pages,
        "tracking_barcode": code128(tracking), "fulfilment_barcode": code128(f.number, height_mm=8, module_mm=0.25),
        "tracking_qr": qr(tracking)}
    return render_pdf("wms/label_shipping.html", **html_ctx), f"{tracking}.pdf"


def packing_slip_pdf(uow: UnitOfWork, fulfilment_id: int) -> tuple[bytes, str]:
    f = uow.get(OmsFulfilment, int(fulfilment_id))
    state = packing.pack_state(uow, f.id)
    return render_pdf("wms/pack_slip_print.html", f=f, state=state, company=_company(uow),
                      orders=order_numbers(uow, f.id), fulfilment_barcode=code128(f.number, height_mm=10),
                      ), f"{f.number}-装箱单.pdf"


def pick_list_pdf(uow: UnitOfWork, wave_id: int) -> tuple[bytes, str]:
    wave = uow.get(WmsWave, int(wave_id))
    tasks = [t for t in waves.task_dicts(uow, waves.wave_tasks(uow, wave.id)) if t["state"] != "cancelled"]
    return render_pdf("wms/pick_list_print.html", wave=waves.wave_dict(uow, wave), tasks=tasks,
                      members=waves.members_dicts(uow, wave.id), company=_company(uow),
                      wave_barcode=code128(wave.number, height_mm=10)), f"{wave.number}-拣货单.pdf"
