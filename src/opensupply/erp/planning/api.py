"""REST endpoints of production planning under /api/v1/erp/: MRP runs, planned orders with pegging,
firm/cancel actions, planning policies and independent demand. Thin: parse, call the service, shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from opensupply.core.http import require
from opensupply.core.resource_api import read_upload
from opensupply.core.tabular import read_table, table_response
from opensupply.core.uow import Actor, UnitOfWork

from . import policy_io
from . import service as svc
from .demand import set_independent_demand
from .models import MrpRun, PlannedOrder, PlanningPolicy

router = APIRouter(prefix="/erp", tags=["erp planning"])
READ = Depends(require("erp.planning"))
RUN = Depends(require("erp.planning_run"))
LIMIT = Query(50, ge=1, le=1000)
OFFSET = Query(0, ge=0)


def run_out(r: MrpRun) -> dict:
    return {"id": r.id, "number": r.number, "state": r.state, "bucket": r.bucket, "horizon": r.horizon,
            "start_date": r.start_date, "started_at": r.started_at, "finished_at": r.finished_at,
            "products": r.products, "levels": r.levels, "planned_orders": r.planned_orders,
            "late_orders": r.late_orders, "job_id": r.job_id, "error": r.error}


def order_out(o: PlannedOrder) -> dict:
    return {"id": o.id, "run_id": o.run_id, "product_id": o.product_id, "kind": o.kind, "quantity": str(o.quantity),
            "release_date": o.release_date, "due_date": o.due_date, "past_due": o.past_due, "level": o.level,
            "state": o.state, "supplier_id": o.supplier_id, "purchase_order_id": o.purchase_order_id,
            "work_order_id": o.work_order_id}


class RunBody(BaseModel):
    bucket: str = "week"
    horizon: int = Field(52, ge=1, le=730)
    background: bool = False


@router.get("/mrp-runs", summary="MRP runs, newest first")
def list_runs(limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        base = select(MrpRun).where(MrpRun.company_id == uow.company_id)
        total = uow.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = uow.session.scalars(base.order_by(MrpRun.id.desc()).limit(limit).offset(offset))
        return {"items": [run_out(r) for r in rows], "total": total}


@router.post("/mrp-runs", status_code=201, summary="Run MRP (a full regeneration), at once or as a job")
def create_run(body: RunBody, actor: Actor = RUN) -> dict:
    with UnitOfWork(actor) as uow:
        if body.background:
            return run_out(svc.start_mrp(uow, bucket=body.bucket, horizon=body.horizon))
        return run_out(svc.run_mrp(uow, bucket=body.bucket, horizon=body.horizon))


@router.get("/mrp-runs/{run_id}", summary="One MRP run")
def get_run(run_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return run_out(uow.get(MrpRun, run_id))


@router.get("/planned-orders", summary="Planned orders (filter by kind, state, product, late)")
def list_orders(kind: str | None = None, state: str | None = None, product_id: int | None = None,
                late: bool | None = None, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.list_planned_orders(uow, kind=kind, state=state, product_id=product_id, late=late,
                                              limit=limit, offset=offset)
        return {"items": [order_out(o) for o in rows], "total": total}


@router.get("/planned-orders/{order_id}", summary="A planned order with its pegging")
def get_order(order_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        o = uow.get(PlannedOrder, order_id)
        return {**order_out(o), "pegging": [
            {"source_kind": p.source_kind, "source_id": p.source_id, "quantity": str(p.quantity),
             "demand_date": p.demand_date} for p in svc.pegging_of(uow, order_id)]}


class FirmBody(BaseModel):
    supplier: int | str | None = None


@router.post("/planned-orders/{order_id}/firm", summary="Firm: a draft purchase order or work order")
def firm(order_id: int, body: FirmBody | None = None, actor: Actor = RUN) -> dict:
    with UnitOfWork(actor) as uow:
        doc = svc.firm_planned_order(uow, order_id, supplier=body.supplier if body else None)
        o = uow.get(PlannedOrder, order_id)
        return {**order_out(o), "document_number": doc.number}


@router.post("/planned-orders/{order_id}/cancel", summary="Cancel a planned order")
def cancel(order_id: int, actor: Actor = RUN) -> dict:
    with UnitOfWork(actor) as uow:
        return order_out(svc.cancel_planned_order(uow, order_id))


class PolicyBody(BaseModel):
    product_id: int
    lead_time_days: int = Field(0, ge=0, le=3650)
    lot_rule: str = "lot_for_lot"
    fixed_qty: Decimal | None = None
    eoq_qty: Decimal | None = None
    annual_demand: Decimal | None = None
    order_cost: Decimal | None = None
    holding_cost: Decimal | None = None
    poq_periods: int | None = Field(None, ge=1, le=104)
    min_qty: Decimal = Decimal(0)
    multiple: Decimal = Decimal(0)
    safety_stock: Decimal = Decimal(0)
    make_or_buy: str = "auto"
    preferred_supplier_id: int | None = None


def policy_out(p: PlanningPolicy) -> dict:
    return {c: getattr(p, c) for c in ("id", "product_id", "lead_time_days", "lot_rule", "fixed_qty", "eoq_qty",
                                       "annual_demand", "order_cost", "holding_cost", "poq_periods", "min_qty",
                                       "multiple", "safety_stock", "make_or_buy", "preferred_supplier_id")}


@router.get("/planning-policies", summary="Planning policies")
def list_policies(limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        base = select(PlanningPolicy).where(PlanningPolicy.company_id == uow.company_id)
        total = uow.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = uow.session.scalars(base.order_by(PlanningPolicy.id).limit(limit).offset(offset))
        return {"items": [policy_out(p) for p in rows], "total": total}


@router.put("/planning-policies", summary="Create or replace a product's planning policy")
def put_policy(body: PolicyBody, actor: Actor = RUN) -> dict:
    with UnitOfWork(actor) as uow:
        return policy_out(svc.set_policy(uow, body.model_dump()))


@router.get("/planning-policies/export", summary="Planning policies as CSV or XLSX (the import's columns)")
def export_policies(format: str = Query("csv", pattern="^(csv|xlsx)$"), q: str | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = policy_io.export_table(uow, q)
    return table_response(header, rows, format, "planning-policies")


@router.post("/planning-policies/import", summary="Import planning policies from CSV/XLSX (all or nothing)")
def import_policies(file: UploadFile = File(...), dry_run: bool = False, actor: Actor = RUN) -> dict:
    name, data = read_upload(file)
    with UnitOfWork(actor) as uow:
        return policy_io.import_policies(uow, read_table(name, data), dry_run=dry_run).as_dict()


@router.delete("/planning-policies/{policy_id}", status_code=204, summary="Delete a planning policy")
def delete_policy(policy_id: int, actor: Actor = RUN) -> None:
    with UnitOfWork(actor) as uow:
        svc.delete_policy(uow, policy_id)


class DemandRow(BaseModel):
    product_id: int | None = None
    sku: str | None = None
    warehouse_id: int | None = None
    date: dt.date
    quantity: Decimal


class DemandBody(BaseModel):
    source: str = "manual"
    rows: list[DemandRow]


@router.put("/independent-demand", summary="Replace all independent demand rows of one source")
def put_demand(body: DemandBody, actor: Actor = RUN) -> dict:
    with UnitOfWork(actor) as uow:
        return {"stored": set_independent_demand(uow, source=body.source,
                                                 rows=[r.model_dump() for r in body.rows])}
