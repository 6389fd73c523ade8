"""Procure-to-pay use cases: request → approval → purchase order → receipt → vendor bill with
3-way match → payment, plus AP aging and supplier statements.

Stock enters through `inventory.receive` (the stock bridge posts Dr 1405 / Cr 220201 暂估 on the
receipt's date); a vendor bill clears 暂估 at the received value and posts VAT input and the
payable (Dr 220201 + Dr 222101 / Cr 2202); any price difference goes to 6401, never to stock,
so the GL stock accounts keep equalling the stock valuation. Payments post Dr 2202 / Cr 1002.

Foreign currency: a supplier whose currency is not the company's is bought from in that currency
(order, bill and payment amounts are in it, each document keeps the rate of its date). Receipts
value stock in company currency at the receipt-date rate; the bill books 2202 at its rate with the
foreign amount beside it (暂估 cleared at the received value, the rest to 6401); a payment at a
later rate realises the difference on 660301 (see `accounting.fx`). `reverse_payment` undoes a
payment with a reversing voucher, reopening the bills it paid.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from opensupply.accounting import fx
from opensupply.accounting import service as gl
from opensupply.core.audit import record
from opensupply.core.auth import Role, UserRole
from opensupply.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.money import company_currency
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md
from opensupply.masterdata.lifecycle import require_orderable

from .models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PaymentAllocation,
    PurchaseApprovalRule,
    PurchaseApprovalStep,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseRequest,
    PurchaseRequestLine,
    PurchaseSettings,
    SupplierPayment,
    VendorBill,
    VendorBillLine,
)

register_sequence("PR", "PR{year}-", 6)
register_sequence("PO", "PO{year}-", 6)
register_sequence("GR", "GR{year}-", 6)
register_sequence("VB", "VB{year}-", 6)
register_sequence("PAY", "PAY{year}-", 6)

HUNDRED = Decimal(100)
DEFAULT_RULES = ((Decimal(5000), 0, "admin"), (Decimal(50000), 1, "admin"), (None, 2, "admin"))
AGING_BUCKETS = ("0-30", "31-60", "61-90", "90+")

REQUEST_STATES = {"draft": _l("草稿"), "pending": _l("待审批"), "approved": _l("已批准"), "rejected": _l("已驳回"),
                  "ordered": _l("已下单"), "cancelled": _l("已取消")}
ORDER_STATES = {"draft": _l("草稿"), "confirmed": _l("已确认"), "done": _l("已完成"), "cancelled": _l("已取消")}
RECEIPT_STATES = {"done": _l("已收货"), "cancelled": _l("已取消")}
BILL_STATES = {"blocked": _l("匹配异常待审批"), "posted": _l("已过账"), "paid": _l("已付清"), "cancelled": _l("已取消")}
PAYMENT_STATES = {"posted": _l("已过账"), "cancelled": _l("已取消")}


def state_label(kind: str, state: str) -> str:
    table = {"request": REQUEST_STATES, "order": ORDER_STATES, "receipt": RECEIPT_STATES, "bill": BILL_STATES,
             "payment": PAYMENT_STATES}[kind]
    return str(table.get(state, state))


def money(value) -> Decimal:
    return gl.money(value)


def _dec(value, field: str, *, positive: bool = False, allow_zero: bool = True) -> Decimal:
    try:
        d = to_decimal(value)
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationFailed(_("数字格式不正确：{v}", v=value), field=field) from None
    if not d.is_finite():
        raise ValidationFailed(_("数字格式不正确：{v}", v=value), field=field)
    if positive and (d < 0 or (d == 0 and not allow_zero)):
        raise ValidationFailed(_("数量必须大于 0") if field == "quantity" else _("金额不能为负数"), field=field)
    return d


def _at_line(exc, i: int, n: int):
    return inv._at_line(exc, i, n)


# ------------------------------------------------------------------ look-ups
def settings(uow: UnitOfWork) -> PurchaseSettings:
    row = uow.session.scalar(select(PurchaseSettings).where(PurchaseSettings.company_id == uow.company_id))
    if row is None:
        row = uow.add(PurchaseSettings(receipt_tolerance_pct=Decimal(5), price_tolerance_pct=Decimal(5),
                                       qty_tolerance_pct=ZERO, default_tax_rate=Decimal(13)))
        if not uow.readonly:
            uow.flush()
    return row


def update_settings(uow: UnitOfWork, data: dict) -> PurchaseSettings:
    uow.actor.require("erp.purchase_approve")
    row = settings(uow)
    for key in ("receipt_tolerance_pct", "price_tolerance_pct", "qty_tolerance_pct", "default_tax_rate"):
        if data.get(key) not in (None, ""):
            value = _dec(data[key], key, positive=True)
            if value > 1000:
                raise ValidationFailed(_("百分比不能超过 1000"), field=key)
            setattr(row, key, value)
    uow.flush()
    return row


def resolve_supplier(uow: UnitOfWork, ref: int | str | None) -> md.Partner:
    if ref in (None, ""):
        raise ValidationFailed(_("请选择供应商"), field="supplier")
    base = select(md.Partner).where(md.Partner.company_id == uow.company_id)
    partner = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        partner = uow.session.scalar(base.where(md.Partner.id == int(ref)))
    if partner is None and isinstance(ref, str):
        partner = uow.session.scalar(base.where(or_(md.Partner.code == ref.strip(), md.Partner.name == ref.strip())))
    if partner is None:
        raise NotFound(_("供应商不存在：{ref}", ref=ref), field="supplier")
    if not partner.is_supplier:
        raise ValidationFailed(_("{name} 不是供应商", name=partner.name), field="supplier")
    if not partner.active:
        raise ValidationFailed(_("供应商已停用：{name}", name=partner.name), field="supplier")
    return partner


def purchasable_product(uow: UnitOfWork, ref: int | str) -> md.Product:
    prod = inv.resolve_product(uow, ref)
    if not prod.active:
        raise ValidationFailed(_("商品已停用，不能采购：{sku}", sku=prod.sku), field="product")
    require_orderable(uow, [prod.id], "purchase")
    return prod


def _names(uow: UnitOfWork, partner_ids=(), product_ids=()) -> tuple[dict, dict]:
    partners, products = {}, {}
    if partner_ids:
        partners = {p.id: p for p in uow.session.scalars(select(md.Partner).where(
            md.Partner.company_id == uow.company_id, md.Partner.id.in_(set(partner_ids))))}
    if product_ids:
        products = {p.id: p for p in uow.session.scalars(select(md.Product).where(
            md.Product.company_id == uow.company_id, md.Product.id.in_(set(product_ids))))}
    return partners, products


def _user_roles(uow: UnitOfWork) -> set[str]:
    if uow.actor.user_id is None:
        return set()
    return set(uow.session.scalars(select(Role.code).join(UserRole, UserRole.role_id == Role.id)
                                   .where(UserRole.user_id == uow.actor.user_id)))


def _company_tz(uow: UnitOfWork) -> ZoneInfo:
    company_today(uow)  # caches the zone in the session
    return uow.session.info["company_tz"]


def _moment(uow: UnitOfWork, day: dt.date) -> dt.datetime:
    """When a document dated `day` happened: now if today, else noon of that day where the company is."""
    tz = _company_tz(uow)
    now = utcnow()
    if now.astimezone(tz).date() == day:
        return now
    return dt.datetime.combine(day, dt.time(12), tzinfo=tz)


# ------------------------------------------------------------ approval rules
def approval_rules(uow: UnitOfWork) -> list[PurchaseApprovalRule]:
    rows = list(uow.session.scalars(select(PurchaseApprovalRule).where(
        PurchaseApprovalRule.company_id == uow.company_id)))
    if not rows:
        return [PurchaseApprovalRule(company_id=uow.company_id, max_amount=m, steps=s, final_role=r)
                for m, s, r in DEFAULT_RULES]
    return sorted(rows, key=lambda r: (r.max_amount is None, r.max_amount or ZERO))


def set_approval_rules(uow: UnitOfWork, rules: list[dict]) -> list[PurchaseApprovalRule]:
    """Replace the company's thresholds. Each rule: max_amount (empty = no limit), steps 0–2, final_role."""
    uow.actor.require("erp.purchase_approve")
    if not rules:
        raise ValidationFailed(_("请至少填写一条审批规则"), field="rules")
    parsed, seen = [], set()
    for i, r in enumerate(rules):
        try:
            limit = None if r.get("max_amount") in (None, "") else _dec(r["max_amount"], "max_amount", positive=True)
            try:
                steps = int(r.get("steps", 1))
            except (TypeError, ValueError):
                raise ValidationFailed(_("审批级数必须是 0、1 或 2"), field="steps") from None
            if steps not in (0, 1, 2):
                raise ValidationFailed(_("审批级数必须是 0、1 或 2"), field="steps")
            role = (r.get("final_role") or "admin").strip()
            if steps == 2 and not uow.session.scalar(select(Role.id).where(Role.code == role)):
                raise ValidationFailed(_("角色不存在：{code}", code=role), field="final_role")
        except ValidationFailed as exc:
            raise _at_line(exc, i, len(rules)) from None
        if limit in seen:
            raise ValidationFailed(_("审批金额上限重复：{v}", v=limit if limit is not None else _("不限")),
                                   field="max_amount")
        seen.add(limit)
        parsed.append((limit, steps, role))
    if None not in seen:
        raise ValidationFailed(_("最后一条规则的金额上限必须为空（不限金额）"), field="max_amount")
    for old in uow.session.scalars(select(PurchaseApprovalRule).where(
            PurchaseApprovalRule.company_id == uow.company_id)):
        uow.session.delete(old)
    uow.flush()
    for limit, steps, role in parsed:
        uow.add(PurchaseApprovalRule(max_amount=limit, steps=steps, final_role=role))
    uow.flush()
    return approval_rules(uow)


