"""REST endpoints of procure-to-pay under /api/v1/erp/: thin — parse, call the service, shape the answer."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.web.pdf import pdf_response

from . import schemas as s
from . import service as svc
from .models import GoodsReceipt, PurchaseOrder, PurchaseRequest, SupplierPayment, VendorBill
from .printing import order_pdf

router = APIRouter(prefix="/erp", tags=["erp purchasing"])
READ = Depends(require("erp.read"))
PURCHASE = Depends(require("erp.purchase"))
APPROVE = Depends(require("erp.purchase_approve"))
PAY = Depends(require("erp.payments"))
LIMIT = Query(50, ge=1, le=1000)
OFFSET = Query(0, ge=0)


def _filters(q, state, supplier, date_from, date_to, limit, offset) -> dict:
    return dict(q=q, state=state, supplier=supplier, date_from=date_from, date_to=date_to, limit=limit, offset=offset)


# ---------------------------------------------------------------- requests
@router.get("/purchase-requests", summary="Purchase requests (filter by state, supplier, date)")
def list_requests(q: str | None = None, state: str | None = None, supplier: str | None = None,
                  date_from: dt.date | None = None, date_to: dt.date | None = None, limit: int = LIMIT,
                  offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.request_rows(uow, **_filters(q, state, supplier, date_from, date_to, limit, offset))
        return {"items": [s.request_out(uow, r) for r in rows], "total": total}


@router.post("/purchase-requests", status_code=201, summary="Create a purchase request (optionally submit it)")
def create_request(body: s.RequestBody, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        req = svc.create_request(uow, [svc.RequestLineIn(**ln.model_dump()) for ln in body.lines],
                                 supplier=body.supplier, needed_by=body.needed_by, request_date=body.request_date,
                                 notes=body.notes)
        if body.submit:
            svc.submit_request(uow, req.id)
        return s.request_out(uow, req, detail=True)


@router.get("/purchase-requests/{request_id}", summary="A purchase request with its approval steps")
def get_request(request_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.request_out(uow, uow.get(PurchaseRequest, request_id), detail=True)


def _request_action(actor: Actor, request_id: int, fn, *args) -> dict:
    with UnitOfWork(actor) as uow:
        req = fn(uow, request_id, *args)
        return s.request_out(uow, req, detail=True)


@router.post("/purchase-requests/{request_id}/submit", summary="Submit for approval (small amounts auto-approve)")
def submit_request(request_id: int, actor: Actor = PURCHASE) -> dict:
    return _request_action(actor, request_id, svc.submit_request)


@router.post("/purchase-requests/{request_id}/approve", summary="Approve the next step")
def approve_request(request_id: int, body: s.DecisionBody | None = None, actor: Actor = APPROVE) -> dict:
    return _request_action(actor, request_id, svc.approve_request, body.comment if body else None)


@router.post("/purchase-requests/{request_id}/reject", summary="Reject (a reason is required)")
def reject_request(request_id: int, body: s.DecisionBody | None = None, actor: Actor = APPROVE) -> dict:
    reason = (body.reason or body.comment) if body else None
    return _request_action(actor, request_id, svc.reject_request, reason or "")


@router.post("/purchase-requests/{request_id}/cancel", summary="Cancel a request not yet ordered")
def cancel_request(request_id: int, actor: Actor = PURCHASE) -> dict:
    return _request_action(actor, request_id, svc.cancel_request)


@router.post("/purchase-requests/{request_id}/orders", status_code=201,
             summary="Turn an approved request into purchase orders, one per supplier")
def orders_from_request(request_id: int, confirm: bool = False, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        orders = svc.create_orders_from_request(uow, request_id, confirm=confirm)
        return {"items": [s.order_out(uow, po, detail=True) for po in orders], "total": len(orders)}


# ------------------------------------------------------------------ orders
@router.get("/purchase-orders", summary="Purchase orders (filter by state, supplier, date)")
def list_orders(q: str | None = None, state: str | None = None, supplier: str | None = None,
                date_from: dt.date | None = None, date_to: dt.date | None = None, limit: int = LIMIT,
                offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.order_rows(uow, **_filters(q, state, supplier, date_from, date_to, limit, offset))
        return {"items": [s.order_out(uow, r) for r in rows], "total": total}


@router.post("/purchase-orders", status_code=201, summary="Create a purchase order (optionally confirm it)")
def create_order(body: s.OrderBody, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        po = svc.create_order(uow, body.supplier, [svc.OrderLineIn(**ln.model_dump()) for ln in body.lines],
                              order_date=body.order_date, expected_date=body.expected_date, location=body.location,
                              notes=body.notes, receipt_tolerance_pct=body.receipt_tolerance_pct,
                              price_tolerance_pct=body.price_tolerance_pct, qty_tolerance_pct=body.qty_tolerance_pct)
        if body.confirm:
            svc.confirm_order(uow, po.id)
        return s.order_out(uow, po, detail=True)


@router.get("/purchase-orders/{order_id}", summary="A purchase order with received and billed quantities")
def get_order(order_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.order_out(uow, uow.get(PurchaseOrder, order_id), detail=True)


@router.post("/purchase-orders/{order_id}/confirm", summary="Confirm a draft order (it becomes immutable)")
def confirm_order(order_id: int, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        return s.order_out(uow, svc.confirm_order(uow, order_id), detail=True)


@router.post("/purchase-orders/{order_id}/cancel", summary="Cancel an order with nothing received or billed")
def cancel_order(order_id: int, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        return s.order_out(uow, svc.cancel_order(uow, order_id), detail=True)


@router.get("/purchase-orders/{order_id}/pdf", summary="The order as a PDF to print or send to the supplier")
async def order_pdf_file(order_id: int, download: bool = False, actor: Actor = READ):
    number, data = await run_in_threadpool(order_pdf, actor, order_id)
    return pdf_response(data, f"{number}.pdf", inline=not download)


# ---------------------------------------------------------------- receipts
@router.get("/receipts", summary="Goods receipts against purchase orders")
def list_receipts(q: str | None = None, state: str | None = None, supplier: str | None = None,
                  order_id: int | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None,
                  limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.receipt_rows(uow, order_id=order_id,
                                       **_filters(q, state, supplier, date_from, date_to, limit, offset))
        return {"items": [s.receipt_out(uow, r) for r in rows], "total": total}


@router.post("/receipts", status_code=201, summary="Receive goods against a confirmed order (partial, with lots)")
def create_receipt(body: s.ReceiptBody, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        r = svc.receive_order(uow, body.order_id, [svc.ReceiptLineIn(**ln.model_dump()) for ln in body.lines],
                              receipt_date=body.receipt_date, location=body.location, notes=body.notes)
        return s.receipt_out(uow, r, detail=True)


@router.get("/receipts/{receipt_id}", summary="A goods receipt")
def get_receipt(receipt_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.receipt_out(uow, uow.get(GoodsReceipt, receipt_id), detail=True)


@router.post("/receipts/{receipt_id}/cancel", summary="Cancel a receipt: its stock moves and entries are reversed")
def cancel_receipt(receipt_id: int, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        return s.receipt_out(uow, svc.cancel_receipt(uow, receipt_id), detail=True)


# ------------------------------------------------------------ vendor bills
@router.get("/vendor-bills", summary="Vendor bills (state blocked = waiting for 3-way match approval)")
def list_bills(q: str | None = None, state: str | None = None, supplier: str | None = None,
               order_id: int | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None,
               limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.bill_rows(uow, order_id=order_id,
                                    **_filters(q, state, supplier, date_from, date_to, limit, offset))
        return {"items": [s.bill_out(uow, r) for r in rows], "total": total}


@router.post("/vendor-bills", status_code=201, summary="Record a supplier invoice, 3-way matched")
def create_bill(body: s.BillBody, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        b = svc.create_vendor_bill(uow, body.order_id, [svc.BillLineIn(**ln.model_dump()) for ln in body.lines],
                                   bill_date=body.bill_date, due_date=body.due_date,
                                   supplier_invoice_no=body.supplier_invoice_no)
        return s.bill_out(uow, b, detail=True)


@router.get("/vendor-bills/{bill_id}", summary="A vendor bill with its match result and audit trail")
def get_bill(bill_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.bill_out(uow, uow.get(VendorBill, bill_id), detail=True)


@router.post("/vendor-bills/{bill_id}/approve-match", summary="Approve a bill outside the match tolerance; posts it")
def approve_match(bill_id: int, body: s.DecisionBody | None = None, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        return s.bill_out(uow, svc.approve_match(uow, bill_id, body.comment if body else None), detail=True)


@router.post("/vendor-bills/{bill_id}/cancel", summary="Cancel an unpaid bill (its entry is reversed)")
def cancel_bill(bill_id: int, actor: Actor = PURCHASE) -> dict:
    with UnitOfWork(actor) as uow:
        return s.bill_out(uow, svc.cancel_vendor_bill(uow, bill_id), detail=True)


# ---------------------------------------------------------------- payments
@router.get("/payments", summary="Supplier payments")
def list_payments(q: str | None = None, state: str | None = None, supplier: str | None = None,
                  date_from: dt.date | None = None, date_to: dt.date | None = None, limit: int = LIMIT,
                  offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.payment_rows(uow, **_filters(q, state, supplier, date_from, date_to, limit, offset))
        return {"items": [s.payment_out(uow, r) for r in rows], "total": total}


@router.post("/payments", status_code=201, summary="Pay one or several bills of a supplier, fully or partly")
def create_payment(body: s.PaymentBody, actor: Actor = PAY) -> dict:
    with UnitOfWork(actor) as uow:
        p = svc.create_payment(uow, body.supplier, [svc.AllocationIn(a.bill_id, a.amount) for a in body.allocations],
                               payment_date=body.payment_date, amount=body.amount, account=body.account,
                               reference=body.reference, notes=body.notes)
        return s.payment_out(uow, p, detail=True)


@router.get("/payments/{payment_id}", summary="A supplier payment and the bills it paid")
def get_payment(payment_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.payment_out(uow, uow.get(SupplierPayment, payment_id), detail=True)


@router.post("/payments/{payment_id}/cancel", summary="Cancel a payment (its entry is reversed)")
def cancel_payment(payment_id: int, actor: Actor = PAY) -> dict:
    with UnitOfWork(actor) as uow:
        return s.payment_out(uow, svc.cancel_payment(uow, payment_id), detail=True)


@router.post("/payments/{payment_id}/reverse",
             summary="Reverse a payment with a reason: reversing voucher, the bills it paid open again")
def reverse_payment(payment_id: int, body: s.ReverseBody, actor: Actor = PAY) -> dict:
    with UnitOfWork(actor) as uow:
        return s.payment_out(uow, svc.reverse_payment(uow, payment_id, body.reason), detail=True)


# ----------------------------------------------------------------- reports
@router.get("/reports/ap-aging", summary="Open payables per supplier: 0-30 / 31-60 / 61-90 / 90+ days past due")
def ap_aging(as_of: dt.date | None = None, supplier: str | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.money_tree(svc.ap_aging(uow, as_of, supplier))


@router.get("/suppliers/{supplier_id}/statement", summary="Supplier statement; reconciles to the GL payable balance")
def supplier_statement(supplier_id: int, date_from: dt.date | None = None, date_to: dt.date | None = None,
                       actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return s.money_tree(svc.supplier_statement(uow, supplier_id, date_from, date_to))


# ---------------------------------------------------------------- settings
@router.get("/purchase-approval-rules", summary="Approval thresholds of purchase requests")
def get_rules(actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rules = svc.approval_rules(uow)
        return {"items": [s.rule_out(r) for r in rules], "total": len(rules)}


@router.put("/purchase-approval-rules", summary="Replace the approval thresholds")
def put_rules(body: s.RulesBody, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        rules = svc.set_approval_rules(uow, [r.model_dump() for r in body.rules])
        return {"items": [s.rule_out(r) for r in rules], "total": len(rules)}


@router.get("/purchase-settings", summary="Receipt and 3-way match tolerances (percent)")
def get_settings(actor: Actor = READ) -> dict:
    with UnitOfWork(actor) as uow:
        return s.settings_out(svc.settings(uow))


@router.put("/purchase-settings", summary="Change the tolerances")
def put_settings(body: s.SettingsBody, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        return s.settings_out(svc.update_settings(uow, body.model_dump()))
