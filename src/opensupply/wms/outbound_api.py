"""Outbound REST endpoints under /api/v1/wms/: waves (build, release, cancel, pick list PDF), pick
tasks (confirm a scan, short pick) and the pack station (look up, scan items, close cartons, waybill,
ship confirm, labels, return intercepted goods to stock). Thin: parse, call the service in one unit
of work, return JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.web.pdf import pdf_response

from . import labels, packing, picking, waves
from .models import WmsPackage, WmsTask, WmsWave

router = APIRouter(prefix="/wms", tags=["wms outbound"])
READ = Depends(require("wms.read"))
WRITE = Depends(require("wms.write"))


class WaveIn(BaseModel):
    warehouse_id: int
    carrier_id: int | None = None
    ship_by_before: dt.datetime | None = None
    order_type: str | None = None
    zone: str | None = None
    max_orders: int = Field(30, ge=1, le=500)
    pick_mode: str = "cluster"
    release: bool = False


class CancelIn(BaseModel):
    reason: str | None = None


class PickIn(BaseModel):
    bin: str
    item: str
    quantity: Decimal | None = None
    lot: str | None = None
    client_scan_id: str | None = None


class ShortIn(BaseModel):
    found_qty: Decimal = Decimal(0)
    reason: str | None = None
    client_scan_id: str | None = None


class PackItemIn(BaseModel):
    item: str
    quantity: Decimal = Decimal(1)
    lot: str | None = None
    client_scan_id: str | None = None


class CloseIn(BaseModel):
    weight_kg: Decimal | None = None
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None


class WaybillIn(BaseModel):
    carrier_id: int | None = None
    tracking_number: str | None = None


class ReturnIn(BaseModel):
    bin: str | None = None


def _wave_out(uow: UnitOfWork, wave: WmsWave, *, detail: bool = True) -> dict:
    out = waves.wave_dict(uow, wave)
    if detail:
        out["fulfilment_list"] = waves.members_dicts(uow, wave.id)
        out["task_list"] = waves.task_dicts(uow, waves.wave_tasks(uow, wave.id))
    return out


# ------------------------------------------------------------------ waves
@router.get("/waves", summary="Waves (filter by state, warehouse; search by number)")
def list_waves(q: str | None = None, state: str | None = None, warehouse_id: int | None = None,
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = waves.list_waves(uow, q=q, state=state, warehouse_id=warehouse_id, limit=limit, offset=offset)
        counts = waves.wave_counts(uow, [w.id for w in rows])
        return {"items": [waves.wave_dict(uow, w, counts[w.id]) for w in rows], "total": total}


@router.post("/waves", status_code=201, summary="Build a wave from ready fulfilments (and release it)")
def build_wave(body: WaveIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        wave = waves.build_wave(uow, body.warehouse_id, carrier_id=body.carrier_id,
                                ship_by_before=body.ship_by_before, order_type=body.order_type, zone=body.zone,
                                max_orders=body.max_orders, pick_mode=body.pick_mode)
        if body.release:
            waves.release_wave(uow, wave.id)
        return _wave_out(uow, wave)


@router.get("/waves/{wave_id}", summary="One wave with its fulfilments and pick tasks in walking order")
def get_wave(wave_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return _wave_out(uow, uow.get(WmsWave, wave_id))


@router.post("/waves/{wave_id}/release", summary="Release a wave: fulfilments to picking, tasks in walking order")
def release_wave(wave_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return _wave_out(uow, waves.release_wave(uow, wave_id))


@router.post("/waves/{wave_id}/cancel", summary="Cancel a wave before picking; fulfilments back to the pool")
def cancel_wave(wave_id: int, body: CancelIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return _wave_out(uow, waves.cancel_wave(uow, wave_id, reason=(body or CancelIn()).reason))


async def _pdf(actor: Actor, build, id_: int):
    def run():
        with UnitOfWork(actor, readonly=True) as uow:
            return build(uow, id_)

    data, name = await run_in_threadpool(run)
    return pdf_response(data, name)


@router.get("/waves/{wave_id}/pick-list.pdf", summary="Pick list of a wave (PDF, walking order)")
async def pick_list(wave_id: int, actor: Actor = READ):
    return await _pdf(actor, labels.pick_list_pdf, wave_id)


# ------------------------------------------------------------------ tasks
@router.get("/tasks/{task_id}", summary="One pick task")
def get_task(task_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return waves.task_dicts(uow, [uow.get(WmsTask, task_id)])[0]


@router.post("/tasks/{task_id}/confirm", summary="Confirm a pick from a scan (bin, item, lot, quantity)")
def confirm_task(task_id: int, body: PickIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return picking.confirm_pick(uow, task_id, bin_code=body.bin, product_code=body.item,
                                    quantity=body.quantity, lot=body.lot, client_scan_id=body.client_scan_id)


@router.post("/tasks/{task_id}/short", summary="Short pick: pick what is there, substitute bin or shortage")
def short_task(task_id: int, body: ShortIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return picking.short_pick(uow, task_id, body.found_qty, body.reason, client_scan_id=body.client_scan_id)


# ------------------------------------------------------------------ pack station
@router.get("/pack/lookup", summary="Find a fulfilment by its number, wave number + slot, or order number")
def pack_lookup(code: str, slot: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return packing.pack_state(uow, packing.find_fulfilment(uow, code, slot).id)


@router.get("/pack/{fulfilment_id}", summary="Pack state of a fulfilment: lines picked / packed, cartons")
def pack_state(fulfilment_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return packing.pack_state(uow, fulfilment_id)


@router.post("/pack/{fulfilment_id}/items", summary="Scan an item into the open carton")
def pack_item(fulfilment_id: int, body: PackItemIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return packing.pack_item(uow, fulfilment_id, product_code=body.item, quantity=body.quantity, lot=body.lot,
                                 client_scan_id=body.client_scan_id)


@router.post("/pack/packages/{package_id}/close", summary="Weigh and close a carton")
def close_package(package_id: int, body: CloseIn | None = None, actor: Actor = WRITE) -> dict:
    body = body or CloseIn()
    with UnitOfWork(actor) as uow:
        pkg = packing.close_package(uow, package_id, weight_kg=body.weight_kg, length_cm=body.length_cm,
                                    width_cm=body.width_cm, height_cm=body.height_cm)
        return packing.package_dict(uow, pkg)


@router.post("/pack/packages/{package_id}/unpack", summary="Empty an unshipped carton")
def unpack_package(package_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return packing.package_dict(uow, packing.unpack_package(uow, package_id))


@router.get("/pack/packages/{package_id}", summary="One carton")
def get_package(package_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return packing.package_dict(uow, uow.get(WmsPackage, package_id))


@router.post("/pack/{fulfilment_id}/waybill", summary="Waybill number for the cartons (before printing the label)")
def waybill(fulfilment_id: int, body: WaybillIn | None = None, actor: Actor = WRITE) -> dict:
    body = body or WaybillIn()
    with UnitOfWork(actor) as uow:
        number = labels.assign_waybill(uow, fulfilment_id, carrier_id=body.carrier_id,
                                       tracking_number=body.tracking_number)
        return {"fulfilment_id": fulfilment_id, "tracking_number": number}


@router.post("/pack/{fulfilment_id}/ship", summary="Ship confirm: OMS 已发货, stock out, wms.shipment_confirmed")
def ship(fulfilment_id: int, body: WaybillIn | None = None, actor: Actor = WRITE) -> dict:
    body = body or WaybillIn()
    with UnitOfWork(actor) as uow:
        return packing.ship_confirm(uow, fulfilment_id, tracking_number=body.tracking_number,
                                    carrier_id=body.carrier_id)


@router.post("/pack/{fulfilment_id}/return-to-stock", summary="Intercepted: picked goods back to their bins")
def return_to_stock(fulfilment_id: int, body: ReturnIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return packing.return_to_stock(uow, fulfilment_id, bin_code=(body or ReturnIn()).bin)


@router.get("/pack/{fulfilment_id}/label.pdf", summary="Shipping label 100×150 mm (PDF)")
async def label_pdf(fulfilment_id: int, actor: Actor = READ):
    return await _pdf(actor, labels.shipping_label_pdf, fulfilment_id)


@router.get("/pack/{fulfilment_id}/slip.pdf", summary="Packing slip (PDF)")
async def slip_pdf(fulfilment_id: int, actor: Actor = READ):
    return await _pdf(actor, labels.packing_slip_pdf, fulfilment_id)
