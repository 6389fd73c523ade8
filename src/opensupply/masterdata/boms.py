"""Bills of materials: versions of a product's structure (V1.0, V1.1 …) moving draft →
released → obsolete, with exactly one released version in force per product.

Every change goes through these use cases — the BOM pages and API here, PLM's engineering
change orders, MES and MRP reading `explode()` — so the rules live in one place:
a component is never the product itself, quantities are positive, a line's unit belongs
to its component's unit category, and no product ends up (at any depth) inside itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import to_decimal
from opensupply.core.units import convert_qty
from opensupply.core.uow import UnitOfWork

from . import models as m

WRITE_PERMISSION = "masterdata.boms"
READ_PERMISSION = "masterdata.read"
MAX_LEVELS = 30
SIX = Decimal("0.000001")
HEADER_FIELDS = ("version", "quantity", "effective_from", "effective_to", "notes")


# ----------------------------------------------------------------- lookups
def _product(uow: UnitOfWork, ref: Any, field: str) -> m.Product:
    """A product of this company by id or SKU."""
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        raise ValidationFailed(_("请选择商品"), field=field)
    stmt = select(m.Product).where(m.Product.company_id == uow.company_id)
    product = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        product = uow.session.scalar(stmt.where(m.Product.id == ref))
    else:
        text = str(ref).strip()
        product = uow.session.scalar(stmt.where(m.Product.sku == text))
        if product is None and text.isdigit():
            product = uow.session.scalar(stmt.where(m.Product.id == int(text)))
    if product is None:
        raise ValidationFailed(_("商品不存在：{value}", value=ref), field=field)
    return product


def _prefetch_products(uow: UnitOfWork, refs: list) -> dict[str, m.Product]:
    """The products named by SKU (or id) in many lines, in one query: ref text → product."""
    texts = {str(r).strip() for r in refs if r is not None and str(r).strip()}
    if not texts:
        return {}
    ids = {int(t) for t in texts if t.isdigit()}
    found = uow.session.scalars(select(m.Product).where(
        m.Product.company_id == uow.company_id, or_(m.Product.sku.in_(texts), m.Product.id.in_(ids)))).all()
    by_sku = {p.sku: p for p in found}
    by_id = {str(p.id): p for p in found}
    return {t: by_sku.get(t) or by_id.get(t) for t in texts if by_sku.get(t) or by_id.get(t)}


def _uom(uow: UnitOfWork, ref: Any, field: str) -> m.Uom:
    uom = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        uom = uow.session.get(m.Uom, ref)
    elif ref is not None:
        text = str(ref).strip()
        uom = uow.session.scalar(select(m.Uom).where(m.Uom.code == text))
        if uom is None and text.isdigit():
            uom = uow.session.get(m.Uom, int(text))
    if uom is None:
        raise ValidationFailed(_("单位不存在：{value}", value=ref), field=field)
    return uom


def _decimal(raw: Any, field: str, label: str, *, default: Decimal | None = None) -> Decimal:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if default is not None:
            return default
        raise ValidationFailed(_("请填写{label}", label=label), field=field)
    try:
        value = to_decimal(raw)
        if not value.is_finite():
            raise ValueError
    except (ValueError, TypeError, InvalidOperation, ArithmeticError):
        raise ValidationFailed(_("{label}格式不正确：{value}", label=label, value=str(raw)[:50]), field=field) from None
    return value


def get_bom(uow: UnitOfWork, bom_id: int, *, for_update: bool = False) -> m.Bom:
    """One BOM version of this company (another company's is not found)."""
    return uow.get(m.Bom, bom_id, for_update=for_update)


def released_bom(uow: UnitOfWork, product_id: int) -> m.Bom | None:
    """The version of a product's BOM in force, if any."""
    return uow.session.scalar(select(m.Bom).where(
        m.Bom.company_id == uow.company_id, m.Bom.product_id == product_id, m.Bom.state == "released"))


def product_id_by_sku(uow: UnitOfWork, sku: str) -> int | None:
    return uow.session.scalar(select(m.Product.id).where(m.Product.company_id == uow.company_id,
                                                         m.Product.sku == sku.strip()))


def list_boms(uow: UnitOfWork, *, q: str | None = None, product_id: int | None = None, state: str | None = None,
              limit: int = 50, offset: int = 0) -> tuple[list[m.Bom], int]:
    stmt = select(m.Bom).join(m.Product, m.Product.id == m.Bom.product_id).where(
        m.Bom.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(m.Product.sku.ilike(like), m.Product.name.ilike(like), m.Bom.version.ilike(like),
                              cast(m.Bom.notes, String).ilike(like)))
    if product_id:
        stmt = stmt.where(m.Bom.product_id == product_id)
    if state:
        if state not in m.BOM_STATES:
            raise ValidationFailed(_("状态无效：{value}", value=state), field="state")
        stmt = stmt.where(m.Bom.state == state)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    stmt = stmt.order_by(m.Product.sku, m.Bom.id.desc())  # newest version first (V1.10 after V1.9)
    items = list(uow.session.scalars(stmt.limit(max(1, min(limit, 1000))).offset(max(0, offset))))
    return items, total


# ----------------------------------------------------------------- validation
def _check_version(uow: UnitOfWork, product_id: int, version: str, bom_id: int | None = None) -> str:
    version = (version or "").strip()
    if not version:
        raise ValidationFailed(_("请填写版本号"), field="version")
    if len(version) > 20:
        raise ValidationFailed(_("版本号最多 {n} 个字符", n=20), field="version")
    stmt = select(m.Bom.id).where(m.Bom.company_id == uow.company_id, m.Bom.product_id == product_id,
                                  m.Bom.version == version)
    if bom_id is not None:
        stmt = stmt.where(m.Bom.id != bom_id)
    if uow.session.scalar(stmt):
        raise Conflict(_("该商品已有版本 {version} 的物料清单", version=version), field="version")
    return version


def _build_lines(uow: UnitOfWork, product: m.Product, lines: Iterable[Mapping]) -> list[m.BomLine]:
    """Validate line input (component by id or SKU, quantity, unit, scrap %) into BomLine rows."""
    out: list[m.BomLine] = []
    seen: dict[tuple[int, bool], int] = {}
    rows = [dict(raw) for raw in lines or []]
    refs = [r.get("component", r.get("component_id")) for r in rows]
    known = _prefetch_products(uow, refs)
    for i, raw in enumerate(rows):
        prefix = f"lines.{i}."
        ref = refs[i]
        component = known.get(str(ref).strip()) if ref is not None else None
        component = component or _product(uow, ref, prefix + "component")
        if component.id == product.id:
            raise ValidationFailed(_("第 {n} 行：组件不能是商品本身（{sku}）", n=i + 1, sku=product.sku),
                                   field=prefix + "component")
        qty = _decimal(raw.get("quantity"), prefix + "quantity", _("数量"))
        if qty <= 0:
            raise ValidationFailed(_("第 {n} 行：数量必须大于 0", n=i + 1), field=prefix + "quantity")
        uom_ref = raw.get("uom", raw.get("uom_id"))
        uom = component.uom if uom_ref in (None, "") else _uom(uow, uom_ref, prefix + "uom")
        if uom.category_id != component.uom.category_id:
            raise ValidationFailed(_("第 {n} 行：单位 {uom} 与组件 {sku} 的单位 {base} 不属于同一类别", n=i + 1,
                                     uom=uom.code, sku=component.sku, base=component.uom.code),
                                   field=prefix + "uom")
        scrap = _decimal(raw.get("scrap_pct"), prefix + "scrap_pct", _("损耗率"), default=Decimal(0))
        if scrap < 0 or scrap >= 100:
            raise ValidationFailed(_("第 {n} 行：损耗率必须在 0 到 100 之间（不含 100）", n=i + 1),
                                   field=prefix + "scrap_pct")
        byproduct = raw.get("is_byproduct") in (True, "1", "true", "on", 1)
        key = (component.id, byproduct)
        if key in seen:
            raise ValidationFailed(_("第 {n} 行：组件 {sku} 与第 {other} 行重复", n=i + 1, sku=component.sku,
                                     other=seen[key] + 1), field=prefix + "component")
        seen[key] = i
        sequence = raw.get("sequence")
        try:
            sequence = int(sequence) if sequence not in (None, "") else (i + 1) * 10
        except (TypeError, ValueError):
            raise ValidationFailed(_("第 {n} 行：序号必须是整数", n=i + 1), field=prefix + "sequence") from None
        out.append(m.BomLine(sequence=sequence, component_id=component.id, component=component, quantity=qty,
                             uom_id=uom.id, uom=uom, scrap_pct=scrap, is_byproduct=byproduct))
    if not any(not line.is_byproduct for line in out):
        raise ValidationFailed(_("物料清单至少需要一行组件"), field="lines")
    return out


def _check_no_cycle(uow: UnitOfWork, product: m.Product, component_ids: set[int]) -> None:
    """Refuse a structure where `product` would be, at any depth, a component of itself.

    Walks down from the new components through every draft or released BOM (one query per
    level): drafts count too, so a cycle cannot be released later by releasing the other half."""
    came_from: dict[int, int] = {c: product.id for c in component_ids}
    frontier = set(component_ids)
    for _level in range(MAX_LEVELS):
        if not frontier:
            return
        rows = uow.session.execute(
            select(m.Bom.product_id, m.BomLine.component_id)
            .join(m.BomLine, m.BomLine.bom_id == m.Bom.id)
            .where(m.Bom.company_id == uow.company_id, m.Bom.product_id.in_(frontier),
                   m.Bom.product_id != product.id, m.Bom.state.in_(("draft", "released")),
                   m.BomLine.is_byproduct.is_(False))).all()
        nxt = set()
        for parent, child in rows:
            if child == product.id:
                chain = [parent]
                while came_from[chain[-1]] != product.id:
                    chain.append(came_from[chain[-1]])
                ids = [product.id, *reversed(chain), product.id]
                skus = dict(uow.session.execute(select(m.Product.id, m.Product.sku).where(
                    m.Product.id.in_(ids))).all())
                raise ValidationFailed(_("物料清单存在循环引用：{path}", path=" → ".join(skus[i] for i in ids)),
                                       field="lines")
            if child not in came_from:
                came_from[child] = parent
                nxt.add(child)
        frontier = nxt
    if frontier:
        raise ValidationFailed(_("物料清单层级过多（超过 {n} 层）", n=MAX_LEVELS), field="lines")


def _flush(uow: UnitOfWork) -> None:
    try:
        with uow.session.begin_nested():
            uow.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("数据冲突：该商品的物料清单已被他人同时修改，请刷新后重试")) from exc


