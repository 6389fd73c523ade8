"""Lifecycle pages under /plm/lifecycle: products per stage (counts, filter by stage and pending request,
search, pagination), a stage change request form per product, approve/reject of pending requests, the
request history, and the form for a new R&D item (研发新品)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import lifecycle as md_lifecycle
from opensupply.masterdata import models as md
from opensupply.web import redirect, render

from . import lifecycle
from .pages import PAGE_SIZE, act, offset_of, pager, safe_next

router = APIRouter(prefix="/plm", include_in_schema=False)
READ = Depends(page_permission(lifecycle.READ))
WRITE = Depends(page_permission(lifecycle.WRITE))
APPROVE = Depends(page_permission(lifecycle.APPROVE))
BACK = "/plm/lifecycle"
RD_FIELDS = ("sku", "name", "spec", "uom_id", "barcode", "cost", "list_price", "description")


@router.get("/lifecycle")
def lifecycle_page(request: Request, p: Page = READ):
    qp = request.query_params
    offset = offset_of(qp.get("offset"))
    stage = qp.get("stage") or None
    pending = qp.get("pending") == "1"
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = lifecycle.list_products(uow, q=qp.get("q") or None, stage=stage, pending=pending,
                                                  limit=PAGE_SIZE, offset=offset)
        except DomainError as exc:
            return render(p, "error.html", status_code=422, status=422, message=exc.message)
        products = [lifecycle.product_row(prod, c) for prod, c in rows]
        counts = lifecycle.stage_counts(uow)
        recent, _n = lifecycle.list_changes(uow, limit=20)
        recent = lifecycle.changes_to_dicts(uow, recent)
    return render(p, "plm/lifecycle.html", title=_("生命周期"), products=products, total=total, counts=counts,
                  recent=recent, filters=qp, stage=stage or "", pending=pending, pager=pager(request, total, offset),
                  stages=[(s, md_lifecycle.stage_label(s)) for s in md.LIFECYCLE_STAGES],
                  can_write=p.actor.can(lifecycle.WRITE), can_approve=p.actor.can(lifecycle.APPROVE),
                  user_id=p.actor.user_id, is_superuser=p.actor.is_superuser)


@router.post("/lifecycle/requests")
async def request_change(request: Request, p: Page = WRITE):
    form = await request.form()
    back = safe_next(str(form.get("next") or ""), BACK)
    return await act(p, back, lambda uow: lifecycle.request_stage_change(
        uow, str(form.get("product") or ""), str(form.get("to_stage") or ""), str(form.get("reason") or "")),
        _("已提交阶段变更申请，等待审批"))


@router.post("/lifecycle/requests/{change_id}/approve")
async def approve_change(change_id: int, request: Request, p: Page = APPROVE):
    form = await request.form()
    back = safe_next(str(form.get("next") or ""), BACK)
    return await act(p, back, lambda uow: lifecycle.approve_stage_change(uow, change_id,
                                                                          str(form.get("comment") or "") or None),
                     _("已批准，商品阶段已变更"))


@router.post("/lifecycle/requests/{change_id}/reject")
async def reject_change(change_id: int, request: Request, p: Page = APPROVE):
    form = await request.form()
    back = safe_next(str(form.get("next") or ""), BACK)
    return await act(p, back, lambda uow: lifecycle.reject_stage_change(uow, change_id, str(form.get("reason") or "")),
                     _("已驳回"))


@router.post("/lifecycle/requests/{change_id}/cancel")
async def cancel_change(change_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    back = safe_next(str(form.get("next") or ""), BACK)
    return await act(p, back, lambda uow: lifecycle.cancel_stage_change(uow, change_id), _("已撤销申请"))


def _uoms(uow: UnitOfWork) -> list[tuple[str, str]]:
    return [(u.code, u.name) for u in uow.session.scalars(select(md.Uom).where(md.Uom.active.is_(True))
                                                          .order_by(md.Uom.category_id, md.Uom.id))]


def _rd_form(p: Page, values: dict, error: DomainError | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        uoms = _uoms(uow)
    return render(p, "plm/rd_item_form.html", status_code=422 if error else 200, title=_("新建研发物料"),
                  values=values, uoms=uoms, error=error.message if error else None,
                  error_field=error.field if error else None, can_cost=p.actor.can("masterdata.cost"))


@router.get("/lifecycle/rd-items/new")
def rd_item_new(p: Page = WRITE):
    return _rd_form(p, {"uom_id": "pcs"})


@router.post("/lifecycle/rd-items/new")
async def rd_item_create(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in RD_FIELDS}
    data = {k: v for k, v in values.items() if v and (k not in ("cost",) or p.actor.can("masterdata.cost"))}

    def run():
        with UnitOfWork(p.actor) as uow:
            return lifecycle.create_rd_item(uow, data).sku

    try:
        sku = await run_in_threadpool(run)
    except DomainError as exc:
        return _rd_form(p, values, exc)
    return redirect(f"/plm/lifecycle?q={quote(sku)}", _("已创建研发物料 {sku}", sku=sku))
