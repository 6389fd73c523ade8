"""Bins: the WMS side of inventory locations.

A bin *is* an inventory location (usage internal, child of the warehouse's stock location, full
code `WH/STOCK/A-03-02`), so stock, reservations and moves stay in the one ledger; the `wms_bin`
row adds what the floor needs: type, capacity, fixed product, min/max, blocked, and the geometry
(block, aisle, side, position, x/y) the pick-path optimizer walks.

The service API (each takes the caller's unit of work first and never commits):

* ``generate_layout(uow, warehouse_id, spec, *, bin_type="pick", capacity_units=None) -> WmsLayout``
  and ``generate_bins(...) -> list[WmsBin]`` — create the bins of a layout spec; idempotent per
  code (an existing bin keeps its attributes, missing ones are added).
* ``ensure_special_bins(uow, warehouse_id) -> {"dock", "qc", "pack", "staging"}`` — RCV, QC, PACK
  and STAGE next to the depot.
* ``bin_by_code(uow, warehouse_id, code)``, ``bins_by_location(uow, location_ids)``,
  ``geometry_for(uow, warehouse_id, zone=None)``.
* ``fill(uow, bin_ids) -> {bin_id: units on hand}``, ``capacity_left(uow, bin_id, product_id)`` (units
  of that product that still fit by units, volume and weight; None = unlimited), ``pick_frequency``.
* ``update_bin``, ``search_bins``, ``export_rows``, ``import_rows`` — bin attribute maintenance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, func, or_, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory.models import StockMove, StockQuant
from opensupply.masterdata import models as md

from .layout import Geometry, LayoutSpec, generate
from .models import BIN_TYPES, WmsBin, WmsLayout

SPECIAL_BINS = {  # key: (code, bin_type, name)
    "dock": ("RCV", "dock", "收货区"),
    "qc": ("QC", "qc", "质检区"),
    "pack": ("PACK", "pack", "打包台"),
    "staging": ("STAGE", "staging", "发货暂存区"),
}
BIN_TYPE_LABELS = {"pick": "拣货位", "reserve": "存储位", "bulk": "大货位", "staging": "暂存区", "qc": "质检区",
                   "pack": "打包台", "dock": "收货区"}
EDITABLE = ("bin_type", "capacity_units", "capacity_volume_m3", "capacity_weight_kg", "fixed_product_id",
            "min_qty", "max_qty", "abc_class", "blocked", "active")
EXPORT_HEADER = ["库位", "类型", "区块", "巷道", "位置", "层", "容量(件)", "容量(立方米)", "容量(千克)", "固定商品",
                 "最低量", "最高量", "ABC", "锁定"]


def _warehouse(uow: UnitOfWork, warehouse_id: int) -> md.Warehouse:
    wh = uow.get(md.Warehouse, warehouse_id)
    if wh.stock_location_id is None:
        raise ValidationFailed(_("仓库 {code} 没有库存区库位", code=wh.code))
    return wh


def _existing(uow: UnitOfWork, warehouse_id: int, codes: Iterable[str]) -> dict[str, WmsBin]:
    codes = list(codes)
    out: dict[str, WmsBin] = {}
    for i in range(0, len(codes), 500):
        out.update((b.code, b) for b in uow.session.scalars(select(WmsBin).where(
            WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == warehouse_id,
            WmsBin.code.in_(codes[i:i + 500]))))
    return out


def _locations(uow: UnitOfWork, wh: md.Warehouse, codes: list[str]) -> dict[str, md.Location]:
    fulls = {f"{wh.code}/STOCK/{c}": c for c in codes}
    out: dict[str, md.Location] = {}
    keys = list(fulls)
    for i in range(0, len(keys), 500):
        for loc in uow.session.scalars(select(md.Location).where(md.Location.company_id == uow.company_id,
                                                                 md.Location.full_code.in_(keys[i:i + 500]))):
            out[fulls[loc.full_code]] = loc
    return out


def _make_bins(uow: UnitOfWork, wh: md.Warehouse, rows: list[dict]) -> list[WmsBin]:
    """Bins (and their locations) for `rows` = [{"code", "name", WmsBin fields…}], reusing what exists."""
    codes = [r["code"] for r in rows]
    have = _existing(uow, wh.id, codes)
    locs = _locations(uow, wh, [c for c in codes if c not in have])
    new_locs = []
    for r in rows:
        if r["code"] not in have and r["code"] not in locs:
            loc = md.Location(company_id=uow.company_id, code=r["code"], full_code=f"{wh.code}/STOCK/{r['code']}",
                              name=r.get("name") or r["code"], usage="internal", warehouse_id=wh.id,
                              parent_id=wh.stock_location_id)
            locs[r["code"]] = loc
            new_locs.append(loc)
    uow.session.add_all(new_locs)
    uow.session.flush()
    out = []
    for r in rows:
        b = have.get(r["code"])
        if b is None:
            fields = {k: v for k, v in r.items() if k != "name"}
            b = WmsBin(company_id=uow.company_id, warehouse_id=wh.id, location_id=locs[r["code"]].id, **fields)
            uow.session.add(b)
        out.append(b)
    uow.session.flush()
    return out


def generate_layout(uow: UnitOfWork, warehouse_id: int, spec: LayoutSpec, *, bin_type: str = "pick",
                    capacity_units: Decimal | None = None) -> WmsLayout:
    """Record the layout spec of a zone and create its bins (idempotent per bin code)."""
    uow.actor.require("wms.admin")
    if bin_type not in BIN_TYPES:
        raise ValidationFailed(_("库位类型无效：{t}", t=bin_type), field="bin_type")
    wh = _warehouse(uow, warehouse_id)
    layout = uow.session.scalar(select(WmsLayout).where(WmsLayout.company_id == uow.company_id,
                                                        WmsLayout.warehouse_id == wh.id, WmsLayout.zone == spec.zone))
    depot = spec.depot_xy
    if layout is None:
        layout = uow.add(WmsLayout(warehouse_id=wh.id, zone=spec.zone, spec=spec.to_dict(), depot_x=depot[0],
                                   depot_y=depot[1]))
    else:
        layout.spec, layout.depot_x, layout.depot_y = spec.to_dict(), depot[0], depot[1]
    uow.session.flush()
    cap = Decimal(str(capacity_units)) if capacity_units is not None else None
    rows = [dict(code=g.code, bin_type=bin_type, zone=spec.zone, block=g.block, aisle=g.aisle, side=g.side,
                 position=g.position, level=g.level, x=g.x, y=g.y, capacity_units=cap, layout_id=layout.id)
            for g in generate(spec)]
    bins = _make_bins(uow, wh, rows)
    for b, r in zip(bins, rows, strict=True):  # an existing bin follows the new geometry, keeps its attributes
        if b.layout_id != layout.id or (b.x, b.y, b.aisle, b.position) != (r["x"], r["y"], r["aisle"], r["position"]):
            for k in ("zone", "block", "aisle", "side", "position", "level", "x", "y", "layout_id"):
                setattr(b, k, r[k])
    uow.session.flush()
    layout.bins = bins  # convenience for the caller; not a mapped attribute
    return layout


def generate_bins(uow: UnitOfWork, warehouse_id: int, spec: LayoutSpec, *, bin_type: str = "pick",
                  capacity_units: Decimal | None = None) -> list[WmsBin]:
    return generate_layout(uow, warehouse_id, spec, bin_type=bin_type, capacity_units=capacity_units).bins


def ensure_special_bins(uow: UnitOfWork, warehouse_id: int) -> dict[str, WmsBin]:
    """Receiving dock, QC, pack station and dispatch staging, at the depot (front left unless a
    layout says otherwise)."""
    wh = _warehouse(uow, warehouse_id)
    layout = uow.session.scalars(select(WmsLayout).where(
        WmsLayout.company_id == uow.company_id, WmsLayout.warehouse_id == wh.id).order_by(WmsLayout.id)).first()
    dx, dy = (layout.depot_x, layout.depot_y) if layout else (0.0, 0.0)
    rows = [dict(code=code, name=name, bin_type=t, x=dx, y=dy) for code, t, name in SPECIAL_BINS.values()]
    made = _make_bins(uow, wh, rows)
    return dict(zip(SPECIAL_BINS, made, strict=True))


def bin_by_code(uow: UnitOfWork, warehouse_id: int, code: str) -> WmsBin:
    """A bin by its code (`A-03-02`) or its location's full code (`WH/STOCK/A-03-02`)."""
    code = (code or "").strip()
    short = code.rsplit("/", 1)[-1].upper()
    b = uow.session.scalar(select(WmsBin).where(WmsBin.company_id == uow.company_id,
                                                WmsBin.warehouse_id == warehouse_id, WmsBin.code == short))
    if b is None:
        raise NotFound(_("库位不存在：{code}", code=code), field="code")
    return b


