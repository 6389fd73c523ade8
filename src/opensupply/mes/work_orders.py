"""Work orders (生产工单): draft → released → in_progress → done (or cancelled).

* **Create** (by hand, from a sales order's open lines — make to order —, from a planned order, or as a
  rework order from a failed inspection) on the BOM version in force (`masterdata.boms.released_bom`) and
  the routing for it. Components and operations are copied, so a later engineering change or routing
  change leaves the work order as it was planned; lifecycle rules apply (`masterdata.lifecycle`).
* **Release** reserves the components in the work order's warehouse (what is there; shortages are shown
  and can be reserved again later) and makes the operations reportable.
* **Issue** (领料) moves reserved components to the line's staging location (线边库位) and keeps them
  reserved there; backflush components stay where they are until consumed.
* **Complete** (完工入库) consumes components for the good + scrapped units (issued first, then the
  rest of the reservation), absorbs the operations' conversion cost (Dr 5001 生产成本 / Cr 5101 制造费用),
  and brings the good units into stock valued at material + conversion − by-products, so 5001 clears.
  The consumed component lots and the produced lot are linked (`mes_lot_link`) for the lot trace.
* **Close** releases what is still reserved and returns unused staged material to stock.

Moves: stock/staging → PRODUCTION (consumption, Dr 5001 / Cr 1405 by the stock ledger's valuation hook)
and PRODUCTION → stock (output, Dr 1405 / Cr 5001).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select

from opensupply.accounting import service as gl
from opensupply.accounting.stock import local_date
from opensupply.core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.units import convert_qty
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot, StockMove, StockReservation
from opensupply.masterdata import boms
from opensupply.masterdata import models as md
from opensupply.masterdata import service as mds
from opensupply.masterdata.lifecycle import require_producible

from . import routings
from .models import (
    WORK_ORDER_KINDS,
    WORK_ORDER_SOURCES,
    LotLink,
    WorkCenter,
    WorkOrder,
    WorkOrderCompletion,
    WorkOrderComponent,
    WorkOrderOperation,
)

register_sequence("MES_WO", "WO{year}-", 6)
register_sequence("MES_FIN", "WG{year}-", 6)

COMPONENT_REF = "mes.wo_component"  # reservations and consumption moves of a component line
OUTPUT_REF = "mes.completion"  # output moves and the conversion-cost voucher of a completion
SIX = Decimal("0.000001")
STATE_LABELS = {"draft": "草稿", "released": "已下达", "in_progress": "生产中", "done": "已完工", "cancelled": "已取消"}
KIND_LABELS = {"normal": "量产", "pilot": "试产", "rework": "返工"}
SOURCE_LABELS = {"manual": "手工", "sales_order": "销售订单", "planned_order": "计划订单", "quality": "质检返工"}
OPEN_STATES = ("draft", "released", "in_progress")


def state_label(state: str) -> str:
    return _(STATE_LABELS.get(state, state))


def kind_label(kind: str) -> str:
    return _(KIND_LABELS.get(kind, kind))


def source_label(source: str) -> str:
    return _(SOURCE_LABELS.get(source, source))


def q6(value: Decimal) -> Decimal:
    return to_decimal(value).quantize(SIX)


def _qty(raw: Any, field: str, label: str, *, allow_zero: bool = False) -> Decimal:
    value = boms._decimal(raw, field, label, default=ZERO if allow_zero else None)
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationFailed(_("{label}必须大于 0", label=label), field=field)
    if value != value.quantize(SIX):
        raise ValidationFailed(_("{label}最多 6 位小数", label=label), field=field)
    return value


def get_work_order(uow: UnitOfWork, work_order_id: int, *, for_update: bool = False) -> WorkOrder:
    return uow.get(WorkOrder, work_order_id, for_update=for_update)


def by_number(uow: UnitOfWork, number: str) -> WorkOrder:
    wo = uow.session.scalar(select(WorkOrder).where(WorkOrder.company_id == uow.company_id,
                                                    WorkOrder.number == (number or "").strip()))
    if wo is None:
        raise NotFound(_("生产工单不存在：{n}", n=number), field="work_order")
    return wo


def _warehouse(uow: UnitOfWork, warehouse_id: int | None) -> md.Warehouse:
    if warehouse_id:
        return uow.get(md.Warehouse, int(warehouse_id))
    wh = uow.session.scalar(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id,
                                                       md.Warehouse.active.is_(True)).order_by(md.Warehouse.id))
    if wh is None:
        raise ValidationFailed(_("请先建立仓库"), field="warehouse_id")
    return wh


def staging_location(uow: UnitOfWork, wc: WorkCenter, warehouse: md.Warehouse) -> int:
    """The line's staging location (线边库位), created under the warehouse on first use."""
    if wc.staging_location_id:
        return wc.staging_location_id
    loc = mds.ensure_bin(uow, warehouse, f"LINE-{wc.code}", _("线边库位 {name}", name=wc.name))
    wc.staging_location_id = loc.id
    if wc.warehouse_id is None:
        wc.warehouse_id = warehouse.id
    uow.flush()
    return loc.id


