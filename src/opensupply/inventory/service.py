"""The stock ledger's use cases. Every other module posts stock through these functions.

* Moves are the ledger; `stock_quant` (on-hand per product × internal location × lot) is derived
  and changed only here, in the same transaction as moves become done. Quant rows are what we
  lock (`SELECT … FOR UPDATE`, in product, location, lot order) to serialize contention;
  on SQLite the writer lock taken at BEGIN IMMEDIATE already does.
* Reservations are rows; available = on-hand − Σ active reservations.
* Valuation layers record the value entering and leaving stock (moving average or FIFO per
  product category); the average cost is kept on the product through master data's service.

Hot paths (posting moves, reserving) use Core statements, one per batch, and write their
audit rows with `core.audit.record_many`. Quants and the FIFO remainders of valuation layers
are derived data and are not audited row by row; the moves and layers that change them are.

How other modules use the ledger (all inside the caller's unit of work):

* `post_moves(uow, [MoveSpec(product_id, qty, src_id, dst_id, lot_id=…, ref_type=…, ref_id=…,
  reference=…, unit_cost=…)])` — the general posting, done at once; `move(...)` for one line.
* `receive(uow, [StockLine(...)], location)` / `deliver(...)` — by SKU/barcode and bin code.
* `create_moves(..., confirm=True)` then `done_moves(uow, ids)` — planned moves (a picking list).
* `reserve(uow, [ReservationRequest(...)], partial=…)` → ids; `release(uow, ids)`;
  `deliver_reserved(uow, ids)` or `MoveSpec(reservation_id=…)` to ship reserved goods. Run
  `reserve` through `core.uow.atomic()` where many clerks compete (bounded retries).
* `transfer_reserved(uow, [(reservation_id, qty)], dest_id)` moves reserved goods (a pick: bin →
  packing) and re-reserves them there for the same document.
* `reserve_in_warehouse(uow, [StockNeed(line_id, product_id, qty)], warehouse_id, ref_type=…)` picks
  the bins and lots itself (earliest expiry first) and reserves what is there.
* `reverse_moves(uow, ids)` corrects done moves; nothing is ever edited or deleted.
* Events: `inventory.moves_done` (move_ids) after every posting, `inventory.adjustment_done`.
* Lock order: products (valued moves), then quants by (product, location, lot), then the
  reservations being consumed. Code that adds locks must keep this order.
* A reservation without a lot on a lot-tracked product counts against the location's total;
  on-hand listings show it on the lots it would take (earliest expiry first).
* Known limit: transit locations are outside stock (moving goods there values them out, like
  a delivery); inter-warehouse transfers should go bin → bin until transit is modelled.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, bindparam, func, insert, literal_column, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from opensupply.accounting.service import inventory_gl_balance, money
from opensupply.accounting.stock import post_stock_valuation
from opensupply.core.audit import record_many
from opensupply.core.errors import Conflict, DomainError, InsufficientStock, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.masterdata import service as mds

from .models import (
    InventoryAdjustment,
    InventoryAdjustmentLine,
    StockLot,
    StockMove,
    StockQuant,
    StockReservation,
    StockValuationLayer,
)

register_sequence("ADJ", "ADJ{year}-", 5)

Q6 = Decimal("0.000001")
MOVE = StockMove.__table__
QUANT = StockQuant.__table__
RES = StockReservation.__table__
LAYER = StockValuationLayer.__table__


def q6(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Q6, rounding=ROUND_HALF_UP)


def fmt_qty(value: Decimal) -> str:
    """A quantity or amount for people and JSON: plain notation, no trailing zeros (10, 2.5)."""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------- inputs
@dataclass
class MoveSpec:
    """One stock move to post. `uom_id` is the unit `quantity` is given in (default: the product's)."""

    product_id: int
    quantity: Decimal
    source_location_id: int
    dest_location_id: int
    lot_id: int | None = None
    uom_id: int | None = None
    unit_cost: Decimal | None = None
    ref_type: str | None = None
    ref_id: int | None = None
    reference: str | None = None
    reservation_id: int | None = None  # the reservation this move consumes
    note: str | None = None
    reversed_move_id: int | None = None


@dataclass
class ReservationRequest:
    product_id: int
    location_id: int
    quantity: Decimal
    lot_id: int | None = None
    ref_type: str | None = None
    ref_id: int | None = None
    reference: str | None = None


@dataclass
class StockLine:
    """A line of a receipt or delivery as a person types it: product by id, SKU or barcode,
    lot by name, quantity in the product's unit unless `uom` (a unit code) says otherwise."""

    product: int | str
    quantity: Decimal | str | int
    lot: str | None = None
    unit_cost: Decimal | str | None = None
    uom: str | None = None
    expiry_date: dt.date | None = None
    location: int | str | None = None  # per-line location, overriding the document's


# ------------------------------------------------------------- look-ups
def _products(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, dict]:
    ids = set(ids)
    if not ids:
        return {}
    p, c = md.Product, md.ProductCategory
    rows = uow.session.execute(
        select(p.id, p.sku, p.name, p.uom_id, p.tracking, p.product_type, p.cost,
               func.coalesce(c.valuation, "average").label("valuation"))
        .outerjoin(c, c.id == p.category_id)
        .where(p.company_id == uow.company_id, p.id.in_(ids))).mappings().all()
    found = {r["id"]: dict(r) for r in rows}
    missing = ids - set(found)
    if missing:
        raise NotFound(_("商品不存在：#{id}", id=min(missing)), field="product")
    return found


def _locations(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, dict]:
    ids = set(ids)
    if not ids:
        return {}
    loc = md.Location
    rows = uow.session.execute(
        select(loc.id, loc.code, loc.full_code, loc.usage, loc.allow_negative, loc.warehouse_id, loc.active)
        .where(loc.company_id == uow.company_id, loc.id.in_(ids))).mappings().all()
    found = {r["id"]: dict(r) for r in rows}
    missing = ids - set(found)
    if missing:
        raise NotFound(_("库位不存在：#{id}", id=min(missing)), field="location")
    return found


def _lots(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, dict]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = uow.session.execute(select(StockLot.id, StockLot.product_id, StockLot.name).where(
        StockLot.company_id == uow.company_id, StockLot.id.in_(ids))).mappings().all()
    found = {r["id"]: dict(r) for r in rows}
    missing = ids - set(found)
    if missing:
        raise NotFound(_("批次不存在：#{id}", id=min(missing)), field="lot")
    return found


def _uoms(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, dict]:
    ids = set(ids)
    if not ids:
        return {}
    rows = uow.session.execute(select(md.Uom.id, md.Uom.code, md.Uom.category_id, md.Uom.ratio)
                               .where(md.Uom.id.in_(ids))).mappings().all()
    return {r["id"]: dict(r) for r in rows}


def convert_quantity(quantity: Decimal, from_uom: dict, to_uom: dict) -> Decimal:
    """Convert between two units of the same category (箱 ratio 12 → 件 ratio 1: 2 箱 = 24 件)."""
    if from_uom["id"] == to_uom["id"]:
        return quantity
    if from_uom["category_id"] != to_uom["category_id"]:
        raise ValidationFailed(_("单位 {a} 不能换算为 {b}", a=from_uom["code"], b=to_uom["code"]), field="uom")
    return q6(Decimal(quantity) * Decimal(from_uom["ratio"]) / Decimal(to_uom["ratio"]))


def resolve_product(uow: UnitOfWork, ref: int | str) -> md.Product:
    """A product by id, SKU or barcode (what a scanner or a person types)."""
    base = select(md.Product).where(md.Product.company_id == uow.company_id)
    if isinstance(ref, int):
        prod = uow.session.scalar(base.where(md.Product.id == ref))
        if prod is None:
            raise NotFound(_("商品不存在：#{id}", id=ref), field="product")
        return prod
    text = str(ref or "").strip()
    if not text:
        raise ValidationFailed(_("请输入商品编码"), field="product")
    prod = uow.session.scalar(base.where(md.Product.sku == text)) or _by_barcode(uow, text)
    if prod is None and text.isdigit() and len(text) < 12:
        prod = uow.session.scalar(base.where(md.Product.id == int(text)))
    if prod is None:
        raise NotFound(_("商品不存在：{sku}", sku=text), field="product")
    return prod


def _by_barcode(uow: UnitOfWork, code: str) -> md.Product | None:
    return uow.session.scalars(select(md.Product).where(md.Product.company_id == uow.company_id,
                                                        md.Product.barcode == code)).first()


def resolve_location(uow: UnitOfWork, ref: int | str) -> md.Location:
    """A location by id, full code (`WH/STOCK/A-01-01`) or bin code (`A-01-01`)."""
    if isinstance(ref, int):
        return uow.get(md.Location, ref)
    text = str(ref or "").strip()
    if not text:
        raise ValidationFailed(_("请输入库位"), field="location")
    try:
        return mds.location_by_code(uow, text)
    except NotFound:
        if text.isdigit():
            return uow.get(md.Location, int(text))
        raise NotFound(_("库位不存在：{code}", code=text), field="location") from None


def resolve_uom(uow: UnitOfWork, code: str) -> int:
    uid = uow.session.scalar(select(md.Uom.id).where(md.Uom.code == code))
    if uid is None:
        raise NotFound(_("单位不存在：{code}", code=code), field="uom")
    return uid


# ------------------------------------------------------------------ lots
def create_lot(uow: UnitOfWork, product_id: int, name: str, expiry_date: dt.date | None = None,
               notes: str | None = None) -> StockLot:
    prod = _products(uow, [product_id])[product_id]
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请输入批次号"), field="name")
    if prod["tracking"] == "none":
        raise ValidationFailed(_("商品 {sku} 不按批次或序列号管理", sku=prod["sku"]), field="product")
    if uow.session.scalar(select(StockLot.id).where(StockLot.company_id == uow.company_id,
                                                    StockLot.product_id == product_id, StockLot.name == name)):
        raise Conflict(_("批次已存在：{name}", name=name), field="name")
    lot = uow.add(StockLot(product_id=product_id, name=name, expiry_date=expiry_date, notes=notes))
    uow.flush()
    return lot


def lots_by_name(uow: UnitOfWork, wanted: Iterable[tuple[int, str]], *, create: bool = False,
                 expiry: dict[tuple[int, str], dt.date] | None = None) -> dict[tuple[int, str], int]:
    """Lot ids for (product id, lot name) pairs, in one query; missing ones are created when asked."""
    wanted = {(p, n.strip()) for p, n in wanted if n and n.strip()}
    if not wanted:
        return {}
    rows = uow.session.execute(select(StockLot.product_id, StockLot.name, StockLot.id).where(
        StockLot.company_id == uow.company_id,
        tuple_(StockLot.product_id, StockLot.name).in_(list(wanted)))).all()
    found = {(p, n): i for p, n, i in rows}
    for pid, name in sorted(wanted - set(found)):
        if not create:
            raise NotFound(_("批次不存在：{name}", name=name), field="lot")
        lot = uow.add(StockLot(product_id=pid, name=name, expiry_date=(expiry or {}).get((pid, name))))
        uow.flush()
        found[(pid, name)] = lot.id
    return found


# ------------------------------------------------------------- validation
def _normalize(uow: UnitOfWork, specs: list[MoveSpec]) -> tuple[list[dict], dict, dict]:
    """Check moves against the business rules and turn them into rows (quantities in the
    product's unit). Returns rows, products and locations by id."""
    if not specs:
        return [], {}, {}
    products = _products(uow, [s.product_id for s in specs])
    locations = _locations(uow, [s.source_location_id for s in specs] + [s.dest_location_id for s in specs])
    lots = _lots(uow, [s.lot_id for s in specs])
    converted = [s for s in specs if s.uom_id and s.uom_id != products[s.product_id]["uom_id"]]
    uoms = _uoms(uow, {s.uom_id for s in converted} | {products[s.product_id]["uom_id"] for s in converted})
    rows = []
    for i, s in enumerate(specs):
        try:
            rows.append(_normalize_one(uow, s, products, locations, lots, uoms))
        except DomainError as exc:
            raise _at_line(exc, i, len(specs)) from None
    return rows, products, locations


def _at_line(exc: DomainError, i: int, n: int) -> DomainError:
    """Name the line at fault when a document has several."""
    if n > 1 and not exc.message.startswith(_("第 {n} 行：", n=i + 1)):
        exc.message = _("第 {n} 行：{msg}", n=i + 1, msg=exc.message)
        exc.args = (exc.message,)
    return exc


def _normalize_one(uow: UnitOfWork, s: MoveSpec, products: dict, locations: dict, lots: dict, uoms: dict) -> dict:
    prod = products[s.product_id]
    try:
        qty = to_decimal(s.quantity)
    except ArithmeticError:
        raise ValidationFailed(_("数量格式不正确：{v}", v=s.quantity), field="quantity") from None
    if not qty.is_finite() or qty <= 0:
        raise ValidationFailed(_("数量必须大于 0"), field="quantity")
    if s.uom_id and s.uom_id != prod["uom_id"]:
        if s.uom_id not in uoms:
            raise NotFound(_("单位不存在：#{id}", id=s.uom_id), field="uom")
        qty = convert_quantity(qty, uoms[s.uom_id], uoms[prod["uom_id"]])
    qty = q6(qty)
    if qty <= 0:
        raise ValidationFailed(_("数量必须大于 0"), field="quantity")
    if prod["product_type"] == "service":
        raise ValidationFailed(_("服务类商品没有库存：{sku}", sku=prod["sku"]), field="product")
    src, dst = locations[s.source_location_id], locations[s.dest_location_id]
    if src["id"] == dst["id"]:
        raise ValidationFailed(_("来源库位和目标库位不能相同"), field="location")
    for loc in (src, dst):
        if loc["usage"] == "view":
            raise ValidationFailed(_("{code} 是视图库位，不能存放库存", code=loc["full_code"]), field="location")
    if s.lot_id:
        lot = lots[s.lot_id]
        if lot["product_id"] != s.product_id:
            raise ValidationFailed(_("批次 {lot} 不属于商品 {sku}", lot=lot["name"], sku=prod["sku"]), field="lot")
        if prod["tracking"] == "none":
            raise ValidationFailed(_("商品 {sku} 不按批次管理，不能指定批次", sku=prod["sku"]), field="lot")
    elif prod["tracking"] == "lot":
        raise ValidationFailed(_("商品 {sku} 按批次管理，请填写批次号", sku=prod["sku"]), field="lot")
    elif prod["tracking"] == "serial":
        raise ValidationFailed(_("商品 {sku} 按序列号管理，请填写序列号", sku=prod["sku"]), field="lot")
    if prod["tracking"] == "serial" and qty != 1:
        raise ValidationFailed(_("序列号商品 {sku} 每个序列号数量必须为 1", sku=prod["sku"]), field="quantity")
    unit_cost = None
    if s.unit_cost not in (None, ""):
        unit_cost = to_decimal(s.unit_cost)
        if unit_cost < 0:
            raise ValidationFailed(_("单位成本不能为负数"), field="unit_cost")
    return {
        "company_id": uow.company_id, "product_id": s.product_id, "uom_id": prod["uom_id"], "quantity": qty,
        "source_location_id": src["id"], "dest_location_id": dst["id"], "lot_id": s.lot_id or None,
        "ref_type": s.ref_type, "ref_id": s.ref_id, "reference": (s.reference or None),
        "unit_cost": unit_cost, "value": None, "reversed_move_id": s.reversed_move_id, "note": s.note,
        "_reservation_id": s.reservation_id,
    }


def _stamp(uow: UnitOfWork, row: dict, now: dt.datetime) -> dict:
    row.setdefault("created_at", now)
    row["updated_at"] = now
    row.setdefault("created_by_id", uow.actor.user_id)
    row["updated_by_id"] = uow.actor.user_id
    return row


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _audit_dict(row: dict) -> dict:
    keys = ("product_id", "quantity", "source_location_id", "dest_location_id", "lot_id", "state", "reference",
            "ref_type", "ref_id", "unit_cost", "value", "reversed_move_id", "location_id")
    return {k: (str(row[k]) if isinstance(row.get(k), Decimal) else row.get(k)) for k in keys if k in row}


# ----------------------------------------------------------------- quants
def _lock_quants(uow: UnitOfWork, pairs: set[tuple[int, int]], create: set[tuple[int, int, int | None]] = frozenset()
                 ) -> dict[tuple[int, int, int], dict]:
    """Lock every quant row of the given product × location pairs, in (product, location, lot)
    order so concurrent transactions never deadlock; create the rows in `create` first if missing.
    Returns {(product, location, lot_key): {"id", "quantity", "lot_id"}}."""
    if not pairs:
        return {}
    stmt = (select(QUANT.c.id, QUANT.c.product_id, QUANT.c.location_id, QUANT.c.lot_key, QUANT.c.lot_id,
                   QUANT.c.quantity)
            .where(QUANT.c.company_id == uow.company_id,
                   tuple_(QUANT.c.product_id, QUANT.c.location_id).in_(sorted(pairs)))
            .order_by(QUANT.c.product_id, QUANT.c.location_id, QUANT.c.lot_key)
            .with_for_update())
    found = {(r.product_id, r.location_id, r.lot_key): {"id": r.id, "quantity": to_decimal(r.quantity or 0),
                                                         "lot_id": r.lot_id}
             for r in uow.session.execute(stmt)}
    missing = [(p, loc, lot) for p, loc, lot in sorted(create, key=lambda k: (k[0], k[1], k[2] or 0))
               if (p, loc, lot or 0) not in found]
    if not missing:
        return found
    now = utcnow()
    values = [{"company_id": uow.company_id, "product_id": p, "location_id": loc, "lot_id": lot,
               "lot_key": lot or 0, "quantity": ZERO, "updated_at": now} for p, loc, lot in missing]
    dialect = uow.db.dialect
    ins = (postgresql.insert(QUANT) if dialect == "postgresql" else sqlite.insert(QUANT)).on_conflict_do_nothing()
    uow.session.execute(ins, values)
    return {(r.product_id, r.location_id, r.lot_key): {"id": r.id, "quantity": to_decimal(r.quantity or 0),
                                                        "lot_id": r.lot_id}
            for r in uow.session.execute(stmt)}


def _active_reserved(uow: UnitOfWork, pairs: set[tuple[int, int]], exclude: Iterable[int] = ()
                     ) -> tuple[dict[tuple[int, int], Decimal], dict[tuple[int, int, int], Decimal]]:
    """Σ active reservations per (product, location) and per (product, location, lot)."""
    total: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    by_lot: dict[tuple[int, int, int], Decimal] = defaultdict(lambda: ZERO)
    if not pairs:
        return total, by_lot
    stmt = (select(RES.c.product_id, RES.c.location_id, RES.c.lot_id, func.sum(RES.c.quantity))
            .where(RES.c.company_id == uow.company_id, RES.c.state == "active",
                   tuple_(RES.c.product_id, RES.c.location_id).in_(sorted(pairs)))
            .group_by(RES.c.product_id, RES.c.location_id, RES.c.lot_id))
    exclude = list(exclude)
    if exclude:
        stmt = stmt.where(RES.c.id.not_in(exclude))
    for p, loc, lot, qty in uow.session.execute(stmt):
        qty = to_decimal(qty or 0)
        total[(p, loc)] += qty
        if lot:
            by_lot[(p, loc, lot)] += qty
    return total, by_lot


def _shortage(prod: dict, loc: dict, on_hand: Decimal, reserved: Decimal, wanted: Decimal,
              lot_name: str | None = None) -> InsufficientStock:
    available = max(on_hand - reserved, ZERO)
    what = prod["sku"] + (f" [{lot_name}]" if lot_name else "")
    return InsufficientStock(
        _("库存不足：{sku} 在 {location} 现有 {on_hand}，已预留 {reserved}，可用 {available}，需要 {wanted}",
          sku=what, location=loc["full_code"], on_hand=fmt_qty(on_hand), reserved=fmt_qty(reserved),
          available=fmt_qty(available), wanted=fmt_qty(wanted)), field="quantity")


# ------------------------------------------------------------------ posting
def _lock_products(uow: UnitOfWork, ids: set[int]) -> None:
    """Lock the products whose valuation changes, in id order: average cost and FIFO layers are
    read-modify-write per product. FOR NO KEY UPDATE, so rows that merely reference the product
    (a reservation being inserted takes KEY SHARE for its foreign key) never wait on it — with a
    plain FOR UPDATE a reservation holding a quant lock and a posting holding the product would
    deadlock. (Reservations never take this lock.)"""
    if ids:
        uow.session.execute(select(md.Product.id).where(md.Product.company_id == uow.company_id,
                                                        md.Product.id.in_(sorted(ids)))
                            .order_by(md.Product.id).with_for_update(key_share=True))


def _post(uow: UnitOfWork, rows: list[dict], products: dict, locations: dict, *, date_done: dt.datetime | None = None
          ) -> list[int]:
    """Make the given move rows done: check stock, update quants, value them, write them.
    Rows with an "id" are existing draft/confirmed moves; the others are inserted."""
    if not rows:
        return []
    now = utcnow()
    date_done = date_done or now
    lots = _lots(uow, [r["lot_id"] for r in rows])

    def internal(loc_id: int) -> bool:
        return locations[loc_id]["usage"] == "internal"

    # products whose value changes (stock enters or leaves the company's internal locations)
    valued = {r["product_id"] for r in rows if products[r["product_id"]]["product_type"] == "stock"
              and internal(r["source_location_id"]) != internal(r["dest_location_id"])}
    _lock_products(uow, valued)

    # -- quants: lock, then apply deltas in memory and check
    deltas: dict[tuple[int, int, int | None], Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        if internal(r["source_location_id"]):
            deltas[(r["product_id"], r["source_location_id"], r["lot_id"])] -= r["quantity"]
        if internal(r["dest_location_id"]):
            deltas[(r["product_id"], r["dest_location_id"], r["lot_id"])] += r["quantity"]
    pairs = {(p, loc) for p, loc, _lot in deltas}
    before_total_by_product = _internal_totals(uow, valued)  # before this batch, for the average cost
    value_by_product = _layer_values(uow, valued)
    quants = _lock_quants(uow, pairs, create=set(deltas))

    # reservations consumed by these moves (locked after the quants: same order as reserve())
    res_ids = [r["_reservation_id"] for r in rows if r.get("_reservation_id")]
    reservations = _consumable_reservations(uow, res_ids, rows, products, lots)
    reserved_total, reserved_lot = _active_reserved(uow, pairs, exclude=res_ids)

    new_qty = {k: v["quantity"] for k, v in quants.items()}
    for (p, loc, lot), d in deltas.items():
        new_qty[(p, loc, lot or 0)] = new_qty.get((p, loc, lot or 0), ZERO) + d
    # remainders of partly consumed reservations stay active
    for r in rows:
        res = reservations.get(r.get("_reservation_id"))
        if res and res["quantity"] > r["quantity"]:
            rest = res["quantity"] - r["quantity"]
            reserved_total[(res["product_id"], res["location_id"])] += rest
            if res["lot_id"]:
                reserved_lot[(res["product_id"], res["location_id"], res["lot_id"])] += rest
    _check_stock(deltas, quants, new_qty, reserved_total, reserved_lot, products, locations, lots)

    # -- valuation (before writing, moves in the order given)
    layers, fifo_updates, new_costs = _value(uow, rows, products, locations, before_total_by_product,
                                             value_by_product)

    # -- write moves
    for r in rows:
        r["state"] = "done"
        r["date_done"] = date_done
        _stamp(uow, r, now)
    new_rows = [r for r in rows if "id" not in r]
    old_rows = [r for r in rows if "id" in r]
    if new_rows:
        result = uow.session.execute(insert(MOVE).returning(MOVE.c.id, sort_by_parameter_order=True),
                                     [_public(r) for r in new_rows])
        for r, (mid,) in zip(new_rows, result.all(), strict=True):
            r["id"] = mid
    if old_rows:
        uow.session.execute(
            update(MOVE).where(MOVE.c.id == bindparam("mid"))
            .values(state="done", date_done=bindparam("dd"), unit_cost=bindparam("uc"), value=bindparam("val"),
                    updated_at=bindparam("now"), updated_by_id=bindparam("uid")),
            [{"mid": r["id"], "dd": date_done, "uc": r["unit_cost"], "val": r["value"], "now": now,
              "uid": uow.actor.user_id} for r in old_rows])

    # -- write quants (relative update: the rows are locked)
    qrows = [{"qid": quants[(p, loc, lot or 0)]["id"], "d": d, "now": now}
             for (p, loc, lot), d in deltas.items() if d != 0]
    if qrows:
        uow.session.execute(update(QUANT).where(QUANT.c.id == bindparam("qid"))
                            .values(quantity=QUANT.c.quantity + bindparam("d"), updated_at=bindparam("now")), qrows)
    _check_serials(uow, rows, products, lots)

    # -- write valuation
    for layer in layers:
        layer["move_id"] = layer.pop("_row")["id"]
        _stamp(uow, layer, now)
    if layers:
        uow.session.execute(insert(LAYER), layers)
    if fifo_updates:
        uow.session.execute(update(LAYER).where(LAYER.c.id == bindparam("lid"))
                            .values(remaining_quantity=bindparam("rq"), remaining_value=bindparam("rv")),
                            [{"lid": k, "rq": v[0], "rv": v[1]} for k, v in fifo_updates.items()])
    if new_costs:
        mds.set_product_costs(uow, new_costs)
    if layers:  # the stock side of the general ledger, in this same transaction
        by_move = {r["id"]: r for r in rows}
        postings = []
        for lay in layers:
            move = by_move[lay["move_id"]]
            far_side = move["source_location_id"] if lay["value"] > 0 else move["dest_location_id"]
            postings.append({"product_id": lay["product_id"], "value": lay["value"], "date_done": date_done,
                             "reference": move["reference"], "counterpart_usage": locations[far_side]["usage"]})
        post_stock_valuation(uow, postings)

    # -- consume reservations
    if reservations:
        _close_consumed(uow, rows, reservations, now)

    audit = [dict(action="done" if "_was_draft" in r else "create", entity="stock_move", entity_id=r["id"],
                  after=_audit_dict(r)) for r in rows]
    audit += [dict(action="create", entity="stock_valuation_layer", entity_id=None,
                   after={"move_id": lay["move_id"], "product_id": lay["product_id"],
                          "quantity": str(lay["quantity"]), "value": str(lay["value"])}) for lay in layers]
    record_many(uow.session, audit)
    move_ids = [r["id"] for r in rows]
    uow.emit("inventory.moves_done", move_ids=move_ids)
    return move_ids


def _check_stock(deltas: dict, quants: dict, new_qty: dict, reserved_total: dict, reserved_lot: dict,
                 products: dict, locations: dict, lots: dict) -> None:
    """Refuse the batch if any product × location (or lot there) would end below what is reserved
    or below zero, unless the location allows negative stock. Linear in the batch size."""
    out_by_pair: dict[tuple[int, int], list[tuple[int | None, Decimal]]] = defaultdict(list)
    for (p, loc, lot), d in deltas.items():
        if d < 0 and not locations[loc]["allow_negative"]:
            out_by_pair[(p, loc)].append((lot, d))
    if not out_by_pair:
        return
    old_total: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    new_total: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for (p, loc, _key), q in quants.items():
        old_total[(p, loc)] += q["quantity"]
    for (p, loc, _key), q in new_qty.items():
        new_total[(p, loc)] += q
    for (p, loc), outs in sorted(out_by_pair.items()):
        location = locations[loc]
        wanted = sum((-d for _lot, d in outs), ZERO)
        if new_total[(p, loc)] < reserved_total[(p, loc)]:
            raise _shortage(products[p], location, old_total[(p, loc)], reserved_total[(p, loc)], wanted)
        for lot, d in sorted(outs, key=lambda x: x[0] or 0):
            after = new_qty[(p, loc, lot or 0)]
            lot_reserved = reserved_lot.get((p, loc, lot), ZERO) if lot else ZERO
            if after < lot_reserved or after < 0:
                before = quants[(p, loc, lot or 0)]["quantity"]
                raise _shortage(products[p], location, before, lot_reserved, -d, lots[lot]["name"] if lot else None)


def _internal_totals(uow: UnitOfWork, product_ids: set[int]) -> dict[int, Decimal]:
    if not product_ids:
        return {}
    loc = md.Location
    rows = uow.session.execute(
        select(QUANT.c.product_id, func.sum(QUANT.c.quantity)).join(loc, loc.id == QUANT.c.location_id)
        .where(QUANT.c.company_id == uow.company_id, QUANT.c.product_id.in_(product_ids), loc.usage == "internal")
        .group_by(QUANT.c.product_id)).all()
    return {p: to_decimal(q or 0) for p, q in rows}


def _layer_values(uow: UnitOfWork, product_ids: set[int]) -> dict[int, Decimal]:
    """Value of each product's stock on hand (Σ of its valuation layers)."""
    if not product_ids:
        return {}
    rows = uow.session.execute(
        select(LAYER.c.product_id, func.sum(LAYER.c.value))
        .where(LAYER.c.company_id == uow.company_id, LAYER.c.product_id.in_(product_ids))
        .group_by(LAYER.c.product_id)).all()
    return {p: money(to_decimal(v or 0)) for p, v in rows}


def _consumable_reservations(uow: UnitOfWork, ids: list[int], rows: list[dict], products: dict, lots: dict
                             ) -> dict[int, dict]:
    if not ids:
        return {}
    if len(set(ids)) != len(ids):
        raise ValidationFailed(_("同一预留不能被多次出库"), field="reservation")
    found = {r["id"]: dict(r) for r in uow.session.execute(
        select(RES.c.id, RES.c.product_id, RES.c.location_id, RES.c.lot_id, RES.c.quantity, RES.c.state,
               RES.c.ref_type, RES.c.ref_id, RES.c.reference)
        .where(RES.c.company_id == uow.company_id, RES.c.id.in_(ids)).order_by(RES.c.id).with_for_update()
    ).mappings()}
    for r in rows:
        rid = r.get("_reservation_id")
        if not rid:
            continue
        res = found.get(rid)
        if res is None:
            raise NotFound(_("预留不存在：#{id}", id=rid), field="reservation")
        res["quantity"] = to_decimal(res["quantity"])
        if res["state"] != "active":
            raise Conflict(_("预留 #{id} 状态为{state}，不能再出库", id=rid,
                             state=reservation_state_label(res["state"])), field="reservation")
        if (res["product_id"], res["location_id"]) != (r["product_id"], r["source_location_id"]):
            raise ValidationFailed(_("出库的商品或库位与预留 #{id} 不一致", id=rid), field="reservation")
        if res["lot_id"] and res["lot_id"] != r["lot_id"]:
            raise ValidationFailed(_("出库批次与预留 #{id} 不一致", id=rid), field="lot")
        if r["quantity"] > res["quantity"]:
            raise ValidationFailed(_("出库数量 {q} 超过预留数量 {r}", q=fmt_qty(r["quantity"]),
                                     r=fmt_qty(res["quantity"])), field="quantity")
    return found


def _close_consumed(uow: UnitOfWork, rows: list[dict], reservations: dict[int, dict], now: dt.datetime) -> None:
    closes, rests, audit = [], [], []
    for r in rows:
        res = reservations.get(r.get("_reservation_id"))
        if not res:
            continue
        closes.append({"rid": res["id"], "mid": r["id"], "now": now})
        audit.append(dict(action="consume", entity="stock_reservation", entity_id=res["id"],
                          after={"state": "consumed", "move_id": r["id"]}))
        if res["quantity"] > r["quantity"]:
            rests.append(_stamp(uow, {
                "company_id": uow.company_id, "product_id": res["product_id"], "location_id": res["location_id"],
                "lot_id": res["lot_id"], "quantity": res["quantity"] - r["quantity"], "state": "active",
                "ref_type": res["ref_type"], "ref_id": res["ref_id"], "reference": res["reference"]}, now))
    uow.session.execute(update(RES).where(RES.c.id == bindparam("rid"))
                        .values(state="consumed", move_id=bindparam("mid"), closed_at=bindparam("now"),
                                updated_at=bindparam("now")), closes)
    if rests:
        uow.session.execute(insert(RES), rests)
        audit += [dict(action="create", entity="stock_reservation", entity_id=None, after=_audit_dict(x))
                  for x in rests]
    record_many(uow.session, audit)


def _check_serials(uow: UnitOfWork, rows: list[dict], products: dict, lots: dict) -> None:
    serial_lots = {r["lot_id"] for r in rows if products[r["product_id"]]["tracking"] == "serial" and r["lot_id"]}
    if not serial_lots:
        return
    loc = md.Location
    dup = uow.session.execute(
        select(QUANT.c.lot_id, func.sum(QUANT.c.quantity)).join(loc, loc.id == QUANT.c.location_id)
        .where(QUANT.c.company_id == uow.company_id, QUANT.c.lot_id.in_(serial_lots), loc.usage == "internal")
        .group_by(QUANT.c.lot_id).having(func.sum(QUANT.c.quantity) > 1)).first()
    if dup is not None:
        raise Conflict(_("序列号 {serial} 已在库，不能重复入库", serial=lots[dup[0]]["name"]), field="lot")


def _value(uow: UnitOfWork, rows: list[dict], products: dict, locations: dict, on_hand: dict[int, Decimal],
           value_on_hand: dict[int, Decimal]):
    """Valuation layers for moves that bring stock into or take it out of internal locations.
    Average: incoming updates the product's moving-average cost; outgoing leaves at that cost.
    FIFO: incoming layers keep a remainder; outgoing consumes the oldest remainders first.

    Layer values are in cents, like the general ledger they post to, and the move that
    empties a product's stock takes exactly the value left — so the stock accounts and the
    valuation stay equal to the cent however costs divide."""
    layers: list[dict] = []
    fifo_updates: dict[int, tuple[Decimal, Decimal]] = {}
    costs: dict[int, Decimal] = {}
    on_hand = dict(on_hand)
    value_on_hand = dict(value_on_hand)
    # open FIFO layers of every FIFO product in the batch, oldest first, in one query
    fifo_ids = {r["product_id"] for r in rows if products[r["product_id"]]["valuation"] == "fifo"}
    fifo_queues: dict[int, list[list]] = defaultdict(list)
    if fifo_ids:
        for lay in uow.session.execute(
                select(LAYER.c.id, LAYER.c.product_id, LAYER.c.remaining_quantity, LAYER.c.remaining_value)
                .where(LAYER.c.company_id == uow.company_id, LAYER.c.product_id.in_(fifo_ids),
                       LAYER.c.remaining_quantity > 0).order_by(LAYER.c.id)):
            fifo_queues[lay.product_id].append([lay.id, to_decimal(lay.remaining_quantity),
                                                money(to_decimal(lay.remaining_value))])

    for r in rows:
        prod = products[r["product_id"]]
        if prod["product_type"] != "stock":
            continue
        src_in = locations[r["source_location_id"]]["usage"] == "internal"
        dst_in = locations[r["dest_location_id"]]["usage"] == "internal"
        if src_in == dst_in:
            continue
        pid, qty = r["product_id"], r["quantity"]
        cost = costs.get(pid, to_decimal(prod["cost"] or 0))
        held = on_hand.get(pid, ZERO)
        held_value = value_on_hand.get(pid, ZERO)
        if dst_in:  # stock comes in
            unit = r["unit_cost"] if r["unit_cost"] is not None else cost
            value = money(qty * unit)
            layer = {"company_id": uow.company_id, "product_id": pid, "quantity": qty, "unit_cost": q6(unit),
                     "value": value, "remaining_quantity": ZERO, "remaining_value": ZERO, "_row": r,
                     "description": r["reference"]}
            if prod["valuation"] == "fifo":
                layer["remaining_quantity"], layer["remaining_value"] = qty, value
            else:
                costs[pid] = q6((held_value + value) / (held + qty)) if held > 0 and held + qty > 0 else q6(unit)
            layers.append(layer)
            on_hand[pid], value_on_hand[pid] = held + qty, held_value + value
        else:  # stock goes out
            if prod["valuation"] == "fifo":
                value, left = ZERO, qty
                pending = [e for e in fifo_queues[pid] if e[1] > 0]
                pending += [[None, lay["remaining_quantity"], lay["remaining_value"], lay] for lay in layers
                            if lay["product_id"] == pid and lay["remaining_quantity"] > 0]
                for entry in pending:  # stored remainders first, then this batch's: oldest first
                    if left <= 0:
                        break
                    take = min(left, entry[1])
                    part = entry[2] if take == entry[1] else money(entry[2] * take / entry[1])
                    entry[1] -= take
                    entry[2] -= part
                    value += part
                    left -= take
                    if entry[0] is not None:
                        fifo_updates[entry[0]] = (entry[1], entry[2])
                    else:
                        entry[3]["remaining_quantity"], entry[3]["remaining_value"] = entry[1], entry[2]
                if left > 0:  # negative stock allowed somewhere: value the rest at the last cost
                    value += money(left * cost)
            else:
                value = held_value if held - qty == 0 else money(qty * cost)
            unit = q6(value / qty)
            layers.append({"company_id": uow.company_id, "product_id": pid, "quantity": -qty, "unit_cost": unit,
                           "value": -value, "remaining_quantity": ZERO, "remaining_value": ZERO, "_row": r,
                           "description": r["reference"]})
            on_hand[pid], value_on_hand[pid] = held - qty, held_value - value
        r["unit_cost"], r["value"] = q6(unit), value
    return layers, fifo_updates, costs


# --------------------------------------------------------------- use cases
def post_moves(uow: UnitOfWork, specs: list[MoveSpec], *, date_done: dt.datetime | None = None) -> list[int]:
    """Create moves directly in state done (the hot path every module posts through)."""
    rows, products, locations = _normalize(uow, specs)
    return _post(uow, rows, products, locations, date_done=date_done)


def move(uow: UnitOfWork, product_id: int, quantity: Decimal, source_location_id: int, dest_location_id: int,
         **kwargs) -> int:
    """Post one move; see `post_moves` for many."""
    return post_moves(uow, [MoveSpec(product_id, quantity, source_location_id, dest_location_id, **kwargs)])[0]


def create_moves(uow: UnitOfWork, specs: list[MoveSpec], *, confirm: bool = False) -> list[int]:
    """Create planned moves (draft, or confirmed) that change no stock until `done_moves`."""
    rows, _p, _l = _normalize(uow, specs)
    now = utcnow()
    for r in rows:
        r["state"] = "confirmed" if confirm else "draft"
        _stamp(uow, r, now)
    if not rows:
        return []
    result = uow.session.execute(insert(MOVE).returning(MOVE.c.id, sort_by_parameter_order=True),
                                 [_public(r) for r in rows])
    ids = [i for (i,) in result.all()]
    record_many(uow.session, [dict(action="create", entity="stock_move", entity_id=i, after=_audit_dict(r))
                              for i, r in zip(ids, rows, strict=True)])
    return ids


def _load_moves(uow: UnitOfWork, ids: list[int], *, lock: bool = True) -> list[dict]:
    stmt = select(MOVE).where(MOVE.c.company_id == uow.company_id, MOVE.c.id.in_(ids)).order_by(MOVE.c.id)
    if lock:
        stmt = stmt.with_for_update()
    found = {r["id"]: dict(r) for r in uow.session.execute(stmt).mappings()}
    for i in ids:
        if i not in found:
            raise NotFound(_("库存移动不存在：#{id}", id=i), field="move")
    return [found[i] for i in ids]


def confirm_moves(uow: UnitOfWork, ids: list[int]) -> None:
    moves = _load_moves(uow, ids)
    for mv in moves:
        if mv["state"] != "draft":
            raise Conflict(_("只有草稿状态的移动可以确认：#{id}", id=mv["id"]), field="state")
    uow.session.execute(update(MOVE).where(MOVE.c.id.in_(ids)).values(state="confirmed", updated_at=utcnow()))
    record_many(uow.session, [dict(action="confirm", entity="stock_move", entity_id=i) for i in ids])


def done_moves(uow: UnitOfWork, ids: list[int], *, date_done: dt.datetime | None = None) -> list[int]:
    """Make planned moves done: stock changes now."""
    moves = _load_moves(uow, ids)
    for mv in moves:
        if mv["state"] not in ("draft", "confirmed"):
            raise Conflict(_("移动 #{id} 状态为 {state}，不能完成", id=mv["id"], state=move_state_label(mv["state"])),
                           field="state")
    products = _products(uow, {mv["product_id"] for mv in moves})
    locations = _locations(uow, {mv["source_location_id"] for mv in moves} | {mv["dest_location_id"] for mv in moves})
    rows = []
    for mv in moves:
        row = {k: mv[k] for k in ("id", "company_id", "product_id", "uom_id", "source_location_id",
                                  "dest_location_id", "lot_id", "ref_type", "ref_id", "reference",
                                  "reversed_move_id", "note", "created_at", "created_by_id")}
        row.update(quantity=to_decimal(mv["quantity"]), _was_draft=True,
                   unit_cost=None if mv["unit_cost"] is None else to_decimal(mv["unit_cost"]), value=None)
        rows.append(row)
    return _post(uow, rows, products, locations, date_done=date_done)


def cancel_moves(uow: UnitOfWork, ids: list[int]) -> None:
    moves = _load_moves(uow, ids)
    for mv in moves:
        if mv["state"] == "done":
            raise Conflict(_("已完成的移动不能取消，请做冲销：#{id}", id=mv["id"]), field="state")
    uow.session.execute(update(MOVE).where(MOVE.c.id.in_(ids)).values(state="cancelled", updated_at=utcnow()))
    record_many(uow.session, [dict(action="cancel", entity="stock_move", entity_id=i) for i in ids])


def reverse_moves(uow: UnitOfWork, ids: list[int], *, reference: str | None = None) -> list[int]:
    """Correct done moves with opposite moves (the ledger is never edited)."""
    moves = _load_moves(uow, ids, lock=False)
    specs = []
    for mv in moves:
        if mv["state"] != "done":
            raise Conflict(_("只能冲销已完成的移动：#{id}", id=mv["id"]), field="state")
        specs.append(MoveSpec(mv["product_id"], to_decimal(mv["quantity"]), mv["dest_location_id"],
                              mv["source_location_id"], lot_id=mv["lot_id"],
                              unit_cost=None if mv["unit_cost"] is None else to_decimal(mv["unit_cost"]),
                              ref_type=mv["ref_type"], ref_id=mv["ref_id"],
                              reference=reference or _("冲销 {ref}", ref=mv["reference"] or f"#{mv['id']}"),
                              reversed_move_id=mv["id"]))
    return post_moves(uow, specs)


def _stock_specs(uow: UnitOfWork, lines: list[StockLine], location: int | str | None, *, incoming: bool,
                 counterpart: md.Location, reference: str | None, ref_type: str | None, ref_id: int | None,
                 create_lots: bool) -> list[MoveSpec]:
    if not lines:
        raise ValidationFailed(_("请至少填写一行"), field="lines")
    default_loc = resolve_location(uow, location) if location not in (None, "") else None
    resolved = []
    for i, line in enumerate(lines):
        try:
            prod = resolve_product(uow, line.product)
            loc = resolve_location(uow, line.location) if line.location not in (None, "") else default_loc
            if loc is None:
                raise ValidationFailed(_("请输入库位"), field="location")
            if loc.usage != "internal":
                raise ValidationFailed(_("{code} 不是库内库位", code=loc.full_code), field="location")
            try:
                qty = to_decimal(line.quantity)
            except ArithmeticError:
                raise ValidationFailed(_("数量格式不正确：{v}", v=line.quantity), field="quantity") from None
            uom_id = resolve_uom(uow, line.uom) if line.uom else None
            unit_cost = None
            if line.unit_cost not in (None, ""):
                try:
                    unit_cost = to_decimal(line.unit_cost)
                except ArithmeticError:
                    raise ValidationFailed(_("单位成本格式不正确：{v}", v=line.unit_cost), field="unit_cost") from None
        except DomainError as exc:
            raise _at_line(exc, i, len(lines)) from None
        resolved.append((prod, loc, qty, uom_id, unit_cost, line))
    lot_ids = lots_by_name(uow, [(p.id, ln.lot) for p, _loc, _q, _u, _c, ln in resolved if ln.lot],
                           create=create_lots, expiry={(p.id, ln.lot.strip()): ln.expiry_date
                                                       for p, _loc, _q, _u, _c, ln in resolved
                                                       if ln.lot and ln.expiry_date})
    specs = []
    for prod, loc, qty, uom_id, unit_cost, line in resolved:
        lot_id = lot_ids.get((prod.id, line.lot.strip())) if line.lot and line.lot.strip() else None
        src, dst = (counterpart.id, loc.id) if incoming else (loc.id, counterpart.id)
        specs.append(MoveSpec(prod.id, qty, src, dst, lot_id=lot_id, uom_id=uom_id, unit_cost=unit_cost,
                              ref_type=ref_type, ref_id=ref_id, reference=reference))
    return specs


def receive(uow: UnitOfWork, lines: list[StockLine], location: int | str | None = None, *,
            reference: str | None = None, ref_type: str | None = "receipt", ref_id: int | None = None,
            date_done: dt.datetime | None = None) -> list[int]:
    """Receive goods from the supplier location into an internal location or bin (lots are
    created on first use). ERP purchase receipts call this too."""
    supplier = mds.virtual_location(uow, "supplier")
    specs = _stock_specs(uow, lines, location, incoming=True, counterpart=supplier, reference=reference,
                         ref_type=ref_type, ref_id=ref_id, create_lots=True)
    return post_moves(uow, specs, date_done=date_done)


def deliver(uow: UnitOfWork, lines: list[StockLine], location: int | str | None = None, *,
            reference: str | None = None, ref_type: str | None = "delivery", ref_id: int | None = None,
            date_done: dt.datetime | None = None) -> list[int]:
    """Ship goods from an internal location to the customer location."""
    customer = mds.virtual_location(uow, "customer")
    specs = _stock_specs(uow, lines, location, incoming=False, counterpart=customer, reference=reference,
                         ref_type=ref_type, ref_id=ref_id, create_lots=False)
    return post_moves(uow, specs, date_done=date_done)


# ------------------------------------------------------------- reservations
def reserve(uow: UnitOfWork, requests: list[ReservationRequest], *, partial: bool = False) -> list[int]:
    """Reserve stock for documents, batch-first. Locks the quants of every product × location
    involved (in a fixed order), computes available = on-hand − Σ active reservations and either
    refuses the whole batch (InsufficientStock) or, with `partial`, reserves what is available.
    Returns the ids of the reservations made (in request order; a request that got nothing is skipped)."""
    if not requests:
        return []
    products = _products(uow, {r.product_id for r in requests})
    locations = _locations(uow, {r.location_id for r in requests})
    lots = _lots(uow, [r.lot_id for r in requests])
    for r in requests:
        qty = to_decimal(r.quantity)
        if not qty.is_finite() or qty <= 0:
            raise ValidationFailed(_("数量必须大于 0"), field="quantity")
        if locations[r.location_id]["usage"] != "internal":
            raise ValidationFailed(_("{code} 不是库内库位，不能预留", code=locations[r.location_id]["full_code"]),
                                   field="location")
        if r.lot_id and lots[r.lot_id]["product_id"] != r.product_id:
            raise ValidationFailed(_("批次 {lot} 不属于商品 {sku}", lot=lots[r.lot_id]["name"],
                                     sku=products[r.product_id]["sku"]), field="lot")
    pairs = {(r.product_id, r.location_id) for r in requests}
    quants = _lock_quants(uow, pairs)
    reserved_total, reserved_lot = _active_reserved(uow, pairs)
    on_total: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    on_lot: dict[tuple[int, int, int], Decimal] = defaultdict(lambda: ZERO)
    for (p, loc, lot_key), q in quants.items():
        on_total[(p, loc)] += q["quantity"]
        if lot_key:
            on_lot[(p, loc, lot_key)] += q["quantity"]
    now = utcnow()
    values = []
    for r in requests:
        key = (r.product_id, r.location_id)
        qty = q6(to_decimal(r.quantity))
        available = on_total[key] - reserved_total[key]
        if r.lot_id:
            available = min(available, on_lot[(*key, r.lot_id)] - reserved_lot[(*key, r.lot_id)])
        available = max(available, ZERO)
        take = qty if available >= qty else (available if partial else None)
        if take is None:
            lot_name = lots[r.lot_id]["name"] if r.lot_id else None
            on_hand = on_lot[(*key, r.lot_id)] if r.lot_id else on_total[key]
            res = reserved_lot[(*key, r.lot_id)] if r.lot_id else reserved_total[key]
            raise _shortage(products[r.product_id], locations[r.location_id], on_hand, res, qty, lot_name)
        if take <= 0:
            continue
        reserved_total[key] += take
        if r.lot_id:
            reserved_lot[(*key, r.lot_id)] += take
        values.append(_stamp(uow, {"company_id": uow.company_id, "product_id": r.product_id,
                                   "location_id": r.location_id, "lot_id": r.lot_id, "quantity": take,
                                   "state": "active", "ref_type": r.ref_type, "ref_id": r.ref_id,
                                   "reference": r.reference}, now))
    if not values:
        return []
    result = uow.session.execute(insert(RES).returning(RES.c.id, sort_by_parameter_order=True), values)
    ids = [i for (i,) in result.all()]
    record_many(uow.session, [dict(action="create", entity="stock_reservation", entity_id=i, after=_audit_dict(v))
                              for i, v in zip(ids, values, strict=True)])
    # no domain event: the module that reserves knows it did, and this is the hottest path
    return ids


@dataclass
class StockNeed:
    """What a document line needs from a warehouse: `quantity` of a product for line `ref_id`."""

    ref_id: int
    product_id: int
    quantity: Decimal


def reserve_in_warehouse(uow: UnitOfWork, needs: list[StockNeed], warehouse_id: int, *, ref_type: str,
                         reference: str | None = None) -> dict[int, Decimal]:
    """Reserve up to each need among the warehouse's internal locations: lots with the earliest expiry
    first, then bins by code; lot-tracked products are reserved per lot. Reserves what is available
    (never refuses) and returns what was reserved per `ref_id`. Sales orders and work orders both
    reserve through here."""
    needs = [n for n in needs if n.quantity > 0]
    if not needs:
        return {}
    products = {n.product_id for n in needs}
    q, loc, lot = StockQuant, md.Location, StockLot
    quants = uow.session.execute(
        select(q.product_id, q.location_id, q.lot_id, q.quantity)
        .join(loc, loc.id == q.location_id).outerjoin(lot, lot.id == q.lot_id)
        .where(q.company_id == uow.company_id, q.product_id.in_(products), q.quantity > 0,
               loc.usage == "internal", loc.active.is_(True), loc.warehouse_id == warehouse_id)
        .order_by(q.product_id, lot.expiry_date.is_(None), lot.expiry_date, q.lot_id, loc.full_code)).all()
    if not quants:
        return {}
    tracking = dict(uow.session.execute(select(md.Product.id, md.Product.tracking)
                                        .where(md.Product.id.in_(products))).all())
    r = StockReservation
    res_rows = uow.session.execute(
        select(r.product_id, r.location_id, r.lot_id, func.sum(r.quantity))
        .where(r.company_id == uow.company_id, r.state == "active", r.product_id.in_(products))
        .group_by(r.product_id, r.location_id, r.lot_id)).all()
    loc_free: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    lot_free: dict[tuple[int, int, int], Decimal] = {}
    for p, location, lot_id, qty in quants:
        loc_free[(p, location)] += to_decimal(qty)
        if lot_id:
            lot_free[(p, location, lot_id)] = to_decimal(qty)
    for p, location, lot_id, qty in res_rows:
        loc_free[(p, location)] -= to_decimal(qty or 0)
        if lot_id and (p, location, lot_id) in lot_free:
            lot_free[(p, location, lot_id)] -= to_decimal(qty or 0)
    requests = []
    for n in sorted(needs, key=lambda x: x.ref_id):
        need = n.quantity
        tracked = tracking.get(n.product_id, "none") != "none"
        for p, location, lot_id, _qty in quants:
            if need <= 0:
                break
            if p != n.product_id or (tracked and not lot_id):
                continue
            free = loc_free[(p, location)]
            if tracked:
                free = min(free, lot_free.get((p, location, lot_id), ZERO))
            take = min(free, need)
            if take <= 0:
                continue
            requests.append(ReservationRequest(p, location, take, lot_id=lot_id if tracked else None,
                                               ref_type=ref_type, ref_id=n.ref_id, reference=reference))
            loc_free[(p, location)] -= take
            if tracked:
                lot_free[(p, location, lot_id)] -= take
            need -= take
    if not requests:
        return {}
    # merge untracked requests of the same line and bin (a bin appears once per lot in `quants`)
    merged: dict[tuple, ReservationRequest] = {}
    for req in requests:
        key = (req.ref_id, req.location_id, req.lot_id)
        if key in merged:
            merged[key].quantity += req.quantity
        else:
            merged[key] = req
    reserve(uow, list(merged.values()), partial=True)
    got: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for req in merged.values():
        got[req.ref_id] += req.quantity
    return dict(got)


def release(uow: UnitOfWork, reservation_ids: list[int]) -> None:
    """Give reserved goods back to available stock."""
    rows = uow.session.execute(select(RES.c.id, RES.c.state).where(
        RES.c.company_id == uow.company_id, RES.c.id.in_(reservation_ids)).with_for_update()).all()
    found = dict(rows)
    for rid in reservation_ids:
        if rid not in found:
            raise NotFound(_("预留不存在：#{id}", id=rid), field="reservation")
        if found[rid] != "active":
            raise Conflict(_("预留 #{id} 状态为{state}，不能释放", id=rid, state=reservation_state_label(found[rid])),
                           field="state")
    now = utcnow()
    uow.session.execute(update(RES).where(RES.c.id.in_(reservation_ids))
                        .values(state="released", closed_at=now, updated_at=now))
    record_many(uow.session, [dict(action="release", entity="stock_reservation", entity_id=i,
                                   after={"state": "released"}) for i in reservation_ids])


def deliver_reserved(uow: UnitOfWork, reservation_ids: list[int], *, reference: str | None = None,
                     dest_location_id: int | None = None) -> list[int]:
    """Ship reserved goods: each reservation leaves with one done move (to the customer by default)
    and becomes consumed."""
    dest = dest_location_id or mds.virtual_location(uow, "customer").id
    rows = uow.session.execute(select(RES).where(RES.c.company_id == uow.company_id,
                                                 RES.c.id.in_(reservation_ids))).mappings().all()
    found = {r["id"]: r for r in rows}
    specs = []
    for rid in reservation_ids:
        r = found.get(rid)
        if r is None:
            raise NotFound(_("预留不存在：#{id}", id=rid), field="reservation")
        specs.append(MoveSpec(r["product_id"], to_decimal(r["quantity"]), r["location_id"], dest, lot_id=r["lot_id"],
                              ref_type=r["ref_type"], ref_id=r["ref_id"], reference=reference or r["reference"],
                              reservation_id=rid))
    return post_moves(uow, specs)


def transfer_reserved(uow: UnitOfWork, transfers: list[tuple[int, Decimal]], dest_location_id: int, *,
                      reference: str | None = None, ref_type: str | None = None, ref_id: int | None = None
                      ) -> list[tuple[int, int]]:
    """Move reserved goods to another internal location and keep them reserved there for the same
    document (a pick: bin → packing). `transfers` is [(reservation_id, quantity)]; a quantity below
    the reservation's leaves the rest reserved where it was. Returns [(move_id, new_reservation_id)].
    The move's own ref (`ref_type`/`ref_id`, e.g. the pick task) is the caller's; the new
    reservation keeps the original document's ref."""
    if not transfers:
        return []
    dest = _locations(uow, {dest_location_id})[dest_location_id]
    if dest["usage"] != "internal":
        raise ValidationFailed(_("{code} 不是库内库位", code=dest["full_code"]), field="location")
    ids = [rid for rid, _q in transfers]
    found = {r["id"]: r for r in uow.session.execute(
        select(RES).where(RES.c.company_id == uow.company_id, RES.c.id.in_(ids))).mappings()}
    specs = []
    for rid, qty in transfers:
        r = found.get(rid)
        if r is None:
            raise NotFound(_("预留不存在：#{id}", id=rid), field="reservation")
        specs.append(MoveSpec(r["product_id"], to_decimal(qty), r["location_id"], dest_location_id, lot_id=r["lot_id"],
                              ref_type=ref_type or r["ref_type"], ref_id=ref_id if ref_type else r["ref_id"],
                              reference=reference or r["reference"], reservation_id=rid))
    move_ids = post_moves(uow, specs)
    new_ids = reserve(uow, [ReservationRequest(s.product_id, dest_location_id, s.quantity, lot_id=s.lot_id,
                                               ref_type=found[s.reservation_id]["ref_type"],
                                               ref_id=found[s.reservation_id]["ref_id"],
                                               reference=found[s.reservation_id]["reference"]) for s in specs])
    return list(zip(move_ids, new_ids, strict=True))


def _warehouse_pairs(uow: UnitOfWork, wanted: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (product, internal location) pairs holding stock of the wanted (product, warehouse) pairs."""
    if not wanted:
        return set()
    loc = md.Location
    return {(p, lid) for p, lid, wid in uow.session.execute(
        select(QUANT.c.product_id, QUANT.c.location_id, loc.warehouse_id).join(loc, loc.id == QUANT.c.location_id)
        .where(QUANT.c.company_id == uow.company_id, loc.usage == "internal", QUANT.c.quantity > 0,
               tuple_(QUANT.c.product_id, loc.warehouse_id).in_(sorted(wanted)))) if (p, wid) in wanted}


def lock_warehouse_stock(uow: UnitOfWork, product_ids: Iterable[int], warehouse_id: int) -> None:
    """Lock the stock rows of the products in one warehouse until the transaction ends, so a decision read
    after this (e.g. "may this much leave?") holds until the goods move: moves and reservations wait."""
    _lock_quants(uow, _warehouse_pairs(uow, {(int(p), int(warehouse_id)) for p in product_ids}))


@dataclass
class WarehouseTransfer:
    """Free stock of one product to move from one warehouse to another (调拨)."""

    product_id: int
    quantity: Decimal
    from_warehouse_id: int
    to_warehouse_id: int


def transfer_between_warehouses(uow: UnitOfWork, transfers: list[WarehouseTransfer], *, reference: str | None = None,
                                ref_type: str | None = None, ref_id: int | None = None, note: str | None = None
                                ) -> list[int]:
    """Move unreserved stock between warehouses (an internal transfer, 调拨): taken from the source warehouse's
    internal locations holding free stock (fullest first, lots oldest first; what is reserved there stays) and
    booked into the destination warehouse's stock location. The quants are locked first, so two transfers
    never take the same units; not enough free stock is refused (InsufficientStock) and nothing moves. There
    is no in-transit stock yet: the goods are in the destination as soon as this is booked. Returns the moves."""
    if not transfers:
        return []
    whs = {w.id: w for w in uow.session.scalars(select(md.Warehouse).where(
        md.Warehouse.company_id == uow.company_id,
        md.Warehouse.id.in_({t.from_warehouse_id for t in transfers} | {t.to_warehouse_id for t in transfers})))}
    for t in transfers:
        for wid in (t.from_warehouse_id, t.to_warehouse_id):
            if wid not in whs:
                raise NotFound(_("仓库不存在：#{id}", id=wid), field="warehouse")
        if t.from_warehouse_id == t.to_warehouse_id:
            raise ValidationFailed(_("调出仓库与调入仓库不能相同"), field="to_warehouse_id")
        if to_decimal(t.quantity) <= 0:
            raise ValidationFailed(_("调拨数量须大于 0"), field="quantity")
        if whs[t.to_warehouse_id].stock_location_id is None:
            raise ValidationFailed(_("仓库 {code} 没有库存库位", code=whs[t.to_warehouse_id].code),
                                   field="to_warehouse_id")
    loc = md.Location
    pairs = _warehouse_pairs(uow, {(t.product_id, t.from_warehouse_id) for t in transfers})
    quants = _lock_quants(uow, pairs)
    res_total, res_lot = _active_reserved(uow, pairs)
    loc_wh = dict(uow.session.execute(select(loc.id, loc.warehouse_id).where(loc.id.in_({lid for _p, lid in pairs}
                                                                                       or {0}))).all())
    loc_free: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for (p, lid, _key), q in quants.items():
        loc_free[(p, lid)] += q["quantity"]
    for k in list(loc_free):
        loc_free[k] -= res_total.get(k, ZERO)
    products = _products(uow, {t.product_id for t in transfers})
    specs = []
    for t in transfers:
        need = to_decimal(t.quantity)
        candidates = sorted(((p, lid) for p, lid in loc_free
                             if p == t.product_id and loc_wh.get(lid) == t.from_warehouse_id),
                            key=lambda k: (-loc_free[k], k[1]))
        free_total = sum((max(loc_free[k], ZERO) for k in candidates), ZERO)
        for p, lid in candidates:
            for (qp, qlid, _key), q in sorted(quants.items(), key=lambda kv: kv[0][2]):
                if need <= 0 or loc_free[(p, lid)] <= 0:
                    break
                if (qp, qlid) != (p, lid):
                    continue
                lot_free = q["quantity"] - (res_lot.get((p, lid, q["lot_id"]), ZERO) if q["lot_id"] else ZERO)
                take = min(need, lot_free, loc_free[(p, lid)])
                if take <= 0:
                    continue
                q["quantity"] -= take
                loc_free[(p, lid)] -= take
                need -= take
                specs.append(MoveSpec(p, take, lid, whs[t.to_warehouse_id].stock_location_id, lot_id=q["lot_id"],
                                      ref_type=ref_type, ref_id=ref_id, reference=reference, note=note))
        if need > 0:
            raise InsufficientStock(
                _("库存不足：{sku} 在仓库 {code} 可用 {available}，调拨需要 {wanted}",
                  sku=products[t.product_id]["sku"], code=whs[t.from_warehouse_id].code,
                  available=fmt_qty(free_total), wanted=fmt_qty(t.quantity)),
                field="quantity")
    return post_moves(uow, specs)


# --------------------------------------------------------------- queries
def on_hand(uow: UnitOfWork, product_id: int, location_id: int | None = None, lot_id: int | None = None) -> Decimal:
    """On-hand in internal locations (all of them, or one), optionally of one lot."""
    loc = md.Location
    stmt = (select(func.sum(QUANT.c.quantity)).join(loc, loc.id == QUANT.c.location_id)
            .where(QUANT.c.company_id == uow.company_id, QUANT.c.product_id == product_id, loc.usage == "internal"))
    if location_id:
        stmt = stmt.where(QUANT.c.location_id == location_id)
    if lot_id:
        stmt = stmt.where(QUANT.c.lot_id == lot_id)
    return to_decimal(uow.session.scalar(stmt) or 0)


def reserved(uow: UnitOfWork, product_id: int, location_id: int | None = None, lot_id: int | None = None) -> Decimal:
    stmt = select(func.sum(RES.c.quantity)).where(RES.c.company_id == uow.company_id, RES.c.state == "active",
                                                  RES.c.product_id == product_id)
    if location_id:
        stmt = stmt.where(RES.c.location_id == location_id)
    if lot_id:
        stmt = stmt.where(RES.c.lot_id == lot_id)
    return to_decimal(uow.session.scalar(stmt) or 0)


def available(uow: UnitOfWork, product_id: int, location_id: int | None = None) -> Decimal:
    return on_hand(uow, product_id, location_id) - reserved(uow, product_id, location_id)


def ledger_balances(uow: UnitOfWork) -> dict[tuple[int, int, int | None], Decimal]:
    """On-hand recomputed from Σ done moves, per product × internal location × lot."""
    loc = md.Location
    result: dict[tuple[int, int, int | None], Decimal] = defaultdict(lambda: ZERO)
    for side, sign in ((MOVE.c.dest_location_id, 1), (MOVE.c.source_location_id, -1)):
        stmt = (select(MOVE.c.product_id, side, MOVE.c.lot_id, func.sum(MOVE.c.quantity))
                .join(loc, loc.id == side)
                .where(MOVE.c.company_id == uow.company_id, MOVE.c.state == "done", loc.usage == "internal")
                .group_by(MOVE.c.product_id, side, MOVE.c.lot_id))
        for p, location_id, lot, qty in uow.session.execute(stmt):
            result[(p, location_id, lot)] += sign * to_decimal(qty or 0)
    return dict(result)


def check_ledger(uow: UnitOfWork) -> list[dict]:
    """Compare the on-hand table with Σ done moves; returns one entry per difference (empty = healthy)."""
    expected = ledger_balances(uow)
    actual = {(r.product_id, r.location_id, r.lot_id): to_decimal(r.quantity) for r in uow.session.execute(
        select(QUANT.c.product_id, QUANT.c.location_id, QUANT.c.lot_id, QUANT.c.quantity)
        .where(QUANT.c.company_id == uow.company_id))}
    diffs = []
    for key in sorted(set(expected) | set(actual), key=lambda k: (k[0], k[1], k[2] or 0)):
        want, have = q6(expected.get(key, ZERO)), q6(actual.get(key, ZERO))
        if want != have:
            diffs.append({"product_id": key[0], "location_id": key[1], "lot_id": key[2], "on_hand": have,
                          "from_moves": want, "difference": have - want})
    return diffs


def rebuild_quants(uow: UnitOfWork) -> list[dict]:
    """Set the on-hand table to Σ done moves (an operator's repair); returns what was corrected."""
    diffs = check_ledger(uow)
    if not diffs:
        return []
    pairs = {(d["product_id"], d["location_id"]) for d in diffs}
    quants = _lock_quants(uow, pairs, create={(d["product_id"], d["location_id"], d["lot_id"]) for d in diffs})
    now = utcnow()
    uow.session.execute(update(QUANT).where(QUANT.c.id == bindparam("qid"))
                        .values(quantity=bindparam("q"), updated_at=bindparam("now")),
                        [{"qid": quants[(d["product_id"], d["location_id"], d["lot_id"] or 0)]["id"],
                          "q": d["from_moves"], "now": now} for d in diffs])
    record_many(uow.session, [dict(action="rebuild", entity="stock_quant", entity_id=None,
                                   after={k: str(v) if isinstance(v, Decimal) else v for k, v in d.items()})
                              for d in diffs])
    return diffs


# ------------------------------------------------------------- adjustments
@dataclass
class AdjustmentLineIn:
    product: int | str
    location: int | str
    counted_quantity: Decimal | str | int
    lot: str | int | None = None


def create_adjustment(uow: UnitOfWork, reason: str, lines: list[AdjustmentLineIn]) -> InventoryAdjustment:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写盘点原因"), field="reason")
    if not lines:
        raise ValidationFailed(_("请至少填写一行"), field="lines")
    adj = InventoryAdjustment(number=next_number(uow, "ADJ"), reason=reason[:200], state="draft")
    seen = set()
    for line in lines:
        prod = resolve_product(uow, line.product)
        loc = resolve_location(uow, line.location)
        if loc.usage != "internal":
            raise ValidationFailed(_("{code} 不是库内库位", code=loc.full_code), field="location")
        try:
            counted = to_decimal(line.counted_quantity)
        except ArithmeticError:
            raise ValidationFailed(_("数量格式不正确：{v}", v=line.counted_quantity),
                                   field="counted_quantity") from None
        if not counted.is_finite() or counted < 0:
            raise ValidationFailed(_("盘点数量不能为负数"), field="counted_quantity")
        lot_id = None
        if line.lot not in (None, ""):
            if isinstance(line.lot, int):
                lot_id = _lots(uow, [line.lot])[line.lot]["id"]
            else:
                lot_id = lots_by_name(uow, [(prod.id, line.lot)], create=True)[(prod.id, line.lot.strip())]
        elif prod.tracking != "none":
            raise ValidationFailed(_("商品 {sku} 按批次管理，请填写批次号", sku=prod.sku), field="lot")
        if prod.tracking == "serial" and counted not in (0, 1):
            raise ValidationFailed(_("序列号商品 {sku} 每个序列号数量必须为 1", sku=prod.sku), field="counted_quantity")
        key = (prod.id, loc.id, lot_id)
        if key in seen:
            raise ValidationFailed(_("同一商品、库位、批次重复出现：{sku} {loc}", sku=prod.sku, loc=loc.full_code),
                                   field="lines")
        seen.add(key)
        adj.lines.append(InventoryAdjustmentLine(product_id=prod.id, location_id=loc.id, lot_id=lot_id,
                                                 counted_quantity=q6(counted)))
    uow.add(adj)
    uow.flush()
    return adj


def validate_adjustment(uow: UnitOfWork, adjustment_id: int) -> InventoryAdjustment:
    """Post exactly the differences between counted and on-hand (at validation time) as moves
    from/to the company's inventory-loss location."""
    adj = uow.get(InventoryAdjustment, adjustment_id, for_update=True)
    if adj.state != "draft":
        raise Conflict(_("盘点单 {number} 已处理，不能再次确认", number=adj.number), field="state")
    adjust_loc = mds.virtual_location(uow, "inventory")
    pairs = {(ln.product_id, ln.location_id) for ln in adj.lines}
    _lock_products(uow, {p for p, _loc in pairs})  # same lock order as posting: products, then quants
    quants = _lock_quants(uow, pairs)
    specs, lines_with_moves = [], []
    for ln in adj.lines:
        have = quants.get((ln.product_id, ln.location_id, ln.lot_id or 0), {}).get("quantity", ZERO)
        diff = q6(to_decimal(ln.counted_quantity) - have)
        ln.theoretical_quantity, ln.difference = q6(have), diff
        if diff > 0:
            specs.append(MoveSpec(ln.product_id, diff, adjust_loc.id, ln.location_id, lot_id=ln.lot_id,
                                  ref_type="adjustment", ref_id=adj.id, reference=adj.number))
        elif diff < 0:
            specs.append(MoveSpec(ln.product_id, -diff, ln.location_id, adjust_loc.id, lot_id=ln.lot_id,
                                  ref_type="adjustment", ref_id=adj.id, reference=adj.number))
        else:
            continue
        lines_with_moves.append(ln)
    move_ids = post_moves(uow, specs) if specs else []
    for ln, mid in zip(lines_with_moves, move_ids, strict=True):
        ln.move_id = mid
    adj.state, adj.date_done = "done", utcnow()
    uow.flush()
    uow.emit("inventory.adjustment_done", adjustment_id=adj.id, move_ids=move_ids)
    return adj


def cancel_adjustment(uow: UnitOfWork, adjustment_id: int) -> InventoryAdjustment:
    adj = uow.get(InventoryAdjustment, adjustment_id, for_update=True)
    if adj.state != "draft":
        raise Conflict(_("盘点单 {number} 已处理，不能取消", number=adj.number), field="state")
    adj.state = "cancelled"
    uow.flush()
    return adj


# --------------------------------------------------------------- valuation
def valuation(uow: UnitOfWork) -> dict:
    """Value of the stock on hand, per product (Σ valuation layers) and in total.

    `gl_inventory_balance` is what the general ledger says the stock is worth (the stock
    accounts). Every valued move posts there in its own transaction, so the two are equal
    to the cent; a difference means someone posted to a stock account by hand."""
    p = md.Product
    rows = uow.session.execute(
        select(LAYER.c.product_id, p.sku, p.name, func.sum(LAYER.c.quantity), func.sum(LAYER.c.value))
        .join(p, p.id == LAYER.c.product_id)
        .where(LAYER.c.company_id == uow.company_id)
        .group_by(LAYER.c.product_id, p.sku, p.name).order_by(p.sku)).all()
    methods = {r["id"]: r["valuation"] for r in _products(uow, {r[0] for r in rows}).values()} if rows else {}
    lines, total = [], ZERO
    for pid, sku, name, qty, value in rows:
        qty, value = to_decimal(qty or 0), to_decimal(value or 0)
        if qty == 0 and value == 0:
            continue
        total += value
        lines.append({"product_id": pid, "sku": sku, "product_name": name, "valuation": methods.get(pid, "average"),
                      "quantity": qty, "value": value, "unit_cost": q6(value / qty) if qty else ZERO})
    return {"total_value": total, "gl_inventory_balance": inventory_gl_balance(uow), "lines": lines}


def stock_value(uow: UnitOfWork, before: dt.datetime | None = None) -> Decimal:
    """Value of the stock on hand (Σ valuation layers) — now, or just before an instant (a layer counts from
    its move's date, as in the 收发存 report). Now, it is `valuation()["total_value"]`."""
    from .models import StockMove

    stmt = (select(func.coalesce(func.sum(LAYER.c.value), 0)).select_from(LAYER)
            .where(LAYER.c.company_id == uow.company_id))
    if before is not None:
        stmt = stmt.outerjoin(StockMove, StockMove.id == LAYER.c.move_id).where(
            func.coalesce(StockMove.date_done, LAYER.c.created_at) < before)
    return money(uow.session.scalar(stmt))


# ------------------------------------------------------------ listings
MOVE_STATE_LABELS = {"draft": "草稿", "confirmed": "已确认", "done": "已完成", "cancelled": "已取消"}
RESERVATION_STATE_LABELS = {"active": "预留中", "released": "已释放", "consumed": "已出库"}
ADJUSTMENT_STATE_LABELS = {"draft": "草稿", "done": "已完成", "cancelled": "已取消"}


def move_state_label(state: str) -> str:
    return _(MOVE_STATE_LABELS.get(state, state))


def reservation_state_label(state: str) -> str:
    return _(RESERVATION_STATE_LABELS.get(state, state))


def adjustment_state_label(state: str) -> str:
    return _(ADJUSTMENT_STATE_LABELS.get(state, state))


def _location_filter(uow: UnitOfWork, column, location: str | int | None):
    """A location filter includes its children (WH/STOCK includes WH/STOCK/A-01-01)."""
    loc = resolve_location(uow, location)
    sub = select(md.Location.id).where(md.Location.company_id == uow.company_id,
                                       or_(md.Location.id == loc.id, md.Location.full_code.like(loc.full_code + "/%")))
    return column.in_(sub)


def _product_filter(uow: UnitOfWork, column, product: str | int):
    prod = resolve_product(uow, product)
    return column == prod.id


def on_hand_rows(uow: UnitOfWork, *, q: str | None = None, warehouse: str | int | None = None,
                 location: str | int | None = None, product: str | int | None = None, lot: str | None = None,
                 limit: int = 50, offset: int = 0, include_zero: bool = False) -> tuple[list[dict], int]:
    """On-hand per product × internal location × lot with reserved and available. Reserved is the
    active reservations of that lot, plus the share of lot-less reservations it would serve."""
    p, loc, wh = md.Product, md.Location, md.Warehouse
    lot_key = func.coalesce(RES.c.lot_id, literal_column("0"))
    res_sub = (select(RES.c.product_id, RES.c.location_id, lot_key.label("lot_key"),
                      func.sum(RES.c.quantity).label("reserved"))
               .where(RES.c.company_id == uow.company_id, RES.c.state == "active")
               .group_by(RES.c.product_id, RES.c.location_id, lot_key).subquery())
    stmt = (select(QUANT.c.product_id, p.sku, p.name.label("product_name"), QUANT.c.location_id,
                   loc.full_code.label("location"), loc.code.label("location_code"), StockLot.name.label("lot"),
                   QUANT.c.lot_id,
                   QUANT.c.quantity.label("on_hand"), func.coalesce(res_sub.c.reserved, 0).label("reserved"),
                   wh.code.label("warehouse"), p.uom_id)
            .join(p, p.id == QUANT.c.product_id)
            .join(loc, loc.id == QUANT.c.location_id)
            .outerjoin(wh, wh.id == loc.warehouse_id)
            .outerjoin(StockLot, StockLot.id == QUANT.c.lot_id)
            .outerjoin(res_sub, and_(res_sub.c.product_id == QUANT.c.product_id,
                                     res_sub.c.location_id == QUANT.c.location_id,
                                     res_sub.c.lot_key == QUANT.c.lot_key))
            .where(QUANT.c.company_id == uow.company_id, loc.usage == "internal"))
    if not include_zero:
        stmt = stmt.where(or_(QUANT.c.quantity != 0, func.coalesce(res_sub.c.reserved, 0) != 0))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(p.sku.ilike(like), p.name.ilike(like), p.barcode == q.strip(), loc.full_code.ilike(like),
                              StockLot.name.ilike(like)))
    if warehouse not in (None, ""):
        w = str(warehouse)
        stmt = stmt.where(or_(wh.code == w, wh.id == (int(w) if w.isdigit() else -1)))
    if location not in (None, ""):
        stmt = stmt.where(_location_filter(uow, QUANT.c.location_id, location))
    if product not in (None, ""):
        stmt = stmt.where(_product_filter(uow, QUANT.c.product_id, product))
    if lot:
        stmt = stmt.where(StockLot.name == lot.strip())
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.execute(stmt.order_by(p.sku, loc.full_code, StockLot.name).limit(limit).offset(offset))
    uom_codes = dict(uow.session.execute(select(md.Uom.id, md.Uom.code)).all())
    items = []
    for r in rows.mappings():
        oh, rs_ = to_decimal(r["on_hand"] or 0), to_decimal(r["reserved"] or 0)
        items.append({"product_id": r["product_id"], "sku": r["sku"], "product_name": r["product_name"],
                      "location_id": r["location_id"], "location": r["location"], "location_code": r["location_code"],
                      "warehouse": r["warehouse"], "lot": r["lot"], "lot_id": r["lot_id"],
                      "uom": uom_codes.get(r["uom_id"]), "on_hand": oh, "reserved": rs_, "available": oh - rs_})
    _spread_lotless_reservations(uow, items)
    for item in items:
        item.pop("lot_id")
    return items, total


def _spread_lotless_reservations(uow: UnitOfWork, items: list[dict]) -> None:
    """A reservation without a lot on a lot-tracked product holds goods of some lot at that
    location; show it on the lots it would take (earliest expiry first, then lot name), so each
    row's available is what can really still be promised."""
    pairs = {(i["product_id"], i["location_id"]) for i in items if i["lot_id"]}
    if not pairs:
        return
    lotless = dict(((p, loc), to_decimal(q)) for p, loc, q in uow.session.execute(
        select(RES.c.product_id, RES.c.location_id, func.sum(RES.c.quantity))
        .where(RES.c.company_id == uow.company_id, RES.c.state == "active", RES.c.lot_id.is_(None),
               tuple_(RES.c.product_id, RES.c.location_id).in_(sorted(pairs)))
        .group_by(RES.c.product_id, RES.c.location_id)))
    if not lotless:
        return
    lot_reserved = {(p, loc, lot): to_decimal(q) for p, loc, lot, q in uow.session.execute(
        select(RES.c.product_id, RES.c.location_id, RES.c.lot_id, func.sum(RES.c.quantity))
        .where(RES.c.company_id == uow.company_id, RES.c.state == "active", RES.c.lot_id.is_not(None),
               tuple_(RES.c.product_id, RES.c.location_id).in_(sorted(lotless)))
        .group_by(RES.c.product_id, RES.c.location_id, RES.c.lot_id))}
    extra: dict[tuple[int, int, int], Decimal] = {}
    rows = uow.session.execute(
        select(QUANT.c.product_id, QUANT.c.location_id, QUANT.c.lot_id, QUANT.c.quantity)
        .join(StockLot, StockLot.id == QUANT.c.lot_id)
        .where(QUANT.c.company_id == uow.company_id, QUANT.c.lot_id.is_not(None),
               tuple_(QUANT.c.product_id, QUANT.c.location_id).in_(sorted(lotless)))
        .order_by(QUANT.c.product_id, QUANT.c.location_id, StockLot.expiry_date.is_(None), StockLot.expiry_date,
                  StockLot.name))
    left = dict(lotless)
    for p, loc, lot, qty in rows:
        free = to_decimal(qty) - lot_reserved.get((p, loc, lot), ZERO)
        take = min(max(free, ZERO), left[(p, loc)])
        if take > 0:
            extra[(p, loc, lot)] = take
            left[(p, loc)] -= take
    for item in items:
        add = extra.get((item["product_id"], item["location_id"], item["lot_id"]), ZERO)
        if add:
            item["reserved"] += add
            item["available"] -= add


def move_rows(uow: UnitOfWork, *, q: str | None = None, product: str | int | None = None,
              location: str | int | None = None, reference: str | None = None, state: str | None = None,
              date_from: dt.date | None = None, date_to: dt.date | None = None, limit: int = 50, offset: int = 0,
              ids: list[int] | None = None) -> tuple[list[dict], int]:
    """Move history, newest first (by date done; planned moves by creation)."""
    p = md.Product
    src, dst = md.Location.__table__.alias("src"), md.Location.__table__.alias("dst")
    stmt = (select(MOVE, p.sku, p.name.label("product_name"), src.c.full_code.label("source"),
                   dst.c.full_code.label("destination"), StockLot.name.label("lot"))
            .join(p, p.id == MOVE.c.product_id)
            .join(src, src.c.id == MOVE.c.source_location_id)
            .join(dst, dst.c.id == MOVE.c.dest_location_id)
            .outerjoin(StockLot, StockLot.id == MOVE.c.lot_id)
            .where(MOVE.c.company_id == uow.company_id))
    if ids is not None:
        stmt = stmt.where(MOVE.c.id.in_(ids))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(p.sku.ilike(like), p.name.ilike(like), MOVE.c.reference.ilike(like),
                              StockLot.name.ilike(like)))
    if product not in (None, ""):
        stmt = stmt.where(_product_filter(uow, MOVE.c.product_id, product))
    if location not in (None, ""):
        stmt = stmt.where(or_(_location_filter(uow, MOVE.c.source_location_id, location),
                              _location_filter(uow, MOVE.c.dest_location_id, location)))
    if reference:
        stmt = stmt.where(MOVE.c.reference.ilike(f"%{reference.strip()}%"))
    if state:
        stmt = stmt.where(MOVE.c.state == state)
    when = func.coalesce(MOVE.c.date_done, MOVE.c.created_at)
    if date_from:
        stmt = stmt.where(when >= dt.datetime.combine(date_from, dt.time(), dt.UTC))
    if date_to:
        stmt = stmt.where(when < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.execute(stmt.order_by(when.desc(), MOVE.c.id.desc()).limit(limit).offset(offset)
                               ).mappings().all()
    return [move_dict(r) for r in rows], total


def move_dict(r) -> dict:
    return {"id": r["id"], "date_done": r["date_done"], "created_at": r["created_at"], "product_id": r["product_id"],
            "sku": r["sku"], "product_name": r["product_name"], "quantity": to_decimal(r["quantity"]),
            "source_location_id": r["source_location_id"], "source": r["source"],
            "dest_location_id": r["dest_location_id"], "destination": r["destination"], "lot": r["lot"],
            "state": r["state"], "reference": r["reference"], "ref_type": r["ref_type"], "ref_id": r["ref_id"],
            "unit_cost": None if r["unit_cost"] is None else to_decimal(r["unit_cost"]),
            "value": None if r["value"] is None else to_decimal(r["value"]),
            "reversed_move_id": r["reversed_move_id"]}


def lot_rows(uow: UnitOfWork, *, q: str | None = None, product: str | int | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[dict], int]:
    p, loc = md.Product, md.Location
    held = (select(QUANT.c.lot_id, func.sum(QUANT.c.quantity).label("on_hand"))
            .join(loc, loc.id == QUANT.c.location_id)
            .where(QUANT.c.company_id == uow.company_id, loc.usage == "internal", QUANT.c.lot_id.is_not(None))
            .group_by(QUANT.c.lot_id).subquery())
    stmt = (select(StockLot.id, StockLot.name, StockLot.expiry_date, StockLot.product_id, p.sku, p.name.label("pname"),
                   p.tracking, func.coalesce(held.c.on_hand, 0).label("on_hand"))
            .join(p, p.id == StockLot.product_id).outerjoin(held, held.c.lot_id == StockLot.id)
            .where(StockLot.company_id == uow.company_id))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(StockLot.name.ilike(like), p.sku.ilike(like), p.name.ilike(like)))
    if product not in (None, ""):
        stmt = stmt.where(_product_filter(uow, StockLot.product_id, product))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.execute(stmt.order_by(p.sku, StockLot.name).limit(limit).offset(offset)).mappings().all()
    return [{"id": r["id"], "name": r["name"], "expiry_date": r["expiry_date"], "product_id": r["product_id"],
             "sku": r["sku"], "product_name": r["pname"], "tracking": r["tracking"],
             "on_hand": to_decimal(r["on_hand"] or 0)} for r in rows], total


def adjustment_rows(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, limit: int = 50,
                    offset: int = 0) -> tuple[list[InventoryAdjustment], int]:
    stmt = select(InventoryAdjustment).where(InventoryAdjustment.company_id == uow.company_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(InventoryAdjustment.number.ilike(like), InventoryAdjustment.reason.ilike(like)))
    if state:
        stmt = stmt.where(InventoryAdjustment.state == state)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(InventoryAdjustment.id.desc()).limit(limit).offset(offset)))
    return rows, total