def _rule_for(uow: UnitOfWork, amount: Decimal) -> PurchaseApprovalRule:
    for rule in approval_rules(uow):
        if rule.max_amount is None or amount <= rule.max_amount:
            return rule
    return approval_rules(uow)[-1]


# ---------------------------------------------------------- purchase requests
@dataclass
class RequestLineIn:
    product: int | str
    quantity: Decimal | str | int
    unit_price: Decimal | str | int | None = None
    supplier: int | str | None = None


def create_request(uow: UnitOfWork, lines: list[RequestLineIn], *, supplier: int | str | None = None,
                   needed_by: dt.date | None = None, request_date: dt.date | None = None,
                   notes: str | None = None) -> PurchaseRequest:
    if not lines:
        raise ValidationFailed(_("请至少填写一行"), field="lines")
    default_supplier = resolve_supplier(uow, supplier) if supplier not in (None, "") else None
    day = request_date or company_today(uow)
    rows = []
    for i, ln in enumerate(lines):
        try:
            prod = purchasable_product(uow, ln.product)
            qty = _dec(ln.quantity, "quantity", positive=True, allow_zero=False)
            price = prod.cost if ln.unit_price in (None, "") else _dec(ln.unit_price, "unit_price", positive=True)
            sup = resolve_supplier(uow, ln.supplier) if ln.supplier not in (None, "") else default_supplier
        except (ValidationFailed, NotFound) as exc:
            raise _at_line(exc, i, len(lines)) from None
        rows.append(PurchaseRequestLine(product_id=prod.id, supplier_id=sup.id if sup else None, quantity=qty,
                                        unit_price=to_decimal(price), amount=money(qty * to_decimal(price))))
    req = PurchaseRequest(number=next_number(uow, "PR", on=day), state="draft", request_date=day, needed_by=needed_by,
                          requester_id=uow.actor.user_id, requester=uow.actor.username,
                          supplier_id=default_supplier.id if default_supplier else None, notes=notes, lines=rows,
                          total=sum((r.amount for r in rows), ZERO))
    for r in rows:
        r.company_id = uow.company_id
    uow.add(req)
    uow.flush()
    return req


def _step(uow: UnitOfWork, req: PurchaseRequest, step: int, decision: str, comment: str | None) -> None:
    st = PurchaseApprovalStep(company_id=uow.company_id, request_id=req.id, step=step, user_id=uow.actor.user_id,
                              username=uow.actor.username, decision=decision, comment=comment,
                              decided_at=utcnow())
    req.steps.append(st)


def submit_request(uow: UnitOfWork, request_id: int) -> PurchaseRequest:
    """Send a draft request for approval; amounts within the lowest threshold are approved at once."""
    req = uow.get(PurchaseRequest, request_id, for_update=True)
    if req.state not in ("draft", "rejected"):
        raise Conflict(_("只有草稿或已驳回的申请可以提交：{n}", n=req.number), field="state")
    rule = _rule_for(uow, req.total)
    req.required_steps, req.final_role, req.approved_steps, req.reject_reason = rule.steps, rule.final_role, 0, None
    if rule.steps == 0:
        req.state = "approved"
        _step(uow, req, 0, "approved", _("金额 {amount} 不超过 {limit}，自动批准", amount=req.total,
                                         limit=rule.max_amount))
    else:
        req.state = "pending"
    uow.flush()
    uow.emit("erp.purchase_request_submitted", purchase_request_id=req.id, state=req.state)
    return req


def approve_request(uow: UnitOfWork, request_id: int, comment: str | None = None) -> PurchaseRequest:
    uow.actor.require("erp.purchase_approve")
    req = uow.get(PurchaseRequest, request_id, for_update=True)
    if req.state != "pending":
        raise Conflict(_("申请 {n} 不在待审批状态", n=req.number), field="state")
    if req.requester_id is not None and req.requester_id == uow.actor.user_id:
        raise PermissionDenied(_("不能审批自己提交的申请"))
    step = req.approved_steps + 1
    if any(s.user_id == uow.actor.user_id and s.decision == "approved" and s.step > 0 for s in req.steps
           if uow.actor.user_id is not None):
        raise PermissionDenied(_("同一人不能审批两级"))
    if step >= 2 and step == req.required_steps and not uow.actor.is_superuser \
            and req.final_role not in _user_roles(uow):
        raise PermissionDenied(_("第 {step} 级审批需要角色：{role}", step=step, role=req.final_role))
    _step(uow, req, step, "approved", (comment or "").strip() or None)
    req.approved_steps = step
    if step >= req.required_steps:
        req.state = "approved"
    uow.flush()
    return req


def reject_request(uow: UnitOfWork, request_id: int, reason: str) -> PurchaseRequest:
    uow.actor.require("erp.purchase_approve")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("驳回必须填写原因"), field="reason")
    req = uow.get(PurchaseRequest, request_id, for_update=True)
    if req.state != "pending":
        raise Conflict(_("申请 {n} 不在待审批状态", n=req.number), field="state")
    _step(uow, req, req.approved_steps + 1, "rejected", reason)
    req.state, req.reject_reason = "rejected", reason
    uow.flush()
    return req


def cancel_request(uow: UnitOfWork, request_id: int) -> PurchaseRequest:
    req = uow.get(PurchaseRequest, request_id, for_update=True)
    if req.state in ("ordered", "cancelled"):
        raise Conflict(_("申请 {n} 已下单或已取消", n=req.number), field="state")
    req.state = "cancelled"
    uow.flush()
    return req


def create_orders_from_request(uow: UnitOfWork, request_id: int, *, confirm: bool = False,
                               order_date: dt.date | None = None, location: int | str | None = None
                               ) -> list[PurchaseOrder]:
    """One purchase order per supplier of an approved request."""
    req = uow.get(PurchaseRequest, request_id, for_update=True)
    if req.state != "approved":
        raise Conflict(_("申请 {n} 未批准，不能下单", n=req.number), field="state")
    groups: dict[int, list[PurchaseRequestLine]] = defaultdict(list)
    for i, ln in enumerate(req.lines):
        sup = ln.supplier_id or req.supplier_id
        if sup is None:
            raise ValidationFailed(_("第 {n} 行没有指定供应商", n=i + 1), field="supplier")
        groups[sup].append(ln)
    orders = []
    for sup, lines in groups.items():
        po = create_order(uow, sup, [OrderLineIn(ln.product_id, ln.quantity, ln.unit_price) for ln in lines],
                          request_id=req.id, expected_date=req.needed_by, order_date=order_date, location=location)
        if confirm:
            confirm_order(uow, po.id)
        orders.append(po)
    req.state = "ordered"
    uow.flush()
    return orders


# ------------------------------------------------------------ purchase orders
@dataclass
class OrderLineIn:
    product: int | str
    quantity: Decimal | str | int
    unit_price: Decimal | str | int | None = None
    tax_rate: Decimal | str | int | None = None


