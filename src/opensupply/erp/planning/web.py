"""Pages of production planning under /erp/planning: run MRP and see the run history (the page refreshes itself
while a run is going), the planned orders with search and filters (kind, state, late), pagination, XLSX/CSV
export and firming the selected ones at once, one planned order's pegging with firm / cancel buttons and the
documents it became (RFQ, purchase order, work order); the planning policies (计划参数) with a one-row form,
delete, XLSX/CSV export and import with preview (`policy_io`)."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.resource import ImportRejected
from opensupply.core.resource_api import read_upload
from opensupply.core.tabular import Table, read_table, table_response
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.web import redirect, render
from opensupply.web.resource_pages import drop_upload, stash_upload, take_upload

from . import policy_io
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


# ------------------------------------------------------------------ planning policies
@router.get("/planning/policies")
def policies_page(request: Request, p: Page = READ):
    qp = request.query_params
    q = (qp.get("q") or "").strip()
    offset = int(qp.get("offset")) if (qp.get("offset") or "").isdigit() else 0
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, total = policy_io.policy_rows(uow, q=q or None, limit=PAGE_SIZE, offset=offset)
    keep = urllib.parse.urlencode({"q": q} if q else {})
    return render(p, "erp/planning/policies.html", title=_("计划参数"), items=items, total=total, q=q, keep=keep,
                  offset=offset, limit=PAGE_SIZE, lot_rules=policy_io.LOT_RULE_LABELS,
                  make_or_buy=policy_io.MAKE_OR_BUY_LABELS, can_write=p.actor.can("erp.planning_run"))


@router.post("/planning/policies")
async def policy_save(request: Request, p: Page = RUN):
    """The one-policy form: a row of the import file typed in (same parsing, same checks)."""
    form = await request.form()
    record = {name: str(form.get(name) or "") for _label, name, _kind in policy_io.COLUMNS}
    table = Table(list(record), [list(record.values())])
    try:
        with UnitOfWork(p.actor) as uow:
            report = policy_io.import_policies(uow, table)
    except ImportRejected as exc:
        return redirect("/erp/planning/policies", exc.report.errors[0]["reason"], "error")
    except DomainError as exc:
        return redirect("/erp/planning/policies", exc.message, "error")
    return redirect(f"/erp/planning/policies?q={urllib.parse.quote(record['sku'])}",
                    _("已保存 {sku} 的计划参数", sku=report.preview[0]["key"]))


@router.post("/planning/policies/{policy_id}/delete")
async def policy_delete(policy_id: int, p: Page = RUN):
    try:
        with UnitOfWork(p.actor) as uow:
            svc.delete_policy(uow, policy_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect("/erp/planning/policies", exc.message, "error")
    return redirect("/erp/planning/policies", _("已删除计划参数，该商品按默认参数计划"))


@router.get("/planning/policies/export")
def policies_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = policy_io.export_table(uow, (request.query_params.get("q") or "").strip() or None)
    return table_response(header, rows, "csv" if format == "csv" else "xlsx", "planning-policies")


@router.get("/planning/policies/import/template")
def policies_template(p: Page = RUN):
    return table_response(policy_io.header(), [], "csv", "planning-policies-template")


def _import_page(p: Page, status: int = 200, **ctx):
    return render(p, "crud/import.html", status_code=status, res={"label": _("计划参数")},
                  base="/erp/planning/policies", columns=[{"label": h} for h in policy_io.header()],
                  key_label=policy_io.header()[0], **ctx)


@router.get("/planning/policies/import")
def policies_import_page(p: Page = RUN):
    return _import_page(p)


@router.post("/planning/policies/import")
async def policies_import(request: Request, p: Page = RUN):
    form = await request.form()
    token = str(form.get("token") or "")
    try:
        if token:  # confirm the previewed upload
            name, data = take_upload(token)
        else:
            upload = form.get("file")
            if not hasattr(upload, "filename"):
                raise DomainError(_("请选择文件"), field="file")
            name, data = read_upload(upload)
        table = read_table(name, data)
        with UnitOfWork(p.actor) as uow:
            report = policy_io.import_policies(uow, table, dry_run=not token)
    except ImportRejected as exc:
        return _import_page(p, 422, error=exc.message, errors=exc.report.errors)
    except DomainError as exc:
        return _import_page(p, 422, error=exc.message)
    if token:
        drop_upload(token)
        return redirect("/erp/planning/policies", _("导入完成：新建 {c} 条，更新 {u} 条，不变 {n} 条",
                                                   c=report.created, u=report.updated, n=report.unchanged))
    return _import_page(p, preview=report, upload_token=stash_upload(name, data))
