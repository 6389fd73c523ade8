"""Layout and bins endpoints under /api/v1/wms/: layouts (preview and generate), bins (list,
one, create, change, retire, export, import), the layout grid and pick routes. Thin: parse, call
the service in one unit of work, return plain JSON."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.tabular import read_table, write_csv, write_xlsx
from opensupply.core.uow import Actor, UnitOfWork

from . import bins as svc
from . import pickpath
from .layout import LayoutSpec
from .models import WmsBin

router = APIRouter(prefix="/wms", tags=["wms layout"])
READ = Depends(require("wms.read"))
WRITE = Depends(require("wms.write"))
ADMIN = Depends(require("wms.admin"))


def _json(d: dict) -> dict:
    return {k: (format(v.normalize(), "f") if isinstance(v, Decimal) else v) for k, v in d.items()}


def _bin_out(uow: UnitOfWork, b: WmsBin) -> dict:
    return _json(svc.bin_dicts(uow, [b])[0])


class LayoutIn(BaseModel):
    warehouse_id: int
    spec: dict = Field(default_factory=dict, description="LayoutSpec fields: zone, blocks, aisles, bins_per_side, "
                                                         "levels, bin_width_m, aisle_spacing_m, cross_aisle_m, depot")
    bin_type: str = "pick"
    capacity_units: Decimal | None = None
    preview: bool = False


class BinIn(BaseModel):
    warehouse_id: int
    code: str
    bin_type: str = "reserve"
    x: float | None = None
    y: float | None = None
    capacity_units: Decimal | None = None
    capacity_volume_m3: Decimal | None = None
    capacity_weight_kg: Decimal | None = None
    fixed_product_id: int | None = None
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None


class BinPatch(BaseModel):
    bin_type: str | None = None
    capacity_units: Decimal | None = None
    capacity_volume_m3: Decimal | None = None
    capacity_weight_kg: Decimal | None = None
    fixed_product_id: int | None = None
    fixed_product_sku: str | None = None
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    abc_class: str | None = None
    blocked: bool | None = None
    active: bool | None = None


class RouteIn(BaseModel):
    warehouse_id: int
    bins: list[str] = Field(..., description="bin codes to visit (repeats allowed)")
    zone: str | None = None
    method: str = "auto"


# ------------------------------------------------------------------ layouts
@router.get("/layouts", summary="Layouts of a warehouse")
def list_layouts(warehouse_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows = svc.layouts(uow, warehouse_id)
        return {"items": [{"id": lo.id, "warehouse_id": lo.warehouse_id, "zone": lo.zone, "spec": lo.spec}
                          for lo in rows], "total": len(rows)}


@router.post("/layouts", status_code=201, summary="Generate bins from a layout spec (or preview with preview=true)")
def create_layout(body: LayoutIn, actor: Actor = ADMIN) -> dict:
    spec = LayoutSpec.from_dict(body.spec)
    if body.preview:
        with UnitOfWork(actor, readonly=True) as uow:
            return {"preview": True, **svc.preview_layout(uow, body.warehouse_id, spec)}
    with UnitOfWork(actor) as uow:
        layout = svc.generate_layout(uow, body.warehouse_id, spec, bin_type=body.bin_type,
                                     capacity_units=body.capacity_units)
        return {"id": layout.id, "warehouse_id": layout.warehouse_id, "zone": layout.zone, "spec": layout.spec,
                "bins": len(layout.bins)}


@router.get("/layout/grid", summary="The rack area as a grid coloured by fill, units or pick frequency")
def layout_grid(warehouse_id: int, zone: str | None = None, metric: str = "fill",
                days: int = Query(30, ge=1, le=366), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return svc.layout_grid(uow, warehouse_id, zone=zone, metric=metric, days=days)


@router.post("/pick-routes", summary="Walking order through some bins (optimized, with the S-shape length)")
def pick_route(body: RouteIn, actor: Actor = READ) -> dict:
    if body.method not in pickpath.METHODS:
        raise ValidationFailed(_("未知的拣货路径算法：{m}", m=body.method), field="method")
    with UnitOfWork(actor, readonly=True) as uow:
        geo = svc.geometry_for(uow, body.warehouse_id, body.zone)
        bins = [svc.bin_by_code(uow, body.warehouse_id, c) for c in body.bins]
    picks = [(b.x, b.y) for b in bins]
    route = pickpath.optimize(geo, picks, method=body.method)
    baseline = pickpath.sshape(geo, picks)
    return {"order": [bins[i].code for i in route.order], "length_m": round(route.length_m, 2),
            "method": route.method, "sshape_m": round(baseline.length_m, 2)}


# ------------------------------------------------------------------ bins
def _filters(warehouse_id, q, bin_type, zone, aisle, blocked) -> dict:
    return {"warehouse_id": warehouse_id, "q": q, "bin_type": bin_type, "zone": zone, "aisle": aisle,
            "blocked": blocked}


@router.get("/bins", summary="Bins")
def list_bins(q: str | None = None, warehouse_id: int | None = None, bin_type: str | None = None,
              zone: str | None = None, aisle: int | None = None, blocked: bool | None = None,
              limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.search_bins(uow, limit=limit, offset=offset,
                                      **_filters(warehouse_id, q, bin_type, zone, aisle, blocked))
        return {"items": [_json(d) for d in svc.bin_dicts(uow, rows)], "total": total}


@router.get("/bins/export", summary="Bins as XLSX or CSV (the import format)")
def export_bins(format: str = "xlsx", q: str | None = None, warehouse_id: int | None = None,
                bin_type: str | None = None, zone: str | None = None, aisle: int | None = None,
                blocked: bool | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        rows = svc.export_rows(uow, **_filters(warehouse_id, q, bin_type, zone, aisle, blocked))
    if format == "csv":
        return Response(write_csv(svc.EXPORT_HEADER, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="bins.csv"'})
    return Response(write_xlsx(svc.EXPORT_HEADER, rows, "bins"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="bins.xlsx"'})


@router.post("/bins/import", summary="Update bin attributes from an exported sheet (all rows or none)")
async def import_bins(warehouse_id: int = Form(...), file: UploadFile = File(...), actor: Actor = WRITE) -> dict:
    data = await file.read()
    table = read_table(file.filename or "bins.xlsx", data)
    with UnitOfWork(actor) as uow:
        return svc.import_rows(uow, warehouse_id, table.records())


@router.post("/bins", status_code=201, summary="Create one bin")
def create_bin(body: BinIn, actor: Actor = WRITE) -> dict:
    attrs = body.model_dump(exclude={"warehouse_id", "code", "bin_type", "x", "y"}, exclude_none=True)
    with UnitOfWork(actor) as uow:
        b = svc.create_bin(uow, body.warehouse_id, body.code, bin_type=body.bin_type, x=body.x, y=body.y, **attrs)
        return _bin_out(uow, b)


@router.get("/bins/{bin_id}", summary="One bin with its contents")
def get_bin(bin_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        b = uow.get(WmsBin, bin_id)
        out = _bin_out(uow, b)
        out["contents"] = [_json(i) for i in svc.contents(uow, [b.id])[b.id]]
        return out


@router.patch("/bins/{bin_id}", summary="Change bin attributes")
def patch_bin(bin_id: int, body: BinPatch, actor: Actor = WRITE) -> dict:
    changes = body.model_dump(exclude_unset=True)
    with UnitOfWork(actor) as uow:
        return _bin_out(uow, svc.update_bin(uow, bin_id, **changes))


@router.delete("/bins/{bin_id}", summary="Retire an empty bin")
def delete_bin(bin_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return _bin_out(uow, svc.deactivate_bin(uow, bin_id))
