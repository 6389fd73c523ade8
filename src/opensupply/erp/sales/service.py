"""Order-to-cash: quote → sales order → delivery → customer invoice → customer receipt.

The service API other modules call (each takes the caller's unit of work first and never commits):

* ``create_quote(uow, *, customer_id, lines=[SalesLineIn(...)], channel="direct", valid_until=None,
  price_includes_tax=None, salesperson_id=None, source_ref=None, notes=None) -> SalesQuote``
* ``quote_to_order(uow, quote_id, *, confirm=False, requested_date=None) -> SalesOrder`` — the CRM
  turns an accepted quote into an order with this.
* ``create_sales_order(uow, *, customer_id, lines=[SalesLineIn(product_id | sku, quantity, unit_price,
  tax_rate, discount_pct)], channel="direct"|"taobao"|"tmall"|"jd"|…, source_ref=None,
  salesperson_id=None, requested_date=None, confirm=False, price_includes_tax=None,
  created_by_module="erp", …) -> SalesOrder`` — the OMS creates the commercial order of a channel
  order with this (``created_by_module="oms"``, ``source_ref`` = the platform's order number; the
  same channel + source_ref twice is refused, so intake can be retried safely).
* ``confirm_sales_order(uow, id, *, override_credit=False, override_reason=None) -> SalesOrder`` —
  checks the customer's credit limit, reserves stock in the order's warehouse, opens the
  delivery and emits ``erp.sales_order_confirmed`` (sales_order_id, number, channel, customer_id,
  source_ref, created_by_module).
* ``deliver(uow, order_id, lines=None) -> SalesDelivery`` — ships everything still open, or the
  given ``DeliveryLineIn`` quantities; a partial shipment leaves a backorder for the rest.
* ``invoice_order(uow, order_id, *, invoice_type="normal"|"special", buyer_tax_id=None) ->
  CustomerInvoice`` — invoices what was delivered and not yet invoiced; ``uninvoiced_parts(uow, order)``
  tells what that would bill. Many orders at once (批量开票, all or nothing, after a preview):
  ``batch_invoicing.invoice_batch``.
* ``order_summaries(uow, order_ids) -> [dict]`` — number, state, delivery/invoice progress and invoices of
  sales orders, for another module's pages (the OMS order page).
* ``register_receipt(uow, customer_id, amount, allocations=None) -> CustomerReceipt`` — settles
  invoices (oldest first unless ``allocations=[(invoice_id, amount), …]``); any surplus stays as the
  customer's credit on 2203 预收账款 and is applied to the next invoices.
* ``reverse_receipt(uow, receipt_id, reason) -> CustomerReceipt`` — undoes a receipt with a reversing
  voucher; the invoices it settled are open again and its surplus leaves the customer's credit.
* ``cancel_sales_order``, ``cancel_backorder``, ``cancel_invoice`` (issues a 红字发票 credit note),
  ``apply_customer_credit``, ``ar_aging``, ``collections``, ``record_reminder``.

Foreign currency: a customer whose currency is not the company's (USD, EUR, JPY …) is sold to in
that currency. Orders and invoices keep document-currency amounts and the rate of their date
(``currency_rate``); the invoice books 1122 in company currency at its rate with the foreign amount
beside it; a receipt in that currency at its own date's rate clears 1122 at the invoice's rate and
realises the difference on 660301 汇兑损益 (see ``accounting.fx``). A missing rate is refused.

Rules: confirmed documents are immutable (draft → confirmed → done / cancelled). Credit
control: open receivables (less the customer's credit) + confirmed orders not yet invoiced +
this order may not exceed ``partner.credit_limit`` (no limit when empty) unless someone holding
``erp.sales`` overrides it with a reason. Stock leaves through inventory reservations, so the
stock ledger's bridge posts cost of goods sold (Dr 6401 / Cr 1405) itself; invoices post only
their own side: Dr 1122 应收账款 / Cr 6001 主营业务收入 + Cr 222102 销项税额.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select

from opensupply.accounting import fx
from opensupply.accounting import service as gl
from opensupply.accounting.service import EntryLine
from opensupply.core.audit import record
from opensupply.core.errors import Conflict, InsufficientStock, NotFound, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.money import company_currency
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockMove, StockReservation
from opensupply.masterdata import models as md
from opensupply.masterdata import service as mds
from opensupply.masterdata.lifecycle import require_orderable

from . import pricing
from .models import (
    CollectionReminder,
    CustomerInvoice,
    CustomerInvoiceLine,
    CustomerReceipt,
    ReceiptAllocation,
    SalesDelivery,
    SalesDeliveryLine,
    SalesOrder,
    SalesOrderLine,
    SalesQuote,
    SalesQuoteLine,
)
from .pricing import LineAmounts, cents

register_sequence("SALES_QT", "QT{year}-", 6)
register_sequence("SALES_SO", "SO{year}-", 6)
register_sequence("SALES_DN", "DN{year}-", 6)
register_sequence("SALES_INV", "INV{year}-", 6, gap_free=True)  # the law asks for gap-free invoice numbers
register_sequence("SALES_RC", "RC{year}-", 6)

LINE_REF = "erp.sales_order_line"  # reservations are made per order line
DELIVERY_REF = "erp.sales_delivery"
INVOICE_REF = "erp.customer_invoice"
RECEIPT_REF = "erp.customer_receipt"
CREDIT_REF = "erp.customer_credit"

CHANNELS = {"direct": _l("直销"), "tmall": _l("天猫"), "taobao": _l("淘宝"), "jd": _l("京东"), "pdd": _l("拼多多"),
            "douyin": _l("抖音"), "miniapp": _l("小程序"), "offline": _l("门店"), "wholesale": _l("批发"),
            "other": _l("其他")}
ORDER_STATE_LABELS = {"draft": _l("草稿"), "confirmed": _l("已确认"), "done": _l("已完成"), "cancelled": _l("已取消")}
QUOTE_STATE_LABELS = {"draft": _l("草稿"), "sent": _l("已发送"), "ordered": _l("已转订单"), "cancelled": _l("已取消")}
DELIVERY_STATE_LABELS = {"waiting": _l("待发货"), "done": _l("已发货"), "cancelled": _l("已取消")}
INVOICE_STATE_LABELS = {"posted": _l("未收清"), "paid": _l("已收清"), "cancelled": _l("已红冲")}
INVOICE_TYPE_LABELS = {"special": _l("增值税专用发票"), "normal": _l("增值税普通发票")}
INVOICE_KIND_LABELS = {"invoice": _l("蓝字发票"), "credit_note": _l("红字发票")}
RECEIPT_ACCOUNTS = {"bank": _l("银行存款"), "cash": _l("库存现金"), "platform_cash": _l("其他货币资金")}
REMINDER_CHANNELS = {"phone": _l("电话"), "email": _l("邮件"), "wechat": _l("微信"), "visit": _l("上门"),
                     "letter": _l("催款函")}
PROGRESS_LABELS = {"none": _l("未开始"), "partial": _l("部分"), "full": _l("全部")}
AGING_BUCKETS = (("not_due", _l("未到期")), ("d1_30", _l("1-30 天")), ("d31_60", _l("31-60 天")),
                 ("d61_90", _l("61-90 天")), ("d90_plus", _l("90 天以上")))
TAX_ID = re.compile(r"^[0-9A-Z]{15,20}$")


def label(table: dict, key: str | None) -> str:
    """The words for a code (state, channel, …) in the reader's language."""
    return str(table[key]) if key in table else (key or "")


# ------------------------------------------------------------------ inputs
@dataclass
class SalesLineIn:
    """A line as callers give it: the product by id or SKU; unit price defaults to the
    product's list price; tax rate 13 % unless said (0.13, 13 or "13%")."""

    product_id: int | None = None
    quantity: Decimal | str | int = 1
    unit_price: Decimal | str | int | None = None
    tax_rate: Decimal | str | int = Decimal("0.13")
    discount_pct: Decimal | str | int = 0
    sku: str | None = None
    description: str | None = None


@dataclass
class DeliveryLineIn:
    """What to ship now: an order line by id, or by product (id or SKU) when the order has it once."""

    quantity: Decimal | str | int
    order_line_id: int | None = None
    product_id: int | None = None
    sku: str | None = None


# ------------------------------------------------------------------ helpers
def _dec(value, field: str) -> Decimal:
    try:
        d = to_decimal(value)
    except (ArithmeticError, ValueError):
        raise ValidationFailed(_("数字格式不正确：{v}", v=value), field=field) from None
    if not d.is_finite():
        raise ValidationFailed(_("数字格式不正确：{v}", v=value), field=field)
    return d


def _at_line(exc, i: int, n: int):
    if n > 1:
        exc.message = _("第 {n} 行：{msg}", n=i + 1, msg=exc.message)
        exc.args = (exc.message,)
    return exc


def _customer(uow: UnitOfWork, ref: int | str) -> md.Partner:
    if isinstance(ref, str) and not ref.strip().isdigit():
        partner = uow.session.scalar(select(md.Partner).where(md.Partner.company_id == uow.company_id,
                                                              md.Partner.code == ref.strip()))
        if partner is None:
            raise NotFound(_("客户不存在：{code}", code=ref), field="customer_id")
    else:
        try:
            partner = uow.get(md.Partner, int(ref))
        except NotFound:
            raise NotFound(_("客户不存在：#{id}", id=ref), field="customer_id") from None
    if not partner.is_customer:
        raise ValidationFailed(_("{name} 不是客户", name=partner.name), field="customer_id")
    if not partner.active:
        raise ValidationFailed(_("客户已停用：{name}", name=partner.name), field="customer_id")
    return partner


def _lock_customer(uow: UnitOfWork, customer_id: int) -> None:
    """Serialize the money decisions of one customer (credit check, using their credit, receipts):
    FOR NO KEY UPDATE, so documents merely referencing the customer are not held up."""
    uow.session.execute(select(md.Partner.id).where(md.Partner.company_id == uow.company_id,
                                                    md.Partner.id == customer_id).with_for_update(key_share=True))


def _channel(value: str | None) -> str:
    channel = (value or "direct").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,19}", channel):
        raise ValidationFailed(_("渠道代码不正确：{v}", v=value), field="channel")
    return channel


def channel_label(code: str) -> str:
    return label(CHANNELS, code)


def _salesperson(uow: UnitOfWork, employee_id: int | None) -> int | None:
    if employee_id is None:
        return None
    try:
        return uow.get(md.Employee, int(employee_id)).id
    except NotFound:
        raise NotFound(_("员工不存在：#{id}", id=employee_id), field="salesperson_id") from None


def _warehouse(uow: UnitOfWork, warehouse_id: int | None) -> md.Warehouse:
    if warehouse_id is not None:
        return uow.get(md.Warehouse, warehouse_id)
    wh = uow.session.scalar(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id,
                                                       md.Warehouse.active.is_(True)).order_by(md.Warehouse.id))
    if wh is None:
        raise ValidationFailed(_("公司还没有仓库，不能确认销售订单"), field="warehouse_id")
    return wh


def _company_tz(uow: UnitOfWork) -> ZoneInfo:
    company_today(uow)  # caches the company's zone on the session
    return uow.session.info["company_tz"]


def _moment(uow: UnitOfWork, day: dt.date | None) -> dt.datetime | None:
    """A business date as the moment stock moved: now for today, else midday of that day locally."""
    if day is None or day == company_today(uow):
        return None
    return dt.datetime.combine(day, dt.time(12, 0), _company_tz(uow)).astimezone(dt.UTC)


