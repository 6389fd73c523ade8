"""Printable sales documents (sales order confirmation, invoice / credit note) as PDF."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import Company
from opensupply.web.pdf import render_pdf

from . import service as svc
from .models import CustomerInvoice, SalesDelivery, SalesOrder, SalesQuote

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def rmb_upper(amount) -> str:
    """An amount in Chinese capital numerals as written on invoices: 1234.50 → 壹仟贰佰叁拾肆元伍角整."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    negative = value < 0
    value = abs(value)
    yuan = int(value)
    jiao, fen = int(value * 10) % 10, int(value * 100) % 10
    text = ""
    if yuan:
        groups, n = [], yuan
        while n:
            groups.append(n % 10000)
            n //= 10000
        parts, zero_pending = [], False
        for gi in range(len(groups) - 1, -1, -1):
            g = groups[gi]
            if g == 0:
                zero_pending = True
                continue
            chunk, inner_zero = "", False
            digits = [(g // 10 ** k) % 10 for k in range(3, -1, -1)]
            started = False
            for k, d in enumerate(digits):
                if d == 0:
                    inner_zero = started
                    continue
                if (inner_zero or (zero_pending and parts) or (not started and parts and k > 0)):
                    chunk += "零"
                chunk += _DIGITS[d] + _UNITS[3 - k]
                started, inner_zero, zero_pending = True, False, False
            parts.append(chunk + _GROUPS[gi])
        text = "".join(parts) + "元"
    if jiao == 0 and fen == 0:
        text = (text or "零元") + "整"
    else:
        if jiao:
            text += _DIGITS[jiao] + "角"
        elif yuan:
            text += "零"
        if fen:
            text += _DIGITS[fen] + "分"
        else:
            text += "整"
    return ("负" if negative else "") + text


def _company(uow: UnitOfWork) -> Company:
    return uow.session.get(Company, uow.company_id)


def order_pdf(uow: UnitOfWork, order_id: int) -> tuple[bytes, str]:
    order = uow.get(SalesOrder, order_id)
    data = render_pdf("erp/sales/order_print.html", company=_company(uow), order=order,
                      channel=svc.channel_label(order.channel),
                      state=svc.label(svc.ORDER_STATE_LABELS, order.state), upper=rmb_upper(order.amount_total))
    return data, f"{order.number}.pdf"


def invoice_pdf(uow: UnitOfWork, invoice_id: int) -> tuple[bytes, str]:
    invoice = uow.get(CustomerInvoice, invoice_id)
    order = uow.session.get(SalesOrder, invoice.order_id) if invoice.order_id else None
    original = uow.session.get(CustomerInvoice, invoice.reversed_invoice_id) if invoice.reversed_invoice_id else None
    sign = -1 if invoice.kind == "credit_note" else 1
    data = render_pdf("erp/sales/invoice_print.html", company=_company(uow), invoice=invoice, order=order,
                      original=original, sign=sign, type_label=svc.label(svc.INVOICE_TYPE_LABELS, invoice.invoice_type),
                      kind_label=svc.label(svc.INVOICE_KIND_LABELS, invoice.kind),
                      upper=rmb_upper(sign * Decimal(invoice.amount_total)))
    return data, f"{invoice.number}.pdf"


def quote_pdf(uow: UnitOfWork, quote_id: int) -> tuple[bytes, str]:
    quote = uow.get(SalesQuote, quote_id)
    data = render_pdf("erp/sales/quote_print.html", company=_company(uow), quote=quote,
                      upper=rmb_upper(quote.amount_total))
    return data, f"{quote.number}.pdf"


def delivery_pdf(uow: UnitOfWork, delivery_id: int) -> tuple[bytes, str]:
    """The delivery note (发货单) that travels with the goods: where each line was picked from."""
    from sqlalchemy import select

    from opensupply.inventory.models import StockLot, StockMove
    from opensupply.masterdata.models import Location

    delivery = uow.get(SalesDelivery, delivery_id)
    picks: dict[int, list[str]] = {}
    if delivery.state == "done":
        line_of = {ln.product_id: ln.order_line_id for ln in delivery.lines}
        rows = uow.session.execute(
            select(StockMove.product_id, Location.code, StockLot.name)
            .join(Location, Location.id == StockMove.source_location_id)
            .outerjoin(StockLot, StockLot.id == StockMove.lot_id)
            .where(StockMove.company_id == uow.company_id, StockMove.ref_type == svc.DELIVERY_REF,
                   StockMove.ref_id == delivery.id).order_by(StockMove.id))
        for product_id, bin_code, lot in rows:
            picks.setdefault(line_of.get(product_id), []).append(bin_code + (f" / {lot}" if lot else ""))
    c = delivery.customer
    address = "".join(x or "" for x in (c.province, c.city, c.district, c.address))
    data = render_pdf("erp/sales/delivery_print.html", company=_company(uow), delivery=delivery, address=address,
                      picks={k: "，".join(v) for k, v in picks.items()})
    return data, f"{delivery.number}.pdf"