def bins_by_location(uow: UnitOfWork, location_ids: Iterable[int]) -> dict[int, WmsBin]:
    ids = list(set(location_ids))
    if not ids:
        return {}
    return {b.location_id: b for b in uow.session.scalars(select(WmsBin).where(
        WmsBin.company_id == uow.company_id, WmsBin.location_id.in_(ids)))}


def layouts(uow: UnitOfWork, warehouse_id: int) -> list[WmsLayout]:
    return list(uow.session.scalars(select(WmsLayout).where(
        WmsLayout.company_id == uow.company_id, WmsLayout.warehouse_id == warehouse_id).order_by(WmsLayout.zone)))


def geometry_for(uow: UnitOfWork, warehouse_id: int, zone: str | None = None) -> Geometry:
    """The walking geometry of a warehouse zone (its first zone when not given)."""
    stmt = select(WmsLayout).where(WmsLayout.company_id == uow.company_id, WmsLayout.warehouse_id == warehouse_id)
    if zone:
        stmt = stmt.where(WmsLayout.zone == zone)
    layout = uow.session.scalars(stmt.order_by(WmsLayout.id)).first()
    if layout is None:
        raise NotFound(_("仓库还没有库位布局"))
    return Geometry.from_spec(LayoutSpec.from_dict(layout.spec))