# ----------------------------------------------------------------- use cases
def create_bom(uow: UnitOfWork, *, product: int | str, lines: Iterable[Mapping], version: str = "V1.0",
               quantity: Any = 1, effective_from=None, effective_to=None, notes: str | None = None) -> m.Bom:
    """A new draft BOM for `product` (id or SKU); lines are mappings with `component` (id or
    SKU), `quantity`, optional `uom` (code or id; default the component's unit), `scrap_pct`,
    `sequence`, `is_byproduct`."""
    uow.actor.require(WRITE_PERMISSION)
    prod = _product(uow, product, "product")
    bom = m.Bom(company_id=uow.company_id, product_id=prod.id, product=prod, state="draft")
    bom.version = _check_version(uow, prod.id, version)
    _set_header(bom, {"quantity": quantity, "effective_from": effective_from, "effective_to": effective_to,
                      "notes": notes})
    new_lines = _build_lines(uow, prod, lines)
    _check_no_cycle(uow, prod, {ln.component_id for ln in new_lines if not ln.is_byproduct})
    bom.lines = new_lines
    uow.session.add(bom)
    _flush(uow)
    uow.emit("masterdata.bom_created", bom_id=bom.id, product_id=prod.id, version=bom.version)
    return bom


def _set_header(bom: m.Bom, data: Mapping) -> None:
    if "quantity" in data:
        qty = _decimal(data["quantity"], "quantity", _("产出数量"), default=Decimal(1))
        if qty <= 0:
            raise ValidationFailed(_("产出数量必须大于 0"), field="quantity")
        bom.quantity = qty
    for name in ("effective_from", "effective_to"):
        if name in data:
            value = data[name]
            if isinstance(value, str):
                value = value.strip() or None
                if value:
                    try:
                        value = dt.date.fromisoformat(value[:10])
                    except ValueError:
                        raise ValidationFailed(_("日期格式不正确：{value}", value=value), field=name) from None
            setattr(bom, name, value)
    if bom.effective_from and bom.effective_to and bom.effective_to < bom.effective_from:
        raise ValidationFailed(_("失效日期不能早于生效日期"), field="effective_to")
    if "notes" in data:
        bom.notes = (data["notes"] or "").strip() or None


