"""Warehouse allocation (分仓): approved channel orders → ERP sales orders → fulfilments.

``allocate_orders(uow, order_ids) -> list[dict]`` allocates in priority order (priority desc — VIP —,
promised ship-by, paid time); merged orders go together as one group. For each group:

1. the lines still to ship (not refunded, not already on a fulfilment) become *parcels*: all of
   them, or the parts of a manual split; pre-sale lines ship on a parcel of their own;
2. a warehouse is chosen per parcel: among warehouses with enough available stock the one that
   ships everything, then the shop's preferred warehouse (``shop.default_warehouse_id`` or
   ``settings["preferred_warehouse_ids"]``), then shipping cost (``settings["warehouse_costs"]``:
   {warehouse id: cost}) and province distance (province capitals, great-circle km). When no
   warehouse ships everything and splitting is allowed (``settings["allow_split"]``, default on),
   lines go to the warehouses that can ship them; what nowhere has goes to the best warehouse as
   a backorder (reserved later, when stock arrives);
3. one ERP sales order per (channel order, warehouse) is created and confirmed (it reserves the
   stock per bin); prices are the paid amounts, tax included; freight is a service line 运费;
4. fulfilment lines point at the sales order lines; ``qty_reserved`` < quantity is a backorder.

Never ship twice: under the order row locks, Σ quantity of live fulfilment lines per order line
plus the new quantity may not exceed the line's quantity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, DomainError, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import ZERO, to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import SalesOrder
from opensupply.inventory.models import StockQuant, StockReservation
from opensupply.masterdata import models as md
from opensupply.masterdata.addresses import province_distance_km

from . import fulfilments as ful
from . import orders as oo
from .models import OmsFulfilment, OmsFulfilmentLine, OmsOrder, OmsOrderLine, OmsShop

FREIGHT_SKU = "FREIGHT"
CENT = Decimal("0.01")

@dataclass
class Need:
    order: OmsOrder
    line: OmsOrderLine
    quantity: Decimal


# ------------------------------------------------------------------ stock per warehouse
def available_by_warehouse(uow: UnitOfWork, product_ids: Iterable[int], *,
                           on_hand: dict | None = None) -> dict[tuple[int, int], Decimal]:
    """Available (on hand − active reservations) per (warehouse, product) in internal locations
    (and, into `on_hand` when given, the on-hand quantities)."""
    ids = list(set(product_ids))
    out: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    if not ids:
        return out
    q, r, loc = StockQuant, StockReservation, md.Location
    for wh, pid, qty in uow.session.execute(
            select(loc.warehouse_id, q.product_id, func.sum(q.quantity)).join(loc, loc.id == q.location_id)
            .where(q.company_id == uow.company_id, q.product_id.in_(ids), loc.usage == "internal",
                   loc.active.is_(True), loc.warehouse_id.is_not(None))
            .group_by(loc.warehouse_id, q.product_id)):
        out[(wh, pid)] += to_decimal(qty or 0)
        if on_hand is not None:
            on_hand[(wh, pid)] = to_decimal(qty or 0)
    for wh, pid, qty in uow.session.execute(
            select(loc.warehouse_id, r.product_id, func.sum(r.quantity)).join(loc, loc.id == r.location_id)
            .where(r.company_id == uow.company_id, r.product_id.in_(ids), r.state == "active",
                   loc.warehouse_id.is_not(None))
            .group_by(loc.warehouse_id, r.product_id)):
        out[(wh, pid)] -= to_decimal(qty or 0)
    return out


def _warehouses(uow: UnitOfWork, shop: OmsShop) -> list[md.Warehouse]:
    whs = list(uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id,
                                                              md.Warehouse.active.is_(True))
                                   .order_by(md.Warehouse.id)))
    allowed = (shop.settings or {}).get("warehouse_ids")
    if allowed:
        whs = [w for w in whs if w.id in {int(x) for x in allowed}] or whs
    if not whs:
        raise Conflict(_("公司还没有仓库，不能分配订单"), field="warehouse_id", code="no_warehouse")
    return whs


def _rank(shop: OmsShop, province: str | None, whs: list[md.Warehouse]):
    """Sort key of a warehouse for an order: preferred first, then cost, then distance, then id."""
    settings = shop.settings or {}
    preferred = [int(x) for x in settings.get("preferred_warehouse_ids") or []]
    if shop.default_warehouse_id and shop.default_warehouse_id not in preferred:
        preferred.insert(0, shop.default_warehouse_id)
    costs = {int(k): float(v) for k, v in (settings.get("warehouse_costs") or {}).items()}

    def key(w: md.Warehouse):
        pref = preferred.index(w.id) if w.id in preferred else len(preferred)
        return (pref, costs.get(w.id, 0.0), province_distance_km(w.province, province), w.id)

    return key


def choose(needs: list[Need], whs: list[md.Warehouse], avail: dict[tuple[int, int], Decimal], key,
           allow_split: bool, stocked: dict[tuple[int, int], Decimal] | None = None) -> list[tuple[int, list[Need]]]:
    """Assign needs to warehouses: [(warehouse_id, needs)]. Pure (no database). What no warehouse
    has free goes, as a backorder, where most of it is free, else where the goods are kept
    (`stocked`: on hand, even if reserved), else to the best-ranked warehouse."""
    stocked = stocked or {}
    def covers(wh_id: int, ns: list[Need], stock: dict) -> bool:
        per: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for n in ns:
            per[n.line.product_id] += n.quantity
        return all(stock.get((wh_id, p), ZERO) >= q for p, q in per.items())

    ranked = sorted(whs, key=key)
    full = [w for w in ranked if covers(w.id, needs, avail)]
    if full:
        return [(full[0].id, needs)]
    if not allow_split:
        best = max(ranked, key=lambda w: (sum(1 for n in needs if covers(w.id, [n], avail)),
                                          sum(1 for n in needs if stocked.get((w.id, n.line.product_id), ZERO) > 0),
                                          -ranked.index(w)))
        return [(best.id, needs)]
    stock = dict(avail)
    left = list(needs)
    plan: list[tuple[int, list[Need]]] = []
    while left:
        best, best_ns = None, []
        for w in ranked:
            got, trial = [], dict(stock)
            for n in left:
                k = (w.id, n.line.product_id)
                if trial.get(k, ZERO) >= n.quantity:
                    trial[k] = trial.get(k, ZERO) - n.quantity
                    got.append(n)
            if len(got) > len(best_ns):
                best, best_ns = w, got
        if best is None:
            break
        for n in best_ns:
            stock[(best.id, n.line.product_id)] -= n.quantity
        plan.append((best.id, best_ns))
        left = [n for n in left if n not in best_ns]
    if left:  # nowhere in full: a backorder where most of it is, else the best-ranked warehouse
        def partial(w):
            return (-sum(min(stock.get((w.id, n.line.product_id), ZERO), n.quantity) for n in left),
                    -sum(1 for n in left if stocked.get((w.id, n.line.product_id), ZERO) > 0), ranked.index(w))
        wid = min(ranked, key=partial).id
        for i, (w, ns) in enumerate(plan):
            if w == wid:
                plan[i] = (w, ns + left)
                break
        else:
            plan.append((wid, left))
    return plan


# ------------------------------------------------------------------ ERP sales orders
def freight_product(uow: UnitOfWork) -> int:
    """The service product 运费 freight is billed with (created on first use)."""
    pid = uow.session.scalar(select(md.Product.id).where(md.Product.company_id == uow.company_id,
                                                         md.Product.sku == FREIGHT_SKU))
    if pid:
        return pid
    return rs.create_record(uow, _products_resource(), {"sku": FREIGHT_SKU, "name": "运费", "uom_id": "pcs",
                                                       "product_type": "service"}).id


def _products_resource():
    from opensupply.masterdata import resources

    return resources.products


def _source_ref(uow: UnitOfWork, order: OmsOrder, channel: str) -> str:
    base = order.channel_order_id
    used = set(uow.session.scalars(select(SalesOrder.source_ref).where(
        SalesOrder.company_id == uow.company_id, SalesOrder.channel == channel, SalesOrder.state != "cancelled",
        (SalesOrder.source_ref == base) | SalesOrder.source_ref.like(f"{base}#%"))))
    if base not in used:
        return base
    n = 2
    while f"{base}#{n}" in used:
        n += 1
    return f"{base}#{n}"


def _freight_billed(uow: UnitOfWork, order: OmsOrder) -> bool:
    fid = uow.session.scalar(select(md.Product.id).where(md.Product.company_id == uow.company_id,
                                                         md.Product.sku == FREIGHT_SKU))
    if not fid:
        return False
    from opensupply.erp.sales.models import SalesOrderLine

    return bool(uow.session.scalar(select(SalesOrderLine.id).join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
                                   .where(SalesOrder.company_id == uow.company_id,
                                          SalesOrder.state != "cancelled", SalesOrderLine.product_id == fid,
                                          (SalesOrder.source_ref == order.channel_order_id)
                                          | SalesOrder.source_ref.like(f"{order.channel_order_id}#%")).limit(1)))


def line_amounts(order: OmsOrder) -> dict[int, Decimal]:
    """What each line was paid (tax included), so that the lines add up to 实付款 less freight
    (lines without a paid amount count at unit price × quantity; a difference is spread by value)."""
    lines = list(order.lines)
    target = to_decimal(order.paid_amount) - to_decimal(order.freight)
    value = {ln.id: (to_decimal(ln.paid_amount) if to_decimal(ln.paid_amount) > 0
                     else to_decimal(ln.unit_price) * to_decimal(ln.quantity)) for ln in lines}
    total = sum(value.values(), ZERO)
    if target <= 0 or total == target:
        return value
    if total <= 0:
        value = {ln.id: to_decimal(ln.quantity) for ln in lines}
        total = sum(value.values(), ZERO)
    out, acc = {}, ZERO
    for i, ln in enumerate(lines):
        if i == len(lines) - 1:
            out[ln.id] = target - acc
        else:
            out[ln.id] = (target * value[ln.id] / total).quantize(CENT, ROUND_HALF_UP)
            acc += out[ln.id]
    return out


def _unit_price(amount: Decimal, qty: Decimal) -> Decimal:
    return (amount / qty).quantize(Decimal("0.000001"), ROUND_HALF_UP) if qty else ZERO


# ------------------------------------------------------------------ allocation
def _needs(uow: UnitOfWork, orders: list[OmsOrder]) -> list[Need]:
    lines = [ln for o in orders for ln in oo.active_lines(o)]
    committed = oo.committed_quantities(uow, [ln.id for ln in lines])
    by_order = {o.id: o for o in orders}
    out = []
    for ln in lines:
        q = to_decimal(ln.quantity) - committed.get(ln.id, ZERO)
        if q > 0:
            out.append(Need(by_order[ln.order_id], ln, q))
    return out


def _parcels(uow: UnitOfWork, orders: list[OmsOrder], needs: list[Need]) -> list[tuple[str, list[Need]]]:
    """[(order_type, needs)]: pre-sale lines apart; a manual split's parts each apart."""
    normal = [n for n in needs if not (n.line.is_presale or n.order.is_presale)]
    presale = [n for n in needs if n.line.is_presale or n.order.is_presale]
    parcels: list[tuple[str, list[Need]]] = []
    if len(orders) == 1 and normal:
        plan = oo.split_plan(uow, orders[0].id)
        if plan:
            by_line = {n.line.id: n for n in normal}
            for part in plan:
                ns = [Need(by_line[lid].order, by_line[lid].line, q) for lid, q in part.items()
                      if lid in by_line and q > 0]
                if ns:
                    parcels.append(("normal", ns))
            normal = []
    if normal:
        parcels.append(("normal", normal))
    if presale:
        parcels.append(("presale", presale))
    return parcels


