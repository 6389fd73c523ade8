"""Order-to-cash pages under /erp/: lists with search, filters, pagination and CSV/XLSX export,
detail pages with their actions and audit trail, entry forms, PDFs, AR aging and collections.
They call the same services as the API."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core import audit
from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _, format_money
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.money import company_currency
from opensupply.core.tabular import table_response
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render
from opensupply.web.pdf import pdf_response

from . import batch_invoicing as batch
from . import printing
from . import schemas as s
from . import service as svc
from .batch_invoicing import BatchFilter
from .models import CustomerInvoice, CustomerReceipt, SalesDelivery, SalesOrder, SalesQuote

router = APIRouter(prefix="/erp", include_in_schema=False)
READ = Depends(page_permission("erp.read"))
SALES = Depends(page_permission("erp.sales"))
INVOICING = Depends(page_permission("erp.invoicing"))
PAYMENTS = Depends(page_permission("erp.payments"))
PAGE_SIZE = 50
EXPORT_LIMIT = 100000
LINE_FIELDS = ("product", "quantity", "unit_price", "tax_rate", "discount_pct")
LINE_NAME = re.compile(r"^lines-(\d+)-(product|quantity|unit_price|tax_rate|discount_pct)$")


# ------------------------------------------------------------------ helpers
def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(request: Request, offset: int) -> svc.ListQuery:
    qp = request.query_params
    return svc.ListQuery(q=qp.get("q") or None, customer=qp.get("customer") or None, state=qp.get("state") or None,
                         channel=qp.get("channel") or None, date_from=_date(qp.get("date_from")),
                         date_to=_date(qp.get("date_to")), limit=PAGE_SIZE, offset=max(0, offset))


def _keep(request: Request) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k not in ("offset", "format")
                                   and v})


def _customers(uow: UnitOfWork) -> list:
    """(id, code, name) of active customers for the pickers — columns, not ORM objects: every list page and form
    loads up to 2,000 of them (the web bench found whole rows made the order form take seconds)."""
    p = md.Partner
    return list(uow.session.execute(select(p.id, p.code, p.name).where(
        p.company_id == uow.company_id, p.is_customer.is_(True), p.active.is_(True)).order_by(p.code).limit(2000)))


def _products(uow: UnitOfWork) -> list:
    """(sku, name, list_price) of active products for the order form's SKU suggestions."""
    p = md.Product
    return list(uow.session.execute(select(p.sku, p.name, p.list_price).where(
        p.company_id == uow.company_id, p.active.is_(True)).order_by(p.sku).limit(5000)))


def _export(fmt: str, name: str, header: list[str], rows: list[list]) -> Response:
    return table_response(header, rows, fmt, name)

def _audit(p: Page, uow: UnitOfWork, table: str, ids: list[int]) -> list:
    rows = []
    for i in ids:
        rows += audit.history(uow.session, table, i, uow.company_id, limit=50)
    return sorted(rows, key=lambda a: a.at, reverse=True)


