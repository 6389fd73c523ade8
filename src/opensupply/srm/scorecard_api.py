"""Scorecards under /api/v1/srm/scorecards (ranking of a period, recompute, one supplier's trend, weights) and
incoming inspections of receipts under /api/v1/srm/receipt-inspections. Read srm.read, change srm.write."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from opensupply.core.http import require
from opensupply.core.sequences import company_today
from opensupply.core.uow import Actor, UnitOfWork

from . import scorecard
from .rfq_api import download

router = APIRouter(tags=["srm scorecards"])
READ = Depends(require(scorecard.READ))
WRITE = Depends(require(scorecard.WRITE))


class DefectIn(BaseModel):
    type: str = Field(max_length=60)
    quantity: Decimal


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receipt: int | str = Field(description="goods receipt id or number")
    sample_size: Decimal
    defects: list[DefectIn] = []
    defective_qty: Decimal | None = None
    notes: str | None = Field(None, max_length=500)


class WeightsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delivery: Decimal | None = None
    quality: Decimal | None = None
    price: Decimal | None = None
    response: Decimal | None = None
    complaints: Decimal | None = None


def _period(uow: UnitOfWork, period: str | None) -> str:
    return period or scorecard.period_of(company_today(uow))


@router.get("/srm/scorecards", summary="A period's supplier ranking (?period=2026-11 | 2026-Q4)")
def ranking(period: str | None = None, q: str | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        p = _period(uow, period)
        items = scorecard.ranking(uow, p, q=q)
        return {"period": p, "items": items, "total": len(items)}


@router.get("/srm/scorecards/export", summary="A period's ranking as CSV or XLSX")
def export(period: str | None = None, q: str | None = None, format: str = Query("csv", pattern="^(csv|xlsx)$"),
           actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        p = _period(uow, period)
        header, rows = scorecard.export_rows(uow, p, q)
    return download(header, rows, format, f"scorecards-{p}")


@router.post("/srm/scorecards/compute", summary="Recompute a period now")
def compute(period: str | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        p = _period(uow, period)
        scorecard.recompute(uow, p)
        items = scorecard.ranking(uow, p)
        return {"period": p, "items": items, "total": len(items)}


@router.get("/srm/scorecards/weights", summary="Scorecard weights")
def get_weights(actor: Actor = READ) -> dict:
    with UnitOfWork(actor) as uow:
        return {k: str(v) for k, v in scorecard.weights(uow).items()}


@router.put("/srm/scorecards/weights", summary="Change scorecard weights")
def put_weights(body: WeightsIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        scorecard.update_weights(uow, body.model_dump(exclude_none=True))
        return {k: str(v) for k, v in scorecard.weights(uow).items()}


@router.get("/srm/scorecards/suppliers/{partner_id}", summary="One supplier's scorecards over recent periods")
def trend(partner_id: int, kind: str = "month", actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return scorecard.trend(uow, partner_id, kind)


@router.get("/srm/receipt-inspections", summary="Incoming inspections of receipts (?q=&partner_id=)")
def inspections(q: str | None = None, partner_id: int | None = None, limit: int = Query(50, ge=1, le=1000),
                offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = scorecard.inspection_rows(uow, q=q, partner_id=partner_id, limit=limit, offset=offset)
        return {"items": items, "total": total}


@router.post("/srm/receipt-inspections", status_code=201, summary="Record the inspection of a receipt")
def record(body: InspectionIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ins = scorecard.record_inspection(uow, body.receipt, sample_size=body.sample_size,
                                          defects=[(d.type, d.quantity) for d in body.defects],
                                          defective_qty=body.defective_qty, notes=body.notes)
        return {"id": ins.id, "number": ins.number, "defective_qty": str(ins.defective_qty)}
