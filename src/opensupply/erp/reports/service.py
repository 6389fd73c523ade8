"""进销存 reports: 收发存汇总表 (stock in/out/balance per product), purchases, sales and gross
margin. Read-only; every figure comes from the documents and ledgers, never stored.

- 收发存: from the stock valuation layers (what the stock ledger says came in and went out, at
  what value), dated by their move's date in the company's time zone. Opening + in − out =
  closing, and the closing value up to today is the inventory valuation.
- Purchases: goods received (采购入库) from ERP receipts, at their receipt cost.
- Sales: customer invoices (红字发票 count negative), untaxed, tax and total.
- Gross margin: revenue from invoices, cost from what the deliveries took out of stock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today
from opensupply.core.types import ZERO, to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

GROUPS = {"product": _l("商品"), "customer": _l("客户"), "supplier": _l("供应商"), "channel": _l("渠道"),
          "month": _l("月份")}


def _tz(uow: UnitOfWork) -> ZoneInfo:
    company = uow.session.get(md.Company, uow.company_id)
    return ZoneInfo(getattr(company, "timezone", None) or "Asia/Shanghai")


def _start(uow: UnitOfWork, day: dt.date) -> dt.datetime:
    """The first instant of a local day, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=_tz(uow)).astimezone(dt.UTC)


def period(date_from: dt.date | None, date_to: dt.date | None, today: dt.date | None = None
           ) -> tuple[dt.date, dt.date]:
    """A report period; default: this month so far (today where the company is)."""
    date_to = date_to or today or dt.date.today()
    date_from = date_from or date_to.replace(day=1)
    if date_from > date_to:
        raise ValidationFailed(_("开始日期不能晚于结束日期"), field="date_from")
    return date_from, date_to


def _d(v) -> Decimal:
    """A summed quantity or amount, exact to the 6 places the columns keep (SQLite sums as floats)."""
    return to_decimal(v or 0).quantize(Decimal("0.000001")).normalize() + ZERO


def _product_filter(q: str | None):
    if not q:
        return None
    like = f"%{q.strip()}%"
    return or_(md.Product.sku.ilike(like), md.Product.name.ilike(like))


# ------------------------------------------------------------------ 收发存汇总表
def stock_summary(uow: UnitOfWork, date_from: dt.date | None = None, date_to: dt.date | None = None, *,
                  q: str | None = None) -> dict:
    """Per product: opening, in, out and closing quantity and value over the period."""
    from opensupply.inventory.models import StockMove
    from opensupply.inventory.models import StockValuationLayer as L

    date_from, date_to = period(date_from, date_to, company_today(uow))
    start, end = _start(uow, date_from), _start(uow, date_to + dt.timedelta(days=1))
    when = func.coalesce(StockMove.date_done, L.created_at)
    before, inside = when < start, and_(when >= start, when < end)

    def s(cond, col):
        return func.coalesce(func.sum(case((cond, col), else_=0)), 0)

    stmt = (select(L.product_id, md.Product.sku, md.Product.name,
                   s(before, L.quantity), s(before, L.value),
                   s(and_(inside, L.quantity > 0), L.quantity), s(and_(inside, L.quantity > 0), L.value),
                   s(and_(inside, L.quantity < 0), -L.quantity), s(and_(inside, L.quantity < 0), -L.value),
                   s(and_(inside, L.quantity == 0), L.value))  # revaluations without quantity
            .join(md.Product, md.Product.id == L.product_id)
            .outerjoin(StockMove, StockMove.id == L.move_id)
            .where(L.company_id == uow.company_id, when < end)
            .group_by(L.product_id, md.Product.sku, md.Product.name).order_by(md.Product.sku))
    if (cond := _product_filter(q)) is not None:
        stmt = stmt.where(cond)
    keys = ("opening_qty", "opening_value", "in_qty", "in_value", "out_qty", "out_value", "closing_qty",
            "closing_value")
    lines, totals = [], dict.fromkeys(keys, ZERO)
    for pid, sku, name, oq, ov, iq, iv, xq, xv, rv in uow.session.execute(stmt):
        row = {"product_id": pid, "sku": sku, "product_name": name, "opening_qty": _d(oq), "opening_value": _d(ov),
               "in_qty": _d(iq), "in_value": _d(iv) + max(_d(rv), ZERO), "out_qty": _d(xq),
               "out_value": _d(xv) + max(-_d(rv), ZERO)}
        row["closing_qty"] = row["opening_qty"] + row["in_qty"] - row["out_qty"]
        row["closing_value"] = row["opening_value"] + row["in_value"] - row["out_value"]
        if all(row[k] == 0 for k in keys):
            continue
        for k in keys:
            totals[k] += row[k]
        lines.append(row)
    return {"date_from": date_from, "date_to": date_to, "lines": lines, "totals": totals}


