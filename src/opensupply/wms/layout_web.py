"""Layout and bin pages under /wms/: the layout picture (`/wms/layout`, with the form that generates
bins from a spec: preview first, then create) and bin maintenance (`/wms/bins`: search, filters,
pagination, XLSX/CSV export and import, one bin's attributes). Thin: the same services as the API."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import read_table, write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import bins as svc
from .layout import LayoutSpec
from .models import BIN_TYPES, WmsBin

router = APIRouter(prefix="/wms", include_in_schema=False)
READ = Depends(page_permission("wms.read"))
WRITE = Depends(page_permission("wms.write"))
ADMIN = Depends(page_permission("wms.admin"))
PAGE_SIZE = 50
SPEC_FIELDS = ("zone", "blocks", "aisles", "bins_per_side", "levels", "bin_width_m", "aisle_spacing_m",
               "cross_aisle_m", "depot")
METRIC_LABELS = {"fill": "容量占用率 %", "units": "库存件数", "frequency": "拣货频次"}


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _warehouse_id(uow: UnitOfWork, value) -> int | None:
    whs = svc.warehouses(uow)
    wanted = _int(value)
    if wanted and any(w.id == wanted for w in whs):
        return wanted
    return whs[0].id if whs else None


def _bin_types() -> list[tuple[str, str]]:
    return [(t, _(svc.BIN_TYPE_LABELS[t])) for t in BIN_TYPES]


# ------------------------------------------------------------------ layout
def _layout_page(p: Page, request: Request, *, form: dict | None = None, preview: dict | None = None,
                 error: str | None = None, status: int = 200):
    qp = request.query_params
    metric = qp.get("metric") if qp.get("metric") in svc.GRID_METRICS else "fill"
    days = min(max(_int(qp.get("days")) or 30, 1), 366)
    with UnitOfWork(p.actor, readonly=True) as uow:
        wh_id = _warehouse_id(uow, (form or {}).get("warehouse_id") or qp.get("warehouse_id"))
        whs = svc.warehouses(uow)
        grid = svc.layout_grid(uow, wh_id, zone=qp.get("zone") or None, metric=metric, days=days) if wh_id else None
    defaults = LayoutSpec().to_dict()
    defaults["depot"] = ""
    values = {**{k: ("" if v is None else v) for k, v in defaults.items()}, "bin_type": "pick", "capacity_units": "",
              **(form or {})}
    return render(p, "wms/layout.html", status_code=status, title=_("库位布局"), warehouses=whs, warehouse_id=wh_id,
                  grid=grid, grid_json=script_json(grid or {}),
                  metric=metric, days=days, metrics=[(k, _(v)) for k, v in METRIC_LABELS.items()], values=values,
                  preview=preview, error=error, bin_types=_bin_types(), can_admin=p.actor.can("wms.admin"))


@router.get("/layout")
def layout_page(request: Request, p: Page = READ):
    return _layout_page(p, request)


@router.post("/layout")
async def layout_submit(request: Request, p: Page = ADMIN):
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in (*SPEC_FIELDS, "warehouse_id", "bin_type", "capacity_units")}
    action = form.get("action") or "preview"

    def run():
        spec = LayoutSpec.from_dict({k: values[k] for k in SPEC_FIELDS})
        wh = _int(values["warehouse_id"])
        if not wh:
            raise DomainError(_("请选择仓库"))
        if action == "create":
            with UnitOfWork(p.actor) as uow:
                layout = svc.generate_layout(uow, wh, spec, bin_type=values["bin_type"] or "pick",
                                             capacity_units=values["capacity_units"] or None)
                return None, (wh, layout.zone, len(layout.bins))
        with UnitOfWork(p.actor, readonly=True) as uow:
            return svc.preview_layout(uow, wh, spec), None

    try:
        preview, created = await run_in_threadpool(run)
    except DomainError as exc:
        return _layout_page(p, request, form=values, error=exc.message, status=422)
    if created:
        wh, zone, n = created
        return redirect(f"/wms/layout?warehouse_id={wh}&zone={urllib.parse.quote(zone)}",
                        _("已生成库区 {zone} 的 {n} 个库位", zone=zone, n=n))
    return _layout_page(p, request, form=values, preview=preview)


# ------------------------------------------------------------------ bins
def _bin_filters(qp) -> dict:
    blocked = {"1": True, "0": False}.get(qp.get("blocked") or "")
    return {"warehouse_id": _int(qp.get("warehouse_id")), "q": qp.get("q") or None,
            "bin_type": qp.get("bin_type") if qp.get("bin_type") in BIN_TYPES else None,
            "zone": (qp.get("zone") or "").strip().upper() or None, "aisle": _int(qp.get("aisle")), "blocked": blocked}


def _keep(request: Request) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k not in ("offset", "format")
                                   and v})


@router.get("/bins")
def bins_page(request: Request, offset: int = 0, p: Page = READ, error: str | None = None):
    filters = _bin_filters(request.query_params)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = svc.search_bins(uow, limit=PAGE_SIZE, offset=max(0, offset), **filters)
        items = svc.bin_dicts(uow, rows)
        whs = svc.warehouses(uow)
    return render(p, "wms/bins.html", title=_("库位"), items=items, total=total, offset=max(0, offset),
                  limit=PAGE_SIZE, filters=request.query_params, keep=_keep(request), warehouses=whs,
                  bin_types=_bin_types(), type_labels=dict(_bin_types()), error=error,
                  can_write=p.actor.can("wms.write"))


@router.get("/bins/export")
def bins_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows = svc.export_rows(uow, **_bin_filters(request.query_params))
    if format == "csv":
        return Response(write_csv(svc.EXPORT_HEADER, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="bins.csv"'})
    return Response(write_xlsx(svc.EXPORT_HEADER, rows, "bins"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="bins.xlsx"'})


@router.post("/bins/import")
async def bins_import(request: Request, p: Page = WRITE):
    form = await request.form()
    upload = form.get("file")

    def run():
        if upload is None or not getattr(upload, "filename", ""):
            raise DomainError(_("请选择要导入的文件"))
        data = upload.file.read()
        table = read_table(upload.filename, data)
        with UnitOfWork(p.actor) as uow:
            wh = _warehouse_id(uow, form.get("warehouse_id"))
            return svc.import_rows(uow, wh, table.records())

    try:
        result = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/wms/bins", exc.message, "error")
    return redirect("/wms/bins", _("已更新 {n} 个库位", n=result["updated"]))


@router.post("/bins/new")
async def bin_create(request: Request, p: Page = WRITE):
    form = await request.form()

    def run():
        with UnitOfWork(p.actor) as uow:
            wh = _warehouse_id(uow, form.get("warehouse_id"))
            b = svc.create_bin(uow, wh, (form.get("code") or "").strip(), bin_type=form.get("bin_type") or "reserve",
                               capacity_units=(form.get("capacity_units") or "").strip() or None)
            return b.id, b.code

    try:
        bin_id, code = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/wms/bins", exc.message, "error")
    return redirect(f"/wms/bins/{bin_id}", _("库位 {code} 已创建", code=code))


@router.get("/bins/{bin_id}")
def bin_page(bin_id: int, p: Page = READ, error: str | None = None, values: dict | None = None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        b = uow.get(WmsBin, bin_id)
        data = svc.bin_dicts(uow, [b])[0]
        items = svc.contents(uow, [b.id])[b.id]
    return render(p, "wms/bin_form.html", status_code=status, title=_("库位 {code}", code=b.code), b=data,
                  items=items, values=values or data, error=error, bin_types=_bin_types(),
                  can_write=p.actor.can("wms.write"))


@router.post("/bins/{bin_id}")
async def bin_submit(bin_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    fields = ("bin_type", "capacity_units", "capacity_volume_m3", "capacity_weight_kg", "fixed_product_sku",
              "min_qty", "max_qty", "abc_class")
    values = {k: (form.get(k) or "").strip() for k in fields}
    values["blocked"] = bool(form.get("blocked"))

    def run():
        with UnitOfWork(p.actor) as uow:
            return svc.update_bin(uow, bin_id, **values).code

    try:
        code = await run_in_threadpool(run)
    except DomainError as exc:
        return bin_page(bin_id, p, error=exc.message, values=values, status=422)
    return redirect(f"/wms/bins/{bin_id}", _("库位 {code} 已保存", code=code))
