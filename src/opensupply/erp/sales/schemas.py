"""What crosses HTTP for order-to-cash. Amounts travel as decimal strings in cents, quantities as
plain decimal strings, dates as ISO strings."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from . import service as svc
from .models import CustomerInvoice, CustomerReceipt, SalesDelivery, SalesOrder, SalesQuote

Number = str | int | float


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(_In):
    product_id: int | None = None
    sku: str | None = Field(None, max_length=64)
    quantity: Number
    unit_price: Number | None = Field(None, description="defaults to the product's list price")
    tax_rate: Number | str = Field("0.13", description="0.13, 13 or 13% (13 %, 9 %, 6 % or 0)")
    discount_pct: Number = 0
    description: str | None = Field(None, max_length=300)

    def to_service(self) -> svc.SalesLineIn:
        return svc.SalesLineIn(product_id=self.product_id, sku=self.sku, quantity=self.quantity,
                               unit_price=self.unit_price, tax_rate=self.tax_rate, discount_pct=self.discount_pct,
                               description=self.description)


class QuoteIn(_In):
    customer_id: int | str = Field(description="partner id or code")
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    channel: str = "direct"
    valid_until: dt.date | None = None
    price_includes_tax: bool | None = Field(None, description="default: true for platform channels, false for direct")
    salesperson_id: int | None = None
    source_ref: str | None = Field(None, max_length=80)
    notes: str | None = Field(None, max_length=2000)


class QuoteToOrderIn(_In):
    confirm: bool = False
    requested_date: dt.date | None = None
    override_credit: bool = False
    override_reason: str | None = Field(None, max_length=300)


class OrderIn(_In):
    customer_id: int | str = Field(description="partner id or code")
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    channel: str = "direct"
    source_ref: str | None = Field(None, max_length=80, description="the platform's order number, for example")
    salesperson_id: int | None = None
    requested_date: dt.date | None = None
    price_includes_tax: bool | None = Field(None, description="default: true for platform channels, false for direct")
    warehouse_id: int | None = None
    notes: str | None = Field(None, max_length=2000)
    confirm: bool = False
    override_credit: bool = False
    override_reason: str | None = Field(None, max_length=300)


class OrderUpdate(_In):
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=500)
    requested_date: dt.date | None = None
    price_includes_tax: bool | None = None
    notes: str | None = Field(None, max_length=2000)


class ConfirmIn(_In):
    override_credit: bool = False
    override_reason: str | None = Field(None, max_length=300)


class CancelIn(_In):
    reason: str | None = Field(None, max_length=300)


class DeliveryLineIn(_In):
    order_line_id: int | None = None
    product_id: int | None = None
    sku: str | None = None
    quantity: Number


class DeliverIn(_In):
    order_id: int | None = Field(None, description="the order to ship (POST /erp/deliveries)")
    lines: list[DeliveryLineIn] | None = Field(None, description="omit to ship everything still open")
    date: dt.date | None = None
    notes: str | None = Field(None, max_length=300)


class InvoiceIn(_In):
    order_id: int
    invoice_type: str = Field("normal", description="special (增值税专用发票) or normal (增值税普通发票)")
    buyer_tax_id: str | None = Field(None, max_length=40)
    invoice_date: dt.date | None = None
    apply_credit: bool = True


class BatchInvoiceIn(_In):
    """批量开票: which delivered, not yet invoiced orders (at least one filter), and the invoices' type and date."""

    customer: str | None = Field(None, max_length=200, description="customer id, code or name (an OMS shop's "
                                                                   "platform customer)")
    channel: str | None = Field(None, max_length=20, description="taobao, tmall, jd, direct …")
    date_from: dt.date | None = Field(None, description="order date from")
    date_to: dt.date | None = Field(None, description="order date to")
    order_ids: list[int] | None = Field(None, max_length=1000, description="only these orders (the preview's)")
    invoice_type: str = Field("normal", description="special (增值税专用发票) or normal (增值税普通发票)")
    invoice_date: dt.date | None = None
    expected_total: Decimal | None = Field(None, description="the preview's gross total: refused if it changed")

    def to_filter(self):
        from .batch_invoicing import BatchFilter

        return BatchFilter(customer=self.customer, channel=self.channel, date_from=self.date_from,
                           date_to=self.date_to, order_ids=self.order_ids)


def batch_row_out(r: dict) -> dict:
    out = {k: r[k] for k in ("order_id", "order_number", "customer_id", "customer_name", "channel", "source_ref",
                             "currency_code", "reason") if k in r}
    out.update(order_date=iso(r.get("order_date")), quantity=dec(r.get("quantity")),
               amount_untaxed=money(r["amount_untaxed"]), amount_tax=money(r["amount_tax"]),
               amount_total=money(r["amount_total"]))
    if "invoice_id" in r:
        out.update(invoice_id=r["invoice_id"], invoice_number=r["invoice_number"], state=r["state"])
    return out