def create_order(uow: UnitOfWork, supplier: int | str, lines: list[OrderLineIn], *, order_date: dt.date | None = None,
                 expected_date: dt.date | None = None, location: int | str | None = None,
                 request_id: int | None = None, notes: str | None = None,
                 receipt_tolerance_pct=None, price_tolerance_pct=None, qty_tolerance_pct=None) -> PurchaseOrder:
    sup = resolve_supplier(uow, supplier)
    _srm(uow, "suppliers", "require_can_order", sup.id)
    if not lines:
        raise ValidationFailed(_("请至少填写一行"), field="lines")
    conf = settings(uow)
    loc = None
    if location not in (None, ""):
        loc = inv.resolve_location(uow, location)
        if loc.usage != "internal":
            raise ValidationFailed(_("{code} 不是库内库位", code=loc.full_code), field="location")
    day = order_date or company_today(uow)
    rows = []
    for i, ln in enumerate(lines):
        try:
            prod = purchasable_product(uow, ln.product)
            qty = _dec(ln.quantity, "quantity", positive=True, allow_zero=False)
            price = to_decimal(prod.cost) if ln.unit_price in (None, "") else _dec(ln.unit_price, "unit_price",
                                                                                   positive=True)
            rate = conf.default_tax_rate if ln.tax_rate in (None, "") else _dec(ln.tax_rate, "tax_rate",
                                                                                positive=True)
        except (ValidationFailed, NotFound) as exc:
            raise _at_line(exc, i, len(lines)) from None
        rows.append(PurchaseOrderLine(company_id=uow.company_id, product_id=prod.id, quantity=qty, unit_price=price,
                                      tax_rate=rate, amount=money(qty * price)))
    tol = {}
    for key, value, default in (("receipt_tolerance_pct", receipt_tolerance_pct, conf.receipt_tolerance_pct),
                                ("price_tolerance_pct", price_tolerance_pct, conf.price_tolerance_pct),
                                ("qty_tolerance_pct", qty_tolerance_pct, conf.qty_tolerance_pct)):
        tol[key] = default if value in (None, "") else _dec(value, key, positive=True)
    currency = (sup.currency_code or "CNY").upper()
    po = PurchaseOrder(number=next_number(uow, "PO", on=day), state="draft", supplier_id=sup.id, order_date=day,
                       expected_date=expected_date, currency_code=currency, request_id=request_id,
                       currency_rate=fx.document_rate(uow, currency, day),
                       location_id=loc.id if loc else None, notes=notes, lines=rows, **tol)
    _order_totals(po)
    uow.add(po)
    uow.flush()
    _srm(uow, "contracts", "check_order_prices", po)
    return po


def _srm(uow: UnitOfWork, area: str, fn: str, *args) -> None:
    """SRM's say on a purchase order (supplier status, agreed prices) while SRM is on for the company —
    imported lazily so purchasing neither depends on SRM nor pays for it when it is off."""
    from opensupply.core.modules import enabled_for

    if "srm" in enabled_for(uow):
        import importlib

        getattr(importlib.import_module(f"opensupply.srm.{area}"), fn)(uow, *args)


def _order_totals(po: PurchaseOrder) -> None:
    po.untaxed = sum((money(ln.amount) for ln in po.lines), ZERO)
    po.tax = sum((money(to_decimal(ln.amount) * to_decimal(ln.tax_rate) / HUNDRED) for ln in po.lines), ZERO)
    po.total = po.untaxed + po.tax


def confirm_order(uow: UnitOfWork, order_id: int) -> PurchaseOrder:
    po = uow.get(PurchaseOrder, order_id, for_update=True)
    if po.state != "draft":
        raise Conflict(_("只有草稿订单可以确认：{n}", n=po.number), field="state")
    _srm(uow, "suppliers", "require_can_order", po.supplier_id)  # the status may have changed since the draft
    po.state = "confirmed"
    uow.flush()
    uow.emit("erp.purchase_order_confirmed", purchase_order_id=po.id, supplier_id=po.supplier_id)
    return po


def cancel_order(uow: UnitOfWork, order_id: int) -> PurchaseOrder:
    po = uow.get(PurchaseOrder, order_id, for_update=True)
    if po.state == "cancelled":
        raise Conflict(_("订单已取消：{n}", n=po.number), field="state")
    if any(ln.qty_received > 0 or ln.qty_billed > 0 for ln in po.lines):
        raise Conflict(_("订单 {n} 已有收货或发票，不能取消", n=po.number), field="state")
    po.state = "cancelled"
    uow.flush()
    return po


def _order_line(po: PurchaseOrder, ref_line_id: int | None, product: int | str | None, uow: UnitOfWork,
                want_open: str) -> PurchaseOrderLine:
    if ref_line_id:
        for ln in po.lines:
            if ln.id == int(ref_line_id):
                return ln
        raise NotFound(_("订单行不存在：#{id}", id=ref_line_id), field="order_line_id")
    if product in (None, ""):
        raise ValidationFailed(_("请指定订单行或商品"), field="product")
    prod = inv.resolve_product(uow, product)
    candidates = [ln for ln in po.lines if ln.product_id == prod.id]
    if not candidates:
        raise ValidationFailed(_("商品 {sku} 不在订单 {n} 中", sku=prod.sku, n=po.number), field="product")
    for ln in candidates:
        done = ln.qty_received if want_open == "receive" else ln.qty_billed
        limit = ln.quantity if want_open == "receive" else ln.qty_received
        if done < limit:
            return ln
    return candidates[0]


# ---------------------------------------------------------------- receipts
@dataclass
class ReceiptLineIn:
    quantity: Decimal | str | int
    order_line_id: int | None = None
    product: int | str | None = None
    lot: str | None = None
    expiry_date: dt.date | None = None


def receive_order(uow: UnitOfWork, order_id: int, lines: list[ReceiptLineIn] | None = None, *,
                  receipt_date: dt.date | None = None, location: int | str | None = None,
                  notes: str | None = None) -> GoodsReceipt:
    """Receive goods against a confirmed order (partial allowed; over-receipt up to the order's tolerance)."""
    po = uow.get(PurchaseOrder, order_id, for_update=True)
    if po.state != "confirmed":
        raise Conflict(_("订单 {n} 状态为 {s}，不能收货", n=po.number, s=state_label("order", po.state)),
                       field="state")
    if not lines:  # everything still open
        lines = [ReceiptLineIn(ln.quantity - ln.qty_received, order_line_id=ln.id) for ln in po.lines
                 if ln.qty_received < ln.quantity]
        if not lines:
            raise ValidationFailed(_("订单 {n} 已全部收货", n=po.number), field="lines")
    loc_ref = location if location not in (None, "") else po.location_id
    if loc_ref in (None, ""):
        wh = uow.session.scalar(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id,
                                                           md.Warehouse.active.is_(True)).order_by(md.Warehouse.id))
        loc_ref = wh.stock_location_id if wh else None
    if loc_ref in (None, ""):
        raise ValidationFailed(_("请输入库位"), field="location")
    loc = inv.resolve_location(uow, loc_ref)
    if loc.usage != "internal":
        raise ValidationFailed(_("{code} 不是库内库位", code=loc.full_code), field="location")
    _p, products = _names(uow, product_ids=[ln.product_id for ln in po.lines])
    day = receipt_date or company_today(uow)
    if day < po.order_date:
        raise ValidationFailed(_("收货日期不能早于订单日期 {d}", d=po.order_date), field="receipt_date")
    if day > company_today(uow):
        raise ValidationFailed(_("收货日期不能晚于今天"), field="receipt_date")
    planned: list[tuple[PurchaseOrderLine, Decimal, ReceiptLineIn]] = []
    adding: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for i, ln in enumerate(lines):
        try:
            ol = _order_line(po, ln.order_line_id, ln.product, uow, "receive")
            qty = _dec(ln.quantity, "quantity", positive=True, allow_zero=False)
            adding[ol.id] += qty
            allowed = ol.quantity * (1 + po.receipt_tolerance_pct / HUNDRED)
            if ol.qty_received + adding[ol.id] > allowed:
                prod = products[ol.product_id]
                raise ValidationFailed(_(
                    "超收：{sku} {name} 订购 {ordered}，已收 {received}，本次 {qty}，超出允许的 {tol}% 容差"
                    "（最多还可收 {left}）", sku=prod.sku, name=prod.name, ordered=inv.fmt_qty(ol.quantity),
                    received=inv.fmt_qty(ol.qty_received), qty=inv.fmt_qty(adding[ol.id]),
                    tol=inv.fmt_qty(po.receipt_tolerance_pct),
                    left=inv.fmt_qty(max(allowed - ol.qty_received, ZERO))), field="quantity")
        except (ValidationFailed, NotFound) as exc:
            raise _at_line(exc, i, len(lines)) from None
        planned.append((ol, qty, ln))
    # a foreign-currency order's goods enter stock in company currency at the receipt-date rate
    foreign = fx.is_foreign(uow, po.currency_code)
    rate = fx.document_rate(uow, po.currency_code, day)
    receipt = GoodsReceipt(number=next_number(uow, "GR", on=day), state="done", order_id=po.id,
                           supplier_id=po.supplier_id, receipt_date=day, location_id=loc.id, notes=notes,
                           currency_rate=rate)
    uow.add(receipt)
    uow.flush()
    stock_lines = [inv.StockLine(product=ol.product_id, quantity=qty, lot=ln.lot,
                                 unit_cost=inv.q6(to_decimal(ol.unit_price) * rate) if foreign else ol.unit_price,
                                 expiry_date=ln.expiry_date) for ol, qty, ln in planned]
    move_ids = inv.receive(uow, stock_lines, loc.id, reference=receipt.number, ref_type="erp.goods_receipt",
                           ref_id=receipt.id, date_done=_moment(uow, day))
    for (ol, qty, ln), move_id in zip(planned, move_ids, strict=True):
        receipt.lines.append(GoodsReceiptLine(company_id=uow.company_id, order_line_id=ol.id,
                                              product_id=ol.product_id, quantity=qty, unit_cost=ol.unit_price,
                                              lot=(ln.lot or "").strip() or None, move_id=move_id))
        ol.qty_received += qty
    receipt.total = sum((money(qty * ol.unit_price) for ol, qty, _ln in planned), ZERO)
    _update_order_state(po)
    uow.flush()
    uow.emit("erp.receipt_done", receipt_id=receipt.id, purchase_order_id=po.id, supplier_id=po.supplier_id,
             date=day)
    return receipt


