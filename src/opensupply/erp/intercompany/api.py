"""REST: the acting company's inter-company links and mirroring exceptions, and retrying one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import service as svc

router = APIRouter(prefix="/erp/intercompany", tags=["erp intercompany"])
READ = Depends(require("erp.read"))


def _out(d: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in d.items()}


@router.get("/links", summary="Mirrored inter-company documents")
def links(limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = svc.list_links(uow, limit=limit, offset=offset)
    return {"items": [_out(i) for i in items], "total": len(items)}


@router.get("/links/{kind}/{doc_id}", summary="The linked document in the other company")
def counterpart(kind: str, doc_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return {"link": svc.counterpart(uow, svc.check_kind(kind), doc_id)}


@router.get("/exceptions", summary="Documents that could not be mirrored")
def exceptions(state: str | None = "open", actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = svc.list_exceptions(uow, state=state or None)
    return {"items": [_out(i) for i in items], "total": len(items)}


@router.post("/exceptions/{exception_id}/retry", summary="Try mirroring again")
def retry(exception_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor) as uow:
        link = svc.retry(uow, exception_id)
        result = {"mirrored": link is not None, "target_number": link.target_number if link else None}
    return result