def update_bom(uow: UnitOfWork, bom_id: int, changes: Mapping) -> m.Bom:
    """Change a draft: header fields and/or the whole list of lines (`lines` replaces them).
    Released and obsolete versions are frozen — copy to a new version instead."""
    uow.actor.require(WRITE_PERMISSION)
    bom = get_bom(uow, bom_id, for_update=True)
    if bom.state != "draft":
        raise Conflict(_("只能修改草稿状态的物料清单；请复制为新版本后修改"), field="state")
    unknown = set(changes) - set(HEADER_FIELDS) - {"lines"}
    if unknown:
        raise ValidationFailed(_("未知字段：{names}", names=", ".join(sorted(unknown))), field=sorted(unknown)[0])
    if "version" in changes and changes["version"] is not None:
        bom.version = _check_version(uow, bom.product_id, changes["version"], bom.id)
    _set_header(bom, changes)
    if changes.get("lines") is not None:
        new_lines = _build_lines(uow, bom.product, changes["lines"])
        _check_no_cycle(uow, bom.product, {ln.component_id for ln in new_lines if not ln.is_byproduct})
        bom.lines.clear()
        uow.session.flush()
        bom.lines.extend(new_lines)
    _flush(uow)
    return bom


def release_bom(uow: UnitOfWork, bom_id: int) -> m.Bom:
    """Put a draft in force; the product's previously released version becomes obsolete in the
    same transaction (the partial unique index guarantees one released version at a time)."""
    uow.actor.require(WRITE_PERMISSION)
    bom = get_bom(uow, bom_id, for_update=True)
    if bom.state != "draft":
        raise Conflict(_("只能发布草稿状态的物料清单（当前：{state}）", state=state_label(bom.state)), field="state")
    # Two releases of one product queue on the product row, so the later one sees (and
    # obsoletes) the version the earlier one released instead of colliding with it.
    uow.get(m.Product, bom.product_id, for_update=True)
    _check_no_cycle(uow, bom.product, {ln.component_id for ln in bom.lines if not ln.is_byproduct})
    previous = uow.session.scalars(select(m.Bom).where(
        m.Bom.company_id == uow.company_id, m.Bom.product_id == bom.product_id, m.Bom.state == "released",
        m.Bom.id != bom.id).with_for_update(of=m.Bom)).all()
    for old in previous:
        old.state = "obsolete"
    _flush(uow)  # obsolete first, so the unique index never sees two released versions
    bom.state = "released"
    _flush(uow)
    uow.emit("masterdata.bom_released", bom_id=bom.id, product_id=bom.product_id, version=bom.version,
             replaced_bom_ids=[o.id for o in previous])
    return bom