def _resolve_lines(uow: UnitOfWork, lines: list[SalesLineIn], price_includes_tax: bool) -> list[dict]:
    if not lines:
        raise ValidationFailed(_("请至少填写一行"), field="lines")
    ids = {int(ln.product_id) for ln in lines if ln.product_id not in (None, "")}
    skus = {ln.sku.strip() for ln in lines if ln.product_id in (None, "") and ln.sku and ln.sku.strip()}
    base = select(md.Product).where(md.Product.company_id == uow.company_id)
    by_id = {p.id: p for p in uow.session.scalars(base.where(md.Product.id.in_(ids)))} if ids else {}
    by_sku = {p.sku: p for p in uow.session.scalars(base.where(md.Product.sku.in_(skus)))} if skus else {}
    out = []
    for i, ln in enumerate(lines):
        try:
            if ln.product_id not in (None, ""):
                prod = by_id.get(int(ln.product_id))
                if prod is None:
                    raise NotFound(_("商品不存在：#{id}", id=ln.product_id), field="product_id")
            elif ln.sku and ln.sku.strip():
                prod = by_sku.get(ln.sku.strip())
                if prod is None:
                    raise NotFound(_("商品不存在：{sku}", sku=ln.sku), field="sku")
            else:
                raise ValidationFailed(_("请选择商品"), field="product_id")
            if not prod.active:
                raise ValidationFailed(_("商品已停用：{sku}", sku=prod.sku), field="product_id")
            qty = _dec(ln.quantity, "quantity")
            if qty <= 0:
                raise ValidationFailed(_("数量必须大于 0"), field="quantity")
            if qty != qty.quantize(Decimal("0.000001")):
                raise ValidationFailed(_("数量最多 6 位小数"), field="quantity")
            price = to_decimal(prod.list_price or 0) if ln.unit_price in (None, "") else _dec(ln.unit_price,
                                                                                                "unit_price")
            if price < 0:
                raise ValidationFailed(_("单价不能为负数"), field="unit_price")
            price = price.quantize(Decimal("0.000001"))
            disc = _dec(ln.discount_pct or 0, "discount_pct")
            if not (0 <= disc <= 100):
                raise ValidationFailed(_("折扣必须在 0 到 100 之间"), field="discount_pct")
            rate = pricing.tax_rate(ln.tax_rate if ln.tax_rate not in (None, "") else "0.13")
        except (ValidationFailed, NotFound) as exc:
            raise _at_line(exc, i, len(lines)) from None
        amounts = pricing.line_amounts(qty, price, rate, disc, price_includes_tax=price_includes_tax)
        out.append({"sequence": (i + 1) * 10, "product_id": prod.id, "product": prod,
                    "description": (ln.description or prod.name)[:300], "quantity": qty, "unit_price": price,
                    "discount_pct": disc, "tax_rate": rate, "amount_untaxed": amounts.net,
                    "amount_tax": amounts.tax, "amount_total": amounts.gross})
    return out


def _set_totals(doc, lines: Iterable) -> None:
    t = pricing.totals(LineAmounts(to_decimal(ln.amount_untaxed), to_decimal(ln.amount_tax),
                                   to_decimal(ln.amount_total)) for ln in lines)
    doc.amount_untaxed, doc.amount_tax, doc.amount_total = t.net, t.tax, t.gross


def _line_amounts(ln) -> LineAmounts:
    return LineAmounts(to_decimal(ln.amount_untaxed), to_decimal(ln.amount_tax), to_decimal(ln.amount_total))


def _default_tax_inclusive(channel: str, value: bool | None) -> bool:
    """Platform (B2C) prices include VAT; B2B direct and wholesale prices usually do not."""
    if value is not None:
        return bool(value)
    return channel not in ("direct", "wholesale")


# ------------------------------------------------------------------ quotes
def create_quote(uow: UnitOfWork, *, customer_id: int | str, lines: list[SalesLineIn], channel: str = "direct",
                 valid_until: dt.date | None = None, price_includes_tax: bool | None = None,
                 salesperson_id: int | None = None, source_ref: str | None = None, notes: str | None = None,
                 quote_date: dt.date | None = None) -> SalesQuote:
    customer = _customer(uow, customer_id)
    channel = _channel(channel)
    incl = _default_tax_inclusive(channel, price_includes_tax)
    resolved = _resolve_lines(uow, lines, incl)
    require_orderable(uow, [r["product_id"] for r in resolved], "sale")
    day = quote_date or company_today(uow)
    if valid_until is not None and valid_until < day:
        raise ValidationFailed(_("有效期不能早于报价日期"), field="valid_until")
    quote = SalesQuote(number=next_number(uow, "SALES_QT", on=day), customer_id=customer.id, state="draft",
                       quote_date=day, valid_until=valid_until or day + dt.timedelta(days=30), channel=channel,
                       price_includes_tax=incl, salesperson_id=_salesperson(uow, salesperson_id),
                       currency_code=customer.currency_code or "CNY", notes=notes, source_ref=source_ref)
    quote.lines = [SalesQuoteLine(**{k: v for k, v in r.items() if k != "product"}) for r in resolved]
    _set_totals(quote, quote.lines)
    uow.add(quote)
    uow.flush()
    return quote


def mark_quote_sent(uow: UnitOfWork, quote_id: int) -> SalesQuote:
    quote = uow.get(SalesQuote, quote_id, for_update=True)
    if quote.state != "draft":
        raise Conflict(_("报价单 {n} 状态为{s}，不能发送", n=quote.number, s=label(QUOTE_STATE_LABELS, quote.state)),
                       field="state")
    quote.state = "sent"
    uow.flush()
    return quote


def cancel_quote(uow: UnitOfWork, quote_id: int) -> SalesQuote:
    quote = uow.get(SalesQuote, quote_id, for_update=True)
    if quote.state not in ("draft", "sent"):
        raise Conflict(_("报价单 {n} 状态为{s}，不能取消", n=quote.number, s=label(QUOTE_STATE_LABELS, quote.state)),
                       field="state")
    quote.state = "cancelled"
    uow.flush()
    return quote


def quote_to_order(uow: UnitOfWork, quote_id: int, *, confirm: bool = False, requested_date: dt.date | None = None,
                   override_credit: bool = False, override_reason: str | None = None) -> SalesOrder:
    """Turn an accepted quote into a sales order with the same customer, prices and lines."""
    quote = uow.get(SalesQuote, quote_id, for_update=True)
    if quote.state not in ("draft", "sent"):
        raise Conflict(_("报价单 {n} 状态为{s}，不能转为订单", n=quote.number,
                         s=label(QUOTE_STATE_LABELS, quote.state)), field="state")
    if quote.valid_until and quote.valid_until < company_today(uow):
        raise Conflict(_("报价单 {n} 已于 {d} 过期，请重新报价", n=quote.number, d=quote.valid_until.isoformat()),
                       field="valid_until")
    order = create_sales_order(
        uow, customer_id=quote.customer_id, channel=quote.channel, price_includes_tax=quote.price_includes_tax,
        salesperson_id=quote.salesperson_id, requested_date=requested_date, notes=quote.notes,
        source_ref=quote.source_ref, quote_id=quote.id,
        lines=[SalesLineIn(product_id=ln.product_id, quantity=ln.quantity, unit_price=ln.unit_price,
                           tax_rate=ln.tax_rate, discount_pct=ln.discount_pct, description=ln.description)
               for ln in quote.lines])
    quote.state, quote.sales_order_id = "ordered", order.id
    uow.flush()
    if confirm:
        confirm_sales_order(uow, order.id, override_credit=override_credit, override_reason=override_reason)
    return order


# ------------------------------------------------------------------ orders
def create_sales_order(uow: UnitOfWork, *, customer_id: int | str, lines: list[SalesLineIn],
                       channel: str = "direct", source_ref: str | None = None, salesperson_id: int | None = None,
                       requested_date: dt.date | None = None, confirm: bool = False,
                       price_includes_tax: bool | None = None, order_date: dt.date | None = None,
                       warehouse_id: int | None = None, notes: str | None = None, created_by_module: str = "erp",
                       quote_id: int | None = None, override_credit: bool = False,
                       override_reason: str | None = None) -> SalesOrder:
    """A draft sales order (confirmed at once with `confirm=True`)."""
    customer = _customer(uow, customer_id)
    channel = _channel(channel)
    source_ref = (source_ref or "").strip() or None
    if source_ref and channel != "direct":
        dup = uow.session.scalar(select(SalesOrder.number).where(
            SalesOrder.company_id == uow.company_id, SalesOrder.channel == channel,
            SalesOrder.source_ref == source_ref, SalesOrder.state != "cancelled"))
        if dup:
            raise Conflict(_("{channel} 订单 {ref} 已生成销售订单 {n}", channel=channel_label(channel), ref=source_ref,
                             n=dup), field="source_ref", code="duplicate_order")
    incl = _default_tax_inclusive(channel, price_includes_tax)
    resolved = _resolve_lines(uow, lines, incl)
    if created_by_module != "oms":  # a platform order is already sold: the OMS must still fulfil it
        require_orderable(uow, [r["product_id"] for r in resolved], "sale")
    day = order_date or company_today(uow)
    if requested_date is not None and requested_date < day:
        raise ValidationFailed(_("要求交货日期不能早于订单日期"), field="requested_date")
    wh = _warehouse(uow, warehouse_id)
    currency = (customer.currency_code or "CNY").upper()
    rate = fx.document_rate(uow, currency, day)
    order = SalesOrder(number=next_number(uow, "SALES_SO", on=day), customer_id=customer.id, state="draft",
                       order_date=day, requested_date=requested_date, channel=channel, source_ref=source_ref,
                       created_by_module=(created_by_module or "erp")[:20],
                       salesperson_id=_salesperson(uow, salesperson_id), warehouse_id=wh.id,
                       price_includes_tax=incl, currency_code=currency, currency_rate=rate, quote_id=quote_id,
                       notes=notes)
    order.lines = [SalesOrderLine(**{k: v for k, v in r.items() if k != "product"}) for r in resolved]
    _set_totals(order, order.lines)
    uow.add(order)
    uow.flush()
    if confirm:
        confirm_sales_order(uow, order.id, override_credit=override_credit, override_reason=override_reason)
    return order


def update_sales_order(uow: UnitOfWork, order_id: int, *, lines: list[SalesLineIn] | None = None,
                       requested_date: dt.date | None = None, notes: str | None = None,
                       price_includes_tax: bool | None = None) -> SalesOrder:
    """Change a draft order; confirmed orders are immutable (cancel it, or ship and credit)."""
    order = uow.get(SalesOrder, order_id, for_update=True)
    if order.state != "draft":
        raise Conflict(_("订单 {n} 已确认，不能修改", n=order.number), field="state")
    if price_includes_tax is not None:
        order.price_includes_tax = bool(price_includes_tax)
    if lines is not None:
        resolved = _resolve_lines(uow, lines, order.price_includes_tax)
        order.lines = [SalesOrderLine(**{k: v for k, v in r.items() if k != "product"}) for r in resolved]
    elif price_includes_tax is not None:
        for ln in order.lines:
            a = pricing.line_amounts(ln.quantity, ln.unit_price, ln.tax_rate, ln.discount_pct,
                                     price_includes_tax=order.price_includes_tax)
            ln.amount_untaxed, ln.amount_tax, ln.amount_total = a.net, a.tax, a.gross
    if requested_date is not None:
        order.requested_date = requested_date
    if notes is not None:
        order.notes = notes
    _set_totals(order, order.lines)
    uow.flush()
    return order


