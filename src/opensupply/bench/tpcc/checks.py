"""TPC-C-style consistency conditions, checked on OpenSupply's data after each run. Each returns
a list of violations (empty = consistent); the benchmark prints their count."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.db import Database
from opensupply.core.uow import Actor, UnitOfWork

from .load import Setup


def verify(db: Database, setup: Setup) -> list[str]:
    from opensupply.accounting import service as gl
    from opensupply.accounting.models import JournalLine
    from opensupply.core.sequences import Sequence
    from opensupply.erp.sales.models import CustomerInvoice, SalesDelivery, SalesOrder, SalesOrderLine
    from opensupply.inventory import service as inv
    from opensupply.inventory.models import StockQuant, StockReservation

    out: list[str] = []
    with UnitOfWork(Actor.system(setup.company_id), db=db, readonly=True) as uow:
        s, cid = uow.session, setup.company_id
        # 1. order numbers: unique, and no more orders than numbers handed out (cf. D_NEXT_O_ID = max(O_ID) + 1)
        n_orders, n_numbers = s.execute(select(func.count(), func.count(func.distinct(SalesOrder.number)))
                                        .where(SalesOrder.company_id == cid)).one()
        if n_orders != n_numbers:
            out.append(f"duplicate sales order numbers: {n_orders - n_numbers}")
        issued = s.scalar(select(func.sum(Sequence.next_value - 1)).where(Sequence.company_id == cid,
                                                                           Sequence.code == "SALES_SO")) or 0
        if n_orders > issued:
            out.append(f"{n_orders} sales orders but only {issued} numbers issued")
        # 2. an order's lines: delivered ≤ ordered, invoiced ≤ delivered (cf. O_OL_CNT = count of order lines)
        bad = s.scalar(select(func.count()).select_from(SalesOrderLine).join(SalesOrder)
                       .where(SalesOrder.company_id == cid, (SalesOrderLine.qty_delivered > SalesOrderLine.quantity)
                              | (SalesOrderLine.qty_invoiced > SalesOrderLine.qty_delivered)))
        if bad:
            out.append(f"{bad} order lines delivered beyond ordered or invoiced beyond delivered")
        # 3. every confirmed order has exactly one waiting delivery or is fully delivered (cf. NEW-ORDER rows)
        waiting = dict(s.execute(select(SalesDelivery.order_id, func.count()).where(
            SalesDelivery.company_id == cid, SalesDelivery.state == "waiting").group_by(SalesDelivery.order_id)).all())
        for oid, state in s.execute(select(SalesOrder.id, SalesOrder.state).where(SalesOrder.company_id == cid)):
            if state == "confirmed" and waiting.get(oid, 0) != 1:
                out.append(f"order #{oid} confirmed with {waiting.get(oid, 0)} waiting deliveries")
            if state == "done" and waiting.get(oid, 0):
                out.append(f"order #{oid} done but still waiting for delivery")
        # 4. stock = Σ done moves; 0 ≤ reserved ≤ on-hand (no negative stock)
        out += [f"quant differs from moves: {d}" for d in inv.check_ledger(uow)]
        reserved: dict = defaultdict(Decimal)
        for p, loc, q in s.execute(select(StockReservation.product_id, StockReservation.location_id,
                                          StockReservation.quantity)
                                   .where(StockReservation.company_id == cid, StockReservation.state == "active")):
            reserved[(p, loc)] += Decimal(q)
        on_hand = {(p, loc): Decimal(q) for p, loc, q in s.execute(
            select(StockQuant.product_id, StockQuant.location_id, StockQuant.quantity)
            .where(StockQuant.company_id == cid))}
        for key, q in on_hand.items():
            if q < 0 or reserved.get(key, Decimal(0)) > q:
                out.append(f"product {key[0]} at location {key[1]}: on hand {q}, reserved {reserved.get(key)}")
        # 5. every journal entry balances; stock value = GL inventory
        net: dict = defaultdict(Decimal)
        for entry_id, debit, credit in s.execute(select(JournalLine.entry_id, JournalLine.debit, JournalLine.credit)
                                                 .where(JournalLine.company_id == cid)):
            net[entry_id] += Decimal(debit) - Decimal(credit)
        out += [f"journal entry #{e} out of balance by {v}" for e, v in net.items() if v != 0]
        valuation = inv.valuation(uow)
        if valuation["total_value"] != valuation["gl_inventory_balance"]:
            out.append(f"stock value {valuation['total_value']} ≠ GL inventory {valuation['gl_inventory_balance']}")
        # 6. AR per customer (1122) = open invoices; credit (2203) = receipts not yet applied (cf. C_BALANCE)
        ar = gl.partner_balances(uow, "receivable")
        advance = gl.partner_balances(uow, "customer_advance")
        open_inv: dict = defaultdict(Decimal)
        for cust, total, paid in s.execute(select(CustomerInvoice.customer_id, CustomerInvoice.amount_total,
                                                  CustomerInvoice.amount_paid)
                                           .where(CustomerInvoice.company_id == cid, CustomerInvoice.kind == "invoice",
                                                  CustomerInvoice.state.in_(("posted", "paid")))):
            open_inv[cust] += Decimal(total) - Decimal(paid)
        for cust in set(ar) | set(open_inv):
            if ar.get(cust, Decimal(0)) != open_inv.get(cust, Decimal(0)):
                out.append(f"customer {cust}: 1122 {ar.get(cust)} ≠ open invoices {open_inv.get(cust)}")
        out += [f"customer {cust}: 2203 预收 has a debit balance {bal}" for cust, bal in advance.items() if bal > 0]
    return out
