"""Cost roll-up (成本卷积): what one unit of a product costs through its BOM, level by level.

Bought items (no released BOM of their own) count at their product cost (`Product.cost`); sub-assemblies with a
released BOM are rolled up the same way, recursively, and add the conversion cost of their routing (labour and
overhead at the work centers' hourly rates, `mes.routings.routing_cost`); the product itself adds its own
routing's conversion. Quantities come from `masterdata.boms.explode`, so scrap factors, BOM output quantities
and unit conversions are the ones production plans with. Setup time is spread over the quantity rolled up:
the cost of one unit of a batch of 10 is lower than that of a batch of 1.

By-product lines are not credited (they are outputs and `explode` leaves them out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import ZERO
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms
from opensupply.masterdata import models as md
from opensupply.mes import routings

COST_PERMISSION = "masterdata.cost"  # product costs are shown only to those who may see them
SIX = Decimal("0.000001")


def _money(value: Decimal) -> str:
    return boms._dec_str(value)


@dataclass
class CostLine:
    level: int
    product_id: int
    sku: str
    name: str
    parent_sku: str
    quantity: Decimal  # for the whole roll-up quantity, scrap included, in the item's own unit
    uom: str
    made: bool  # rolled up from its own released BOM (else bought at its cost)
    bom_version: str | None
    material_cost: Decimal = ZERO
    conversion_cost: Decimal = ZERO
    children: list[CostLine] = field(default_factory=list, repr=False)

    @property
    def total_cost(self) -> Decimal:
        return self.material_cost + self.conversion_cost

    @property
    def unit_cost(self) -> Decimal:
        return self.total_cost / self.quantity if self.quantity else ZERO

    def as_dict(self) -> dict:
        return {"level": self.level, "product_id": self.product_id, "sku": self.sku, "name": self.name,
                "parent_sku": self.parent_sku, "quantity": boms._dec_str(self.quantity), "uom": self.uom,
                "made": self.made, "bom_version": self.bom_version, "unit_cost": _money(self.unit_cost),
                "material_cost": _money(self.material_cost), "conversion_cost": _money(self.conversion_cost),
                "total_cost": _money(self.total_cost)}


@dataclass
class CostRollup:
    product_id: int
    sku: str
    name: str
    bom_id: int
    bom_version: str
    bom_state: str
    quantity: Decimal
    uom: str
    material_cost: Decimal
    conversion_cost: Decimal
    lines: list[CostLine]

    @property
    def total_cost(self) -> Decimal:
        return self.material_cost + self.conversion_cost

    @property
    def unit_cost(self) -> Decimal:
        return self.total_cost / self.quantity

    def levels(self) -> list[dict]:
        """Per level: what its bought items cost and the conversion its made items add."""
        acc: dict[int, dict] = {}
        for ln in self.lines:
            row = acc.setdefault(ln.level, {"level": ln.level, "bought_cost": ZERO, "conversion_cost": ZERO,
                                            "items": 0})
            row["items"] += 1
            if ln.made:
                row["conversion_cost"] += ln.conversion_cost
            else:
                row["bought_cost"] += ln.material_cost
        return [dict(r, bought_cost=_money(r["bought_cost"]), conversion_cost=_money(r["conversion_cost"]))
                for _lvl, r in sorted(acc.items())]

    def as_dict(self) -> dict:
        return {"product_id": self.product_id, "sku": self.sku, "name": self.name, "bom_id": self.bom_id,
                "bom_version": self.bom_version, "bom_state": self.bom_state, "quantity": boms._dec_str(self.quantity),
                "uom": self.uom, "material_cost": _money(self.material_cost),
                "conversion_cost": _money(self.conversion_cost), "total_cost": _money(self.total_cost),
                "unit_cost": _money(self.unit_cost), "lines": [ln.as_dict() for ln in self.lines],
                "levels": self.levels()}


def roll_up(uow: UnitOfWork, product_id: int, bom_id: int | None = None, quantity: Any = 1) -> CostRollup:
    """Cost of `quantity` of a product through `bom_id` (any version of it, e.g. an ECO's draft) or its
    released version; lower levels through their released versions."""
    uow.actor.require(COST_PERMISSION)
    explosion = boms.explode(uow, product_id, quantity, bom_id=bom_id)
    top_bom = boms.get_bom(uow, explosion.bom_id)
    made_ids = {r.product_id for r in explosion.lines if r.has_bom}
    costs = dict(uow.session.execute(select(md.Product.id, md.Product.cost).where(
        md.Product.company_id == uow.company_id,
        md.Product.id.in_({r.product_id for r in explosion.lines} or {-1}))).all())
    sub_boms = {pid: boms.released_bom(uow, pid) for pid in made_ids}

    root_children: list[CostLine] = []
    stack: list[CostLine] = []
    flat: list[CostLine] = []
    for r in explosion.lines:  # depth-first order: a line's children follow it one level deeper
        sub = sub_boms.get(r.product_id) if r.has_bom else None
        line = CostLine(r.level, r.product_id, r.sku, r.name, r.parent_sku, r.quantity, r.uom, r.has_bom,
                        sub.version if sub else None)
        while stack and stack[-1].level >= r.level:
            stack.pop()
        (stack[-1].children if stack else root_children).append(line)
        stack.append(line)
        flat.append(line)

    def settle(line: CostLine) -> None:
        if line.made:
            for child in line.children:
                settle(child)
            line.material_cost = sum((c.total_cost for c in line.children), ZERO)
            routing = routings.routing_for(uow, line.product_id, sub_boms[line.product_id].id)
            line.conversion_cost = routings.routing_cost(uow, routing, line.quantity)
        else:
            line.material_cost = line.quantity * Decimal(costs.get(line.product_id) or 0)

    for child in root_children:
        settle(child)
    qty = explosion.quantity
    routing = routings.routing_for(uow, product_id, top_bom.id)
    return CostRollup(product_id, explosion.sku, top_bom.product.name, top_bom.id, top_bom.version, top_bom.state,
                      qty, explosion.uom, sum((c.total_cost for c in root_children), ZERO),
                      routings.routing_cost(uow, routing, qty), flat)


def compare(uow: UnitOfWork, product_id: int, base_bom_id: int | None, new_bom_id: int, quantity: Any = 1) -> dict:
    """The cost impact of moving from one version to another: both roll-ups and the change per unit."""
    new = roll_up(uow, product_id, new_bom_id, quantity)
    base = roll_up(uow, product_id, base_bom_id, quantity) if base_bom_id else None
    out = {"quantity": boms._dec_str(new.quantity), "base": base.as_dict() if base else None, "new": new.as_dict(),
           "delta_unit_cost": None, "delta_pct": None, "delta_total_cost": None}
    if base is not None:
        delta = new.unit_cost - base.unit_cost
        out["delta_unit_cost"] = _money(delta)
        out["delta_total_cost"] = _money(new.total_cost - base.total_cost)
        out["delta_pct"] = boms._dec_str((delta / base.unit_cost * 100).quantize(Decimal("0.01"))) \
            if base.unit_cost else None
    return out


def parse_quantity(raw: Any) -> Decimal:
    qty = boms._decimal(raw, "quantity", _("数量"), default=Decimal(1))
    if qty <= 0:
        raise ValidationFailed(_("数量必须大于 0"), field="quantity")
    return qty


__all__ = ["COST_PERMISSION", "CostLine", "CostRollup", "compare", "parse_quantity", "roll_up"]