# -- contents and capacity -------------------------------------------------------------------

def _bins(uow: UnitOfWork, bin_ids: Iterable[int]) -> dict[int, WmsBin]:
    ids = list(set(bin_ids))
    return {b.id: b for b in uow.session.scalars(select(WmsBin).where(
        WmsBin.company_id == uow.company_id, WmsBin.id.in_(ids)))} if ids else {}


def fill(uow: UnitOfWork, bin_ids: Iterable[int]) -> dict[int, Decimal]:
    """Units on hand per bin (all products and lots)."""
    bins = _bins(uow, bin_ids)
    by_loc = {b.location_id: b.id for b in bins.values()}
    out = {bid: Decimal(0) for bid in bins}
    if by_loc:
        for loc, qty in uow.session.execute(select(StockQuant.location_id, func.sum(StockQuant.quantity)).where(
                StockQuant.company_id == uow.company_id, StockQuant.location_id.in_(list(by_loc)))
                .group_by(StockQuant.location_id)):
            out[by_loc[loc]] = Decimal(qty or 0)
    return out


def contents(uow: UnitOfWork, bin_ids: Iterable[int]) -> dict[int, list[dict]]:
    """What each bin holds: [{"product_id", "sku", "name", "quantity"}] per bin id."""
    bins = _bins(uow, bin_ids)
    by_loc = {b.location_id: b.id for b in bins.values()}
    out: dict[int, list[dict]] = {bid: [] for bid in bins}
    if by_loc:
        rows = uow.session.execute(
            select(StockQuant.location_id, md.Product.id, md.Product.sku, md.Product.name,
                   func.sum(StockQuant.quantity))
            .join(md.Product, md.Product.id == StockQuant.product_id)
            .where(StockQuant.company_id == uow.company_id, StockQuant.location_id.in_(list(by_loc)),
                   StockQuant.quantity != 0)
            .group_by(StockQuant.location_id, md.Product.id, md.Product.sku, md.Product.name)
            .order_by(md.Product.sku))
        for loc, pid, sku, name, qty in rows:
            out[by_loc[loc]].append({"product_id": pid, "sku": sku, "name": name, "quantity": Decimal(qty)})
    return out


