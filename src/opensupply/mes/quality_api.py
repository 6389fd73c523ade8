"""Quality under /api/v1/mes/: checklists (the declarative resource, whose items may be sent as a JSON list),
inspections (`quality-checks`: list, record → 201, one, disposition, export), the inspection form of a work
order, a work order's final-inspection status, the checks of a lot and the first-pass-yield report.
Read with mes.read, record and dispose with mes.quality. Thin: parse, call `mes.quality`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from opensupply.core import resource as rs
from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.resource_api import filters_from, resource_router
from opensupply.core.tabular import table_response
from opensupply.core.uow import Actor, UnitOfWork

from . import quality
from . import work_orders as wos

router = APIRouter(tags=["mes quality"])
READ = Depends(require(quality.READ_PERMISSION))
QUALITY = Depends(require(quality.QUALITY_PERMISSION))
res = quality.checklists


# ------------------------------------------------------------------ checklists
class ChecklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(None, max_length=20)
    name: str | None = Field(None, max_length=120)
    items: list[dict[str, Any]] | str | None = Field(
        None, description='[{"name", "kind": "check"|"measure", "min", "max", "unit"}] or one item per line')


def _checklist_data(body: ChecklistIn) -> dict:
    data = body.model_dump(exclude_unset=True)
    if isinstance(data.get("items"), list):  # the resource takes the items as text; JSON text is one of its forms
        data["items"] = json.dumps(data["items"], ensure_ascii=False)
    return data


# declared before the resource's own routes, which they replace: those take items as text only
@router.post("/mes/checklists", status_code=201, summary="Create a quality checklist")
def create_checklist(body: ChecklistIn, actor: Actor = QUALITY) -> dict:
    with UnitOfWork(actor) as uow:
        return rs.to_dict(uow, res, rs.create_record(uow, res, _checklist_data(body)))


@router.patch("/mes/checklists/{id_}", summary="Change a quality checklist")
def update_checklist(id_: int, body: ChecklistIn, actor: Actor = QUALITY) -> dict:
    with UnitOfWork(actor) as uow:
        return rs.to_dict(uow, res, rs.update_record(uow, res, id_, _checklist_data(body)))


@router.get("/mes/checklists/export", summary="Export checklists (items one per line) as CSV or XLSX")
def export_checklists(request: Request, format: str = Query("csv", pattern="^(csv|xlsx)$"), q: str | None = None,
                      actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        items, _total = rs.list_records(uow, res, q=q, filters=filters_from(res, request), limit=1000000)
        return checklist_export(uow, items, format)


def checklist_export(uow: UnitOfWork, items: list, fmt: str) -> Response:
    header = [f.label_text() for f in res.fields]
    return _download([str(h) for h in header], quality.checklist_rows(uow, items), fmt, "checklists")


router.include_router(resource_router(res))


# ------------------------------------------------------------------ inspections
class ResultIn(BaseModel):
    name: str = Field(max_length=80)
    value: Any = None
    kind: str | None = Field(None, description="only without a checklist: check | measure")
    min: Decimal | None = None
    max: Decimal | None = None
    unit: str | None = Field(None, max_length=20)


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_order_id: int | None = None
    work_order: str | None = Field(None, max_length=40, description="work order number, instead of the id")
    operation_id: int | None = Field(None, description="empty: final inspection")
    results: list[ResultIn] = []
    qty_inspected: Decimal
    qty_failed: Decimal | None = None
    lot: str | None = Field(None, max_length=80)
    notes: str | None = Field(None, max_length=2000)
    checklist_id: int | None = None


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(description="accept (让步接收) | rework (返工) | scrap (报废)")
    qty: Decimal | None = Field(None, description="default: the failed quantity")
    reason: str | None = Field(None, max_length=200)


def _work_order_id(uow: UnitOfWork, body: CheckIn) -> int:
    if body.work_order_id:
        return body.work_order_id
    if body.work_order:
        return wos.by_number(uow, body.work_order).id
    raise ValidationFailed(_("请选择工单"), field="work_order_id")


def _filters(q, result, stage, disposition, product_id, work_order_id, lot_id, work_center_id, date_from, date_to,
             open_only) -> dict:
    return dict(q=q, result=result or None, stage=stage or None, disposition=disposition or None,
                product_id=product_id, work_order_id=work_order_id, lot_id=lot_id, work_center_id=work_center_id,
                date_from=date_from, date_to=date_to, open_only=open_only)


@router.get("/mes/quality-checks", summary="Quality checks (?q=&result=&stage=&disposition=&open=&limit=&offset=)")
def list_checks(q: str | None = None, result: str | None = None, stage: str | None = None,
                disposition: str | None = None, product_id: int | None = None, work_order_id: int | None = None,
                lot_id: int | None = None, work_center_id: int | None = None, date_from: dt.date | None = None,
                date_to: dt.date | None = None, open: bool = False, limit: int = Query(50, ge=1, le=1000),
                offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = quality.list_checks(uow, limit=limit, offset=offset, **_filters(
            q, result, stage, disposition, product_id, work_order_id, lot_id, work_center_id, date_from, date_to,
            open))
        return {"items": quality.checks_to_dicts(uow, items), "total": total}


@router.get("/mes/quality-checks/export", summary="Export quality checks as CSV or XLSX")
def export_checks(format: str = Query("csv", pattern="^(csv|xlsx)$"), q: str | None = None,
                  result: str | None = None, stage: str | None = None, disposition: str | None = None,
                  date_from: dt.date | None = None, date_to: dt.date | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        header, rows = quality.export_rows(uow, **_filters(q, result, stage, disposition, None, None, None, None,
                                                           date_from, date_to, False))
    return _download(header, rows, format, "quality-checks")


@router.post("/mes/quality-checks", status_code=201, summary="Record an inspection (operation or final)")
def record_check(body: CheckIn, actor: Actor = QUALITY) -> dict:
    with UnitOfWork(actor) as uow:
        check = quality.record_check(
            uow, _work_order_id(uow, body), operation_id=body.operation_id,
            results=[r.model_dump(exclude_none=True) for r in body.results], qty_inspected=body.qty_inspected,
            qty_failed=body.qty_failed, lot=body.lot, notes=body.notes, checklist_id=body.checklist_id)
        return quality.check_to_dict(uow, check)


@router.get("/mes/quality-checks/{check_id}", summary="One quality check with its item results")
def get_check(check_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return quality.check_to_dict(uow, quality.get_check(uow, check_id))


@router.post("/mes/quality-checks/{check_id}/disposition", summary="Dispose of failed units: accept / rework / scrap")
def dispose(check_id: int, body: DispositionIn, actor: Actor = QUALITY) -> dict:
    with UnitOfWork(actor) as uow:
        return quality.check_to_dict(uow, quality.dispose(uow, check_id, body.action, body.qty, body.reason))


@router.get("/mes/quality/inspection-form", summary="What to inspect for a work order (and operation)")
def inspection_form(work_order_id: int, operation_id: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return quality.inspection_form(uow, work_order_id, operation_id)


@router.get("/mes/quality/final-inspection/{work_order_id}", summary="Whether a work order's final inspection is done")
def final_inspection(work_order_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return quality.final_inspection_status(uow, work_order_id)


@router.get("/mes/quality/lots/{lot_id}/checks", summary="Every inspection of a lot with its disposition")
def lot_checks(lot_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = quality.checks_for_lot(uow, lot_id)
        return {"items": items, "total": len(items)}


@router.get("/mes/quality/first-pass-yield", summary="First-pass yield per product or work center per period")
def first_pass_yield(group_by: str = "product", period: str = "month", date_from: dt.date | None = None,
                     date_to: dt.date | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return quality.first_pass_yield(uow, group_by=group_by, period=period, date_from=date_from, date_to=date_to)


def _download(header: list[str], rows: list[list], fmt: str, name: str) -> Response:
    return table_response(header, rows, fmt, name)

__all__ = ["checklist_export", "router"]