def batch_out(b: dict) -> dict:
    out = {"count": b["count"], "amount_untaxed": money(b["amount_untaxed"]), "amount_tax": money(b["amount_tax"]),
           "amount_total": money(b["amount_total"]), "currencies": b["currencies"]}
    if "invoices" in b:
        out.update(invoices=[batch_row_out(r) for r in b["invoices"]], skipped=b["skipped"],
                   invoice_date=iso(b["invoice_date"]))
    else:
        out.update(invoice_type=b["invoice_type"], invoice_date=iso(b["invoice_date"]),
                   orders=[batch_row_out(r) for r in b["orders"]], blocked=[batch_row_out(r) for r in b["blocked"]],
                   too_many=b["too_many"], max_orders=b["max_orders"])
    return out


class CreditNoteIn(_In):
    reason: str = Field(min_length=1, max_length=300)


class AllocationIn(_In):
    invoice_id: int
    amount: Number


class ReceiptIn(_In):
    customer_id: int | str
    amount: Number
    allocations: list[AllocationIn] | None = Field(None, description="omit to settle the oldest invoices first")
    receipt_date: dt.date | None = None
    account: str = Field("bank", description="bank | cash | platform_cash")
    method: str | None = Field(None, max_length=40)
    reference: str | None = Field(None, max_length=80)
    notes: str | None = Field(None, max_length=300)
    currency_code: str | None = Field(None, max_length=3, description="default: the customer's currency")


class ReverseIn(_In):
    reason: str = Field(..., max_length=300, description="why the receipt is reversed (required)")


class ReminderIn(_In):
    note: str = Field("", max_length=500)
    channel: str = "phone"
    promised_date: dt.date | None = None
    invoice_ids: list[int] | None = None


# ------------------------------------------------------------------ out
def money(value) -> str | None:
    if value is None:
        return None
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def dec(value) -> str | None:
    if value is None:
        return None
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _totals(doc) -> dict:
    return {"amount_untaxed": money(doc.amount_untaxed), "amount_tax": money(doc.amount_tax),
            "amount_total": money(doc.amount_total)}


def _line(ln) -> dict:
    return {"id": ln.id, "product_id": ln.product_id, "sku": ln.product.sku, "product_name": ln.product.name,
            "description": ln.description, "quantity": dec(ln.quantity), "unit_price": dec(ln.unit_price),
            "discount_pct": dec(ln.discount_pct), "tax_rate": dec(ln.tax_rate),
            "amount_untaxed": money(ln.amount_untaxed), "amount_tax": money(ln.amount_tax),
            "amount_total": money(ln.amount_total)}


def _customer(doc) -> dict:
    return {"customer_id": doc.customer_id, "customer_code": doc.customer.code, "customer_name": doc.customer.name}


def quote_out(q: SalesQuote, *, lines: bool = True) -> dict:
    out = {"id": q.id, "number": q.number, **_customer(q), "state": q.state,
           "state_label": svc.label(svc.QUOTE_STATE_LABELS, q.state), "quote_date": iso(q.quote_date),
           "valid_until": iso(q.valid_until), "channel": q.channel, "price_includes_tax": q.price_includes_tax,
           "salesperson_id": q.salesperson_id, "currency_code": q.currency_code, "notes": q.notes,
           "source_ref": q.source_ref, "sales_order_id": q.sales_order_id, **_totals(q)}
    if lines:
        out["lines"] = [_line(ln) for ln in q.lines]
    return out


def order_out(o: SalesOrder, *, lines: bool = True, reserved: dict | None = None) -> dict:
    out = {"id": o.id, "number": o.number, **_customer(o), "state": o.state,
           "state_label": svc.label(svc.ORDER_STATE_LABELS, o.state), "order_date": iso(o.order_date),
           "requested_date": iso(o.requested_date), "channel": o.channel, "channel_label": svc.channel_label(o.channel),
           "source_ref": o.source_ref, "created_by_module": o.created_by_module, "salesperson_id": o.salesperson_id,
           "warehouse_id": o.warehouse_id, "price_includes_tax": o.price_includes_tax,
           "currency_code": o.currency_code, "currency_rate": dec(o.currency_rate), "quote_id": o.quote_id,
           "notes": o.notes,
           "confirmed_at": iso(o.confirmed_at), "credit_override_by_id": o.credit_override_by_id,
           "credit_override_reason": o.credit_override_reason, "cancel_reason": o.cancel_reason,
           "delivery_status": svc.delivery_status(o), "invoice_status": svc.invoice_status(o), **_totals(o)}
    if lines:
        out["lines"] = [{**_line(ln), "qty_delivered": dec(ln.qty_delivered), "qty_invoiced": dec(ln.qty_invoiced),
                         "qty_reserved": dec((reserved or {}).get(ln.id, 0))} for ln in o.lines]
    return out


