"""Contracts and price agreements under /api/v1/srm/: list, create (with price breaks), read, update (draft),
activate, cancel, the agreed price for a quantity, price warnings of an order, and the side-by-side price
comparison of one product across suppliers. Thin: parse, call `srm.contracts`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from opensupply.core.http import require
from opensupply.core.sequences import company_today
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv

from . import contracts as svc
from . import suppliers

router = APIRouter(prefix="/srm", tags=["srm"])
READ = Depends(require("srm.read"))
WRITE = Depends(require("srm.write"))
APPROVE = Depends(require("srm.approve"))


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: int | str
    min_quantity: str | float | int | None = 0
    unit_price: str | float | int


class ContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: int | str | None = None
    title: str | None = None
    currency_code: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    payment_terms_days: int | None = None
    payment_terms: str | None = None
    notes: str | None = None
    prices: list[PriceIn] | None = None


def _plain(v):
    return str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, dt.date) else v


@router.get("/contracts", summary="List contracts and price agreements")
def list_contracts(q: str | None = None, state: str | None = None, partner: str | None = None,
                   limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        pid = suppliers.resolve_partner(uow, partner) if partner else None
        rows, total = svc.contract_rows(uow, q=q, state=state, partner_id=pid, limit=limit, offset=offset)
        return {"items": [dict(svc.contract_dict(uow, c), supplier=s.partner_name) for c, s in rows], "total": total}


@router.post("/contracts", status_code=201, summary="Create a draft contract with price breaks")
def create(body: ContractIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        data = body.model_dump(exclude_unset=True)
        return svc.contract_dict(uow, svc.create_contract(uow, data))


@router.get("/contracts/agreed-price", summary="The agreed unit price for a supplier, product and quantity")
def agreed(partner: str, product: str, quantity: str = "1", day: dt.date | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        pid = suppliers.resolve_partner(uow, partner)
        prod = inv.resolve_product(uow, product)
        found = svc.agreed_price(uow, pid, prod.id, quantity, day or company_today(uow))
        return {"unit_price": str(found[0]) if found else None, "contract": found[1].number if found else None}


@router.get("/price-comparison", summary="Prices paid and agreed for one product, side by side across suppliers")
def comparison(product: str, date_from: dt.date | None = None, date_to: dt.date | None = None,
               actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        out = svc.price_comparison(uow, product, date_from=date_from, date_to=date_to)
    out["suppliers"] = [{k: _plain(v) for k, v in r.items()} for r in out["suppliers"]]
    out["history"] = [{k: _plain(v) for k, v in r.items()} for r in out["history"]]
    return out


@router.get("/price-warnings", summary="Purchase-order lines priced above their agreement")
def warnings(order_id: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows = svc.price_warnings(uow, order_id=order_id)
    return {"items": [{k: _plain(v) for k, v in r.items()} for r in rows], "total": len(rows)}


@router.get("/contracts/{contract_id}", summary="One contract")
def get(contract_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return svc.contract_dict(uow, uow.get(svc.Contract, contract_id))


@router.patch("/contracts/{contract_id}", summary="Change a draft contract")
def update(contract_id: int, body: ContractIn, actor: Actor = WRITE) -> dict:
    data = body.model_dump(exclude_unset=True)
    data.pop("partner", None)
    with UnitOfWork(actor) as uow:
        return svc.contract_dict(uow, svc.update_contract(uow, contract_id, data))


@router.post("/contracts/{contract_id}/activate", summary="Put a draft contract in force")
def activate(contract_id: int, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        return svc.contract_dict(uow, svc.activate_contract(uow, contract_id))


@router.post("/contracts/{contract_id}/cancel", summary="Cancel a contract")
def cancel(contract_id: int, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        return svc.contract_dict(uow, svc.cancel_contract(uow, contract_id))