def _update_order_state(po: PurchaseOrder) -> None:
    if po.state in ("confirmed", "done"):
        complete = all(ln.qty_received >= ln.quantity * (1 - po.receipt_tolerance_pct / HUNDRED) for ln in po.lines)
        po.state = "done" if complete else "confirmed"


def cancel_receipt(uow: UnitOfWork, receipt_id: int) -> GoodsReceipt:
    """Reverse a receipt's stock moves (the stock bridge reverses its 暂估 entry with them)."""
    receipt = uow.get(GoodsReceipt, receipt_id, for_update=True)
    if receipt.state != "done":
        raise Conflict(_("收货单 {n} 已取消", n=receipt.number), field="state")
    po = uow.get(PurchaseOrder, receipt.order_id, for_update=True)
    by_id = {ln.id: ln for ln in po.lines}
    for ln in receipt.lines:
        ol = by_id[ln.order_line_id]
        if ol.qty_received - ln.quantity < ol.qty_billed:
            raise Conflict(_("收货单 {n} 的商品已开票，请先取消发票", n=receipt.number), field="state")
    move_ids = [ln.move_id for ln in receipt.lines if ln.move_id]
    if move_ids:
        reference = _("冲销 {ref}", ref=receipt.number)
        reversal_ids = inv.reverse_moves(uow, move_ids, reference=reference)
        # Stock leaves at its current cost (moving average / FIFO), which may differ from what this
        # receipt brought in; the rest of its 暂估 goes to the price difference, never to stock.
        left = money(_moves_value(uow, move_ids)) - money(_moves_value(uow, reversal_ids))
        if left:
            gl.post_entry(uow, journal="PUR", date=company_today(uow), reference=receipt.number,
                          ref_type="erp.goods_receipt", ref_id=receipt.id, memo=_("冲销收货成本差异"),
                          lines=[gl.EntryLine(account="grni", debit=left, memo=_("冲暂估")),
                                 gl.EntryLine(account="cogs", credit=left, memo=_("采购价差"))])
    for ln in receipt.lines:
        by_id[ln.order_line_id].qty_received -= ln.quantity
    receipt.state = "cancelled"
    if po.state == "done":
        po.state = "confirmed"
    _update_order_state(po)
    uow.flush()
    uow.emit("erp.receipt_cancelled", receipt_id=receipt.id, purchase_order_id=po.id)
    return receipt


def _moves_value(uow: UnitOfWork, move_ids: list[int]) -> Decimal:
    from opensupply.inventory.models import StockMove

    return to_decimal(uow.session.scalar(select(func.coalesce(func.sum(func.abs(StockMove.value)), 0)).where(
        StockMove.company_id == uow.company_id, StockMove.id.in_(move_ids))) or 0)


# -------------------------------------------------------------- vendor bills
@dataclass
class BillLineIn:
    quantity: Decimal | str | int
    unit_price: Decimal | str | int | None = None
    order_line_id: int | None = None
    product: int | str | None = None
    tax_rate: Decimal | str | int | None = None


def create_vendor_bill(uow: UnitOfWork, order_id: int, lines: list[BillLineIn] | None = None, *,
                       bill_date: dt.date | None = None, due_date: dt.date | None = None,
                       supplier_invoice_no: str | None = None) -> VendorBill:
    """Record a supplier's invoice against an order and match it with the order and the receipts.
    Within tolerance it posts at once; outside, it waits blocked for approval (`approve_match`)."""
    po = uow.get(PurchaseOrder, order_id, for_update=True)
    if po.state not in ("confirmed", "done"):
        raise Conflict(_("订单 {n} 状态为 {s}，不能开票", n=po.number, s=state_label("order", po.state)),
                       field="state")
    if not lines:
        lines = [BillLineIn(ln.qty_received - ln.qty_billed, ln.unit_price, order_line_id=ln.id)
                 for ln in po.lines if ln.qty_received > ln.qty_billed]
        if not lines:
            raise ValidationFailed(_("订单 {n} 没有待开票的收货", n=po.number), field="lines")
    partner = uow.session.get(md.Partner, po.supplier_id)
    _p, products = _names(uow, product_ids=[ln.product_id for ln in po.lines])
    day = bill_date or company_today(uow)
    rows, issues = [], []
    billing: dict[int, Decimal] = defaultdict(lambda: ZERO)
    pending = _blocked_quantities(uow, po.id)
    for i, ln in enumerate(lines):
        try:
            ol = _order_line(po, ln.order_line_id, ln.product, uow, "bill")
            qty = _dec(ln.quantity, "quantity", positive=True, allow_zero=False)
            price = ol.unit_price if ln.unit_price in (None, "") else _dec(ln.unit_price, "unit_price",
                                                                            positive=True)
            rate = ol.tax_rate if ln.tax_rate in (None, "") else _dec(ln.tax_rate, "tax_rate", positive=True)
        except (ValidationFailed, NotFound) as exc:
            raise _at_line(exc, i, len(lines)) from None
        prod = products[ol.product_id]
        billing[ol.id] += qty
        if ol.unit_price > 0:
            diff_pct = (price - ol.unit_price) / ol.unit_price * HUNDRED
        else:
            diff_pct = HUNDRED if price > 0 else ZERO
        if abs(diff_pct) > po.price_tolerance_pct:
            issues.append(_("{sku} 单价 {price} 与订单价 {po_price} 相差 {pct}%，超出容差 {tol}%", sku=prod.sku,
                            price=inv.fmt_qty(price), po_price=inv.fmt_qty(ol.unit_price),
                            pct=inv.fmt_qty(diff_pct.quantize(Decimal("0.01"))),
                            tol=inv.fmt_qty(po.price_tolerance_pct)))
        billed_total = ol.qty_billed + pending.get(ol.id, ZERO) + billing[ol.id]
        if billed_total > ol.qty_received * (1 + po.qty_tolerance_pct / HUNDRED):
            issues.append(_("{sku} 开票数量 {billed} 超过收货数量 {received}", sku=prod.sku,
                            billed=inv.fmt_qty(billed_total), received=inv.fmt_qty(ol.qty_received)))
        amount = money(qty * price)
        rows.append(VendorBillLine(company_id=uow.company_id, order_line_id=ol.id, product_id=ol.product_id,
                                   quantity=qty, unit_price=price, tax_rate=rate, amount=amount,
                                   tax=money(amount * rate / HUNDRED)))
    bill = VendorBill(number=next_number(uow, "VB", on=day), supplier_invoice_no=(supplier_invoice_no or None),
                      supplier_id=po.supplier_id, order_id=po.id, bill_date=day,
                      due_date=due_date or day + dt.timedelta(days=partner.payment_terms_days or 0),
                      untaxed=sum((r.amount for r in rows), ZERO), tax=sum((r.tax for r in rows), ZERO),
                      lines=rows, match_ok=not issues, match_issues="\n".join(issues) or None,
                      state="blocked" if issues else "posted", currency_code=po.currency_code or "CNY",
                      currency_rate=fx.document_rate(uow, po.currency_code, day))
    bill.total = bill.untaxed + bill.tax
    uow.add(bill)
    uow.flush()
    if not issues:
        _post_bill(uow, bill, po)
    uow.emit("erp.vendor_bill_created", vendor_bill_id=bill.id, state=bill.state)
    return bill