# ------------------------------------------------------------------ create
def _components_from_bom(bom: md.Bom, consumption: str | None) -> list[WorkOrderComponent]:
    out = []
    for line in bom.lines:
        gross = to_decimal(line.quantity) / to_decimal(bom.quantity)
        if not line.is_byproduct:
            gross *= 1 + to_decimal(line.scrap_pct) / 100
        per_unit = convert_qty(gross, line.uom, line.component.uom, round=False)
        out.append(WorkOrderComponent(product_id=line.component_id, quantity_per_unit=q6(per_unit),
                                      required_qty=ZERO, consumption=consumption or "backflush",
                                      is_byproduct=bool(line.is_byproduct)))
    return out


def _set_required(wo: WorkOrder) -> None:
    for c in wo.components:
        c.required_qty = q6(to_decimal(c.quantity_per_unit) * to_decimal(wo.quantity))


def create_work_order(uow: UnitOfWork, *, product: int | str, quantity: Any, kind: str = "normal",
                      due_date: dt.date | None = None, warehouse_id: int | None = None, bom_id: int | None = None,
                      routing_id: int | None = None, lot_name: str | None = None, source: str = "manual",
                      sales_order_id: int | None = None, source_ref: str | None = None, priority: int = 0,
                      notes: str | None = None, parent_id: int | None = None, dest_location: int | str | None = None,
                      consumption: str | None = None) -> WorkOrder:
    """A draft work order for `quantity` of a product (id or SKU) on its released BOM version (a pilot
    order may name a draft version with `bom_id`) and the routing for that version."""
    if kind not in WORK_ORDER_KINDS:
        raise ValidationFailed(_("工单类型无效：{value}", value=kind), field="kind")
    if source not in WORK_ORDER_SOURCES:
        raise ValidationFailed(_("工单来源无效：{value}", value=source), field="source")
    if consumption not in (None, "backflush", "pick"):
        raise ValidationFailed(_("领料方式无效：{value}", value=consumption), field="consumption")
    prod = boms._product(uow, product, "product")
    if not prod.active:
        raise ValidationFailed(_("商品已停用：{sku}", sku=prod.sku), field="product")
    if prod.product_type == "service":
        raise ValidationFailed(_("服务类商品不能生产：{sku}", sku=prod.sku), field="product")
    require_producible(uow, prod.id, kind)
    qty = _qty(quantity, "quantity", _("数量"))
    wh = _warehouse(uow, warehouse_id)
    bom = None
    if bom_id not in (None, ""):
        bom = boms.get_bom(uow, int(bom_id))
        if bom.product_id != prod.id:
            raise ValidationFailed(_("物料清单不属于该商品"), field="bom_id")
        if bom.state == "obsolete" or (bom.state == "draft" and kind != "pilot"):
            raise ValidationFailed(_("只能使用已发布的物料清单版本（试产工单可用草稿版本）"), field="bom_id")
    elif kind != "rework":
        bom = boms.released_bom(uow, prod.id)
        if bom is None:
            raise ValidationFailed(_("商品 {sku} 没有已发布的物料清单", sku=prod.sku), field="product")
    if routing_id not in (None, ""):
        routing = uow.get(routings.Routing, int(routing_id))
        if routing.product_id != prod.id:
            raise ValidationFailed(_("工艺路线不属于该商品"), field="routing_id")
    else:
        routing = routings.routing_for(uow, prod.id, bom.id if bom else None)
    dest = None
    if dest_location not in (None, ""):
        loc = inv.resolve_location(uow, dest_location)
        if loc.usage != "internal":
            raise ValidationFailed(_("{code} 不是库内库位", code=loc.full_code), field="dest_location")
        dest = loc.id
    lot_name = (lot_name or "").strip() or None
    if lot_name and prod.tracking == "none":
        raise ValidationFailed(_("商品 {sku} 不按批次管理，不能指定批次", sku=prod.sku), field="lot_name")
    if due_date is not None and due_date < company_today(uow) - dt.timedelta(days=365):
        raise ValidationFailed(_("交期不正确"), field="due_date")
    wo = WorkOrder(number=next_number(uow, "MES_WO"), kind=kind, state="draft", product_id=prod.id,
                   bom_id=bom.id if bom else None, routing_id=routing.id if routing else None, quantity=qty,
                   warehouse_id=wh.id, dest_location_id=dest, lot_name=lot_name, due_date=due_date,
                   priority=int(priority or 0), source=source, sales_order_id=sales_order_id,
                   source_ref=(source_ref or None), notes=(notes or "").strip() or None, parent_id=parent_id)
    wo.components = _components_from_bom(bom, consumption) if bom else []
    _set_required(wo)
    wo.operations = [WorkOrderOperation(
        company_id=uow.company_id, sequence=op.sequence, name=op.name, work_center_id=op.work_center_id,
        setup_minutes=op.setup_minutes, run_minutes=op.run_minutes, checklist_id=op.checklist_id)
        for op in (routing.operations if routing else [])]
    uow.add(wo)
    uow.flush()
    uow.emit("mes.work_order_created", work_order_id=wo.id, number=wo.number, product_id=prod.id,
             bom_id=wo.bom_id)
    return wo


