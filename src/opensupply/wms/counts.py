"""Cycle counts: count a few bins often instead of the whole warehouse once a year.

* `create_count(uow, warehouse_id, bin_codes=…)` — count chosen bins; `schedule_counts` — one
  count per ABC class with the products that are due: class A (fast movers by pick velocity)
  every 30 days, B every 90, C every 365 (`frequency` overrides).
* Counts are blind by default: the book quantity is snapshotted on the line but not shown to the
  counter (PDA and pages hide it) until the count is submitted for approval.
* Count entry per line: scan the bin, the item (and lot), type the quantity (`enter_count`). An
  item found where the book has none becomes a new line (book 0).
* `approve_count` (permission `wms.approve`) posts the variances as exactly one inventory
  adjustment (`inventory.create_adjustment` + `validate_adjustment`) with the reason; approving a
  count twice is refused. The adjustment corrects by the counted difference: target = on hand now
  + (counted − book at counting time), so goods moved after the count are not "corrected" away.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot, StockQuant
from opensupply.masterdata import models as md

from . import bins as wms_bins
from . import pda
from . import putaway as pw
from .models import WmsBin, WmsCount, WmsCountLine

register_sequence("CC", "CC{year}-", 5)

ZERO = Decimal(0)
DEFAULT_FREQUENCY = {"A": 30, "B": 90, "C": 365}  # days between counts per ABC class
STATE_LABELS = {"open": _l("盘点中"), "counted": _l("待审核"), "approved": _l("已审核"), "cancelled": _l("已取消")}
COUNTABLE = ("pick", "reserve", "bulk", "qc", "dock", "staging")


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def _quants(uow: UnitOfWork, location_ids: list[int], product_ids: set[int] | None = None) -> list[tuple]:
    if not location_ids:
        return []
    stmt = (select(StockQuant.location_id, StockQuant.product_id, StockQuant.lot_id, StockQuant.quantity)
            .where(StockQuant.company_id == uow.company_id, StockQuant.location_id.in_(location_ids),
                   StockQuant.quantity != 0)
            .order_by(StockQuant.location_id, StockQuant.product_id, StockQuant.lot_id))
    if product_ids is not None:
        stmt = stmt.where(StockQuant.product_id.in_(list(product_ids)))
    return list(uow.session.execute(stmt).all())


def _new_count(uow: UnitOfWork, warehouse_id: int, quants: list[tuple], *, blind: bool, abc_class: str | None,
               extra_locations: list[int] = ()) -> WmsCount:
    count = WmsCount(number=next_number(uow, "CC"), warehouse_id=warehouse_id, state="open", blind=blind,
                     abc_class=abc_class)
    for loc, pid, lot_id, qty in quants:
        count.lines.append(WmsCountLine(location_id=loc, product_id=pid, lot_id=lot_id, lot_key=lot_id or 0,
                                        book_qty=Decimal(qty)))
    uow.add(count)
    uow.flush()
    return count


def create_count(uow: UnitOfWork, warehouse_id: int, *, bin_codes: list[str] | None = None,
                 product_ids: list[int] | None = None, blind: bool = True, abc_class: str | None = None) -> WmsCount:
    """A count of the given bins (every product in them), or of the given products in every bin."""
    uow.actor.require("wms.write")
    if not bin_codes and not product_ids:
        raise ValidationFailed(_("请选择要盘点的库位或商品"), field="bins")
    if bin_codes:
        locs = [wms_bins.bin_by_code(uow, warehouse_id, c).location_id for c in bin_codes if c.strip()]
    else:
        locs = list(uow.session.scalars(select(WmsBin.location_id).where(
            WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == warehouse_id,
            WmsBin.bin_type.in_(COUNTABLE))))
    quants = _quants(uow, locs, set(product_ids) if product_ids else None)
    if not quants and not bin_codes:
        raise ValidationFailed(_("所选商品在该仓库没有库存"), field="products")
    count = _new_count(uow, warehouse_id, quants, blind=blind, abc_class=abc_class)
    if bin_codes:
        count.reason = _("库位盘点：{bins}", bins=", ".join(bin_codes))[:200]
    uow.emit("wms.count_created", count_id=count.id, warehouse_id=warehouse_id)
    return count


def last_counted(uow: UnitOfWork, warehouse_id: int) -> dict[int, dt.datetime]:
    """When each product was last counted (approved or still open) in the warehouse."""
    rows = uow.session.execute(
        select(WmsCountLine.product_id, func.max(WmsCount.created_at))
        .join(WmsCount, WmsCount.id == WmsCountLine.count_id)
        .where(WmsCount.company_id == uow.company_id, WmsCount.warehouse_id == warehouse_id,
               WmsCount.state != "cancelled").group_by(WmsCountLine.product_id))
    return {pid: at for pid, at in rows}


def due_products(uow: UnitOfWork, warehouse_id: int, frequency: dict[str, int] | None = None,
                 *, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Products with stock in the warehouse that are due for a count, per ABC class."""
    freq = {**DEFAULT_FREQUENCY, **(frequency or {})}
    now = now or utcnow()
    locs = list(uow.session.scalars(select(WmsBin.location_id).where(
        WmsBin.company_id == uow.company_id, WmsBin.warehouse_id == warehouse_id, WmsBin.bin_type.in_(COUNTABLE))))
    stocked = sorted({pid for _loc, pid, _lot, _q in _quants(uow, locs)})
    classes = pw.abc_classes({pid: 0.0 for pid in stocked} | pw.pick_velocity(uow, warehouse_id))
    last = last_counted(uow, warehouse_id)
    out: dict[str, list[int]] = {"A": [], "B": [], "C": []}
    for pid in stocked:
        cls = classes.get(pid, "C")
        at = last.get(pid)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        if at is None or now - at >= dt.timedelta(days=int(freq[cls])):
            out[cls].append(pid)
    return out