def open_receivable(uow: UnitOfWork, customer_id: int) -> Decimal:
    """What the customer owes: 1122 balance less the customer's credit on 2203."""
    ar = gl.account_balance(uow, (gl.account_code("receivable"),), partner_id=customer_id)
    return ar - customer_credit(uow, customer_id)


def customer_credit(uow: UnitOfWork, customer_id: int) -> Decimal:
    """The customer's unused advance/over-payment (预收账款, credit balance of 2203)."""
    return -gl.account_balance(uow, (gl.account_code("customer_advance"),), partner_id=customer_id)


def uninvoiced_orders(uow: UnitOfWork, customer_id: int, exclude_order_id: int | None = None) -> Decimal:
    """Value of confirmed orders not yet invoiced (the part of the credit exposure not in AR yet)."""
    stmt = (select(SalesOrderLine.amount_total, SalesOrderLine.quantity, SalesOrderLine.qty_invoiced,
                   SalesOrder.currency_rate)
            .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
            .where(SalesOrder.company_id == uow.company_id, SalesOrder.customer_id == customer_id,
                   SalesOrder.state == "confirmed"))
    if exclude_order_id:
        stmt = stmt.where(SalesOrder.id != exclude_order_id)
    total = ZERO
    for amount, qty, invoiced, rate in uow.session.execute(stmt):
        qty, invoiced = to_decimal(qty), to_decimal(invoiced)
        if qty > invoiced:
            part = to_decimal(amount) * (qty - invoiced) / qty
            total += part if rate in (None, 1) else part * to_decimal(rate)  # foreign orders in company currency
    return cents(total)


def credit_exposure(uow: UnitOfWork, customer_id: int, order: SalesOrder | None = None) -> dict:
    customer = uow.get(md.Partner, customer_id)
    ar = open_receivable(uow, customer_id)
    pending = uninvoiced_orders(uow, customer_id, exclude_order_id=order.id if order else None)
    this = to_decimal(order.amount_total) if order else ZERO
    if order is not None and order.currency_rate not in (None, 1):
        this = cents(this * to_decimal(order.currency_rate))
    limit = to_decimal(customer.credit_limit) if customer.credit_limit is not None else None
    total = ar + pending + this
    return {"credit_limit": limit, "open_receivable": ar, "open_orders": pending, "this_order": this,
            "exposure": total, "over_limit": limit is not None and total > limit}


def confirm_sales_order(uow: UnitOfWork, order_id: int, *, override_credit: bool = False,
                        override_reason: str | None = None) -> SalesOrder:
    order = uow.get(SalesOrder, order_id, for_update=True)
    if order.state != "draft":
        raise Conflict(_("订单 {n} 状态为{s}，不能确认", n=order.number, s=label(ORDER_STATE_LABELS, order.state)),
                       field="state")
    _customer(uow, order.customer_id)
    _lock_customer(uow, order.customer_id)
    # the exposure sums every open order and invoice of the customer: only worth it when there is a limit
    credit = credit_exposure(uow, order.customer_id, order) if order.customer.credit_limit is not None else None
    if credit is not None and credit["over_limit"]:
        if not override_credit:
            raise Conflict(_("超出信用额度：客户 {name} 额度 {limit}，未收款 {ar}，未开票订单 {open}，本单 {this}；"
                             "需有销售权限的人批准超额",
                             name=order.customer.name, limit=cents(credit["credit_limit"]),
                             ar=cents(credit["open_receivable"]), open=cents(credit["open_orders"]),
                             this=cents(credit["this_order"])), field="credit_limit", code="credit_limit")
        if not uow.actor.can("erp.sales"):
            raise PermissionDenied(_("批准超出信用额度需要权限：{permission}", permission="erp.sales"),
                                   field="override_credit")
        reason = (override_reason or "").strip()
        if not reason:
            raise ValidationFailed(_("请填写超额批准的理由"), field="override_reason")
        order.credit_override_by_id = uow.actor.user_id
        order.credit_override_reason = reason[:300]
    order.state = "confirmed"
    order.confirmed_at = utcnow()
    stock_lines = [ln for ln in order.lines if ln.product.product_type != "service"]
    for ln in order.lines:
        if ln.product.product_type == "service":  # nothing to ship: delivered as ordered
            ln.qty_delivered = ln.quantity
    if stock_lines:
        _reserve(uow, order, {ln.id: to_decimal(ln.quantity) for ln in stock_lines})
        delivery = SalesDelivery(number=next_number(uow, "SALES_DN"), order_id=order.id,
                                 customer_id=order.customer_id, state="waiting",
                                 scheduled_date=order.requested_date or order.order_date)
        delivery.lines = [SalesDeliveryLine(order_line_id=ln.id, product_id=ln.product_id, quantity=ln.quantity)
                          for ln in stock_lines]
        uow.add(delivery)
    uow.flush()
    uow.emit("erp.sales_order_confirmed", sales_order_id=order.id, number=order.number, channel=order.channel,
             customer_id=order.customer_id, source_ref=order.source_ref,
             created_by_module=order.created_by_module, warehouse_id=order.warehouse_id,
             amount_total=order.amount_total)
    return order


