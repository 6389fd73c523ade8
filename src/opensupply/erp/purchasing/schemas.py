"""What crosses HTTP for purchasing: request bodies (pydantic) and the JSON shapes of documents.
Amounts and quantities go out as decimal strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import select

from opensupply.core.audit import history
from opensupply.core.uow import UnitOfWork
from opensupply.inventory.service import fmt_qty

from . import service as svc
from .models import GoodsReceipt, PurchaseOrder, PurchaseRequest, SupplierPayment, VendorBill

Num = Decimal | str | int


def dec(value) -> str | None:
    return None if value is None else fmt_qty(value)


def amt(value) -> str | None:
    return None if value is None else str(svc.money(value))


# ------------------------------------------------------------------ inputs
class RequestLineBody(BaseModel):
    product: int | str
    quantity: Num
    unit_price: Num | None = None
    supplier: int | str | None = None


class RequestBody(BaseModel):
    lines: list[RequestLineBody] = Field(default_factory=list)
    supplier: int | str | None = None
    needed_by: dt.date | None = None
    request_date: dt.date | None = None
    notes: str | None = None
    submit: bool = False


class DecisionBody(BaseModel):
    comment: str | None = None
    reason: str | None = None


class OrderLineBody(BaseModel):
    product: int | str
    quantity: Num
    unit_price: Num | None = None
    tax_rate: Num | None = None


class OrderBody(BaseModel):
    supplier: int | str
    lines: list[OrderLineBody] = Field(default_factory=list)
    order_date: dt.date | None = None
    expected_date: dt.date | None = None
    location: int | str | None = None
    notes: str | None = None
    receipt_tolerance_pct: Num | None = None
    price_tolerance_pct: Num | None = None
    qty_tolerance_pct: Num | None = None
    confirm: bool = False


class ReverseBody(BaseModel):
    reason: str = Field(..., max_length=300, description="why the payment is reversed (required)")


class ReceiptLineBody(BaseModel):
    quantity: Num
    order_line_id: int | None = None
    product: int | str | None = None
    lot: str | None = None
    expiry_date: dt.date | None = None


class ReceiptBody(BaseModel):
    order_id: int
    lines: list[ReceiptLineBody] = Field(default_factory=list)
    receipt_date: dt.date | None = None
    location: int | str | None = None
    notes: str | None = None


class BillLineBody(BaseModel):
    quantity: Num
    unit_price: Num | None = None
    order_line_id: int | None = None
    product: int | str | None = None
    tax_rate: Num | None = None


class BillBody(BaseModel):
    order_id: int
    lines: list[BillLineBody] = Field(default_factory=list)
    bill_date: dt.date | None = None
    due_date: dt.date | None = None
    supplier_invoice_no: str | None = None


class AllocationBody(BaseModel):
    bill_id: int
    amount: Num | None = None


class PaymentBody(BaseModel):
    supplier: int | str
    allocations: list[AllocationBody] = Field(default_factory=list)
    payment_date: dt.date | None = None
    amount: Num | None = None
    account: str = "bank"
    reference: str | None = None
    notes: str | None = None


class RuleBody(BaseModel):
    max_amount: Num | None = None
    steps: int = 1
    final_role: str = "admin"


class RulesBody(BaseModel):
    rules: list[RuleBody]


class SettingsBody(BaseModel):
    receipt_tolerance_pct: Num | None = None
    price_tolerance_pct: Num | None = None
    qty_tolerance_pct: Num | None = None
    default_tax_rate: Num | None = None


# ----------------------------------------------------------------- outputs
def _audit(uow: UnitOfWork, entity: str, entity_id: int) -> list[dict]:
    return [{"at": a.at.isoformat(), "username": a.username, "action": a.action, "before": a.before,
             "after": a.after} for a in history(uow.session, entity, entity_id, uow.company_id)]


def _partner(partners: dict, pid: int | None) -> dict:
    p = partners.get(pid)
    return {"supplier_id": pid, "supplier_code": p.code if p else None, "supplier_name": p.name if p else None}


def request_out(uow: UnitOfWork, req: PurchaseRequest, *, detail: bool = False) -> dict:
    partners, products = svc._names(uow, [ln.supplier_id for ln in req.lines if ln.supplier_id] +
                                    ([req.supplier_id] if req.supplier_id else []),
                                    [ln.product_id for ln in req.lines])
    out = {"id": req.id, "number": req.number, "state": req.state, "state_label": svc.state_label("request", req.state),
           "request_date": req.request_date, "needed_by": req.needed_by, "requester": req.requester,
           **_partner(partners, req.supplier_id), "total": amt(req.total), "required_steps": req.required_steps,
           "approved_steps": req.approved_steps, "final_role": req.final_role, "reject_reason": req.reject_reason,
           "notes": req.notes}
    if detail:
        out["lines"] = [{"id": ln.id, "product_id": ln.product_id, "sku": products[ln.product_id].sku,
                         "product_name": products[ln.product_id].name, "quantity": dec(ln.quantity),
                         "unit_price": dec(ln.unit_price), "amount": amt(ln.amount),
                         **_partner(partners, ln.supplier_id)} for ln in req.lines]
        out["steps"] = [{"step": s.step, "username": s.username, "decision": s.decision, "comment": s.comment,
                         "decided_at": s.decided_at.isoformat()} for s in req.steps]
        out["audit"] = _audit(uow, "erp_purchase_request", req.id)
    return out


def order_out(uow: UnitOfWork, po: PurchaseOrder, *, detail: bool = False) -> dict:
    partners, products = svc._names(uow, [po.supplier_id], [ln.product_id for ln in po.lines])
    out = {"id": po.id, "number": po.number, "state": po.state, "state_label": svc.state_label("order", po.state),
           **_partner(partners, po.supplier_id), "order_date": po.order_date, "expected_date": po.expected_date,
           "currency": po.currency_code, "currency_rate": dec(po.currency_rate), "request_id": po.request_id,
           "untaxed": amt(po.untaxed), "tax": amt(po.tax),
           "total": amt(po.total), "receipt_tolerance_pct": dec(po.receipt_tolerance_pct),
           "price_tolerance_pct": dec(po.price_tolerance_pct), "qty_tolerance_pct": dec(po.qty_tolerance_pct),
           "notes": po.notes}
    if detail:
        out["lines"] = [{"id": ln.id, "product_id": ln.product_id, "sku": products[ln.product_id].sku,
                         "product_name": products[ln.product_id].name, "uom": products[ln.product_id].uom.code,
                         "quantity": dec(ln.quantity), "unit_price": dec(ln.unit_price), "tax_rate": dec(ln.tax_rate),
                         "amount": amt(ln.amount), "qty_received": dec(ln.qty_received),
                         "qty_billed": dec(ln.qty_billed)} for ln in po.lines]
        out["audit"] = _audit(uow, "erp_purchase_order", po.id)
    return out


def receipt_out(uow: UnitOfWork, r: GoodsReceipt, *, detail: bool = False) -> dict:
    partners, products = svc._names(uow, [r.supplier_id], [ln.product_id for ln in r.lines])
    po = uow.session.get(PurchaseOrder, r.order_id)
    out = {"id": r.id, "number": r.number, "state": r.state, "state_label": svc.state_label("receipt", r.state),
           "order_id": r.order_id, "order_number": po.number if po else None, **_partner(partners, r.supplier_id),
           "receipt_date": r.receipt_date, "total": amt(r.total), "notes": r.notes,
           "currency": po.currency_code if po else None, "currency_rate": dec(r.currency_rate)}
    if detail:
        out["lines"] = [{"id": ln.id, "order_line_id": ln.order_line_id, "product_id": ln.product_id,
                         "sku": products[ln.product_id].sku, "product_name": products[ln.product_id].name,
                         "quantity": dec(ln.quantity), "unit_cost": dec(ln.unit_cost), "lot": ln.lot,
                         "move_id": ln.move_id} for ln in r.lines]
        out["audit"] = _audit(uow, "erp_goods_receipt", r.id)
    return out


def bill_out(uow: UnitOfWork, b: VendorBill, *, detail: bool = False) -> dict:
    partners, products = svc._names(uow, [b.supplier_id], [ln.product_id for ln in b.lines])
    po = uow.session.get(PurchaseOrder, b.order_id)
    out = {"id": b.id, "number": b.number, "supplier_invoice_no": b.supplier_invoice_no, "state": b.state,
           "state_label": svc.state_label("bill", b.state), "order_id": b.order_id,
           "order_number": po.number if po else None, **_partner(partners, b.supplier_id), "bill_date": b.bill_date,
           "due_date": b.due_date, "untaxed": amt(b.untaxed), "tax": amt(b.tax), "total": amt(b.total),
           "paid_amount": amt(b.paid_amount), "open_amount": amt(svc.open_amount(b)), "match_ok": b.match_ok,
           "currency": b.currency_code, "currency_rate": dec(b.currency_rate),
           "total_company": amt(svc.bill_total_company(b)),
           "match_issues": b.match_issues.split("\n") if b.match_issues else [],
           "match_approved_by": b.match_approved_by,
           "match_approved_at": b.match_approved_at.isoformat() if b.match_approved_at else None,
           "match_approval_comment": b.match_approval_comment}
    if detail:
        out["lines"] = [{"id": ln.id, "order_line_id": ln.order_line_id, "product_id": ln.product_id,
                         "sku": products[ln.product_id].sku, "product_name": products[ln.product_id].name,
                         "quantity": dec(ln.quantity), "unit_price": dec(ln.unit_price), "tax_rate": dec(ln.tax_rate),
                         "amount": amt(ln.amount), "tax": amt(ln.tax)} for ln in b.lines]
        out["audit"] = _audit(uow, "erp_vendor_bill", b.id)
    return out


def payment_out(uow: UnitOfWork, p: SupplierPayment, *, detail: bool = False) -> dict:
    partners, _pr = svc._names(uow, [p.supplier_id])
    out = {"id": p.id, "number": p.number, "state": p.state, "state_label": svc.state_label("payment", p.state),
           **_partner(partners, p.supplier_id), "payment_date": p.payment_date, "amount": amt(p.amount),
           "account": p.account, "reference": p.reference, "notes": p.notes, "currency": p.currency_code,
           "currency_rate": dec(p.currency_rate), "fx_difference": amt(p.fx_difference),
           "reversal_reason": p.reversal_reason}
    if detail:
        bills = {b.id: b for b in uow.session.scalars(
            select(VendorBill).where(VendorBill.id.in_([a.bill_id for a in p.allocations])))}
        out["allocations"] = [{"bill_id": a.bill_id, "bill_number": bills[a.bill_id].number,
                               "amount": amt(a.amount), "amount_company": amt(a.amount_company),
                               "bill_rate": dec(bills[a.bill_id].currency_rate)} for a in p.allocations]
        out["audit"] = _audit(uow, "erp_supplier_payment", p.id)
    return out


def rule_out(r) -> dict:
    return {"max_amount": amt(r.max_amount), "steps": r.steps, "final_role": r.final_role}


def settings_out(s) -> dict:
    return {"receipt_tolerance_pct": dec(s.receipt_tolerance_pct), "price_tolerance_pct": dec(s.price_tolerance_pct),
            "qty_tolerance_pct": dec(s.qty_tolerance_pct), "default_tax_rate": dec(s.default_tax_rate)}


def money_tree(value):
    """Decimals anywhere in a report become strings (amounts to the cent)."""
    if isinstance(value, Decimal):
        return str(svc.money(value))
    if isinstance(value, dict):  # rates keep their six places
        return {k: dec(v) if k == "currency_rate" and isinstance(v, Decimal) else money_tree(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [money_tree(v) for v in value]
    return value
