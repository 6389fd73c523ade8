"""Rate cards and carrier settings under /api/v1/tms/: cards CRUD, lines import (CSV/XLSX) and export,
carriers with their connector settings. Thin: parse, call `tms.rates`, return JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import models as md

from . import rates

router = APIRouter(prefix="/tms", tags=["tms rates"])
READ = Depends(require("tms.read"))
ADMIN = Depends(require("tms.admin"))


class LineIn(BaseModel):
    origin_province: str | None = None
    dest_province: str
    first_weight_kg: Decimal = Decimal(1)
    first_price: Decimal
    additional_unit_kg: Decimal = Decimal(1)
    additional_price: Decimal
    min_charge: Decimal | None = None
    lead_days: int = 2


class SurchargeIn(BaseModel):
    code: str
    name: str | None = None
    kind: str = "fixed"
    amount: Decimal
    provinces: list[str] | None = None
    optional: bool = False


class CardIn(BaseModel):
    code: str
    name: str
    carrier_id: int
    service: str = "standard"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    volumetric_divisor: int = 6000
    min_charge: Decimal = Decimal(0)
    fuel_surcharge_pct: Decimal = Decimal(0)
    max_weight_kg: Decimal | None = None
    lines: list[LineIn] = Field(default_factory=list)
    surcharges: list[SurchargeIn] = Field(default_factory=list)


class CardPatch(BaseModel):
    name: str | None = None
    service: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    volumetric_divisor: int | None = None
    min_charge: Decimal | None = None
    fuel_surcharge_pct: Decimal | None = None
    max_weight_kg: Decimal | None = None
    active: bool | None = None
    surcharges: list[SurchargeIn] | None = None


class SettingIn(BaseModel):
    code: str
    connector: str | None = "manual"
    api_base_url: str | None = None
    app_key: str | None = None
    app_secret: str | None = None
    default_service: str | None = None
    rules: dict | None = None
    active: bool = True


@router.get("/rate-cards", summary="Rate cards")
def list_cards(q: str | None = None, carrier_id: int | None = None, limit: int = Query(50, ge=1, le=500),
               offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = rates.list_cards(uow, q=q, carrier_id=carrier_id, limit=limit, offset=offset)
        return {"items": [rates.card_dict(uow, c) for c in rows], "total": total}


@router.post("/rate-cards", status_code=201, summary="Create a rate card with its lines and surcharges")
def create_card(body: CardIn, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        data = body.model_dump()
        card = rates.create_card(uow, **data)
        return rates.card_dict(uow, card, lines=True)


@router.get("/rate-cards/{card_id}", summary="One rate card with lines and surcharges")
def get_card(card_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return rates.card_dict(uow, rates.get_card(uow, card_id), lines=True)


@router.patch("/rate-cards/{card_id}", summary="Change a rate card's header or surcharges")
def update_card(card_id: int, body: CardPatch, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        card = rates.update_card(uow, card_id, **body.model_dump(exclude_unset=True))
        return rates.card_dict(uow, card, lines=True)


@router.delete("/rate-cards/{card_id}", status_code=204, summary="Delete (or deactivate when used) a rate card")
def delete_card(card_id: int, actor: Actor = ADMIN) -> Response:
    with UnitOfWork(actor) as uow:
        rates.delete_card(uow, card_id)
    return Response(status_code=204)


@router.post("/rate-cards/{card_id}/import", summary="Import the card's lines (CSV/XLSX, one row per province)")
async def import_lines(card_id: int, file: UploadFile = File(...), replace: bool = True, actor: Actor = ADMIN
                       ) -> dict:
    data = await file.read()

    def run():
        with UnitOfWork(actor) as uow:
            return rates.import_lines(uow, card_id, file.filename or "", data, replace=replace)

    return await run_in_threadpool(run)


@router.get("/rate-cards/{card_id}/export", summary="Export the card's lines (xlsx or csv)")
def export_lines(card_id: int, format: str = "xlsx", actor: Actor = READ) -> Response:
    with UnitOfWork(actor, readonly=True) as uow:
        data, name = rates.export_lines(uow, card_id, format)
    media = "text/csv" if name.endswith(".csv") else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/carriers", summary="Carriers (partners marked 承运商) with their connector settings")
def list_carriers(actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = []
        for p in uow.session.scalars(select(md.Partner).where(md.Partner.company_id == uow.company_id,
                                                             md.Partner.is_carrier.is_(True)).order_by(md.Partner.code)):
            st = rates.carrier_setting(uow, p.id)
            items.append({"id": p.id, "code": p.code, "name": p.name, "active": p.active,
                          "setting": _setting(st)})
        return {"items": items, "total": len(items)}


def _setting(st) -> dict | None:
    if st is None:
        return None
    return {"code": st.code, "connector": st.connector, "api_base_url": st.api_base_url, "app_key": st.app_key,
            "has_secret": bool(st.app_secret), "default_service": st.default_service, "rules": st.rules,
            "active": st.active}


@router.put("/carriers/{carrier_id}/setting", summary="Save a carrier's connector settings and choice rules")
def save_setting(carrier_id: int, body: SettingIn, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        return _setting(rates.save_carrier_setting(uow, carrier_id, **body.model_dump()))
