"""Read access to the planning policies for other modules (SCM inventory risk): lead time and safety stock per
product, one query."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from opensupply.core.types import to_decimal
from opensupply.core.uow import UnitOfWork

from .models import PlanningPolicy


def planning_parameters(uow: UnitOfWork) -> dict[int, dict]:
    """Per product with an active company-wide policy: {"lead_time_days": int, "safety_stock": Decimal}."""
    p = PlanningPolicy
    return {pid: {"lead_time_days": int(lead or 0), "safety_stock": to_decimal(ss or Decimal(0))}
            for pid, lead, ss in uow.session.execute(
                select(p.product_id, p.lead_time_days, p.safety_stock)
                .where(p.company_id == uow.company_id, p.active.is_(True), p.warehouse_id.is_(None)))}


def warehouse_safety_stocks(uow: UnitOfWork) -> dict[tuple[int, int], Decimal]:
    """The safety stock of active warehouse-specific policies per (product, warehouse), one query (SCM
    distribution planning: a warehouse's own safety stock wins over its share of the company-wide one)."""
    p = PlanningPolicy
    return {(pid, wid): to_decimal(ss) for pid, wid, ss in uow.session.execute(
        select(p.product_id, p.warehouse_id, p.safety_stock)
        .where(p.company_id == uow.company_id, p.active.is_(True), p.warehouse_id.is_not(None),
               p.safety_stock.is_not(None)))}
