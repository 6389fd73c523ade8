"""Pages of production planning under /erp/planning: run MRP and see the run history (the page refreshes itself
while a run is going), the planned orders with search and filters (kind, state, late), pagination, XLSX/CSV
export and firming the selected ones at once, one planned order's pegging with firm / cancel buttons and the
documents it became (RFQ, purchase order, work order)."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import table_response
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.web import redirect, render

from . import service as svc
from .models import MrpRun, PlannedOrder

router = APIRouter(prefix="/erp", include_in_schema=False)
READ = Depends(page_permission("erp.planning"))
RUN = Depends(page_permission("erp.planning_run"))
PAGE_SIZE = 50


def _filters(qp) -> dict:
    return {"q": (qp.get("q") or "").strip(), "kind": qp.get("kind") or "", "state": qp.get("state") or "planned",
            "late": qp.get("late") or ""}


def _orders(uow: UnitOfWork, f: dict, limit: int, offset: int):
    return svc.list_planned_orders(uow, kind=f["kind"] or None, state=f["state"] if f["state"] != "all" else None,
                                   late={"1": True, "0": False}.get(f["late"]), q=f["q"] or None, limit=limit,
                                   offset=offset)


@router.get("/planning")
def planning(request: Request, p: Page = READ):
    qp = request.query_params
    f = _filters(qp)
    offset = int(qp.get("offset")) if (qp.get("offset") or "").isdigit() else 0
    with UnitOfWork(p.actor, readonly=True) as uow:
        runs = list(uow.session.scalars(select(MrpRun).where(MrpRun.company_id == uow.company_id)
                                        .order_by(MrpRun.id.desc()).limit(10)))
        orders, total = _orders(uow, f, PAGE_SIZE, offset)
        skus = svc.product_labels(uow, [o.product_id for o in orders])
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "erp/planning/index.html", runs=runs, orders=orders, total=total, skus=skus, filters=f,
                  keep=keep, offset=offset, page_size=PAGE_SIZE, kind_labels=svc.KIND_LABELS,
                  state_labels=svc.STATE_LABELS, running=any(r.state in ("queued", "running") for r in runs))


@router.get("/planning/export")
def planning_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        orders, _total = _orders(uow, _filters(request.query_params), 100000, 0)
        skus = svc.product_labels(uow, [o.product_id for o in orders])
    header = [_("编号"), _("商品编码"), _("商品名称"), _("类型"), _("数量"), _("下达日期"), _("需求日期"), _("已延误"),
              _("状态")]
    rows = [[o.id, skus[o.product_id][0], skus[o.product_id][1], str(svc.KIND_LABELS[o.kind]), o.quantity,
             o.release_date.isoformat(), o.due_date.isoformat(), _("是") if o.past_due else "",
             str(svc.STATE_LABELS[o.state])] for o in orders]
    return table_response(header, rows, "csv" if format == "csv" else "xlsx", "planned-orders")


@router.post("/planning/firm-selected")
async def firm_selected(request: Request, p: Page = RUN):
    form = await request.form()
    ids = [int(v) for v in form.getlist("order_ids") if str(v).isdigit()]
    back = "/erp/planning" + (f"?{form.get('keep')}" if form.get("keep") else "")

    def work():
        with UnitOfWork(p.actor) as uow:
            return [d.number for d in svc.firm_planned_orders(uow, ids)]
    try:
        numbers = await run_in_threadpool(work)
    except DomainError as exc:
        return redirect(back, exc.message, "error")
    return redirect(back, _("已确认 {n} 个计划订单：{docs}", n=len(numbers), docs="、".join(numbers)))


@router.post("/planning/run")
async def planning_run(request: Request, p: Page = RUN):
    form = await request.form()

    def work():
        with UnitOfWork(p.actor) as uow:
            run = svc.start_mrp(uow, bucket=form.get("bucket") or "week", horizon=int(form.get("horizon") or 52))
            return run.number
    try:
        number = await run_in_threadpool(work)
    except (DomainError, ValueError) as exc:
        return redirect("/erp/planning", str(getattr(exc, "message", exc)), "error")
    return redirect("/erp/planning", f"MRP {number}")


def _sourcing(uow: UnitOfWork, o: PlannedOrder) -> tuple[bool, dict | None]:
    """SRM's part of a planned purchase while SRM is on for the company: whether an RFQ can be started from it
    (发起询价), and the RFQ started from it. Imported lazily: planning neither depends on SRM nor pays for it."""
    from opensupply.core.modules import enabled_for

    if o.kind != "purchase" or "srm" not in enabled_for(uow):
        return False, None
    from opensupply.srm import rfq

    return True, rfq.rfqs_for_planned_orders(uow, [o.id]).get(o.id)


def _work_order(uow: UnitOfWork, o: PlannedOrder) -> dict | None:
    """The work order a firmed planned production became, for its link; MES imported lazily like firming does."""
    if not o.work_order_id:
        return None
    from opensupply.mes import work_orders

    wo = work_orders.get_work_order(uow, o.work_order_id)
    return {"id": wo.id, "number": wo.number, "state_label": work_orders.state_label(wo.state)}


@router.get("/planning/orders/{order_id}")
def planned_order(order_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        o = uow.get(PlannedOrder, order_id)
        pegs = svc.pegging_of(uow, order_id)
        skus = svc.product_labels(uow, [o.product_id])
        srm_on, rfq = _sourcing(uow, o)
        order = purchasing.order_summaries(uow, [o.purchase_order_id]).get(o.purchase_order_id) \
            if o.purchase_order_id else None
        work_order = _work_order(uow, o)
    return render(p, "erp/planning/order.html", o=o, pegs=pegs, skus=skus, kind_labels=svc.KIND_LABELS,
                  state_labels=svc.STATE_LABELS, source_labels=svc.SOURCE_LABELS, rfq=rfq, order=order,
                  work_order=work_order,
                  can_rfq=srm_on and p.actor.can("srm.write"))


@router.post("/planning/orders/{order_id}/{action}")
async def planned_order_action(order_id: int, action: str, request: Request, p: Page = RUN):
    form = await request.form()

    if action not in ("firm", "cancel"):
        raise HTTPException(status_code=404)

    def work():
        with UnitOfWork(p.actor) as uow:
            if action == "firm":
                number = svc.firm_planned_order(uow, order_id, supplier=form.get("supplier") or None).number
                return _("已确认，生成 {doc}", doc=number)
            svc.cancel_planned_order(uow, order_id)
            return _("计划订单已取消")
    try:
        message = await run_in_threadpool(work)
    except DomainError as exc:
        return redirect(f"/erp/planning/orders/{order_id}", exc.message, "error")
    return redirect(f"/erp/planning/orders/{order_id}", message)