def schedule_counts(uow: UnitOfWork, warehouse_id: int, frequency: dict[str, int] | None = None, *,
                    blind: bool = True) -> list[WmsCount]:
    """One count per ABC class with the products due (none when nothing is due)."""
    uow.actor.require("wms.write")
    made = []
    for cls, pids in due_products(uow, warehouse_id, frequency).items():
        if pids:
            c = create_count(uow, warehouse_id, product_ids=pids, blind=blind, abc_class=cls)
            c.reason = _("{cls} 类商品循环盘点", cls=cls)
            made.append(c)
    uow.flush()
    return made


def enter_count(uow: UnitOfWork, count_id: int, bin_code: str, item: str, quantity, *,
                lot: str | None = None) -> WmsCountLine:
    """Record a counted quantity for (bin, item, lot) of an open count; a second entry for the same
    line replaces the first (a recount). The book quantity is refreshed to the moment of counting."""
    uow.actor.require("wms.write")
    count = uow.get(WmsCount, count_id, for_update=True)
    if count.state not in ("open", "counted"):
        raise Conflict(_("盘点单 {number} 已{state}，不能再录入", number=count.number,
                         state=state_label(count.state)), field="state")
    b = wms_bins.bin_by_code(uow, count.warehouse_id, bin_code)
    product = pda.scan_product(uow, item)
    qty = pda.scan_qty(quantity, allow_zero=True)
    lot_id = None
    if product.tracking != "none":
        name = (lot or "").strip()
        if not name:
            raise ValidationFailed(_("商品 {sku} 按批次管理，请扫描批次号", sku=product.sku), field="lot")
        lot_id = inv.lots_by_name(uow, [(product.id, name)], create=True)[(product.id, name)]
    line = next((ln for ln in count.lines if ln.location_id == b.location_id and ln.product_id == product.id
                 and (ln.lot_id or 0) == (lot_id or 0)), None)
    book = inv.on_hand(uow, product.id, b.location_id, lot_id) if lot_id else inv.on_hand(uow, product.id,
                                                                                          b.location_id)
    if line is None:
        line = WmsCountLine(location_id=b.location_id, product_id=product.id, lot_id=lot_id, lot_key=lot_id or 0)
        count.lines.append(line)
    line.book_qty, line.counted_qty = book, qty
    line.counted_by_id, line.counted_at = uow.actor.user_id, utcnow()
    if all(ln.counted_qty is not None for ln in count.lines):
        count.state = "counted"
    uow.flush()
    return line


def variances(uow: UnitOfWork, count: WmsCount) -> list[dict]:
    """Lines with their difference (counted − book); uncounted lines have difference None."""
    names = _names(uow, count)
    out = []
    for ln in count.lines:
        diff = None if ln.counted_qty is None else Decimal(ln.counted_qty) - Decimal(ln.book_qty or 0)
        out.append({"id": ln.id, "location_id": ln.location_id, "bin": names["bins"].get(ln.location_id, ""),
                    "product_id": ln.product_id, "sku": names["skus"].get(ln.product_id, ""),
                    "name": names["pnames"].get(ln.product_id, ""), "lot_id": ln.lot_id,
                    "lot": names["lots"].get(ln.lot_id, ""), "book_qty": ln.book_qty, "counted_qty": ln.counted_qty,
                    "difference": diff, "counted_at": ln.counted_at})
    return out