def update_work_order(uow: UnitOfWork, work_order_id: int, changes: dict) -> WorkOrder:
    """Change a draft (quantity, due date, priority, lot, notes); a released order only its due date,
    priority and notes."""
    wo = get_work_order(uow, work_order_id, for_update=True)
    if wo.state not in ("draft", "released", "in_progress"):
        raise Conflict(_("工单 {n} 已{state}，不能修改", n=wo.number, state=state_label(wo.state)), field="state")
    draft_only = {"quantity", "lot_name", "warehouse_id"}
    if wo.state != "draft" and draft_only & set(changes):
        raise Conflict(_("工单 {n} 已下达，只能修改交期、优先级和备注", n=wo.number), field="state")
    if "quantity" in changes:
        wo.quantity = _qty(changes["quantity"], "quantity", _("数量"))
        _set_required(wo)
    if "due_date" in changes:
        raw = changes["due_date"]
        wo.due_date = raw if isinstance(raw, dt.date) or raw is None else dt.date.fromisoformat(str(raw)[:10])
    if "priority" in changes:
        try:
            wo.priority = int(changes["priority"] or 0)
        except (TypeError, ValueError):
            raise ValidationFailed(_("优先级必须是整数"), field="priority") from None
    if "lot_name" in changes:
        wo.lot_name = (changes["lot_name"] or "").strip() or None
    if "notes" in changes:
        wo.notes = (changes["notes"] or "").strip() or None
    uow.flush()
    return wo


def create_from_sales_order(uow: UnitOfWork, sales_order_id: int) -> list[WorkOrder]:
    """Make to order: a work order per line of a confirmed sales order whose product has a released BOM,
    for what is neither reserved from stock nor already on an open work order for that order."""
    from opensupply.erp.sales import service as sales

    order = sales.open_order_lines(uow, sales_order_id)
    planned: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for pid, qty, done in uow.session.execute(
            select(WorkOrder.product_id, WorkOrder.quantity, WorkOrder.qty_done).where(
                WorkOrder.company_id == uow.company_id, WorkOrder.sales_order_id == sales_order_id,
                WorkOrder.state != "cancelled")):
        planned[pid] += to_decimal(qty) if done is None else max(to_decimal(qty), to_decimal(done))
    created = []
    for ln in order["lines"]:
        short = ln["open_qty"] - ln["reserved_qty"] - planned[ln["product_id"]]
        if short <= 0 or boms.released_bom(uow, ln["product_id"]) is None:
            continue
        planned[ln["product_id"]] += short
        created.append(create_work_order(uow, product=ln["product_id"], quantity=q6(short), source="sales_order",
                                         sales_order_id=order["id"], source_ref=order["number"],
                                         due_date=order["requested_date"], warehouse_id=order["warehouse_id"]))
    if not created:
        raise Conflict(_("销售订单 {n} 没有需要生产的行（库存已预留、已有工单或没有已发布的物料清单）",
                         n=order["number"]), field="sales_order_id")
    return created


# ------------------------------------------------------------------ release, reserve, issue
def _reservations(uow: UnitOfWork, component_ids: Iterable[int]) -> dict[int, list[dict]]:
    ids = list(component_ids)
    if not ids:
        return {}
    r = StockReservation
    out: dict[int, list[dict]] = defaultdict(list)
    for row in uow.session.execute(select(r.id, r.ref_id, r.product_id, r.location_id, r.lot_id, r.quantity).where(
            r.company_id == uow.company_id, r.ref_type == COMPONENT_REF, r.ref_id.in_(ids),
            r.state == "active").order_by(r.id)).mappings():
        out[row["ref_id"]].append(dict(row, quantity=to_decimal(row["quantity"])))
    return out


def material_status(uow: UnitOfWork, wo: WorkOrder) -> list[dict]:
    """Per component: required, reserved (and where), issued to the line, consumed, still missing."""
    res = _reservations(uow, [c.id for c in wo.components])
    rows = []
    for c in wo.components:
        reserved = sum((r["quantity"] for r in res.get(c.id, [])), ZERO)
        open_need = ZERO if c.is_byproduct else max(to_decimal(c.required_qty) - to_decimal(c.consumed_qty), ZERO)
        rows.append({"component": c, "reserved": reserved, "open": open_need,
                     "missing": max(open_need - reserved, ZERO) if wo.state in OPEN_STATES else ZERO})
    return rows


def reserve_materials(uow: UnitOfWork, work_order_id: int) -> dict[int, Decimal]:
    """Reserve what is still missing for the open components (after a receipt brought the shortage in).
    Returns what was reserved now, per component id."""
    wo = get_work_order(uow, work_order_id, for_update=True)
    if wo.state not in ("released", "in_progress"):
        raise Conflict(_("工单 {n} 未下达，不能预留物料", n=wo.number), field="state")
    needs = [inv.StockNeed(row["component"].id, row["component"].product_id, row["missing"])
             for row in material_status(uow, wo) if row["missing"] > 0]
    return inv.reserve_in_warehouse(uow, needs, wo.warehouse_id, ref_type=COMPONENT_REF, reference=wo.number)


def release_work_order(uow: UnitOfWork, work_order_id: int) -> WorkOrder:
    """下达: reserve the components in the warehouse and open the operations for reporting."""
    wo = get_work_order(uow, work_order_id, for_update=True)
    if wo.state != "draft":
        raise Conflict(_("工单 {n} 已{state}，不能下达", n=wo.number, state=state_label(wo.state)), field="state")
    require_producible(uow, wo.product_id, wo.kind)
    if wo.bom_id:
        bom = boms.get_bom(uow, wo.bom_id)
        if bom.state == "obsolete" and wo.kind != "rework":
            raise Conflict(_("工单 {n} 的物料清单 {v} 已作废，请按现行版本重新建单", n=wo.number, v=bom.version),
                           field="bom_id")
    wo.state = "released"
    uow.flush()
    reserve_materials(uow, wo.id)
    uow.emit("mes.work_order_released", work_order_id=wo.id, number=wo.number)
    return wo


