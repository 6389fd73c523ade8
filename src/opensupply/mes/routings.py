"""Routings (工艺路线): the operations that make a product, each on a work center with setup minutes (once
per work order) and run minutes (per unit), optionally with a quality checklist; a routing serves one BOM
version (`bom_id`) or every version of the product (empty). Work orders copy the operations when they are
created, so changing a routing later leaves existing work orders as they were planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, func, or_, select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms
from opensupply.masterdata import models as md

from .models import QualityChecklist, Routing, RoutingOperation, WorkCenter

READ_PERMISSION = "mes.read"
WRITE_PERMISSION = "mes.admin"


def _work_center(uow: UnitOfWork, ref: Any, field: str) -> WorkCenter:
    if ref in (None, ""):
        raise ValidationFailed(_("请选择工作中心"), field=field)
    stmt = select(WorkCenter).where(WorkCenter.company_id == uow.company_id)
    wc = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        wc = uow.session.scalar(stmt.where(WorkCenter.id == ref))
    else:
        text = str(ref).strip()
        wc = uow.session.scalar(stmt.where(WorkCenter.code == text))
        if wc is None and text.isdigit():
            wc = uow.session.scalar(stmt.where(WorkCenter.id == int(text)))
    if wc is None:
        raise ValidationFailed(_("工作中心不存在：{value}", value=ref), field=field)
    if not wc.active:
        raise ValidationFailed(_("工作中心 {code} 已停用", code=wc.code), field=field)
    return wc


def _checklist(uow: UnitOfWork, ref: Any, field: str) -> int | None:
    if ref in (None, ""):
        return None
    stmt = select(QualityChecklist).where(QualityChecklist.company_id == uow.company_id)
    text = str(ref).strip()
    found = uow.session.scalar(stmt.where(QualityChecklist.code == text))
    if found is None and text.isdigit():
        found = uow.session.scalar(stmt.where(QualityChecklist.id == int(text)))
    if found is None:
        raise ValidationFailed(_("质检方案不存在：{value}", value=ref), field=field)
    return found.id


def _build_operations(uow: UnitOfWork, operations: Iterable[Mapping]) -> list[RoutingOperation]:
    rows = [dict(raw) for raw in operations or []]
    if not rows:
        raise ValidationFailed(_("工艺路线至少需要一道工序"), field="operations")
    out, seen = [], {}
    for i, raw in enumerate(rows):
        prefix = f"operations.{i}."
        name = str(raw.get("name") or "").strip()
        if not name:
            raise ValidationFailed(_("第 {n} 道工序：请填写工序名称", n=i + 1), field=prefix + "name")
        if len(name) > 80:
            raise ValidationFailed(_("第 {n} 道工序：名称最多 80 个字符", n=i + 1), field=prefix + "name")
        wc = _work_center(uow, raw.get("work_center", raw.get("work_center_id")), prefix + "work_center")
        setup = boms._decimal(raw.get("setup_minutes"), prefix + "setup_minutes", _("准备时间"), default=Decimal(0))
        run = boms._decimal(raw.get("run_minutes"), prefix + "run_minutes", _("单件工时"), default=Decimal(0))
        if setup < 0 or run < 0:
            raise ValidationFailed(_("第 {n} 道工序：时间不能为负数", n=i + 1), field=prefix + "run_minutes")
        if setup == 0 and run == 0:
            raise ValidationFailed(_("第 {n} 道工序：准备时间和单件工时不能都为 0", n=i + 1),
                                   field=prefix + "run_minutes")
        sequence = raw.get("sequence")
        try:
            sequence = int(sequence) if sequence not in (None, "") else (i + 1) * 10
        except (TypeError, ValueError):
            raise ValidationFailed(_("第 {n} 道工序：工序号必须是整数", n=i + 1), field=prefix + "sequence") from None
        if sequence in seen:
            raise ValidationFailed(_("第 {n} 道工序：工序号 {seq} 与第 {other} 道重复", n=i + 1, seq=sequence,
                                     other=seen[sequence] + 1), field=prefix + "sequence")
        seen[sequence] = i
        out.append(RoutingOperation(sequence=sequence, name=name, work_center_id=wc.id, work_center=wc,
                                    setup_minutes=setup, run_minutes=run,
                                    checklist_id=_checklist(uow, raw.get("checklist", raw.get("checklist_id")),
                                                            prefix + "checklist"),
                                    instructions=(str(raw.get("instructions") or "").strip() or None)))
    return sorted(out, key=lambda op: op.sequence)


def _bom_for(uow: UnitOfWork, product: md.Product, ref: Any) -> int | None:
    if ref in (None, ""):
        return None
    bom = boms.get_bom(uow, int(ref))
    if bom.product_id != product.id:
        raise ValidationFailed(_("物料清单不属于该商品"), field="bom_id")
    return bom.id


def _set_header(uow: UnitOfWork, routing: Routing, data: Mapping, product: md.Product) -> None:
    if "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            raise ValidationFailed(_("请填写名称"), field="name")
        routing.name = name[:120]
    if "bom_id" in data:
        routing.bom_id = _bom_for(uow, product, data.get("bom_id"))
    if "final_checklist" in data or "final_checklist_id" in data:
        routing.final_checklist_id = _checklist(uow, data.get("final_checklist", data.get("final_checklist_id")),
                                                "final_checklist")
    if "notes" in data:
        routing.notes = (str(data.get("notes") or "").strip() or None)
    if "active" in data:
        routing.active = bool(data.get("active"))


def create_routing(uow: UnitOfWork, *, product: int | str, operations: Iterable[Mapping], code: str | None = None,
                   name: str | None = None, bom_id: int | None = None, final_checklist: Any = None,
                   notes: str | None = None) -> Routing:
    """A routing for a product (id or SKU), optionally only for one of its BOM versions."""
    prod = boms._product(uow, product, "product")
    code = (code or f"RT-{prod.sku}").strip()[:40]
    if uow.session.scalar(select(Routing.id).where(Routing.company_id == uow.company_id, Routing.code == code)):
        raise Conflict(_("工艺路线编码 {code} 已存在", code=code), field="code")
    routing = Routing(code=code, name=(name or prod.name)[:120], product_id=prod.id)
    _set_header(uow, routing, {"bom_id": bom_id, "final_checklist": final_checklist, "notes": notes}, prod)
    routing.operations = _build_operations(uow, operations)
    uow.add(routing)
    uow.flush()
    return routing


def update_routing(uow: UnitOfWork, routing_id: int, changes: Mapping) -> Routing:
    """Change the header and/or replace the operations (`operations`). Work orders already created keep
    the operations they copied."""
    routing = uow.get(Routing, routing_id, for_update=True)
    product = uow.get(md.Product, routing.product_id)
    _set_header(uow, routing, changes, product)
    if "operations" in changes:
        new_ops = _build_operations(uow, changes["operations"])
        routing.operations.clear()
        uow.flush()  # delete the old rows before the new ones take their (routing, sequence)
        routing.operations.extend(new_ops)
    uow.flush()
    return routing


def archive_routing(uow: UnitOfWork, routing_id: int) -> Routing:
    """归档: new work orders no longer pick the routing; existing ones keep the operations they copied."""
    routing = uow.get(Routing, routing_id, for_update=True)
    if not routing.active:
        raise Conflict(_("工艺路线 {code} 已归档", code=routing.code), field="active")
    routing.active = False
    uow.flush()
    return routing


def restore_routing(uow: UnitOfWork, routing_id: int) -> Routing:
    """Bring an archived routing back into use."""
    routing = uow.get(Routing, routing_id, for_update=True)
    if routing.active:
        raise Conflict(_("工艺路线 {code} 未归档", code=routing.code), field="active")
    routing.active = True
    uow.flush()
    return routing


def routing_for(uow: UnitOfWork, product_id: int, bom_id: int | None) -> Routing | None:
    """The active routing for a BOM version, else the product's routing for every version."""
    stmt = select(Routing).where(Routing.company_id == uow.company_id, Routing.product_id == product_id,
                                 Routing.active.is_(True))
    if bom_id is not None:
        found = uow.session.scalar(stmt.where(Routing.bom_id == bom_id).order_by(Routing.id.desc()))
        if found is not None:
            return found
    return uow.session.scalar(stmt.where(Routing.bom_id.is_(None)).order_by(Routing.id.desc()))


