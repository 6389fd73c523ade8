"""Demo material planning: lead times, lot sizes and safety stocks of the cups, towels and their raw materials,
then one MRP regeneration over the demo's open sales orders, purchase orders and work orders."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import service as svc
from .models import MrpRun

D = Decimal

# sku, lead time (days), lot rule, fixed qty, min qty, multiple, safety stock, make or buy, preferred supplier
POLICIES = (
    ("YS-CUP-350", 5, "lot_for_lot", None, "100", "50", "80", "make", None),
    ("YS-CUP-500", 5, "lot_for_lot", None, "100", "50", "50", "make", None),
    ("YS-TOWEL-01", 4, "lot_for_lot", None, "60", "20", "60", "make", None),
    ("RM-SS304", 10, "fixed", "1000", "0", "0", "200", "buy", "S-YKSS"),
    ("RM-COTTON", 14, "lot_for_lot", None, "200", "50", "100", "buy", "S-NTFZ"),
    ("YS-KETTLE-17", 21, "lot_for_lot", None, "100", "0", "30", "buy", None),
)


def seed(uow: UnitOfWork, company: md.Company) -> None:
    if uow.session.scalar(select(MrpRun.id).where(MrpRun.company_id == company.id).limit(1)):
        return  # already seeded
    products = {p.sku: p.id for p in uow.session.scalars(select(md.Product).where(md.Product.company_id == company.id))}
    partners = {p.code: p.id for p in uow.session.scalars(
        select(md.Partner).where(md.Partner.company_id == company.id))}
    for sku, lead, rule, fixed, min_qty, multiple, safety, mob, supplier in POLICIES:
        if sku not in products:
            continue
        svc.set_policy(uow, {"product_id": products[sku], "lead_time_days": lead, "lot_rule": rule,
                             "fixed_qty": D(fixed) if fixed else None, "min_qty": D(min_qty),
                             "multiple": D(multiple), "safety_stock": D(safety), "make_or_buy": mob,
                             "preferred_supplier_id": partners.get(supplier) if supplier else None})
    if products:
        svc.run_mrp(uow, bucket="week", horizon=26)