def _reserved_by_line(uow: UnitOfWork, line_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Active reservations of order lines, oldest first."""
    ids = list(line_ids)
    out: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return out
    r = StockReservation
    rows = uow.session.execute(select(r.id, r.ref_id, r.product_id, r.location_id, r.lot_id, r.quantity)
                               .where(r.company_id == uow.company_id, r.ref_type == LINE_REF, r.ref_id.in_(ids),
                                      r.state == "active").order_by(r.id)).mappings()
    for row in rows:
        out[row["ref_id"]].append({**row, "quantity": to_decimal(row["quantity"])})
    return out


def _reserve(uow: UnitOfWork, order: SalesOrder, wanted: dict[int, Decimal]) -> dict[int, Decimal]:
    """Reserve up to `wanted` per order line in the order's warehouse (bins by code, lots oldest first);
    returns what was reserved per line."""
    needs = [inv.StockNeed(ln.id, ln.product_id, wanted[ln.id]) for ln in order.lines
             if ln.id in wanted and wanted[ln.id] > 0]
    return inv.reserve_in_warehouse(uow, needs, order.warehouse_id, ref_type=LINE_REF, reference=order.number)


def _waiting_delivery(uow: UnitOfWork, order_id: int) -> SalesDelivery | None:
    return uow.session.scalar(select(SalesDelivery).where(
        SalesDelivery.company_id == uow.company_id, SalesDelivery.order_id == order_id,
        SalesDelivery.state == "waiting").with_for_update(of=SalesDelivery))


def _release_lines(uow: UnitOfWork, line_ids: Iterable[int], keep: dict[int, Decimal] | None = None) -> None:
    """Release the active reservations of order lines (all of them, or all but `keep` per line)."""
    keep = keep or {}
    release_ids = []
    for line_id, rows in _reserved_by_line(uow, line_ids).items():
        left = keep.get(line_id, ZERO)
        for row in rows:
            if left >= row["quantity"]:
                left -= row["quantity"]
                continue
            release_ids.append(row["id"])
    if release_ids:
        inv.release(uow, release_ids)


def _order_line(order: SalesOrder, ln: DeliveryLineIn, uow: UnitOfWork) -> SalesOrderLine:
    if ln.order_line_id:
        for ol in order.lines:
            if ol.id == int(ln.order_line_id):
                return ol
        raise NotFound(_("订单行不存在：#{id}", id=ln.order_line_id), field="order_line_id")
    if ln.product_id in (None, "") and not ln.sku:
        raise ValidationFailed(_("请选择订单行或商品"), field="order_line_id")
    pid = int(ln.product_id) if ln.product_id not in (None, "") else None
    matches = [ol for ol in order.lines if (pid and ol.product_id == pid) or (ln.sku and ol.product.sku == ln.sku)]
    if not matches:
        raise NotFound(_("订单 {n} 没有该商品：{p}", n=order.number, p=ln.sku or ln.product_id), field="product_id")
    open_matches = [ol for ol in matches if ol.qty_delivered < ol.quantity]
    if len(open_matches) > 1:
        raise ValidationFailed(_("订单中该商品有多行，请指定订单行"), field="order_line_id")
    return (open_matches or matches)[0]


def deliver(uow: UnitOfWork, order_id: int, lines: list[DeliveryLineIn] | None = None, *,
            date: dt.date | None = None, notes: str | None = None) -> SalesDelivery:
    """Ship the order's open delivery: everything (lines=None) or the given quantities. Stock
    leaves from the order's reservations (topped up from free stock when short); a partial
    shipment completes this delivery with what left and opens a backorder for the rest.
    Cost of goods sold is posted by the stock ledger's bridge in the same transaction."""
    order = uow.get(SalesOrder, order_id, for_update=True)
    if order.state != "confirmed":
        raise Conflict(_("订单 {n} 状态为{s}，不能发货", n=order.number, s=label(ORDER_STATE_LABELS, order.state)),
                       field="state")
    delivery = _waiting_delivery(uow, order.id)
    if delivery is None:
        raise Conflict(_("订单 {n} 没有待发货的数量", n=order.number), field="state")
    open_qty = {dl.order_line_id: to_decimal(dl.quantity) for dl in delivery.lines}
    if lines is None:
        ship = dict(open_qty)
    else:
        ship = defaultdict(lambda: ZERO)
        for i, ln in enumerate(lines):
            try:
                ol = _order_line(order, ln, uow)
                qty = _dec(ln.quantity, "quantity")
                if qty < 0:
                    raise ValidationFailed(_("数量不能为负数"), field="quantity")
                if qty and ol.id not in open_qty:
                    raise ValidationFailed(_("{sku} 没有待发货数量", sku=ol.product.sku), field="quantity")
            except (ValidationFailed, NotFound) as exc:
                raise _at_line(exc, i, len(lines)) from None
            ship[ol.id] += qty
        for line_id, qty in ship.items():
            if qty > open_qty.get(line_id, ZERO):
                ol = next(x for x in order.lines if x.id == line_id)
                raise ValidationFailed(_("{sku} 发货数量 {q} 超过待发数量 {o}", sku=ol.product.sku, q=inv.fmt_qty(qty),
                                         o=inv.fmt_qty(open_qty.get(line_id, ZERO))), field="quantity")
        ship = {k: v for k, v in ship.items() if v > 0}
    if not ship:
        raise ValidationFailed(_("请填写发货数量"), field="lines")
    by_id = {ol.id: ol for ol in order.lines}

    # reservations: top up lines whose reservations fall short (stock arrived after confirmation)
    reserved = _reserved_by_line(uow, ship)
    short = {lid: q - sum((r["quantity"] for r in reserved.get(lid, [])), ZERO) for lid, q in ship.items()}
    short = {k: v for k, v in short.items() if v > 0}
    if short:
        _reserve(uow, order, short)
        reserved = _reserved_by_line(uow, ship)
        for lid, q in ship.items():
            have = sum((r["quantity"] for r in reserved.get(lid, [])), ZERO)
            if have < q:
                ol = by_id[lid]
                raise InsufficientStock(_("库存不足：{sku} 需发 {q}，仓库可用 {a}", sku=ol.product.sku,
                                          q=inv.fmt_qty(q), a=inv.fmt_qty(have)), field="quantity")

    customer_loc = mds.virtual_location(uow, "customer")
    specs, spec_line = [], []
    for lid in sorted(ship):
        left = ship[lid]
        for r in reserved[lid]:
            if left <= 0:
                break
            take = min(left, r["quantity"])
            specs.append(inv.MoveSpec(r["product_id"], take, r["location_id"], customer_loc.id, lot_id=r["lot_id"],
                                      ref_type=DELIVERY_REF, ref_id=delivery.id, reference=delivery.number,
                                      reservation_id=r["id"]))
            spec_line.append(lid)
            left -= take
    move_ids = inv.post_moves(uow, specs, date_done=_moment(uow, date))
    values = dict(uow.session.execute(select(StockMove.id, StockMove.value).where(StockMove.id.in_(move_ids))).all())
    cost: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for mid, lid in zip(move_ids, spec_line, strict=True):
        cost[lid] += to_decimal(values.get(mid) or 0)

    # this delivery keeps what left; the rest moves to a backorder
    rest = {lid: q - ship.get(lid, ZERO) for lid, q in open_qty.items() if q - ship.get(lid, ZERO) > 0}
    for dl in list(delivery.lines):
        if dl.order_line_id in ship:
            dl.quantity = ship[dl.order_line_id]
            dl.cost_value = inv.q6(cost[dl.order_line_id])
        else:
            delivery.lines.remove(dl)
    delivery.state = "done"
    delivery.date_done = _moment(uow, date) or utcnow()
    delivery.cost_total = sum((to_decimal(dl.cost_value) for dl in delivery.lines), ZERO)
    if notes:
        delivery.notes = notes[:300]
    for lid, q in ship.items():
        by_id[lid].qty_delivered = to_decimal(by_id[lid].qty_delivered) + q
    backorder = None
    if rest:
        backorder = SalesDelivery(number=next_number(uow, "SALES_DN"), order_id=order.id,
                                  customer_id=order.customer_id, state="waiting", backorder_of_id=delivery.id,
                                  scheduled_date=delivery.scheduled_date)
        backorder.lines = [SalesDeliveryLine(order_line_id=lid, product_id=by_id[lid].product_id, quantity=q)
                           for lid, q in sorted(rest.items())]
        uow.add(backorder)
    uow.flush()
    uow.emit("erp.sales_delivery_done", delivery_id=delivery.id, number=delivery.number, sales_order_id=order.id,
             backorder_id=backorder.id if backorder else None, move_ids=move_ids)
    _refresh_order_state(uow, order)
    return delivery


def cancel_backorder(uow: UnitOfWork, delivery_id: int, reason: str | None = None) -> SalesDelivery:
    """The customer no longer wants the rest: cancel the waiting delivery, release its stock."""
    delivery = uow.get(SalesDelivery, delivery_id, for_update=True)
    if delivery.state != "waiting":
        raise Conflict(_("发货单 {n} 状态为{s}，不能取消", n=delivery.number,
                         s=label(DELIVERY_STATE_LABELS, delivery.state)), field="state")
    order = uow.get(SalesOrder, delivery.order_id, for_update=True)
    if not any(to_decimal(ol.qty_delivered) > 0 for ol in order.lines if ol.product.product_type != "service"):
        raise Conflict(_("订单 {n} 尚未发货，请直接取消订单", n=order.number), field="state")
    _release_lines(uow, [dl.order_line_id for dl in delivery.lines])
    delivery.state = "cancelled"
    delivery.notes = (reason or delivery.notes or "")[:300] or None
    uow.flush()
    _refresh_order_state(uow, order)
    return delivery


def cancel_sales_order(uow: UnitOfWork, order_id: int, reason: str | None = None) -> SalesOrder:
    """Cancel an order that has not shipped: its reservations go back to available stock."""
    order = uow.get(SalesOrder, order_id, for_update=True)
    if order.state in ("cancelled", "done"):
        raise Conflict(_("订单 {n} 状态为{s}，不能取消", n=order.number, s=label(ORDER_STATE_LABELS, order.state)),
                       field="state")
    if order.state == "confirmed":
        shipped = uow.session.scalar(select(func.count()).select_from(SalesDelivery).where(
            SalesDelivery.company_id == uow.company_id, SalesDelivery.order_id == order.id,
            SalesDelivery.state == "done"))
        invoiced = any(to_decimal(ln.qty_invoiced) > 0 for ln in order.lines)
        if shipped or invoiced:
            raise Conflict(_("订单 {n} 已发货或已开票，不能取消；可取消欠货部分", n=order.number), field="state")
        _release_lines(uow, [ln.id for ln in order.lines])
        waiting = _waiting_delivery(uow, order.id)
        if waiting is not None:
            waiting.state = "cancelled"
        for ln in order.lines:
            ln.qty_delivered = ZERO
    order.state = "cancelled"
    order.cancel_reason = (reason or "").strip()[:300] or None
    uow.flush()
    uow.emit("erp.sales_order_cancelled", sales_order_id=order.id, number=order.number, channel=order.channel,
             source_ref=order.source_ref, created_by_module=order.created_by_module)
    return order


def _refresh_order_state(uow: UnitOfWork, order: SalesOrder) -> None:
    """Confirmed → done when nothing waits to ship and everything shipped is invoiced (and back)."""
    if order.state not in ("confirmed", "done"):
        return
    waiting = uow.session.scalar(select(func.count()).select_from(SalesDelivery).where(
        SalesDelivery.company_id == uow.company_id, SalesDelivery.order_id == order.id,
        SalesDelivery.state == "waiting"))
    invoiced = all(to_decimal(ln.qty_invoiced) >= to_decimal(ln.qty_delivered) for ln in order.lines)
    order.state = "done" if not waiting and invoiced else "confirmed"
    uow.flush()


def delivery_status(order: SalesOrder) -> str:
    """none / partial / full, from the order lines."""
    qty = sum((to_decimal(ln.quantity) for ln in order.lines), ZERO)
    done = sum((to_decimal(ln.qty_delivered) for ln in order.lines), ZERO)
    return "none" if done <= 0 else ("full" if done >= qty else "partial")


def invoice_status(order: SalesOrder) -> str:
    qty = sum((to_decimal(ln.quantity) for ln in order.lines), ZERO)
    done = sum((to_decimal(ln.qty_invoiced) for ln in order.lines), ZERO)
    return "none" if done <= 0 else ("full" if done >= qty else "partial")


# ------------------------------------------------------------------ invoices
def _invoiced_so_far(uow: UnitOfWork, line_ids: list[int]) -> dict[int, LineAmounts]:
    """Amounts of order lines on standing invoices (cancelled ones were credited back)."""
    il, ci = CustomerInvoiceLine, CustomerInvoice
    rows = uow.session.execute(
        select(il.order_line_id, func.sum(il.amount_untaxed), func.sum(il.amount_tax), func.sum(il.amount_total))
        .join(ci, ci.id == il.invoice_id)
        .where(ci.company_id == uow.company_id, ci.kind == "invoice", ci.state != "cancelled",
               il.order_line_id.in_(line_ids)).group_by(il.order_line_id)).all()
    return {lid: LineAmounts(cents(n or 0), cents(t or 0), cents(g or 0)) for lid, n, t, g in rows}


def _buyer_tax_id(value: str | None) -> str | None:
    text = re.sub(r"\s+", "", value or "").upper()
    if not text:
        return None
    if not TAX_ID.fullmatch(text):
        raise ValidationFailed(_("纳税人识别号格式不正确：{v}（应为 15 到 20 位数字或大写字母）", v=value),
                               field="buyer_tax_id")
    return text


def invoice_buyer_tax_id(order: SalesOrder, invoice_type: str, buyer_tax_id: str | None = None) -> str | None:
    """The buyer's tax id an invoice of the order carries (the given one, else the customer's); refuses an
    unknown invoice type and a 专票 without a valid tax id."""
    if invoice_type not in INVOICE_TYPE_LABELS:
        raise ValidationFailed(_("发票类型只能是专票（special）或普票（normal）"), field="invoice_type")
    tax_id = _buyer_tax_id(buyer_tax_id)
    if tax_id is None and order.customer.tax_id:
        try:
            tax_id = _buyer_tax_id(order.customer.tax_id)
        except ValidationFailed:
            if invoice_type == "special":  # a 专票 needs a valid one; a 普票 simply goes without
                raise
    if invoice_type == "special" and not tax_id:
        raise ValidationFailed(_("开具增值税专用发票需要购买方纳税人识别号"), field="buyer_tax_id")
    return tax_id


def uninvoiced_parts(uow: UnitOfWork, order: SalesOrder) -> list[tuple[SalesOrderLine, Decimal, LineAmounts]]:
    """What invoicing the order now would bill: per line delivered but not invoiced, the quantity and its
    amounts (the last part of a line takes what is left of the line's amounts, so parts add up to it)."""
    todo = [(ln, to_decimal(ln.qty_delivered) - to_decimal(ln.qty_invoiced)) for ln in order.lines]
    todo = [(ln, q) for ln, q in todo if q > 0]
    if not todo:
        return []
    already = _invoiced_so_far(uow, [ln.id for ln, _q in todo])
    return [(ln, q, pricing.part_of_line(q, to_decimal(ln.quantity) - to_decimal(ln.qty_invoiced), ln.unit_price,
                                         ln.tax_rate, ln.discount_pct, price_includes_tax=order.price_includes_tax,
                                         line=_line_amounts(ln), already=already.get(ln.id)))
            for ln, q in todo]


def invoice_order(uow: UnitOfWork, order_id: int, *, invoice_type: str = "normal", buyer_tax_id: str | None = None,
                  invoice_date: dt.date | None = None, apply_credit: bool = True) -> CustomerInvoice:
    """Invoice what was delivered and not yet invoiced. Posts Dr 1122 / Cr 6001 + Cr 222102;
    the customer's unused credit (2203) is applied to it at once unless `apply_credit=False`."""
    order = uow.get(SalesOrder, order_id, for_update=True)
    if order.state not in ("confirmed", "done"):
        raise Conflict(_("订单 {n} 状态为{s}，不能开票", n=order.number, s=label(ORDER_STATE_LABELS, order.state)),
                       field="state")
    customer = order.customer
    tax_id = invoice_buyer_tax_id(order, invoice_type, buyer_tax_id)
    todo = uninvoiced_parts(uow, order)
    if not todo:
        raise Conflict(_("订单 {n} 没有已发货未开票的数量", n=order.number), field="state")
    day = invoice_date or company_today(uow)
    invoice = CustomerInvoice(
        number=next_number(uow, "SALES_INV", on=day), kind="invoice", invoice_type=invoice_type,
        customer_id=customer.id, order_id=order.id, state="posted", invoice_date=day,
        due_date=day + dt.timedelta(days=customer.payment_terms_days or 0), buyer_name=customer.name,
        buyer_tax_id=tax_id, buyer_address_phone=" ".join(x for x in (
            (customer.province or "") + (customer.city or "") + (customer.district or "") + (customer.address or ""),
            customer.phone or "") if x) or None,
        buyer_bank_account=customer.bank_account, currency_code=order.currency_code,
        currency_rate=fx.document_rate(uow, order.currency_code, day))
    for ln, q, part in todo:
        invoice.lines.append(CustomerInvoiceLine(
            order_line_id=ln.id, product_id=ln.product_id, description=ln.description, quantity=q,
            unit_price=ln.unit_price, discount_pct=ln.discount_pct, tax_rate=ln.tax_rate,
            amount_untaxed=part.net, amount_tax=part.tax, amount_total=part.gross))
        ln.qty_invoiced = to_decimal(ln.qty_invoiced) + q
    _set_totals(invoice, invoice.lines)
    uow.add(invoice)
    uow.flush()
    _post_invoice(uow, invoice, credit_note=False)
    if invoice.amount_total == 0:
        invoice.state = "paid"
    elif apply_credit:
        apply_customer_credit(uow, customer.id, [invoice.id], on=day)
    uow.flush()
    _refresh_order_state(uow, order)
    uow.emit("erp.customer_invoice_posted", invoice_id=invoice.id, number=invoice.number, sales_order_id=order.id,
             customer_id=customer.id, amount_total=invoice.amount_total)
    return invoice


def _post_invoice(uow: UnitOfWork, invoice: CustomerInvoice, *, credit_note: bool, paid: Decimal = ZERO,
                  paid_company: Decimal | None = None) -> None:
    """Blue invoice: Dr 1122 gross / Cr 6001 net + Cr 222102 tax. Red (credit note): the mirror,
    except that what the customer already paid becomes their credit on 2203."""
    if invoice.amount_total == 0:
        return
    pid = invoice.customer_id
    net = tax = ZERO
    for ln in invoice.lines:
        net, tax = net + to_decimal(ln.amount_untaxed), tax + to_decimal(ln.amount_tax)
    gross = to_decimal(invoice.amount_total)
    cur: dict = {}
    if fx.is_foreign(uow, invoice.currency_code):  # the ledger in company currency at the invoice's rate
        rate = to_decimal(invoice.currency_rate or 1)
        gross_currency, paid_currency = gross, paid
        gross, tax = fx.to_company(gross, rate), fx.to_company(tax, rate)
        net = gross - tax
        paid = to_decimal(paid_company) if paid_company is not None else fx.to_company(paid, rate)
        cur = {"currency_code": invoice.currency_code.upper(), "gross": gross_currency, "paid": paid_currency}

    def currency(amount) -> dict:
        return {"currency_code": cur["currency_code"], "amount_currency": amount} if cur else {}

    if not credit_note:
        lines = [EntryLine("receivable", debit=gross, partner_id=pid, memo=invoice.number,
                           **currency(cur.get("gross"))),
                 EntryLine("revenue", credit=net, partner_id=pid, memo=invoice.number),
                 EntryLine("vat_output", credit=tax, partner_id=pid, memo=invoice.number)]
        memo = _("销售发票 {n} {customer}", n=invoice.number, customer=invoice.buyer_name)
    else:
        lines = [EntryLine("revenue", debit=net, partner_id=pid, memo=invoice.number),
                 EntryLine("vat_output", debit=tax, partner_id=pid, memo=invoice.number),
                 EntryLine("receivable", credit=gross - paid, partner_id=pid, memo=invoice.number,
                           **currency(-(cur["gross"] - cur["paid"]) if cur else None)),
                 EntryLine("customer_advance", credit=paid, partner_id=pid, memo=invoice.number,
                           **currency(-cur["paid"] if cur else None))]
        memo = _("红字发票 {n} {customer}", n=invoice.number, customer=invoice.buyer_name)
    gl.post_entry(uow, journal="SAL", date=invoice.invoice_date, lines=lines, memo=memo, reference=invoice.number,
                  ref_type=INVOICE_REF, ref_id=invoice.id)


def cancel_invoice(uow: UnitOfWork, invoice_id: int, reason: str | None = None,
                   credit_date: dt.date | None = None) -> CustomerInvoice:
    """Cancel an invoice with a credit note (红字发票) that reverses its entry; never by deleting.
    Whatever was already paid on it becomes the customer's credit. Returns the credit note."""
    invoice = uow.get(CustomerInvoice, invoice_id, for_update=True)
    if invoice.kind != "invoice":
        raise Conflict(_("红字发票不能再红冲：{n}", n=invoice.number), field="kind")
    if invoice.state == "cancelled":
        raise Conflict(_("发票 {n} 已红冲", n=invoice.number), field="state")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写红冲原因"), field="reason")
    day = credit_date or company_today(uow)
    if day < invoice.invoice_date:
        day = invoice.invoice_date
    paid = to_decimal(invoice.amount_paid)
    note = CustomerInvoice(
        number=next_number(uow, "SALES_INV", on=day), kind="credit_note", invoice_type=invoice.invoice_type,
        customer_id=invoice.customer_id, order_id=invoice.order_id, state="posted", invoice_date=day, due_date=day,
        buyer_name=invoice.buyer_name, buyer_tax_id=invoice.buyer_tax_id,
        buyer_address_phone=invoice.buyer_address_phone, buyer_bank_account=invoice.buyer_bank_account,
        currency_code=invoice.currency_code, currency_rate=invoice.currency_rate, reversed_invoice_id=invoice.id,
        reason=reason[:300],
        amount_untaxed=invoice.amount_untaxed, amount_tax=invoice.amount_tax, amount_total=invoice.amount_total)
    note.lines = [CustomerInvoiceLine(order_line_id=ln.order_line_id, product_id=ln.product_id,
                                      description=ln.description, quantity=ln.quantity, unit_price=ln.unit_price,
                                      discount_pct=ln.discount_pct, tax_rate=ln.tax_rate,
                                      amount_untaxed=ln.amount_untaxed, amount_tax=ln.amount_tax,
                                      amount_total=ln.amount_total) for ln in invoice.lines]
    uow.add(note)
    uow.flush()
    _post_invoice(uow, note, credit_note=True, paid=paid, paid_company=invoice.paid_company)
    invoice.state = "cancelled"
    invoice.credit_note_id = note.id
    invoice.reason = reason[:300]
    if invoice.order_id:
        order = uow.get(SalesOrder, invoice.order_id, for_update=True)
        by_line = {ln.id: ln for ln in order.lines}
        for ln in invoice.lines:
            ol = by_line.get(ln.order_line_id)
            if ol is not None:
                ol.qty_invoiced = max(to_decimal(ol.qty_invoiced) - to_decimal(ln.quantity), ZERO)
        uow.flush()
        _refresh_order_state(uow, order)
    uow.flush()
    uow.emit("erp.customer_invoice_cancelled", invoice_id=invoice.id, number=invoice.number,
             credit_note_id=note.id, credit_note_number=note.number)
    return note


# ------------------------------------------------------------------ receipts and credit
def _open_invoices(uow: UnitOfWork, customer_id: int, ids: list[int] | None = None, *,
                   lock: bool = True, currency: str | None = None) -> list[CustomerInvoice]:
    stmt = (select(CustomerInvoice).where(CustomerInvoice.company_id == uow.company_id,
                                          CustomerInvoice.customer_id == customer_id,
                                          CustomerInvoice.kind == "invoice", CustomerInvoice.state == "posted")
            .order_by(CustomerInvoice.due_date, CustomerInvoice.id))
    if ids is not None:
        stmt = stmt.where(CustomerInvoice.id.in_(ids))
    if currency is not None:
        stmt = stmt.where(CustomerInvoice.currency_code == currency)
    if lock:
        stmt = stmt.with_for_update(of=CustomerInvoice)
    return list(uow.session.scalars(stmt))


def _clears(invoice: CustomerInvoice, amount: Decimal) -> Decimal:
    """Company-currency receivable that settling `amount` of the invoice clears (its own rate)."""
    if invoice.currency_rate in (None, 1):
        return amount
    return fx.settle_company(invoice.amount_total, invoice.currency_rate, invoice.amount_paid,
                             invoice.paid_company, amount)


def _settle(invoice: CustomerInvoice, amount: Decimal, company: Decimal | None = None) -> None:
    invoice.amount_paid = to_decimal(invoice.amount_paid) + amount
    invoice.paid_company = to_decimal(invoice.paid_company or 0) + (amount if company is None else company)
    if invoice.amount_paid >= to_decimal(invoice.amount_total):
        invoice.state = "paid"


def _unsettle(invoice: CustomerInvoice, amount: Decimal, company: Decimal | None = None) -> None:
    invoice.amount_paid = to_decimal(invoice.amount_paid) - amount
    invoice.paid_company = to_decimal(invoice.paid_company or 0) - (amount if company is None else company)
    if invoice.state == "paid" and invoice.amount_paid < to_decimal(invoice.amount_total):
        invoice.state = "posted"


def open_amount(invoice: CustomerInvoice) -> Decimal:
    """What is still open on an invoice, in the invoice's currency."""
    if invoice.kind != "invoice" or invoice.state == "cancelled":
        return ZERO
    return cents(to_decimal(invoice.amount_total) - to_decimal(invoice.amount_paid))


def open_amount_company(invoice: CustomerInvoice) -> Decimal:
    """What is still open on an invoice in company currency — what it leaves on 1122."""
    if invoice.currency_rate in (None, 1):
        return open_amount(invoice)
    if open_amount(invoice) <= 0:
        return ZERO
    return fx.open_company(invoice.amount_total, invoice.currency_rate, invoice.amount_paid, invoice.paid_company)


def register_receipt(uow: UnitOfWork, customer_id: int | str, amount, allocations=None, *,
                     receipt_date: dt.date | None = None, account: str = "bank", method: str | None = None,
                     reference: str | None = None, notes: str | None = None,
                     currency_code: str | None = None) -> CustomerReceipt:
    """Money received from a customer. `allocations`: [(invoice_id, amount), …] (or dicts with
    invoice_id/amount); None settles the oldest open invoices first. Posts Dr bank/cash / Cr 1122
    for what settles invoices and Cr 2203 预收账款 for the rest (the customer's credit).

    The receipt is in the customer's currency (or `currency_code`) and settles invoices of that
    currency only. In a foreign currency it is booked at the receipt-date rate: 1122 is cleared at
    each invoice's own rate, and the difference is the realised exchange difference on 660301."""
    customer = _customer(uow, customer_id)
    _lock_customer(uow, customer.id)
    currency = (currency_code or customer.currency_code or company_currency(uow)).strip().upper()
    amount = _dec(amount, "amount")
    if amount <= 0:
        raise ValidationFailed(_("收款金额必须大于 0"), field="amount")
    if amount != cents(amount):
        raise ValidationFailed(_("金额最多两位小数"), field="amount")
    if account not in RECEIPT_ACCOUNTS:
        raise ValidationFailed(_("收款账户只能是：{v}", v="bank / cash / platform_cash"), field="account")
    day = receipt_date or company_today(uow)
    rate = fx.document_rate(uow, currency, day)
    pairs: list[tuple[CustomerInvoice, Decimal]] = []
    if allocations is None:
        left = amount
        for invoice in _open_invoices(uow, customer.id, currency=currency):
            if left <= 0:
                break
            take = min(left, open_amount(invoice))
            if take > 0:
                pairs.append((invoice, take))
                left -= take
    else:
        wanted: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for i, a in enumerate(allocations):
            inv_id, amt = (a["invoice_id"], a["amount"]) if isinstance(a, dict) else (
                (a.invoice_id, a.amount) if hasattr(a, "invoice_id") else a)
            try:
                amt = _dec(amt, "amount")
                if amt <= 0 or amt != cents(amt):
                    raise ValidationFailed(_("核销金额必须大于 0 且最多两位小数"), field="amount")
            except ValidationFailed as exc:
                raise _at_line(exc, i, len(allocations)) from None
            wanted[int(inv_id)] += amt
        found = {x.id: x for x in _open_invoices(uow, customer.id, list(wanted))}
        for inv_id, amt in wanted.items():
            invoice = found.get(inv_id)
            if invoice is None:
                other = uow.session.get(CustomerInvoice, inv_id)
                if other is None or other.company_id != uow.company_id:
                    raise NotFound(_("发票不存在：#{id}", id=inv_id), field="allocations")
                if other.customer_id != customer.id:
                    raise ValidationFailed(_("发票 {n} 不是该客户的", n=other.number), field="allocations")
                raise Conflict(_("发票 {n} 状态为{s}，不能核销", n=other.number,
                                 s=label(INVOICE_STATE_LABELS, other.state)), field="allocations")
            if (invoice.currency_code or "CNY").upper() != currency:
                raise ValidationFailed(_("发票 {n} 的币种为 {a}，收款币种为 {b}，不能核销", n=invoice.number,
                                         a=invoice.currency_code, b=currency), field="allocations")
            if amt > open_amount(invoice):
                raise ValidationFailed(_("发票 {n} 未收金额 {open}，核销 {a} 超出", n=invoice.number,
                                         open=open_amount(invoice), a=amt), field="allocations")
            pairs.append((invoice, amt))
        if sum((a for _i, a in pairs), ZERO) > amount:
            raise ValidationFailed(_("核销合计超过收款金额 {a}", a=amount), field="allocations")
    allocated = sum((a for _i, a in pairs), ZERO)
    foreign = fx.is_foreign(uow, currency)
    cleared = [_clears(invoice, amt) if foreign else amt for invoice, amt in pairs]
    if foreign:  # company currency: the bank at today's rate, 1122 at the invoices' rates
        bank = fx.to_company(amount, rate)
        settled = fx.to_company(allocated, rate)
        ar_cleared = sum(cleared, ZERO)
        difference = ar_cleared - settled  # + a loss (less came in than 1122 held), − a gain
    else:
        bank, settled, ar_cleared, difference = amount, allocated, allocated, ZERO
    receipt = CustomerReceipt(number=next_number(uow, "SALES_RC", on=day), customer_id=customer.id, state="posted",
                              receipt_date=day, amount=amount, amount_allocated=allocated, account=account,
                              method=(method or "").strip()[:40] or None,
                              reference=(reference or "").strip()[:80] or None,
                              notes=(notes or "").strip()[:300] or None, currency_code=currency,
                              currency_rate=rate, fx_difference=difference)
    uow.add(receipt)
    uow.flush()

    def cur(value) -> dict:
        return fx.currency_fields(uow, currency, value)

    entry = gl.post_entry(
        uow, journal="CSH" if account == "cash" else "BNK", date=day, reference=receipt.number,
        ref_type=RECEIPT_REF, ref_id=receipt.id,
        memo=_("收款 {n} {customer}", n=receipt.number, customer=customer.name),
        lines=[EntryLine(account, debit=bank, memo=receipt.reference or ""),
               EntryLine("receivable", credit=ar_cleared, partner_id=customer.id,
                         memo=", ".join(i.number for i, _a in pairs)[:500], **cur(-allocated)),
               EntryLine("customer_advance", credit=bank - settled, partner_id=customer.id, memo=_("预收/多收款"),
                         **cur(-(amount - allocated))),
               fx.fx_line(difference, _("汇兑损益 {n}", n=receipt.number))])
    for (invoice, amt), company in zip(pairs, cleared, strict=True):
        uow.add(ReceiptAllocation(receipt_id=receipt.id, invoice_id=invoice.id, customer_id=customer.id, amount=amt,
                                  amount_company=company, allocation_date=day, source="receipt",
                                  journal_entry_id=entry.id))
        _settle(invoice, amt, company)
    uow.flush()
    uow.emit("erp.customer_receipt_registered", receipt_id=receipt.id, number=receipt.number,
             customer_id=customer.id, amount=amount, allocated=allocated)
    return receipt


def reverse_receipt(uow: UnitOfWork, receipt_id: int, reason: str) -> CustomerReceipt:
    """Undo a receipt registered in error (wrong customer, bounced transfer): a reversing voucher
    dated as the receipt (the original is never edited); the invoices it settled are open again
    (document and company currency) and its surplus leaves the customer's credit. Refused when the
    receipt's accounting period is closed, when an invoice it settled was credited (红冲) since, or
    when its surplus credit was already used on other invoices. The receipt keeps its number,
    marked cancelled with the reason; the audit trail records who did it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写冲销原因"), field="reason")
    receipt = uow.get(CustomerReceipt, receipt_id, for_update=True)
    if receipt.state != "posted":
        raise Conflict(_("收款单 {n} 已冲销", n=receipt.number), field="state")
    if gl.period_state(uow, receipt.receipt_date) == "closed":
        raise Conflict(_("收款单 {n} 所在会计期间 {y}-{m:02d} 已结账，不能冲销", n=receipt.number,
                         y=receipt.receipt_date.year, m=receipt.receipt_date.month), field="receipt_date")
    _lock_customer(uow, receipt.customer_id)
    allocations = list(uow.session.scalars(select(ReceiptAllocation).where(
        ReceiptAllocation.company_id == uow.company_id, ReceiptAllocation.receipt_id == receipt.id)
        .order_by(ReceiptAllocation.id)))
    invoices = {i.id: i for i in uow.session.scalars(
        select(CustomerInvoice).where(CustomerInvoice.company_id == uow.company_id,
                                      CustomerInvoice.id.in_({a.invoice_id for a in allocations}))
        .with_for_update(of=CustomerInvoice))} if allocations else {}
    for invoice in invoices.values():
        if invoice.state == "cancelled":
            raise Conflict(_("收款单 {n} 核销的发票 {inv} 已红冲，不能冲销收款", n=receipt.number, inv=invoice.number),
                           field="state")
    surplus = to_decimal(receipt.amount) - to_decimal(receipt.amount_allocated)
    if surplus > 0:
        if fx.is_foreign(uow, receipt.currency_code):
            credit, _company = customer_credit_in(uow, receipt.customer_id, receipt.currency_code)
        else:
            credit = customer_credit(uow, receipt.customer_id)
        if credit < surplus:
            raise Conflict(_("收款单 {n} 的多收款 {s} 已用于冲抵其他发票（剩余预收 {c}），不能冲销", n=receipt.number,
                             s=surplus, c=credit), field="state")
    for a in allocations:
        _unsettle(invoices[a.invoice_id], to_decimal(a.amount),
                  to_decimal(a.amount_company) if a.amount_company is not None else None)
    memo = _("冲销收款 {n}：{reason}", n=receipt.number, reason=reason)[:300]
    for entry in gl.entries_for(uow, RECEIPT_REF, receipt.id):
        if not entry.reversed and entry.reversal_of_id is None:
            gl.reverse_entry(uow, entry.id, date=entry.date, memo=memo)
    receipt.state = "cancelled"
    receipt.reversal_reason = reason[:300]
    uow.flush()
    record(uow.session, "reverse", "customer_receipt", receipt.id,
           after={"reason": reason[:300], "number": receipt.number})
    uow.emit("erp.customer_receipt_reversed", receipt_id=receipt.id, number=receipt.number,
             customer_id=receipt.customer_id, amount=receipt.amount, reason=reason[:300])
    return receipt


def apply_customer_credit(uow: UnitOfWork, customer_id: int, invoice_ids: list[int] | None = None, *,
                          on: dt.date | None = None) -> Decimal:
    """Use the customer's credit (2203) against open invoices, oldest first: Dr 2203 / Cr 1122.
    Returns the amount applied."""
    customer = _customer(uow, customer_id)
    _lock_customer(uow, customer.id)
    day = on or company_today(uow)
    invoices = _open_invoices(uow, customer.id, invoice_ids)
    foreign = defaultdict(list)
    for invoice in invoices:
        if fx.is_foreign(uow, invoice.currency_code):
            foreign[invoice.currency_code.upper()].append(invoice)
    if foreign:  # credit held in a foreign currency settles invoices of that currency
        applied = sum((_apply_foreign_credit(uow, customer, cur, group, day) for cur, group in foreign.items()),
                      ZERO)
        rest = [i.id for i in invoices if not fx.is_foreign(uow, i.currency_code)]
        return applied + (apply_customer_credit(uow, customer.id, rest, on=day) if rest else ZERO)
    credit = customer_credit(uow, customer.id)
    if credit <= 0:
        return ZERO
    pairs = []
    for invoice in invoices:
        if credit <= 0:
            break
        take = min(credit, open_amount(invoice))
        if take > 0:
            pairs.append((invoice, take))
            credit -= take
    applied = sum((a for _i, a in pairs), ZERO)
    if applied <= 0:
        return ZERO
    numbers = ", ".join(i.number for i, _a in pairs)
    entry = gl.post_entry(uow, journal="SAL", date=day, reference=pairs[0][0].number, ref_type=CREDIT_REF,
                          ref_id=customer.id, memo=_("预收款冲抵应收 {numbers}", numbers=numbers)[:300],
                          lines=[EntryLine("customer_advance", debit=applied, partner_id=customer.id),
                                 EntryLine("receivable", credit=applied, partner_id=customer.id, memo=numbers[:500])])
    for invoice, amt in pairs:
        uow.add(ReceiptAllocation(receipt_id=None, invoice_id=invoice.id, customer_id=customer.id, amount=amt,
                                  allocation_date=day, source="credit", journal_entry_id=entry.id))
        _settle(invoice, amt)
    uow.flush()
    return applied


def customer_credit_in(uow: UnitOfWork, customer_id: int, currency: str) -> tuple[Decimal, Decimal]:
    """The customer's unused credit held in a foreign currency: (foreign amount, company-currency value)."""
    company, foreign = gl.partner_currency_balance(uow, "customer_advance", customer_id, currency.upper())
    return -foreign, -company


def _apply_foreign_credit(uow: UnitOfWork, customer: md.Partner, currency: str, invoices: list[CustomerInvoice],
                          day: dt.date) -> Decimal:
    """Dr 2203 (the credit's booked value) / Cr 1122 (the invoices' rates) ± 660301; returns the
    company-currency credit used."""
    credit, credit_company = customer_credit_in(uow, customer.id, currency)
    if credit <= 0:
        return ZERO
    left, pairs = credit, []
    for invoice in invoices:
        if left <= 0:
            break
        take = min(left, open_amount(invoice))
        if take > 0:
            pairs.append((invoice, take, _clears(invoice, take)))
            left -= take
    applied = sum((a for _i, a, _c in pairs), ZERO)
    if applied <= 0:
        return ZERO
    used = credit_company if applied >= credit else gl.money(credit_company * applied / credit)
    cleared = sum((c for _i, _a, c in pairs), ZERO)
    numbers = ", ".join(i.number for i, _a, _c in pairs)
    entry = gl.post_entry(uow, journal="SAL", date=day, reference=pairs[0][0].number, ref_type=CREDIT_REF,
                          ref_id=customer.id, memo=_("预收款冲抵应收 {numbers}", numbers=numbers)[:300],
                          lines=[EntryLine("customer_advance", debit=used, partner_id=customer.id,
                                           currency_code=currency, amount_currency=applied),
                                 EntryLine("receivable", credit=cleared, partner_id=customer.id, memo=numbers[:500],
                                           currency_code=currency, amount_currency=-applied),
                                 fx.fx_line(cleared - used, _("汇兑损益 {n}", n=numbers[:200]))])
    for invoice, amt, company in pairs:
        uow.add(ReceiptAllocation(receipt_id=None, invoice_id=invoice.id, customer_id=customer.id, amount=amt,
                                  amount_company=company, allocation_date=day, source="credit",
                                  journal_entry_id=entry.id))
        _settle(invoice, amt, company)
    uow.flush()
    return used


# ------------------------------------------------------------------ aging and collections
def _days_overdue(invoice: CustomerInvoice, as_of: dt.date) -> int:
    return max((as_of - invoice.due_date).days, 0)


def _bucket(days: int, due: dt.date, as_of: dt.date) -> str:
    if due >= as_of or days <= 0:
        return "not_due"
    if days <= 30:
        return "d1_30"
    if days <= 60:
        return "d31_60"
    if days <= 90:
        return "d61_90"
    return "d90_plus"


def ar_aging(uow: UnitOfWork, *, as_of: dt.date | None = None, customer_id: int | None = None) -> dict:
    """Open invoice amounts per customer by how long they are overdue (by due date), with each
    customer's unused credit. Totals match the 1122 balance when every receivable came from an invoice."""
    as_of = as_of or company_today(uow)
    stmt = (select(CustomerInvoice).where(CustomerInvoice.company_id == uow.company_id,
                                          CustomerInvoice.kind == "invoice", CustomerInvoice.state == "posted",
                                          CustomerInvoice.invoice_date <= as_of)
            .order_by(CustomerInvoice.customer_id, CustomerInvoice.due_date))
    if customer_id:
        stmt = stmt.where(CustomerInvoice.customer_id == customer_id)
    rows: dict[int, dict] = {}
    home = company_currency(uow)
    for invoice in uow.session.scalars(stmt):
        if open_amount(invoice) <= 0:
            continue
        amount = open_amount_company(invoice)  # company currency, as on 1122; the foreign amount beside it
        row = rows.setdefault(invoice.customer_id, {
            "customer_id": invoice.customer_id, "customer_code": invoice.customer.code,
            "customer_name": invoice.customer.name, "invoices": 0, "max_days_overdue": 0,
            **{k: ZERO for k, _l in AGING_BUCKETS}, "total": ZERO})
        days = _days_overdue(invoice, as_of)
        row[_bucket(days, invoice.due_date, as_of)] += amount
        row["total"] += amount
        row["invoices"] += 1
        row["max_days_overdue"] = max(row["max_days_overdue"], days)
        if (invoice.currency_code or home).upper() != home:
            foreign = row.setdefault("currencies", {})
            foreign[invoice.currency_code] = foreign.get(invoice.currency_code, ZERO) + open_amount(invoice)
    credits = {pid: -bal for pid, bal in gl.partner_balances(uow, "customer_advance").items() if bal < 0}
    for pid in credits:
        if customer_id and pid != customer_id:
            continue
        if pid not in rows:
            p = uow.session.get(md.Partner, pid)
            rows[pid] = {"customer_id": pid, "customer_code": p.code, "customer_name": p.name, "invoices": 0,
                         "max_days_overdue": 0, **{k: ZERO for k, _l in AGING_BUCKETS}, "total": ZERO}
    items = sorted(rows.values(), key=lambda r: (-r["total"], r["customer_code"]))
    for r in items:
        r["credit"] = credits.get(r["customer_id"], ZERO)
        r["net"] = r["total"] - r["credit"]
    totals = {k: sum((r[k] for r in items), ZERO) for k in [b for b, _l in AGING_BUCKETS] + ["total", "credit", "net"]}
    return {"as_of": as_of, "items": items, "totals": totals,
            "buckets": [{"key": k, "label": str(lbl)} for k, lbl in AGING_BUCKETS]}


def delivery_punctuality(uow: UnitOfWork, date_from: dt.date, date_to: dt.date) -> dict:
    """On-time delivery over the deliveries shipped in [date_from, date_to] (days where the company is): on time
    when shipped no later than its scheduled date (the order's requested date, else its order date). Deliveries
    without a scheduled date are not counted. Returns {"shipped", "on_time", "rate" (percent, None if none)}."""
    tz = _company_tz(uow)
    start = dt.datetime.combine(date_from, dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    shipped = on_time = 0
    for done, due in uow.session.execute(select(SalesDelivery.date_done, SalesDelivery.scheduled_date).where(
            SalesDelivery.company_id == uow.company_id, SalesDelivery.state == "done",
            SalesDelivery.scheduled_date.is_not(None), SalesDelivery.date_done >= start,
            SalesDelivery.date_done < end)):
        done = done if done.tzinfo else done.replace(tzinfo=dt.UTC)
        shipped += 1
        on_time += done.astimezone(tz).date() <= due
    rate = (Decimal(on_time * 100) / shipped).quantize(Decimal("0.1")) if shipped else None
    return {"shipped": shipped, "on_time": on_time, "rate": rate}


def receipts_total(uow: UnitOfWork, date_from: dt.date, date_to: dt.date) -> Decimal:
    """Money received from customers (回款) in [date_from, date_to], in the company's currency; cancelled
    receipts do not count."""
    r = CustomerReceipt
    total = uow.session.scalar(select(func.coalesce(func.sum(r.amount * r.currency_rate), 0)).where(
        r.company_id == uow.company_id, r.state == "posted", r.receipt_date >= date_from, r.receipt_date <= date_to))
    return cents(to_decimal(total))


def collections(uow: UnitOfWork, customer_id: int, *, as_of: dt.date | None = None) -> dict:
    """A customer's overdue invoices with days overdue, and the reminders already recorded."""
    customer = _customer(uow, customer_id)
    as_of = as_of or company_today(uow)
    overdue = []
    for invoice in _open_invoices(uow, customer.id, lock=False):
        if invoice.due_date >= as_of:
            continue
        overdue.append({"invoice_id": invoice.id, "number": invoice.number, "invoice_date": invoice.invoice_date,
                        "due_date": invoice.due_date, "days_overdue": _days_overdue(invoice, as_of),
                        "amount_total": to_decimal(invoice.amount_total), "open_amount": open_amount_company(invoice),
                        "order_id": invoice.order_id, "currency_code": invoice.currency_code,
                        "currency_rate": to_decimal(invoice.currency_rate or 1),
                        "open_amount_currency": open_amount(invoice)})
    overdue.sort(key=lambda r: -r["days_overdue"])
    reminders = list(uow.session.scalars(select(CollectionReminder).where(
        CollectionReminder.company_id == uow.company_id, CollectionReminder.customer_id == customer.id)
        .order_by(CollectionReminder.reminder_date.desc(), CollectionReminder.id.desc()).limit(100)))
    return {"customer_id": customer.id, "customer_code": customer.code, "customer_name": customer.name,
            "contact_name": customer.contact_name, "phone": customer.phone, "as_of": as_of, "overdue": overdue,
            "total_overdue": sum((r["open_amount"] for r in overdue), ZERO),
            "open_receivable": open_receivable(uow, customer.id), "credit": customer_credit(uow, customer.id),
            "reminders": reminders}


def overdue_customers(uow: UnitOfWork, *, as_of: dt.date | None = None) -> list[dict]:
    """Every customer with overdue invoices: amount, count, oldest days overdue, last reminder."""
    as_of = as_of or company_today(uow)
    rows: dict[int, dict] = {}
    for invoice in uow.session.scalars(select(CustomerInvoice).where(
            CustomerInvoice.company_id == uow.company_id, CustomerInvoice.kind == "invoice",
            CustomerInvoice.state == "posted", CustomerInvoice.due_date < as_of)):
        amount = open_amount_company(invoice)
        if open_amount(invoice) <= 0:
            continue
        r = rows.setdefault(invoice.customer_id, {"customer_id": invoice.customer_id,
                                                  "customer_code": invoice.customer.code,
                                                  "customer_name": invoice.customer.name, "invoices": 0,
                                                  "overdue_amount": ZERO, "max_days_overdue": 0,
                                                  "last_reminder": None})
        r["invoices"] += 1
        r["overdue_amount"] += amount
        r["max_days_overdue"] = max(r["max_days_overdue"], _days_overdue(invoice, as_of))
    if rows:
        last = uow.session.execute(select(CollectionReminder.customer_id, func.max(CollectionReminder.reminder_date))
                                   .where(CollectionReminder.company_id == uow.company_id,
                                          CollectionReminder.customer_id.in_(rows))
                                   .group_by(CollectionReminder.customer_id)).all()
        for pid, day in last:
            rows[pid]["last_reminder"] = day
    return sorted(rows.values(), key=lambda r: (-r["max_days_overdue"], -r["overdue_amount"]))


def record_reminder(uow: UnitOfWork, customer_id: int, *, note: str = "", channel: str = "phone",
                    promised_date: dt.date | None = None, invoice_ids: list[int] | None = None,
                    reminder_date: dt.date | None = None) -> CollectionReminder:
    """Record that the customer was reminded of overdue invoices (all of them unless named)."""
    customer = _customer(uow, customer_id)
    if channel not in REMINDER_CHANNELS:
        raise ValidationFailed(_("催款方式只能是：{v}", v=" / ".join(REMINDER_CHANNELS)), field="channel")
    day = reminder_date or company_today(uow)
    overdue = [r for r in collections(uow, customer.id, as_of=day)["overdue"]]
    if invoice_ids:
        wanted = {int(i) for i in invoice_ids}
        unknown = wanted - {r["invoice_id"] for r in overdue}
        if unknown:
            raise ValidationFailed(_("发票 #{id} 不是该客户的逾期发票", id=min(unknown)), field="invoice_ids")
        overdue = [r for r in overdue if r["invoice_id"] in wanted]
    if not overdue:
        raise Conflict(_("客户 {name} 没有逾期发票", name=customer.name), field="customer_id")
    if promised_date is not None and promised_date < day:
        raise ValidationFailed(_("承诺付款日不能早于催款日期"), field="promised_date")
    reminder = CollectionReminder(customer_id=customer.id, reminder_date=day, channel=channel,
                                  note=(note or "").strip()[:500], promised_date=promised_date,
                                  invoice_ids=",".join(str(r["invoice_id"]) for r in overdue)[:500],
                                  overdue_amount=sum((r["open_amount"] for r in overdue), ZERO))
    uow.add(reminder)
    uow.flush()
    return reminder


# ------------------------------------------------------------------ listings
@dataclass
class ListQuery:
    q: str | None = None
    customer: int | str | None = None
    state: str | None = None
    channel: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int = 50
    offset: int = 0


def _customer_filter(uow: UnitOfWork, column, ref: int | str):
    text = str(ref).strip()
    if text.isdigit():
        return column == int(text)
    ids = select(md.Partner.id).where(md.Partner.company_id == uow.company_id,
                                      or_(md.Partner.code == text, md.Partner.name.ilike(f"%{text}%")))
    return column.in_(ids)


def _page(uow: UnitOfWork, stmt: Select, model, lq: ListQuery, *, number, date_col, text_cols=()) -> tuple[list, int]:
    stmt = stmt.where(model.company_id == uow.company_id)
    if lq.q and lq.q.strip():
        like = f"%{lq.q.strip()}%"
        partner_ids = select(md.Partner.id).where(md.Partner.company_id == uow.company_id,
                                                  or_(md.Partner.name.ilike(like), md.Partner.code.ilike(like)))
        stmt = stmt.where(or_(number.ilike(like), model.customer_id.in_(partner_ids),
                              *[c.ilike(like) for c in text_cols]))
    if lq.customer not in (None, ""):
        stmt = stmt.where(_customer_filter(uow, model.customer_id, lq.customer))
    if lq.state:
        stmt = stmt.where(model.state == lq.state)
    if lq.channel and hasattr(model, "channel"):
        stmt = stmt.where(model.channel == lq.channel)
    if lq.date_from:
        stmt = stmt.where(date_col >= lq.date_from)
    if lq.date_to:
        stmt = stmt.where(date_col <= lq.date_to)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(date_col.desc(), model.id.desc()).limit(lq.limit)
                                    .offset(lq.offset)))
    return rows, total