def _blocked_quantities(uow: UnitOfWork, order_id: int) -> dict[int, Decimal]:
    rows = uow.session.execute(
        select(VendorBillLine.order_line_id, func.sum(VendorBillLine.quantity))
        .join(VendorBill, VendorBill.id == VendorBillLine.bill_id)
        .where(VendorBill.company_id == uow.company_id, VendorBill.order_id == order_id,
               VendorBill.state == "blocked").group_by(VendorBillLine.order_line_id)).all()
    return {lid: to_decimal(q or 0) for lid, q in rows}


def _received_value(uow: UnitOfWork, order_line_ids: list[int]) -> dict[int, Decimal]:
    """Company-currency value the standing receipts of order lines brought into stock (and 暂估)."""
    from opensupply.inventory.models import StockMove

    rows = uow.session.execute(
        select(GoodsReceiptLine.order_line_id, func.sum(StockMove.value))
        .join(GoodsReceipt, GoodsReceipt.id == GoodsReceiptLine.receipt_id)
        .join(StockMove, StockMove.id == GoodsReceiptLine.move_id)
        .where(GoodsReceipt.company_id == uow.company_id, GoodsReceipt.state == "done",
               GoodsReceiptLine.order_line_id.in_(order_line_ids))
        .group_by(GoodsReceiptLine.order_line_id)).all()
    return {lid: to_decimal(v or 0) for lid, v in rows}


def _post_bill(uow: UnitOfWork, bill: VendorBill, po: PurchaseOrder) -> None:
    """Dr 220201 暂估 (the received value) + Dr 222101 VAT + Dr/Cr 6401 price difference / Cr 2202.
    A foreign bill books the payable at its own rate with the foreign amount beside it; 暂估 is
    cleared at what the goods were received at (receipt-date rate), the rest is price difference."""
    by_id = {ln.id: ln for ln in po.lines}
    foreign = fx.is_foreign(uow, bill.currency_code)
    received = _received_value(uow, [ln.order_line_id for ln in bill.lines]) if foreign else {}
    grni = diff = ZERO
    for line in bill.lines:
        ol = by_id[line.order_line_id]
        uncleared = max(ol.qty_received - ol.qty_billed, ZERO)
        cleared_qty = min(line.quantity, uncleared)
        if foreign:
            open_value = max(received.get(ol.id, ZERO) - to_decimal(ol.value_billed), ZERO)
            value = money(open_value) if cleared_qty >= uncleared else \
                money(open_value * cleared_qty / uncleared)
        else:
            value = money(cleared_qty * ol.unit_price)
        line.grni_value = value
        ol.qty_billed += line.quantity
        ol.value_billed += value
        grni += value
        diff += line.amount - value
    if foreign:
        rate = to_decimal(bill.currency_rate)
        total, tax = fx.to_company(bill.total, rate), fx.to_company(bill.tax, rate)
        diff = total - tax - grni
    else:
        total, tax = bill.total, bill.tax
    lines = [gl.EntryLine(account="grni", debit=grni, memo=_("冲暂估")),
             gl.EntryLine(account="cogs", debit=diff, memo=_("采购价差")),
             gl.EntryLine(account="vat_input", debit=tax, memo=_("进项税额")),
             gl.EntryLine(account="payable", credit=total, partner_id=bill.supplier_id,
                          **fx.currency_fields(uow, bill.currency_code, -to_decimal(bill.total)))]
    gl.post_entry(uow, journal="PUR", date=bill.bill_date, lines=lines, memo=_("供应商发票 {n}", n=bill.number),
                  reference=bill.number, ref_type="erp.vendor_bill", ref_id=bill.id)
    bill.posted_date = bill.bill_date
    uow.flush()


def approve_match(uow: UnitOfWork, bill_id: int, comment: str | None = None) -> VendorBill:
    """Release a bill the 3-way match blocked; who approved is kept on the bill and in the audit trail."""
    uow.actor.require("erp.purchase_approve")
    bill = uow.get(VendorBill, bill_id, for_update=True)
    if bill.state != "blocked":
        raise Conflict(_("发票 {n} 没有待审批的匹配差异", n=bill.number), field="state")
    po = uow.get(PurchaseOrder, bill.order_id, for_update=True)
    bill.match_approved_by_id = uow.actor.user_id
    bill.match_approved_by = uow.actor.username
    bill.match_approved_at = utcnow()
    bill.match_approval_comment = (comment or "").strip() or None
    bill.state = "posted"
    uow.flush()
    _post_bill(uow, bill, po)
    return bill


def cancel_vendor_bill(uow: UnitOfWork, bill_id: int) -> VendorBill:
    bill = uow.get(VendorBill, bill_id, for_update=True)
    if bill.state == "cancelled":
        raise Conflict(_("发票 {n} 已取消", n=bill.number), field="state")
    if bill.paid_amount > 0:
        raise Conflict(_("发票 {n} 已有付款，请先取消付款", n=bill.number), field="state")
    if bill.state == "posted":
        po = uow.get(PurchaseOrder, bill.order_id, for_update=True)
        by_id = {ln.id: ln for ln in po.lines}
        for line in bill.lines:
            ol = by_id[line.order_line_id]
            ol.qty_billed -= line.quantity
            ol.value_billed -= line.grni_value
        gl.reverse_document(uow, "erp.vendor_bill", bill.id, memo=_("取消发票 {n}", n=bill.number))
    bill.state = "cancelled"
    uow.flush()
    return bill


def open_amount(bill: VendorBill) -> Decimal:
    if bill.state not in ("posted", "paid"):
        return ZERO
    return money(bill.total) - money(bill.paid_amount)


# ------------------------------------------------------------------ payments
@dataclass
class AllocationIn:
    bill_id: int
    amount: Decimal | str | int | None = None


