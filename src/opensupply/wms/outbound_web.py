"""WMS outbound pages under /wms/: waves (list with filters and export, build form, detail with the
route drawn over the layout and the saving against S-shape), the PDA pick flow (/wms/pda/pick: scan
bin → scan item/lot → quantity → next stop) and the pack station (/wms/pack: scan a fulfilment, scan
items into cartons, weigh, label, ship). Thin: the services are waves.py, picking.py, packing.py and
labels.py; PDA scans go through `pda.run_scan` (recorded once per client scan id)."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import DEFAULT_TZ
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.oms import fulfilments as oms_ful
from opensupply.web import read_flashes, redirect, render
from opensupply.web.pdf import pdf_response

from . import labels, packing, pda, picking, waves
from .models import WmsWave

router = APIRouter(prefix="/wms", include_in_schema=False)
READ = Depends(page_permission("wms.read"))
WRITE = Depends(page_permission("wms.write"))
PAGE_SIZE = 50
EXPORT_LIMIT = 100000
WAVE_COLUMNS = [("number", _l("波次号")), ("state_label", _l("状态")), ("warehouse", _l("仓库")),
                ("pick_mode_label", _l("拣货方式")), ("carrier", _l("承运商")), ("fulfilments", _l("发货单")),
                ("tasks", _l("拣货任务")), ("tasks_closed", _l("已完成")), ("route_length_m", _l("路线 (m)")),
                ("sshape_length_m", _l("S 型 (m)")), ("saving_pct", _l("节省 %")), ("created_at", _l("创建时间"))]


# ------------------------------------------------------------------ helpers
def _warehouses(uow: UnitOfWork) -> list[md.Warehouse]:
    return list(uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id)
                                    .order_by(md.Warehouse.id)))


def _carriers(uow: UnitOfWork) -> list[md.Partner]:
    return list(uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == uow.company_id, md.Partner.is_carrier.is_(True), md.Partner.active.is_(True))
        .order_by(md.Partner.code).limit(500)))


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _warehouse_id(request: Request, warehouses: list[md.Warehouse]) -> int | None:
    wanted = _int(request.query_params.get("warehouse"))
    ids = [w.id for w in warehouses]
    return wanted if wanted in ids else (ids[0] if ids else None)


def _keep(request: Request) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items()
                                   if k not in ("offset", "format") and v})


def _ready_count(uow: UnitOfWork, warehouse_id: int | None) -> int:
    if not warehouse_id:
        return 0
    return len(oms_ful.ready_fulfilments(uow, warehouse_id, limit=1000))


def _flash_banner(request: Request) -> dict | None:
    """A PDA page shows the last message (a no-JavaScript post redirected here) in its banner."""
    flashes = read_flashes(request)
    return {"ok": flashes[-1].get("kind") != "error", "message": flashes[-1].get("text", "")} if flashes else None


def _scan_reply(request: Request, result: dict, fallback: str):
    """JSON for the PDA script; without JavaScript, back to the page with the banner."""
    if pda.wants_json(request):
        return pda.reply(result)
    target = result.get("next") or fallback
    return redirect(target, result.get("message"), "success" if result.get("ok") else "error")


async def _pdf(p: Page, build, id_: int):
    def run():
        with UnitOfWork(p.actor, readonly=True) as uow:
            return build(uow, id_)

    try:
        data, name = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(p.request.headers.get("referer") or "/wms/waves", exc.message, "error")
    return pdf_response(data, name)


# ------------------------------------------------------------------ waves
def _wave_rows(uow: UnitOfWork, request: Request, limit: int, offset: int) -> tuple[list[dict], int]:
    qp = request.query_params
    rows, total = waves.list_waves(uow, q=qp.get("q") or None, state=qp.get("state") or None,
                                   warehouse_id=_int(qp.get("warehouse_id")), limit=limit, offset=offset)
    counts = waves.wave_counts(uow, [w.id for w in rows])
    return [{**waves.wave_dict(uow, w, counts[w.id]), "url": f"/wms/waves/{w.id}"} for w in rows], total


@router.get("/waves")
def waves_page(request: Request, offset: int = 0, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = _wave_rows(uow, request, PAGE_SIZE, max(0, offset))
        warehouses = _warehouses(uow)
        wid = _warehouse_id(request, warehouses)
        carriers = _carriers(uow)
        ready = _ready_count(uow, wid)
    return render(p, "wms/wave_list.html", title=_("波次"), rows=rows, total=total, offset=max(0, offset),
                  limit=PAGE_SIZE, filters=request.query_params, keep=_keep(request), columns=WAVE_COLUMNS,
                  states=[(k, str(v)) for k, v in waves.WAVE_STATE_LABELS.items()], warehouses=warehouses,
                  warehouse_id=wid, carriers=carriers, ready=ready, can_write=p.actor.can("wms.write"),
                  order_types=[(k, str(v)) for k, v in oms_ful.ORDER_TYPE_LABELS.items()],
                  modes=[(k, str(v)) for k, v in waves.PICK_MODE_LABELS.items()])


@router.get("/waves/export")
def waves_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _total = _wave_rows(uow, request, EXPORT_LIMIT, 0)
    header = [str(label) for _k, label in WAVE_COLUMNS]
    data = [[r[k] if r[k] is not None else "" for k, _label in WAVE_COLUMNS] for r in rows]
    if format == "csv":
        return Response(write_csv(header, data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="waves.csv"'})
    return Response(write_xlsx(header, data, "waves"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="waves.xlsx"'})


@router.post("/waves")
async def waves_build(request: Request, p: Page = WRITE):
    form = await pda.form_data(request)
    cutoff = None
    if form.get("ship_by_before"):
        try:
            cutoff = dt.datetime.fromisoformat(form["ship_by_before"])
        except ValueError:
            return redirect("/wms/waves", _("截单时间格式不正确"), "error")

    def run():
        with UnitOfWork(p.actor) as uow:
            nonlocal cutoff
            if cutoff is not None and cutoff.tzinfo is None:  # typed in the company's local time
                company = uow.session.get(md.Company, uow.company_id)
                try:
                    cutoff = cutoff.replace(tzinfo=ZoneInfo(company.timezone or DEFAULT_TZ))
                except (ZoneInfoNotFoundError, ValueError):
                    cutoff = cutoff.replace(tzinfo=ZoneInfo(DEFAULT_TZ))
            wave = waves.build_wave(uow, _int(form.get("warehouse_id")) or 0, carrier_id=_int(form.get("carrier_id")),
                                    ship_by_before=cutoff, order_type=form.get("order_type") or None,
                                    zone=form.get("zone") or None, max_orders=form.get("max_orders") or 30,
                                    pick_mode=form.get("pick_mode") or "cluster")
            if form.get("release"):
                waves.release_wave(uow, wave.id)
            return wave.id, wave.number

    try:
        wid, number = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/wms/waves", exc.message, "error")
    return redirect(f"/wms/waves/{wid}", _("波次 {n} 已创建", n=number))


@router.get("/waves/{wave_id}")
def wave_page(wave_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        wave = uow.get(WmsWave, wave_id)
        info = waves.wave_dict(uow, wave)
        tasks = waves.task_dicts(uow, waves.wave_tasks(uow, wave.id))
        members = waves.members_dicts(uow, wave.id)
        route = waves.route_svg_data(uow, wave, tasks)
    return render(p, "wms/wave_detail.html", title=info["number"], w=info, tasks=tasks, members=members, route=route,
                  can_write=p.actor.can("wms.write"))


@router.post("/waves/{wave_id}/{action}")
async def wave_action(wave_id: int, action: str, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def run() -> str:
        with UnitOfWork(p.actor) as uow:
            if action == "release":
                return _("波次 {n} 已下发拣货", n=waves.release_wave(uow, wave_id).number)
            if action == "cancel":
                return _("波次 {n} 已取消", n=waves.cancel_wave(uow, wave_id, reason=form.get("reason")).number)
            raise DomainError(_("未知操作"))

    try:
        message = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/wms/waves/{wave_id}", exc.message, "error")
    return redirect(f"/wms/waves/{wave_id}", message)


@router.get("/waves/{wave_id}/pick-list.pdf")
async def wave_pick_list(wave_id: int, p: Page = READ):
    return await _pdf(p, labels.pick_list_pdf, wave_id)


# ------------------------------------------------------------------ PDA pick
def _open_waves(uow: UnitOfWork, warehouse_id: int | None) -> list[dict]:
    stmt = select(WmsWave).where(WmsWave.company_id == uow.company_id, WmsWave.state.in_(("released", "picking")))
    if warehouse_id:
        stmt = stmt.where(WmsWave.warehouse_id == warehouse_id)
    rows = list(uow.session.scalars(stmt.order_by(WmsWave.id)))
    counts = waves.wave_counts(uow, [w.id for w in rows])
    return [waves.wave_dict(uow, w, counts[w.id]) for w in rows]


@router.get("/pda/pick")
def pda_pick_home(request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        warehouses = _warehouses(uow)
        wid = _warehouse_id(request, warehouses)
        items = _open_waves(uow, wid)
    return render(p, "wms/pda_pick_waves.html", title=_("拣货"), waves=items, warehouse_id=wid)


def _pick_context(uow: UnitOfWork, wave_id: int, task_id: int | None = None) -> dict:
    wave = uow.get(WmsWave, wave_id)
    all_tasks = waves.task_dicts(uow, waves.wave_tasks(uow, wave.id))
    task = picking.task_for_scan(uow, wave.id, task_id)
    current = next((t for t in all_tasks if task and t["id"] == task.id), None)
    if current:
        from decimal import Decimal

        current["remaining"] = picking._fmt(Decimal(task.quantity) - Decimal(task.qty_done))
    live = [t for t in all_tasks if t["state"] != "cancelled"]
    upcoming = [t for t in live if t["state"] in waves.OPEN and (not current or t["id"] != current["id"])][:5]
    return {"w": waves.wave_dict(uow, wave), "task": current, "upcoming": upcoming,
            "done": sum(1 for t in live if t["state"] not in waves.OPEN), "total": len(live)}


@router.get("/pda/pick/{wave_id}")
def pda_pick_page(wave_id: int, task: int | None = None, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        ctx = _pick_context(uow, wave_id, task)
    return render(p, "wms/pda_pick.html", title=_("拣货 {n}", n=ctx["w"]["number"]), banner=_flash_banner(p.request),
                  **ctx)


@router.post("/pda/pick/{wave_id}/{task_id}")
async def pda_pick_confirm(wave_id: int, task_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def handle(uow: UnitOfWork) -> dict:
        res = picking.confirm_pick(uow, task_id, bin_code=form.get("bin"), product_code=form.get("item"),
                                   quantity=form.get("qty") or None, lot=form.get("lot") or None)
        return {**res, "next": f"/wms/pda/pick/{wave_id}"}

    result = await run_in_threadpool(pda.run_scan, p.actor, form.get("client_scan_id"), "pick",
                                     f"{form.get('bin', '')}|{form.get('item', '')}", handle, task_id=task_id)
    return _scan_reply(request, result, f"/wms/pda/pick/{wave_id}?task={task_id}")


@router.post("/pda/pick/{wave_id}/{task_id}/short")
async def pda_pick_short(wave_id: int, task_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def handle(uow: UnitOfWork) -> dict:
        res = picking.short_pick(uow, task_id, form.get("found_qty") or "0", form.get("reason") or None)
        return {**res, "ok": True, "next": f"/wms/pda/pick/{wave_id}"}

    result = await run_in_threadpool(pda.run_scan, p.actor, form.get("client_scan_id"), "pick",
                                     f"short|{task_id}", handle, task_id=task_id)
    return _scan_reply(request, result, f"/wms/pda/pick/{wave_id}?task={task_id}")


# ------------------------------------------------------------------ pack station
@router.get("/pack")
def pack_home(request: Request, p: Page = WRITE):
    code = (request.query_params.get("code") or "").strip()
    banner = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        if code:
            try:
                f = packing.find_fulfilment(uow, code, request.query_params.get("slot") or None)
                return redirect(f"/wms/pack/{f.id}")
            except DomainError as exc:
                banner = {"ok": False, "message": exc.message}
        warehouses = _warehouses(uow)
        wid = _warehouse_id(request, warehouses)
        picked = _open_waves_to_pack(uow, wid)
    return render(p, "wms/pack_home.html", title=_("打包台"), banner=banner, code=code, waves=picked)


def _open_waves_to_pack(uow: UnitOfWork, warehouse_id: int | None) -> list[dict]:
    stmt = select(WmsWave).where(WmsWave.company_id == uow.company_id,
                                 WmsWave.state.in_(("picking", "picked")))
    if warehouse_id:
        stmt = stmt.where(WmsWave.warehouse_id == warehouse_id)
    rows = list(uow.session.scalars(stmt.order_by(WmsWave.id.desc()).limit(20)))
    return [{"id": w.id, "number": w.number, "state_label": waves.wave_state_label(w.state),
             "members": [m for m in waves.members_dicts(uow, w.id) if m["status"] in ("picking", "packed")]}
            for w in rows]


def _pack_page(p: Page, fulfilment_id: int, banner: dict | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        state = packing.pack_state(uow, fulfilment_id)
        carriers = _carriers(uow)
        orders = labels.order_numbers(uow, fulfilment_id)
    open_pkg = next((x for x in state["packages"] if x["state"] == "open"), None)
    tracking = state["tracking_number"] or next((x["tracking_number"] for x in state["packages"]
                                                 if x["tracking_number"]), None)
    banner = banner or _flash_banner(p.request)
    if banner is None and state["intercepted"] and state["status"] not in ("shipped", "cancelled"):
        banner = {"ok": False, "message": _("发货单已拦截（{why}），不能发货：请把商品退回库位",
                                            why=state["intercept_reason"] or _("买家退款/取消"))}
    return render(p, "wms/pack_station.html", title=_("打包 {n}", n=state["number"]), s=state, open_pkg=open_pkg,
                  carriers=carriers, tracking=tracking, orders=orders, banner=banner,
                  status_label=oms_ful.status_label(state["status"]))


@router.get("/pack/{fulfilment_id}")
def pack_page(fulfilment_id: int, p: Page = WRITE):
    return _pack_page(p, fulfilment_id)


@router.post("/pack/{fulfilment_id}/item")
async def pack_scan(fulfilment_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def handle(uow: UnitOfWork) -> dict:
        res = packing.pack_item(uow, fulfilment_id, product_code=form.get("item"), quantity=form.get("qty") or "1",
                                lot=form.get("lot") or None)
        return {**res, "next": f"/wms/pack/{fulfilment_id}"}

    result = await run_in_threadpool(pda.run_scan, p.actor, form.get("client_scan_id"), "pack",
                                     form.get("item", ""), handle)
    return _scan_reply(request, result, f"/wms/pack/{fulfilment_id}")


def _pack_action(p: Page, request: Request, fulfilment_id: int, fn) -> dict:
    try:
        with UnitOfWork(p.actor) as uow:
            message = fn(uow)
        return pda.ok(message, next=f"/wms/pack/{fulfilment_id}")
    except DomainError as exc:
        return pda.refused(exc)


@router.post("/pack/{fulfilment_id}/close")
async def pack_close(fulfilment_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def fn(uow):
        pkg = packing.close_package(uow, _int(form.get("package_id")) or 0, weight_kg=form.get("weight_kg") or None)
        return _("包裹 {n} 已封箱", n=pkg.number)

    result = await run_in_threadpool(_pack_action, p, request, fulfilment_id, fn)
    return _scan_reply(request, result, f"/wms/pack/{fulfilment_id}")


@router.post("/pack/{fulfilment_id}/waybill")
async def pack_waybill(fulfilment_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def fn(uow):
        number = labels.assign_waybill(uow, fulfilment_id, carrier_id=_int(form.get("carrier_id")),
                                       tracking_number=form.get("tracking_number") or None)
        return _("运单号 {t}：请打印面单", t=number)

    result = await run_in_threadpool(_pack_action, p, request, fulfilment_id, fn)
    return _scan_reply(request, result, f"/wms/pack/{fulfilment_id}")


@router.post("/pack/{fulfilment_id}/ship")
async def pack_ship(fulfilment_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def fn(uow):
        out = packing.ship_confirm(uow, fulfilment_id, tracking_number=form.get("tracking_number") or None,
                                   carrier_id=_int(form.get("carrier_id")))
        return _("已发货，运单号 {t}", t=out["tracking_number"])

    result = await run_in_threadpool(_pack_action, p, request, fulfilment_id, fn)
    return _scan_reply(request, result, f"/wms/pack/{fulfilment_id}")


@router.post("/pack/{fulfilment_id}/return")
async def pack_return(fulfilment_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def fn(uow):
        return packing.return_to_stock(uow, fulfilment_id, bin_code=form.get("bin") or None)["message"]

    result = await run_in_threadpool(_pack_action, p, request, fulfilment_id, fn)
    return _scan_reply(request, result, f"/wms/pack/{fulfilment_id}")


@router.post("/pack/{fulfilment_id}/unpack")
async def pack_unpack(fulfilment_id: int, request: Request, p: Page = WRITE):
    form = await pda.form_data(request)

    def fn(uow):
        pkg = packing.unpack_package(uow, _int(form.get("package_id")) or 0)
        return _("包裹 {n} 已拆箱，商品可重新装箱", n=pkg.number)

    result = await run_in_threadpool(_pack_action, p, request, fulfilment_id, fn)
    return _scan_reply(request, result, f"/wms/pack/{fulfilment_id}")


@router.get("/pack/{fulfilment_id}/label.pdf")
async def pack_label(fulfilment_id: int, p: Page = READ):
    return await _pdf(p, labels.shipping_label_pdf, fulfilment_id)


@router.get("/pack/{fulfilment_id}/slip.pdf")
async def pack_slip(fulfilment_id: int, p: Page = READ):
    return await _pdf(p, labels.packing_slip_pdf, fulfilment_id)

