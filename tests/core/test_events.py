"""Domain events: written with the change (outbox), delivered once to every handler, failures retried."""

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select, update

from opensupply.core import events
from opensupply.core.audit import AuditLog, record
from opensupply.core.events import OutboxEvent, dispatch_pending, subscribe
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import ProductCategory
from tests import factories as f

SOLD = "test.order_sold"
CHAINED = "test.order_packed"
behaviour = {"notify_failures_left": 0, "pause": 0.0}


@subscribe(SOLD, "test.reserve_stock")
def reserve_stock(uow, ev):
    record(uow.session, "handled", "test_event", ev.event_id, after={"handler": "reserve_stock"})
    time.sleep(behaviour["pause"])  # widens the window in which two dispatchers race


@subscribe(SOLD, "test.notify_customer")
def notify_customer(uow, ev):
    if behaviour["notify_failures_left"] > 0:
        behaviour["notify_failures_left"] -= 1
        raise RuntimeError("短信网关超时")
    record(uow.session, "handled", "test_event", ev.event_id, after={"handler": "notify_customer"})
    if ev.payload.get("then_pack"):
        uow.emit(CHAINED, order=ev.payload["order"])


@subscribe(CHAINED, "test.print_label")
def print_label(uow, ev):
    record(uow.session, "handled", "test_event", ev.event_id, after={"handler": "print_label"})


@pytest.fixture(autouse=True)
def _reset_behaviour():
    behaviour.update(notify_failures_left=0, pause=0.0)
    yield
    behaviour.update(notify_failures_left=0, pause=0.0)


@pytest.fixture
def no_auto_dispatch(monkeypatch):
    """Events stay in the outbox after commit, as if the process died right after committing."""
    monkeypatch.setattr(events, "dispatch_pending", lambda db=None, limit=500: 0)


def sell(db, company_id: int, order: str = "SO-1", **payload) -> None:
    with UnitOfWork(f.system(company_id), db=db) as uow:
        uow.add(ProductCategory(code=order, name="订单相关"))
        uow.emit(SOLD, order=order, **payload)


def handled(db) -> Counter:
    """How many times each (handler, event) pair ran and committed."""
    with db.readonly_sessionmaker() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "handled"))
        return Counter((r.after["handler"], r.entity_id) for r in rows)


def outbox(db) -> list[OutboxEvent]:
    with db.readonly_sessionmaker() as s:
        return list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def test_event_is_delivered_to_every_handler_after_commit(db):
    c = f.company(db)
    sell(db, c, then_pack=True)
    sold, packed = outbox(db)
    assert (sold.name, sold.payload, sold.company_id) == (SOLD, {"order": "SO-1", "then_pack": True}, c)
    assert sold.dispatched_at is not None and packed.dispatched_at is not None
    assert handled(db) == {("reserve_stock", sold.event_id): 1, ("notify_customer", sold.event_id): 1,
                           ("print_label", packed.event_id): 1}  # a handler's own event is delivered too


def test_rolled_back_change_emits_nothing(db):
    c = f.company(db)
    with pytest.raises(RuntimeError), UnitOfWork(f.system(c), db=db) as uow:
        uow.add(ProductCategory(code="SO-X", name="x"))
        uow.emit(SOLD, order="SO-X")
        raise RuntimeError("order refused")
    assert outbox(db) == []
    assert handled(db) == Counter()


def test_outbox_row_is_in_the_same_transaction_as_the_change(db, no_auto_dispatch):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        uow.emit(SOLD, order="SO-2")
        assert outbox(db) == []  # not visible to others before the commit
    assert [e.payload["order"] for e in outbox(db)] == ["SO-2"]


def test_dispatch_retried_after_a_crash_runs_each_handler_once(db, monkeypatch, no_auto_dispatch):
    c = f.company(db)
    sell(db, c)

    def crash(*_a, **_k):
        raise SystemExit("power cut after the handlers committed, before the event was marked")

    with monkeypatch.context() as m:
        m.setattr(events, "update", crash)
        with pytest.raises(SystemExit):
            dispatch_pending(db)
    [ev] = outbox(db)
    assert ev.dispatched_at is None
    assert sum(handled(db).values()) == 2  # both handlers did their work and committed

    dispatch_pending(db)
    dispatch_pending(db)
    [ev] = outbox(db)
    assert ev.dispatched_at is not None
    assert handled(db) == {("reserve_stock", ev.event_id): 1, ("notify_customer", ev.event_id): 1}


def test_two_dispatchers_at_once_deliver_each_event_exactly_once(db, no_auto_dispatch):
    c = f.company(db)
    for i in range(20):
        sell(db, c, f"SO-{i}")
    behaviour["pause"] = 0.01
    start = threading.Barrier(2)
    errors = []

    def dispatcher():
        try:
            start.wait()
            dispatch_pending(db)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    counts = handled(db)
    assert len(counts) == 40 and set(counts.values()) == {1}
    assert all(e.dispatched_at is not None for e in outbox(db))


def test_failing_handler_is_retried_later_and_does_not_hold_up_the_others(db):
    c = f.company(db)
    behaviour["notify_failures_left"] = 1
    sell(db, c)
    [ev] = outbox(db)
    assert ev.dispatched_at is None
    assert ev.attempts == 1
    assert "test.notify_customer" in ev.last_error and "短信网关超时" in ev.last_error
    assert ev.next_attempt_at > utcnow()
    assert handled(db) == {("reserve_stock", ev.event_id): 1}  # the other handler was not held up

    assert dispatch_pending(db) == 0  # not hammered again at once: it waits for its retry time
    with db.engine.begin() as conn:
        conn.execute(update(OutboxEvent).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
    assert dispatch_pending(db) == 1
    [ev] = outbox(db)
    assert ev.dispatched_at is not None
    assert handled(db) == {("reserve_stock", ev.event_id): 1, ("notify_customer", ev.event_id): 1}


def test_event_is_given_up_after_the_last_attempt(db):
    c = f.company(db)
    behaviour["notify_failures_left"] = 100
    sell(db, c)
    with db.engine.begin() as conn:
        conn.execute(update(OutboxEvent).values(attempts=events.MAX_ATTEMPTS - 1, next_attempt_at=None))
    assert dispatch_pending(db) == 0
    [ev] = outbox(db)
    assert ev.attempts == events.MAX_ATTEMPTS and ev.dispatched_at is None
    with db.engine.begin() as conn:
        conn.execute(update(OutboxEvent).values(next_attempt_at=None))
    behaviour["notify_failures_left"] = 0
    assert dispatch_pending(db) == 0  # stays in the outbox, with its error, for someone to look at


def test_payload_with_decimals_and_dates_is_stored_as_plain_json(db, no_auto_dispatch):
    from decimal import Decimal

    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        uow.emit(SOLD, order="SO-3", qty=Decimal("2.500"), ship_on=dt.date(2026, 3, 1))
    [ev] = outbox(db)
    assert ev.payload == {"order": "SO-3", "qty": "2.500", "ship_on": "2026-03-01"}
    with pytest.raises(TypeError), UnitOfWork(f.system(c), db=db) as uow:
        uow.emit(SOLD, order="SO-4", customer=object())  # fails in the service, where the bug is
    assert len(outbox(db)) == 1
