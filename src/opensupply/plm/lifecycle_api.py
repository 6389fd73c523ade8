"""Lifecycle stages under /api/v1/plm/: products per stage, stage change requests (request, approve, reject,
cancel) and new R&D items. Thin: parse, call `plm.lifecycle`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import lifecycle
from . import schemas as s

router = APIRouter(prefix="/plm", tags=["plm lifecycle"])
READ = Depends(require(lifecycle.READ))
WRITE = Depends(require(lifecycle.WRITE))
APPROVE = Depends(require(lifecycle.APPROVE))
LIMIT = Query(50, ge=1, le=1000)
OFFSET = Query(0, ge=0)


@router.get("/lifecycle/products", summary="Products with their lifecycle stage and pending request")
def list_products(q: str | None = None, stage: str | None = None, pending: bool = False, limit: int = LIMIT,
                  offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = lifecycle.list_products(uow, q=q, stage=stage, pending=pending, limit=limit, offset=offset)
        return {"items": [lifecycle.product_row(p, c) for p, c in rows], "total": total,
                "counts": lifecycle.stage_counts(uow)}


@router.get("/lifecycle/summary", summary="Active products per stage and pending requests")
def summary(actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return lifecycle.stage_counts(uow)


@router.get("/lifecycle-changes", summary="Stage change requests")
def list_changes(q: str | None = None, state: str | None = None, product_id: int | None = None, limit: int = LIMIT,
                 offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = lifecycle.list_changes(uow, q=q, state=state, product_id=product_id, limit=limit,
                                             offset=offset)
        return {"items": lifecycle.changes_to_dicts(uow, rows), "total": total}


@router.post("/lifecycle-changes", status_code=201, summary="Request a stage change (pending until approved)")
def request_change(body: s.StageChangeIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        change = lifecycle.request_stage_change(uow, body.product, body.to_stage, body.reason)
        return lifecycle.change_to_dict(uow, change)


@router.get("/lifecycle-changes/{change_id}", summary="One stage change request")
def get_change(change_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return lifecycle.change_to_dict(uow, lifecycle.get_change(uow, change_id))


@router.post("/lifecycle-changes/{change_id}/approve", summary="Approve: the product moves to the new stage")
def approve_change(change_id: int, body: s.DecisionIn | None = None, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        change = lifecycle.approve_stage_change(uow, change_id, (body or s.DecisionIn()).comment)
        return lifecycle.change_to_dict(uow, change)


@router.post("/lifecycle-changes/{change_id}/reject", summary="Reject: the product keeps its stage")
def reject_change(change_id: int, body: s.RejectIn, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        return lifecycle.change_to_dict(uow, lifecycle.reject_stage_change(uow, change_id, body.reason))


@router.post("/lifecycle-changes/{change_id}/cancel", summary="Withdraw a pending request")
def cancel_change(change_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return lifecycle.change_to_dict(uow, lifecycle.cancel_stage_change(uow, change_id))


@router.post("/rd-items", status_code=201, summary="Create a new item in stage 研发 (R&D)")
def create_rd_item(body: s.RdItemIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        product = lifecycle.create_rd_item(uow, body.model_dump(exclude_none=True))
        return lifecycle.product_row(product, None)