def list_quotes(uow: UnitOfWork, lq: ListQuery) -> tuple[list[SalesQuote], int]:
    return _page(uow, select(SalesQuote), SalesQuote, lq, number=SalesQuote.number, date_col=SalesQuote.quote_date,
                 text_cols=(SalesQuote.source_ref,))


def list_orders(uow: UnitOfWork, lq: ListQuery) -> tuple[list[SalesOrder], int]:
    return _page(uow, select(SalesOrder), SalesOrder, lq, number=SalesOrder.number, date_col=SalesOrder.order_date,
                 text_cols=(SalesOrder.source_ref,))


def list_deliveries(uow: UnitOfWork, lq: ListQuery) -> tuple[list[SalesDelivery], int]:
    stmt = select(SalesDelivery)
    if lq.channel:
        stmt = stmt.join(SalesOrder, SalesOrder.id == SalesDelivery.order_id).where(SalesOrder.channel == lq.channel)
    return _page(uow, stmt, SalesDelivery, lq, number=SalesDelivery.number, date_col=SalesDelivery.scheduled_date)


def list_invoices(uow: UnitOfWork, lq: ListQuery, *, kind: str | None = None,
                  overdue: bool = False) -> tuple[list[CustomerInvoice], int]:
    stmt = select(CustomerInvoice)
    if kind:
        stmt = stmt.where(CustomerInvoice.kind == kind)
    if overdue:
        stmt = stmt.where(CustomerInvoice.state == "posted", CustomerInvoice.kind == "invoice",
                          CustomerInvoice.due_date < company_today(uow))
    if lq.channel:
        stmt = stmt.join(SalesOrder, SalesOrder.id == CustomerInvoice.order_id).where(SalesOrder.channel == lq.channel)
    return _page(uow, stmt, CustomerInvoice, lq, number=CustomerInvoice.number, date_col=CustomerInvoice.invoice_date,
                 text_cols=(CustomerInvoice.buyer_tax_id,))


