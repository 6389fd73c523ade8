"""WMS inbound-side pages under /wms/: the PDA shell (/wms/pda) and its scanning flows
(receive, putaway, move, count), receipts and putaway tasks, replenishment, cycle counts and
the in/out reports. Thin: they call the services in inbound.py, putaway.py, internal.py,
counts.py and reports.py."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.tabular import table_response
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing.models import PurchaseOrder
from opensupply.inventory.service import fmt_qty
from opensupply.masterdata import models as md
from opensupply.web import env, redirect, render, script_json

from . import counts as cc
from . import inbound, internal, pda
from . import putaway as pw
from .models import WmsCount, WmsTask

router = APIRouter(prefix="/wms", include_in_schema=False)
READ = Depends(page_permission("wms.read"))
WRITE = Depends(page_permission("wms.write"))
APPROVE = Depends(page_permission("wms.approve"))
STATIC = Path(__file__).resolve().parent / "static"


# ------------------------------------------------------------------ PDA shell
@router.get("/pda/pda.js")
def pda_js(p: Page = WRITE):
    return Response((STATIC / "pda.js").read_bytes(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})


def _warehouses(uow: UnitOfWork) -> list[md.Warehouse]:
    return list(uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id)
                                    .order_by(md.Warehouse.id)))


def _open_tasks(uow: UnitOfWork, warehouse_id: int | None) -> dict[str, int]:
    stmt = (select(WmsTask.kind, func.count()).where(WmsTask.company_id == uow.company_id,
                                                     WmsTask.state.in_(("open", "assigned")))
            .group_by(WmsTask.kind))
    if warehouse_id:
        stmt = stmt.where(WmsTask.warehouse_id == warehouse_id)
    return dict(uow.session.execute(stmt).all())


@router.get("/pda")
def pda_home(request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        warehouses = _warehouses(uow)
        wanted = request.query_params.get("warehouse")
        warehouse_id = int(wanted) if wanted and wanted.isdigit() else (warehouses[0].id if warehouses else None)
        counts = _open_tasks(uow, warehouse_id)
        counts["receive"] = uow.session.scalar(select(func.count()).select_from(PurchaseOrder).where(
            PurchaseOrder.company_id == uow.company_id, PurchaseOrder.state == "confirmed"))
        counts["count"] = uow.session.scalar(select(func.count()).select_from(WmsCount).where(
            WmsCount.company_id == uow.company_id, WmsCount.state == "open",
            *([WmsCount.warehouse_id == warehouse_id] if warehouse_id else [])))
    q = f"?warehouse={warehouse_id}" if warehouse_id else ""
    flows = [
        {"code": "receive", "label": _("收货"), "url": f"/wms/pda/receive{q}", "count": counts["receive"]},
        {"code": "qc", "label": _("质检"), "url": f"/wms/pda/qc{q}", "count": None},
        {"code": "putaway", "label": _("上架"), "url": f"/wms/pda/putaway{q}", "count": counts.get("putaway", 0)},
        {"code": "pick", "label": _("拣货"), "url": f"/wms/pda/pick{q}", "count": counts.get("pick", 0)},
        {"code": "pack", "label": _("打包"), "url": f"/wms/pack{q}", "count": None},
        {"code": "move", "label": _("移库"), "url": f"/wms/pda/move{q}", "count": None},
        {"code": "replenish", "label": _("补货"), "url": f"/wms/pda/replenish{q}",
         "count": counts.get("replenish", 0)},
        {"code": "count", "label": _("盘点"), "url": f"/wms/pda/count{q}", "count": counts.get("count", 0)},
    ]
    return render(p, "wms/pda_home.html", title=_("PDA 扫描"), flows=flows, warehouses=warehouses,
                  warehouse_id=warehouse_id)


# ------------------------------------------------------------------ PDA flow helpers
def _wh(uow: UnitOfWork, request: Request, form: dict | None = None) -> int | None:
    raw = (form or {}).get("warehouse") or request.query_params.get("warehouse")
    if raw and str(raw).isdigit():
        return uow.get(md.Warehouse, int(raw)).id
    return uow.session.scalar(select(md.Warehouse.id).where(md.Warehouse.company_id == uow.company_id,
                                                            md.Warehouse.active.is_(True)).order_by(md.Warehouse.id))


def _partial(name: str, **ctx) -> str:
    return env.get_template(name).render(_=_, fmt=fmt_qty, **ctx)


def _task_rows(uow: UnitOfWork, tasks: list[WmsTask]) -> list[dict]:
    locs = {i for t in tasks for i in (t.source_location_id, t.dest_location_id) if i}
    codes = dict(uow.session.execute(select(md.Location.id, md.Location.code).where(
        md.Location.id.in_(locs))).all()) if locs else {}
    pids = {t.product_id for t in tasks}
    prods = {p.id: p for p in uow.session.scalars(select(md.Product).where(md.Product.id.in_(pids)))} if pids else {}
    lots = {t.lot_id for t in tasks if t.lot_id}
    from opensupply.inventory.models import StockLot

    lot_names = dict(uow.session.execute(select(StockLot.id, StockLot.name).where(StockLot.id.in_(lots))).all()) \
        if lots else {}
    return [{"id": t.id, "kind": t.kind, "state": t.state, "sku": prods[t.product_id].sku,
             "name": prods[t.product_id].name, "barcode": prods[t.product_id].barcode,
             "lot": lot_names.get(t.lot_id), "quantity": t.quantity, "qty_done": t.qty_done,
             "left": Decimal(t.quantity) - Decimal(t.qty_done or 0), "source": codes.get(t.source_location_id, ""),
             "dest": codes.get(t.dest_location_id, ""), "reference": t.reference or "", "note": t.note or "",
             "done_at": t.done_at} for t in tasks]


async def _scan_reply(request: Request, p: Page, flow: str, code: str, handle, *, page_fn, task_id=None,
                      note=None, form=None, after=None):
    """Run a PDA scan and answer JSON to the script, or the page with its banner to a plain form post.
    `after()` (run once the scan is committed, for the script only) adds e.g. the refreshed list."""
    form = form if form is not None else await pda.form_data(request)
    result = await run_in_threadpool(pda.run_scan, p.actor, form.get("client_scan_id"), flow, code, handle,
                                     task_id=task_id, note=note)
    if pda.wants_json(request):
        if result.get("ok") and after is not None:
            result = {**result, **await run_in_threadpool(after)}
        return pda.reply(result)
    if result.get("ok") and result.get("next"):
        return redirect(result["next"])
    return await run_in_threadpool(page_fn, result)


# ------------------------------------------------------------------ PDA: receive
def _receive_start(p: Page, request: Request, banner=None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        open_pos = list(uow.session.scalars(select(PurchaseOrder).where(
            PurchaseOrder.company_id == uow.company_id, PurchaseOrder.state == "confirmed")
            .order_by(PurchaseOrder.expected_date, PurchaseOrder.id).limit(20)))
    return render(p, "wms/pda_receive.html", status_code=status, title=_("收货"), warehouse_id=wh,
                  orders=[{"id": o.id, "number": o.number} for o in open_pos], banner=banner)


@router.get("/pda/receive")
def pda_receive(request: Request, p: Page = WRITE):
    return _receive_start(p, request)


@router.post("/pda/receive")
async def pda_receive_scan_po(request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def find():
        with UnitOfWork(p.actor, readonly=True) as uow:
            po = inbound.find_order(uow, form.get("po"))
            return pda.ok(_("采购单 {number}：请扫描商品", number=po.number),
                          next=f"/wms/pda/receive/{po.id}?warehouse={_wh(uow, request, form) or ''}")

    try:
        result = await run_in_threadpool(find)
    except DomainError as exc:
        result = pda.refused(exc)
    if pda.wants_json(request):
        return pda.reply(result)
    if result["ok"]:
        return redirect(result["next"])
    return _receive_start(p, request, banner=result, status=422)


def _receive_lines(uow: UnitOfWork, po: PurchaseOrder) -> dict:
    return {"po": {"id": po.id, "number": po.number}, "lines": inbound.order_lines(uow, po),
            "drafts": inbound.draft_lines(uow, po.id)}


def _receive_order_page(p: Page, request: Request, po_id: int, banner=None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        po = uow.get(PurchaseOrder, po_id)
        ctx = _receive_lines(uow, po)
        wh = _wh(uow, request)
    return render(p, "wms/pda_receive_order.html", status_code=200 if not banner or banner.get("ok") else 422,
                  title=_("收货 {number}", number=po.number), warehouse_id=wh, banner=banner, fmt=fmt_qty, **ctx)


@router.get("/pda/receive/{po_id}")
def pda_receive_order(po_id: int, request: Request, p: Page = WRITE):
    return _receive_order_page(p, request, po_id)


@router.post("/pda/receive/{po_id}/scan")
async def pda_receive_scan_item(po_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)
    code = form.get("item", "")

    def handle(uow):
        return {**inbound.scan_receive_line(uow, po_id, code, form.get("qty") or "1", lot=form.get("lot"),
                                            qc=bool(form.get("qc"))), "focus": "item"}

    def lines():
        with UnitOfWork(p.actor, readonly=True) as uow:
            ctx = _receive_lines(uow, uow.get(PurchaseOrder, po_id))
            return {"html": _partial("wms/pda_receive_lines.html", **ctx)}

    return await _scan_reply(request, p, "receive", code, handle, form=form, note=inbound._draft_key(po_id),
                             after=lines, page_fn=lambda r: _receive_order_page(p, request, po_id, banner=r))


@router.post("/pda/receive/{po_id}/complete")
async def pda_receive_complete(po_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def handle(uow):
        wh = _wh(uow, request, form)
        result = inbound.complete_receipt(uow, po_id, wh)
        numbers = ", ".join(r.number for r in result.receipts)
        msg = _("已收货 {numbers}，生成 {n} 个上架任务", numbers=numbers, n=len(result.tasks))
        ref = result.receipts[0].number if result.receipts else ""
        return pda.ok(msg, next=f"/wms/pda/putaway?warehouse={wh}&ref={ref}")

    return await _scan_reply(request, p, "receive", f"complete:{po_id}", handle, form=form,
                             page_fn=lambda r: _receive_order_page(p, request, po_id, banner=r))


@router.post("/pda/receive/{po_id}/void/{scan_id}")
async def pda_receive_void(po_id: int, scan_id: int, request: Request, p: Page = WRITE):
    def run():
        with UnitOfWork(p.actor) as uow:
            inbound.void_draft_line(uow, po_id, scan_id)

    try:
        await run_in_threadpool(run)
        wh = request.query_params.get("warehouse", "")
        result = pda.ok(_("已撤销该行"), next=f"/wms/pda/receive/{po_id}?warehouse={wh}")
    except DomainError as exc:
        result = pda.refused(exc)
    if pda.wants_json(request):
        return pda.reply(result)
    return redirect(f"/wms/pda/receive/{po_id}")


# ------------------------------------------------------------------ PDA: QC release
def _qc_page(p: Page, request: Request, banner=None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        holds = inbound.qc_holds(uow, wh) if wh else []
    return render(p, "wms/pda_receive_qc.html", status_code=200 if not banner or banner.get("ok") else 422,
                  title=_("质检放行"), warehouse_id=wh, holds=holds, banner=banner, fmt=fmt_qty)


@router.get("/pda/qc")
def pda_qc(request: Request, p: Page = WRITE):
    return _qc_page(p, request)


@router.post("/pda/qc")
async def pda_qc_release(request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def handle(uow):
        wh = _wh(uow, request, form)
        lot_id = int(form["lot_id"]) if (form.get("lot_id") or "").isdigit() else None
        product = pda.scan_product(uow, form.get("item"))
        out = inbound.release_qc(uow, wh, product.id, form.get("qty"), passed=form.get("decision") == "pass",
                                 lot_id=lot_id, reason=form.get("reason"), disposal=form.get("disposal") or "scrap")
        msg = (_("{sku} 质检合格，已生成上架任务", sku=product.sku) if out["passed"]
               else _("{sku} 质检不合格，已处理", sku=product.sku))
        return pda.ok(msg, next=f"/wms/pda/qc?warehouse={wh}")

    return await _scan_reply(request, p, "receive", form.get("item", ""), handle, form=form,
                             page_fn=lambda r: _qc_page(p, request, banner=r))


# ------------------------------------------------------------------ PDA: putaway
def _putaway_list(p: Page, request: Request, banner=None):
    ref = request.query_params.get("ref") or None
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        tasks = pw.open_putaways(uow, wh)
        if ref:
            tasks = [t for t in tasks if t.reference == ref] or tasks
        rows = _task_rows(uow, tasks)
    return render(p, "wms/pda_putaway.html", title=_("上架"), warehouse_id=wh, tasks=rows, ref=ref, banner=banner,
                  fmt=fmt_qty)


@router.get("/pda/putaway")
def pda_putaway(request: Request, p: Page = WRITE):
    return _putaway_list(p, request)


@router.post("/pda/putaway")
async def pda_putaway_find(request: Request, p: Page = WRITE):
    """Scan an item at the dock: open its (first) putaway task."""
    form = await pda.form_data(request)

    def find():
        with UnitOfWork(p.actor, readonly=True) as uow:
            product = pda.scan_product(uow, form.get("item"))
            wh = _wh(uow, request, form)
            task = next((t for t in pw.open_putaways(uow, wh) if t.product_id == product.id), None)
            if task is None:
                return pda.refused(DomainError(_("商品 {sku} 没有待上架任务", sku=product.sku), field="item"))
            return pda.ok(_("请将 {sku} 上架", sku=product.sku), next=f"/wms/pda/putaway/{task.id}?warehouse={wh}")

    try:
        result = await run_in_threadpool(find)
    except DomainError as exc:
        result = pda.refused(exc)
    if pda.wants_json(request):
        return pda.reply(result)
    return redirect(result["next"]) if result["ok"] else _putaway_list(p, request, banner=result)


def _putaway_task_page(p: Page, request: Request, task_id: int, banner=None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        task = uow.get(WmsTask, task_id)
        row = _task_rows(uow, [task])[0]
        plan = []
        if task.state in ("open", "assigned"):
            plan = pw.suggest_for(uow, task.warehouse_id, task.product_id, row["left"]) if not row["dest"] else []
    return render(p, "wms/pda_putaway_task.html", status_code=200 if not banner or banner.get("ok") else 422,
                  title=_("上架 {sku}", sku=row["sku"]), t=row, plan=plan, warehouse_id=task.warehouse_id,
                  banner=banner, fmt=fmt_qty)


@router.get("/pda/putaway/{task_id}")
def pda_putaway_task(task_id: int, request: Request, p: Page = WRITE):
    return _putaway_task_page(p, request, task_id)


@router.post("/pda/putaway/{task_id}")
async def pda_putaway_confirm(task_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)
    code = form.get("bin", "")

    def handle(uow):
        r = pw.confirm_putaway(uow, task_id, code, pda.scan_qty(form.get("qty"), default=None) if form.get("qty")
                               else None, item_code=form.get("item") or None)
        msg = r.warning or _("已上架 {qty} 件到 {bin}", qty=fmt_qty(r.quantity), bin=r.bin_code)
        nxt = f"/wms/pda/putaway?warehouse={r.task.warehouse_id}&ref={r.task.reference or ''}" \
            if r.task.state == "done" else f"/wms/pda/putaway/{task_id}"
        return pda.ok(msg, next=nxt, warning=r.warning, task_id=task_id, state=r.task.state)

    return await _scan_reply(request, p, "putaway", code, handle, form=form, task_id=task_id,
                             page_fn=lambda r: _putaway_task_page(p, request, task_id, banner=r))


# ------------------------------------------------------------------ PDA: move
def _move_page(p: Page, request: Request, banner=None, values=None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        warehouses = list(uow.session.scalars(select(md.Warehouse).where(
            md.Warehouse.company_id == uow.company_id, md.Warehouse.active.is_(True)).order_by(md.Warehouse.id)))
    return render(p, "wms/pda_move.html", status_code=200 if not banner or banner.get("ok") else 422,
                  title=_("移库"), warehouse_id=wh, warehouses=warehouses, banner=banner, values=values or {})


@router.get("/pda/move")
def pda_move(request: Request, p: Page = WRITE):
    return _move_page(p, request)


@router.post("/pda/move")
async def pda_move_scan(request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def handle(uow):
        wh = _wh(uow, request, form)
        to_wh = int(form["to_warehouse"]) if (form.get("to_warehouse") or "").isdigit() else None
        t = internal.move_stock(uow, wh, form.get("from_bin", ""), form.get("item", ""), form.get("qty") or "",
                                form.get("to_bin", ""), lot=form.get("lot"),
                                to_warehouse_id=to_wh if to_wh and to_wh != wh else None)
        return pda.ok(_("{ref}：{qty} 件已移动", ref=t.reference, qty=fmt_qty(t.quantity)), task_id=t.id,
                      focus="item")

    return await _scan_reply(request, p, "move", form.get("item", ""), handle, form=form,
                             page_fn=lambda r: _move_page(p, request, banner=r, values=form))


# ------------------------------------------------------------------ PDA: replenishment
def _replenish_page(p: Page, request: Request, task_id: int | None = None, banner=None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        if task_id:
            task = uow.get(WmsTask, task_id)
            rows = _task_rows(uow, [task])
        else:
            rows = _task_rows(uow, internal.open_tasks(uow, wh, "replenish"))
    return render(p, "wms/pda_move_replenish.html", status_code=200 if not banner or banner.get("ok") else 422,
                  title=_("补货"), warehouse_id=wh, tasks=rows, task=rows[0] if task_id else None, banner=banner,
                  fmt=fmt_qty)


@router.get("/pda/replenish")
def pda_replenish(request: Request, p: Page = WRITE):
    return _replenish_page(p, request)


@router.get("/pda/replenish/{task_id}")
def pda_replenish_task(task_id: int, request: Request, p: Page = WRITE):
    return _replenish_page(p, request, task_id)


@router.post("/pda/replenish/{task_id}")
async def pda_replenish_confirm(task_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def handle(uow):
        t = internal.confirm_replenishment(uow, task_id, from_bin=form.get("from_bin") or None,
                                           item=form.get("item") or None, quantity=form.get("qty") or None,
                                           to_bin=form.get("to_bin") or None)
        nxt = f"/wms/pda/replenish?warehouse={t.warehouse_id}" if t.state == "done" else \
            f"/wms/pda/replenish/{task_id}"
        return pda.ok(_("补货完成：{qty} 件", qty=fmt_qty(t.qty_done)), next=nxt, task_id=t.id)

    return await _scan_reply(request, p, "move", form.get("to_bin") or form.get("from_bin") or "", handle,
                             form=form, task_id=task_id,
                             page_fn=lambda r: _replenish_page(p, request, task_id, banner=r))


# ------------------------------------------------------------------ PDA: count
def _count_page(p: Page, request: Request, count_id: int | None = None, banner=None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        if count_id is None:
            rows, _total = cc.list_counts(uow, state="open", warehouse_id=wh, limit=50)
            return render(p, "wms/pda_count.html", title=_("盘点"), warehouse_id=wh, counts=rows, banner=banner)
        count = uow.get(WmsCount, count_id)
        lines = cc.variances(uow, count)
    return render(p, "wms/pda_count_sheet.html", status_code=200 if not banner or banner.get("ok") else 422,
                  title=_("盘点 {number}", number=count.number), c=count, lines=lines, warehouse_id=count.warehouse_id,
                  blind=count.blind, banner=banner, fmt=fmt_qty)


@router.get("/pda/count")
def pda_count(request: Request, p: Page = WRITE):
    return _count_page(p, request)


@router.get("/pda/count/{count_id}")
def pda_count_sheet(count_id: int, request: Request, p: Page = WRITE):
    return _count_page(p, request, count_id)


@router.post("/pda/count/{count_id}")
async def pda_count_entry(count_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def handle(uow):
        ln = cc.enter_count(uow, count_id, form.get("bin", ""), form.get("item", ""), form.get("qty", ""),
                            lot=form.get("lot"))
        return pda.ok(_("已记录 {qty}", qty=fmt_qty(ln.counted_qty)), focus="item")

    def lines():
        with UnitOfWork(p.actor, readonly=True) as uow:
            count = uow.get(WmsCount, count_id)
            return {"html": _partial("wms/pda_count_lines.html", lines=cc.variances(uow, count), blind=count.blind)}

    return await _scan_reply(request, p, "count", form.get("item", ""), handle, form=form, after=lines,
                             page_fn=lambda r: _count_page(p, request, count_id, banner=r))


# ------------------------------------------------------------------ desktop pages
PAGE_SIZE = 50


def _export(fmt: str, name: str, header: list[str], rows: list[list]) -> Response:
    return table_response(header, rows, "csv" if fmt == "csv" else "xlsx", name)

def _keep(request: Request, *drop: str) -> str:
    import urllib.parse

    return urllib.parse.urlencode({k: v for k, v in request.query_params.items()
                                   if k not in ("offset", "format", *drop) and v})


def _task_page_data(uow: UnitOfWork, kind: str, request: Request, wh: int | None, limit: int, offset: int):
    qp = request.query_params
    stmt = select(WmsTask).where(WmsTask.company_id == uow.company_id, WmsTask.kind == kind)
    if wh:
        stmt = stmt.where(WmsTask.warehouse_id == wh)
    state = qp.get("state", "open")
    if state == "open":
        stmt = stmt.where(WmsTask.state.in_(("open", "assigned")))
    elif state:
        stmt = stmt.where(WmsTask.state == state)
    if qp.get("q"):
        like = f"%{qp['q'].strip()}%"
        stmt = stmt.where(WmsTask.reference.ilike(like) | WmsTask.product_id.in_(select(md.Product.id).where(
            md.Product.company_id == uow.company_id, md.Product.sku.ilike(like) | md.Product.name.ilike(like))))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(WmsTask.id.desc()).limit(limit).offset(offset)))
    return _task_rows(uow, rows), total


TASK_STATES = {"open": _l("待处理"), "done": _l("已完成"), "short": _l("短拣"), "cancelled": _l("已取消")}


def _task_header() -> list[str]:
    return [_("任务"), _("商品"), _("名称"), _("批次"), _("数量"), _("已完成"), _("来源"), _("目标"), _("单据"),
            _("状态"), _("完成时间")]


def _task_export_rows(rows: list[dict]) -> list[list]:
    return [[r["id"], r["sku"], r["name"], r["lot"] or "", fmt_qty(r["quantity"]), fmt_qty(r["qty_done"]),
             r["source"], r["dest"], r["reference"], str(TASK_STATES.get(r["state"], r["state"])),
             r["done_at"].isoformat() if r["done_at"] else ""] for r in rows]


@router.get("/inbound")
def inbound_page(request: Request, offset: int = 0, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        if request.query_params.get("format"):
            rows, _t = _task_page_data(uow, "putaway", request, wh, 100000, 0)
            return _export(request.query_params["format"], "putaway_tasks", _task_header(), _task_export_rows(rows))
        rows, total = _task_page_data(uow, "putaway", request, wh, PAGE_SIZE, max(0, offset))
        holds = inbound.qc_holds(uow, wh) if wh else []
        orders = list(uow.session.scalars(select(PurchaseOrder).where(
            PurchaseOrder.company_id == uow.company_id, PurchaseOrder.state == "confirmed")
            .order_by(PurchaseOrder.expected_date, PurchaseOrder.id).limit(50)))
        order_rows = [{"id": o.id, "number": o.number, "expected_date": o.expected_date,
                       "lines": inbound.order_lines(uow, o)} for o in orders]
        warehouses = list(uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id)
                                              .order_by(md.Warehouse.id)))
    return render(p, "wms/inbound.html", title=_("收货上架"), tasks=rows, total=total, offset=offset,
                  limit=PAGE_SIZE, keep=_keep(request), filters=request.query_params, holds=holds,
                  orders=order_rows, warehouses=warehouses, warehouse_id=wh, states=TASK_STATES, fmt=fmt_qty,
                  can_write=p.actor.can("wms.write"))


@router.post("/inbound/qc-release")
async def inbound_qc_release(request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def run():
        with UnitOfWork(p.actor) as uow:
            wh = _wh(uow, request, form)
            lot_id = int(form["lot_id"]) if (form.get("lot_id") or "").isdigit() else None
            return inbound.release_qc(uow, wh, int(form["product_id"]), form.get("quantity"),
                                      passed=form.get("decision") == "pass", lot_id=lot_id,
                                      reason=form.get("reason"), disposal=form.get("disposal") or "scrap")

    try:
        out = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/wms/inbound", exc.message, "error")
    return redirect("/wms/inbound", _("质检合格，已生成上架任务") if out["passed"] else _("质检不合格，已处理"))


@router.get("/replenishment")
def replenishment_page(request: Request, offset: int = 0, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        if request.query_params.get("format"):
            rows, _t = _task_page_data(uow, "replenish", request, wh, 100000, 0)
            return _export(request.query_params["format"], "replenish_tasks", _task_header(),
                           _task_export_rows(rows))
        needs = internal.replenishment_needs(uow, wh) if wh else []
        rows, total = _task_page_data(uow, "replenish", request, wh, PAGE_SIZE, max(0, offset))
    return render(p, "wms/replenish.html", title=_("补货"), needs=needs, tasks=rows, total=total, offset=offset,
                  limit=PAGE_SIZE, keep=_keep(request), filters=request.query_params, warehouse_id=wh,
                  states=TASK_STATES, fmt=fmt_qty, can_write=p.actor.can("wms.write"))


@router.post("/replenishment/generate")
async def replenishment_generate(request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def run():
        with UnitOfWork(p.actor) as uow:
            return len(internal.generate_replenishment(uow, _wh(uow, request, form)))

    try:
        n = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/wms/replenishment", exc.message, "error")
    return redirect("/wms/replenishment", _("已生成 {n} 个补货任务", n=n) if n else _("没有需要补货的拣货位"))


@router.post("/replenishment/{task_id}/confirm")
async def replenishment_confirm(task_id: int, p: Page = WRITE):
    def run():
        with UnitOfWork(p.actor) as uow:
            internal.confirm_replenishment(uow, task_id)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/wms/replenishment", exc.message, "error")
    return redirect("/wms/replenishment", _("补货完成"))


@router.post("/inbound/tasks/{task_id}/cancel")
async def task_cancel(task_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)
    back = form.get("next") if (form.get("next") or "").startswith("/wms/") else "/wms/inbound"

    def run():
        with UnitOfWork(p.actor) as uow:
            internal.cancel_task(uow, task_id)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(back, exc.message, "error")
    return redirect(back, _("任务已取消"))


# ------------------------------------------------------------------ counts
@router.get("/counts")
def counts_page(request: Request, offset: int = 0, p: Page = READ):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        limit = 100000 if qp.get("format") else PAGE_SIZE
        rows, total = cc.list_counts(uow, q=qp.get("q"), state=qp.get("state") or None, warehouse_id=wh,
                                     limit=limit, offset=0 if qp.get("format") else max(0, offset))
        items = [{"id": c.id, "number": c.number, "state": c.state, "state_label": cc.state_label(c.state),
                  "blind": c.blind, "abc_class": c.abc_class or "", "reason": c.reason or "",
                  "created_at": c.created_at, **cc.summary(c)} for c in rows]
    if qp.get("format"):
        return _export(qp["format"], "cycle_counts", [_("盘点单"), _("状态"), _("盲盘"), _("ABC"), _("行数"),
                                                      _("已盘"), _("净差异"), _("原因")],
                       [[i["number"], i["state_label"], _("是") if i["blind"] else "", i["abc_class"], i["lines"],
                         i["counted"], fmt_qty(i["net_difference"]), i["reason"]] for i in items])
    return render(p, "wms/counts.html", title=_("循环盘点"), rows=items, total=total, offset=offset, limit=PAGE_SIZE,
                  keep=_keep(request), filters=qp, states=cc.STATE_LABELS, warehouse_id=wh, fmt=fmt_qty,
                  frequency=cc.DEFAULT_FREQUENCY,
                  can_write=p.actor.can("wms.write"))


@router.post("/counts")
async def counts_create(request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def run():
        with UnitOfWork(p.actor) as uow:
            wh = _wh(uow, request, form)
            if form.get("mode") == "abc":
                freq = {}
                for cls in ("A", "B", "C"):
                    raw = (form.get(f"freq_{cls.lower()}") or "").strip()
                    if raw:
                        if not raw.isdigit() or int(raw) < 1:
                            raise ValidationFailed(_("{cls} 类盘点频率须为正整数天数", cls=cls), field=f"freq_{cls}")
                        freq[cls] = int(raw)
                made = cc.schedule_counts(uow, wh, freq, blind=bool(form.get("blind")))
                return None, len(made)
            codes = [c.strip() for c in (form.get("bins") or "").replace("，", ",").replace("\n", ",").split(",")
                     if c.strip()]
            skus = [c.strip() for c in (form.get("skus") or "").replace("，", ",").split(",") if c.strip()]
            pids = [pda.scan_product(uow, sku).id for sku in skus]
            c = cc.create_count(uow, wh, bin_codes=codes or None, product_ids=pids or None,
                                blind=bool(form.get("blind")))
            return c.id, 1

    try:
        count_id, n = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/wms/counts", exc.message, "error")
    if count_id:
        return redirect(f"/wms/counts/{count_id}", _("盘点单已创建"))
    return redirect("/wms/counts", _("已按 ABC 频率生成 {n} 张盘点单", n=n) if n else _("目前没有到期需要盘点的商品"))


def _count_detail(p: Page, count_id: int, error: str | None = None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        c = uow.get(WmsCount, count_id)
        lines = cc.variances(uow, c)
        s = cc.summary(c)
    can_approve = p.actor.can("wms.approve")
    show_book = can_approve or not c.blind or c.state not in ("open", "counted")
    return render(p, "wms/counts_detail.html", status_code=status, title=_("盘点单 {number}", number=c.number), c=c,
                  lines=lines, summary=s, show_book=show_book, can_approve=can_approve,
                  can_write=p.actor.can("wms.write"), state_label=cc.state_label(c.state), error=error, fmt=fmt_qty)


@router.get("/counts/{count_id}")
def count_detail(count_id: int, p: Page = READ):
    return _count_detail(p, count_id)


@router.post("/counts/{count_id}/entries")
async def count_entry_form(count_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def run():
        with UnitOfWork(p.actor) as uow:
            cc.enter_count(uow, count_id, form.get("bin", ""), form.get("item", ""), form.get("qty", ""),
                           lot=form.get("lot"))

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return _count_detail(p, count_id, exc.message, 422)
    return redirect(f"/wms/counts/{count_id}", _("已记录"))


@router.post("/counts/{count_id}/approve")
async def count_approve(count_id: int, request: Request, p: Page = APPROVE):
    form = await pda.form_data(request)

    def run():
        with UnitOfWork(p.actor) as uow:
            return cc.approve_count(uow, count_id, form.get("reason")).adjustment_id

    try:
        adj = await run_in_threadpool(run)
    except DomainError as exc:
        return _count_detail(p, count_id, exc.message, exc.status)
    return redirect(f"/wms/counts/{count_id}", _("已审核，差异已过账") if adj else _("已审核，无差异"))


@router.post("/counts/{count_id}/cancel")
async def count_cancel(count_id: int, p: Page = WRITE):
    def run():
        with UnitOfWork(p.actor) as uow:
            cc.cancel_count(uow, count_id)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return _count_detail(p, count_id, exc.message, exc.status)
    return redirect(f"/wms/counts/{count_id}", _("盘点单已取消"))


# ------------------------------------------------------------------ reports
REPORTS = {"inout": _l("出入库报表"), "ageing": _l("库龄分析"), "utilisation": _l("库位利用率"),
           "productivity": _l("拣货效率")}


def _date(value: str | None):
    import datetime as dt

    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _report_table(uow: UnitOfWork, kind: str, wh: int, qp) -> dict:
    """Header, rows (plain values) and an ECharts option for one report."""
    from . import reports as rp

    if kind == "ageing":
        r = rp.ageing(uow, wh, q=qp.get("q"))
        buckets = [b for b, *_x in rp.AGE_BUCKETS]
        header = [_("商品"), _("名称"), _("在库"), *[_("{b} 天", b=b) for b in buckets], _("最长库龄(天)")]
        rows = [[x["sku"], x["name"], fmt_qty(x["on_hand"]), *[fmt_qty(x[b]) for b in buckets],
                 x["oldest_days"] if x["oldest_days"] is not None else ""] for x in r["rows"]]
        totals = [_("合计"), "", fmt_qty(r["totals"]["on_hand"]), *[fmt_qty(r["totals"][b]) for b in buckets], ""]
        chart = {"tooltip": {}, "xAxis": {"type": "category", "data": [_("{b} 天", b=b) for b in buckets]},
                 "yAxis": {"type": "value"}, "series": [{"type": "bar", "name": _("数量"),
                                                         "data": [float(r["totals"][b]) for b in buckets]}]}
        return {"header": header, "rows": rows, "totals": totals, "chart": chart}
    if kind == "utilisation":
        r = rp.utilisation(uow, wh, zone=qp.get("zone") or None, bin_type=qp.get("bin_type") or None)
        header = [_("库位"), _("区"), _("类型"), _("在库件数"), _("SKU 数"), _("容量(件)"), _("利用率%")]
        rows = [[x["code"], x["zone"], x["bin_type"], fmt_qty(x["units"]), x["skus"],
                 fmt_qty(x["capacity_units"]) if x["capacity_units"] is not None else "",
                 f"{x['pct']:.1f}" if x["pct"] is not None else ""] for x in r["rows"]]
        t = r["totals"]
        totals = [_("合计"), "", "", "", "", _("占用 {o}/{n}", o=t["occupied"], n=t["bins"]),
                  f"{t['occupancy_pct']:.1f}"]
        summary = r["summary"]
        chart = {"tooltip": {}, "legend": {},
                 "xAxis": {"type": "category", "data": [f"{g['zone']} {g['bin_type']}" for g in summary]},
                 "yAxis": {"type": "value", "max": 100},
                 "series": [{"type": "bar", "name": _("占用库位%"),
                             "data": [round(g["occupancy_pct"], 1) for g in summary]},
                            {"type": "bar", "name": _("容量利用%"),
                             "data": [round(g["capacity_pct"], 1) if g["capacity_pct"] is not None else 0
                                      for g in summary]}]}
        return {"header": header, "rows": rows, "totals": totals, "chart": chart}
    if kind == "productivity":
        r = rp.productivity(uow, wh, date_from=_date(qp.get("date_from")), date_to=_date(qp.get("date_to")))
        header = [_("拣货员"), _("拣货行"), _("件数"), _("工作天数"), _("作业小时"), _("每小时行数")]
        rows = [[x["picker"], x["lines"], fmt_qty(x["units"]), x["days"], x["hours"],
                 x["lines_per_hour"] if x["lines_per_hour"] is not None else ""] for x in r["rows"]]
        totals = [_("合计"), r["totals"]["lines"], fmt_qty(r["totals"]["units"]), "", "", ""]
        chart = {"tooltip": {}, "xAxis": {"type": "category", "data": [x["picker"] for x in r["rows"]]},
                 "yAxis": {"type": "value"}, "series": [{"type": "bar", "name": _("每小时行数"),
                                                         "data": [x["lines_per_hour"] or 0 for x in r["rows"]]}]}
        return {"header": header, "rows": rows, "totals": totals, "chart": chart}
    group = qp.get("group") or "day"
    r = rp.inout(uow, wh, group=group, date_from=_date(qp.get("date_from")), date_to=_date(qp.get("date_to")),
                 q=qp.get("q"))
    header = [str(rp.GROUPS[r["group"]]), _("入库"), _("出库"), _("净额"), _("单据行数")]
    rows = [[x["label"], fmt_qty(x["in_qty"]), fmt_qty(x["out_qty"]), fmt_qty(x["net"]), x["moves"]]
            for x in r["rows"]]
    t = r["totals"]
    totals = [_("合计"), fmt_qty(t["in_qty"]), fmt_qty(t["out_qty"]), fmt_qty(t["net"]), t["moves"]]
    top = r["rows"] if r["group"] == "day" else sorted(r["rows"], key=lambda x: -(x["in_qty"] + x["out_qty"]))[:30]
    chart = {"tooltip": {"trigger": "axis"}, "legend": {},
             "xAxis": {"type": "category", "data": [str(x["label"]) for x in top]}, "yAxis": {"type": "value"},
             "series": [{"type": "bar" if r["group"] != "day" else "line", "name": _("入库"),
                         "data": [float(x["in_qty"]) for x in top]},
                        {"type": "bar" if r["group"] != "day" else "line", "name": _("出库"),
                         "data": [float(x["out_qty"]) for x in top]}]}
    return {"header": header, "rows": rows, "totals": totals, "chart": chart, "group": r["group"],
            "date_from": r["date_from"], "date_to": r["date_to"]}


@router.get("/reports")
def reports_page(request: Request, p: Page = READ):

    from . import reports as rp

    qp = request.query_params
    kind = qp.get("report") if qp.get("report") in REPORTS else "inout"
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh = _wh(uow, request)
        data = _report_table(uow, kind, wh, qp) if wh else {"header": [], "rows": [], "totals": [], "chart": {}}
        warehouses = list(uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id)
                                              .order_by(md.Warehouse.id)))
    if qp.get("format") in ("xlsx", "csv"):
        return _export(qp["format"], f"wms_{kind}", data["header"], data["rows"] + [data["totals"]])
    chart_json = script_json(data["chart"])
    return render(p, "wms/reports.html", title=str(REPORTS[kind]), kind=kind, reports=REPORTS, data=data,
                  chart_json=chart_json, filters=qp, keep=_keep(request), groups=rp.GROUPS, warehouses=warehouses,
                  warehouse_id=wh)