def allocate_group(uow: UnitOfWork, order_ids: list[int]) -> list[OmsFulfilment]:
    """Allocate one order or one merged group; raises a DomainError saying why it cannot."""
    orders = oo.lock_orders(uow, order_ids)
    orders = [o for o in orders if o.status != "cancelled"]
    if not orders:
        raise Conflict(_("订单已取消"), field="order_id", code="illegal_transition")
    for o in orders:
        if o.status != "approved":
            raise Conflict(_("订单 {n} 当前状态为「{s}」，只有已审核的订单可以分配", n=o.number,
                             s=oo.status_label(o.status)), field="status", code="illegal_transition")
        if o.on_hold:
            raise Conflict(_("订单 {n} 被挂起，不能分配", n=o.number), field="hold", code="on_hold")
        missing = [ln.channel_sku or ln.title for ln in oo.active_lines(o) if ln.product_id is None]
        if missing:
            raise Conflict(_("订单 {n} 有未匹配的商品：{s}", n=o.number, s="、".join(str(m) for m in missing)),
                           field="lines", code="unmatched_product")
    shop = uow.get(OmsShop, orders[0].shop_id)
    if not shop.customer_id:
        raise Conflict(_("店铺 {s} 没有设置对应的客户，不能生成销售订单", s=shop.name), field="shop_id",
                       code="no_customer")
    needs = _needs(uow, orders)
    if not needs:
        raise Conflict(_("订单 {n} 没有待分配的商品", n=orders[0].number), field="lines")
    master = next((o for o in orders if o.merged_into_id is None), orders[0])
    whs = _warehouses(uow, shop)
    fixed = {o.warehouse_id for o in orders if o.warehouse_id} if len(orders) > 1 else set()
    if len(fixed) == 1:  # a merge keeps the warehouse its orders were given
        whs = [w for w in whs if w.id in fixed] or whs
    key = _rank(shop, master.province, whs)
    allow_split = bool((shop.settings or {}).get("allow_split", True))
    parcels = _parcels(uow, orders, needs)
    stocked: dict[tuple[int, int], Decimal] = {}
    avail = available_by_warehouse(uow, [n.line.product_id for n in needs], on_hand=stocked)
    plan: list[tuple[str, int, list[Need]]] = []
    for order_type, ns in parcels:
        if order_type == "presale":
            plan.append((order_type, sorted(whs, key=key)[0].id, ns))
            continue
        for wh_id, part in choose(ns, whs, avail, key, allow_split, stocked):
            for n in part:
                avail[(wh_id, n.line.product_id)] = avail.get((wh_id, n.line.product_id), ZERO) - n.quantity
            plan.append((order_type, wh_id, part))
    # one ERP sales order per (channel order, warehouse), one SO line per (parcel, order line)
    so_lines: dict[tuple[int, int], list[tuple[int, Need]]] = defaultdict(list)  # (order, wh) → [(parcel, need)]
    for i, (_t, wh_id, ns) in enumerate(plan):
        for n in ns:
            so_lines[(n.order.id, wh_id)].append((i, n))
    amounts = {o.id: line_amounts(o) for o in orders}
    so_of: dict[tuple[int, int], SalesOrder] = {}
    so_line_of: dict[tuple[int, int], int] = {}  # (parcel, order line) → SO line id
    for (oid, wh_id), items in sorted(so_lines.items()):
        order = next(o for o in orders if o.id == oid)
        sl = []
        for _i, n in items:
            paid = amounts[oid].get(n.line.id, ZERO)
            unit = _unit_price(paid, to_decimal(n.line.quantity)) if paid > 0 else to_decimal(n.line.unit_price)
            sl.append(sales.SalesLineIn(product_id=n.line.product_id, quantity=n.quantity, unit_price=unit,
                                        tax_rate=shop.tax_rate, description=(n.line.title or "")[:300] or None))
        freight = to_decimal(order.freight)
        if freight > 0 and not _freight_billed(uow, order):
            sl.append(sales.SalesLineIn(product_id=freight_product(uow), quantity=1, unit_price=freight,
                                        tax_rate=shop.tax_rate, description="运费"))
        so = sales.create_sales_order(
            uow, customer_id=shop.customer_id, lines=sl, channel=shop.channel,
            source_ref=_source_ref(uow, order, shop.channel), warehouse_id=wh_id, confirm=True,
            created_by_module="oms", price_includes_tax=shop.price_includes_tax,
            notes=_("渠道订单 {n}", n=order.number))
        so_of[(oid, wh_id)] = so
        ordered = sorted(so.lines, key=lambda x: (x.sequence, x.id))
        for (i, n), sol in zip(items, ordered[:len(items)], strict=True):
            so_line_of[(i, n.line.id)] = sol.id
    reserved = ful.reserved_of(uow, so_line_of.values())
    # never ship twice: the order rows are locked; check again with what we add
    committed = oo.committed_quantities(uow, [n.line.id for n in needs])
    adding: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for _t, _w, ns in plan:
        for n in ns:
            adding[n.line.id] += n.quantity
    for n in needs:
        if committed.get(n.line.id, ZERO) + adding[n.line.id] > to_decimal(n.line.quantity):
            raise Conflict(_("订单 {n} 第 {no} 行已在其他发货单上，不能重复发货", n=n.order.number, no=n.line.line_no),
                           field="lines", code="duplicate_fulfilment")
    created = []
    for i, (order_type, wh_id, ns) in enumerate(plan):
        ship_by = [o.promised_ship_by for o in orders if o.promised_ship_by]
        f = OmsFulfilment(number=ful.new_number(uow), warehouse_id=wh_id, shop_id=shop.id, status="allocated",
                          priority=max(o.priority or 0 for o in orders), order_type=order_type,
                          ship_by=min(ship_by) if ship_by else None, receiver_name=master.receiver_name,
                          phone=master.phone, province=master.province, city=master.city, district=master.district,
                          address_detail=master.address_detail)
        for n in ns:
            sol_id = so_line_of[(i, n.line.id)]
            f.lines.append(OmsFulfilmentLine(
                order_id=n.order.id, order_line_id=n.line.id, sales_order_id=so_of[(n.order.id, wh_id)].id,
                sales_order_line_id=sol_id, product_id=n.line.product_id, quantity=n.quantity,
                qty_reserved=min(n.quantity, reserved.get(sol_id, ZERO)), qty_shipped=ZERO))
        uow.add(f)
        uow.flush()
        short = sum((n.quantity for n in ns), ZERO) - sum((fl.qty_reserved for fl in f.lines), ZERO)
        msg = _("分配到仓库 {w}", w=_wh_name(uow, wh_id)) + (_("（欠货 {q}）", q=oo._fmt(short)) if short > 0 else "")
        ful._event_all(uow, f, "allocated", msg, {"warehouse_id": wh_id, "backorder": str(short)})
        uow.emit("oms.fulfilment_created", fulfilment_id=f.id, number=f.number, warehouse_id=wh_id,
                 shop_id=shop.id, order_ids=sorted({n.order.id for n in ns}))
        created.append(f)
    for o in orders:
        whs_of = [w for (oid, w) in so_of if oid == o.id]
        o.warehouse_id = whs_of[0] if whs_of else o.warehouse_id
        if any(oid == o.id for (oid, _w) in so_of):
            oo.transition(uow, o, "allocated", message=_("已分配：{f}", f="、".join(
                f.number for f in created if any(fl.order_id == o.id for fl in f.lines))))
    uow.flush()
    return created