def issue_materials(uow: UnitOfWork, work_order_id: int, quantities: dict[int, Any] | None = None) -> list[int]:
    """领料: move reserved components to the staging location of the work center that uses them
    (`quantities`: component id → quantity; default every 领料 component's reserved, not yet issued
    quantity). They stay reserved for the work order there. Returns the move ids."""
    wo = get_work_order(uow, work_order_id, for_update=True)
    if wo.state not in ("released", "in_progress"):
        raise Conflict(_("工单 {n} 未下达，不能领料", n=wo.number), field="state")
    wh = uow.get(md.Warehouse, wo.warehouse_id)
    comps = {c.id: c for c in wo.components if not c.is_byproduct}
    if quantities:
        unknown = set(map(int, quantities)) - set(comps)
        if unknown:
            raise ValidationFailed(_("工单 {n} 没有物料行 #{id}", n=wo.number, id=min(unknown)), field="quantities")
        wanted = {int(k): _qty(v, "quantities", _("领料数量")) for k, v in quantities.items()}
    else:
        wanted = {c.id: max(to_decimal(c.required_qty) - to_decimal(c.issued_qty), ZERO)
                  for c in comps.values() if c.consumption == "pick"}
    res = _reservations(uow, wanted)
    move_ids = []
    for cid, qty in sorted(wanted.items()):
        if qty <= 0:
            continue
        comp = comps[cid]
        staging = staging_location(uow, _work_center_of(uow, wo, comp), wh)
        transfers, left = [], qty
        for r in res.get(cid, []):
            if left <= 0:
                break
            if r["location_id"] == staging:
                continue
            take = min(left, r["quantity"])
            transfers.append((r["id"], take))
            left -= take
        if left > 0:
            raise InsufficientStock(_("{sku} 可领数量不足：还差 {q}（请先预留或补货）", sku=comp.product.sku,
                                      q=inv.fmt_qty(left)), field="quantities")
        done = inv.transfer_reserved(uow, transfers, staging, reference=wo.number, ref_type=COMPONENT_REF,
                                     ref_id=cid)
        comp.issued_qty = q6(to_decimal(comp.issued_qty) + qty)
        move_ids += [m for m, _r in done]
    uow.flush()
    return move_ids


def _work_center_of(uow: UnitOfWork, wo: WorkOrder, comp: WorkOrderComponent) -> WorkCenter:
    ops = sorted(wo.operations, key=lambda o: o.sequence)
    chosen = next((o for o in ops if comp.operation_sequence is not None and o.sequence == comp.operation_sequence),
                  ops[0] if ops else None)
    if chosen is None:
        raise ValidationFailed(_("工单 {n} 没有工序，不能领料到线边（直接完工即可倒冲）", n=wo.number),
                               field="operations")
    return uow.get(WorkCenter, chosen.work_center_id)


# ------------------------------------------------------------------ complete
def _conversion_minutes(wo: WorkOrder, quantity: Decimal, first: bool) -> dict[int, Decimal]:
    """Standard minutes per work center for `quantity` units; setups are absorbed by the first completion."""
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for op in wo.operations:
        if op.state == "cancelled":
            continue
        out[op.work_center_id] += to_decimal(op.run_minutes) * quantity + (to_decimal(op.setup_minutes)
                                                                           if first else ZERO)
    return out


def _lot_for_output(uow: UnitOfWork, wo: WorkOrder, lot: str | None) -> int | None:
    product = wo.product
    if product.tracking == "none":
        if lot:
            raise ValidationFailed(_("商品 {sku} 不按批次管理，不能指定批次", sku=product.sku), field="lot")
        return None
    name = (lot or wo.lot_name or wo.number).strip()
    if product.tracking == "serial":
        raise ValidationFailed(_("序列号管理的商品请逐件完工（暂不支持）：{sku}", sku=product.sku), field="lot")
    return inv.lots_by_name(uow, [(product.id, name)], create=True)[(product.id, name)]