def obsolete_bom(uow: UnitOfWork, bom_id: int) -> m.Bom:
    """Take a released version out of force without a successor (end of life)."""
    uow.actor.require(WRITE_PERMISSION)
    bom = get_bom(uow, bom_id, for_update=True)
    if bom.state != "released":
        raise Conflict(_("只能作废已发布的物料清单"), field="state")
    bom.state = "obsolete"
    _flush(uow)
    return bom


def next_version(version: str) -> str:
    """V1.0 → V1.1, V1.9 → V1.10, 2 → 3: the last number goes up by one."""
    match = re.search(r"(\d+)(?!.*\d)", version or "")
    if not match:
        return f"{version}.1" if version else "V1.0"
    n = match.group(1)
    return version[:match.start()] + str(int(n) + 1) + version[match.end():]


def copy_bom(uow: UnitOfWork, bom_id: int, version: str | None = None) -> m.Bom:
    """A new draft with the same lines, as the next version (V1.0 → V1.1, skipping versions that
    already exist) or the version given."""
    uow.actor.require(WRITE_PERMISSION)
    src = get_bom(uow, bom_id)
    if version:
        version = _check_version(uow, src.product_id, version)
    else:
        existing = set(uow.session.scalars(select(m.Bom.version).where(
            m.Bom.company_id == uow.company_id, m.Bom.product_id == src.product_id)))
        version = next_version(src.version)
        while version in existing:
            version = next_version(version)
    new = m.Bom(company_id=uow.company_id, product_id=src.product_id, product=src.product, version=version,
                state="draft", quantity=src.quantity, notes=src.notes, effective_from=None, effective_to=None)
    new.lines = [m.BomLine(sequence=ln.sequence, component_id=ln.component_id, quantity=ln.quantity,
                           uom_id=ln.uom_id, scrap_pct=ln.scrap_pct, is_byproduct=ln.is_byproduct)
                 for ln in src.lines]
    uow.session.add(new)
    _flush(uow)
    uow.emit("masterdata.bom_created", bom_id=new.id, product_id=new.product_id, version=new.version,
             copied_from=src.id)
    return new