# ------------------------------------------------------------------ purchases (采购入库)
def purchases(uow: UnitOfWork, date_from: dt.date | None = None, date_to: dt.date | None = None, *,
              by: str = "supplier", supplier_id: int | None = None, q: str | None = None) -> dict:
    """Goods received from suppliers in the period (quantity and value at receipt cost) beside what
    suppliers billed in the period (untaxed, posted bills), grouped by supplier, product or month."""
    from opensupply.erp.purchasing.models import GoodsReceipt, GoodsReceiptLine, VendorBill, VendorBillLine

    if by not in ("supplier", "product", "month"):
        raise ValidationFailed(_("不支持的分组：{by}", by=by), field="by")
    date_from, date_to = period(date_from, date_to, company_today(uow))
    groups: dict = defaultdict(lambda: {"quantity": ZERO, "amount": ZERO, "billed": ZERO, "documents": set()})
    labels = {}

    def rows(doc, line, doc_fk, day_col, states, qty_col, amount_expr):
        stmt = (select(day_col, md.Partner.code, md.Partner.name, line.product_id, md.Product.sku, md.Product.name,
                       qty_col, amount_expr, doc.id)
                .select_from(doc)
                .join(line, doc_fk == doc.id)
                .join(md.Partner, md.Partner.id == doc.supplier_id)
                .join(md.Product, md.Product.id == line.product_id)
                .where(doc.company_id == uow.company_id, doc.state.in_(states), day_col >= date_from,
                       day_col <= date_to))
        if supplier_id:
            stmt = stmt.where(doc.supplier_id == supplier_id)
        if (cond := _product_filter(q)) is not None:
            stmt = stmt.where(cond)
        return uow.session.execute(stmt)

    def add(day, scode, sname, pid, sku, pname):
        key = {"supplier": scode, "product": pid, "month": day.strftime("%Y-%m")}[by]
        labels[key] = {"supplier": (scode, sname), "product": (sku, pname), "month": (key, key)}[by]
        return groups[key]

    r, rl = GoodsReceipt, GoodsReceiptLine
    for day, scode, sname, pid, sku, pname, qty, cost, rid in rows(r, rl, rl.receipt_id, r.receipt_date, ("done",),
                                                                    rl.quantity, rl.unit_cost):
        g = add(day, scode, sname, pid, sku, pname)
        g["quantity"] += _d(qty)
        g["amount"] += (_d(qty) * _d(cost)).quantize(Decimal("0.01"))
        g["documents"].add(rid)
    b, bl = VendorBill, VendorBillLine
    for day, scode, sname, pid, sku, pname, _qty, amount, _bid in rows(b, bl, bl.bill_id, b.bill_date,
                                                                       ("posted", "paid"), bl.quantity, bl.amount):
        add(day, scode, sname, pid, sku, pname)["billed"] += _d(amount)
    return _grouped(by, date_from, date_to, groups, labels, ("quantity", "billed", "amount"))


def _grouped(by: str, date_from, date_to, groups: dict, labels: dict, keys: tuple[str, ...]) -> dict:
    lines, totals = [], dict.fromkeys(keys, ZERO)
    for key, g in groups.items():
        code, name = labels[key]
        row = {"key": key, "code": code, "name": name, **{k: g[k] for k in keys}, "documents": len(g["documents"])}
        for k in keys:
            totals[k] += row[k]
        lines.append(row)
    sort = "code" if by == "month" else keys[-1]
    lines.sort(key=lambda r: r[sort], reverse=by != "month")
    return {"by": by, "date_from": date_from, "date_to": date_to, "lines": lines, "totals": totals}


# ------------------------------------------------------------------ sales (销售发票)
def _invoice_rows(uow: UnitOfWork, date_from: dt.date, date_to: dt.date, customer_id: int | None, q: str | None):
    from opensupply.erp.sales.models import CustomerInvoice, CustomerInvoiceLine, SalesOrder

    inv, ln = CustomerInvoice, CustomerInvoiceLine
    sign = case((inv.kind == "credit_note", -1), else_=1)
    stmt = (select(inv.invoice_date, md.Partner.code, md.Partner.name, func.coalesce(SalesOrder.channel, "direct"),
                   ln.product_id, md.Product.sku, md.Product.name, ln.quantity * sign, ln.amount_untaxed * sign,
                   ln.amount_tax * sign, ln.amount_total * sign, inv.id)
            .select_from(inv)
            .join(ln, ln.invoice_id == inv.id)
            .join(md.Partner, md.Partner.id == inv.customer_id)
            .join(md.Product, md.Product.id == ln.product_id)
            .outerjoin(SalesOrder, SalesOrder.id == inv.order_id)
            .where(inv.company_id == uow.company_id, inv.invoice_date >= date_from, inv.invoice_date <= date_to))
    # a cancelled invoice stays with its credit note beside it: both count, and they net to zero
    if customer_id:
        stmt = stmt.where(inv.customer_id == customer_id)
    if (cond := _product_filter(q)) is not None:
        stmt = stmt.where(cond)
    return uow.session.execute(stmt)