def adjustment_dict(uow: UnitOfWork, adj: InventoryAdjustment) -> dict:
    products = _products(uow, {ln.product_id for ln in adj.lines})
    locations = _locations(uow, {ln.location_id for ln in adj.lines})
    lots = _lots(uow, [ln.lot_id for ln in adj.lines])
    return {"id": adj.id, "number": adj.number, "reason": adj.reason, "state": adj.state,
            "state_label": adjustment_state_label(adj.state), "date_done": adj.date_done,
            "created_at": adj.created_at,
            "lines": [{"id": ln.id, "product_id": ln.product_id, "sku": products[ln.product_id]["sku"],
                       "product_name": products[ln.product_id]["name"], "location_id": ln.location_id,
                       "location": locations[ln.location_id]["full_code"],
                       "lot": lots[ln.lot_id]["name"] if ln.lot_id else None,
                       "counted_quantity": to_decimal(ln.counted_quantity),
                       "theoretical_quantity": None if ln.theoretical_quantity is None
                       else to_decimal(ln.theoretical_quantity),
                       "difference": None if ln.difference is None else to_decimal(ln.difference),
                       "move_id": ln.move_id} for ln in adj.lines]}


def reservation_rows(uow: UnitOfWork, *, state: str | None = None, product: str | int | None = None,
                     reference: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    p, loc = md.Product, md.Location
    stmt = (select(RES, p.sku, loc.full_code.label("location"), StockLot.name.label("lot"))
            .join(p, p.id == RES.c.product_id).join(loc, loc.id == RES.c.location_id)
            .outerjoin(StockLot, StockLot.id == RES.c.lot_id).where(RES.c.company_id == uow.company_id))
    if state:
        stmt = stmt.where(RES.c.state == state)
    if product not in (None, ""):
        stmt = stmt.where(_product_filter(uow, RES.c.product_id, product))
    if reference:
        stmt = stmt.where(RES.c.reference.ilike(f"%{reference.strip()}%"))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.execute(stmt.order_by(RES.c.id.desc()).limit(limit).offset(offset)).mappings().all()
    return [reservation_dict(r) for r in rows], total


def reservation_dict(r) -> dict:
    return {"id": r["id"], "product_id": r["product_id"], "sku": r.get("sku"), "location_id": r["location_id"],
            "location": r.get("location"), "lot_id": r["lot_id"], "lot": r.get("lot"),
            "quantity": to_decimal(r["quantity"]), "state": r["state"], "ref_type": r["ref_type"],
            "ref_id": r["ref_id"], "reference": r["reference"], "move_id": r["move_id"]}


def get_reservations(uow: UnitOfWork, ids: list[int]) -> list[dict]:
    p, loc = md.Product, md.Location
    rows = uow.session.execute(
        select(RES, p.sku, loc.full_code.label("location"), StockLot.name.label("lot"))
        .join(p, p.id == RES.c.product_id).join(loc, loc.id == RES.c.location_id)
        .outerjoin(StockLot, StockLot.id == RES.c.lot_id)
        .where(RES.c.company_id == uow.company_id, RES.c.id.in_(ids))).mappings().all()
    found = {r["id"]: reservation_dict(r) for r in rows}
    for i in ids:
        if i not in found:
            raise NotFound(_("预留不存在：#{id}", id=i), field="reservation")
    return [found[i] for i in ids]


def available_by_product(uow: UnitOfWork) -> dict[int, Decimal]:
    """Available (on hand in internal locations − active reservations) of every product, two queries."""
    loc = md.Location
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for p, q in uow.session.execute(
            select(QUANT.c.product_id, func.sum(QUANT.c.quantity)).join(loc, loc.id == QUANT.c.location_id)
            .where(QUANT.c.company_id == uow.company_id, loc.usage == "internal").group_by(QUANT.c.product_id)):
        out[p] += to_decimal(q or 0)
    for p, q in uow.session.execute(
            select(RES.c.product_id, func.sum(RES.c.quantity))
            .where(RES.c.company_id == uow.company_id, RES.c.state == "active").group_by(RES.c.product_id)):
        out[p] -= to_decimal(q or 0)
    return dict(out)