def create_payment(uow: UnitOfWork, supplier: int | str, allocations: list[AllocationIn], *,
                   payment_date: dt.date | None = None, amount=None, account: str = "bank",
                   reference: str | None = None, notes: str | None = None) -> SupplierPayment:
    """Pay one or several posted bills of a supplier, fully or partly: Dr 2202 / Cr bank.

    Bills in a foreign currency are paid in that currency at the payment-date rate: 2202 is
    cleared at each bill's own rate, the bank pays at today's, and the difference is the realised
    exchange difference on 660301 (Dr a loss, Cr a gain)."""
    sup = resolve_supplier(uow, supplier)
    if not allocations:
        raise ValidationFailed(_("请选择要付款的发票"), field="allocations")
    if account not in ("bank", "cash", "1002", "1001", "1012", "platform_cash"):
        raise ValidationFailed(_("付款账户不正确：{a}", a=account), field="account")
    day = payment_date or company_today(uow)
    rows, total, seen = [], ZERO, set()
    for i, a in enumerate(allocations):
        try:
            bill = uow.get(VendorBill, int(a.bill_id), for_update=True)
            if bill.id in seen:
                raise ValidationFailed(_("发票重复：{n}", n=bill.number), field="bill_id")
            seen.add(bill.id)
            if bill.supplier_id != sup.id:
                raise ValidationFailed(_("发票 {n} 不属于供应商 {s}", n=bill.number, s=sup.name), field="bill_id")
            if bill.state == "blocked":
                raise Conflict(_("发票 {n} 三单匹配未通过，审批后才能付款", n=bill.number), field="bill_id")
            if bill.state not in ("posted",):
                raise Conflict(_("发票 {n} 状态为 {s}，不能付款", n=bill.number, s=state_label("bill", bill.state)),
                               field="bill_id")
            open_ = open_amount(bill)
            pay = open_ if a.amount in (None, "") else money(_dec(a.amount, "amount", positive=True))
            if pay <= 0:
                raise ValidationFailed(_("付款金额必须大于 0"), field="amount")
            if pay > open_:
                raise ValidationFailed(_("付款金额 {a} 超过发票 {n} 未付金额 {o}", a=pay, n=bill.number, o=open_),
                                       field="amount")
            if day < bill.bill_date:
                raise ValidationFailed(_("付款日期不能早于发票日期 {d}", d=bill.bill_date), field="payment_date")
            if rows and (bill.currency_code or "CNY") != (rows[0][0].currency_code or "CNY"):
                raise ValidationFailed(_("一张付款单只能支付同一币种的发票：{a} 与 {b}",
                                         a=rows[0][0].currency_code, b=bill.currency_code), field="bill_id")
        except (ValidationFailed, Conflict, NotFound) as exc:
            raise _at_line(exc, i, len(allocations)) from None
        rows.append((bill, pay))
        total += pay
    if amount not in (None, "") and money(_dec(amount, "amount", positive=True)) != total:
        raise ValidationFailed(_("付款金额 {a} 与分配合计 {t} 不一致", a=money(to_decimal(amount)), t=total),
                               field="amount")
    currency = (rows[0][0].currency_code or "CNY").upper()
    rate = fx.document_rate(uow, currency, day)
    cleared = {}
    for bill, pay in rows:
        cleared[bill.id] = fx.settle_company(bill.total, bill.currency_rate or 1, bill.paid_amount,
                                             bill.paid_company, pay) if fx.is_foreign(uow, currency) else pay
    paid_company = sum(cleared.values(), ZERO)
    bank = fx.to_company(total, rate)
    payment = SupplierPayment(number=next_number(uow, "PAY", on=day), state="posted", supplier_id=sup.id,
                              payment_date=day, amount=total, account=account, reference=reference, notes=notes,
                              currency_code=currency, currency_rate=rate, fx_difference=bank - paid_company,
                              allocations=[PaymentAllocation(company_id=uow.company_id, bill_id=b.id, amount=p,
                                                             amount_company=cleared[b.id]) for b, p in rows])
    uow.add(payment)
    for bill, pay in rows:
        bill.paid_amount = money(bill.paid_amount) + pay
        bill.paid_company = money(bill.paid_company or 0) + cleared[bill.id]
        if bill.paid_amount >= money(bill.total):
            bill.state = "paid"
    uow.flush()
    gl.post_entry(uow, journal="BNK" if account != "cash" else "CSH", date=day,
                  lines=[gl.EntryLine(account="payable", debit=paid_company, partner_id=sup.id,
                                      **fx.currency_fields(uow, currency, total)),
                         gl.EntryLine(account=account, credit=bank),
                         fx.fx_line(bank - paid_company, _("汇兑损益 {n}", n=payment.number))],
                  memo=_("付款 {n}", n=payment.number), reference=payment.number, ref_type="erp.supplier_payment",
                  ref_id=payment.id)
    uow.emit("erp.supplier_payment_posted", payment_id=payment.id, supplier_id=sup.id, amount=total)
    return payment


def _unsettle_bills(uow: UnitOfWork, payment: SupplierPayment) -> None:
    for a in payment.allocations:
        bill = uow.get(VendorBill, a.bill_id, for_update=True)
        bill.paid_amount = money(bill.paid_amount) - money(a.amount)
        bill.paid_company = money(bill.paid_company or 0) - money(
            a.amount_company if a.amount_company is not None else a.amount)
        if bill.state == "paid":
            bill.state = "posted"


def cancel_payment(uow: UnitOfWork, payment_id: int) -> SupplierPayment:
    payment = uow.get(SupplierPayment, payment_id, for_update=True)
    if payment.state != "posted":
        raise Conflict(_("付款单 {n} 已取消", n=payment.number), field="state")
    _unsettle_bills(uow, payment)
    gl.reverse_document(uow, "erp.supplier_payment", payment.id, memo=_("取消付款 {n}", n=payment.number))
    payment.state = "cancelled"
    uow.flush()
    return payment