def _wh_name(uow: UnitOfWork, wh_id: int) -> str:
    return uow.session.scalar(select(md.Warehouse.name).where(md.Warehouse.id == wh_id)) or str(wh_id)


def _priority_key(o: OmsOrder):
    far = 1e18
    return (-(o.priority or 0), o.promised_ship_by.timestamp() if o.promised_ship_by else far,
            o.paid_at.timestamp() if o.paid_at else far, o.id)


def allocate_orders(uow: UnitOfWork, order_ids: Iterable[int]) -> list[dict]:
    """Allocate approved orders (their merged partners come along), most urgent first. Each order
    or merged group runs in its own savepoint; returns [{"id", "number", "ok", "message",
    "fulfilments"}] per requested order."""
    ids = [int(i) for i in order_ids]
    if not ids:
        raise ValidationFailed(_("请选择订单"), field="order_ids")
    orders = list(uow.session.scalars(select(OmsOrder).where(OmsOrder.company_id == uow.company_id,
                                                             OmsOrder.id.in_(ids))))
    found = {o.id: o for o in orders}
    results: dict[int, dict] = {}
    for i in ids:
        if i not in found:
            results[i] = {"id": i, "number": None, "ok": False, "message": str(_("订单不存在：#{id}", id=i)),
                          "fulfilments": []}
    _auto_merge(uow, orders)
    groups: dict[int, list[int]] = {}
    for o in sorted(orders, key=_priority_key):
        master = o.merged_into_id or o.id
        if master in groups:
            continue
        groups[master] = [x.id for x in oo.merge_group(uow, o)]
    for members in groups.values():
        try:
            with uow.session.begin_nested():
                made = allocate_group(uow, members)
            res = {"ok": True, "message": str(_("已分配：{f}", f="、".join(f.number for f in made))),
                   "fulfilments": [f.number for f in made]}
        except DomainError as exc:
            res = {"ok": False, "message": exc.message, "fulfilments": []}
        for oid in members:
            if oid in found:
                results[oid] = {"id": oid, "number": found[oid].number, **res}
    return [results[i] for i in ids if i in results]


