"""Many clerks reserving the same stock at once on PostgreSQL: never over-allocated, nothing
negative, no transaction left hanging on a deadlock."""

import threading
from concurrent.futures import ThreadPoolExecutor, wait
from decimal import Decimal

import pytest
from sqlalchemy import text

from opensupply.core.errors import InsufficientStock
from opensupply.core.uow import Actor, atomic
from opensupply.inventory import service as inv
from tests.inventory import factories as fi

pytestmark = pytest.mark.postgres

WORKERS = 8
ATTEMPTS = 2000
ON_HAND = 1000


def test_parallel_single_unit_reservations_never_over_allocate(db):
    if db.dialect != "postgresql":
        pytest.skip("needs PostgreSQL (OPENSUPPLY_TEST_DATABASE_URL)")
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    mug = fi.product(s, "MUG")
    fi.receive(s, "CUP", ON_HAND)
    fi.receive(s, "MUG", ON_HAND, "B-01-01")
    actor = Actor.system(s.company)
    counts = {"ok": 0, "refused": 0}
    lock = threading.Lock()

    def one(i: int) -> None:
        # every fourth request also wants a mug, listed first: locks are still taken in a fixed order
        requests = [inv.ReservationRequest(cup, s.bin_a, Decimal(1), reference=f"SO-{i}")]
        if i % 4 == 0:
            requests.insert(0, inv.ReservationRequest(mug, s.bin_b, Decimal(1), reference=f"SO-{i}"))
        try:
            atomic(actor, inv.reserve, requests, db=db)
            outcome = "ok"
        except InsufficientStock:
            outcome = "refused"
        with lock:
            counts[outcome] += 1

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(one, i) for i in range(ATTEMPTS)]
        done, pending = wait(futures, timeout=120)
        assert not pending, "reservations still hanging after 120 s"
        for fut in done:
            fut.result()  # any unexpected error fails the test

    assert counts == {"ok": ON_HAND, "refused": ATTEMPTS - ON_HAND}
    with s.uow(readonly=True) as uow:
        assert inv.reserved(uow, cup, s.bin_a) == ON_HAND
        assert inv.on_hand(uow, cup, s.bin_a) == ON_HAND
        assert inv.available(uow, cup, s.bin_a) == 0
        assert inv.reserved(uow, mug, s.bin_b) <= ON_HAND
        assert inv.check_ledger(uow) == []
    with db.engine.connect() as conn:
        waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'")).scalar()
    assert waiting == 0