def delivery_out(d: SalesDelivery, *, lines: bool = True) -> dict:
    out = {"id": d.id, "number": d.number, "order_id": d.order_id, "order_number": d.order.number, **_customer(d),
           "state": d.state, "state_label": svc.label(svc.DELIVERY_STATE_LABELS, d.state),
           "scheduled_date": iso(d.scheduled_date), "date_done": iso(d.date_done),
           "backorder_of_id": d.backorder_of_id, "cost_total": money(d.cost_total), "notes": d.notes}
    if lines:
        out["lines"] = [{"id": ln.id, "order_line_id": ln.order_line_id, "product_id": ln.product_id,
                         "sku": ln.product.sku, "product_name": ln.product.name, "quantity": dec(ln.quantity),
                         "cost_value": money(ln.cost_value)} for ln in d.lines]
    return out


def invoice_out(i: CustomerInvoice, *, lines: bool = True, allocations: list[dict] | None = None) -> dict:
    out = {"id": i.id, "number": i.number, "kind": i.kind, "kind_label": svc.label(svc.INVOICE_KIND_LABELS, i.kind),
           "invoice_type": i.invoice_type, "invoice_type_label": svc.label(svc.INVOICE_TYPE_LABELS, i.invoice_type),
           **_customer(i), "order_id": i.order_id, "state": i.state,
           "state_label": svc.label(svc.INVOICE_STATE_LABELS, i.state) if i.kind == "invoice" else
           svc.label(svc.INVOICE_KIND_LABELS, i.kind),
           "invoice_date": iso(i.invoice_date), "due_date": iso(i.due_date), "buyer_name": i.buyer_name,
           "buyer_tax_id": i.buyer_tax_id, "currency_code": i.currency_code, "currency_rate": dec(i.currency_rate),
           "amount_paid": money(i.amount_paid), "open_amount": money(svc.open_amount(i)),
           "open_amount_company": money(svc.open_amount_company(i)), "reversed_invoice_id": i.reversed_invoice_id,
           "credit_note_id": i.credit_note_id, "reason": i.reason, **_totals(i)}
    if lines:
        out["lines"] = [{**_line(ln), "order_line_id": ln.order_line_id} for ln in i.lines]
    if allocations is not None:
        out["allocations"] = [allocation_out(a) for a in allocations]
    return out


def allocation_out(a: dict) -> dict:
    return {**a, "amount": money(a["amount"]), "date": iso(a["date"]),
            "amount_company": money(a.get("amount_company"))}


def receipt_out(r: CustomerReceipt, *, allocations: list[dict] | None = None) -> dict:
    out = {"id": r.id, "number": r.number, **_customer(r), "state": r.state, "receipt_date": iso(r.receipt_date),
           "amount": money(r.amount), "amount_allocated": money(r.amount_allocated),
           "amount_unallocated": money(Decimal(r.amount) - Decimal(r.amount_allocated)), "account": r.account,
           "method": r.method, "reference": r.reference, "notes": r.notes, "currency_code": r.currency_code,
           "currency_rate": dec(r.currency_rate), "fx_difference": money(r.fx_difference),
           "reversal_reason": r.reversal_reason}
    if allocations is not None:
        out["allocations"] = [allocation_out(a) for a in allocations]
    return out


def aging_out(a: dict) -> dict:
    keys = [b["key"] for b in a["buckets"]] + ["total", "credit", "net"]
    return {"as_of": iso(a["as_of"]), "buckets": a["buckets"],
            "items": [{**r, **{k: money(r[k]) for k in keys},
                       "currencies": {c: money(v) for c, v in r.get("currencies", {}).items()}} for r in a["items"]],
            "totals": {k: money(v) for k, v in a["totals"].items()}}


def collections_out(c: dict) -> dict:
    return {**{k: c[k] for k in ("customer_id", "customer_code", "customer_name", "contact_name", "phone")},
            "as_of": iso(c["as_of"]), "total_overdue": money(c["total_overdue"]),
            "open_receivable": money(c["open_receivable"]), "credit": money(c["credit"]),
            "overdue": [{**r, "invoice_date": iso(r["invoice_date"]), "due_date": iso(r["due_date"]),
                         "amount_total": money(r["amount_total"]), "open_amount": money(r["open_amount"]),
                         "currency_rate": dec(r.get("currency_rate")),
                         "open_amount_currency": money(r.get("open_amount_currency"))}
                        for r in c["overdue"]],
            "reminders": [reminder_out(r) for r in c["reminders"]]}


def reminder_out(r) -> dict:
    return {"id": r.id, "customer_id": r.customer_id, "reminder_date": iso(r.reminder_date), "channel": r.channel,
            "channel_label": svc.label(svc.REMINDER_CHANNELS, r.channel), "note": r.note,
            "promised_date": iso(r.promised_date),
            "invoice_ids": [int(x) for x in r.invoice_ids.split(",") if x], "overdue_amount": money(r.overdue_amount),
            "created_by_id": r.created_by_id}
