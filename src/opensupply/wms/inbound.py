"""Inbound: receiving against confirmed purchase orders, QC hold, and the putaway tasks that follow.

* The receipt itself is ERP's: `erp.purchasing.service.receive_order(uow, po_id, lines, location=…)`
  posts it (stock supplier → the warehouse's receiving dock, or its QC bin for goods under QC
  hold) with its valuation and GRNI entries; the WMS decides where and creates the floor work.
* Scan to receive (PDA): scan the PO number, then each item (barcode or SKU), quantity and — for
  lot-tracked products — the lot. Each accepted scan is a *draft line*: the scan row itself
  (`wms_scan`, flow "receive", `message` = "receive:<po id>") keeps it, so a double submit
  records it once and nothing is posted until "完成收货" (`complete_receipt`). A scan of an item
  not on the order, or beyond what may still be received, is refused with a clear message.
* QC hold: a line marked for QC goes to the QC bin; `release_qc` passes it (putaway tasks from QC)
  or fails it (moved to scrap or back to the supplier, with a reason).
* Putaway tasks (`wms_task` kind putaway) are created for everything received into the dock, with
  the bins suggested by `putaway.suggest`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select, update

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.purchasing.models import GoodsReceipt, PurchaseOrder
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot, StockMove, StockQuant
from opensupply.masterdata import models as md
from opensupply.masterdata import service as mds

from . import bins as wms_bins
from . import pda
from . import putaway as pw
from .models import WmsScan, WmsTask

ZERO = Decimal(0)
HUNDRED = Decimal(100)
SCAN = WmsScan.__table__
QC_DISPOSALS = {"scrap": "scrap", "return": "supplier"}


@dataclass
class ReceiveLine:
    product: int | str  # id, SKU or barcode
    quantity: Decimal | str | int
    lot: str | None = None
    expiry_date: dt.date | None = None
    qc: bool = False


@dataclass
class ReceiveResult:
    receipts: list[GoodsReceipt] = field(default_factory=list)
    tasks: list[WmsTask] = field(default_factory=list)
    qc_lines: list[dict] = field(default_factory=list)


# ------------------------------------------------------------------ purchase orders
def find_order(uow: UnitOfWork, ref: int | str) -> PurchaseOrder:
    """A purchase order by number (what the PDA scans) or id, which must be confirmed."""
    text = str(ref or "").strip()
    if not text:
        raise ValidationFailed(_("请扫描采购单号"), field="po")
    po = uow.session.scalar(select(PurchaseOrder).where(PurchaseOrder.company_id == uow.company_id,
                                                        func.upper(PurchaseOrder.number) == text.upper()))
    if po is None and text.isdigit() and len(text) < 12:
        po = uow.session.scalar(select(PurchaseOrder).where(PurchaseOrder.company_id == uow.company_id,
                                                            PurchaseOrder.id == int(text)))
    if po is None:
        raise NotFound(_("未找到采购单：{number}", number=text), field="po")
    if po.state != "confirmed":
        label = purchasing.state_label("order", po.state)
        raise Conflict(_("采购单 {number} 状态为 {state}，不能收货", number=po.number, state=label), field="po")
    return po


def _draft_key(po_id: int) -> str:
    return f"receive:{po_id}"


def draft_lines(uow: UnitOfWork, po_id: int) -> list[dict]:
    """Scanned, not yet posted lines of a PO (oldest first), each with its `scan_id`."""
    rows = uow.session.execute(select(SCAN.c.id, SCAN.c.result, SCAN.c.user_id, SCAN.c.at).where(
        SCAN.c.company_id == uow.company_id, SCAN.c.flow == "receive", SCAN.c.message == _draft_key(po_id))
        .order_by(SCAN.c.id)).all()
    out = []
    for sid, result, user_id, at in rows:
        line = dict((result or {}).get("line") or {})
        if line:
            out.append({**line, "scan_id": sid, "user_id": user_id, "at": at, "quantity": Decimal(line["quantity"])})
    return out


def order_lines(uow: UnitOfWork, po: PurchaseOrder) -> list[dict]:
    """What the PO still expects, with what has been scanned so far (per order line, SKU order kept)."""
    products = {p.id: p for p in uow.session.scalars(select(md.Product).where(
        md.Product.id.in_([ln.product_id for ln in po.lines])))}
    drafted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for d in draft_lines(uow, po.id):
        drafted[d["product_id"]] += d["quantity"]
    out = []
    for ln in po.lines:
        p = products[ln.product_id]
        scanned = min(drafted[p.id], max(ln.quantity - ln.qty_received, ZERO))
        drafted[p.id] -= scanned
        out.append({"order_line_id": ln.id, "product_id": p.id, "sku": p.sku, "name": p.name, "barcode": p.barcode,
                    "tracking": p.tracking, "ordered": ln.quantity, "received": ln.qty_received, "scanned": scanned,
                    "open": max(ln.quantity - ln.qty_received - scanned, ZERO)})
    for line in out:  # an over-receipt within tolerance shows on the product's last line
        if drafted[line["product_id"]] > 0:
            line["scanned"] += drafted[line["product_id"]]
            drafted[line["product_id"]] = ZERO
    return out


def _allowed_left(po: PurchaseOrder, product_id: int, drafted: Decimal) -> Decimal:
    tol = Decimal(po.receipt_tolerance_pct or 0)
    allowed = sum((ln.quantity * (1 + tol / HUNDRED) - ln.qty_received for ln in po.lines
                   if ln.product_id == product_id), ZERO)
    return allowed - drafted


def scan_receive_line(uow: UnitOfWork, po_id: int, code: str, quantity, *, lot: str | None = None,
                      qc: bool = False, expiry_date: dt.date | None = None) -> dict:
    """Check one receiving scan against the PO and return the draft line (JSON-able). The caller
    records it (`pda.run_scan(..., note=draft key)`); nothing is posted yet."""
    uow.actor.require("wms.write")
    po = uow.get(PurchaseOrder, po_id)
    if po.state != "confirmed":
        raise Conflict(_("采购单 {number} 状态为 {state}，不能收货", number=po.number,
                         state=purchasing.state_label("order", po.state)), field="po")
    text = pda.norm(code)
    try:
        product = pda.scan_product(uow, text)
    except NotFound:
        raise ValidationFailed(_("扫描的商品 {code} 不在采购单 {number} 中", code=text, number=po.number),
                               field="item", code="wrong_item") from None
    if product.id not in {ln.product_id for ln in po.lines}:
        raise ValidationFailed(_("扫描的商品 {code} 不在采购单 {number} 中", code=product.sku, number=po.number),
                               field="item", code="wrong_item")
    qty = pda.scan_qty(quantity, default=Decimal(1))
    lot = (lot or "").strip() or None
    if product.tracking != "none" and not lot:
        raise ValidationFailed(_("商品 {sku} 按批次管理，请扫描批次号", sku=product.sku), field="lot")
    if product.tracking == "none" and lot:
        lot = None
    if product.tracking == "serial" and qty != 1:
        raise ValidationFailed(_("序列号商品 {sku} 每次扫描数量为 1", sku=product.sku), field="qty")
    drafted = sum((d["quantity"] for d in draft_lines(uow, po.id) if d["product_id"] == product.id), ZERO)
    left = _allowed_left(po, product.id, drafted)
    if qty > left:
        raise ValidationFailed(_("超收：{sku} 在采购单 {number} 中最多还可收 {left}，本次扫描 {qty}", sku=product.sku,
                                 number=po.number, left=inv.fmt_qty(max(left, ZERO)), qty=inv.fmt_qty(qty)),
                               field="qty")
    line = {"po_id": po.id, "product_id": product.id, "sku": product.sku, "name": product.name,
            "quantity": inv.fmt_qty(qty), "lot": lot, "qc": bool(qc),
            "expiry_date": expiry_date.isoformat() if expiry_date else None}
    return pda.ok(_("已扫描 {sku} {name} × {qty}", sku=product.sku, name=product.name, qty=inv.fmt_qty(qty)),
                  line=line)


def void_draft_line(uow: UnitOfWork, po_id: int, scan_id: int) -> None:
    """Take back a scanned line before the receipt is posted."""
    uow.actor.require("wms.write")
    n = uow.session.execute(update(SCAN).where(SCAN.c.company_id == uow.company_id, SCAN.c.id == scan_id,
                                               SCAN.c.message == _draft_key(po_id)).values(message=f"void:{po_id}"))
    if n.rowcount == 0:
        raise NotFound(_("扫描记录不存在或已收货：#{id}", id=scan_id))


def _special(uow: UnitOfWork, warehouse_id: int) -> dict:
    return wms_bins.ensure_special_bins(uow, warehouse_id)


def receive(uow: UnitOfWork, po_id: int, warehouse_id: int, lines: list[ReceiveLine], *,
            receipt_date: dt.date | None = None, notes: str | None = None) -> ReceiveResult:
    """Post a receipt of `lines` against a confirmed PO into the warehouse's dock (QC lines into
    its QC bin) and create the putaway tasks for the dock goods."""
    uow.actor.require("wms.write")
    if not lines:
        raise ValidationFailed(_("没有可收货的行，请先扫描商品"), field="lines")
    po = uow.get(PurchaseOrder, po_id)
    special = _special(uow, warehouse_id)
    result = ReceiveResult()
    for qc in (False, True):
        part = [ln for ln in lines if bool(ln.qc) == qc]
        if not part:
            continue
        loc = special["qc" if qc else "dock"]
        receipt = purchasing.receive_order(
            uow, po.id, [purchasing.ReceiptLineIn(quantity=ln.quantity, product=ln.product, lot=ln.lot,
                                                  expiry_date=ln.expiry_date) for ln in part],
            receipt_date=receipt_date, location=loc.location_id, notes=notes or (_("质检待检") if qc else None))
        result.receipts.append(receipt)
        move_ids = [ln.move_id for ln in receipt.lines if ln.move_id]
        moves = uow.session.execute(select(StockMove.id, StockMove.product_id, StockMove.lot_id, StockMove.quantity)
                                    .where(StockMove.id.in_(move_ids)).order_by(StockMove.id)).all()
        if qc:
            result.qc_lines += [{"product_id": m.product_id, "lot_id": m.lot_id, "quantity": m.quantity} for m in moves]
            continue
        result.tasks += pw.create_putaway_tasks(
            uow, warehouse_id, loc.location_id, [(m.product_id, Decimal(m.quantity), m.lot_id) for m in moves],
            reference=receipt.number, ref_type="erp.goods_receipt", ref_id=receipt.id)
    uow.emit("wms.received", purchase_order_id=po.id, warehouse_id=warehouse_id,
             receipt_ids=[r.id for r in result.receipts], task_ids=[t.id for t in result.tasks])
    return result


def complete_receipt(uow: UnitOfWork, po_id: int, warehouse_id: int) -> ReceiveResult:
    """"完成收货": post every draft line of the PO as one receipt (plus one into QC when some lines
    are under QC hold) and mark the scans received."""
    uow.actor.require("wms.write")
    po = uow.get(PurchaseOrder, po_id, for_update=True)
    drafts = draft_lines(uow, po.id)
    if not drafts:
        raise ValidationFailed(_("采购单 {number} 还没有扫描任何商品", number=po.number), field="lines")
    merged: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for d in drafts:
        merged[(d["product_id"], d.get("lot"), bool(d.get("qc")), d.get("expiry_date"))] += d["quantity"]
    lines = [ReceiveLine(product=pid, quantity=qty, lot=lot, qc=qc,
                         expiry_date=dt.date.fromisoformat(exp) if exp else None)
             for (pid, lot, qc, exp), qty in merged.items()]
    result = receive(uow, po.id, warehouse_id, lines)
    number = ",".join(r.number for r in result.receipts)
    uow.session.execute(update(SCAN).where(SCAN.c.company_id == uow.company_id,
                                           SCAN.c.id.in_([d["scan_id"] for d in drafts]))
                        .values(message=f"received:{po.id}:{number}"[:300]))
    return result


# ------------------------------------------------------------------ QC hold
def qc_holds(uow: UnitOfWork, warehouse_id: int) -> list[dict]:
    """Goods in the QC bin not yet released (neither passed to putaway nor failed)."""
    qc = _special_readonly(uow, warehouse_id, "QC")
    if qc is None:
        return []
    pending = _pending_from(uow, qc.location_id)
    rows = uow.session.execute(
        select(StockQuant.product_id, StockQuant.lot_id, StockQuant.quantity, md.Product.sku, md.Product.name,
               StockLot.name).join(md.Product, md.Product.id == StockQuant.product_id)
        .outerjoin(StockLot, StockLot.id == StockQuant.lot_id)
        .where(StockQuant.company_id == uow.company_id, StockQuant.location_id == qc.location_id,
               StockQuant.quantity > 0).order_by(md.Product.sku, StockQuant.lot_id))
    out = []
    for pid, lot_id, qty, sku, name, lot in rows:
        free = Decimal(qty) - pending.get((pid, lot_id), ZERO)
        if free > 0:
            out.append({"product_id": pid, "sku": sku, "name": name, "lot_id": lot_id, "lot": lot, "quantity": free})
    return out


def _special_readonly(uow: UnitOfWork, warehouse_id: int, code: str):
    try:
        return wms_bins.bin_by_code(uow, warehouse_id, code)
    except NotFound:
        return None


def _pending_from(uow: UnitOfWork, location_id: int) -> dict[tuple[int, int | None], Decimal]:
    """Quantities at a location already promised to open putaway tasks."""
    out: dict[tuple[int, int | None], Decimal] = defaultdict(lambda: ZERO)
    for pid, lot_id, qty, done in uow.session.execute(
            select(WmsTask.product_id, WmsTask.lot_id, WmsTask.quantity, WmsTask.qty_done).where(
                WmsTask.company_id == uow.company_id, WmsTask.kind == "putaway",
                WmsTask.state.in_(("open", "assigned")), WmsTask.source_location_id == location_id)):
        out[(pid, lot_id)] += Decimal(qty) - Decimal(done or 0)
    return out


def release_qc(uow: UnitOfWork, warehouse_id: int, product: int | str, quantity, *, passed: bool,
               lot_id: int | None = None, reason: str | None = None, disposal: str = "scrap") -> dict:
    """Release goods held in QC: passed → putaway tasks from the QC bin; failed → moved to scrap
    (or back to the supplier, `disposal="return"`) with the reason."""
    uow.actor.require("wms.write")
    prod = inv.resolve_product(uow, product)
    qty = pda.scan_qty(quantity)
    qc = _special(uow, warehouse_id)["qc"]
    held = inv.on_hand(uow, prod.id, qc.location_id, lot_id) if lot_id else inv.on_hand(uow, prod.id, qc.location_id)
    pending = _pending_from(uow, qc.location_id)
    promised = pending.get((prod.id, lot_id), ZERO) if lot_id else sum(
        (v for (p, _lot), v in pending.items() if p == prod.id), ZERO)
    free = Decimal(held) - promised
    if qty > free:
        raise ValidationFailed(_("质检区 {sku} 待检数量只有 {free}，不能放行 {qty}", sku=prod.sku,
                                 free=inv.fmt_qty(max(free, ZERO)), qty=inv.fmt_qty(qty)), field="quantity")
    if passed:
        tasks = pw.create_putaway_tasks(uow, warehouse_id, qc.location_id, [(prod.id, qty, lot_id)],
                                        reference=_("质检放行"), ref_type="wms.qc")
        uow.emit("wms.qc_released", product_id=prod.id, quantity=str(qty), passed=True, warehouse_id=warehouse_id)
        return {"passed": True, "task_ids": [t.id for t in tasks], "move_id": None}
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("质检不合格请填写原因"), field="reason")
    if disposal not in QC_DISPOSALS:
        raise ValidationFailed(_("处理方式无效：{d}", d=disposal), field="disposal")
    dest = mds.virtual_location(uow, QC_DISPOSALS[disposal])
    move_id = inv.move(uow, prod.id, qty, qc.location_id, dest.id, lot_id=lot_id, ref_type="wms.qc",
                       reference=_("质检不合格"), note=reason[:200])
    uow.emit("wms.qc_released", product_id=prod.id, quantity=str(qty), passed=False, warehouse_id=warehouse_id,
             move_id=move_id, reason=reason)
    return {"passed": False, "task_ids": [], "move_id": move_id}
