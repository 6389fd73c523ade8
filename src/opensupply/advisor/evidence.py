"""Evidence from the company's own numbers: when it already runs OpenSupply, what do the last 90 days say
about which module would pay off next? Read-only figures (orders per day and channel, SKUs, stock
adjustment rate, late deliveries, manual order edits), each turned into a finding that names a module
only when that module is not on yet."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, select

from opensupply.core.audit import AuditLog
from opensupply.core.i18n import _
from opensupply.core.modules import enabled_for
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork

WINDOW_DAYS = 90


def _pct(part: int | float, whole: int | float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def figures(uow: UnitOfWork, days: int = WINDOW_DAYS) -> dict:
    """The numbers, for the last `days` days up to the company's today."""
    from opensupply.erp.sales.models import SalesDelivery, SalesOrder
    from opensupply.inventory.models import StockMove
    from opensupply.masterdata.models import Product
    from opensupply.oms.models import OmsOrder

    today = company_today(uow)
    since_day = today - dt.timedelta(days=days)
    since = dt.datetime.combine(since_day, dt.time(), tzinfo=dt.UTC)
    c = uow.company_id
    per_channel = dict(uow.session.execute(
        select(SalesOrder.channel, func.count()).where(SalesOrder.company_id == c, SalesOrder.order_date >= since_day,
                                                       SalesOrder.state != "cancelled")
        .group_by(SalesOrder.channel)).all())
    oms_per_channel = dict(uow.session.execute(
        select(OmsOrder.channel, func.count()).where(OmsOrder.company_id == c, OmsOrder.created_at >= since)
        .group_by(OmsOrder.channel)).all())
    for ch, n in oms_per_channel.items():  # channel orders not (yet) turned into sales orders count too
        per_channel[ch] = max(per_channel.get(ch, 0), n)
    orders = sum(per_channel.values())
    skus = uow.session.scalar(select(func.count()).select_from(Product).where(
        Product.company_id == c, Product.active.is_(True), Product.product_type == "stock")) or 0
    moves = uow.session.scalar(select(func.count()).select_from(StockMove).where(
        StockMove.company_id == c, StockMove.state == "done", StockMove.date_done >= since)) or 0
    adjustments = uow.session.scalar(select(func.count()).select_from(StockMove).where(
        StockMove.company_id == c, StockMove.state == "done", StockMove.date_done >= since,
        StockMove.ref_type.in_(("adjustment", "wms.count")))) or 0
    due = (select(SalesDelivery.id, SalesDelivery.date_done, SalesOrder.requested_date)
           .join(SalesOrder, SalesOrder.id == SalesDelivery.order_id)
           .where(SalesDelivery.company_id == c, SalesDelivery.state == "done", SalesDelivery.date_done >= since,
                  SalesOrder.requested_date.is_not(None)))
    delivered = late = 0
    for _id, done, requested in uow.session.execute(due):
        delivered += 1
        if done and done.date() > requested:
            late += 1
    edits = uow.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.company_id == c, AuditLog.at >= since, AuditLog.user_id.is_not(None),
        AuditLog.action == "update", AuditLog.entity.in_(("oms_order", "sales_order")))) or 0
    return {
        "days": days, "orders": orders, "orders_per_day": round(orders / days, 1), "per_channel": per_channel,
        "channels": len([ch for ch, n in per_channel.items() if n]), "skus": skus, "stock_moves": moves,
        "adjustments": adjustments, "adjustment_rate_pct": _pct(adjustments, moves), "deliveries": delivered,
        "late_deliveries": late, "late_rate_pct": _pct(late, delivered), "manual_order_edits": edits,
        "manual_edit_rate_pct": _pct(edits, orders),
    }


def findings(uow: UnitOfWork, days: int = WINDOW_DAYS) -> dict:
    """The figures and what they suggest: `[{"module", "figure", "reason"}]`, strongest first, only for
    modules that are not on yet."""
    f = figures(uow, days)
    on = enabled_for(uow)
    out: list[dict] = []

    def suggest(module: str, weight: float, reason: str) -> None:
        if module not in on:
            out.append({"module": module, "weight": weight, "reason": reason})

    if f["channels"] >= 2 or f["orders_per_day"] >= 50:
        suggest("oms", f["orders_per_day"],
                _("近 {d} 天日均 {n} 单，来自 {c} 个渠道：订单中心把它们汇总、审核、分仓并防止重发",
                  d=days, n=f["orders_per_day"], c=f["channels"]))
    if f["manual_edit_rate_pct"] >= 5:
        suggest("oms", f["manual_edit_rate_pct"], _("{p}% 的订单被人工改过（{n} 次）：订单中心的规则可以自动处理",
                                                    p=f["manual_edit_rate_pct"], n=f["manual_order_edits"]))
    if f["adjustment_rate_pct"] >= 2:
        suggest("wms", f["adjustment_rate_pct"],
                _("{p}% 的库存变动是盘点调整（{n} 笔）：库位管理和扫码出入库让账实一致",
                  p=f["adjustment_rate_pct"], n=f["adjustments"]))
    if f["skus"] >= 500:
        suggest("wms", f["skus"] / 100, _("{n} 个在用 SKU：按库位存放、按最短路径拣货", n=f["skus"]))
    if f["late_rate_pct"] >= 5:
        makes = "mes" in on or _makes_things(uow)
        module = "mes" if makes else "tms"
        suggest(module, f["late_rate_pct"], _("{p}% 的发货晚于客户要求日期（{n}/{t}）：{what}", p=f["late_rate_pct"],
                                              n=f["late_deliveries"], t=f["deliveries"],
                                              what=_("有限产能排产让交期算得准") if makes
                                              else _("按时效选承运商并跟踪在途")))
    merged: dict[str, dict] = {}
    for item in sorted(out, key=lambda x: -x["weight"]):
        merged.setdefault(item["module"], {"module": item["module"], "reasons": []})["reasons"].append(item["reason"])
    return {"figures": f, "suggestions": list(merged.values())}


def _makes_things(uow: UnitOfWork) -> bool:
    from opensupply.masterdata.models import Bom

    return bool(uow.session.scalar(select(Bom.id).where(and_(Bom.company_id == uow.company_id,
                                                             Bom.state == "released")).limit(1)))


__all__ = ["figures", "findings"]
