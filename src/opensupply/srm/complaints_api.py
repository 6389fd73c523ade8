"""Supplier complaints under /api/v1/srm/complaints: list (q, state, supplier, overdue), open, read, propose a
corrective action, verify (effective or not), close, reassign; counts per supplier for a period. Thin."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from opensupply.core.http import require
from opensupply.core.sequences import company_today
from opensupply.core.uow import Actor, UnitOfWork

from . import complaints as svc
from . import suppliers

router = APIRouter(prefix="/srm", tags=["srm"])
READ = Depends(require("srm.read"))
WRITE = Depends(require("srm.write"))


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: int | str
    title: str
    severity: str = "major"
    product: str | int | None = None
    lot: str | None = None
    receipt_ref: str | None = None
    defect_description: str
    defect_quantity: str | float | int | None = None
    owner: str | None = None
    supplier_contact: str | None = None
    reported_on: dt.date | None = None
    due_date: dt.date | None = None


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    corrective_action: str


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective: bool = True
    note: str | None = None


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str
    due_date: dt.date | None = None


@router.get("/complaints", summary="List supplier complaints")
def list_complaints(q: str | None = None, state: str | None = None, partner: str | None = None,
                    overdue: bool = False, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                    actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        pid = suppliers.resolve_partner(uow, partner) if partner else None
        today = company_today(uow)
        items, total = svc.complaint_rows(uow, q=q, state=state, partner_id=pid, overdue=overdue, today=today,
                                          limit=limit, offset=offset)
        return {"items": [svc.complaint_dict(c, today) for c in items], "total": total}


@router.get("/complaints/counts", summary="Complaints per supplier in a period (scorecard input)")
def counts(start: dt.date, end: dt.date, partner: list[int] = Query(...), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return {"items": {str(k): v for k, v in svc.complaint_counts(uow, partner, start, end).items()}}


@router.post("/complaints", status_code=201, summary="Open a complaint")
def create(body: ComplaintIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        c = svc.open_complaint(uow, body.model_dump())
        return svc.complaint_dict(c, company_today(uow))


@router.get("/complaints/{complaint_id}", summary="One complaint")
def get(complaint_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return svc.complaint_dict(uow.get(svc.Complaint, complaint_id), company_today(uow))


@router.post("/complaints/{complaint_id}/action", summary="Record the supplier's corrective action")
def action(complaint_id: int, body: ActionIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return svc.complaint_dict(svc.propose_action(uow, complaint_id, body.corrective_action), company_today(uow))


@router.post("/complaints/{complaint_id}/verify", summary="Verify the corrective action (effective or not)")
def verify(complaint_id: int, body: VerifyIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        c = svc.verify_action(uow, complaint_id, body.note, effective=body.effective)
        return svc.complaint_dict(c, company_today(uow))


@router.post("/complaints/{complaint_id}/close", summary="Close a verified complaint")
def close(complaint_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return svc.complaint_dict(svc.close_complaint(uow, complaint_id), company_today(uow))


@router.post("/complaints/{complaint_id}/assign", summary="Change the owner or due date")
def assign(complaint_id: int, body: AssignIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return svc.complaint_dict(svc.reassign(uow, complaint_id, body.owner, body.due_date), company_today(uow))