def delete_bom(uow: UnitOfWork, bom_id: int) -> None:
    """Only drafts can be deleted; released and obsolete versions are history."""
    uow.actor.require(WRITE_PERMISSION)
    bom = get_bom(uow, bom_id, for_update=True)
    if bom.state != "draft":
        raise Conflict(_("只能删除草稿状态的物料清单"), field="state")
    uow.session.delete(bom)
    _flush(uow)


# ----------------------------------------------------------------- reading the structure
@dataclass
class Requirement:
    """One row of an exploded BOM: `quantity` of `sku` (in its own unit) needed at `level`."""

    level: int
    product_id: int
    sku: str
    name: str
    quantity: Decimal
    uom: str
    parent_sku: str
    bom_id: int
    bom_version: str
    scrap_pct: Decimal
    has_bom: bool  # made from its own released BOM (exploded further) or bought

    def as_dict(self) -> dict:
        d = asdict(self)
        d["quantity"] = _dec_str(self.quantity)
        d["scrap_pct"] = _dec_str(self.scrap_pct)
        return d


@dataclass
class Explosion:
    product_id: int
    sku: str
    quantity: Decimal
    uom: str
    bom_id: int
    bom_version: str
    lines: list[Requirement]

    def totals(self, leaves_only: bool = True) -> list[dict]:
        """Requirement per product over all levels (leaves: what must be bought or stocked)."""
        acc: dict[int, dict] = {}
        for r in self.lines:
            if leaves_only and r.has_bom:
                continue
            row = acc.setdefault(r.product_id, {"product_id": r.product_id, "sku": r.sku, "name": r.name,
                                                "quantity": Decimal(0), "uom": r.uom})
            row["quantity"] += r.quantity
        return [dict(row, quantity=_dec_str(row["quantity"])) for row in
                sorted(acc.values(), key=lambda x: x["sku"])]

    def as_dict(self) -> dict:
        return {"product_id": self.product_id, "sku": self.sku, "quantity": _dec_str(self.quantity),
                "uom": self.uom, "bom_id": self.bom_id, "bom_version": self.bom_version,
                "lines": [r.as_dict() for r in self.lines], "totals": self.totals()}


def _dec_str(value: Decimal) -> str:
    value = value.quantize(SIX).normalize()
    return format(value, "f")


