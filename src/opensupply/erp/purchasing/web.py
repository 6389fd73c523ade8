"""Pages of procure-to-pay under /erp/: lists with search, filters, pagination and XLSX/CSV export,
detail pages with their actions and audit trail, forms, the AP aging report, supplier statements
and the approval rules. Same services as the API."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.audit import dumps, history
from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.modules import enabled_for
from opensupply.core.tabular import table_response
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render
from opensupply.web.pdf import pdf_response

from . import schemas as s
from . import service as svc
from .models import GoodsReceipt, PurchaseOrder, PurchaseRequest, SupplierPayment, VendorBill
from .printing import order_pdf

router = APIRouter(prefix="/erp", include_in_schema=False)
READ = Depends(page_permission("erp.read"))
PURCHASE = Depends(page_permission("erp.purchase"))
APPROVE = Depends(page_permission("erp.purchase_approve"))
PAY = Depends(page_permission("erp.payments"))
PAGE_SIZE = 50
EXPORT_LIMIT = 100000
FORM_LINES = 8


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _keep(request: Request) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k not in ("offset", "format")
                                   and v})


def _filters(request: Request) -> dict:
    qp = request.query_params
    return {"q": qp.get("q") or None, "state": qp.get("state") or None, "supplier": qp.get("supplier") or None,
            "date_from": _date(qp.get("date_from")), "date_to": _date(qp.get("date_to"))}


def _export(fmt: str, name: str, header: list[str], rows: list[list]) -> Response:
    return table_response(header, rows, fmt, name)

def _suppliers(uow: UnitOfWork) -> list[md.Partner]:
    return list(uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == uow.company_id, md.Partner.is_supplier.is_(True), md.Partner.active.is_(True))
        .order_by(md.Partner.code)))


def _audit_rows(uow: UnitOfWork, entity: str, entity_id: int) -> list:
    return history(uow.session, entity, entity_id, uow.company_id)


def _fail(url: str, exc: DomainError):
    return redirect(url, exc.message, kind="error")


# ------------------------------------------------------------ list pages
NUMBER, SUPPLIER, STATE = ("number", _l("单号")), ("supplier_name", _l("供应商")), ("state_label", _l("状态"))
LISTS = {
    "purchase-requests": dict(
        title=_l("采购申请"), rows=svc.request_rows, out=s.request_out, kind="request", new=True,
        links=(("/erp/purchase-approval-rules", _l("采购审批规则")),),
        cols=(NUMBER, ("request_date", _l("申请日期")), SUPPLIER, ("requester", _l("申请人")),
              ("total", _l("金额")), STATE)),
    "purchase-orders": dict(
        title=_l("采购订单"), rows=svc.order_rows, out=s.order_out, kind="order", new=True,
        cols=(NUMBER, ("order_date", _l("订单日期")), SUPPLIER, ("untaxed", _l("不含税金额")),
              ("total", _l("价税合计")), STATE)),
    "receipts": dict(
        title=_l("采购收货"), rows=svc.receipt_rows, out=s.receipt_out, kind="receipt", new=False,
        cols=(NUMBER, ("receipt_date", _l("收货日期")), SUPPLIER, ("order_number", _l("采购订单")),
              ("total", _l("金额")), STATE)),
    "vendor-bills": dict(
        title=_l("供应商发票"), rows=svc.bill_rows, out=s.bill_out, kind="bill", new=False,
        links=(("/erp/reports/ap-aging", _l("应付账龄")),),
        cols=(NUMBER, ("supplier_invoice_no", _l("供应商发票号")), ("bill_date", _l("发票日期")),
              ("due_date", _l("到期日")), SUPPLIER, ("order_number", _l("采购订单")), ("currency", _l("币种")),
              ("total", _l("价税合计")),
              ("open_amount", _l("未付金额")), STATE)),
    "payments": dict(
        title=_l("付款"), rows=svc.payment_rows, out=s.payment_out, kind="payment", new=True,
        links=(("/erp/reports/ap-aging", _l("应付账龄")),),
        cols=(NUMBER, ("payment_date", _l("付款日期")), SUPPLIER, ("currency", _l("币种")), ("amount", _l("金额")),
              ("reference", _l("参考号")), STATE)),
}
STATE_TABLES = {"request": svc.REQUEST_STATES, "order": svc.ORDER_STATES, "receipt": svc.RECEIPT_STATES,
                "bill": svc.BILL_STATES, "payment": svc.PAYMENT_STATES}


def _list_page(request: Request, p: Page, path: str, offset: int):
    spec = LISTS[path]
    filters = _filters(request)
    fmt = request.query_params.get("format")
    with UnitOfWork(p.actor, readonly=True) as uow:
        error = None
        try:
            rows, total = spec["rows"](uow, **filters, limit=EXPORT_LIMIT if fmt else PAGE_SIZE,
                                       offset=0 if fmt else max(0, offset))
        except DomainError as exc:
            rows, total, error = [], 0, exc.message
        items = [spec["out"](uow, r) for r in rows]
        suppliers = _suppliers(uow)
    cols = spec["cols"]
    if fmt in ("xlsx", "csv"):
        data = [[("" if it.get(k) is None else str(it.get(k))) for k, _label in cols] for it in items]
        return _export(fmt, path, [str(label) for _k, label in cols], data)
    states = [(k, str(v)) for k, v in STATE_TABLES[spec["kind"]].items()]
    return render(p, "erp/purchasing/list.html", title=str(spec["title"]), base=f"/erp/{path}", items=items,
                  cols=[(k, str(label)) for k, label in cols], total=total, offset=max(0, offset), limit=PAGE_SIZE,
                  filters=filters, states=states, suppliers=suppliers, keep=_keep(request), error=error,
                  new_url=f"/erp/{path}/new" if spec["new"] else None,
                  links=[(url, str(label)) for url, label in spec.get("links", ())])


@router.get("/purchase-requests")
def requests_page(request: Request, offset: int = 0, p: Page = READ):
    return _list_page(request, p, "purchase-requests", offset)


@router.get("/purchase-orders")
def orders_page(request: Request, offset: int = 0, p: Page = READ):
    return _list_page(request, p, "purchase-orders", offset)


@router.get("/receipts")
def receipts_page(request: Request, offset: int = 0, p: Page = READ):
    return _list_page(request, p, "receipts", offset)


@router.get("/vendor-bills")
def bills_page(request: Request, offset: int = 0, p: Page = READ):
    return _list_page(request, p, "vendor-bills", offset)


@router.get("/payments")
def payments_page(request: Request, offset: int = 0, p: Page = READ):
    return _list_page(request, p, "payments", offset)


# ------------------------------------------------------------ new documents
def _form_lines(form, with_supplier: bool) -> list[dict]:
    lines = []
    for i in range(1, FORM_LINES + 1):
        product = (form.get(f"lines-{i}-product") or "").strip()
        if not product:
            continue
        ln = {"product": product, "quantity": form.get(f"lines-{i}-quantity") or "",
              "unit_price": form.get(f"lines-{i}-unit_price") or None}
        if with_supplier:
            ln["supplier"] = form.get(f"lines-{i}-supplier") or None
        lines.append(ln)
    return lines


def _products(uow: UnitOfWork) -> list[md.Product]:
    return list(uow.session.scalars(select(md.Product).where(
        md.Product.company_id == uow.company_id, md.Product.active.is_(True)).order_by(md.Product.sku).limit(2000)))


@router.get("/purchase-requests/new")
def request_form(p: Page = PURCHASE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return render(p, "erp/purchasing/doc_form.html", title=_("新建采购申请"), action="/erp/purchase-requests/new",
                      suppliers=_suppliers(uow), products=_products(uow), per_line_supplier=True,
                      n_lines=FORM_LINES, kind="request")


@router.post("/purchase-requests/new")
async def request_create(request: Request, p: Page = PURCHASE):
    form = await request.form()

    def work():
        with UnitOfWork(p.actor) as uow:
            req = svc.create_request(uow, [svc.RequestLineIn(**ln) for ln in _form_lines(form, True)],
                                     supplier=form.get("supplier") or None, needed_by=_date(form.get("needed_by")),
                                     notes=form.get("notes") or None)
            if form.get("submit"):
                svc.submit_request(uow, req.id)
            return req.id, req.number
    try:
        rid, number = await run_in_threadpool(work)
    except DomainError as exc:
        return _fail("/erp/purchase-requests/new", exc)
    return redirect(f"/erp/purchase-requests/{rid}", _("已保存采购申请 {n}", n=number))


@router.get("/purchase-orders/new")
def order_form(p: Page = PURCHASE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return render(p, "erp/purchasing/doc_form.html", title=_("新建采购订单"), action="/erp/purchase-orders/new",
                      suppliers=_suppliers(uow), products=_products(uow), per_line_supplier=False,
                      n_lines=FORM_LINES, kind="order")


@router.post("/purchase-orders/new")
async def order_create(request: Request, p: Page = PURCHASE):
    form = await request.form()

    def work():
        with UnitOfWork(p.actor) as uow:
            po = svc.create_order(uow, form.get("supplier") or None,
                                  [svc.OrderLineIn(**ln) for ln in _form_lines(form, False)],
                                  expected_date=_date(form.get("needed_by")), location=form.get("location") or None,
                                  notes=form.get("notes") or None)
            if form.get("submit"):
                svc.confirm_order(uow, po.id)
            return po.id, po.number
    try:
        oid, number = await run_in_threadpool(work)
    except DomainError as exc:
        return _fail("/erp/purchase-orders/new", exc)
    return redirect(f"/erp/purchase-orders/{oid}", _("已保存采购订单 {n}", n=number))


# ------------------------------------------------------------ detail pages
@router.get("/purchase-requests/{request_id}")
def request_detail(request_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        req = s.request_out(uow, uow.get(PurchaseRequest, request_id), detail=True)
        orders = list(uow.session.scalars(select(PurchaseOrder).where(
            PurchaseOrder.company_id == uow.company_id, PurchaseOrder.request_id == request_id)))
        return render(p, "erp/purchasing/request_detail.html", title=req["number"], req=req,
                      orders=[s.order_out(uow, o) for o in orders],
                      audit_rows=_audit_rows(uow, "erp_purchase_request", request_id), audit_dumps=dumps,
                      can_purchase=p.actor.can("erp.purchase"), can_approve=p.actor.can("erp.purchase_approve"))


@router.get("/purchase-orders/{order_id}")
def order_detail(order_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        po = s.order_out(uow, uow.get(PurchaseOrder, order_id), detail=True)
        receipts, _t = svc.receipt_rows(uow, order_id=order_id, limit=200)
        bills, _t = svc.bill_rows(uow, order_id=order_id, limit=200)
        return render(p, "erp/purchasing/order_detail.html", title=po["number"], po=po,
                      receipts=[s.receipt_out(uow, r) for r in receipts], bills=[s.bill_out(uow, b) for b in bills],
                      audit_rows=_audit_rows(uow, "erp_purchase_order", order_id), audit_dumps=dumps,
                      today=svc.company_today(uow), can_purchase=p.actor.can("erp.purchase"))


@router.get("/purchase-orders/{order_id}/pdf")
async def order_pdf_page(order_id: int, download: bool = False, p: Page = READ):
    number, data = await run_in_threadpool(order_pdf, p.actor, order_id)
    return pdf_response(data, f"{number}.pdf", inline=not download)


@router.get("/receipts/{receipt_id}")
def receipt_detail(receipt_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        r = s.receipt_out(uow, uow.get(GoodsReceipt, receipt_id), detail=True)
        # SRM's incoming inspection (来料检验) of the receipt, while SRM is on for the company
        inspect = "srm" in enabled_for(uow) and p.actor.can("srm.write")
        return render(p, "erp/purchasing/receipt_detail.html", title=r["number"], r=r,
                      audit_rows=_audit_rows(uow, "erp_goods_receipt", receipt_id), audit_dumps=dumps,
                      can_purchase=p.actor.can("erp.purchase"), can_inspect=inspect)


@router.get("/vendor-bills/{bill_id}")
def bill_detail(bill_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        b = s.bill_out(uow, uow.get(VendorBill, bill_id), detail=True)
        return render(p, "erp/purchasing/bill_detail.html", title=b["number"], b=b,
                      audit_rows=_audit_rows(uow, "erp_vendor_bill", bill_id), audit_dumps=dumps,
                      can_purchase=p.actor.can("erp.purchase"), can_approve=p.actor.can("erp.purchase_approve"),
                      can_pay=p.actor.can("erp.payments"))


@router.get("/payments/new")
def payment_form(request: Request, p: Page = PAY):
    supplier = request.query_params.get("supplier") or None
    with UnitOfWork(p.actor, readonly=True) as uow:
        suppliers = _suppliers(uow)
        bills = []
        if supplier:
            rows, _t = svc.bill_rows(uow, supplier=supplier, state="posted", limit=500)
            bills = [s.bill_out(uow, b) for b in rows]
        return render(p, "erp/purchasing/payment_form.html", title=_("新建付款"), suppliers=suppliers,
                      supplier=supplier, bills=bills, today=svc.company_today(uow))


@router.post("/payments/new")
async def payment_create(request: Request, p: Page = PAY):
    form = await request.form()
    supplier = form.get("supplier") or ""
    allocations = []
    for key, value in form.items():
        if key.startswith("pay-") and key[4:].isdigit() and value:
            allocations.append(svc.AllocationIn(int(key[4:]), form.get(f"amount-{key[4:]}") or None))

    def work():
        with UnitOfWork(p.actor) as uow:
            pay = svc.create_payment(uow, supplier, allocations, payment_date=_date(form.get("payment_date")),
                                     reference=form.get("reference") or None)
            return pay.id, pay.number
    try:
        pid, number = await run_in_threadpool(work)
    except DomainError as exc:
        return _fail(f"/erp/payments/new?supplier={urllib.parse.quote(str(supplier))}", exc)
    return redirect(f"/erp/payments/{pid}", _("已付款 {n}", n=number))


@router.get("/payments/{payment_id}")
def payment_detail(payment_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        pay = s.payment_out(uow, uow.get(SupplierPayment, payment_id), detail=True)
        return render(p, "erp/purchasing/payment_detail.html", title=pay["number"], pay=pay,
                      audit_rows=_audit_rows(uow, "erp_supplier_payment", payment_id), audit_dumps=dumps,
                      can_pay=p.actor.can("erp.payments"))


# ------------------------------------------------------------------ actions
async def _act(request: Request, p: Page, url: str, fn, done: str, *, arg_field: str | None = None):
    form = await request.form()
    args = (form.get(arg_field) or "",) if arg_field else ()

    def work():
        with UnitOfWork(p.actor) as uow:
            return fn(uow, *args)
    try:
        result = await run_in_threadpool(work)
    except DomainError as exc:
        return _fail(url, exc)
    target = url
    if isinstance(result, list) and result:  # orders made from a request
        target = f"/erp/purchase-orders/{result[0].id}" if len(result) == 1 else url
    return redirect(target, done)


@router.post("/purchase-requests/{request_id}/submit")
async def request_submit(request: Request, request_id: int, p: Page = PURCHASE):
    return await _act(request, p, f"/erp/purchase-requests/{request_id}",
                      lambda uow: svc.submit_request(uow, request_id), _("已提交审批"))


@router.post("/purchase-requests/{request_id}/approve")
async def request_approve(request: Request, request_id: int, p: Page = APPROVE):
    return await _act(request, p, f"/erp/purchase-requests/{request_id}",
                      lambda uow, c: svc.approve_request(uow, request_id, c), _("已审批"), arg_field="comment")


@router.post("/purchase-requests/{request_id}/reject")
async def request_reject(request: Request, request_id: int, p: Page = APPROVE):
    return await _act(request, p, f"/erp/purchase-requests/{request_id}",
                      lambda uow, r: svc.reject_request(uow, request_id, r), _("已驳回"), arg_field="reason")


@router.post("/purchase-requests/{request_id}/cancel")
async def request_cancel(request: Request, request_id: int, p: Page = PURCHASE):
    return await _act(request, p, f"/erp/purchase-requests/{request_id}",
                      lambda uow: svc.cancel_request(uow, request_id), _("已取消"))


@router.post("/purchase-requests/{request_id}/orders")
async def request_orders(request: Request, request_id: int, p: Page = PURCHASE):
    return await _act(request, p, f"/erp/purchase-requests/{request_id}",
                      lambda uow: svc.create_orders_from_request(uow, request_id), _("已生成采购订单"))


@router.post("/purchase-orders/{order_id}/confirm")
async def order_confirm(request: Request, order_id: int, p: Page = PURCHASE):
    return await _act(request, p, f"/erp/purchase-orders/{order_id}",
                      lambda uow: svc.confirm_order(uow, order_id), _("订单已确认"))


@router.post("/purchase-orders/{order_id}/cancel")
async def order_cancel(request: Request, order_id: int, p: Page = PURCHASE):
    return await _act(request, p, f"/erp/purchase-orders/{order_id}",
                      lambda uow: svc.cancel_order(uow, order_id), _("订单已取消"))


@router.post("/purchase-orders/{order_id}/receive")
async def order_receive(request: Request, order_id: int, p: Page = PURCHASE):
    form = await request.form()
    lines = [svc.ReceiptLineIn(value, order_line_id=int(key[4:]), lot=form.get(f"lot-{key[4:]}") or None)
             for key, value in form.items() if key.startswith("qty-") and key[4:].isdigit() and str(value).strip()]
    url = f"/erp/purchase-orders/{order_id}"

    def work():
        with UnitOfWork(p.actor) as uow:
            if not lines:
                raise svc.ValidationFailed(_("请填写本次收货数量"), field="quantity")
            r = svc.receive_order(uow, order_id, lines, receipt_date=_date(form.get("receipt_date")),
                                  location=form.get("location") or None)
            return r.id, r.number
    try:
        rid, number = await run_in_threadpool(work)
    except DomainError as exc:
        return _fail(url, exc)
    return redirect(f"/erp/receipts/{rid}", _("已收货 {n}", n=number))


@router.post("/purchase-orders/{order_id}/bill")
async def order_bill(request: Request, order_id: int, p: Page = PURCHASE):
    form = await request.form()
    lines = [svc.BillLineIn(value, form.get(f"bprice-{key[5:]}") or None, order_line_id=int(key[5:]))
             for key, value in form.items() if key.startswith("bqty-") and key[5:].isdigit() and str(value).strip()]
    url = f"/erp/purchase-orders/{order_id}"

    def work():
        with UnitOfWork(p.actor) as uow:
            if not lines:
                raise svc.ValidationFailed(_("请填写开票数量"), field="quantity")
            b = svc.create_vendor_bill(uow, order_id, lines, bill_date=_date(form.get("bill_date")),
                                       supplier_invoice_no=form.get("supplier_invoice_no") or None)
            return b.id, b.number, b.state
    try:
        bid, number, state = await run_in_threadpool(work)
    except DomainError as exc:
        return _fail(url, exc)
    if state == "blocked":
        return redirect(f"/erp/vendor-bills/{bid}", _("发票 {n} 三单匹配未通过，等待审批", n=number), kind="error")
    return redirect(f"/erp/vendor-bills/{bid}", _("已登记发票 {n}", n=number))


@router.post("/receipts/{receipt_id}/cancel")
async def receipt_cancel(request: Request, receipt_id: int, p: Page = PURCHASE):
    return await _act(request, p, f"/erp/receipts/{receipt_id}",
                      lambda uow: svc.cancel_receipt(uow, receipt_id), _("收货单已取消，库存和凭证已冲销"))


@router.post("/vendor-bills/{bill_id}/approve-match")
async def bill_approve(request: Request, bill_id: int, p: Page = APPROVE):
    return await _act(request, p, f"/erp/vendor-bills/{bill_id}",
                      lambda uow, c: svc.approve_match(uow, bill_id, c), _("已批准匹配差异，发票已过账"),
                      arg_field="comment")


@router.post("/vendor-bills/{bill_id}/cancel")
async def bill_cancel(request: Request, bill_id: int, p: Page = PURCHASE):
    return await _act(request, p, f"/erp/vendor-bills/{bill_id}",
                      lambda uow: svc.cancel_vendor_bill(uow, bill_id), _("发票已取消"))


@router.post("/payments/{payment_id}/cancel")
async def payment_cancel(request: Request, payment_id: int, p: Page = PAY):
    return await _act(request, p, f"/erp/payments/{payment_id}",
                      lambda uow: svc.cancel_payment(uow, payment_id), _("付款已取消"))


@router.post("/payments/{payment_id}/reverse")
async def payment_reverse(request: Request, payment_id: int, p: Page = PAY):
    return await _act(request, p, f"/erp/payments/{payment_id}",
                      lambda uow, reason: svc.reverse_payment(uow, payment_id, reason), _("付款已冲销"),
                      arg_field="reason")


# ------------------------------------------------------------------ reports
@router.get("/reports/ap-aging")
def ap_aging_page(request: Request, p: Page = READ):
    as_of = _date(request.query_params.get("as_of"))
    with UnitOfWork(p.actor, readonly=True) as uow:
        report = svc.ap_aging(uow, as_of)
    fmt = request.query_params.get("format")
    if fmt in ("xlsx", "csv"):
        header = [_("供应商编码"), _("供应商"), *svc.AGING_BUCKETS, _("合计")]
        rows = [[r["supplier_code"], r["supplier_name"], *[str(r[k]) for k in svc.AGING_BUCKETS], str(r["total"])]
                for r in report["items"]]
        return _export(fmt, "ap-aging", header, rows)
    return render(p, "erp/purchasing/ap_aging.html", title=_("应付账龄"), report=report,
                  buckets=svc.AGING_BUCKETS)


@router.get("/suppliers/{supplier_id}/statement")
def statement_page(request: Request, supplier_id: int, p: Page = READ):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        st = svc.supplier_statement(uow, supplier_id, _date(qp.get("date_from")), _date(qp.get("date_to")))
    fmt = qp.get("format")
    if fmt in ("xlsx", "csv"):
        header = [_("日期"), _("单号"), _("摘要"), _("付款"), _("发票"), _("余额")]
        rows = [[str(ln["date"]), ln["number"], ln["description"], str(ln["debit"]), str(ln["credit"]),
                 str(ln["balance"])] for ln in st["lines"]]
        return _export(fmt, f"statement-{st['supplier_code']}", header, rows)
    return render(p, "erp/purchasing/statement.html", title=_("供应商对账单"), st=st)


# ------------------------------------------------------------ approval rules
@router.get("/purchase-approval-rules")
def rules_page(p: Page = READ):
    with UnitOfWork(p.actor) as uow:
        rules = [s.rule_out(r) for r in svc.approval_rules(uow)]
        conf = s.settings_out(svc.settings(uow))
    return render(p, "erp/purchasing/rules.html", title=_("采购审批规则"), rules=rules, conf=conf,
                  n_rows=max(len(rules) + 1, 4), can_edit=p.actor.can("erp.purchase_approve"))


@router.post("/purchase-approval-rules")
async def rules_save(request: Request, p: Page = APPROVE):
    form = await request.form()
    rules = []
    for i in range(1, 11):
        steps = form.get(f"rules-{i}-steps")
        if steps in (None, ""):
            continue
        rules.append({"max_amount": form.get(f"rules-{i}-max_amount") or None, "steps": steps,
                      "final_role": form.get(f"rules-{i}-final_role") or "admin"})

    def work():
        with UnitOfWork(p.actor) as uow:
            svc.set_approval_rules(uow, rules)
            svc.update_settings(uow, {k: form.get(k) for k in ("receipt_tolerance_pct", "price_tolerance_pct",
                                                                "qty_tolerance_pct", "default_tax_rate")})
    try:
        await run_in_threadpool(work)
    except DomainError as exc:
        return _fail("/erp/purchase-approval-rules", exc)
    return redirect("/erp/purchase-approval-rules", _("已保存审批规则"))
