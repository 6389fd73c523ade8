"""Work-order pages under /mes/work-orders: list (search, filters, pagination, XLSX/CSV export), new order by
hand or from a sales order (make to order), one order with its materials, operations (with their scan
barcodes), completions and scan log, the actions of its workflow, and the printable traveller (生产流转卡).
Thin: the `mes.work_orders` service in one unit of work; errors come back as the page's banner."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render
from opensupply.web.barcodes import code128
from opensupply.web.pdf import pdf_response, render_pdf

from . import terminal
from . import work_orders as wos

router = APIRouter(prefix="/mes", include_in_schema=False)
READ = Depends(page_permission("mes.read"))
WRITE = Depends(page_permission("mes.write"))
PAGE_SIZE = 50


def _int(value) -> int | None:
    return int(value) if str(value or "").isdigit() else None


@router.get("/work-orders")
def work_orders_page(request: Request, p: Page = READ):
    qp = request.query_params
    offset = _int(qp.get("offset")) or 0
    filters = {k: qp.get(k) or "" for k in ("q", "state", "kind")}
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = wos.list_work_orders(uow, q=filters["q"] or None, state=filters["state"] or None,
                                           kind=filters["kind"] or None, product_id=_int(qp.get("product_id")),
                                           open_only=qp.get("open") == "1", limit=PAGE_SIZE, offset=offset)
        items = [wos.work_order_to_dict(uow, w, detail=False) for w in rows]
    keep = urllib.parse.urlencode({k: v for k, v in filters.items() if v})
    return render(p, "mes/work_orders.html", title=_("生产工单"), items=items, total=total, offset=offset,
                  limit=PAGE_SIZE, filters=filters, keep=keep, can_write=p.actor.can("mes.write"),
                  states=[(k, _(v)) for k, v in wos.STATE_LABELS.items()],
                  kinds=[(k, _(v)) for k, v in wos.KIND_LABELS.items()])


@router.get("/work-orders/export")
def work_orders_export(q: str | None = None, state: str | None = None, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = wos.export_rows(uow, q=q or None, state=state or None)
    if format == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="work-orders.csv"'})
    return Response(write_xlsx(header, rows, _("生产工单")),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="work-orders.xlsx"'})


def _form_context(uow: UnitOfWork) -> dict:
    from opensupply.masterdata.models import Bom

    products = uow.session.execute(
        select(md.Product.id, md.Product.sku, md.Product.name).join(Bom, Bom.product_id == md.Product.id)
        .where(md.Product.company_id == uow.company_id, md.Product.active.is_(True), Bom.state == "released")
        .order_by(md.Product.sku)).all()
    warehouses = uow.session.execute(select(md.Warehouse.id, md.Warehouse.name).where(
        md.Warehouse.company_id == uow.company_id, md.Warehouse.active.is_(True)).order_by(md.Warehouse.code)).all()
    return {"products": products, "warehouses": warehouses,
            "kinds": [(k, _(v)) for k, v in wos.KIND_LABELS.items()]}


def _new_page(p: Page, *, values: dict | None = None, error: str | None = None, field: str | None = None,
              status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        ctx = _form_context(uow)
    return render(p, "mes/work_order_form.html", status_code=status, title=_("新建生产工单"), values=values or {},
                  error=error, error_field=field, **ctx)


@router.get("/work-orders/new")
def new_work_order_page(p: Page = WRITE):
    return _new_page(p, values={"kind": "normal", "consumption": "backflush"})


@router.post("/work-orders/new")
async def create_work_order(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in ("product", "quantity", "kind", "due_date", "warehouse_id",
                                                         "lot_name", "priority", "notes", "consumption")}
    try:
        due = dt.date.fromisoformat(values["due_date"]) if values["due_date"] else None
    except ValueError:
        return _new_page(p, values=values, error=_("交期格式不正确"), field="due_date", status=422)
    try:
        with UnitOfWork(p.actor) as uow:
            wo = wos.create_work_order(uow, product=values["product"], quantity=values["quantity"] or None,
                                       kind=values["kind"] or "normal", due_date=due,
                                       warehouse_id=_int(values["warehouse_id"]), lot_name=values["lot_name"] or None,
                                       priority=_int(values["priority"]) or 0, notes=values["notes"] or None,
                                       consumption=values["consumption"] or None)
            if form.get("release"):
                wos.release_work_order(uow, wo.id)
            wo_id, number = wo.id, wo.number
    except DomainError as exc:
        return _new_page(p, values=values, error=exc.message, field=exc.field, status=exc.status)
    return redirect(f"/mes/work-orders/{wo_id}", _("工单 {n} 已创建", n=number))


@router.post("/work-orders/from-sales-order")
async def from_sales_order(request: Request, p: Page = WRITE):
    from opensupply.erp.sales import service as sales

    form = await request.form()
    number = (form.get("sales_order") or "").strip()
    try:
        if not number:
            raise ValidationFailed(_("请输入销售订单号"), field="sales_order")
        with UnitOfWork(p.actor) as uow:
            created = wos.create_from_sales_order(uow, sales.order_id_by_number(uow, number))
            numbers = [w.number for w in created]
    except DomainError as exc:
        return redirect("/mes/work-orders", exc.message, kind="error")
    return redirect(f"/mes/work-orders?q={urllib.parse.quote(number)}",
                    _("已按销售订单 {so} 生成工单：{n}", so=number, n="、".join(numbers)))


def _detail(uow: UnitOfWork, wo_id: int) -> dict:
    wo = wos.get_work_order(uow, wo_id)
    d = wos.work_order_to_dict(uow, wo)
    for op in d["operations"]:
        op["state_label"] = terminal.op_state_label(op["state"])
    wh = uow.get(md.Warehouse, wo.warehouse_id)
    d["warehouse"] = wh.name
    logs = terminal.operation_log(uow, wo.id)
    users = _usernames(uow, {row.user_id for row in logs})
    seqs = {op["id"]: op["sequence"] for op in d["operations"]}
    d["log"] = [{"at": row.at, "event": row.event, "sequence": seqs.get(row.operation_id),
                 "user": users.get(row.user_id), "qty_good": wos._fmt(row.qty_good),
                 "qty_scrap": wos._fmt(row.qty_scrap), "reason": row.reason,
                 "labour_minutes": wos._fmt(row.labour_minutes)} for row in logs]
    return d


def _usernames(uow: UnitOfWork, ids: set) -> dict:
    from opensupply.core.auth import User

    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(uow.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


EVENT_LABELS = {"start": "开工", "pause": "暂停", "resume": "恢复", "report": "报数", "finish": "完工"}


@router.get("/work-orders/{wo_id}")
def work_order_page(wo_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        d = _detail(uow, wo_id)
        if d["bom_id"]:
            from opensupply.masterdata import boms

            d["bom_state"] = boms.get_bom(uow, d["bom_id"]).state  # an open order on a superseded version
        checks = _quality(uow, wo_id)
    return render(p, "mes/work_order_detail.html", title=d["number"], wo=d, can_write=p.actor.can("mes.write"),
                  can_quality=p.actor.can("mes.quality"), event_labels={k: _(v) for k, v in EVENT_LABELS.items()},
                  checks=checks)


def _quality(uow: UnitOfWork, wo_id: int) -> list:
    try:
        from opensupply.mes import quality
    except ImportError:
        return []
    fn = getattr(quality, "checks_for_work_order", None)
    return fn(uow, wo_id) if fn else []


ACTIONS = {
    "release": (wos.release_work_order, "工单已下达，物料已预留"),
    "reserve": (wos.reserve_materials, "已重新预留缺料"),
    "issue": (wos.issue_materials, "物料已领到线边"),
    "close": (wos.close_work_order, "工单已关闭"),
}


@router.post("/work-orders/{wo_id}/complete")
async def complete_page(wo_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            c = wos.complete_work_order(uow, wo_id, (form.get("qty_good") or "").strip() or None,
                                        qty_scrap=(form.get("qty_scrap") or "").strip() or 0,
                                        lot=(form.get("lot") or "").strip() or None,
                                        close=True if form.get("close") else None,
                                        client_key=(form.get("client_key") or "").strip() or None)
            number = c.number
    except DomainError as exc:
        return redirect(f"/mes/work-orders/{wo_id}", exc.message, kind="error")
    return redirect(f"/mes/work-orders/{wo_id}", _("完工入库 {n} 已过账", n=number))


@router.post("/work-orders/{wo_id}/cancel")
async def cancel_page(wo_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            wos.cancel_work_order(uow, wo_id, (form.get("reason") or "").strip() or None)
    except DomainError as exc:
        return redirect(f"/mes/work-orders/{wo_id}", exc.message, kind="error")
    return redirect(f"/mes/work-orders/{wo_id}", _("工单已取消"))


@router.post("/work-orders/{wo_id}/{action}")
def work_order_action(wo_id: int, action: str, p: Page = WRITE):
    if action not in ACTIONS:
        return redirect(f"/mes/work-orders/{wo_id}", _("未知操作"), kind="error")
    fn, message = ACTIONS[action]
    try:
        with UnitOfWork(p.actor) as uow:
            fn(uow, wo_id)
    except DomainError as exc:
        return redirect(f"/mes/work-orders/{wo_id}", exc.message, kind="error")
    return redirect(f"/mes/work-orders/{wo_id}", _(message))


@router.get("/work-orders/{wo_id}/traveller.pdf")
def traveller_pdf(wo_id: int, p: Page = READ):
    """生产流转卡: the paper that travels with the batch — header, materials, and one Code128 per operation
    for the scan terminal."""
    with UnitOfWork(p.actor, readonly=True) as uow:
        d = _detail(uow, wo_id)
        company = uow.session.get(md.Company, uow.company_id)
    barcodes = {op["id"]: code128(op["barcode"], height_mm=9, module_mm=0.28) for op in d["operations"]}
    pdf = render_pdf("mes/work_order_traveller.html", wo=d, company=company, barcodes=barcodes,
                     wo_barcode=code128(d["number"], height_mm=10))
    return pdf_response(pdf, f"{d['number']}.pdf")