def explode(uow: UnitOfWork, product_id: int, quantity: Any = 1, *, bom_id: int | None = None) -> Explosion:
    """Everything needed to make `quantity` of a product, level by level through released BOMs.

    Per line: parent quantity ÷ BOM output quantity × line quantity × (1 + scrap % / 100),
    converted into the component's own unit. The top level uses `bom_id` when given (e.g. to
    preview a draft), else the released version; lower levels always use released versions.
    By-product lines are outputs and are not required. One query per level."""
    qty = _decimal(quantity, "quantity", _("数量"))
    if qty <= 0:
        raise ValidationFailed(_("数量必须大于 0"), field="quantity")
    if bom_id is not None:
        top = get_bom(uow, bom_id)
        if top.product_id != product_id:
            raise ValidationFailed(_("物料清单不属于该商品"), field="bom_id")
    else:
        product = uow.get(m.Product, product_id)
        top = released_bom(uow, product_id)
        if top is None:
            raise NotFound(_("商品 {sku} 没有已发布的物料清单", sku=product.sku), field="product_id")
    result = Explosion(top.product_id, top.product.sku, qty, top.product.uom.code, top.id, top.version, [])
    # (bom, quantity of its product needed, index in result.lines to insert children after)
    todo: list[tuple[m.Bom, Decimal, Requirement | None]] = [(top, qty, None)]
    children_of: dict[int | None, list[Requirement]] = {}
    for level in range(1, MAX_LEVELS + 2):
        if not todo:
            break
        if level > MAX_LEVELS:
            raise Conflict(_("物料清单层级过多（超过 {n} 层）", n=MAX_LEVELS))
        next_products: list[tuple[Requirement, Decimal]] = []
        for bom, need, parent_req in todo:
            factor = need / bom.quantity
            for line in bom.lines:
                if line.is_byproduct:
                    continue
                gross = factor * line.quantity * (1 + line.scrap_pct / 100)
                in_own_unit = convert_qty(gross, line.uom, line.component.uom, round=False)
                req = Requirement(level, line.component_id, line.component.sku, line.component.name,
                                  in_own_unit.quantize(SIX), line.component.uom.code, bom.product.sku, bom.id,
                                  bom.version, line.scrap_pct, False)
                children_of.setdefault(id(parent_req) if parent_req else None, []).append(req)
                next_products.append((req, in_own_unit))
        boms = {}
        ids = {r.product_id for r, _q in next_products}
        if ids:
            boms = {b.product_id: b for b in uow.session.scalars(
                select(m.Bom).options(selectinload(m.Bom.lines)).where(
                    m.Bom.company_id == uow.company_id, m.Bom.product_id.in_(ids), m.Bom.state == "released"))}
        todo = []
        for req, need in next_products:
            sub = boms.get(req.product_id)
            if sub is not None:
                req.has_bom = True
                todo.append((sub, need, req))

    def walk(parent_key):
        for req in children_of.get(parent_key, []):
            result.lines.append(req)
            walk(id(req))

    walk(None)
    return result


@dataclass(frozen=True)
class StructureLine:
    component_id: int
    per_unit: Decimal  # component (in its own unit) needed per 1 unit of the parent, scrap included


def released_structure(uow: UnitOfWork, product_ids: Iterable[int] | None = None) -> dict[int, list[StructureLine]]:
    """The released product structure as plain data for planning code (MRP, capacity checks):
    product id → what one unit of it consumes. All products with a released BOM, or those asked for;
    one query for the whole company."""
    stmt = (select(m.Bom).options(selectinload(m.Bom.lines))
            .where(m.Bom.company_id == uow.company_id, m.Bom.state == "released"))
    if product_ids is not None:
        stmt = stmt.where(m.Bom.product_id.in_(list(product_ids)))
    out: dict[int, list[StructureLine]] = {}
    for bom in uow.session.scalars(stmt):
        out[bom.product_id] = [
            StructureLine(ln.component_id, convert_qty(ln.quantity * (1 + ln.scrap_pct / 100) / bom.quantity,
                                                       ln.uom, ln.component.uom, round=False))
            for ln in bom.lines if not ln.is_byproduct]
    return out


