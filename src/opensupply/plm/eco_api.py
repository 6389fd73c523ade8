"""Engineering change orders under /api/v1/plm/: list (search, state, product, `mine`), create, edit the new
version's lines, diff, submit, approve/reject per department, cancel, release, comments with @mentions, open
work orders on the old version, cost impact and cost roll-up, printable PDF. Thin: parse, call `plm.eco`."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import boms
from opensupply.mes import work_orders as mes_wo
from opensupply.web.pdf import pdf_response

from . import costing, eco, printing
from . import schemas as s

router = APIRouter(prefix="/plm", tags=["plm eco"])
READ = Depends(require(eco.READ))
WRITE = Depends(require(eco.WRITE))
LIMIT = Query(50, ge=1, le=1000)
OFFSET = Query(0, ge=0)


def product_ref(uow: UnitOfWork, product: str | None) -> int | None:
    """A product filter by id or SKU; an unknown one matches nothing rather than everything."""
    if not product or not product.strip():
        return None
    found = boms.product_id_by_sku(uow, product)
    if found is None and product.strip().isdigit():
        found = int(product.strip())
    return found or -1


def detail(uow: UnitOfWork, e) -> dict:
    out = eco.eco_to_dict(uow, e)
    out["diff"] = eco.eco_diff(uow, e).as_dict()
    out["open_work_orders"] = [mes_wo.work_order_to_dict(uow, wo, detail=False) for wo in eco.open_work_orders(uow, e)]
    return out


@router.get("/ecos", summary="Engineering change orders (mine=true: waiting for my approval or mentioning me)")
def list_ecos(q: str | None = None, state: str | None = None, product: str | None = None, mine: bool = False,
              limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = eco.list_ecos(uow, q=q, state=state, product_id=product_ref(uow, product), mine=mine,
                                    limit=limit, offset=offset)
        return {"items": eco.ecos_to_dicts(uow, rows), "total": total}


@router.post("/ecos", status_code=201, summary="Raise an ECO: copies the released version into a new draft version")
def create_eco(body: s.EcoIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        e = eco.create_eco(uow, body.product, body.title, body.reason, body.base_bom_id, body.version,
                           lines=s.line_dicts(body.lines), departments=body.departments)
        return detail(uow, e)


@router.get("/ecos/{eco_id}", summary="One ECO with its diff, approvals and open work orders on the old version")
def get_eco(eco_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return detail(uow, eco.get_eco(uow, eco_id))


@router.patch("/ecos/{eco_id}", summary="Change a draft's title, reason or required departments")
def patch_eco(eco_id: int, body: s.EcoPatch, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return detail(uow, eco.update_eco(uow, eco_id, title=body.title, reason=body.reason,
                                          departments=body.departments))


@router.put("/ecos/{eco_id}/lines", summary="Replace the new version's lines (draft ECO)")
def put_lines(eco_id: int, body: s.EcoLinesIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        eco.update_eco_lines(uow, eco_id, s.line_dicts(body.lines), quantity=body.quantity)
        return detail(uow, eco.get_eco(uow, eco_id))


@router.get("/ecos/{eco_id}/diff", summary="Base version vs new version, line by line")
def get_diff(eco_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return eco.eco_diff(uow, eco.get_eco(uow, eco_id)).as_dict()


@router.post("/ecos/{eco_id}/submit", summary="Send for approval")
def submit(eco_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return detail(uow, eco.submit_eco(uow, eco_id))


@router.post("/ecos/{eco_id}/withdraw", summary="Back to draft (approvals so far are void)")
def withdraw(eco_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return detail(uow, eco.withdraw_eco(uow, eco_id))


@router.post("/ecos/{eco_id}/approve", summary="A department approves (needs plm.approve.<department>)")
def approve(eco_id: int, body: s.ApprovalIn, actor: Actor = READ) -> dict:
    with UnitOfWork(actor) as uow:
        return detail(uow, eco.approve_eco(uow, eco_id, body.department, body.comment))


@router.post("/ecos/{eco_id}/reject", summary="A department rejects: the ECO is rejected")
def reject(eco_id: int, body: s.ApprovalRejectIn, actor: Actor = READ) -> dict:
    with UnitOfWork(actor) as uow:
        return detail(uow, eco.reject_eco(uow, eco_id, body.department, body.reason))


@router.post("/ecos/{eco_id}/cancel", summary="Cancel a draft, in-review or approved ECO")
def cancel(eco_id: int, body: s.CancelIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return detail(uow, eco.cancel_eco(uow, eco_id, (body or s.CancelIn()).reason))


@router.post("/ecos/{eco_id}/release", summary="Release: the new version is in force, the old one obsolete")
def release(eco_id: int, body: s.ReleaseIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return detail(uow, eco.release_eco(uow, eco_id, (body or s.ReleaseIn()).effective_date))


@router.get("/ecos/{eco_id}/comments", summary="The discussion of an ECO")
def comments(eco_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = eco.list_comments(uow, eco_id)
        for c in items:
            c.pop("created", None)
        return {"items": items, "total": len(items)}


@router.post("/ecos/{eco_id}/comments", status_code=201, summary="Comment; @username mentions a user")
def add_comment(eco_id: int, body: s.CommentIn, actor: Actor = READ) -> dict:
    with UnitOfWork(actor) as uow:
        c = eco.add_comment(uow, eco_id, body.body)
        item = next(x for x in eco.list_comments(uow, eco_id) if x["id"] == c.id)
        item.pop("created", None)
        return item


@router.post("/ecos/{eco_id}/mentions/read", summary="Mark my mentions in this ECO as read")
def read_mentions(eco_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor) as uow:
        eco.get_eco(uow, eco_id)
        return {"marked": eco.mark_mentions_read(uow, eco_id)}


@router.get("/mentions", summary="Mentions of me (unread by default)")
def mentions(unread: bool = True, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = eco.my_mentions(uow, unread_only=unread, limit=limit, offset=offset)
        return {"items": items, "total": total, "counts": eco.inbox_counts(uow)}


@router.get("/ecos/{eco_id}/cost-impact", summary="Cost roll-up of the base and the new version")
def cost_impact(eco_id: int, quantity: Decimal = Decimal(1), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        e = eco.get_eco(uow, eco_id)
        return costing.compare(uow, e.product_id, e.base_bom_id, e.new_bom_id, costing.parse_quantity(quantity))


@router.get("/cost-rollup", summary="Cost roll-up of a product through a BOM version (default: the released one)")
def cost_rollup(product: str, bom_id: int | None = None, quantity: Decimal = Decimal(1), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        pid = product_ref(uow, product)
        if pid is None or pid < 0:
            raise ValidationFailed(_("商品不存在：{value}", value=product), field="product")
        return costing.roll_up(uow, pid, bom_id, costing.parse_quantity(quantity)).as_dict()


@router.get("/ecos/{eco_id}/pdf", summary="The ECO as a PDF to print and sign")
async def eco_pdf(eco_id: int, actor: Actor = READ):
    number, data = await run_in_threadpool(printing.eco_pdf, actor, eco_id)
    return pdf_response(data, f"{number}.pdf")
