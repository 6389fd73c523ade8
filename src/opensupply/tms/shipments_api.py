"""Shipment REST endpoints under /api/v1/tms/: list (filters), create, detail with the carrier comparison
and timeline, quote / choose / book / cancel, tracking events typed in or pulled, label PDF, late flag.
Thin: parse, call the service in one unit of work, return JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.web.pdf import pdf_response

from . import rates, shipments, tracking

router = APIRouter(prefix="/tms", tags=["tms shipments"])
READ = Depends(require("tms.read"))
WRITE = Depends(require("tms.write"))


class PackageIn(BaseModel):
    number: str | None = None
    weight_kg: Decimal = Decimal(0)
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None


class ShipmentIn(BaseModel):
    warehouse_id: int | None = None
    fulfilment_id: int | None = None
    receiver: dict = Field(default_factory=dict)
    packages: list[PackageIn] = Field(default_factory=list)
    carrier_id: int | None = None
    mode: str = "carrier"
    lat: float | None = None
    lon: float | None = None
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    promised_date: dt.date | None = None
    reference: str | None = None
    declared_value: Decimal | None = None
    options: list[str] = Field(default_factory=list)
    choose_by: str | None = None  # cost | lead | rule: quote and choose right away


class ChooseIn(BaseModel):
    by: str = "cost"  # cost | lead | rule | a carrier id


class EventIn(BaseModel):
    status: str
    at: dt.datetime | None = None
    description: str = ""
    location: str | None = None
    external_id: str | None = None


class CancelIn(BaseModel):
    reason: str = ""


def detail(uow: UnitOfWork, sid: int) -> dict:
    s = shipments.get_shipment(uow, sid)
    out = shipments.shipment_dict(uow, s)
    out["package_list"] = [{"number": p.number, "weight_kg": shipments._s(p.weight_kg),
                            "length_cm": shipments._s(p.length_cm), "width_cm": shipments._s(p.width_cm),
                            "height_cm": shipments._s(p.height_cm)} for p in s.packages_rel]
    out["quotes"] = rates.comparison(uow, sid)
    out["timeline"] = [{"at": e.at.isoformat(), "status": e.status, "status_label": shipments.status_label(e.status)
                        if e.status != "info" else "", "location": e.location, "description": e.description,
                        "source": e.source} for e in shipments.timeline(uow, sid)]
    return out


@router.get("/shipments", summary="Shipments (filter by status, carrier, late, date, province)")
def list_shipments(q: str | None = None, status: str | None = None, carrier_id: int | None = None,
                   late: bool | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None,
                   province: str | None = None, mode: str | None = None, limit: int = Query(50, ge=1, le=500),
                   offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = shipments.list_shipments(uow, q=q, status=status, carrier_id=carrier_id, late=late,
                                               date_from=date_from, date_to=date_to, province=province, mode=mode,
                                               limit=limit, offset=offset)
        names = shipments.carrier_names(uow, {r.carrier_id for r in rows})
        return {"items": [shipments.shipment_dict(uow, r, carriers=names) for r in rows], "total": total}


@router.post("/shipments", status_code=201, summary="Create a shipment (optionally quote and choose a carrier)")
def create_shipment(body: ShipmentIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        s = shipments.create_shipment(
            uow, fulfilment_id=body.fulfilment_id, warehouse_id=body.warehouse_id, receiver=body.receiver,
            packages=[p.model_dump() for p in body.packages], carrier_id=body.carrier_id, mode=body.mode,
            lat=body.lat, lon=body.lon, window_start=body.window_start, window_end=body.window_end,
            promised_date=body.promised_date, reference=body.reference, declared_value=body.declared_value,
            options=body.options)
        if body.choose_by and s.mode == "carrier":
            rates.quote(uow, s.id)
            rates.choose(uow, s.id, by=body.choose_by)
        return detail(uow, s.id)


@router.get("/shipments/{shipment_id}", summary="One shipment with packages, carrier comparison and timeline")
def get_shipment(shipment_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return detail(uow, shipment_id)


@router.post("/shipments/{shipment_id}/quote", summary="Price the shipment on every carrier's rate card")
def quote(shipment_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        rates.quote(uow, shipment_id)
        return detail(uow, shipment_id)


@router.post("/shipments/{shipment_id}/choose", summary="Choose the carrier: by cost, lead time, rule or a carrier id")
def choose(shipment_id: int, body: ChooseIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        rates.choose(uow, shipment_id, by=body.by)
        return detail(uow, shipment_id)


@router.post("/shipments/{shipment_id}/book", summary="Book the waybill with the chosen carrier (电子面单)")
def book(shipment_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        shipments.book_waybill(uow, shipment_id)
        return detail(uow, shipment_id)


@router.post("/shipments/{shipment_id}/cancel", summary="Cancel a shipment not yet handed over")
def cancel(shipment_id: int, body: CancelIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        shipments.cancel_shipment(uow, shipment_id, (body or CancelIn()).reason)
        return detail(uow, shipment_id)


@router.post("/shipments/{shipment_id}/events", summary="Add a tracking event (typed in)")
def add_event(shipment_id: int, body: EventIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        shipments.add_tracking_event(uow, shipment_id, status=body.status, at=body.at, description=body.description,
                                     location=body.location, source="system", external_id=body.external_id)
        return detail(uow, shipment_id)


@router.post("/shipments/{shipment_id}/refresh", summary="Pull the carrier's tracking for this waybill")
def refresh(shipment_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return tracking.refresh(uow, shipment_id)


@router.get("/shipments/{shipment_id}/label.pdf", summary="Waybill label (PDF, Code128)")
async def label(shipment_id: int, actor: Actor = READ):
    def run():
        with UnitOfWork(actor, readonly=True) as uow:
            return shipments.label_pdf(uow, shipment_id)

    data, name = await run_in_threadpool(run)
    return pdf_response(data, name)


@router.post("/shipments/flag-late", summary="Flag shipments past their promised date (the daily job)")
def flag_late(today: dt.date | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return {"flagged": shipments.flag_late(uow, today)}