def reverse_payment(uow: UnitOfWork, payment_id: int, reason: str) -> SupplierPayment:
    """Undo a supplier payment made in error (wrong supplier, bounced transfer): a reversing
    voucher dated as the payment (the original is never edited), the bills it paid are open
    again (their paid amounts restored, in document and company currency). Refused when the
    payment's accounting period is closed. The payment keeps its number, marked cancelled with
    the reason; the audit trail records who did it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写冲销原因"), field="reason")
    payment = uow.get(SupplierPayment, payment_id, for_update=True)
    if payment.state != "posted":
        raise Conflict(_("付款单 {n} 已冲销或已取消", n=payment.number), field="state")
    if gl.period_state(uow, payment.payment_date) == "closed":
        raise Conflict(_("付款单 {n} 所在会计期间 {y}-{m:02d} 已结账，不能冲销", n=payment.number,
                         y=payment.payment_date.year, m=payment.payment_date.month), field="payment_date")
    _unsettle_bills(uow, payment)
    memo = _("冲销付款 {n}：{reason}", n=payment.number, reason=reason)[:300]
    entries = [e for e in gl.entries_for(uow, "erp.supplier_payment", payment.id)
               if not e.reversed and e.reversal_of_id is None]
    for entry in entries:
        gl.reverse_entry(uow, entry.id, date=entry.date, memo=memo)
    payment.state = "cancelled"
    payment.reversal_reason = reason[:300]
    uow.flush()
    record(uow.session, "reverse", "erp_supplier_payment", payment.id,
           after={"reason": reason[:300], "number": payment.number})
    uow.emit("erp.supplier_payment_reversed", payment_id=payment.id, supplier_id=payment.supplier_id,
             amount=payment.amount, reason=reason[:300])
    return payment


# ------------------------------------------------------------------- reports
def _paid_company_until(uow: UnitOfWork, as_of: dt.date, supplier_id: int | None = None) -> dict[int, Decimal]:
    """Payable cleared per bill by payments up to a date, in company currency."""
    stmt = (select(PaymentAllocation.bill_id,
                   func.sum(func.coalesce(PaymentAllocation.amount_company, PaymentAllocation.amount)))
            .join(SupplierPayment, SupplierPayment.id == PaymentAllocation.payment_id)
            .where(SupplierPayment.company_id == uow.company_id, SupplierPayment.state == "posted",
                   SupplierPayment.payment_date <= as_of).group_by(PaymentAllocation.bill_id))
    if supplier_id:
        stmt = stmt.where(SupplierPayment.supplier_id == supplier_id)
    return {b: money(a or 0) for b, a in uow.session.execute(stmt)}


def bill_total_company(bill: VendorBill) -> Decimal:
    """The payable a bill booked, in company currency."""
    return fx.to_company(bill.total, bill.currency_rate or 1)


def _paid_until(uow: UnitOfWork, as_of: dt.date, supplier_id: int | None = None) -> dict[int, Decimal]:
    stmt = (select(PaymentAllocation.bill_id, func.sum(PaymentAllocation.amount))
            .join(SupplierPayment, SupplierPayment.id == PaymentAllocation.payment_id)
            .where(SupplierPayment.company_id == uow.company_id, SupplierPayment.state == "posted",
                   SupplierPayment.payment_date <= as_of).group_by(PaymentAllocation.bill_id))
    if supplier_id:
        stmt = stmt.where(SupplierPayment.supplier_id == supplier_id)
    return {b: money(a or 0) for b, a in uow.session.execute(stmt)}


def ap_aging(uow: UnitOfWork, as_of: dt.date | None = None, supplier: int | str | None = None) -> dict:
    """Open payables per supplier in buckets of days past the due date (0-30 includes not yet due)."""
    as_of = as_of or company_today(uow)
    sup_id = resolve_supplier(uow, supplier).id if supplier not in (None, "") else None
    stmt = select(VendorBill).where(VendorBill.company_id == uow.company_id,
                                    VendorBill.state.in_(("posted", "paid")), VendorBill.bill_date <= as_of)
    if sup_id:
        stmt = stmt.where(VendorBill.supplier_id == sup_id)
    bills = list(uow.session.scalars(stmt.order_by(VendorBill.due_date, VendorBill.id)))
    paid = _paid_until(uow, as_of, sup_id)
    paid_company = _paid_company_until(uow, as_of, sup_id)
    per: dict[int, dict] = {}
    detail = []
    for b in bills:
        open_currency = money(b.total) - paid.get(b.id, ZERO)
        if open_currency <= 0:
            continue
        open_ = bill_total_company(b) - paid_company.get(b.id, ZERO)  # company currency (= the GL)
        days = (as_of - b.due_date).days
        bucket = AGING_BUCKETS[0] if days <= 30 else AGING_BUCKETS[1] if days <= 60 else \
            AGING_BUCKETS[2] if days <= 90 else AGING_BUCKETS[3]
        row = per.setdefault(b.supplier_id, {"supplier_id": b.supplier_id, **{k: ZERO for k in AGING_BUCKETS},
                                             "total": ZERO})
        row[bucket] += open_
        row["total"] += open_
        currency = b.currency_code or "CNY"
        if currency != company_currency(uow):
            foreign = row.setdefault("currencies", {})
            foreign[currency] = foreign.get(currency, ZERO) + open_currency
        detail.append({"bill_id": b.id, "number": b.number, "supplier_id": b.supplier_id, "bill_date": b.bill_date,
                       "due_date": b.due_date, "days_overdue": max(days, 0), "bucket": bucket, "open_amount": open_,
                       "currency_code": currency, "currency_rate": to_decimal(b.currency_rate or 1),
                       "open_amount_currency": open_currency})
    partners, _pr = _names(uow, partner_ids=list(per))
    items = []
    for sid, row in sorted(per.items(), key=lambda kv: partners[kv[0]].code):
        row["supplier_code"], row["supplier_name"] = partners[sid].code, partners[sid].name
        items.append(row)
    for d in detail:
        d["supplier_name"] = partners[d["supplier_id"]].name
    totals = {k: sum((r[k] for r in items), ZERO) for k in (*AGING_BUCKETS, "total")}
    return {"as_of": as_of, "buckets": list(AGING_BUCKETS), "items": items, "total": len(items), "totals": totals,
            "bills": detail}


def gl_payable_balance(uow: UnitOfWork, supplier_id: int, as_of: dt.date | None = None) -> Decimal:
    """Credit balance of 2202 应付账款 for one supplier in the general ledger."""
    from opensupply.accounting.models import Account, JournalLine

    stmt = (select(func.coalesce(func.sum(JournalLine.credit - JournalLine.debit), 0))
            .join(Account, Account.id == JournalLine.account_id)
            .where(JournalLine.company_id == uow.company_id, Account.code == gl.account_code("payable"),
                   JournalLine.partner_id == supplier_id))
    if as_of:
        stmt = stmt.where(JournalLine.date <= as_of)
    return money(uow.session.scalar(stmt))


def supplier_statement(uow: UnitOfWork, supplier: int | str, date_from: dt.date | None = None,
                       date_to: dt.date | None = None) -> dict:
    """Opening balance, bills and payments of the period, closing balance — and the GL balance of
    2202 for that supplier at the end date, which it must equal."""
    sup = uow.session.scalar(select(md.Partner).where(md.Partner.company_id == uow.company_id,
                                                      md.Partner.id == int(supplier))) \
        if isinstance(supplier, int) or str(supplier).isdigit() else None
    if sup is None:
        sup = resolve_supplier(uow, supplier)
    date_to = date_to or company_today(uow)
    date_from = date_from or date_to.replace(day=1)
    if date_from > date_to:
        raise ValidationFailed(_("开始日期不能晚于结束日期"), field="date_from")
    bills = list(uow.session.scalars(select(VendorBill).where(
        VendorBill.company_id == uow.company_id, VendorBill.supplier_id == sup.id,
        VendorBill.state.in_(("posted", "paid")), VendorBill.bill_date <= date_to)))
    payments = list(uow.session.scalars(select(SupplierPayment).where(
        SupplierPayment.company_id == uow.company_id, SupplierPayment.supplier_id == sup.id,
        SupplierPayment.state == "posted", SupplierPayment.payment_date <= date_to)))
    def cleared(p: SupplierPayment) -> Decimal:  # what the payment took off 2202, company currency
        return sum((money(a.amount_company if a.amount_company is not None else a.amount) for a in p.allocations),
                   ZERO)

    def foreign(doc, amount) -> dict:
        currency = doc.currency_code or "CNY"
        if currency == company_currency(uow):
            return {"currency_code": currency, "amount_currency": None, "currency_rate": None}
        return {"currency_code": currency, "amount_currency": money(amount),
                "currency_rate": to_decimal(doc.currency_rate or 1)}

    opening = sum((bill_total_company(b) for b in bills if b.bill_date < date_from), ZERO) - \
        sum((cleared(p) for p in payments if p.payment_date < date_from), ZERO)
    events = [(b.bill_date, 0, b.id, {"date": b.bill_date, "kind": "bill", "number": b.number, "id": b.id,
                                      "description": _("供应商发票 {inv}", inv=b.supplier_invoice_no or b.number),
                                      "debit": ZERO, "credit": bill_total_company(b), **foreign(b, b.total)})
              for b in bills if b.bill_date >= date_from]
    events += [(p.payment_date, 1, p.id, {"date": p.payment_date, "kind": "payment", "number": p.number, "id": p.id,
                                          "description": _("付款"), "debit": cleared(p), "credit": ZERO,
                                          **foreign(p, p.amount)})
               for p in payments if p.payment_date >= date_from]
    balance, lines = opening, []
    for _d, _k, _i, row in sorted(events, key=lambda e: e[:3]):
        balance += row["credit"] - row["debit"]
        row["balance"] = balance
        lines.append(row)
    gl_balance = gl_payable_balance(uow, sup.id, date_to)
    return {"supplier_id": sup.id, "supplier_code": sup.code, "supplier_name": sup.name, "date_from": date_from,
            "date_to": date_to, "opening_balance": opening, "lines": lines,
            "total_billed": sum((ln["credit"] for ln in lines), ZERO),
            "total_paid": sum((ln["debit"] for ln in lines), ZERO), "closing_balance": balance,
            "gl_balance": gl_balance, "reconciled": gl_balance == balance}


# ------------------------------------------------------------------- listings
def _list(uow: UnitOfWork, model, date_col, *, q=None, state=None, supplier=None, date_from=None, date_to=None,
          limit=50, offset=0, extra=()):
    stmt = select(model).where(model.company_id == uow.company_id, *extra)
    if q:
        like = f"%{q.strip()}%"
        conds = [model.number.ilike(like)]
        sup_col = getattr(model, "supplier_id", None)
        if sup_col is not None:
            conds.append(sup_col.in_(select(md.Partner.id).where(
                md.Partner.company_id == uow.company_id, or_(md.Partner.name.ilike(like),
                                                             md.Partner.code.ilike(like)))))
        if hasattr(model, "supplier_invoice_no"):
            conds.append(model.supplier_invoice_no.ilike(like))
        stmt = stmt.where(or_(*conds))
    if state:
        stmt = stmt.where(model.state == state)
    if supplier not in (None, ""):
        col = getattr(model, "supplier_id", None)
        if col is not None:
            sup = uow.session.scalar(select(md.Partner.id).where(
                md.Partner.company_id == uow.company_id,
                or_(md.Partner.code == str(supplier), md.Partner.id == (int(supplier) if str(supplier).isdigit()
                                                                         else -1))))
            stmt = stmt.where(col == (sup or -1))
    if date_from:
        stmt = stmt.where(date_col >= date_from)
    if date_to:
        stmt = stmt.where(date_col <= date_to)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(date_col.desc(), model.id.desc()).limit(limit).offset(offset)))
    return rows, total


def request_rows(uow, **kw):
    return _list(uow, PurchaseRequest, PurchaseRequest.request_date, **kw)


def order_rows(uow, **kw):
    return _list(uow, PurchaseOrder, PurchaseOrder.order_date, **kw)


def product_price_history(uow: UnitOfWork, product_id: int, *, date_from: dt.date | None = None,
                          date_to: dt.date | None = None, limit: int = 2000) -> list[dict]:
    """Prices paid for one product on confirmed (or later) orders, newest first — SRM's price comparison."""
    stmt = (select(PurchaseOrder.id, PurchaseOrder.number, PurchaseOrder.order_date, PurchaseOrder.supplier_id,
                   PurchaseOrder.currency_code, PurchaseOrderLine.quantity, PurchaseOrderLine.unit_price)
            .join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
            .where(PurchaseOrder.company_id == uow.company_id, PurchaseOrderLine.product_id == product_id,
                   PurchaseOrder.state.in_(("confirmed", "done"))))
    if date_from:
        stmt = stmt.where(PurchaseOrder.order_date >= date_from)
    if date_to:
        stmt = stmt.where(PurchaseOrder.order_date <= date_to)
    rows = uow.session.execute(stmt.order_by(PurchaseOrder.order_date.desc(), PurchaseOrder.id.desc()).limit(limit))
    return [{"order_id": r.id, "number": r.number, "order_date": r.order_date, "supplier_id": r.supplier_id,
             "currency_code": r.currency_code, "quantity": r.quantity, "unit_price": r.unit_price} for r in rows]