def list_receipts(uow: UnitOfWork, lq: ListQuery) -> tuple[list[CustomerReceipt], int]:
    return _page(uow, select(CustomerReceipt), CustomerReceipt, lq, number=CustomerReceipt.number,
                 date_col=CustomerReceipt.receipt_date, text_cols=(CustomerReceipt.reference,))


def deliveries_of(uow: UnitOfWork, order_id: int) -> list[SalesDelivery]:
    return list(uow.session.scalars(select(SalesDelivery).where(
        SalesDelivery.company_id == uow.company_id, SalesDelivery.order_id == order_id).order_by(SalesDelivery.id)))


def invoices_of(uow: UnitOfWork, order_id: int) -> list[CustomerInvoice]:
    return list(uow.session.scalars(select(CustomerInvoice).where(
        CustomerInvoice.company_id == uow.company_id, CustomerInvoice.order_id == order_id)
        .order_by(CustomerInvoice.id)))


def order_summaries(uow: UnitOfWork, order_ids: Iterable[int]) -> list[dict]:
    """Number, state, delivery and invoice progress, total and invoices of sales orders — what another module's
    page shows of the ERP orders behind its documents (the OMS order page). In id order; ids of other companies
    are left out. `to_invoice`: something was delivered and is not invoiced yet."""
    ids = {int(i) for i in order_ids if i}
    if not ids:
        return []
    orders = list(uow.session.scalars(select(SalesOrder).where(SalesOrder.company_id == uow.company_id,
                                                               SalesOrder.id.in_(ids)).order_by(SalesOrder.id)))
    invoices: dict[int, list[dict]] = defaultdict(list)
    if orders:
        for i in uow.session.scalars(select(CustomerInvoice).where(
                CustomerInvoice.company_id == uow.company_id, CustomerInvoice.kind == "invoice",
                CustomerInvoice.order_id.in_([o.id for o in orders])).order_by(CustomerInvoice.id)):
            invoices[i.order_id].append({"id": i.id, "number": i.number, "state": i.state,
                                         "state_label": label(INVOICE_STATE_LABELS, i.state),
                                         "amount_total": to_decimal(i.amount_total)})
    out = []
    for o in orders:
        delivery, invoiced = delivery_status(o), invoice_status(o)
        out.append({"id": o.id, "number": o.number, "state": o.state, "state_label": label(ORDER_STATE_LABELS, o.state),
                    "delivery_status": delivery, "delivery_label": label(PROGRESS_LABELS, delivery),
                    "invoice_status": invoiced, "invoice_label": label(PROGRESS_LABELS, invoiced),
                    "amount_total": to_decimal(o.amount_total), "currency_code": o.currency_code,
                    "to_invoice": o.state in ("confirmed", "done") and any(
                        to_decimal(ln.qty_delivered) > to_decimal(ln.qty_invoiced) for ln in o.lines),
                    "invoices": invoices.get(o.id, [])})
    return out


