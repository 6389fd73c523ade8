"""Random runs of business documents keep the books and the sub-ledgers in step.

Purchase orders are received (partly), billed, paid (partly), receipts and bills cancelled;
sales orders are confirmed against stock, delivered (partly), invoiced, credited (红冲) and
collected (partly, or more than owed). After every step an accountant's checks hold: every
voucher balances and so does the trial balance; the stock accounts equal the inventory
valuation; per customer, 1122 equals the open invoices of the AR aging and 1122 less the
customer's credit is what collections reports as owed; per supplier, 2202 equals the open
bills of the AP aging and the supplier statement reconciles with the ledger.

One customer and one supplier deal in US dollars while the dollar rate moves between steps, so
receipts and payments realise exchange differences; receipts and payments are also reversed
(冲销) — and the sub-ledgers, in company currency, still equal the ledger to the cent."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from opensupply.accounting import reports
from opensupply.accounting import service as gl
from opensupply.accounting.models import JournalLine
from opensupply.core.errors import Conflict, InsufficientStock
from opensupply.core.sequences import company_today
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.masterdata.models import CurrencyRate
from tests.erp.fx import factories as fx
from tests.erp.purchasing.factories import partner
from tests.erp.sales import factories as fs

D = Decimal
CENT = D("0.01")
fraction = st.integers(1, 4)  # quarters: 1 = a quarter of what is open … 4 = all of it
price = st.integers(100, 9_999).map(lambda c: D(c) / 100)
dollar = st.sampled_from(["6.95", "7.10", "7.23", "7.3117"])  # CNY per USD on the day
MAX_ORDERS = 3  # a few documents per run, so the steps take them far: paid, credited, reversed


def _part(open_qty: Decimal, quarters: int) -> Decimal:
    """A whole-unit part of an open quantity, at least one."""
    return max(D(1), (open_qty * quarters / 4).to_integral_value())


def _money_part(open_amount: Decimal, quarters: int) -> Decimal:
    return max(CENT, (open_amount * quarters / 4).quantize(CENT))


def _choose(documents: list, pick: int, eligible):
    """One of the documents the step applies to (None when none does)."""
    candidates = [d for d in documents if eligible(d)]
    return candidates[pick % len(candidates)] if candidates else None


def run_documents(db) -> None:
    class Documents(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.shop = fs.shop(db)  # a new company per example: cup (average) and towel (FIFO, lots) on hand
            c = self.shop.company
            self.customers = [self.shop.customer, fs.customer(db, c, "C-NBXY", "宁波鑫源贸易有限公司"),
                              fs.customer(db, c, "C-BOSTON", "Boston Home Goods LLC", currency_code="USD", tax_id="")]
            self.suppliers = [partner(db, c, "S-YKSS", "永康市宏达不锈钢制品厂"),
                              partner(db, c, "S-NTJF", "南通家纺织造厂", terms=0),
                              fx.partner(db, c, "S-ACME", "Acme Tools Inc.", supplier=True)]
            fx.rates(db, c, "USD", {dt.date(2026, 1, 1): "7.10"})
            self.customer_receipts: list[int] = []
            self.products = [self.shop.cup, self.shop.towel]
            self.purchase_orders: list[int] = []
            self.receipts: list[int] = []
            self.bills: list[int] = []
            self.payments: list[int] = []
            self.sales_orders: list[int] = []
            self.invoices: list[int] = []

        def uow(self, readonly: bool = False):
            return self.shop.uow(readonly=readonly)

        # ------------------------------------------------------------ procure to pay
        @initialize(supplier=st.integers(0, 2), qty=st.integers(1, 30), unit_price=price)
        def first_purchase_order(self, supplier, qty, unit_price):
            self.order_cups(supplier, qty, unit_price)

        @precondition(lambda self: len(self.purchase_orders) < MAX_ORDERS)
        @rule(supplier=st.integers(0, 2), qty=st.integers(1, 30), unit_price=price)
        def order_cups(self, supplier, qty, unit_price):
            with self.uow() as uow:
                po = purchasing.create_order(uow, self.suppliers[supplier],
                                             [purchasing.OrderLineIn(self.shop.cup, qty, unit_price)],
                                             location="A-01-01")
                purchasing.confirm_order(uow, po.id)
                self.purchase_orders.append(po.id)

        @rule(pick=st.integers(0, 50), choice=st.integers(0, 5), quarters=fraction, rate=dollar)
        def advance_purchase(self, pick, choice, quarters, rate):
            """The next thing that happens to an order: goods arrive (partly), the supplier's
            invoice comes for what arrived, or (part of) an open bill is paid — at the day's dollar rate."""
            with self.uow() as uow:
                self._dollar_at(uow, rate)
                orders = [uow.get(purchasing.PurchaseOrder, i) for i in self.purchase_orders]
                bills = [uow.get(purchasing.VendorBill, i) for i in self.bills]
                steps = []
                po = _choose(orders, pick, lambda o: o.state == "confirmed"
                             and o.lines[0].qty_received < o.lines[0].quantity)
                if po is not None:
                    steps.append(lambda: self._receive(uow, po, quarters))
                to_bill = _choose(orders, pick, lambda o: o.lines[0].qty_billed < o.lines[0].qty_received)
                if to_bill is not None:
                    steps.append(lambda: self._bill(uow, to_bill))
                bill = _choose(bills, pick, lambda b: b.state == "posted" and purchasing.open_amount(b) > 0)
                if bill is not None:
                    steps.append(lambda: self._pay(uow, bill, quarters))
                if steps:
                    steps[choice % len(steps)]()

        def _receive(self, uow, po, quarters):
            line = po.lines[0]
            open_qty = line.quantity - line.qty_received
            receipt = purchasing.receive_order(uow, po.id, [purchasing.ReceiptLineIn(
                min(_part(open_qty, quarters), open_qty), order_line_id=line.id)])
            self.receipts.append(receipt.id)

        def _bill(self, uow, po):
            bill = purchasing.create_vendor_bill(uow, po.id, supplier_invoice_no="FP-PROP")
            assert bill.state == "posted", bill.match_issues  # billed as received, at the order price
            self.bills.append(bill.id)

        def _pay(self, uow, bill, quarters):
            open_ = purchasing.open_amount(bill)
            payment = purchasing.create_payment(uow, bill.supplier_id, [purchasing.AllocationIn(
                bill.id, min(_money_part(open_, quarters), open_))])
            self.payments.append(payment.id)

        @precondition(lambda self: self.receipts)
        @rule(pick=st.integers(0, 50))
        def cancel_goods_receipt(self, pick):
            try:
                with self.uow() as uow:
                    receipt = _choose([uow.get(purchasing.GoodsReceipt, i) for i in self.receipts], pick,
                                      lambda r: r.state == "done")
                    if receipt is not None:
                        purchasing.cancel_receipt(uow, receipt.id)
            except InsufficientStock:
                pass  # the goods were sold or reserved meanwhile: refused, nothing written
            except Conflict as exc:  # billed already: refused until the bill is cancelled
                assert "已开票" in str(exc), exc

        @precondition(lambda self: self.bills)
        @rule(pick=st.integers(0, 50))
        def cancel_bill(self, pick):
            try:
                with self.uow() as uow:
                    bill = _choose([uow.get(purchasing.VendorBill, i) for i in self.bills], pick,
                                   lambda b: b.state != "cancelled")
                    if bill is not None:
                        purchasing.cancel_vendor_bill(uow, bill.id)
            except Conflict as exc:  # paid (in part): refused until the payment is cancelled
                assert "已有付款" in str(exc), exc

        @precondition(lambda self: self.payments)
        @rule(pick=st.integers(0, 50))
        def cancel_supplier_payment(self, pick):
            with self.uow() as uow:
                payment = _choose([uow.get(purchasing.SupplierPayment, i) for i in self.payments], pick,
                                  lambda p: p.state == "posted")
                if payment is not None:
                    purchasing.cancel_payment(uow, payment.id)

        # ------------------------------------------------------------ order to cash
        @initialize(customer=st.integers(0, 2), product=st.integers(0, 1), qty=st.integers(1, 15), unit_price=price)
        def first_sales_order(self, customer, product, qty, unit_price):
            self.sell(customer, product, qty, unit_price)

        @precondition(lambda self: len(self.sales_orders) < MAX_ORDERS)
        @rule(customer=st.integers(0, 2), product=st.integers(0, 1), qty=st.integers(1, 15), unit_price=price)
        def sell(self, customer, product, qty, unit_price):
            with self.uow() as uow:
                if inv.available(uow, self.products[product]) < qty:
                    return  # only orders that stock can cover
                order = sales.create_sales_order(uow, customer_id=self.customers[customer], confirm=True, lines=[
                    sales.SalesLineIn(product_id=self.products[product], quantity=qty, unit_price=unit_price)])
                self.sales_orders.append(order.id)

        @rule(pick=st.integers(0, 50), choice=st.integers(0, 5), quarters=fraction)
        def advance_sale(self, pick, choice, quarters):
            """The next thing that happens to a sales order: goods ship (partly), or what shipped is invoiced."""
            with self.uow() as uow:
                orders = [uow.get(sales.SalesOrder, i) for i in self.sales_orders]
                steps = []
                order = _choose(orders, pick, lambda o: o.state == "confirmed"
                                and o.lines[0].qty_delivered < o.lines[0].quantity)
                if order is not None:
                    steps.append(lambda: self._deliver(uow, order, quarters))
                to_invoice = _choose(orders, pick, lambda o: o.lines[0].qty_invoiced < o.lines[0].qty_delivered)
                if to_invoice is not None:
                    steps.append(lambda: self.invoices.append(sales.invoice_order(uow, to_invoice.id).id))
                if steps:
                    steps[choice % len(steps)]()

        def _deliver(self, uow, order, quarters):
            line = order.lines[0]
            open_qty = line.quantity - line.qty_delivered
            sales.deliver(uow, order.id, [sales.DeliveryLineIn(min(_part(open_qty, quarters), open_qty),
                                                               order_line_id=line.id)])

        @precondition(lambda self: self.invoices)
        @rule(customer=st.integers(0, 2), quarters=st.integers(1, 6), rate=dollar)
        def collect(self, customer, quarters, rate):
            """Money in: a part of what the customer owes, all of it, or more (5/4, 6/4: credit);
            the US customer pays in dollars at the day's rate."""
            cid = self.customers[customer]
            with self.uow() as uow:
                self._dollar_at(uow, rate)
                owed = sales.open_receivable(uow, cid)
                amount = _money_part(max(owed, D(100)), quarters)
                self.customer_receipts.append(sales.register_receipt(uow, cid, amount).id)

        @precondition(lambda self: self.customer_receipts)
        @rule(pick=st.integers(0, 50))
        def reverse_customer_receipt(self, pick):
            """A receipt entered in error is reversed — refused (nothing written) when an invoice it
            settled was credited since or its surplus was already used on other invoices."""
            try:
                with self.uow() as uow:
                    receipt = _choose([uow.get(sales.CustomerReceipt, i) for i in self.customer_receipts], pick,
                                      lambda r: r.state == "posted")
                    if receipt is not None:
                        sales.reverse_receipt(uow, receipt.id, "银行退票")
            except Conflict as exc:
                assert "已红冲" in str(exc) or "已用于冲抵" in str(exc), exc

        @precondition(lambda self: self.payments)
        @rule(pick=st.integers(0, 50))
        def reverse_supplier_payment(self, pick):
            with self.uow() as uow:
                payment = _choose([uow.get(purchasing.SupplierPayment, i) for i in self.payments], pick,
                                  lambda p: p.state == "posted")
                if payment is not None:
                    purchasing.reverse_payment(uow, payment.id, "付错账户")

        @rule(rate=dollar)
        def dollar_moves(self, rate):
            """Today's USD rate changes: documents from now on are booked at it."""
            with self.uow() as uow:
                self._dollar_at(uow, rate)

        def _dollar_at(self, uow, rate):
            today = company_today(uow)
            row = uow.session.scalar(select(CurrencyRate).where(CurrencyRate.company_id == uow.company_id,
                                                                CurrencyRate.currency_code == "USD",
                                                                CurrencyRate.date == today))
            if row is None:
                uow.add(CurrencyRate(currency_code="USD", date=today, rate=D(rate)))
            else:
                row.rate = D(rate)
            uow.flush()

        @precondition(lambda self: self.invoices)
        @rule(pick=st.integers(0, 50))
        def credit_note(self, pick):
            with self.uow() as uow:
                invoice = _choose([uow.get(sales.CustomerInvoice, i) for i in self.invoices], pick,
                                  lambda i: i.state != "cancelled")
                if invoice is not None:
                    sales.cancel_invoice(uow, invoice.id, "客户退回，红冲")

        # ------------------------------------------------------------ what an accountant checks
        @invariant()
        def books_are_sound(self):
            with self.uow(readonly=True) as uow:
                net = defaultdict(lambda: D(0))  # summed as Decimals: SQLite sums NUMERIC as floats
                for entry_id, debit, credit in uow.session.execute(
                        select(JournalLine.entry_id, JournalLine.debit, JournalLine.credit)
                        .where(JournalLine.company_id == uow.company_id)):
                    net[entry_id] += debit - credit
                assert [e for e, v in net.items() if v != 0] == []
                tb = reports.trial_balance(uow)
                assert tb["total_debit"] == tb["total_credit"] and tb["balanced"]
                gtb = gl.trial_balance(uow)
                assert gtb["total_debit"] == gtb["total_credit"] == tb["total_debit"]
                valuation = inv.valuation(uow)
                assert valuation["gl_inventory_balance"] == valuation["total_value"]

        @invariant()
        def receivables_match_open_invoices(self):
            with self.uow(readonly=True) as uow:
                ar = gl.partner_balances(uow, "receivable")
                aging = {r["customer_id"]: r for r in sales.ar_aging(uow)["items"]}
                for cid in self.customers:
                    row = aging.get(cid, {"total": D(0), "credit": D(0), "net": D(0)})
                    assert ar.get(cid, D(0)) == row["total"], (cid, ar, row)
                    owed = sales.collections(uow, cid)
                    assert owed["credit"] == row["credit"], (cid, owed["credit"], row)
                    assert owed["open_receivable"] == row["net"] == row["total"] - row["credit"], (cid, owed, row)

        @invariant()
        def payables_match_open_bills(self):
            with self.uow(readonly=True) as uow:
                ap = gl.partner_balances(uow, "payable")  # debit-positive
                aging = {r["supplier_id"]: r["total"] for r in purchasing.ap_aging(uow)["items"]}
                for sid in self.suppliers:
                    assert -ap.get(sid, D(0)) == aging.get(sid, D(0)), (sid, ap, aging)
                    statement = purchasing.supplier_statement(uow, sid)
                    assert statement["reconciled"], statement
                    assert statement["gl_balance"] == aging.get(sid, D(0))

    run_state_machine_as_test(Documents, settings=settings(
        max_examples=15, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))


def test_random_documents_keep_books_and_subledgers_in_step(db):
    run_documents(db)