def complete_work_order(uow: UnitOfWork, work_order_id: int, qty_good: Any, *, qty_scrap: Any = 0,
                        lot: str | None = None, close: bool | None = None, client_key: str | None = None,
                        done_at: dt.datetime | None = None) -> WorkOrderCompletion:
    """完工入库 of `qty_good` good units (and `qty_scrap` scrapped ones, whose material and time are absorbed
    by the good ones). `close` ends the work order (default: when good + scrapped reach the quantity).
    `client_key` makes a repeated submission return the first completion."""
    if client_key:
        dup = uow.session.scalar(select(WorkOrderCompletion).where(
            WorkOrderCompletion.company_id == uow.company_id, WorkOrderCompletion.client_key == client_key))
        if dup is not None:
            return dup
    wo = get_work_order(uow, work_order_id, for_update=True)
    if wo.state not in ("released", "in_progress"):
        raise Conflict(_("工单 {n} 状态为{state}，不能完工", n=wo.number, state=state_label(wo.state)), field="state")
    good = _qty(qty_good, "qty_good", _("合格数量"))
    scrap = _qty(qty_scrap, "qty_scrap", _("报废数量"), allow_zero=True)
    made = good + scrap
    now = done_at or utcnow()
    first = not uow.session.scalar(select(func.count()).select_from(WorkOrderCompletion).where(
        WorkOrderCompletion.work_order_id == wo.id))

    production = mds.virtual_location(uow, "production").id
    wh = uow.get(md.Warehouse, wo.warehouse_id)
    dest = wo.dest_location_id or wh.stock_location_id
    completion = WorkOrderCompletion(number=next_number(uow, "MES_FIN"), work_order_id=wo.id, qty_good=good,
                                     qty_scrap=scrap, date_done=now, client_key=client_key)
    uow.add(completion)
    uow.flush()

    # 1. consumption: per component its share of the units made, from its reservations (staged first);
    # the completion that fills the order takes what is left of the requirement (no rounding residue)
    remaining = to_decimal(wo.quantity) - to_decimal(wo.qty_done) - to_decimal(wo.qty_scrapped)
    fills = made >= remaining
    closing = fills if close is None else close
    inputs = [c for c in wo.components if not c.is_byproduct]
    res = _reservations(uow, [c.id for c in inputs])
    specs, spec_comp = [], []
    for comp in inputs:
        need = q6(to_decimal(comp.quantity_per_unit) * made)
        if fills:
            need = max(need, q6(to_decimal(comp.required_qty) - to_decimal(comp.consumed_qty)))
        if need <= 0:
            continue
        staging_ids = {staging_location(uow, _work_center_of(uow, wo, comp), wh)} if wo.operations else set()
        staged = sorted(res.get(comp.id, []), key=lambda r: (r["location_id"] not in staging_ids, r["id"]))
        left = need
        for r in staged:
            if left <= 0:
                break
            take = min(left, r["quantity"])
            specs.append(inv.MoveSpec(comp.product_id, take, r["location_id"], production, lot_id=r["lot_id"],
                                      ref_type=COMPONENT_REF, ref_id=comp.id, reference=wo.number,
                                      reservation_id=r["id"]))
            spec_comp.append(comp)
            left -= take
        if left > 0:
            got = inv.reserve_in_warehouse(uow, [inv.StockNeed(comp.id, comp.product_id, left)], wo.warehouse_id,
                                           ref_type=COMPONENT_REF, reference=wo.number)
            if got.get(comp.id, ZERO) < left:
                raise InsufficientStock(_("{sku} 库存不足，完工需要 {need}，还差 {short}", sku=comp.product.sku,
                                          need=inv.fmt_qty(need), short=inv.fmt_qty(left - got.get(comp.id, ZERO))),
                                        field="qty_good")
            used = {s.reservation_id for s in specs}
            for r in _reservations(uow, [comp.id]).get(comp.id, []):
                if left <= 0:
                    break
                if r["id"] in used:
                    continue
                take = min(left, r["quantity"])
                specs.append(inv.MoveSpec(comp.product_id, take, r["location_id"], production, lot_id=r["lot_id"],
                                          ref_type=COMPONENT_REF, ref_id=comp.id, reference=wo.number,
                                          reservation_id=r["id"]))
                spec_comp.append(comp)
                left -= take
        comp.consumed_qty = q6(to_decimal(comp.consumed_qty) + need)
    consumed_ids = inv.post_moves(uow, specs, date_done=now) if specs else []
    values = dict(uow.session.execute(select(StockMove.id, StockMove.value).where(StockMove.id.in_(consumed_ids)))
                  .all()) if consumed_ids else {}
    material = sum((to_decimal(values.get(i) or 0) for i in consumed_ids), ZERO)

    # 2. conversion cost absorbed: Dr 5001 生产成本 / Cr 5101 制造费用
    minutes = _conversion_minutes(wo, made, first)
    rates = dict(uow.session.execute(select(WorkCenter.id, WorkCenter.cost_per_hour).where(
        WorkCenter.id.in_(list(minutes) or [0]))).all())
    conversion = gl.money(sum((m / 60 * to_decimal(rates.get(wc) or 0) for wc, m in minutes.items()), ZERO))
    day = local_date(uow, now)
    if conversion > 0:
        entry = gl.post_entry(uow, journal="GEN", date=day, memo=_("工单 {n} 人工及制造费用", n=wo.number),
                              reference=completion.number, ref_type=OUTPUT_REF, ref_id=completion.id,
                              lines=[gl.EntryLine(account="wip", debit=conversion, product_id=wo.product_id),
                                     gl.EntryLine(account="overhead_applied", credit=conversion)])
        completion.entry_id = entry.id

    # 3. by-products at their current cost, then the good units at what is left in WIP for them
    out_specs = []
    byproduct_value = ZERO
    for comp in wo.components:
        if not comp.is_byproduct:
            continue
        q = q6(to_decimal(comp.quantity_per_unit) * made)
        if q <= 0:
            continue
        value = gl.money(q * to_decimal(comp.product.cost or 0))
        byproduct_value += value
        comp.consumed_qty = q6(to_decimal(comp.consumed_qty) + q)
        out_specs.append(inv.MoveSpec(comp.product_id, q, production, dest, unit_cost=value / q,
                                      ref_type=OUTPUT_REF, ref_id=completion.id, reference=wo.number))
    finished = material + conversion - byproduct_value
    if finished < 0:
        raise ValidationFailed(_("副产品价值 {b} 超过投入成本 {c}，请检查副产品成本", b=byproduct_value,
                                 c=material + conversion), field="qty_good")
    lot_id = _lot_for_output(uow, wo, lot)
    out_specs.insert(0, inv.MoveSpec(wo.product_id, good, production, dest, lot_id=lot_id, unit_cost=finished / good,
                                     ref_type=OUTPUT_REF, ref_id=completion.id, reference=wo.number))
    out_ids = inv.post_moves(uow, out_specs, date_done=now)

    # 4. genealogy: every consumed lot (or untracked component) → the produced lot
    for move_id, spec, comp in zip(consumed_ids, specs, spec_comp, strict=True):
        uow.add(LotLink(completion_id=completion.id, work_order_id=wo.id, produced_product_id=wo.product_id,
                        produced_lot_id=lot_id, consumed_product_id=comp.product_id, consumed_lot_id=spec.lot_id,
                        quantity=spec.quantity, move_id=move_id))

    completion.lot_id = lot_id
    completion.material_value, completion.conversion_value = material, conversion
    completion.byproduct_value, completion.finished_value = byproduct_value, gl.money(finished)
    completion.finished_move_id = out_ids[0]
    wo.qty_done = q6(to_decimal(wo.qty_done) + good)
    wo.qty_scrapped = q6(to_decimal(wo.qty_scrapped) + scrap)
    if wo.started_at is None:
        wo.started_at = now
    wo.state = "in_progress"
    uow.flush()
    uow.emit("mes.work_order_completed", work_order_id=wo.id, completion_id=completion.id, qty_good=str(good),
             lot_id=lot_id)
    if closing:
        close_work_order(uow, wo.id)
    return completion


