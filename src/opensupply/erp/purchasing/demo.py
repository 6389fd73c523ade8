"""Demo procurement: five months of orders from the demo suppliers with receipts (some partial),
bills (one blocked by the 3-way match, then approved), payments, and requests in every state.
Documents carry their own past dates, so the ledgers post on those days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import service as svc

D = Decimal

# supplier code, payment terms (days)
TERMS = (("S-YKSS", 30), ("S-NTFZ", 60))

# days ago, supplier, lines (sku, qty, price), receipts [(days after order, {sku: (qty, lot)})],
# bill (days after order, {sku: price} overrides or None = PO prices), payments [(days after order, share)]
ORDERS = (
    (150, "S-YKSS", (("RM-SS304", "500", "16.80"),),
     [(4, {"RM-SS304": ("500", "SS2606-A")})], (8, None), [(38, "1")]),
    (125, "S-NTFZ", (("RM-COTTON", "300", "24.00"), ("YS-TOWEL-01", "200", "18.00")),
     [(6, {"RM-COTTON": ("300", "CT2607-01"), "YS-TOWEL-01": ("200", "TW2607-01")})], (10, None),
     [(55, "0.6")]),
    (95, "S-YKSS", (("YS-CUP-350", "300", "32.50"), ("YS-CUP-500", "200", "38.00")),
     [(5, {"YS-CUP-350": ("200", None), "YS-CUP-500": ("200", None)}),
      (20, {"YS-CUP-350": ("100", None)})], (22, {"YS-CUP-500": "41.80"}), [(50, "0.5")]),
    (70, "S-NTFZ", (("YS-PILLOW-48", "100", "56.00"),),
     [(7, {"YS-PILLOW-48": ("60", "PL2609-01")})], (9, None), []),
    (40, "S-YKSS", (("RM-SS304", "800", "17.20"), ("YS-BOX-L", "150", "22.00")),
     [(3, {"RM-SS304": ("800", "SS2610-B"), "YS-BOX-L": ("120", None)})], (5, None), [(30, "1")]),
    (12, "S-NTFZ", (("YS-HANGER-10", "500", "9.50"),), [], None, []),
)


def seed(uow: UnitOfWork, company: md.Company) -> None:
    today = company_today(uow)
    suppliers = {p.code: p for p in uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == company.id, md.Partner.is_supplier.is_(True)))}
    if not suppliers:
        return
    for code, days in TERMS:
        if code in suppliers:
            suppliers[code].payment_terms_days = days
    svc.set_approval_rules(uow, [{"max_amount": m, "steps": s, "final_role": r} for m, s, r in svc.DEFAULT_RULES])
    uow.flush()
    for days_ago, sup_code, lines, receipts, bill, payments in ORDERS:
        if sup_code not in suppliers:
            continue
        day = today - dt.timedelta(days=days_ago)
        req = svc.create_request(uow, [svc.RequestLineIn(sku, qty, price) for sku, qty, price in lines],
                                 supplier=suppliers[sup_code].id, request_date=day - dt.timedelta(days=2),
                                 needed_by=day + dt.timedelta(days=14))
        svc.submit_request(uow, req.id)
        while req.state == "pending":
            svc.approve_request(uow, req.id, "同意")
        po = svc.create_orders_from_request(uow, req.id, confirm=True, order_date=day, location="A-01-01")[0]
        by_sku = {uow.session.get(md.Product, ln.product_id).sku: ln for ln in po.lines}
        for after, picks in receipts:
            svc.receive_order(uow, po.id, [svc.ReceiptLineIn(qty, order_line_id=by_sku[sku].id, lot=lot)
                                           for sku, (qty, lot) in picks.items()],
                              receipt_date=day + dt.timedelta(days=after))
        if bill is None:
            continue
        after, prices = bill
        bill_day = day + dt.timedelta(days=after)
        vb = svc.create_vendor_bill(uow, po.id, [
            svc.BillLineIn(ln.qty_received - ln.qty_billed, (prices or {}).get(sku, ln.unit_price), order_line_id=ln.id)
            for sku, ln in by_sku.items() if ln.qty_received > ln.qty_billed],
            bill_date=bill_day, supplier_invoice_no=f"{bill_day:%Y%m}{po.id:04d}")
        if vb.state == "blocked":  # the supplier raised the price: the purchasing manager accepts it
            svc.approve_match(uow, vb.id, "供应商原材料涨价，已电话确认")
        for after_pay, share in payments:
            amount = svc.money(vb.total * D(share))
            svc.create_payment(uow, suppliers[sup_code].id, [svc.AllocationIn(vb.id, amount)],
                               payment_date=day + dt.timedelta(days=after_pay), reference="网银转账")
    # requests waiting for a decision, and one turned down
    first = next(iter(suppliers.values()))
    pending = svc.create_request(uow, [svc.RequestLineIn("YS-KETTLE-17", "400", "65.00")], supplier=first.id,
                                 request_date=today - dt.timedelta(days=1), notes="双十二备货")
    svc.submit_request(uow, pending.id)
    rejected = svc.create_request(uow, [svc.RequestLineIn("YS-PILLOW-48", "500", "56.00")], supplier=first.id,
                                  request_date=today - dt.timedelta(days=20))
    svc.submit_request(uow, rejected.id)
    svc.reject_request(uow, rejected.id, "库存充足，暂缓采购")
    svc.create_request(uow, [svc.RequestLineIn("YS-BOX-L", "50", "22.00")], supplier=first.id,
                       notes="草稿：等待确认数量")
