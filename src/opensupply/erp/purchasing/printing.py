"""Printable purchase order: rendered to PDF (A4, CJK fonts) to print or send to the supplier."""

from __future__ import annotations

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web.pdf import render_pdf

from . import schemas as s
from .models import PurchaseOrder


def order_pdf(actor: Actor, order_id: int) -> tuple[str, bytes]:
    with UnitOfWork(actor, readonly=True) as uow:
        po = uow.get(PurchaseOrder, order_id)
        order = s.order_out(uow, po, detail=True)
        company = uow.session.get(md.Company, uow.company_id)
        supplier = uow.session.get(md.Partner, po.supplier_id)
        location = uow.session.get(md.Location, po.location_id) if po.location_id else None
        ctx = {"order": order, "company": {"name": company.name, "address": company.address, "phone": company.phone,
                                           "tax_id": company.tax_id},
               "supplier": {"name": supplier.name, "code": supplier.code, "contact": supplier.contact_name,
                            "phone": supplier.phone, "tax_id": supplier.tax_id,
                            "address": " ".join(x for x in (supplier.province, supplier.city, supplier.district,
                                                             supplier.address) if x),
                            "payment_terms_days": supplier.payment_terms_days},
               "location": location.full_code if location else ""}
    return order["number"], render_pdf("erp/purchasing/po_print.html", **ctx)