def low_level_codes(structure: dict[int, list[StructureLine]]) -> dict[int, int]:
    """MRP's low-level code of every product in a structure: 0 for end items, otherwise the
    deepest level at which it appears, so each product is planned once, after all its parents."""
    level: dict[int, int] = {}
    parents = set(structure)
    children = {ln.component_id for lines in structure.values() for ln in lines}
    frontier = {p: 0 for p in parents - children}
    for _depth in range(MAX_LEVELS + 1):
        if not frontier:
            break
        nxt: dict[int, int] = {}
        for product, depth in frontier.items():
            if level.get(product, -1) >= depth:
                continue
            level[product] = depth
            for ln in structure.get(product, []):
                nxt[ln.component_id] = max(nxt.get(ln.component_id, 0), depth + 1)
        frontier = nxt
    return level


@dataclass
class Usage:
    bom_id: int
    product_id: int
    sku: str
    name: str
    version: str
    state: str
    quantity: Decimal
    uom: str

    def as_dict(self) -> dict:
        d = asdict(self)
        d["quantity"] = _dec_str(self.quantity)
        d["state_label"] = state_label(self.state)
        return d


def where_used(uow: UnitOfWork, component_id: int, *, include_obsolete: bool = False) -> list[Usage]:
    """BOM versions that list the product as a component (directly)."""
    uow.get(m.Product, component_id)
    stmt = (select(m.Bom, m.BomLine).join(m.BomLine, m.BomLine.bom_id == m.Bom.id)
            .join(m.Product, m.Product.id == m.Bom.product_id)
            .where(m.Bom.company_id == uow.company_id, m.BomLine.component_id == component_id)
            .order_by(m.Product.sku, m.Bom.version))
    if not include_obsolete:
        stmt = stmt.where(m.Bom.state != "obsolete")
    return [Usage(b.id, b.product_id, b.product.sku, b.product.name, b.version, b.state, ln.quantity, ln.uom.code)
            for b, ln in uow.session.execute(stmt).all()]


# ----------------------------------------------------------------- presentation helpers
def state_label(state: str) -> str:
    return {"draft": _("草稿"), "released": _("已发布"), "obsolete": _("已作废")}.get(state, state)


def bom_to_dict(bom: m.Bom, *, with_lines: bool = True) -> dict:
    out = {
        "id": bom.id, "product_id": bom.product_id, "product_sku": bom.product.sku,
        "product_name": bom.product.name, "version": bom.version, "state": bom.state,
        "state_label": state_label(bom.state), "quantity": _dec_str(bom.quantity),
        "uom": bom.product.uom.code,
        "effective_from": bom.effective_from.isoformat() if bom.effective_from else None,
        "effective_to": bom.effective_to.isoformat() if bom.effective_to else None,
        "notes": bom.notes, "line_count": len(bom.lines),
        "created_at": bom.created_at.isoformat() if bom.created_at else None,
        "updated_at": bom.updated_at.isoformat() if bom.updated_at else None,
    }
    if with_lines:
        out["lines"] = [{
            "id": ln.id, "sequence": ln.sequence, "component_id": ln.component_id,
            "component_sku": ln.component.sku, "component_name": ln.component.name,
            "quantity": _dec_str(ln.quantity), "uom_id": ln.uom_id, "uom": ln.uom.code,
            "scrap_pct": _dec_str(ln.scrap_pct), "is_byproduct": ln.is_byproduct,
        } for ln in bom.lines]
    return out


__all__ = [
    "Explosion",
    "Requirement",
    "StructureLine",
    "Usage",
    "bom_to_dict",
    "copy_bom",
    "create_bom",
    "delete_bom",
    "explode",
    "get_bom",
    "list_boms",
    "low_level_codes",
    "next_version",
    "obsolete_bom",
    "release_bom",
    "released_bom",
    "released_structure",
    "update_bom",
    "where_used",
]