def capacity_left(uow: UnitOfWork, bin_id: int, product_id: int) -> Decimal | None:
    """How many more units of `product_id` fit in the bin: the tightest of its unit, volume and
    weight capacities (volume/weight use the products' own figures; a product without a figure is
    not limited by that capacity). None = no limit. A blocked or inactive bin, or a fixed bin of
    another product, takes nothing."""
    b = uow.get(WmsBin, bin_id)
    if b.blocked or not b.active:
        return Decimal(0)
    if b.fixed_product_id is not None and b.fixed_product_id != product_id:
        return Decimal(0)
    if b.capacity_units is None and b.capacity_volume_m3 is None and b.capacity_weight_kg is None:
        return None
    product = uow.get(md.Product, product_id)
    rows = uow.session.execute(
        select(StockQuant.quantity, md.Product.volume_m3, md.Product.weight_kg)
        .join(md.Product, md.Product.id == StockQuant.product_id)
        .where(StockQuant.company_id == uow.company_id, StockQuant.location_id == b.location_id)).all()
    units = sum((Decimal(q) for q, _v, _w in rows), Decimal(0))
    volume = sum((Decimal(q) * Decimal(v) for q, v, _w in rows if v), Decimal(0))
    weight = sum((Decimal(q) * Decimal(w) for q, _v, w in rows if w), Decimal(0))
    limits = []
    if b.capacity_units is not None:
        limits.append(Decimal(b.capacity_units) - units)
    if b.capacity_volume_m3 is not None and product.volume_m3:
        limits.append(((Decimal(b.capacity_volume_m3) - volume) / Decimal(product.volume_m3)).to_integral_value(
            rounding="ROUND_FLOOR"))
    if b.capacity_weight_kg is not None and product.weight_kg:
        limits.append(((Decimal(b.capacity_weight_kg) - weight) / Decimal(product.weight_kg)).to_integral_value(
            rounding="ROUND_FLOOR"))
    if not limits:
        return None
    return max(min(limits), Decimal(0))


def pick_frequency(uow: UnitOfWork, bin_ids: Iterable[int], *, days: int = 30) -> dict[int, int]:
    """Picks out of each bin in the last `days` days: done stock moves leaving the bin for anywhere
    but another storage bin (pick/reserve/bulk), so replenishment and re-slotting do not count."""
    bins = _bins(uow, bin_ids)
    by_loc = {b.location_id: b.id for b in bins.values()}
    out = {bid: 0 for bid in bins}
    if by_loc:
        since = utcnow() - dt.timedelta(days=days)
        for loc, n in uow.session.execute(
                select(StockMove.source_location_id, func.count()).where(
                    StockMove.company_id == uow.company_id, StockMove.state == "done",
                    StockMove.source_location_id.in_(list(by_loc)), StockMove.date_done >= since,
                    StockMove.dest_location_id.not_in(select(WmsBin.location_id).where(
                        WmsBin.company_id == uow.company_id, WmsBin.bin_type.in_(("pick", "reserve", "bulk")))))
                .group_by(StockMove.source_location_id)):
            out[by_loc[loc]] = int(n)
    return out


# -- maintenance -------------------------------------------------------------------------------

def _decimal(value, name: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(_("{name} 不是数字：{value}", name=name, value=value), field=name) from None
    if d < 0 or not d.is_finite():
        raise ValidationFailed(_("{name} 不能为负数", name=name), field=name)
    return d


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "y", "是", "锁定", "on")


