"""Lot genealogy and trace (批次追溯).

Backward: which lots went into this lot (through every level of production, from `mes_lot_link`), and for
each bought lot the goods receipt, purchase order and supplier it came with. Forward: which lots were made
from this one, and which deliveries took them (or the lot itself) to which customers and orders — the
recall list. Both directions come from one call; every level is one query per direction, never one per row.

Receipts and deliveries are found through the stock ledger (done moves of the lot from a supplier or to a
customer location) and described by the ERP's own services, so this module reads no other module's tables.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.errors import NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.types import ZERO, to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot, StockMove
from opensupply.masterdata import models as md

from .models import LotLink, WorkOrder, WorkOrderCompletion

MAX_DEPTH = 12
RECEIPT_REF = "erp.goods_receipt"
DELIVERY_REF = "erp.sales_delivery"


def find_lot(uow: UnitOfWork, *, lot_id: int | None = None, lot: str | None = None,
             product: int | str | None = None) -> StockLot:
    """A lot by id, or by name (with the product's id/SKU when several products share the name)."""
    if lot_id:
        return uow.get(StockLot, int(lot_id))
    name = (lot or "").strip()
    if not name:
        raise ValidationFailed(_("请输入批次号"), field="lot")
    stmt = select(StockLot).where(StockLot.company_id == uow.company_id, StockLot.name == name)
    if product not in (None, ""):
        stmt = stmt.where(StockLot.product_id == inv.resolve_product(uow, product).id)
    found = list(uow.session.scalars(stmt.order_by(StockLot.id)))
    if not found:
        raise NotFound(_("批次不存在：{name}", name=name), field="lot")
    if len(found) > 1:
        skus = ", ".join(_products(uow, {x.product_id for x in found})[x.product_id]["sku"] for x in found)
        raise ValidationFailed(_("批次 {name} 属于多个商品（{skus}），请同时选择商品", name=name, skus=skus),
                               field="product")
    return found[0]


def _products(uow: UnitOfWork, ids: set[int]) -> dict[int, dict]:
    if not ids:
        return {}
    return {r.id: {"sku": r.sku, "name": r.name, "tracking": r.tracking, "uom": r.code} for r in uow.session.execute(
        select(md.Product.id, md.Product.sku, md.Product.name, md.Product.tracking, md.Uom.code)
        .join(md.Uom, md.Uom.id == md.Product.uom_id).where(md.Product.id.in_(ids)))}


def _lots(uow: UnitOfWork, ids: set[int]) -> dict[int, dict]:
    if not ids:
        return {}
    return {r.id: {"name": r.name, "product_id": r.product_id, "expiry_date": r.expiry_date}
            for r in uow.session.execute(select(StockLot.id, StockLot.name, StockLot.product_id, StockLot.expiry_date)
                                         .where(StockLot.id.in_(ids)))}


def _fmt(q: Decimal) -> str:
    return inv.fmt_qty(to_decimal(q))


def _ledger_ends(uow: UnitOfWork, lot_ids: set[int], usage: str) -> dict[int, dict[tuple, Decimal]]:
    """lot → {(ref_type, ref_id, reference): quantity} of done moves between the lot's stock and a supplier
    (usage "supplier": where it came from) or customer location ("customer": where it went)."""
    if not lot_ids:
        return {}
    loc = md.Location
    join_col = StockMove.source_location_id if usage == "supplier" else StockMove.dest_location_id
    out: dict[int, dict[tuple, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for lot_id, ref_type, ref_id, reference, qty in uow.session.execute(
            select(StockMove.lot_id, StockMove.ref_type, StockMove.ref_id, StockMove.reference,
                   func.sum(StockMove.quantity))
            .join(loc, loc.id == join_col)
            .where(StockMove.company_id == uow.company_id, StockMove.lot_id.in_(lot_ids), StockMove.state == "done",
                   loc.usage == usage)
            .group_by(StockMove.lot_id, StockMove.ref_type, StockMove.ref_id, StockMove.reference)):
        out[lot_id][(ref_type, ref_id, reference)] += to_decimal(qty)
    return out


def _returned_to_stock(uow: UnitOfWork, lot_ids: set[int]) -> dict[int, Decimal]:
    """Per lot, what came back from customers (returns), to show beside what was delivered."""
    if not lot_ids:
        return {}
    loc = md.Location
    return {lot: to_decimal(q) for lot, q in uow.session.execute(
        select(StockMove.lot_id, func.sum(StockMove.quantity)).join(loc, loc.id == StockMove.source_location_id)
        .where(StockMove.company_id == uow.company_id, StockMove.lot_id.in_(lot_ids), StockMove.state == "done",
               loc.usage == "customer").group_by(StockMove.lot_id))}


def _production(uow: UnitOfWork, completion_ids: set[int]) -> dict[int, dict]:
    if not completion_ids:
        return {}
    return {r.id: {"completion": r.number, "work_order_id": r.work_order_id, "work_order": r.wo_number,
                   "date": r.date_done.isoformat() if r.date_done else None, "kind": r.kind}
            for r in uow.session.execute(
                select(WorkOrderCompletion.id, WorkOrderCompletion.number, WorkOrderCompletion.work_order_id,
                       WorkOrderCompletion.date_done, WorkOrder.number.label("wo_number"), WorkOrder.kind)
                .join(WorkOrder, WorkOrder.id == WorkOrderCompletion.work_order_id)
                .where(WorkOrderCompletion.id.in_(completion_ids)))}


def _node(lot_id: int | None, product_id: int, qty: Decimal | None, lots: dict, products: dict) -> dict:
    prod = products.get(product_id, {})
    return {"lot_id": lot_id, "lot": lots[lot_id]["name"] if lot_id else None, "product_id": product_id,
            "sku": prod.get("sku"), "name": prod.get("name"), "uom": prod.get("uom"),
            "quantity": _fmt(qty) if qty is not None else None}


def trace_backward(uow: UnitOfWork, lot_id: int) -> dict:
    """The tree of what went into a lot, down to supplier receipts."""
    from opensupply.erp.purchasing import service as purchasing

    root_lot = uow.get(StockLot, lot_id)
    nodes: dict[int, dict] = {}  # lot id → node (a lot appears once even if reached twice)
    frontier = {root_lot.id}
    leaf_receipts: list[dict] = []
    depth = 0
    all_lots = {root_lot.id}
    links_by_lot: dict[int, list] = defaultdict(list)
    while frontier and depth < MAX_DEPTH:
        rows = uow.session.execute(select(LotLink).where(LotLink.company_id == uow.company_id,
                                                         LotLink.produced_lot_id.in_(frontier))).scalars().all()
        nxt = set()
        for ln in rows:
            links_by_lot[ln.produced_lot_id].append(ln)
            if ln.consumed_lot_id and ln.consumed_lot_id not in all_lots:
                nxt.add(ln.consumed_lot_id)
        all_lots |= nxt
        frontier = nxt
        depth += 1
    links = [ln for rows in links_by_lot.values() for ln in rows]
    lots = _lots(uow, all_lots)
    products = _products(uow, {lots[i]["product_id"] for i in lots} | {ln.consumed_product_id for ln in links})
    made = _production(uow, {ln.completion_id for ln in links})
    receipts = _ledger_ends(uow, all_lots, "supplier")
    summaries = purchasing.receipt_summaries(uow, {key[1] for per in receipts.values() for key in per
                                                   if key[0] == RECEIPT_REF and key[1]})

    def build(lid: int, qty: Decimal | None, seen: frozenset) -> dict:
        node = _node(lid, lots[lid]["product_id"], qty, lots, products)
        node["produced_by"], node["components"], node["received"] = [], [], []
        by_completion: dict[int, list] = defaultdict(list)
        for ln in links_by_lot.get(lid, []):
            by_completion[ln.completion_id].append(ln)
        for cid, group in sorted(by_completion.items()):
            node["produced_by"].append(made[cid])
            merged: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
            for ln in group:
                merged[(ln.consumed_product_id, ln.consumed_lot_id)] += to_decimal(ln.quantity)
            for (pid, clid), q in sorted(merged.items(), key=lambda kv: (products[kv[0][0]]["sku"], kv[0][1] or 0)):
                if clid and clid not in seen:
                    child = build(clid, q, seen | {clid})
                    child["via"] = made[cid]["work_order"]
                else:
                    child = _node(clid, pid, q, lots, products)
                    child.update(produced_by=[], components=[], received=[], via=made[cid]["work_order"],
                                 untracked=clid is None)
                node["components"].append(child)
        for (ref_type, rid, reference), q in sorted(receipts.get(lid, {}).items(), key=lambda kv: str(kv[0])):
            s = summaries.get(rid, {}) if ref_type == RECEIPT_REF else {}
            entry = {"receipt_id": rid if s else None, "receipt": s.get("receipt") or reference,
                     "order_id": s.get("order_id"),
                     "order": s.get("order"), "supplier_id": s.get("supplier_id"), "supplier": s.get("supplier"),
                     "supplier_code": s.get("supplier_code"),
                     "date": s["date"].isoformat() if s.get("date") else None, "quantity": _fmt(q)}
            node["received"].append(entry)
            leaf_receipts.append(dict(entry, lot=lots[lid]["name"], sku=products[lots[lid]["product_id"]]["sku"],
                                      product_name=products[lots[lid]["product_id"]]["name"]))
        nodes[lid] = node
        return node

    tree = build(root_lot.id, None, frozenset({root_lot.id}))
    return {"tree": tree, "supplier_lots": leaf_receipts}


def trace_forward(uow: UnitOfWork, lot_id: int) -> dict:
    """The tree of what was made from a lot and the deliveries that took it (or its products) to customers."""
    from opensupply.erp.sales import service as sales

    root_lot = uow.get(StockLot, lot_id)
    links_by_lot: dict[int, list] = defaultdict(list)
    all_lots, frontier, depth = {root_lot.id}, {root_lot.id}, 0
    while frontier and depth < MAX_DEPTH:
        rows = uow.session.execute(select(LotLink).where(LotLink.company_id == uow.company_id,
                                                         LotLink.consumed_lot_id.in_(frontier))).scalars().all()
        nxt = set()
        for ln in rows:
            links_by_lot[ln.consumed_lot_id].append(ln)
            if ln.produced_lot_id and ln.produced_lot_id not in all_lots:
                nxt.add(ln.produced_lot_id)
        all_lots |= nxt
        frontier = nxt
        depth += 1
    links = [ln for rows in links_by_lot.values() for ln in rows]
    lots = _lots(uow, all_lots)
    products = _products(uow, {lots[i]["product_id"] for i in lots} | {ln.produced_product_id for ln in links})
    made = _production(uow, {ln.completion_id for ln in links})
    deliveries = _ledger_ends(uow, all_lots, "customer")
    returned = _returned_to_stock(uow, all_lots)
    summaries = sales.delivery_summaries(uow, {key[1] for per in deliveries.values() for key in per
                                               if key[0] == DELIVERY_REF and key[1]})
    customers: list[dict] = []

    def build(lid: int, qty: Decimal | None, seen: frozenset) -> dict:
        node = _node(lid, lots[lid]["product_id"], qty, lots, products)
        node["used_in"], node["delivered"] = [], []
        node["returned"] = _fmt(returned[lid]) if returned.get(lid) else None
        per_output: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
        for ln in links_by_lot.get(lid, []):
            per_output[(ln.produced_lot_id, ln.produced_product_id, ln.completion_id)] += to_decimal(ln.quantity)
        for (plid, ppid, cid), q in sorted(per_output.items(), key=lambda kv: kv[0][2]):
            if plid and plid not in seen:
                child = build(plid, None, seen | {plid})
            else:
                child = _node(plid, ppid, None, lots, products)
                child.update(used_in=[], delivered=[], returned=None)
            child["consumed_here"] = _fmt(q)
            child["via"] = made[cid]["work_order"]
            node["used_in"].append(child)
        for (ref_type, did, reference), q in sorted(deliveries.get(lid, {}).items(), key=lambda kv: str(kv[0])):
            s = summaries.get(did, {}) if ref_type == DELIVERY_REF else {}
            entry = {"delivery_id": did if s else None, "delivery": s.get("delivery") or reference,
                     "order_id": s.get("order_id"),
                     "order": s.get("order"), "channel": s.get("channel"), "source_ref": s.get("source_ref"),
                     "customer_id": s.get("customer_id"), "customer": s.get("customer"),
                     "customer_code": s.get("customer_code"),
                     "date": s["date"].isoformat() if s.get("date") else None, "quantity": _fmt(q)}
            node["delivered"].append(entry)
            customers.append(dict(entry, lot=lots[lid]["name"], sku=products[lots[lid]["product_id"]]["sku"],
                                  product_name=products[lots[lid]["product_id"]]["name"]))
        return node

    tree = build(root_lot.id, None, frozenset({root_lot.id}))
    return {"tree": tree, "customers": customers}


def trace(uow: UnitOfWork, lot_id: int) -> dict:
    """Both directions of a lot in one answer, with the quality checks recorded on it."""
    lot = uow.get(StockLot, lot_id)
    prod = _products(uow, {lot.product_id})[lot.product_id]
    back = trace_backward(uow, lot.id)
    fwd = trace_forward(uow, lot.id)
    checks = []
    try:
        from opensupply.mes import quality
    except ImportError:  # quality checks are optional for a trace
        quality = None
    if quality is not None and hasattr(quality, "checks_for_lot"):
        checks = quality.checks_for_lot(uow, lot.id)
    return {
        "lot": {"id": lot.id, "name": lot.name, "product_id": lot.product_id, "sku": prod["sku"],
                "name_of_product": prod["name"], "on_hand": _fmt(inv.on_hand(uow, lot.product_id, lot_id=lot.id)),
                "expiry_date": lot.expiry_date.isoformat() if lot.expiry_date else None},
        "backward": back["tree"], "supplier_lots": back["supplier_lots"],
        "forward": fwd["tree"], "customers": fwd["customers"],
        "quality_checks": checks,
    }


RECALL_HEADER = (_l("客户编码"), _l("客户"), _l("销售订单"), _l("平台单号"), _l("发货单"), _l("发货日期"),
                 _l("商品编码"), _l("商品"), _l("批次"), _l("数量"))


def recall_rows(uow: UnitOfWork, lot_id: int) -> tuple[list[str], list[list]]:
    """Every delivery that took the lot, or a lot made from it, to a customer."""
    fwd = trace_forward(uow, lot_id)
    rows = [[c["customer_code"] or "", c["customer"] or "", c["order"] or "", c["source_ref"] or "",
             c["delivery"] or "", c["date"] or "", c["sku"], c["product_name"], c["lot"], c["quantity"]]
            for c in fwd["customers"]]
    return [str(h) for h in RECALL_HEADER], rows