def _auto_merge(uow: UnitOfWork, orders: list[OmsOrder]) -> None:
    """Shops with ``settings["auto_merge"]``: approved orders of one recipient in this batch ship together."""
    shops = {s.id: s for s in uow.session.scalars(select(OmsShop).where(
        OmsShop.id.in_({o.shop_id for o in orders})))}
    same: dict[tuple[int, str], list[int]] = defaultdict(list)
    for o in orders:
        shop = shops.get(o.shop_id)
        if (shop is None or not shop.merge_enabled or not (shop.settings or {}).get("auto_merge") or not o.merge_key
                or o.status != "approved" or o.on_hold or o.merged_into_id):
            continue
        same[(o.shop_id, o.merge_key)].append(o.id)
    for ids in same.values():
        if len(ids) > 1:
            try:
                with uow.session.begin_nested():
                    oo.merge_orders(uow, ids)
            except DomainError:
                continue


def deallocate_order(uow: UnitOfWork, order_id: int, reason: str | None = None) -> OmsOrder:
    """Undo an allocation not yet picked: fulfilments (of the order's merge group) cancelled, ERP
    sales orders cancelled (stock released), orders back to 已审核."""
    order = oo.get_order(uow, order_id)
    group = oo.lock_orders(uow, [o.id for o in oo.merge_group(uow, order)])
    pairs = oo.fulfilment_lines_of(uow, [o.id for o in group])
    fids = sorted({f.id for _fl, f in pairs if f.status in oo.ACTIVE_FULFILMENT})
    fuls = oo.lock_fulfilments(uow, fids)
    for f in fuls:
        if f.status != "allocated":
            raise Conflict(_("发货单 {n} 已开始拣货，不能撤销分配", n=f.number), field="order_id",
                           code="illegal_transition")
    reason = (reason or "").strip() or str(_("撤销分配"))
    for f in fuls:
        ful._cancel(uow, f, reason, reallocate=False)
    return order