def update_bin(uow: UnitOfWork, bin_id: int, **changes) -> WmsBin:
    """Change a bin's attributes (type, capacities, fixed product, min/max, ABC, blocked, active)."""
    uow.actor.require("wms.write")
    b = uow.get(WmsBin, bin_id, for_update=True)
    unknown = set(changes) - set(EDITABLE) - {"fixed_product_sku"}
    if unknown:
        raise ValidationFailed(_("不能修改的库位字段：{names}", names=", ".join(sorted(unknown))))
    if "fixed_product_sku" in changes:
        sku = (changes.pop("fixed_product_sku") or "").strip()
        changes["fixed_product_id"] = _product_by_sku(uow, sku) if sku else None
    for k, v in changes.items():
        if k == "bin_type":
            if v not in BIN_TYPES:
                raise ValidationFailed(_("库位类型无效：{t}", t=v), field="bin_type")
        elif k in ("capacity_units", "capacity_volume_m3", "capacity_weight_kg", "min_qty", "max_qty"):
            v = _decimal(v, k)
        elif k == "fixed_product_id":
            v = uow.get(md.Product, int(v)).id if v not in (None, "") else None
        elif k == "abc_class":
            v = (str(v).strip().upper() or None) if v is not None else None
            if v is not None and v not in ("A", "B", "C"):
                raise ValidationFailed(_("ABC 分类须为 A、B 或 C"), field="abc_class")
        elif k in ("blocked", "active"):
            v = _bool(v)
        setattr(b, k, v)
    if b.min_qty is not None and b.max_qty is not None and b.min_qty > b.max_qty:
        raise ValidationFailed(_("库位 {code} 的最低量不能大于最高量", code=b.code), field="min_qty")
    uow.session.flush()
    return b


def _product_by_sku(uow: UnitOfWork, sku: str) -> int:
    pid = uow.session.scalar(select(md.Product.id).where(md.Product.company_id == uow.company_id,
                                                         md.Product.sku == sku))
    if pid is None:
        raise NotFound(_("商品不存在：{sku}", sku=sku), field="fixed_product")
    return pid


def bin_query(uow: UnitOfWork, *, warehouse_id: int | None = None, q: str | None = None,
              bin_type: str | None = None, zone: str | None = None, aisle: int | None = None,
              blocked: bool | None = None) -> Select:
    stmt = select(WmsBin).where(WmsBin.company_id == uow.company_id)
    if warehouse_id:
        stmt = stmt.where(WmsBin.warehouse_id == warehouse_id)
    if q:
        like = f"%{q.strip()}%"
        sku_bins = select(WmsBin.id).join(md.Product, md.Product.id == WmsBin.fixed_product_id).where(
            or_(md.Product.sku.ilike(like), md.Product.name.ilike(like)))
        stmt = stmt.where(or_(WmsBin.code.ilike(like), WmsBin.id.in_(sku_bins)))
    if bin_type:
        stmt = stmt.where(WmsBin.bin_type == bin_type)
    if zone:
        stmt = stmt.where(WmsBin.zone == zone)
    if aisle:
        stmt = stmt.where(WmsBin.aisle == aisle)
    if blocked is not None:
        stmt = stmt.where(WmsBin.blocked.is_(blocked))
    return stmt


def search_bins(uow: UnitOfWork, *, limit: int = 50, offset: int = 0, **filters) -> tuple[list[WmsBin], int]:
    stmt = bin_query(uow, **filters)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(WmsBin.warehouse_id, WmsBin.zone, WmsBin.aisle, WmsBin.position,
                                                  WmsBin.level, WmsBin.code).limit(limit).offset(offset)))
    return rows, total


def _skus(uow: UnitOfWork, product_ids: Iterable[int]) -> dict[int, str]:
    ids = [i for i in set(product_ids) if i]
    if not ids:
        return {}
    return {pid: sku for pid, sku in uow.session.execute(select(md.Product.id, md.Product.sku).where(
        md.Product.company_id == uow.company_id, md.Product.id.in_(ids)))}


def bin_dicts(uow: UnitOfWork, bins: list[WmsBin]) -> list[dict]:
    skus = _skus(uow, [b.fixed_product_id for b in bins])
    units = fill(uow, [b.id for b in bins])
    return [{"id": b.id, "code": b.code, "warehouse_id": b.warehouse_id, "location_id": b.location_id,
             "bin_type": b.bin_type, "zone": b.zone, "block": b.block, "aisle": b.aisle, "side": b.side,
             "position": b.position, "level": b.level, "x": b.x, "y": b.y,
             "capacity_units": b.capacity_units, "capacity_volume_m3": b.capacity_volume_m3,
             "capacity_weight_kg": b.capacity_weight_kg, "fixed_product_id": b.fixed_product_id,
             "fixed_product_sku": skus.get(b.fixed_product_id), "min_qty": b.min_qty, "max_qty": b.max_qty,
             "abc_class": b.abc_class, "blocked": b.blocked, "active": b.active, "on_hand": units.get(b.id)}
            for b in bins]