def _channel_label(code: str) -> str:
    try:
        from opensupply.erp.sales.service import channel_label

        return channel_label(code)
    except ImportError:
        return code


def sales(uow: UnitOfWork, date_from: dt.date | None = None, date_to: dt.date | None = None, *,
          by: str = "customer", customer_id: int | None = None, q: str | None = None) -> dict:
    """Invoiced sales in the period grouped by customer, product, channel or month."""
    if by not in ("customer", "product", "channel", "month"):
        raise ValidationFailed(_("不支持的分组：{by}", by=by), field="by")
    date_from, date_to = period(date_from, date_to, company_today(uow))
    groups: dict = defaultdict(lambda: {"quantity": ZERO, "amount_untaxed": ZERO, "amount_tax": ZERO,
                                        "amount_total": ZERO, "documents": set()})
    labels = {}
    for day, cid, cname, channel, pid, sku, pname, qty, untaxed, tax, total, iid in _invoice_rows(
            uow, date_from, date_to, customer_id, q):
        key = {"customer": cid, "product": pid, "channel": channel, "month": day.strftime("%Y-%m")}[by]
        labels[key] = {"customer": (cid, cname), "product": (sku, pname),
                       "channel": (channel, _channel_label(channel)), "month": (key, key)}[by]
        g = groups[key]
        g["quantity"] += _d(qty)
        g["amount_untaxed"] += _d(untaxed)
        g["amount_tax"] += _d(tax)
        g["amount_total"] += _d(total)
        g["documents"].add(iid)
    return _grouped(by, date_from, date_to, groups, labels, ("quantity", "amount_tax", "amount_total",
                                                             "amount_untaxed"))


# ------------------------------------------------------------------ gross margin
def gross_margin(uow: UnitOfWork, date_from: dt.date | None = None, date_to: dt.date | None = None, *,
                 by: str = "product", q: str | None = None) -> dict:
    """Revenue (invoices, untaxed) less cost (stock value the deliveries took out) per product,
    customer or channel. Cost follows the delivery date, revenue the invoice date."""
    from opensupply.erp.sales.models import SalesDelivery, SalesDeliveryLine, SalesOrder

    if by not in ("product", "customer", "channel"):
        raise ValidationFailed(_("不支持的分组：{by}", by=by), field="by")
    date_from, date_to = period(date_from, date_to, company_today(uow))
    groups: dict = defaultdict(lambda: {"revenue": ZERO, "cost": ZERO, "quantity": ZERO, "documents": set()})
    labels = {}
    for _day, cid, cname, channel, pid, sku, pname, qty, untaxed, _tax, _total, iid in _invoice_rows(
            uow, date_from, date_to, None, q):
        key = {"customer": cid, "product": pid, "channel": channel}[by]
        labels[key] = {"customer": (cid, cname), "product": (sku, pname),
                       "channel": (channel, _channel_label(channel))}[by]
        groups[key]["revenue"] += _d(untaxed)
        groups[key]["quantity"] += _d(qty)
        groups[key]["documents"].add(iid)
    d, dl = SalesDelivery, SalesDeliveryLine
    stmt = (select(md.Partner.code, md.Partner.name, func.coalesce(SalesOrder.channel, "direct"), dl.product_id,
                   md.Product.sku, md.Product.name, dl.cost_value)
            .select_from(d)
            .join(dl, dl.delivery_id == d.id)
            .join(md.Partner, md.Partner.id == d.customer_id)
            .join(md.Product, md.Product.id == dl.product_id)
            .outerjoin(SalesOrder, SalesOrder.id == d.order_id)
            .where(d.company_id == uow.company_id, d.state == "done", d.date_done >= _start(uow, date_from),
                   d.date_done < _start(uow, date_to + dt.timedelta(days=1))))
    if (cond := _product_filter(q)) is not None:
        stmt = stmt.where(cond)
    for cid, cname, channel, pid, sku, pname, cost in uow.session.execute(stmt):
        key = {"customer": cid, "product": pid, "channel": channel}[by]
        labels.setdefault(key, {"customer": (cid, cname), "product": (sku, pname),
                                "channel": (channel, _channel_label(channel))}[by])
        groups[key]["cost"] += _d(cost)
    for g in groups.values():
        g["margin"] = g["revenue"] - g["cost"]
    out = _grouped(by, date_from, date_to, groups, labels, ("quantity", "revenue", "cost", "margin"))
    for row in [*out["lines"], out["totals"]]:
        row["margin_pct"] = (row["margin"] / row["revenue"] * 100).quantize(Decimal("0.1")) if row["revenue"] \
            else None
    return out