def receipt_rows(uow, order_id: int | None = None, **kw):
    extra = (GoodsReceipt.order_id == order_id,) if order_id else ()
    return _list(uow, GoodsReceipt, GoodsReceipt.receipt_date, extra=extra, **kw)


def bill_rows(uow, order_id: int | None = None, **kw):
    extra = (VendorBill.order_id == order_id,) if order_id else ()
    return _list(uow, VendorBill, VendorBill.bill_date, extra=extra, **kw)


def payment_rows(uow, **kw):
    return _list(uow, SupplierPayment, SupplierPayment.payment_date, **kw)


def receipt_summaries(uow: UnitOfWork, receipt_ids) -> dict[int, dict]:
    """Number, date, purchase order and supplier of goods receipts (where a lot came from, for a trace)."""
    ids = {int(i) for i in receipt_ids}
    if not ids:
        return {}
    rows = uow.session.execute(
        select(GoodsReceipt.id, GoodsReceipt.number, GoodsReceipt.receipt_date, PurchaseOrder.id,
               PurchaseOrder.number, md.Partner.id, md.Partner.code, md.Partner.name)
        .join(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
        .join(md.Partner, md.Partner.id == GoodsReceipt.supplier_id)
        .where(GoodsReceipt.company_id == uow.company_id, GoodsReceipt.id.in_(ids))).all()
    return {r[0]: {"receipt": r[1], "date": r[2], "order_id": r[3], "order": r[4], "supplier_id": r[5],
                   "supplier_code": r[6], "supplier": r[7]} for r in rows}


# --------------------------------------------------------- supplier-facing reads (SRM portal and scorecards)
SUPPLIER_VISIBLE_STATES = ("confirmed", "done", "cancelled")  # a draft has not been sent to the supplier yet


def supplier_order_rows(uow: UnitOfWork, supplier_id: int, *, q=None, state=None, limit=50, offset=0):
    """One supplier's sent purchase orders (for the supplier portal: never another supplier's)."""
    extra = (PurchaseOrder.supplier_id == int(supplier_id), PurchaseOrder.state.in_(SUPPLIER_VISIBLE_STATES))
    return _list(uow, PurchaseOrder, PurchaseOrder.order_date, q=q, state=state, limit=limit, offset=offset,
                 extra=extra)


def supplier_order(uow: UnitOfWork, supplier_id: int, order_id: int, *, for_update: bool = False) -> PurchaseOrder:
    """A sent purchase order of this supplier; any other order is simply not found."""
    stmt = select(PurchaseOrder).where(
        PurchaseOrder.company_id == uow.company_id, PurchaseOrder.id == int(order_id),
        PurchaseOrder.supplier_id == int(supplier_id), PurchaseOrder.state.in_(SUPPLIER_VISIBLE_STATES))
    po = uow.session.scalar(stmt.with_for_update() if for_update else stmt)
    if po is None:
        raise NotFound(_("记录不存在：{what} #{id}", what=PurchaseOrder.__label__, id=order_id))
    return po


def order_ids_matching(uow: UnitOfWork, text: str):
    """A subquery of the ids of purchase orders whose number contains `text` (for other modules' searches)."""
    return select(PurchaseOrder.id).where(PurchaseOrder.company_id == uow.company_id,
                                          PurchaseOrder.number.ilike(f"%{text}%"))


def order_summaries(uow: UnitOfWork, order_ids) -> dict[int, dict]:
    """Number, supplier, state and total of purchase orders."""
    ids = {int(i) for i in order_ids}
    if not ids:
        return {}
    rows = uow.session.execute(select(PurchaseOrder.id, PurchaseOrder.number, PurchaseOrder.supplier_id,
                                      PurchaseOrder.state, PurchaseOrder.total, PurchaseOrder.expected_date)
                               .where(PurchaseOrder.company_id == uow.company_id, PurchaseOrder.id.in_(ids)))
    return {r[0]: {"id": r[0], "number": r[1], "supplier_id": r[2], "state": r[3], "total": r[4],
                   "expected_date": r[5]} for r in rows}


def received_lines(uow: UnitOfWork, date_from: dt.date, date_to: dt.date) -> list[dict]:
    """Every line of done receipts dated in [date_from, date_to]: supplier, order, the order's expected date,
    receipt date, product, quantity and unit price in company currency (for delivery and price statistics)."""
    rows = uow.session.execute(
        select(GoodsReceipt.id, GoodsReceipt.supplier_id, GoodsReceipt.order_id, GoodsReceipt.receipt_date,
               PurchaseOrder.expected_date, GoodsReceiptLine.product_id, GoodsReceiptLine.quantity,
               PurchaseOrderLine.unit_price, PurchaseOrder.currency_rate, GoodsReceiptLine.id)
        .join(GoodsReceiptLine, GoodsReceiptLine.receipt_id == GoodsReceipt.id)
        .join(PurchaseOrderLine, PurchaseOrderLine.id == GoodsReceiptLine.order_line_id)
        .join(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
        .where(GoodsReceipt.company_id == uow.company_id, GoodsReceipt.state == "done",
               GoodsReceipt.receipt_date >= date_from, GoodsReceipt.receipt_date <= date_to)
        .order_by(GoodsReceiptLine.id)).all()
    return [{"receipt_id": r[0], "supplier_id": r[1], "order_id": r[2], "receipt_date": r[3], "expected_date": r[4],
             "product_id": r[5], "quantity": to_decimal(r[6]), "unit_price": to_decimal(r[7]) * to_decimal(r[8]),
             "receipt_line_id": r[9]} for r in rows]


def open_order_lines_for_planning(uow: UnitOfWork) -> list[tuple]:
    """Scheduled receipts for MRP in one query: (product id, expected date, quantity still to receive) of
    every draft or confirmed purchase order line."""
    o, ln = PurchaseOrder, PurchaseOrderLine
    rows = uow.session.execute(
        select(ln.product_id, func.coalesce(o.expected_date, o.order_date), ln.quantity, ln.qty_received)
        .join(o, o.id == ln.order_id)
        .where(o.company_id == uow.company_id, o.state.in_(("draft", "confirmed")), ln.quantity > ln.qty_received))
    return [(p, day, to_decimal(q) - to_decimal(r or 0)) for p, day, q, r in rows]


def last_supplier_by_product(uow: UnitOfWork, product_ids) -> dict[int, int]:
    """The supplier each product was last ordered from (latest non-cancelled purchase order)."""
    o, ln = PurchaseOrder, PurchaseOrderLine
    ids = list(product_ids)
    if not ids:
        return {}
    out: dict[int, int] = {}
    for pid, sup in uow.session.execute(
            select(ln.product_id, o.supplier_id).join(o, o.id == ln.order_id)
            .where(o.company_id == uow.company_id, o.state != "cancelled", ln.product_id.in_(ids))
            .order_by(o.order_date, o.id)):
        out[pid] = sup
    return out


def open_orders_for_tracking(uow: UnitOfWork) -> list[dict]:
    """Confirmed purchase orders with something still to receive, one row each (for SRM's late-order list):
    number, supplier (id, code, name), order and expected dates, quantities ordered and received over the lines."""
    o, ln, pt = PurchaseOrder, PurchaseOrderLine, md.Partner
    rows = uow.session.execute(
        select(o.id, o.number, o.supplier_id, o.order_date, o.expected_date,
               func.sum(ln.quantity), func.sum(func.coalesce(ln.qty_received, 0)), pt.code, pt.name)
        .join(ln, ln.order_id == o.id).join(pt, pt.id == o.supplier_id)
        .where(o.company_id == uow.company_id, o.state == "confirmed")
        .group_by(o.id, o.number, o.supplier_id, o.order_date, o.expected_date, pt.code, pt.name)
        .having(func.sum(ln.quantity) > func.sum(func.coalesce(ln.qty_received, 0)))
        .order_by(o.id)).all()
    return [{"id": r[0], "number": r[1], "supplier_id": r[2], "order_date": r[3], "expected_date": r[4],
             "ordered": to_decimal(r[5]), "received": to_decimal(r[6]), "supplier_code": r[7],
             "supplier": r[8]} for r in rows]