def export_rows(uow: UnitOfWork, **filters) -> list[list]:
    bins = list(uow.session.scalars(bin_query(uow, **filters).order_by(WmsBin.zone, WmsBin.aisle, WmsBin.position,
                                                                       WmsBin.level, WmsBin.code)))
    skus = _skus(uow, [b.fixed_product_id for b in bins])

    def num(v):
        return "" if v is None else format(Decimal(v).normalize(), "f")

    return [[b.code, b.bin_type, b.block, b.aisle or "", b.position or "", b.level, num(b.capacity_units),
             num(b.capacity_volume_m3), num(b.capacity_weight_kg), skus.get(b.fixed_product_id, ""), num(b.min_qty),
             num(b.max_qty), b.abc_class or "", "是" if b.blocked else ""] for b in bins]


IMPORT_COLUMNS = {"类型": "bin_type", "容量(件)": "capacity_units", "容量(立方米)": "capacity_volume_m3",
                  "容量(千克)": "capacity_weight_kg", "固定商品": "fixed_product_sku", "最低量": "min_qty",
                  "最高量": "max_qty", "ABC": "abc_class", "锁定": "blocked"}


def import_rows(uow: UnitOfWork, warehouse_id: int, records: Iterable[tuple[int, dict[str, str]]]) -> dict:
    """Update bin attributes from spreadsheet rows (the export's columns; `库位` identifies the bin).
    All rows or none: the first bad row raises with its line number."""
    updated = 0
    for line, rec in records:
        code = (rec.get("库位") or "").strip()
        if not code:
            raise ValidationFailed(_("第 {line} 行：缺少库位编码", line=line))
        try:
            b = bin_by_code(uow, warehouse_id, code)
            changes = {field: rec[col] for col, field in IMPORT_COLUMNS.items() if col in rec}
            if "bin_type" in changes and not changes["bin_type"]:
                changes.pop("bin_type")
            update_bin(uow, b.id, **changes)
        except (ValidationFailed, NotFound) as exc:
            raise ValidationFailed(_("第 {line} 行：{msg}", line=line, msg=str(exc))) from None
        updated += 1
    return {"updated": updated}


# -- single bins, previews and the layout picture ---------------------------------------------

def warehouses(uow: UnitOfWork) -> list[md.Warehouse]:
    return list(uow.session.scalars(select(md.Warehouse).where(
        md.Warehouse.company_id == uow.company_id, md.Warehouse.active.is_(True)).order_by(md.Warehouse.code)))


def create_bin(uow: UnitOfWork, warehouse_id: int, code: str, *, bin_type: str = "reserve",
               x: float | None = None, y: float | None = None, **attributes) -> WmsBin:
    """One bin outside a generated layout (a bulk area, a second dock …); refuses an existing code."""
    uow.actor.require("wms.write")
    code = (code or "").strip().upper()
    if not code or len(code) > 40 or "/" in code:
        raise ValidationFailed(_("库位编码须为 1–40 个字符且不含 /"), field="code")
    if bin_type not in BIN_TYPES:
        raise ValidationFailed(_("库位类型无效：{t}", t=bin_type), field="bin_type")
    wh = _warehouse(uow, warehouse_id)
    if _existing(uow, wh.id, [code]):
        raise ValidationFailed(_("库位已存在：{code}", code=code), field="code")
    b = _make_bins(uow, wh, [dict(code=code, bin_type=bin_type, x=x or 0.0, y=y or 0.0)])[0]
    if attributes:
        update_bin(uow, b.id, **attributes)
    return b


def deactivate_bin(uow: UnitOfWork, bin_id: int) -> WmsBin:
    """Retire a bin; only an empty one (stock must be moved out first)."""
    uow.actor.require("wms.write")
    b = uow.get(WmsBin, bin_id, for_update=True)
    if fill(uow, [b.id])[b.id] != 0:
        raise Conflict(_("库位 {code} 还有库存，不能停用", code=b.code))
    b.active = False
    uow.session.flush()
    return b


