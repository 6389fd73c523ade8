"""Routings (工艺路线) under /api/v1/mes/routings: list (search, product, archived, pagination), export, read
(with the conversion cost for a quantity), create, update (header and/or operations), archive and restore.
Thin: `mes.routings`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import boms

from . import routings
from .shopfloor_api import export

READ = Depends(require(routings.READ_PERMISSION))
WRITE = Depends(require(routings.WRITE_PERMISSION))

router = APIRouter(prefix="/mes/routings", tags=["mes routings"])


class OperationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sequence: int | None = None
    name: str
    work_center: str | int
    setup_minutes: Decimal | str | int | None = None
    run_minutes: Decimal | str | int | None = None
    checklist: str | int | None = None
    instructions: str | None = None


class RoutingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: str | int
    code: str | None = None
    name: str | None = None
    bom_id: int | None = None
    final_checklist: str | int | None = None
    notes: str | None = None
    operations: list[OperationIn] = Field(default_factory=list)


class RoutingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    bom_id: int | None = None
    final_checklist: str | int | None = None
    notes: str | None = None
    operations: list[OperationIn] | None = None


def product_id_for(uow: UnitOfWork, product: str | None) -> int | None:
    if not product:
        return None
    return boms.product_id_by_sku(uow, product) or (int(product) if product.isdigit() else -1)


def parse_quantity(raw: Any) -> Decimal:
    qty = boms._decimal(raw, "quantity", _("数量"), default=Decimal(1))
    if qty <= 0:
        raise ValidationFailed(_("{label}必须大于 0", label=_("数量")), field="quantity")
    return qty


EXPORT_HEADER = [_l("工艺路线编码"), _l("名称"), _l("商品编码"), _l("商品名称"), _l("BOM 版本"), _l("工序号"),
                 _l("工序名称"), _l("工作中心"), _l("准备时间(分钟)"), _l("单件工时(分钟)"), _l("作业指导"),
                 _l("单件加工费"), _l("启用")]


def export_rows(uow: UnitOfWork, items) -> tuple[list[str], list[list]]:
    """One row per operation, the routing's header repeated (what a planner sorts and filters in a spreadsheet)."""
    rows = []
    for r in items:
        d = routings.routing_to_dict(uow, r)
        for op in d["operations"]:
            rows.append([d["code"], d["name"], d["sku"], d["product_name"], d["bom_version"] or _("所有版本"),
                         op["sequence"], op["name"], op["work_center"], op["setup_minutes"], op["run_minutes"],
                         op["instructions"] or "", d["unit_cost"], _("是") if d["active"] else _("否")])
    return [str(h) for h in EXPORT_HEADER], rows


@router.get("", summary="List routings")
def list_(q: str | None = None, product: str | None = None, include_archived: bool = False,
          limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = routings.list_routings(uow, q=q, product_id=product_id_for(uow, product), limit=limit,
                                              offset=offset, include_archived=include_archived)
        return {"items": [routings.routing_to_dict(uow, r) for r in items], "total": total}


@router.get("/export", summary="Export routings (one row per operation) as XLSX or CSV")
def export_(q: str | None = None, product: str | None = None, include_archived: bool = False,
            format: str = Query("xlsx", pattern="^(csv|xlsx)$"), actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        items, _total = routings.list_routings(uow, q=q, product_id=product_id_for(uow, product), limit=1000000,
                                               include_archived=include_archived)
        header, rows = export_rows(uow, items)
    return export(header, rows, "routings", format)


@router.get("/{routing_id}", summary="One routing with its operations and the conversion cost of a quantity")
def get(routing_id: int, quantity: str = "1", actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        routing = uow.get(routings.Routing, routing_id)
        qty = parse_quantity(quantity)
        out = routings.routing_to_dict(uow, routing)
        out["quantity"] = boms._dec_str(qty)
        out["cost"] = boms._dec_str(routings.routing_cost(uow, routing, qty))
        return out


@router.post("", status_code=201, summary="Create a routing with its operations")
def create(body: RoutingIn, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        routing = routings.create_routing(uow, product=body.product, code=body.code, name=body.name,
                                          bom_id=body.bom_id, final_checklist=body.final_checklist, notes=body.notes,
                                          operations=[op.model_dump(exclude_none=True) for op in body.operations])
        return routings.routing_to_dict(uow, routing)


@router.patch("/{routing_id}", summary="Change a routing's header and/or replace its operations")
def update(routing_id: int, body: RoutingPatch, actor: Actor = WRITE):
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if body.operations is not None:
        changes["operations"] = [op.model_dump(exclude_none=True) for op in body.operations]
    with UnitOfWork(actor) as uow:
        return routings.routing_to_dict(uow, routings.update_routing(uow, routing_id, changes))


@router.delete("/{routing_id}", summary="Archive a routing (work orders already made keep their operations)")
def archive(routing_id: int, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        r = routings.archive_routing(uow, routing_id)
        return {"id": r.id, "archived": True}


@router.post("/{routing_id}/restore", summary="Bring an archived routing back")
def restore(routing_id: int, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        return routings.routing_to_dict(uow, routings.restore_routing(uow, routing_id))
