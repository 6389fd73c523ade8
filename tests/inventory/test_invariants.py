"""Random sequences of receipts, transfers, deliveries, reservations and releases keep the ledger
sound: on-hand = Σ done moves, never negative, 0 ≤ reserved ≤ on-hand — and the service accepts
exactly what a simple model of available stock says it should."""

from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from opensupply.core.errors import InsufficientStock
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockQuant, StockReservation
from opensupply.masterdata.models import Location
from tests.inventory import factories as fi

D = Decimal
BINS = ("A-01-01", "B-01-01")
ITEMS = (("CUP", None), ("TOWEL", "L1"), ("TOWEL", "L2"))  # (sku, lot)


def make_machine(db):
    class Ledger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.s = fi.shop(db)
            self.ids = {"CUP": fi.product(self.s, "CUP"), "TOWEL": fi.product(self.s, "TOWEL", tracking="lot")}
            self.bins = {"A-01-01": self.s.bin_a, "B-01-01": self.s.bin_b}
            self.stock = defaultdict(lambda: D(0))      # (sku, bin, lot) → on hand
            self.res = {}                               # reservation id → (sku, bin, lot, qty)
            with self.s.uow() as uow:
                for name in ("L1", "L2"):
                    inv.create_lot(uow, self.ids["TOWEL"], name)

        # -- the model
        def reserved(self, sku, b, lot=None):
            return sum((q for (k, bb, lt, q) in self.res.values()
                        if (k, bb) == (sku, b) and (lot is None or lt == lot)), D(0))

        def total(self, sku, b):
            return sum((q for (k, bb, _lt), q in self.stock.items() if (k, bb) == (sku, b)), D(0))

        def can_take(self, sku, b, lot, qty, freed=D(0), freed_lot=D(0)):
            lot_ok = lot is None or self.stock[(sku, b, lot)] - qty >= self.reserved(sku, b, lot) - freed_lot
            return (self.stock[(sku, b, lot)] - qty >= 0 and lot_ok
                    and self.total(sku, b) - qty >= self.reserved(sku, b) - freed)

        # -- the rules
        @rule(item=st.sampled_from(ITEMS), b=st.sampled_from(BINS), qty=st.integers(1, 12))
        def receive(self, item, b, qty):
            sku, lot = item
            fi.receive(self.s, sku, qty, b, lot=lot)
            self.stock[(sku, b, lot)] += qty

        @rule(item=st.sampled_from(ITEMS), b=st.sampled_from(BINS), qty=st.integers(1, 12))
        def deliver(self, item, b, qty):
            sku, lot = item
            expected = self.can_take(sku, b, lot, qty)
            try:
                fi.deliver(self.s, sku, qty, b, lot=lot)
            except InsufficientStock:
                assert not expected, "refused although available"
                return
            assert expected, "delivered more than available"
            self.stock[(sku, b, lot)] -= qty

        @rule(item=st.sampled_from(ITEMS), src=st.sampled_from(BINS), qty=st.integers(1, 12))
        def transfer(self, item, src, qty):
            sku, lot = item
            dst = BINS[1 - BINS.index(src)]
            expected = self.can_take(sku, src, lot, qty)
            try:
                with self.s.uow() as uow:
                    inv.move(uow, self.ids[sku], D(qty), self.bins[src], self.bins[dst],
                             lot_id=self._lot_id(uow, sku, lot))
            except InsufficientStock:
                assert not expected
                return
            assert expected
            self.stock[(sku, src, lot)] -= qty
            self.stock[(sku, dst, lot)] += qty

        @rule(item=st.sampled_from(ITEMS), b=st.sampled_from(BINS), qty=st.integers(1, 8), partial=st.booleans())
        def reserve(self, item, b, qty, partial):
            sku, lot = item
            free = self.total(sku, b) - self.reserved(sku, b)
            if lot:
                free = min(free, self.stock[(sku, b, lot)] - self.reserved(sku, b, lot))
            free = max(free, D(0))
            try:
                with self.s.uow() as uow:
                    ids = inv.reserve(uow, [inv.ReservationRequest(self.ids[sku], self.bins[b], D(qty),
                                                                   lot_id=self._lot_id(uow, sku, lot))],
                                      partial=partial)
                    got = [r["quantity"] for r in inv.get_reservations(uow, ids)]
            except InsufficientStock:
                assert not partial and free < qty
                return
            want = D(qty) if free >= qty else free
            assert sum(got, D(0)) == want
            for rid, q in zip(ids, got, strict=True):
                self.res[rid] = (sku, b, lot, q)

        @precondition(lambda self: self.res)
        @rule(data=st.data())
        def release(self, data):
            rid = data.draw(st.sampled_from(sorted(self.res)))
            with self.s.uow() as uow:
                inv.release(uow, [rid])
            del self.res[rid]

        @precondition(lambda self: self.res)
        @rule(data=st.data())
        def ship_reserved(self, data):
            rid = data.draw(st.sampled_from(sorted(self.res)))
            sku, b, lot, qty = self.res[rid]
            with self.s.uow() as uow:
                inv.deliver_reserved(uow, [rid])
            del self.res[rid]
            self.stock[(sku, b, lot)] -= qty

        def _lot_id(self, uow, sku, lot):
            return inv.lots_by_name(uow, [(self.ids[sku], lot)], create=True)[(self.ids[sku], lot)] if lot else None

        # -- what must always hold
        @invariant()
        def ledger_is_sound(self):
            with self.s.uow(readonly=True) as uow:
                assert inv.check_ledger(uow) == []  # on-hand = Σ done moves
                negative = uow.session.scalar(select(func.count()).select_from(StockQuant).join(
                    Location, Location.id == StockQuant.location_id).where(
                    StockQuant.company_id == self.s.company, StockQuant.quantity < 0,
                    Location.allow_negative.is_(False)))
                assert negative == 0
                for sku, pid in self.ids.items():
                    for b, loc in self.bins.items():
                        on_hand, reserved = inv.on_hand(uow, pid, loc), inv.reserved(uow, pid, loc)
                        assert on_hand == self.total(sku, b)
                        assert D(0) <= reserved <= on_hand
                        assert reserved == self.reserved(sku, b)
                active = uow.session.scalar(select(func.count()).select_from(StockReservation).where(
                    StockReservation.company_id == self.s.company, StockReservation.state == "active"))
                assert active == len(self.res)

    return Ledger


def test_random_operations_keep_the_ledger_sound(db):
    run_state_machine_as_test(make_machine(db), settings=settings(
        max_examples=15, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
