"""REST endpoints for bills of materials: /api/v1/boms."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import boms
from .schemas import BomCopy, BomCreate, BomListOut, BomUpdate

router = APIRouter(prefix="/boms", tags=["masterdata"])
read = Depends(require(boms.READ_PERMISSION))
write = Depends(require(boms.WRITE_PERMISSION))


@router.get("", response_model=BomListOut, summary="List BOM versions (filter by product and state)")
def list_boms(q: str | None = None, product_id: int | None = None, product: str | None = None,
              state: str | None = None, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
              actor: Actor = read):
    """`product_id` or `product` (SKU) narrows to one product's versions; `state` to draft/released/obsolete."""
    with UnitOfWork(actor, readonly=True) as uow:
        if product and not product_id:
            product_id = boms.product_id_by_sku(uow, product) or -1
        items, total = boms.list_boms(uow, q=q, product_id=product_id, state=state, limit=limit, offset=offset)
        return {"items": [boms.bom_to_dict(b, with_lines=False) for b in items], "total": total}


@router.post("", status_code=201, summary="Create a draft BOM with its lines")
def create_bom(body: BomCreate, actor: Actor = write) -> dict:
    data = body.model_dump(exclude_unset=True)
    with UnitOfWork(actor) as uow:
        bom = boms.create_bom(uow, **data)
        return boms.bom_to_dict(bom)


@router.get("/{bom_id}", summary="One BOM version with its lines")
def get_bom(bom_id: int, actor: Actor = read) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return boms.bom_to_dict(boms.get_bom(uow, bom_id))


@router.patch("/{bom_id}", summary="Change a draft (lines, when given, replace all lines)")
def update_bom(bom_id: int, body: BomUpdate, actor: Actor = write) -> dict:
    with UnitOfWork(actor) as uow:
        return boms.bom_to_dict(boms.update_bom(uow, bom_id, body.model_dump(exclude_unset=True)))


@router.post("/{bom_id}/release", summary="Release a draft; the previous released version becomes obsolete")
def release_bom(bom_id: int, actor: Actor = write) -> dict:
    with UnitOfWork(actor) as uow:
        return boms.bom_to_dict(boms.release_bom(uow, bom_id))


@router.post("/{bom_id}/obsolete", summary="Take a released version out of force")
def obsolete_bom(bom_id: int, actor: Actor = write) -> dict:
    with UnitOfWork(actor) as uow:
        return boms.bom_to_dict(boms.obsolete_bom(uow, bom_id))


@router.post("/{bom_id}/copy", status_code=201, summary="Copy to a new draft version (V1.0 → V1.1)")
def copy_bom(bom_id: int, body: BomCopy | None = None, actor: Actor = write) -> dict:
    with UnitOfWork(actor) as uow:
        return boms.bom_to_dict(boms.copy_bom(uow, bom_id, body.version if body else None))


@router.get("/{bom_id}/explode", summary="Multi-level requirements to make a quantity of the product")
def explode_bom(bom_id: int, quantity: str = "1", actor: Actor = read) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        bom = boms.get_bom(uow, bom_id)
        return boms.explode(uow, bom.product_id, quantity, bom_id=bom.id).as_dict()


@router.get("/where-used/{product_id}", summary="BOM versions using a product as a component")
def where_used(product_id: int, include_obsolete: bool = False, actor: Actor = read) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = [u.as_dict() for u in boms.where_used(uow, product_id, include_obsolete=include_obsolete)]
        return {"items": items, "total": len(items)}


@router.delete("/{bom_id}", summary="Delete a draft")
def delete_bom(bom_id: int, actor: Actor = write) -> dict:
    with UnitOfWork(actor) as uow:
        boms.delete_bom(uow, bom_id)
    return {"id": bom_id, "deleted": True}
