"""Pages of production planning under /erp/planning: run MRP and see the run history, the planned orders
with filters (kind, state, late) and pagination, one planned order's pegging with firm / cancel buttons and
the documents it became (RFQ, purchase order, work order)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.web import redirect, render

from . import service as svc
from .models import MrpRun, PlannedOrder

router = APIRouter(prefix="/erp", include_in_schema=False)
READ = Depends(page_permission("erp.planning"))
RUN = Depends(page_permission("erp.planning_run"))
PAGE_SIZE = 50


@router.get("/planning")
def planning(request: Request, p: Page = READ):
    qp = request.query_params
    kind, state = qp.get("kind") or None, qp.get("state") or "planned"
    late = {"1": True, "0": False}.get(qp.get("late") or "")
    try:
        offset = max(int(qp.get("offset") or 0), 0)
    except ValueError:
        offset = 0
    with UnitOfWork(p.actor, readonly=True) as uow:
        runs = list(uow.session.scalars(select(MrpRun).where(MrpRun.company_id == uow.company_id)
                                        .order_by(MrpRun.id.desc()).limit(10)))
        orders, total = svc.list_planned_orders(uow, kind=kind, state=state if state != "all" else None, late=late,
                                                limit=PAGE_SIZE, offset=offset)
        skus = svc.product_labels(uow, [o.product_id for o in orders])
    return render(p, "erp/planning/index.html", runs=runs, orders=orders, total=total, skus=skus, kind=kind,
                  state=state, late=qp.get("late") or "", offset=offset, page_size=PAGE_SIZE,
                  kind_labels=svc.KIND_LABELS, state_labels=svc.STATE_LABELS)


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

    def work():
        with UnitOfWork(p.actor) as uow:
            if action == "firm":
                return svc.firm_planned_order(uow, order_id, supplier=form.get("supplier") or None).number
            svc.cancel_planned_order(uow, order_id)
            return ""
    try:
        number = await run_in_threadpool(work)
    except DomainError as exc:
        return redirect(f"/erp/planning/orders/{order_id}", exc.message, "error")
    return redirect(f"/erp/planning/orders/{order_id}", number or None)
