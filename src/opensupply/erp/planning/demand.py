"""Independent demand (独立需求): rows entered by hand or written by the SCM forecast, replaced per source."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import delete, insert, select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from .models import IndependentDemand


def set_independent_demand(uow: UnitOfWork, *, source: str, rows: Iterable[Mapping]) -> int:
    """Replace every independent-demand row of `source` (e.g. "manual", "scm_forecast") with `rows`.

    Each row: product_id (or sku), warehouse_id (optional), date (the start of its period), quantity.
    Rows with quantity 0 are skipped; the same product × warehouse × date given twice is summed.
    Returns how many rows are stored. Replaying the same rows leaves the same table."""
    uow.actor.require("erp.planning_run")
    source = (source or "").strip()
    if not source or len(source) > 40:
        raise ValidationFailed(_("请填写需求来源（不超过 40 个字符）"), field="source")
    rows = list(rows)
    skus = {str(r["sku"]).strip() for r in rows if r.get("product_id") in (None, "") and r.get("sku")}
    by_sku = {}
    if skus:
        by_sku = dict(uow.session.execute(select(md.Product.sku, md.Product.id).where(
            md.Product.company_id == uow.company_id, md.Product.sku.in_(skus))).all())
    wanted_ids = {int(r["product_id"]) for r in rows if r.get("product_id") not in (None, "")}
    known = set()
    if wanted_ids:
        known = set(uow.session.scalars(select(md.Product.id).where(
            md.Product.company_id == uow.company_id, md.Product.id.in_(wanted_ids))))
    warehouses = set(uow.session.scalars(select(md.Warehouse.id).where(md.Warehouse.company_id == uow.company_id)))
    acc: dict[tuple[int, int | None, dt.date], Decimal] = {}
    for i, r in enumerate(rows, start=1):
        if r.get("product_id") not in (None, ""):
            pid = int(r["product_id"])
            if pid not in known:
                raise ValidationFailed(_("第 {n} 行：商品不存在：#{id}", n=i, id=pid), field="product_id")
        else:
            pid = by_sku.get(str(r.get("sku") or "").strip())
            if pid is None:
                raise ValidationFailed(_("第 {n} 行：商品不存在：{sku}", n=i, sku=r.get("sku") or ""), field="sku")
        wh = r.get("warehouse_id")
        wh = int(wh) if wh not in (None, "") else None
        if wh is not None and wh not in warehouses:
            raise ValidationFailed(_("第 {n} 行：仓库不存在：#{id}", n=i, id=wh), field="warehouse_id")
        day = r.get("date")
        if isinstance(day, dt.datetime):
            day = day.date()
        if not isinstance(day, dt.date):
            raise ValidationFailed(_("第 {n} 行：请填写需求日期", n=i), field="date")
        try:
            qty = to_decimal(r.get("quantity"))
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationFailed(_("第 {n} 行：数量格式不正确", n=i), field="quantity") from None
        if not qty.is_finite() or qty < 0:
            raise ValidationFailed(_("第 {n} 行：数量不能为负数", n=i), field="quantity")
        if qty == 0:
            continue
        key = (pid, wh, day)
        acc[key] = acc.get(key, Decimal(0)) + qty
    t = IndependentDemand.__table__
    uow.session.execute(delete(t).where(t.c.company_id == uow.company_id, t.c.source == source))
    now = utcnow()
    values = [{"company_id": uow.company_id, "product_id": p, "warehouse_id": w, "demand_date": d, "quantity": q,
               "source": source, "created_at": now, "updated_at": now, "created_by_id": uow.actor.user_id,
               "updated_by_id": uow.actor.user_id} for (p, w, d), q in sorted(acc.items(),
                                                                               key=lambda kv: (kv[0][0], kv[0][2]))]
    for start in range(0, len(values), 5000):
        uow.session.execute(insert(t), values[start:start + 5000])
    return len(values)


def demand_rows(uow: UnitOfWork, *, source: str | None = None, product_id: int | None = None, limit: int = 50,
                offset: int = 0) -> tuple[list[IndependentDemand], int]:
    from sqlalchemy import func

    uow.actor.require("erp.planning")
    stmt = select(IndependentDemand).where(IndependentDemand.company_id == uow.company_id)
    if source:
        stmt = stmt.where(IndependentDemand.source == source)
    if product_id:
        stmt = stmt.where(IndependentDemand.product_id == product_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(uow.session.scalars(stmt.order_by(IndependentDemand.demand_date, IndependentDemand.id)
                                     .limit(limit).offset(offset)))
    return items, total