def _names(uow: UnitOfWork, count: WmsCount) -> dict:
    pids = {ln.product_id for ln in count.lines}
    locs = {ln.location_id for ln in count.lines}
    lots = {ln.lot_id for ln in count.lines if ln.lot_id}
    prods = uow.session.execute(select(md.Product.id, md.Product.sku, md.Product.name).where(
        md.Product.id.in_(pids))).all() if pids else []
    bins = wms_bins.bins_by_location(uow, locs)
    lot_names = dict(uow.session.execute(select(StockLot.id, StockLot.name).where(StockLot.id.in_(lots))).all()) \
        if lots else {}
    return {"skus": {p: s for p, s, _n in prods}, "pnames": {p: n for p, _s, n in prods},
            "bins": {loc: b.code for loc, b in bins.items()}, "lots": lot_names}


def approve_count(uow: UnitOfWork, count_id: int, reason: str | None = None) -> WmsCount:
    """Approve a counted count: its variances become exactly one validated inventory adjustment
    (none when everything matched). A count is approved once."""
    uow.actor.require("wms.approve")
    count = uow.get(WmsCount, count_id, for_update=True)
    if count.state == "approved":
        raise Conflict(_("盘点单 {number} 已审核，不能重复审核", number=count.number), field="state",
                       code="already_approved")
    if count.state == "cancelled":
        raise Conflict(_("盘点单 {number} 已取消", number=count.number), field="state")
    if not count.lines:
        raise ValidationFailed(_("盘点单 {number} 还没有盘点行：请先录入实盘数（空库位盘点无差异可直接取消）",
                                 number=count.number), field="lines")
    missing = [ln for ln in count.lines if ln.counted_qty is None]
    if missing:
        raise ValidationFailed(_("盘点单 {number} 还有 {n} 行未盘点", number=count.number, n=len(missing)),
                               field="lines")
    reason = (reason or "").strip()
    diffs = [(ln, Decimal(ln.counted_qty) - Decimal(ln.book_qty or 0)) for ln in count.lines]
    diffs = [(ln, d) for ln, d in diffs if d != 0]
    if diffs and not reason:
        raise ValidationFailed(_("有盘点差异，请填写差异原因"), field="reason")
    if diffs:
        lines = []
        for ln, d in diffs:
            now = inv.on_hand(uow, ln.product_id, ln.location_id, ln.lot_id) if ln.lot_id else \
                inv.on_hand(uow, ln.product_id, ln.location_id)
            target = max(Decimal(now) + d, ZERO)
            lines.append(inv.AdjustmentLineIn(product=ln.product_id, location=ln.location_id, counted_quantity=target,
                                              lot=ln.lot_id))
        adj = inv.create_adjustment(uow, _("循环盘点 {number}：{reason}", number=count.number, reason=reason)[:200],
                                    lines)
        inv.validate_adjustment(uow, adj.id)
        count.adjustment_id = adj.id
    count.state, count.reason = "approved", reason[:200] or count.reason
    count.approved_by_id, count.approved_at = uow.actor.user_id, utcnow()
    uow.flush()
    uow.emit("wms.count_approved", count_id=count.id, adjustment_id=count.adjustment_id)
    return count


def cancel_count(uow: UnitOfWork, count_id: int) -> WmsCount:
    uow.actor.require("wms.write")
    count = uow.get(WmsCount, count_id, for_update=True)
    if count.state == "approved":
        raise Conflict(_("盘点单 {number} 已审核，不能取消", number=count.number), field="state")
    count.state = "cancelled"
    uow.flush()
    return count


def get_count(uow: UnitOfWork, ref: int | str) -> WmsCount:
    text = str(ref).strip()
    c = uow.session.scalar(select(WmsCount).where(WmsCount.company_id == uow.company_id,
                                                  func.upper(WmsCount.number) == text.upper()))
    if c is None and text.isdigit():
        return uow.get(WmsCount, int(text))
    if c is None:
        raise NotFound(_("盘点单不存在：{number}", number=text), field="count")
    return c


def list_counts(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, warehouse_id: int | None = None,
                limit: int = 50, offset: int = 0) -> tuple[list[WmsCount], int]:
    stmt = select(WmsCount).where(WmsCount.company_id == uow.company_id)
    if q:
        stmt = stmt.where(WmsCount.number.ilike(f"%{q.strip()}%"))
    if state:
        stmt = stmt.where(WmsCount.state == state)
    if warehouse_id:
        stmt = stmt.where(WmsCount.warehouse_id == warehouse_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(uow.session.scalars(stmt.order_by(WmsCount.id.desc()).limit(limit).offset(offset))), total


def summary(count: WmsCount) -> dict:
    lines = count.lines
    counted = sum(1 for ln in lines if ln.counted_qty is not None)
    diff = defaultdict(lambda: ZERO)
    for ln in lines:
        if ln.counted_qty is not None:
            diff["net"] += Decimal(ln.counted_qty) - Decimal(ln.book_qty or 0)
    return {"lines": len(lines), "counted": counted, "net_difference": diff["net"]}