def allocations_of(uow: UnitOfWork, *, invoice_id: int | None = None, receipt_id: int | None = None) -> list[dict]:
    a = ReceiptAllocation
    stmt = (select(a, CustomerInvoice.number.label("invoice_number"), CustomerReceipt.number.label("receipt_number"),
                   CustomerReceipt.state.label("receipt_state"))
            .join(CustomerInvoice, CustomerInvoice.id == a.invoice_id)
            .outerjoin(CustomerReceipt, CustomerReceipt.id == a.receipt_id)
            .where(a.company_id == uow.company_id).order_by(a.id))
    if invoice_id:
        stmt = stmt.where(a.invoice_id == invoice_id)
    if receipt_id:
        stmt = stmt.where(a.receipt_id == receipt_id)
    return [{"id": al.id, "invoice_id": al.invoice_id, "invoice_number": inv_no, "receipt_id": al.receipt_id,
             "receipt_number": rc_no, "amount": to_decimal(al.amount), "date": al.allocation_date,
             "source": al.source, "amount_company": to_decimal(al.amount_company if al.amount_company is not None
                                                                 else al.amount),
             "reversed": rc_state == "cancelled"} for al, inv_no, rc_no, rc_state in uow.session.execute(stmt)]


def reserved_quantities(uow: UnitOfWork, order: SalesOrder) -> dict[int, Decimal]:
    return {lid: sum((r["quantity"] for r in rows), ZERO)
            for lid, rows in _reserved_by_line(uow, [ln.id for ln in order.lines]).items()}