def preview_layout(uow: UnitOfWork, warehouse_id: int, spec: LayoutSpec) -> dict:
    """What generating `spec` would do: bins in the spec, how many exist already, a few codes."""
    geoms = generate(spec)
    codes = [g.code for g in geoms]
    have = _existing(uow, warehouse_id, codes)
    geo = Geometry.from_spec(spec)
    return {"zone": spec.zone, "bins": len(codes), "new": len(codes) - len(have), "existing": len(have),
            "first": codes[:3], "last": codes[-3:], "width_m": round(geo.width, 2),
            "depth_m": round(geo.cross_y[-1], 2), "blocks": spec.blocks, "spec": spec.to_dict()}


GRID_METRICS = ("fill", "units", "frequency")


def layout_grid(uow: UnitOfWork, warehouse_id: int, *, zone: str | None = None, metric: str = "fill",
                days: int = 30) -> dict:
    """The rack area as a grid for the layout page: one cell per aisle side × bin along the aisle
    (levels summed), with a blank row per cross-aisle between blocks. `value` is fill % of the unit
    capacity ("fill"; None without a capacity), units on hand ("units") or done moves out of the
    bin in the last `days` days ("frequency")."""
    if metric not in GRID_METRICS:
        raise ValidationFailed(_("未知的指标：{m}", m=metric), field="metric")
    all_layouts = layouts(uow, warehouse_id)
    if not all_layouts:
        return {"zones": [], "zone": None, "cells": [], "columns": [], "rows": 0, "metric": metric}
    layout = next((lo for lo in all_layouts if lo.zone == zone), all_layouts[0])
    spec = LayoutSpec.from_dict(layout.spec)
    bins = list(uow.session.scalars(select(WmsBin).where(
        WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == warehouse_id, WmsBin.zone == layout.zone,
        WmsBin.aisle.is_not(None), WmsBin.active.is_(True))))
    ids = [b.id for b in bins]
    units = fill(uow, ids)
    freq = pick_frequency(uow, ids, days=days) if metric == "frequency" else {}
    what = contents(uow, ids)
    cells: dict[tuple[int, int], dict] = {}
    for b in bins:
        k = (b.position + 1) // 2  # bins along the aisle, 1-based
        col = 2 * (b.aisle - 1) + b.side
        row = k - 1 + b.block  # one blank row per cross-aisle passed
        c = cells.setdefault((col, row), {"codes": [], "units": Decimal(0), "capacity": Decimal(0), "capped": True,
                                          "moves": 0, "blocked": False, "items": []})
        c["codes"].append(b.code)
        c["units"] += units.get(b.id, Decimal(0))
        c["moves"] += freq.get(b.id, 0)
        c["blocked"] = c["blocked"] or b.blocked
        c["items"] += [f"{i['sku']} × {format(i['quantity'].normalize(), 'f')}" for i in what.get(b.id, [])]
        if b.capacity_units is None:
            c["capped"] = False
        else:
            c["capacity"] += Decimal(b.capacity_units)
    out = []
    for (col, row), c in sorted(cells.items()):
        if metric == "fill":
            value = (float(round(100 * c["units"] / c["capacity"], 1)) if c["capped"] and c["capacity"] else None)
        elif metric == "units":
            value = float(c["units"])
        else:
            value = c["moves"]
        out.append({"col": col, "row": row, "code": " / ".join(sorted(c["codes"])), "value": value,
                    "units": format(c["units"].normalize(), "f"), "moves": c["moves"], "blocked": c["blocked"],
                    "items": c["items"][:8]})
    columns = [f"{a:02d}{'左' if s == 0 else '右'}" for a in range(1, spec.aisles + 1) for s in (0, 1)]
    values = [c["value"] for c in out if c["value"] is not None]
    return {"zones": [lo.zone for lo in all_layouts], "zone": layout.zone, "metric": metric, "days": days,
            "columns": columns, "rows": spec.bins_per_side + spec.blocks - 1, "cells": out,
            "max": max(values, default=0) or 1, "spec": spec.to_dict(), "bins": len(bins)}