def return_materials(uow: UnitOfWork, work_order_id: int) -> list[int]:
    """退料: staged material still reserved for the work order goes back to the warehouse's stock area and
    the reservations are released."""
    wo = get_work_order(uow, work_order_id, for_update=True)
    wh = uow.get(md.Warehouse, wo.warehouse_id)
    res = _reservations(uow, [c.id for c in wo.components])
    staging = {wc_loc for (wc_loc,) in uow.session.execute(select(WorkCenter.staging_location_id).where(
        WorkCenter.company_id == uow.company_id, WorkCenter.staging_location_id.is_not(None))).all()}
    all_rows = [r for rows in res.values() for r in rows]
    move_ids = []
    staged = [r for r in all_rows if r["location_id"] in staging]
    if staged:
        specs = [inv.MoveSpec(r["product_id"], r["quantity"], r["location_id"], wh.stock_location_id,
                              lot_id=r["lot_id"], ref_type=COMPONENT_REF, ref_id=r["ref_id"], reference=wo.number,
                              reservation_id=r["id"], note=_("退料")) for r in staged]
        move_ids = inv.post_moves(uow, specs)
        by_comp: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for r in staged:
            by_comp[r["ref_id"]] += r["quantity"]
        for c in wo.components:
            if c.id in by_comp:
                c.issued_qty = q6(max(to_decimal(c.issued_qty) - by_comp[c.id], ZERO))
    others = [r["id"] for r in all_rows if r["location_id"] not in staging]
    if others:
        inv.release(uow, others)
    uow.flush()
    return move_ids


def close_work_order(uow: UnitOfWork, work_order_id: int) -> WorkOrder:
    """完工关闭: nothing more will be made; leftovers go back to stock and the operations are closed."""
    wo = get_work_order(uow, work_order_id, for_update=True)
    if wo.state not in ("released", "in_progress"):
        raise Conflict(_("工单 {n} 状态为{state}，不能关闭", n=wo.number, state=state_label(wo.state)), field="state")
    if to_decimal(wo.qty_done) <= 0:
        raise Conflict(_("工单 {n} 还没有完工数量，请取消而不是关闭", n=wo.number), field="state")
    return_materials(uow, wo.id)
    now = utcnow()
    for op in wo.operations:
        if op.state not in ("done", "cancelled"):
            op.state = "done" if op.actual_start else "cancelled"
            op.actual_end = op.actual_end or (now if op.actual_start else None)
    wo.state, wo.finished_at = "done", now
    uow.flush()
    uow.emit("mes.work_order_done", work_order_id=wo.id, number=wo.number, qty_done=str(wo.qty_done))
    return wo


def cancel_work_order(uow: UnitOfWork, work_order_id: int, reason: str | None = None) -> WorkOrder:
    """取消: only before anything was completed; staged material goes back to stock."""
    wo = get_work_order(uow, work_order_id, for_update=True)
    if wo.state not in OPEN_STATES:
        raise Conflict(_("工单 {n} 状态为{state}，不能取消", n=wo.number, state=state_label(wo.state)), field="state")
    if to_decimal(wo.qty_done) > 0:
        raise Conflict(_("工单 {n} 已有完工入库，请关闭而不是取消", n=wo.number), field="state")
    return_materials(uow, wo.id)
    for op in wo.operations:
        if op.state != "done":
            op.state = "cancelled"
    wo.state = "cancelled"
    if reason:
        wo.notes = ((wo.notes or "") + "\n" + _("取消原因：{r}", r=reason.strip()[:200])).strip()
    uow.flush()
    uow.emit("mes.work_order_cancelled", work_order_id=wo.id, number=wo.number)
    return wo