def _list_page(p: Page, request: Request, *, title: str, base: str, columns: list[tuple[str, str, str]], rows, total,
               lq: svc.ListQuery, states: dict, new_url: str | None = None, channels: bool = False, error=None,
               extra_filters: list | None = None, links: list[tuple[str, str]] | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        customers = _customers(uow)
    return render(p, "erp/sales/list.html", title=title, base=base, columns=columns, rows=rows, total=total,
                  offset=lq.offset, limit=lq.limit, filters=request.query_params, keep=_keep(request),
                  states=[(k, str(v)) for k, v in states.items()], customers=customers,
                  channels=[(k, str(v)) for k, v in svc.CHANNELS.items()] if channels else None, new_url=new_url,
                  error=error, extra_filters=extra_filters or [], links=links or [])


def form_lines(form) -> list[dict]:
    lines: dict[int, dict] = {}
    for key in form.keys():
        m = LINE_NAME.match(key)
        if m:
            lines.setdefault(int(m.group(1)), {k: "" for k in LINE_FIELDS})[m.group(2)] = (form.get(key) or "").strip()
    return [ln for _i, ln in sorted(lines.items()) if ln["product"] or ln["quantity"]]


def _sales_lines(lines: list[dict]) -> list[svc.SalesLineIn]:
    out = []
    for ln in lines:
        ref = ln["product"]
        kw = {"product_id": int(ref)} if ref.isdigit() and len(ref) < 12 else {"sku": ref}
        out.append(svc.SalesLineIn(quantity=ln["quantity"] or "1", unit_price=ln["unit_price"] or None,
                                   tax_rate=ln["tax_rate"] or "13", discount_pct=ln["discount_pct"] or "0", **kw))
    return out


def _money(v) -> str:
    return s.money(v) or ""


# ------------------------------------------------------------------ quotes
QUOTE_COLUMNS = [("number", _l("单号"), "link"), ("quote_date", _l("报价日期"), ""),
                 ("customer_name", _l("客户"), ""), ("valid_until", _l("有效期至"), ""),
                 ("state_label", _l("状态"), ""), ("amount_total", _l("价税合计"), "num")]


@router.get("/quotes")
def quotes_page(request: Request, offset: int = 0, p: Page = READ):
    lq = _filters(request, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = svc.list_quotes(uow, lq)
        items = [{**s.quote_out(q, lines=False), "url": f"/erp/quotes/{q.id}"} for q in rows]
    return _list_page(p, request, title=_("销售报价"), base="/erp/quotes", columns=QUOTE_COLUMNS, rows=items,
                      total=total, lq=lq, states=svc.QUOTE_STATE_LABELS,
                      new_url="/erp/quotes/new" if p.actor.can("erp.sales") else None)


@router.get("/quotes/export")
def quotes_export(request: Request, format: str = "xlsx", p: Page = READ):
    lq = _filters(request, 0)
    lq.limit = EXPORT_LIMIT
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = svc.list_quotes(uow, lq)
        data = [[q.number, q.quote_date.isoformat(), q.customer.name, q.valid_until.isoformat() if q.valid_until
                 else "", svc.label(svc.QUOTE_STATE_LABELS, q.state), _money(q.amount_untaxed), _money(q.amount_tax),
                 _money(q.amount_total)] for q in rows]
    return _export(format, "quotes", [_("单号"), _("报价日期"), _("客户"), _("有效期至"), _("状态"), _("不含税金额"),
                                      _("税额"), _("价税合计")], data)


def _doc_form(p: Page, kind: str, values: dict, lines: list[dict], error: str | None = None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        customers, products = _customers(uow), _products(uow)
    while len(lines) < 5:
        lines.append({k: "" for k in LINE_FIELDS})
    title = _("新建销售报价") if kind == "quote" else _("新建销售订单")
    return render(p, "erp/sales/doc_form.html", status_code=status, title=title, kind=kind, values=values,
                  lines=lines, error=error, customers=customers, products=products,
                  channels=[(k, str(v)) for k, v in svc.CHANNELS.items()])


@router.get("/quotes/new")
def quote_new(request: Request, p: Page = SALES):
    return _doc_form(p, "quote", {"customer": request.query_params.get("customer", ""), "channel": "direct"}, [])


@router.post("/quotes/new")
async def quote_submit(request: Request, p: Page = SALES):
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in ("customer", "channel", "valid_until", "price_mode", "notes")}
    lines = form_lines(form)

    def create():
        with UnitOfWork(p.actor) as uow:
            return svc.create_quote(uow, customer_id=values["customer"], lines=_sales_lines(lines),
                                    channel=values["channel"] or "direct", valid_until=_date(values["valid_until"]),
                                    price_includes_tax={"incl": True, "excl": False}.get(values["price_mode"]),
                                    notes=values["notes"] or None).id

    try:
        qid = await run_in_threadpool(create)
    except DomainError as exc:
        return _doc_form(p, "quote", values, lines, exc.message, 422)
    return redirect(f"/erp/quotes/{qid}", _("报价单已创建"))


@router.get("/quotes/{quote_id}")
def quote_detail(quote_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        quote = uow.get(SalesQuote, quote_id)
        data = s.quote_out(quote)
        rows = _audit(p, uow, "sales_quote", [quote.id])
    return render(p, "erp/sales/quote_detail.html", title=quote.number, q=data, audit_rows=rows,
                  audit_dumps=audit.dumps, can_sell=p.actor.can("erp.sales"))


@router.get("/quotes/{quote_id}/pdf")
async def quote_pdf(quote_id: int, p: Page = READ):
    return await _pdf(p, printing.quote_pdf, quote_id)


async def _pdf(p: Page, build, id_: int):
    def run():
        with UnitOfWork(p.actor, readonly=True) as uow:
            return build(uow, id_)

    data, name = await run_in_threadpool(run)
    return pdf_response(data, name)


@router.post("/quotes/{quote_id}/{action}")
async def quote_action(quote_id: int, action: str, request: Request, p: Page = SALES):
    form = await request.form()

    def run():
        with UnitOfWork(p.actor) as uow:
            if action == "send":
                svc.mark_quote_sent(uow, quote_id)
                return f"/erp/quotes/{quote_id}", _("已标记为已发送")
            if action == "cancel":
                svc.cancel_quote(uow, quote_id)
                return f"/erp/quotes/{quote_id}", _("报价单已取消")
            if action == "order":
                order = svc.quote_to_order(uow, quote_id, confirm=bool(form.get("confirm")))
                return f"/erp/sales-orders/{order.id}", _("已生成销售订单 {n}", n=order.number)
            raise DomainError(_("未知操作"))

    try:
        url, msg = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/erp/quotes/{quote_id}", exc.message, "error")
    return redirect(url, msg)


# ------------------------------------------------------------------ orders
ORDER_COLUMNS = [("number", _l("单号"), "link"), ("order_date", _l("订单日期"), ""),
                 ("customer_name", _l("客户"), ""), ("channel_label", _l("渠道"), ""),
                 ("source_ref", _l("平台单号"), ""), ("state_label", _l("状态"), ""),
                 ("delivery_label", _l("发货"), ""), ("invoice_label", _l("开票"), ""),
                 ("currency_code", _l("币种"), ""), ("amount_total", _l("价税合计"), "num")]


@router.get("/sales-orders")
def orders_page(request: Request, offset: int = 0, p: Page = READ):
    lq = _filters(request, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = svc.list_orders(uow, lq)
        items = []
        for o in rows:
            d = s.order_out(o, lines=False)
            d.update(url=f"/erp/sales-orders/{o.id}",
                     delivery_label=svc.label(svc.PROGRESS_LABELS, d["delivery_status"]),
                     invoice_label=svc.label(svc.PROGRESS_LABELS, d["invoice_status"]))
            items.append(d)
    return _list_page(p, request, title=_("销售订单"), base="/erp/sales-orders", columns=ORDER_COLUMNS, rows=items,
                      total=total, lq=lq, states=svc.ORDER_STATE_LABELS, channels=True,
                      new_url="/erp/sales-orders/new" if p.actor.can("erp.sales") else None)


@router.get("/sales-orders/export")
def orders_export(request: Request, format: str = "xlsx", p: Page = READ):
    lq = _filters(request, 0)
    lq.limit = EXPORT_LIMIT
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = svc.list_orders(uow, lq)
        data = [[o.number, o.order_date.isoformat(), o.customer.code, o.customer.name, svc.channel_label(o.channel),
                 o.source_ref or "", svc.label(svc.ORDER_STATE_LABELS, o.state),
                 svc.label(svc.PROGRESS_LABELS, svc.delivery_status(o)),
                 svc.label(svc.PROGRESS_LABELS, svc.invoice_status(o)), _money(o.amount_untaxed), _money(o.amount_tax),
                 _money(o.amount_total)] for o in rows]
    header = [_("单号"), _("订单日期"), _("客户编码"), _("客户"), _("渠道"), _("平台单号"), _("状态"), _("发货"),
              _("开票"), _("不含税金额"), _("税额"), _("价税合计")]
    return _export(format, "sales-orders", header, data)


@router.get("/sales-orders/new")
def order_new(request: Request, p: Page = SALES):
    return _doc_form(p, "order", {"customer": request.query_params.get("customer", ""), "channel": "direct"}, [])


@router.post("/sales-orders/new")
async def order_submit(request: Request, p: Page = SALES):
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in ("customer", "channel", "source_ref", "requested_date",
                                                        "price_mode", "notes")}
    lines = form_lines(form)

    def create():
        with UnitOfWork(p.actor) as uow:
            return svc.create_sales_order(uow, customer_id=values["customer"], lines=_sales_lines(lines),
                                          channel=values["channel"] or "direct", source_ref=values["source_ref"],
                                          requested_date=_date(values["requested_date"]),
                                          price_includes_tax={"incl": True, "excl": False}.get(values["price_mode"]),
                                          notes=values["notes"] or None).id

    try:
        oid = await run_in_threadpool(create)
    except DomainError as exc:
        return _doc_form(p, "order", values, lines, exc.message, 422)
    return redirect(f"/erp/sales-orders/{oid}", _("销售订单已创建"))


@router.get("/sales-orders/{order_id}")
def order_detail(order_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        order = uow.get(SalesOrder, order_id)
        data = s.order_out(order, reserved=svc.reserved_quantities(uow, order))
        deliveries = [s.delivery_out(d) for d in svc.deliveries_of(uow, order.id)]
        invoices = [s.invoice_out(i, lines=False) for i in svc.invoices_of(uow, order.id)]
        credit = svc.credit_exposure(uow, order.customer_id, order)
        rows = _audit(p, uow, "sales_order", [order.id])
        home = company_currency(uow)
    waiting = next((d for d in deliveries if d["state"] == "waiting"), None)
    return render(p, "erp/sales/order_detail.html", title=order.number, o=data, deliveries=deliveries,
                  invoices=invoices, waiting=waiting, credit=credit, audit_rows=rows, audit_dumps=audit.dumps,
                  company_currency=home,
                  can_sell=p.actor.can("erp.sales"), can_invoice=p.actor.can("erp.invoicing"),
                  delivery_label=svc.label(svc.PROGRESS_LABELS, data["delivery_status"]),
                  invoice_label=svc.label(svc.PROGRESS_LABELS, data["invoice_status"]))


@router.get("/sales-orders/{order_id}/pdf")
async def order_pdf(order_id: int, p: Page = READ):
    def build():
        with UnitOfWork(p.actor, readonly=True) as uow:
            return printing.order_pdf(uow, order_id)

    data, name = await run_in_threadpool(build)
    return pdf_response(data, name)


@router.post("/sales-orders/{order_id}/{action}")
async def order_action(order_id: int, action: str, request: Request, p: Page = READ):
    form = await request.form()
    perm = "erp.invoicing" if action == "invoice" else "erp.sales"
    p.require(perm)

    def run():
        with UnitOfWork(p.actor) as uow:
            if action == "confirm":
                svc.confirm_sales_order(uow, order_id, override_credit=bool(form.get("override_credit")),
                                        override_reason=form.get("override_reason"))
                return f"/erp/sales-orders/{order_id}", _("订单已确认，库存已预留")
            if action == "cancel":
                svc.cancel_sales_order(uow, order_id, form.get("reason"))
                return f"/erp/sales-orders/{order_id}", _("订单已取消")
            if action == "deliver":
                lines = []
                for key in form.keys():
                    m = re.match(r"^ship-(\d+)$", key)
                    if m and (form.get(key) or "").strip():
                        lines.append(svc.DeliveryLineIn(quantity=form.get(key).strip(), order_line_id=int(m.group(1))))
                d = svc.deliver(uow, order_id, lines or None, notes=form.get("notes") or None)
                return f"/erp/deliveries/{d.id}", _("已发货：{n}", n=d.number)
            if action == "invoice":
                i = svc.invoice_order(uow, order_id, invoice_type=form.get("invoice_type") or "normal",
                                      buyer_tax_id=form.get("buyer_tax_id") or None)
                return f"/erp/invoices/{i.id}", _("已开票：{n}", n=i.number)
            raise DomainError(_("未知操作"))

    try:
        url, msg = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/erp/sales-orders/{order_id}", exc.message, "error")
    return redirect(url, msg)


# ------------------------------------------------------------------ deliveries
DELIVERY_COLUMNS = [("number", _l("单号"), "link"), ("order_number", _l("销售订单"), ""),
                    ("customer_name", _l("客户"), ""), ("scheduled_date", _l("计划日期"), ""),
                    ("date_done_text", _l("发货时间"), ""), ("state_label", _l("状态"), ""),
                    ("backorder_text", _l("欠货"), ""), ("cost_total", _l("成本"), "num")]


def _delivery_rows(rows) -> list[dict]:
    from opensupply.core.i18n import format_datetime

    out = []
    for d in rows:
        x = s.delivery_out(d, lines=False)
        x.update(url=f"/erp/deliveries/{d.id}", date_done_text=format_datetime(d.date_done) if d.date_done else "",
                 backorder_text=_("欠货") if d.backorder_of_id else "")
        out.append(x)
    return out


@router.get("/deliveries")
def deliveries_page(request: Request, offset: int = 0, p: Page = READ):
    lq = _filters(request, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = svc.list_deliveries(uow, lq)
        items = _delivery_rows(rows)
    return _list_page(p, request, title=_("销售发货"), base="/erp/deliveries", columns=DELIVERY_COLUMNS, rows=items,
                      total=total, lq=lq, states=svc.DELIVERY_STATE_LABELS, channels=True)


@router.get("/deliveries/export")
def deliveries_export(request: Request, format: str = "xlsx", p: Page = READ):
    lq = _filters(request, 0)
    lq.limit = EXPORT_LIMIT
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = svc.list_deliveries(uow, lq)
        data = [[d.number, d.order.number, d.customer.name, d.scheduled_date.isoformat() if d.scheduled_date else "",
                 d.date_done.isoformat() if d.date_done else "", svc.label(svc.DELIVERY_STATE_LABELS, d.state),
                 ln.product.sku, ln.product.name, s.dec(ln.quantity), _money(ln.cost_value)]
                for d in rows for ln in d.lines]
    return _export(format, "deliveries", [_("单号"), _("销售订单"), _("客户"), _("计划日期"), _("发货时间"), _("状态"),
                                          _("商品编码"), _("商品名称"), _("数量"), _("成本")], data)


@router.get("/deliveries/{delivery_id}")
def delivery_detail(delivery_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        d = uow.get(SalesDelivery, delivery_id)
        data = s.delivery_out(d)
        rows = _audit(p, uow, "sales_delivery", [d.id])
    return render(p, "erp/sales/delivery_detail.html", title=d.number, d=data, audit_rows=rows,
                  audit_dumps=audit.dumps, can_sell=p.actor.can("erp.sales"))


@router.get("/deliveries/{delivery_id}/pdf")
async def delivery_pdf(delivery_id: int, p: Page = READ):
    return await _pdf(p, printing.delivery_pdf, delivery_id)


@router.post("/deliveries/{delivery_id}/cancel")
async def delivery_cancel(delivery_id: int, request: Request, p: Page = SALES):
    form = await request.form()

    def run():
        with UnitOfWork(p.actor) as uow:
            return svc.cancel_backorder(uow, delivery_id, form.get("reason")).number

    try:
        number = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/erp/deliveries/{delivery_id}", exc.message, "error")
    return redirect(f"/erp/deliveries/{delivery_id}", _("欠货 {n} 已取消", n=number))


# ------------------------------------------------------------------ invoices
INVOICE_COLUMNS = [("number", _l("发票号"), "link"), ("invoice_date", _l("开票日期"), ""),
                   ("customer_name", _l("客户"), ""), ("invoice_type_label", _l("发票类型"), ""),
                   ("kind_label", _l("蓝/红"), ""), ("due_date", _l("到期日"), ""),
                   ("state_label", _l("状态"), ""), ("currency_code", _l("币种"), ""),
                   ("amount_total", _l("价税合计"), "num"), ("open_amount", _l("未收"), "num")]


@router.get("/invoices")
def invoices_page(request: Request, offset: int = 0, p: Page = READ):
    lq = _filters(request, offset)
    overdue = request.query_params.get("overdue") == "1"
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = svc.list_invoices(uow, lq, overdue=overdue)
        items = [{**s.invoice_out(i, lines=False), "url": f"/erp/invoices/{i.id}"} for i in rows]
    return _list_page(p, request, title=_("销售发票"), base="/erp/invoices", columns=INVOICE_COLUMNS, rows=items,
                      total=total, lq=lq, states=svc.INVOICE_STATE_LABELS, channels=True,
                      extra_filters=[("overdue", _("仅逾期"))],
                      links=[("/erp/invoices/batch", _("批量开票"))] if p.actor.can("erp.invoicing") else None)


@router.get("/invoices/export")
def invoices_export(request: Request, format: str = "xlsx", p: Page = READ):
    lq = _filters(request, 0)
    lq.limit = EXPORT_LIMIT
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = svc.list_invoices(uow, lq, overdue=request.query_params.get("overdue") == "1")
        data = [[i.number, i.invoice_date.isoformat(), i.customer.name, i.buyer_tax_id or "",
                 svc.label(svc.INVOICE_TYPE_LABELS, i.invoice_type), svc.label(svc.INVOICE_KIND_LABELS, i.kind),
                 i.due_date.isoformat(), svc.label(svc.INVOICE_STATE_LABELS, i.state), _money(i.amount_untaxed),
                 _money(i.amount_tax), _money(i.amount_total), _money(svc.open_amount(i))] for i in rows]
    header = [_("发票号"), _("开票日期"), _("客户"), _("纳税人识别号"), _("发票类型"), _("蓝/红"), _("到期日"),
              _("状态"), _("不含税金额"), _("税额"), _("价税合计"), _("未收")]
    return _export(format, "invoices", header, data)


# ------------------------------------------------------------------ batch invoicing (批量开票)
BATCH_FIELDS = ("customer", "channel", "date_from", "date_to", "invoice_type", "invoice_date")


def _batch_filter(values: dict, order_ids: list[int] | None = None) -> BatchFilter:
    return BatchFilter(customer=values.get("customer") or None, channel=values.get("channel") or None,
                       date_from=_date(values.get("date_from")), date_to=_date(values.get("date_to")),
                       order_ids=order_ids)


def _batch_page(p: Page, values: dict, *, preview: bool, error: str | None = None, status: int = 200):
    result = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        customers = _customers(uow)
        if preview:
            try:
                result = batch.preview_batch(uow, _batch_filter(values), invoice_type=values.get("invoice_type")
                                             or "normal", invoice_date=_date(values.get("invoice_date")))
            except DomainError as exc:
                error, status = error or exc.message, status if error else exc.status
    return render(p, "erp/sales/batch_invoice.html", status_code=status, title=_("批量开票"), values=values,
                  customers=customers, channels=[(k, str(v)) for k, v in svc.CHANNELS.items()],
                  invoice_types=[(k, str(v)) for k, v in svc.INVOICE_TYPE_LABELS.items()], preview=result,
                  error=error)


@router.get("/invoices/batch")
def batch_invoice_page(request: Request, p: Page = INVOICING):
    values = {k: (request.query_params.get(k) or "").strip() for k in BATCH_FIELDS}
    return _batch_page(p, values, preview=request.query_params.get("preview") == "1")


@router.post("/invoices/batch")
async def batch_invoice_submit(request: Request, p: Page = INVOICING):
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in BATCH_FIELDS}
    order_ids = [int(v) for v in form.getlist("order_ids") if str(v).isdigit()]

    def run():
        with UnitOfWork(p.actor) as uow:
            return batch.invoice_batch(uow, _batch_filter(values, order_ids), invoice_type=values["invoice_type"]
                                       or "normal", invoice_date=_date(values["invoice_date"]),
                                       expected_total=(form.get("expected_total") or "").strip() or None)

    try:
        done = await run_in_threadpool(run)
    except DomainError as exc:
        return _batch_page(p, values, preview=True, error=exc.message, status=exc.status)
    if not done["invoices"]:
        return redirect("/erp/invoices", _("没有需要开票的订单：所选订单都已开票"), "info")
    day = done["invoice_date"].isoformat()
    query = urllib.parse.urlencode({k: v for k, v in (("customer", values["customer"]), ("channel", values["channel"]),
                                                      ("date_from", day), ("date_to", day)) if v})
    return redirect(f"/erp/invoices?{query}", _("已批量开票 {n} 张，价税合计 {total}", n=done["count"],
                                                total=format_money(done["amount_total"], done["currencies"][0])))


@router.get("/invoices/{invoice_id}")
def invoice_detail(invoice_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        i = uow.get(CustomerInvoice, invoice_id)
        data = s.invoice_out(i, allocations=svc.allocations_of(uow, invoice_id=i.id))
        order = uow.session.get(SalesOrder, i.order_id) if i.order_id else None
        related = uow.session.get(CustomerInvoice, i.credit_note_id or i.reversed_invoice_id) \
            if (i.credit_note_id or i.reversed_invoice_id) else None
        rows = _audit(p, uow, "customer_invoice", [i.id])
        home = company_currency(uow)
    return render(p, "erp/sales/invoice_detail.html", title=i.number, i=data, order=order, related=related,
                  audit_rows=rows, audit_dumps=audit.dumps, can_invoice=p.actor.can("erp.invoicing"),
                  company_currency=home)


@router.get("/invoices/{invoice_id}/pdf")
async def invoice_pdf(invoice_id: int, p: Page = READ):
    def build():
        with UnitOfWork(p.actor, readonly=True) as uow:
            return printing.invoice_pdf(uow, invoice_id)

    data, name = await run_in_threadpool(build)
    return pdf_response(data, name)


@router.post("/invoices/{invoice_id}/credit-note")
async def invoice_credit(invoice_id: int, request: Request, p: Page = INVOICING):
    form = await request.form()

    def run():
        with UnitOfWork(p.actor) as uow:
            note = svc.cancel_invoice(uow, invoice_id, form.get("reason"))
            return note.id, note.number

    try:
        nid, number = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/erp/invoices/{invoice_id}", exc.message, "error")
    return redirect(f"/erp/invoices/{nid}", _("已开具红字发票 {n}", n=number))


# ------------------------------------------------------------------ receipts
RECEIPT_COLUMNS = [("number", _l("单号"), "link"), ("receipt_date", _l("收款日期"), ""),
                   ("customer_name", _l("客户"), ""), ("account_label", _l("收款账户"), ""),
                   ("reference", _l("流水号"), ""), ("currency_code", _l("币种"), ""), ("amount", _l("金额"), "num"),
                   ("amount_allocated", _l("已核销"), "num"),
                   ("amount_unallocated", _l("转预收"), "num")]


@router.get("/customer-receipts")
def receipts_page(request: Request, offset: int = 0, p: Page = READ):
    lq = _filters(request, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = svc.list_receipts(uow, lq)
        items = [{**s.receipt_out(r), "url": f"/erp/customer-receipts/{r.id}",
                  "account_label": svc.label(svc.RECEIPT_ACCOUNTS, r.account)} for r in rows]
    return _list_page(p, request, title=_("收款"), base="/erp/customer-receipts", columns=RECEIPT_COLUMNS, rows=items,
                      total=total, lq=lq, states={},
                      new_url="/erp/customer-receipts/new" if p.actor.can("erp.payments") else None)


@router.get("/customer-receipts/export")
def receipts_export(request: Request, format: str = "xlsx", p: Page = READ):
    lq = _filters(request, 0)
    lq.limit = EXPORT_LIMIT
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = svc.list_receipts(uow, lq)
        data = [[r.number, r.receipt_date.isoformat(), r.customer.name, svc.label(svc.RECEIPT_ACCOUNTS, r.account),
                 r.reference or "", _money(r.amount), _money(r.amount_allocated)] for r in rows]
    header = [_("单号"), _("收款日期"), _("客户"), _("收款账户"), _("流水号"), _("金额"), _("已核销")]
    return _export(format, "customer-receipts", header, data)


def _receipt_form(p: Page, values: dict, error: str | None = None, status: int = 200):
    open_invoices, currency = [], None
    with UnitOfWork(p.actor, readonly=True) as uow:
        customers = _customers(uow)
        home = company_currency(uow)
        if values.get("customer"):
            try:
                cust = svc._customer(uow, values["customer"])
                currency = (cust.currency_code or home).upper()
                open_invoices = [s.invoice_out(i, lines=False) for i in svc._open_invoices(uow, cust.id, lock=False,
                                                                                           currency=currency)]
            except DomainError:
                pass
    return render(p, "erp/sales/receipt_form.html", status_code=status, title=_("登记收款"), values=values,
                  customers=customers, open_invoices=open_invoices, error=error, currency=currency,
                  company_currency=home,
                  accounts=[(k, str(v)) for k, v in svc.RECEIPT_ACCOUNTS.items()])


@router.get("/customer-receipts/new")
def receipt_new(request: Request, p: Page = PAYMENTS):
    return _receipt_form(p, {"customer": request.query_params.get("customer", ""), "account": "bank"})


@router.post("/customer-receipts/new")
async def receipt_submit(request: Request, p: Page = PAYMENTS):
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in ("customer", "amount", "account", "method", "reference",
                                                        "receipt_date", "notes")}
    allocations = []
    for key in form.keys():
        m = re.match(r"^alloc-(\d+)$", key)
        if m and (form.get(key) or "").strip():
            allocations.append((int(m.group(1)), form.get(key).strip()))

    def create():
        with UnitOfWork(p.actor) as uow:
            return svc.register_receipt(uow, values["customer"], values["amount"] or "0", allocations or None,
                                        receipt_date=_date(values["receipt_date"]), account=values["account"] or "bank",
                                        method=values["method"], reference=values["reference"],
                                        notes=values["notes"]).id

    try:
        rid = await run_in_threadpool(create)
    except DomainError as exc:
        return _receipt_form(p, values, exc.message, 422)
    return redirect(f"/erp/customer-receipts/{rid}", _("收款已登记"))


@router.get("/customer-receipts/{receipt_id}")
def receipt_detail(receipt_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        r = uow.get(CustomerReceipt, receipt_id)
        data = s.receipt_out(r, allocations=svc.allocations_of(uow, receipt_id=r.id))
        credit = svc.customer_credit(uow, r.customer_id)
        rows = _audit(p, uow, "customer_receipt", [r.id])
        home = company_currency(uow)
    return render(p, "erp/sales/receipt_detail.html", title=r.number, r=data, credit=credit,
                  account_label=svc.label(svc.RECEIPT_ACCOUNTS, r.account), audit_rows=rows, audit_dumps=audit.dumps,
                  company_currency=home, can_reverse=p.actor.can("erp.payments"))


@router.post("/customer-receipts/{receipt_id}/reverse")
async def receipt_reverse(receipt_id: int, request: Request, p: Page = PAYMENTS):
    form = await request.form()

    def run():
        with UnitOfWork(p.actor) as uow:
            return svc.reverse_receipt(uow, receipt_id, form.get("reason") or "").number

    try:
        number = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/erp/customer-receipts/{receipt_id}", exc.message, "error")
    return redirect(f"/erp/customer-receipts/{receipt_id}", _("收款 {n} 已冲销", n=number))


# ------------------------------------------------------------------ receivables
@router.get("/reports/ar-aging")
def aging_page(request: Request, p: Page = READ):
    as_of = _date(request.query_params.get("as_of"))
    with UnitOfWork(p.actor, readonly=True) as uow:
        aging = svc.ar_aging(uow, as_of=as_of)
    if request.query_params.get("format") in ("csv", "xlsx"):
        keys = [b["key"] for b in aging["buckets"]]
        header = [_("客户编码"), _("客户"), *[b["label"] for b in aging["buckets"]], _("合计"), _("预收余额"),
                  _("净应收")]
        data = [[r["customer_code"], r["customer_name"], *[_money(r[k]) for k in keys], _money(r["total"]),
                 _money(r["credit"]), _money(r["net"])] for r in aging["items"]]
        return _export(request.query_params["format"], "ar-aging", header, data)
    return render(p, "erp/sales/aging.html", title=_("应收账龄"), aging=aging, as_of=aging["as_of"])


@router.get("/collections")
def collections_page(request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows = svc.overdue_customers(uow)
    return render(p, "erp/sales/collections.html", title=_("催款"), rows=rows)


@router.get("/customers/{customer_id}/collections")
def customer_collections_page(customer_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        data = svc.collections(uow, customer_id)
    can = any(p.actor.can(x) for x in ("erp.sales", "erp.invoicing", "erp.payments"))
    return render(p, "erp/sales/customer_collections.html", title=_("催款：{name}", name=data["customer_name"]),
                  c=data, can_remind=can, reminder_channels=[(k, str(v)) for k, v in svc.REMINDER_CHANNELS.items()])


@router.post("/customers/{customer_id}/collections/reminders")
async def reminder_submit(customer_id: int, request: Request, p: Page = READ):
    if not any(p.actor.can(x) for x in ("erp.sales", "erp.invoicing", "erp.payments")):
        p.require("erp.sales")
    form = await request.form()

    def run():
        with UnitOfWork(p.actor) as uow:
            svc.record_reminder(uow, customer_id, note=form.get("note") or "", channel=form.get("channel") or "phone",
                                promised_date=_date(form.get("promised_date")))

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/erp/customers/{customer_id}/collections", exc.message, "error")
    return redirect(f"/erp/customers/{customer_id}/collections", _("催款记录已保存"))