def open_order_lines(uow: UnitOfWork, order_id: int) -> dict:
    """A confirmed order's lines with what is still to deliver and what is reserved for them — what
    make-to-order production reads to decide how much to make."""
    order = uow.get(SalesOrder, order_id)
    if order.state in ("draft", "cancelled"):
        raise Conflict(_("销售订单 {n} 未确认，不能生成生产工单", n=order.number), field="state")
    reserved = {lid: sum((to_decimal(r["quantity"]) for r in rows), ZERO)
                for lid, rows in _reserved_by_line(uow, [ln.id for ln in order.lines]).items()}
    return {"id": order.id, "number": order.number, "customer_id": order.customer_id,
            "warehouse_id": order.warehouse_id, "requested_date": order.requested_date,
            "lines": [{"id": ln.id, "product_id": ln.product_id,
                       "open_qty": max(to_decimal(ln.quantity) - to_decimal(ln.qty_delivered), ZERO),
                       "reserved_qty": reserved.get(ln.id, ZERO)} for ln in order.lines]}


def delivery_summaries(uow: UnitOfWork, delivery_ids: Iterable[int]) -> dict[int, dict]:
    """Number, date, order and customer of deliveries (what a lot trace shows for goods that left)."""
    ids = {int(i) for i in delivery_ids}
    if not ids:
        return {}
    rows = uow.session.execute(
        select(SalesDelivery.id, SalesDelivery.number, SalesDelivery.date_done, SalesOrder.id, SalesOrder.number,
               SalesOrder.channel, SalesOrder.source_ref, md.Partner.id, md.Partner.code, md.Partner.name)
        .join(SalesOrder, SalesOrder.id == SalesDelivery.order_id)
        .join(md.Partner, md.Partner.id == SalesDelivery.customer_id)
        .where(SalesDelivery.company_id == uow.company_id, SalesDelivery.id.in_(ids))).all()
    return {r[0]: {"delivery": r[1], "date": r[2], "order_id": r[3], "order": r[4], "channel": r[5],
                   "source_ref": r[6], "customer_id": r[7], "customer_code": r[8], "customer": r[9]} for r in rows}


def order_id_by_number(uow: UnitOfWork, number: str) -> int:
    found = uow.session.scalar(select(SalesOrder.id).where(SalesOrder.company_id == uow.company_id,
                                                           SalesOrder.number == (number or "").strip()))
    if found is None:
        raise NotFound(_("销售订单不存在：{n}", n=number), field="sales_order")
    return found


def demand_history(uow: UnitOfWork, *, since: dt.date, until: dt.date) -> list[dict]:
    """Ordered quantity per product, channel, warehouse and order date of confirmed (or done) sales orders in
    [since, until] — the demand history SCM forecasts from (orders, not shipments: demand, not supply)."""
    rows = uow.session.execute(
        select(SalesOrderLine.product_id, SalesOrder.channel, SalesOrder.warehouse_id, SalesOrder.order_date,
               func.sum(SalesOrderLine.quantity))
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(SalesOrder.company_id == uow.company_id, SalesOrder.state.in_(("confirmed", "done")),
               SalesOrder.order_date >= since, SalesOrder.order_date <= until)
        .group_by(SalesOrderLine.product_id, SalesOrder.channel, SalesOrder.warehouse_id, SalesOrder.order_date))
    return [{"product_id": p, "channel": c, "warehouse_id": w, "date": d, "quantity": Decimal(q or 0)}
            for p, c, w, d, q in rows]


def demand_by_order(uow: UnitOfWork, *, since: dt.date, until: dt.date) -> list[dict]:
    """Ordered quantity per sales order and product of confirmed (or done) sales orders in [since, until], with
    the order's warehouse and the customer's province (the ship-to region SCM distribution planning groups by;
    an OMS order's receiver province is the OMS's to tell)."""
    rows = uow.session.execute(
        select(SalesOrder.id, SalesOrderLine.product_id, SalesOrder.warehouse_id, md.Partner.province,
               func.sum(SalesOrderLine.quantity))
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .join(md.Partner, md.Partner.id == SalesOrder.customer_id)
        .where(SalesOrder.company_id == uow.company_id, SalesOrder.state.in_(("confirmed", "done")),
               SalesOrder.order_date >= since, SalesOrder.order_date <= until)
        .group_by(SalesOrder.id, SalesOrderLine.product_id, SalesOrder.warehouse_id, md.Partner.province))
    return [{"sales_order_id": o, "product_id": p, "warehouse_id": w, "province": prov, "quantity": Decimal(q or 0)}
            for o, p, w, prov, q in rows]


def open_lines_for_planning(uow: UnitOfWork) -> list[tuple]:
    """Every confirmed order line still to deliver, for MRP in one query: (line id, order number,
    product id, warehouse id, date wanted, open qty − reserved qty as float-free Decimal)."""
    o, ln, r = SalesOrder, SalesOrderLine, StockReservation
    reserved = (select(r.ref_id.label("line_id"), func.sum(r.quantity).label("qty"))
                .where(r.company_id == uow.company_id, r.ref_type == LINE_REF, r.state == "active")
                .group_by(r.ref_id).subquery())
    rows = uow.session.execute(
        select(ln.id, o.number, ln.product_id, o.warehouse_id, func.coalesce(o.requested_date, o.order_date),
               ln.quantity, ln.qty_delivered, reserved.c.qty)
        .join(o, o.id == ln.order_id).outerjoin(reserved, reserved.c.line_id == ln.id)
        .where(o.company_id == uow.company_id, o.state == "confirmed", ln.quantity > ln.qty_delivered))
    return [(lid, num, pid, wh, day, max(to_decimal(q) - to_decimal(d or 0) - to_decimal(res or 0), ZERO))
            for lid, num, pid, wh, day, q, d, res in rows]