# ------------------------------------------------------------------ queries
def list_work_orders(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, kind: str | None = None,
                     product_id: int | None = None, bom_id: int | None = None, work_center_id: int | None = None,
                     due_from: dt.date | None = None, due_to: dt.date | None = None, open_only: bool = False,
                     limit: int = 50, offset: int = 0) -> tuple[list[WorkOrder], int]:
    stmt = select(WorkOrder).join(md.Product, md.Product.id == WorkOrder.product_id).where(
        WorkOrder.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(WorkOrder.number.ilike(like), md.Product.sku.ilike(like), md.Product.name.ilike(like),
                              WorkOrder.source_ref.ilike(like), WorkOrder.lot_name.ilike(like)))
    if state:
        if state not in STATE_LABELS:
            raise ValidationFailed(_("状态无效：{value}", value=state), field="state")
        stmt = stmt.where(WorkOrder.state == state)
    if open_only:
        stmt = stmt.where(WorkOrder.state.in_(OPEN_STATES))
    if kind:
        stmt = stmt.where(WorkOrder.kind == kind)
    if product_id:
        stmt = stmt.where(WorkOrder.product_id == product_id)
    if bom_id:
        stmt = stmt.where(WorkOrder.bom_id == bom_id)
    if work_center_id:
        stmt = stmt.where(WorkOrder.id.in_(select(WorkOrderOperation.work_order_id).where(
            WorkOrderOperation.work_center_id == work_center_id)))
    if due_from:
        stmt = stmt.where(WorkOrder.due_date >= due_from)
    if due_to:
        stmt = stmt.where(WorkOrder.due_date <= due_to)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(uow.session.scalars(stmt.order_by(WorkOrder.id.desc()).limit(max(1, min(limit, 1000)))
                                     .offset(max(0, offset))))
    return items, total


def open_work_orders_on_bom(uow: UnitOfWork, bom_id: int) -> list[WorkOrder]:
    """Open work orders still on a BOM version (what an engineering change lists before release)."""
    return list(uow.session.scalars(select(WorkOrder).where(
        WorkOrder.company_id == uow.company_id, WorkOrder.bom_id == bom_id,
        WorkOrder.state.in_(OPEN_STATES)).order_by(WorkOrder.id)))


def completions_of(uow: UnitOfWork, work_order_id: int) -> list[WorkOrderCompletion]:
    return list(uow.session.scalars(select(WorkOrderCompletion).where(
        WorkOrderCompletion.company_id == uow.company_id, WorkOrderCompletion.work_order_id == work_order_id)
        .order_by(WorkOrderCompletion.id)))


def _fmt(value) -> str:
    return inv.fmt_qty(to_decimal(value or 0))


def work_order_to_dict(uow: UnitOfWork, wo: WorkOrder, *, detail: bool = True) -> dict:
    bom = boms.get_bom(uow, wo.bom_id) if wo.bom_id else None
    out = {
        "id": wo.id, "number": wo.number, "kind": wo.kind, "kind_label": kind_label(wo.kind), "state": wo.state,
        "state_label": state_label(wo.state), "product_id": wo.product_id, "sku": wo.product.sku,
        "product_name": wo.product.name, "uom": wo.product.uom.code, "quantity": _fmt(wo.quantity),
        "qty_done": _fmt(wo.qty_done), "qty_scrapped": _fmt(wo.qty_scrapped), "bom_id": wo.bom_id,
        "bom_version": bom.version if bom else None, "routing_id": wo.routing_id, "warehouse_id": wo.warehouse_id,
        "lot_name": wo.lot_name, "due_date": wo.due_date.isoformat() if wo.due_date else None,
        "priority": wo.priority, "source": wo.source, "source_label": source_label(wo.source),
        "source_ref": wo.source_ref, "sales_order_id": wo.sales_order_id,
        "planned_start": wo.planned_start.isoformat() if wo.planned_start else None,
        "planned_end": wo.planned_end.isoformat() if wo.planned_end else None,
        "started_at": wo.started_at.isoformat() if wo.started_at else None,
        "finished_at": wo.finished_at.isoformat() if wo.finished_at else None, "notes": wo.notes,
    }
    if not detail:
        return out
    out["components"] = [{
        "id": row["component"].id, "product_id": row["component"].product_id, "sku": row["component"].product.sku,
        "name": row["component"].product.name, "uom": row["component"].product.uom.code,
        "quantity_per_unit": _fmt(row["component"].quantity_per_unit),
        "required_qty": _fmt(row["component"].required_qty), "reserved_qty": _fmt(row["reserved"]),
        "issued_qty": _fmt(row["component"].issued_qty), "consumed_qty": _fmt(row["component"].consumed_qty),
        "missing_qty": _fmt(row["missing"]), "consumption": row["component"].consumption,
        "is_byproduct": row["component"].is_byproduct} for row in material_status(uow, wo)]
    out["operations"] = [{
        "id": op.id, "sequence": op.sequence, "name": op.name, "work_center_id": op.work_center_id,
        "work_center": op.work_center.code, "work_center_name": op.work_center.name,
        "equipment_id": op.equipment_id, "setup_minutes": _fmt(op.setup_minutes), "run_minutes": _fmt(op.run_minutes),
        "planned_minutes": _fmt(routings.operation_minutes(op, to_decimal(wo.quantity))),
        "state": op.state, "frozen": op.frozen, "checklist_id": op.checklist_id,
        "planned_start": op.planned_start.isoformat() if op.planned_start else None,
        "planned_end": op.planned_end.isoformat() if op.planned_end else None,
        "actual_start": op.actual_start.isoformat() if op.actual_start else None,
        "actual_end": op.actual_end.isoformat() if op.actual_end else None,
        "qty_good": _fmt(op.qty_good), "qty_scrap": _fmt(op.qty_scrap),
        "labour_minutes": _fmt(to_decimal(op.labour_minutes or 0).quantize(Decimal("0.1"))),  # seconds are noise
        "barcode": f"{wo.number}/{op.sequence}"} for op in wo.operations]
    out["completions"] = [{
        "id": c.id, "number": c.number, "qty_good": _fmt(c.qty_good), "qty_scrap": _fmt(c.qty_scrap),
        "lot_id": c.lot_id, "lot": _lot_name(uow, c.lot_id), "date_done": c.date_done.isoformat(),
        "material_value": str(c.material_value), "conversion_value": str(c.conversion_value),
        "byproduct_value": str(c.byproduct_value), "finished_value": str(c.finished_value)}
        for c in completions_of(uow, wo.id)]
    return out


