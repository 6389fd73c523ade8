"""The five transactions as a straightforward hand-written SQL implementation: DB-API cursor,
one statement per row as TPC-C's transaction profiles do, writing the same rows as the services
(documents, lines, reservations, moves, quants, valuation layers, journal entries and lines,
allocations, audit rows, outbox rows, sequence numbers) — and nothing clever: no ORM, no batching.
After commit the shared outbox dispatcher runs, as it does after the services' commit, so other
modules' reactions (the OMS fulfilment of each confirmed order) are the same work on both sides.

Columns the code does not set are filled from the models' scalar defaults, so a new column with
a default does not break this file. Numbers follow the services' rules (gap-free 记 numbers in
the transaction, other document numbers from a short transaction of their own on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from opensupply.core.db import Base, Database

from .load import Setup, customer_code
from .workload import Delivery, NewOrder, OrderStatus, Payment, StockLevel

CENT = Decimal("0.01")
Q6 = Decimal("0.000001")
TAX = Decimal("0.13")
LINE_REF = "erp.sales_order_line"


def cents(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_UP)


class Rollback(Exception):  # the business outcome of an unknown item, not a failure
    pass


class RawTransactions:
    def __init__(self, db: Database, setup: Setup):
        self.db, self.s, self.cid = db, setup, setup.company_id
        self.sqlite = db.dialect == "sqlite"
        self.conn = db.engine.raw_connection()
        self.side = db.engine.raw_connection()  # document numbers on PostgreSQL: own short transactions
        if not self.sqlite:
            self.side.driver_connection.autocommit = True
        cur = self.conn.cursor()
        self.accounts = dict(self._all(cur, "SELECT code, id FROM account WHERE company_id = %s", (self.cid,)))
        self.journals = dict(self._all(cur, "SELECT code, id FROM journal WHERE company_id = %s", (self.cid,)))
        self.customer_loc = self._one(cur, "SELECT id FROM location WHERE company_id = %s AND usage = 'customer' "
                                      "ORDER BY id LIMIT 1", (self.cid,))[0]
        tz = self._one(cur, "SELECT timezone FROM company WHERE id = %s", (self.cid,))[0]
        self.tz = ZoneInfo(tz or "Asia/Shanghai")
        self._end(commit=True)
        self.defaults = {t.name: {c.name: c.default.arg for c in t.columns
                                  if c.default is not None and c.default.is_scalar}
                         for t in Base.metadata.sorted_tables}
        self.columns = {t.name: {c.name for c in t.columns} for t in Base.metadata.sorted_tables}

    # ------------------------------------------------------------------ plumbing
    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.sqlite else sql

    def _v(self, value):
        if self.sqlite:
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, dt.datetime):
                return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        return value

    def _exec(self, cur, sql: str, params=()):
        cur.execute(self._sql(sql), tuple(self._v(p) for p in params))
        return cur

    def _one(self, cur, sql, params=()):
        return self._exec(cur, sql, params).fetchone()

    def _all(self, cur, sql, params=()):
        return self._exec(cur, sql, params).fetchall()

    def _for_update(self) -> str:
        return "" if self.sqlite else " FOR UPDATE"

    def _insert(self, cur, table: str, values: dict) -> int:
        now = values.get("created_at") or self.now
        row = {**self.defaults[table], **values}
        for stamp in ("created_at", "updated_at"):
            if stamp in self.columns[table]:
                row.setdefault(stamp, now)
        if "company_id" in self.columns[table]:
            row.setdefault("company_id", self.cid)
        cols = [c for c in row if c in self.columns[table]]
        sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
               + (" RETURNING id" if "id" in self.columns[table] else ""))
        return self._one(cur, sql, [row[c] for c in cols])[0]

    def _audit(self, cur, action: str, entity: str, entity_id, after: dict | None = None,
               before: dict | None = None) -> None:
        self._exec(cur, "INSERT INTO audit_log (at, company_id, user_id, username, ip, action, entity, entity_id, "
                        "before, after) VALUES (%s, %s, NULL, 'system', NULL, %s, %s, %s, %s, %s)",
                   (self.now, self.cid, action, entity, str(entity_id),
                    json.dumps(before, default=str, ensure_ascii=False) if before is not None else None,
                    json.dumps(after, default=str, ensure_ascii=False) if after is not None else None))

    def _event(self, cur, name: str, payload: dict) -> int:
        return self._insert(cur, "outbox_event", {
            "event_id": str(uuid.uuid4()), "company_id": self.cid, "user_id": None, "name": name,
            "payload": json.dumps(payload, default=str, ensure_ascii=False), "created_at": self.now, "attempts": 0})

    def _number(self, cur, code: str, prefix: str, *, gap_free: bool = False) -> str:
        """Take the next number of `code` this year: in the transaction when gap-free (or on SQLite),
        else in a short transaction of its own so concurrent clerks do not queue on the row."""
        year = self.today.year
        target = cur if (gap_free or self.sqlite) else self.side.cursor()
        row = self._one(target, "UPDATE sequence SET next_value = next_value + 1 WHERE company_id = %s AND code = %s "
                                "AND period = %s RETURNING next_value - 1, prefix, padding",
                        (self.cid, code, str(year)))
        if row is None:
            self._exec(target, "INSERT INTO sequence (company_id, code, period, prefix, padding, next_value, gap_free) "
                               "VALUES (%s, %s, %s, %s, 6, 2, %s)", (self.cid, code, str(year), prefix, gap_free))
            row = (1, prefix, 6)
        value, pre, padding = row
        return f"{pre.format(year=year, month=f'{self.today.month:02d}')}{int(value):0{padding}d}"

    def _begin(self):
        self.now = dt.datetime.now(dt.UTC)
        self.today = self.now.astimezone(self.tz).date()
        cur = self.conn.cursor()
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")
        return cur

    def _end(self, *, commit: bool) -> None:
        if commit:
            self.conn.commit()
        else:
            self.conn.rollback()

    def _run(self, work) -> tuple[bool, list[int]]:
        for attempt in range(6):
            cur = self._begin()
            try:
                events = work(cur)
            except Rollback:
                self._end(commit=False)
                return False, []
            except Exception as exc:
                self._end(commit=False)
                retryable = "deadlock" in str(exc) or "serializ" in str(exc)
                if self.sqlite or attempt == 5 or not retryable:
                    raise
                time.sleep(0.01 * 2 ** attempt)
                continue
            self._end(commit=True)
            self._dispatched(events)
            return True, events
        return False, []

    def _dispatched(self, event_ids: list[int]) -> None:
        """After commit, the same outbox dispatcher as the services' runs: other modules' reactions to
        these events (the OMS fulfilment of every confirmed order, …) are the platform's work, not this
        transaction's, and must write the same rows in both runs. Events nobody listens to are just
        marked delivered."""
        if event_ids:
            from opensupply.core.events import dispatch_pending

            dispatch_pending(self.db)

    def _journal_entry(self, cur, journal: str, memo: str, reference: str, ref_type: str, ref_id: int | None,
                       lines: list[tuple[str, Decimal, Decimal, int | None, int | None, str]]) -> int:
        """lines: (account code, debit, credit, partner id, product id, memo); zero lines dropped."""
        state = self._one(cur, "SELECT state FROM accounting_period WHERE company_id = %s AND year = %s "
                               "AND month = %s", (self.cid, self.today.year, self.today.month))
        if state and state[0] == "closed":
            raise RuntimeError("period closed")
        lines = [ln for ln in lines if ln[1] or ln[2]]
        total = sum((ln[1] for ln in lines), Decimal(0))
        number = self._number(cur, "JV", "记{year}-", gap_free=True)
        entry = self._insert(cur, "journal_entry", {
            "number": number, "journal_id": self.journals[journal], "date": self.today, "state": "posted",
            "memo": memo[:300], "reference": reference, "ref_type": ref_type, "ref_id": ref_id, "reversed": False,
            "total": total})
        for code, debit, credit, partner, product, line_memo in lines:
            self._insert(cur, "journal_line", {"entry_id": entry, "account_id": self.accounts[code], "date": self.today,
                                               "partner_id": partner, "product_id": product, "debit": debit,
                                               "credit": credit, "memo": line_memo})
        self._audit(cur, "create", "journal_entry", entry, {"number": number, "total": total})
        self._audit(cur, "lines", "journal_entry", entry, {"lines": [
            {"account": c, "debit": d, "credit": cr, "partner_id": p} for c, d, cr, p, _x, _m in lines]})
        return entry

    # ------------------------------------------------------------------ New-Order
    def new_order(self, t: NewOrder) -> bool:
        def work(cur):
            wid = self.s.warehouse_ids[t.warehouse]
            cust = self._one(cur, "SELECT id, name, credit_limit, currency_code FROM partner WHERE id = %s AND "
                                  "company_id = %s AND is_customer" + self._for_update(), (t.customer_id, self.cid))
            stock_loc = self._one(cur, "SELECT stock_location_id FROM warehouse WHERE id = %s", (wid,))[0]
            lines = []
            for pid, qty, price in t.lines:
                p = self._one(cur, "SELECT id, name, product_type FROM product WHERE id = %s AND company_id = %s "
                                   "AND active", (pid, self.cid))
                if p is None:
                    raise Rollback
                net = cents(Decimal(qty) * Decimal(price))
                tax = cents(net * TAX)
                lines.append((pid, p[1], Decimal(qty), Decimal(price), net, tax))
            untaxed = sum((x[4] for x in lines), Decimal(0))
            tax_total = sum((x[5] for x in lines), Decimal(0))
            number = self._number(cur, "SALES_SO", "SO{year}-")
            oid = self._insert(cur, "sales_order", {
                "number": number, "customer_id": cust[0], "state": "confirmed", "order_date": self.today,
                "channel": "direct", "created_by_module": "erp", "warehouse_id": wid, "price_includes_tax": False,
                "currency_code": cust[3] or "CNY", "confirmed_at": self.now, "amount_untaxed": untaxed,
                "amount_tax": tax_total, "amount_total": untaxed + tax_total})
            self._audit(cur, "create", "sales_order", oid, {"number": number, "state": "draft"})
            line_ids = []
            for i, (pid, name, qty, price, net, tax) in enumerate(lines):
                lid = self._insert(cur, "sales_order_line", {
                    "order_id": oid, "sequence": (i + 1) * 10, "product_id": pid, "description": name,
                    "quantity": qty, "unit_price": price, "discount_pct": Decimal(0), "tax_rate": TAX,
                    "amount_untaxed": net, "amount_tax": tax, "amount_total": net + tax,
                    "qty_delivered": Decimal(0), "qty_invoiced": Decimal(0)})
                self._audit(cur, "create", "sales_order_line", lid, {"product_id": pid, "quantity": qty})
                line_ids.append(lid)
            for lid, (pid, _n, qty, *_rest) in zip(line_ids, lines, strict=True):
                on_hand = self._one(cur, "SELECT quantity FROM stock_quant WHERE company_id = %s AND product_id = %s "
                                         "AND location_id = %s AND lot_key = 0" + self._for_update(),
                                    (self.cid, pid, stock_loc))
                reserved = self._one(cur, "SELECT COALESCE(SUM(quantity), 0) FROM stock_reservation WHERE "
                                          "company_id = %s AND product_id = %s AND location_id = %s "
                                          "AND state = 'active'",
                                     (self.cid, pid, stock_loc))[0]
                free = (Decimal(str(on_hand[0])) if on_hand else Decimal(0)) - Decimal(str(reserved))
                take = min(free, qty)
                if take > 0:
                    rid = self._insert(cur, "stock_reservation", {
                        "product_id": pid, "location_id": stock_loc, "quantity": take, "state": "active",
                        "ref_type": LINE_REF, "ref_id": lid, "reference": number})
                    self._audit(cur, "create", "stock_reservation", rid, {"product_id": pid, "quantity": take})
            dn = self._number(cur, "SALES_DN", "DN{year}-")
            did = self._insert(cur, "sales_delivery", {"number": dn, "order_id": oid, "customer_id": cust[0],
                                                       "state": "waiting", "scheduled_date": self.today,
                                                       "cost_total": Decimal(0)})
            self._audit(cur, "create", "sales_delivery", did, {"number": dn})
            for lid, (pid, _n, qty, *_rest) in zip(line_ids, lines, strict=True):
                dlid = self._insert(cur, "sales_delivery_line", {"delivery_id": did, "order_line_id": lid,
                                                                 "product_id": pid, "quantity": qty,
                                                                 "cost_value": Decimal(0)})
                self._audit(cur, "create", "sales_delivery_line", dlid, {"quantity": qty})
            self._audit(cur, "update", "sales_order", oid, {"state": "confirmed"}, {"state": "draft"})
            return [self._event(cur, "erp.sales_order_confirmed", {
                "sales_order_id": oid, "number": number, "channel": "direct", "customer_id": cust[0],
                "source_ref": None, "created_by_module": "erp", "warehouse_id": wid,
                "amount_total": untaxed + tax_total})]
        return self._run(work)[0]

    # ------------------------------------------------------------------ Payment
    def payment(self, t: Payment) -> bool:
        def work(cur):
            cust = self._one(cur, "SELECT id, name FROM partner WHERE id = %s AND company_id = %s AND is_customer"
                             + self._for_update(), (t.customer_id, self.cid))
            amount = cents(t.amount)
            invoices = self._all(cur, "SELECT id, number, amount_total, amount_paid FROM customer_invoice WHERE "
                                      "company_id = %s AND customer_id = %s AND kind = 'invoice' AND state = 'posted' "
                                      "ORDER BY due_date, id" + self._for_update(), (self.cid, cust[0]))
            left, pairs = amount, []
            for iid, inum, total, paid in invoices:
                open_amount = Decimal(str(total)) - Decimal(str(paid))
                take = min(left, open_amount)
                if take <= 0:
                    break
                pairs.append((iid, inum, take, Decimal(str(paid)), Decimal(str(total))))
                left -= take
            allocated = amount - left
            number = self._number(cur, "SALES_RC", "RC{year}-")
            rid = self._insert(cur, "customer_receipt", {
                "number": number, "customer_id": cust[0], "state": "posted", "receipt_date": self.today,
                "amount": amount, "amount_allocated": allocated, "account": "bank", "currency_code": "CNY"})
            self._audit(cur, "create", "customer_receipt", rid, {"number": number, "amount": amount})
            entry = self._journal_entry(cur, "BNK", f"收款 {number} {cust[1]}", number, "erp.customer_receipt", rid, [
                ("1002", amount, Decimal(0), None, None, ""),
                ("1122", Decimal(0), allocated, cust[0], None, ", ".join(p[1] for p in pairs)[:500]),
                ("2203", Decimal(0), amount - allocated, cust[0], None, "预收/多收款")])
            for iid, _inum, take, paid, total in pairs:
                aid = self._insert(cur, "sales_receipt_allocation", {
                    "receipt_id": rid, "invoice_id": iid, "customer_id": cust[0], "amount": take,
                    "allocation_date": self.today, "source": "receipt", "journal_entry_id": entry})
                self._audit(cur, "create", "sales_receipt_allocation", aid, {"amount": take})
                self._settle(cur, iid, paid, total, take)
            return [self._event(cur, "erp.customer_receipt_registered", {
                "receipt_id": rid, "number": number, "customer_id": cust[0], "amount": amount,
                "allocated": allocated})]
        return self._run(work)[0]

    def _settle(self, cur, iid: int, paid: Decimal, total: Decimal, take: Decimal) -> None:
        new_paid = paid + take
        extra = ", paid_company = COALESCE(paid_company, 0) + %s" if "paid_company" in self.columns[
            "customer_invoice"] else ""
        params = [new_paid, "paid" if new_paid >= total else "posted", self.now]
        if extra:
            params.append(take)
        self._exec(cur, "UPDATE customer_invoice SET amount_paid = %s, state = %s, updated_at = %s" + extra
                   + " WHERE id = %s", [*params, iid])
        self._audit(cur, "update", "customer_invoice", iid, {"amount_paid": new_paid}, {"amount_paid": paid})

    # ------------------------------------------------------------------ Delivery
    def delivery(self, t: Delivery) -> bool:
        def work(cur):
            wid = self.s.warehouse_ids[t.warehouse]
            events = []
            for d in t.districts:
                lo, hi = customer_code(t.warehouse, d, 0), customer_code(t.warehouse, d, 99999)
                row = self._one(cur, "SELECT o.id FROM sales_order o JOIN sales_delivery dl ON dl.order_id = o.id "
                                     "JOIN partner p ON p.id = o.customer_id WHERE o.company_id = %s AND "
                                     "o.warehouse_id = %s AND o.state = 'confirmed' AND dl.state = 'waiting' AND "
                                     "p.code > %s AND p.code <= %s ORDER BY o.id LIMIT 1", (self.cid, wid, lo, hi))
                if row is None:
                    continue
                events += self._deliver_and_invoice(cur, row[0])
            return events
        return self._run(work)[0]

    def _deliver_and_invoice(self, cur, oid: int) -> list[int]:
        order = self._one(cur, "SELECT id, number, customer_id FROM sales_order WHERE id = %s" + self._for_update(),
                          (oid,))
        cust = self._one(cur, "SELECT id, name, payment_terms_days FROM partner WHERE id = %s", (order[2],))
        did, dn = self._one(cur, "SELECT id, number FROM sales_delivery WHERE order_id = %s AND state = 'waiting'"
                            + self._for_update(), (oid,))
        dlines = self._all(cur, "SELECT id, order_line_id, product_id, quantity FROM sales_delivery_line WHERE "
                                "delivery_id = %s ORDER BY order_line_id", (did,))
        postings, move_ids, cost_total = [], [], Decimal(0)
        for dlid, lid, pid, qty in dlines:
            qty = Decimal(str(qty))
            res = self._all(cur, "SELECT id, location_id, quantity FROM stock_reservation WHERE company_id = %s AND "
                                 "ref_type = %s AND ref_id = %s AND state = 'active' ORDER BY id",
                            (self.cid, LINE_REF, lid))
            left, line_cost = qty, Decimal(0)
            for res_id, loc, rq in res:
                rq = Decimal(str(rq))
                take = min(left, rq)
                if take <= 0:
                    break
                cost = Decimal(str(self._one(cur, "SELECT cost FROM product WHERE id = %s" + self._for_update(),
                                             (pid,))[0]))
                self._one(cur, "SELECT quantity FROM stock_quant WHERE company_id = %s AND product_id = %s AND "
                               "location_id = %s AND lot_key = 0" + self._for_update(), (self.cid, pid, loc))
                self._exec(cur, "UPDATE stock_quant SET quantity = quantity - %s, updated_at = %s "
                                "WHERE company_id = %s AND product_id = %s AND location_id = %s AND lot_key = 0",
                           (take, self.now, self.cid, pid, loc))
                value = (take * cost).quantize(Q6)
                uom = self._one(cur, "SELECT uom_id FROM product WHERE id = %s", (pid,))[0]
                mid = self._insert(cur, "stock_move", {
                    "product_id": pid, "uom_id": uom, "quantity": take, "source_location_id": loc,
                    "dest_location_id": self.customer_loc, "state": "done", "date_done": self.now,
                    "ref_type": "erp.sales_delivery", "ref_id": did, "reference": dn, "unit_cost": cost,
                    "value": value})
                self._audit(cur, "create", "stock_move", mid, {"product_id": pid, "quantity": take})
                lay = self._insert(cur, "stock_valuation_layer", {
                    "product_id": pid, "move_id": mid, "quantity": -take, "unit_cost": cost, "value": -value,
                    "remaining_quantity": Decimal(0), "remaining_value": Decimal(0), "description": dn})
                self._audit(cur, "create", "stock_valuation_layer", lay, {"value": -value})
                self._exec(cur, "UPDATE stock_reservation SET state = 'consumed', move_id = %s, closed_at = %s, "
                                "updated_at = %s WHERE id = %s", (mid, self.now, self.now, res_id))
                self._audit(cur, "consume", "stock_reservation", res_id, {"state": "consumed", "move_id": mid})
                if take < rq:
                    self._insert(cur, "stock_reservation", {"product_id": pid, "location_id": loc,
                                                            "quantity": rq - take, "state": "active",
                                                            "ref_type": LINE_REF, "ref_id": lid, "reference": order[1]})
                left -= take
                line_cost += value
                postings.append((pid, value))
                move_ids.append(mid)
            if left > 0:
                raise RuntimeError(f"order line {lid} short of reserved stock by {left}")
            self._exec(cur, "UPDATE sales_delivery_line SET cost_value = %s, updated_at = %s WHERE id = %s",
                       (line_cost, self.now, dlid))
            self._audit(cur, "update", "sales_delivery_line", dlid, {"cost_value": line_cost})
            self._exec(cur, "UPDATE sales_order_line SET qty_delivered = qty_delivered + %s, updated_at = %s "
                            "WHERE id = %s", (qty, self.now, lid))
            self._audit(cur, "update", "sales_order_line", lid, {"qty_delivered": qty})
            cost_total += line_cost
        events = [self._event(cur, "inventory.moves_done", {"move_ids": move_ids})]
        lines = sorted([("6401", cents(v), Decimal(0), None, pid, "") for pid, v in postings], key=lambda x: x[4]) + \
            sorted([("1405", Decimal(0), cents(v), None, pid, "") for pid, v in postings], key=lambda x: x[4])
        self._journal_entry(cur, "STK", "存货计价", dn, "stock", None, lines)
        self._exec(cur, "UPDATE sales_delivery SET state = 'done', date_done = %s, cost_total = %s, updated_at = %s "
                        "WHERE id = %s", (self.now, cost_total, self.now, did))
        self._audit(cur, "update", "sales_delivery", did, {"state": "done"})
        events.append(self._event(cur, "erp.sales_delivery_done", {"delivery_id": did, "number": dn,
                                                                   "sales_order_id": oid, "backorder_id": None,
                                                                   "move_ids": move_ids}))
        # invoice what was delivered
        olines = self._all(cur, "SELECT id, product_id, description, quantity, unit_price, amount_untaxed, amount_tax, "
                                "amount_total, qty_delivered, qty_invoiced FROM sales_order_line WHERE order_id = %s "
                                "ORDER BY id", (oid,))
        number = self._number(cur, "SALES_INV", "INV{year}-")
        net_total = sum((Decimal(str(x[5])) for x in olines), Decimal(0))
        tax_total = sum((Decimal(str(x[6])) for x in olines), Decimal(0))
        gross = net_total + tax_total
        due = self.today + dt.timedelta(days=cust[2] or 0)
        iid = self._insert(cur, "customer_invoice", {
            "number": number, "kind": "invoice", "invoice_type": "normal", "customer_id": cust[0], "order_id": oid,
            "state": "posted", "invoice_date": self.today, "due_date": due, "buyer_name": cust[1],
            "currency_code": "CNY", "amount_paid": Decimal(0), "amount_untaxed": net_total, "amount_tax": tax_total,
            "amount_total": gross})
        self._audit(cur, "create", "customer_invoice", iid, {"number": number, "amount_total": gross})
        for lid, pid, desc, qty, price, net, tax, total, _qd, _qi in olines:
            ilid = self._insert(cur, "customer_invoice_line", {
                "invoice_id": iid, "order_line_id": lid, "product_id": pid, "description": desc, "quantity": qty,
                "unit_price": price, "discount_pct": Decimal(0), "tax_rate": TAX, "amount_untaxed": net,
                "amount_tax": tax, "amount_total": total})
            self._audit(cur, "create", "customer_invoice_line", ilid, {"quantity": qty})
            self._exec(cur, "UPDATE sales_order_line SET qty_invoiced = qty_invoiced + %s, updated_at = %s "
                            "WHERE id = %s", (qty, self.now, lid))
            self._audit(cur, "update", "sales_order_line", lid, {"qty_invoiced": qty})
        self._journal_entry(cur, "SAL", f"销售发票 {number} {cust[1]}", number, "erp.customer_invoice", iid, [
            ("1122", gross, Decimal(0), cust[0], None, number), ("6001", Decimal(0), net_total, cust[0], None, number),
            ("222102", Decimal(0), tax_total, cust[0], None, number)])
        # the customer's unused credit (2203) settles the new invoice at once
        credit = -Decimal(str(self._one(cur, "SELECT COALESCE(SUM(l.debit - l.credit), 0) FROM journal_line l WHERE "
                                             "l.company_id = %s AND l.account_id = %s AND l.partner_id = %s",
                                        (self.cid, self.accounts["2203"], cust[0]))[0]))
        take = min(credit, gross)
        if take > 0:
            entry = self._journal_entry(cur, "SAL", f"预收款冲抵应收 {number}", number, "erp.customer_credit", iid, [
                ("2203", take, Decimal(0), cust[0], None, ""), ("1122", Decimal(0), take, cust[0], None, number)])
            aid = self._insert(cur, "sales_receipt_allocation", {
                "receipt_id": None, "invoice_id": iid, "customer_id": cust[0], "amount": take,
                "allocation_date": self.today, "source": "credit", "journal_entry_id": entry})
            self._audit(cur, "create", "sales_receipt_allocation", aid, {"amount": take})
            self._settle(cur, iid, Decimal(0), gross, take)
        self._exec(cur, "UPDATE sales_order SET state = 'done', updated_at = %s WHERE id = %s", (self.now, oid))
        self._audit(cur, "update", "sales_order", oid, {"state": "done"}, {"state": "confirmed"})
        events.append(self._event(cur, "erp.customer_invoice_posted", {
            "invoice_id": iid, "number": number, "sales_order_id": oid, "customer_id": cust[0],
            "amount_total": gross}))
        return events

    # ------------------------------------------------------------------ read-only
    def order_status(self, t: OrderStatus) -> bool:
        cur = self.conn.cursor()
        if self.sqlite:
            cur.execute("BEGIN")
        row = self._one(cur, "SELECT id, number, state FROM sales_order WHERE company_id = %s AND customer_id = %s "
                             "ORDER BY id DESC LIMIT 1", (self.cid, t.customer_id))
        if row:
            self._all(cur, "SELECT product_id, quantity, qty_delivered, amount_total FROM sales_order_line WHERE "
                           "order_id = %s", (row[0],))
            self._one(cur, "SELECT date_done FROM sales_delivery WHERE order_id = %s ORDER BY id DESC LIMIT 1",
                      (row[0],))
        self._end(commit=False)
        return True

    def stock_level(self, t: StockLevel) -> bool:
        lo, hi = customer_code(t.warehouse, t.district, 0), customer_code(t.warehouse, t.district, 99999)
        loc = self.s.stock_location_ids[t.warehouse]
        cur = self.conn.cursor()
        if self.sqlite:
            cur.execute("BEGIN")
        self._one(cur, "SELECT COUNT(*) FROM stock_quant q WHERE q.company_id = %s AND q.location_id = %s AND "
                       "q.product_id IN (SELECT DISTINCT l.product_id FROM sales_order_line l WHERE l.order_id IN ("
                       "SELECT o.id FROM sales_order o JOIN partner p ON p.id = o.customer_id WHERE o.company_id = %s "
                       "AND o.warehouse_id = %s AND p.code > %s AND p.code <= %s ORDER BY o.id DESC LIMIT 20)) AND "
                       "q.quantity - (SELECT COALESCE(SUM(r.quantity), 0) FROM stock_reservation r WHERE "
                       "r.product_id = q.product_id AND r.location_id = %s AND r.state = 'active') < %s",
                  (self.cid, loc, self.cid, self.s.warehouse_ids[t.warehouse], lo, hi, loc, t.threshold))
        self._end(commit=False)
        return True