def list_routings(uow: UnitOfWork, *, q: str | None = None, product_id: int | None = None, limit: int = 50,
                  offset: int = 0, include_archived: bool = False) -> tuple[list[Routing], int]:
    stmt = select(Routing).join(md.Product, md.Product.id == Routing.product_id).where(
        Routing.company_id == uow.company_id)
    if not include_archived:
        stmt = stmt.where(Routing.active.is_(True))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Routing.code.ilike(like), Routing.name.ilike(like), md.Product.sku.ilike(like),
                              md.Product.name.ilike(like), cast(Routing.notes, String).ilike(like)))
    if product_id:
        stmt = stmt.where(Routing.product_id == product_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(uow.session.scalars(stmt.order_by(md.Product.sku, Routing.code)
                                     .limit(max(1, min(limit, 1000))).offset(max(0, offset))))
    return items, total


def operation_minutes(op, quantity: Decimal) -> Decimal:
    """Standard minutes of an operation (routing or work-order operation) for `quantity` units."""
    return Decimal(op.setup_minutes or 0) + Decimal(op.run_minutes or 0) * quantity


def routing_cost(uow: UnitOfWork, routing: Routing | None, quantity: Decimal = Decimal(1)) -> Decimal:
    """Conversion cost (labour + overhead at each work center's hourly rate) of making `quantity` units."""
    if routing is None:
        return Decimal(0)
    return sum((operation_minutes(op, quantity) / 60 * Decimal(op.work_center.cost_per_hour or 0)
                for op in routing.operations), Decimal(0))


def routing_to_dict(uow: UnitOfWork, routing: Routing) -> dict:
    product = uow.get(md.Product, routing.product_id)
    bom = boms.get_bom(uow, routing.bom_id) if routing.bom_id else None
    return {
        "id": routing.id, "code": routing.code, "name": routing.name, "product_id": routing.product_id,
        "sku": product.sku, "product_name": product.name, "bom_id": routing.bom_id,
        "bom_version": bom.version if bom else None, "final_checklist_id": routing.final_checklist_id,
        "notes": routing.notes, "active": routing.active,
        "operations": [{"id": op.id, "sequence": op.sequence, "name": op.name, "work_center_id": op.work_center_id,
                        "work_center": op.work_center.code, "work_center_name": op.work_center.name,
                        "setup_minutes": boms._dec_str(Decimal(op.setup_minutes)),
                        "run_minutes": boms._dec_str(Decimal(op.run_minutes)), "checklist_id": op.checklist_id,
                        "instructions": op.instructions} for op in routing.operations],
        "unit_cost": boms._dec_str(routing_cost(uow, routing)),
    }