def _lot_name(uow: UnitOfWork, lot_id: int | None) -> str | None:
    if not lot_id:
        return None
    return uow.session.scalar(select(StockLot.name).where(StockLot.id == lot_id))


__all__ = ["COMPONENT_REF", "OUTPUT_REF", "cancel_work_order", "close_work_order", "complete_work_order",
           "create_from_sales_order", "create_work_order", "issue_materials", "list_work_orders",
           "material_status", "open_work_orders_on_bom", "release_work_order", "reserve_materials",
           "return_materials", "update_work_order", "work_order_to_dict"]


EXPORT_HEADER = (_l("工单号"), _l("类型"), _l("状态"), _l("商品编码"), _l("商品名称"), _l("数量"), _l("完工"),
                 _l("报废"), _l("BOM 版本"), _l("批次"), _l("交期"), _l("来源"), _l("来源单号"), _l("计划开始"),
                 _l("计划结束"))


def export_rows(uow: UnitOfWork, *, q: str | None = None, state: str | None = None) -> tuple[list[str], list[list]]:
    rows, _total = list_work_orders(uow, q=q, state=state, limit=1000)
    out = []
    for wo in rows:
        d = work_order_to_dict(uow, wo, detail=False)
        out.append([d["number"], d["kind_label"], d["state_label"], d["sku"], d["product_name"], d["quantity"],
                    d["qty_done"], d["qty_scrapped"], d["bom_version"] or "", d["lot_name"] or "", d["due_date"] or "",
                    d["source_label"], d["source_ref"] or "", d["planned_start"] or "", d["planned_end"] or ""])
    return [str(h) for h in EXPORT_HEADER], out


def open_work_orders_for_planning(uow: UnitOfWork) -> tuple[list[tuple], list[tuple]]:
    """What MRP needs from open work orders, in two queries: supply (work order id, product id, due date,
    quantity still to make) and component demand (work order id, component id, due date, quantity still to
    consume less what is reserved for it)."""
    wo, comp, r = WorkOrder, WorkOrderComponent, StockReservation
    supply = [(i, p, due, max(to_decimal(q) - to_decimal(d or 0) - to_decimal(s or 0), ZERO))
              for i, p, due, q, d, s in uow.session.execute(
                  select(wo.id, wo.product_id, wo.due_date, wo.quantity, wo.qty_done, wo.qty_scrapped)
                  .where(wo.company_id == uow.company_id, wo.state.in_(OPEN_STATES)))]
    reserved = (select(r.ref_id.label("cid"), func.sum(r.quantity).label("qty"))
                .where(r.company_id == uow.company_id, r.ref_type == COMPONENT_REF, r.state == "active")
                .group_by(r.ref_id).subquery())
    demand = [(i, p, due, max(to_decimal(q) - to_decimal(c or 0) - to_decimal(res or 0), ZERO))
              for i, p, due, q, c, res in uow.session.execute(
                  select(wo.id, comp.product_id, wo.due_date, comp.required_qty, comp.consumed_qty, reserved.c.qty)
                  .join(comp, comp.work_order_id == wo.id).outerjoin(reserved, reserved.c.cid == comp.id)
                  .where(wo.company_id == uow.company_id, wo.state.in_(OPEN_STATES), comp.is_byproduct.is_(False)))]
    return supply, demand


def state_counts(uow: UnitOfWork) -> dict[str, int]:
    """How many work orders are in each state now (every state listed, zeros included)."""
    rows = dict(uow.session.execute(select(WorkOrder.state, func.count()).where(
        WorkOrder.company_id == uow.company_id).group_by(WorkOrder.state)).all())
    return {state: int(rows.get(state, 0)) for state in STATE_LABELS}


def completions_between(uow: UnitOfWork, start: dt.datetime, end: dt.datetime) -> dict:
    """完工 in [start, end): completion records, distinct work orders, good and scrapped units."""
    c = WorkOrderCompletion
    n, orders, good, scrap = uow.session.execute(
        select(func.count(), func.count(func.distinct(c.work_order_id)), func.coalesce(func.sum(c.qty_good), 0),
               func.coalesce(func.sum(c.qty_scrap), 0)).where(
            c.company_id == uow.company_id, c.date_done >= start, c.date_done < end)).one()
    return {"completions": int(n or 0), "work_orders": int(orders or 0), "qty_good": q6(to_decimal(good)),
            "qty_scrap": q6(to_decimal(scrap))}
