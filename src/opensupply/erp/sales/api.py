"""Order-to-cash endpoints under /api/v1/erp/: quotes, sales-orders, deliveries, invoices,
customer-receipts, reports/ar-aging and customers/{id}/collections. Thin: parse, call the
service in one unit of work, return the schema."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require, require_any
from opensupply.core.i18n import _
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.web.pdf import pdf_response

from . import batch_invoicing as batch
from . import printing
from . import schemas as s
from . import service as svc
from .models import CustomerInvoice, CustomerReceipt, SalesDelivery, SalesOrder, SalesQuote

router = APIRouter(prefix="/erp", tags=["erp sales"])
READ = Depends(require("erp.read"))
SALES = Depends(require("erp.sales"))
INVOICING = Depends(require("erp.invoicing"))
PAYMENTS = Depends(require("erp.payments"))


COLLECT = Depends(require_any("erp.sales", "erp.invoicing", "erp.payments"))


class Filters:
    """The list filters every document list takes."""

    def __init__(self, q: str | None = None, customer: str | None = Query(None, description="id, code or name"),
                 state: str | None = None, channel: str | None = None, date_from: dt.date | None = None,
                 date_to: dt.date | None = None, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0)):
        self.lq = svc.ListQuery(q=q, customer=customer, state=state, channel=channel, date_from=date_from,
                                date_to=date_to, limit=limit, offset=offset)


# ------------------------------------------------------------------ quotes
@router.get("/quotes", summary="Sales quotes")
def list_quotes(f: Filters = Depends(), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.list_quotes(uow, f.lq)
        return {"items": [s.quote_out(q, lines=False) for q in rows], "total": total}


@router.post("/quotes", status_code=201, summary="Create a quote")
def create_quote(body: s.QuoteIn, actor: Actor = SALES) -> dict:
    with UnitOfWork(actor) as uow:
        quote = svc.create_quote(uow, customer_id=body.customer_id, lines=[ln.to_service() for ln in body.lines],
                                 channel=body.channel, valid_until=body.valid_until,
                                 price_includes_tax=body.price_includes_tax, salesperson_id=body.salesperson_id,
                                 source_ref=body.source_ref, notes=body.notes)
        return s.quote_out(quote)


@router.get("/quotes/{quote_id}", summary="One quote")
def get_quote(quote_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.quote_out(uow.get(SalesQuote, quote_id))


@router.get("/quotes/{quote_id}/pdf", summary="Printable quote (PDF)")
async def quote_pdf(quote_id: int, actor: Actor = READ):
    return await _pdf(actor, printing.quote_pdf, quote_id)


async def _pdf(actor: Actor, build, id_: int):
    def run():
        with UnitOfWork(actor, readonly=True) as uow:
            return build(uow, id_)

    data, name = await run_in_threadpool(run)
    return pdf_response(data, name)


@router.post("/quotes/{quote_id}/send", summary="Mark a quote as sent to the customer")
def send_quote(quote_id: int, actor: Actor = SALES) -> dict:
    with UnitOfWork(actor) as uow:
        return s.quote_out(svc.mark_quote_sent(uow, quote_id))


@router.post("/quotes/{quote_id}/cancel", summary="Cancel a quote")
def cancel_quote(quote_id: int, actor: Actor = SALES) -> dict:
    with UnitOfWork(actor) as uow:
        return s.quote_out(svc.cancel_quote(uow, quote_id))


@router.post("/quotes/{quote_id}/order", status_code=201, summary="Turn a quote into a sales order")
def quote_to_order(quote_id: int, body: s.QuoteToOrderIn | None = None, actor: Actor = SALES) -> dict:
    body = body or s.QuoteToOrderIn()
    with UnitOfWork(actor) as uow:
        order = svc.quote_to_order(uow, quote_id, confirm=body.confirm, requested_date=body.requested_date,
                                   override_credit=body.override_credit, override_reason=body.override_reason)
        return s.order_out(order, reserved=svc.reserved_quantities(uow, order))


# ------------------------------------------------------------------ orders
@router.get("/sales-orders", summary="Sales orders (filter by customer, state, channel, date)")
def list_orders(f: Filters = Depends(), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.list_orders(uow, f.lq)
        return {"items": [s.order_out(o, lines=False) for o in rows], "total": total}


@router.post("/sales-orders", status_code=201, summary="Create a sales order (confirm=true confirms it at once)")
def create_order(body: s.OrderIn, actor: Actor = SALES) -> dict:
    with UnitOfWork(actor) as uow:
        order = svc.create_sales_order(
            uow, customer_id=body.customer_id, lines=[ln.to_service() for ln in body.lines], channel=body.channel,
            source_ref=body.source_ref, salesperson_id=body.salesperson_id, requested_date=body.requested_date,
            price_includes_tax=body.price_includes_tax, warehouse_id=body.warehouse_id, notes=body.notes,
            confirm=body.confirm, override_credit=body.override_credit, override_reason=body.override_reason)
        return s.order_out(order, reserved=svc.reserved_quantities(uow, order))


@router.get("/sales-orders/{order_id}", summary="One sales order with its lines")
def get_order(order_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        order = uow.get(SalesOrder, order_id)
        out = s.order_out(order, reserved=svc.reserved_quantities(uow, order))
        out["deliveries"] = [s.delivery_out(d, lines=False) for d in svc.deliveries_of(uow, order.id)]
        out["invoices"] = [s.invoice_out(i, lines=False) for i in svc.invoices_of(uow, order.id)]
        out["credit"] = {k: (s.money(v) if not isinstance(v, bool) else v)
                         for k, v in svc.credit_exposure(uow, order.customer_id, order).items()}
        return out


@router.patch("/sales-orders/{order_id}", summary="Change a draft order")
def update_order(order_id: int, body: s.OrderUpdate, actor: Actor = SALES) -> dict:
    with UnitOfWork(actor) as uow:
        order = svc.update_sales_order(uow, order_id, lines=[ln.to_service() for ln in body.lines]
                                       if body.lines is not None else None, requested_date=body.requested_date,
                                       notes=body.notes, price_includes_tax=body.price_includes_tax)
        return s.order_out(order)


@router.post("/sales-orders/{order_id}/confirm", summary="Confirm: credit check, stock reservation, delivery")
def confirm_order(order_id: int, body: s.ConfirmIn | None = None, actor: Actor = SALES) -> dict:
    body = body or s.ConfirmIn()
    with UnitOfWork(actor) as uow:
        order = svc.confirm_sales_order(uow, order_id, override_credit=body.override_credit,
                                        override_reason=body.override_reason)
        return s.order_out(order, reserved=svc.reserved_quantities(uow, order))


@router.post("/sales-orders/{order_id}/cancel", summary="Cancel an unshipped order (releases its stock)")
def cancel_order(order_id: int, body: s.CancelIn | None = None, actor: Actor = SALES) -> dict:
    with UnitOfWork(actor) as uow:
        return s.order_out(svc.cancel_sales_order(uow, order_id, (body or s.CancelIn()).reason))


@router.get("/sales-orders/{order_id}/pdf", summary="Printable order confirmation (PDF)")
async def order_pdf(order_id: int, actor: Actor = READ):
    def build():
        with UnitOfWork(actor, readonly=True) as uow:
            return printing.order_pdf(uow, order_id)

    data, name = await run_in_threadpool(build)
    return pdf_response(data, name)


# ------------------------------------------------------------------ deliveries
@router.get("/deliveries", summary="Deliveries (state waiting = still to ship, incl. backorders)")
def list_deliveries(f: Filters = Depends(), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.list_deliveries(uow, f.lq)
        return {"items": [s.delivery_out(d) for d in rows], "total": total}


@router.post("/deliveries", status_code=201, summary="Ship an order's open delivery (all, or the given lines)")
def create_delivery(body: s.DeliverIn, actor: Actor = SALES) -> dict:
    if body.order_id is None:
        raise ValidationFailed(_("请指定销售订单"), field="order_id")
    return _deliver(body.order_id, body, actor)


@router.post("/sales-orders/{order_id}/deliver", status_code=201, summary="Ship an order (all, or the given lines)")
def deliver_order(order_id: int, body: s.DeliverIn | None = None, actor: Actor = SALES) -> dict:
    return _deliver(order_id, body or s.DeliverIn(), actor)


def _deliver(order_id: int, body: s.DeliverIn, actor: Actor) -> dict:
    lines = None if body.lines is None else [svc.DeliveryLineIn(quantity=ln.quantity, order_line_id=ln.order_line_id,
                                                                product_id=ln.product_id, sku=ln.sku)
                                             for ln in body.lines]
    with UnitOfWork(actor) as uow:
        delivery = svc.deliver(uow, order_id, lines, date=body.date, notes=body.notes)
        out = s.delivery_out(delivery)
        backorder = uow.session.query(SalesDelivery).filter(SalesDelivery.company_id == uow.company_id,
                                                            SalesDelivery.backorder_of_id == delivery.id).first()
        out["backorder"] = s.delivery_out(backorder) if backorder else None
        return out


@router.get("/deliveries/{delivery_id}", summary="One delivery")
def get_delivery(delivery_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.delivery_out(uow.get(SalesDelivery, delivery_id))


@router.get("/deliveries/{delivery_id}/pdf", summary="Printable delivery note (PDF)")
async def delivery_pdf(delivery_id: int, actor: Actor = READ):
    return await _pdf(actor, printing.delivery_pdf, delivery_id)


@router.post("/deliveries/{delivery_id}/cancel", summary="Cancel a backorder (the rest will not ship)")
def cancel_delivery(delivery_id: int, body: s.CancelIn | None = None, actor: Actor = SALES) -> dict:
    with UnitOfWork(actor) as uow:
        return s.delivery_out(svc.cancel_backorder(uow, delivery_id, (body or s.CancelIn()).reason))


# ------------------------------------------------------------------ invoices
@router.get("/invoices", summary="Customer invoices and credit notes")
def list_invoices(f: Filters = Depends(), kind: str | None = Query(None, pattern="^(invoice|credit_note)$"),
                  overdue: bool = False, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.list_invoices(uow, f.lq, kind=kind, overdue=overdue)
        return {"items": [s.invoice_out(i, lines=False) for i in rows], "total": total}


@router.post("/invoices", status_code=201, summary="Invoice an order's delivered, not yet invoiced quantities")
def create_invoice(body: s.InvoiceIn, actor: Actor = INVOICING) -> dict:
    with UnitOfWork(actor) as uow:
        invoice = svc.invoice_order(uow, body.order_id, invoice_type=body.invoice_type, buyer_tax_id=body.buyer_tax_id,
                                    invoice_date=body.invoice_date, apply_credit=body.apply_credit)
        return s.invoice_out(invoice, allocations=svc.allocations_of(uow, invoice_id=invoice.id))


@router.post("/invoices/batch/preview", summary="批量开票 preview: what a batch would invoice (writes nothing)")
def preview_batch_invoice(body: s.BatchInvoiceIn, actor: Actor = INVOICING) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.batch_out(batch.preview_batch(uow, body.to_filter(), invoice_type=body.invoice_type,
                                               invoice_date=body.invoice_date))


@router.post("/invoices/batch", summary="批量开票: one invoice per delivered, not yet invoiced order of the filter, "
                                        "all or nothing; a replay invoices nothing")
def create_batch_invoice(body: s.BatchInvoiceIn, actor: Actor = INVOICING) -> dict:
    with UnitOfWork(actor) as uow:
        return s.batch_out(batch.invoice_batch(uow, body.to_filter(), invoice_type=body.invoice_type,
                                               invoice_date=body.invoice_date, expected_total=body.expected_total))


@router.get("/invoices/{invoice_id}", summary="One invoice with its payments")
def get_invoice(invoice_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        invoice = uow.get(CustomerInvoice, invoice_id)
        return s.invoice_out(invoice, allocations=svc.allocations_of(uow, invoice_id=invoice.id))


@router.post("/invoices/{invoice_id}/credit-note", status_code=201,
             summary="Cancel an invoice with a credit note (红字发票); returns the credit note")
def credit_note(invoice_id: int, body: s.CreditNoteIn, actor: Actor = INVOICING) -> dict:
    with UnitOfWork(actor) as uow:
        return s.invoice_out(svc.cancel_invoice(uow, invoice_id, body.reason))


@router.get("/invoices/{invoice_id}/pdf", summary="Printable invoice (PDF)")
async def invoice_pdf(invoice_id: int, actor: Actor = READ):
    def build():
        with UnitOfWork(actor, readonly=True) as uow:
            return printing.invoice_pdf(uow, invoice_id)

    data, name = await run_in_threadpool(build)
    return pdf_response(data, name)


# ------------------------------------------------------------------ receipts
@router.get("/customer-receipts", summary="Customer receipts")
def list_receipts(f: Filters = Depends(), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.list_receipts(uow, f.lq)
        return {"items": [s.receipt_out(r) for r in rows], "total": total}


@router.post("/customer-receipts", status_code=201, summary="Register money received from a customer")
def create_receipt(body: s.ReceiptIn, actor: Actor = PAYMENTS) -> dict:
    allocations = None if body.allocations is None else [(a.invoice_id, a.amount) for a in body.allocations]
    with UnitOfWork(actor) as uow:
        receipt = svc.register_receipt(uow, body.customer_id, body.amount, allocations, receipt_date=body.receipt_date,
                                       account=body.account, method=body.method, reference=body.reference,
                                       notes=body.notes, currency_code=body.currency_code)
        out = s.receipt_out(receipt, allocations=svc.allocations_of(uow, receipt_id=receipt.id))
        out["customer_credit"] = s.money(svc.customer_credit(uow, receipt.customer_id))
        return out


@router.get("/customer-receipts/{receipt_id}", summary="One receipt with its allocations")
def get_receipt(receipt_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        receipt = uow.get(CustomerReceipt, receipt_id)
        return s.receipt_out(receipt, allocations=svc.allocations_of(uow, receipt_id=receipt.id))


@router.post("/customer-receipts/{receipt_id}/reverse",
             summary="Reverse a receipt: reversing voucher, the invoices it settled open again")
def reverse_receipt(receipt_id: int, body: s.ReverseIn, actor: Actor = PAYMENTS) -> dict:
    with UnitOfWork(actor) as uow:
        receipt = svc.reverse_receipt(uow, receipt_id, body.reason)
        out = s.receipt_out(receipt, allocations=svc.allocations_of(uow, receipt_id=receipt.id))
        out["customer_credit"] = s.money(svc.customer_credit(uow, receipt.customer_id))
        return out


# ------------------------------------------------------------------ receivables
@router.get("/reports/ar-aging", summary="Accounts receivable aging per customer")
def ar_aging(as_of: dt.date | None = None, customer: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.aging_out(svc.ar_aging(uow, as_of=as_of, customer_id=customer))


@router.get("/collections", summary="Customers with overdue invoices")
def overdue_customers(as_of: dt.date | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows = svc.overdue_customers(uow, as_of=as_of)
        return {"items": [{**r, "overdue_amount": s.money(r["overdue_amount"]), "last_reminder": s.iso(
            r["last_reminder"])} for r in rows], "total": len(rows)}


@router.get("/customers/{customer_id}/collections", summary="A customer's overdue invoices and reminders")
def customer_collections(customer_id: int, as_of: dt.date | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.collections_out(svc.collections(uow, customer_id, as_of=as_of))


@router.post("/customers/{customer_id}/collections/reminders", status_code=201, summary="Record a reminder")
def create_reminder(customer_id: int, body: s.ReminderIn, actor: Actor = COLLECT) -> dict:
    with UnitOfWork(actor) as uow:
        return s.reminder_out(svc.record_reminder(uow, customer_id, note=body.note, channel=body.channel,
                                                  promised_date=body.promised_date, invoice_ids=body.invoice_ids))


@router.post("/customers/{customer_id}/apply-credit", summary="Apply the customer's credit to open invoices")
def apply_credit(customer_id: int, actor: Actor = PAYMENTS) -> dict:
    with UnitOfWork(actor) as uow:
        applied = svc.apply_customer_credit(uow, customer_id)
        return {"applied": s.money(applied), "credit": s.money(svc.customer_credit(uow, customer_id))}
