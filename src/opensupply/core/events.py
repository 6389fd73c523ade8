"""Domain events through a transactional outbox.

`uow.emit(name, **payload)` writes an outbox row in the same transaction as the change.
After the commit the dispatcher delivers it to every subscribed handler; each handler
runs in its own transaction together with a `processed_event` row keyed by
(handler, event id), so a retried dispatch never runs a handler twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import JSON, BigInteger, Integer, String, Text, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .audit import json_safe
from .db import Base, Database, get_database
from .models import BigId
from .types import UTCDateTime, utcnow
from .uow import Actor, UnitOfWork

log = logging.getLogger(__name__)


class OutboxEvent(Base):
    __tablename__ = "outbox_event"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    company_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # after a failure the event waits before the next try (backoff), so one broken handler
    # does not burn through its attempts in a single dispatch loop
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ProcessedEvent(Base):
    __tablename__ = "processed_event"
    __audit__ = False

    handler: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Event:
    event_id: str
    name: str
    company_id: int | None
    payload: dict


Handler = Callable[[UnitOfWork, Event], None]
_handlers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)
MAX_ATTEMPTS = 10
RETRY_BASE_SECONDS = 2  # waits 2, 4, 8, … seconds between tries, at most RETRY_MAX_SECONDS
RETRY_MAX_SECONDS = 3600


def subscribe(name: str, handler_name: str | None = None):
    """Register `fn(uow, event)` for events called `name`. The handler name must be stable:
    it is the idempotency key together with the event id."""

    def deco(fn: Handler) -> Handler:
        key = handler_name or f"{fn.__module__}.{fn.__qualname__}"
        if all(k != key for k, _ in _handlers[name]):
            _handlers[name].append((key, fn))
        return fn

    return deco


def handlers_for(name: str) -> list[tuple[str, Handler]]:
    return list(_handlers.get(name, ()))


def add_to_outbox(uow: UnitOfWork, name: str, payload: dict) -> str:
    event_id = str(uuid.uuid4())
    uow.session.execute(insert(OutboxEvent).values(  # Decimal quantities arrive as strings
        event_id=event_id, company_id=uow.actor.company_id, user_id=uow.actor.user_id,
        name=name, payload=json_safe(payload), created_at=utcnow(), attempts=0))
    if not uow.session.info.get("dispatch_scheduled"):
        uow.session.info["dispatch_scheduled"] = True
        db = uow.db
        uow.after_commit(lambda: dispatch_pending(db))
    return event_id


_local = threading.local()


def dispatch_pending(db: Database | None = None, limit: int = 500) -> int:
    """Deliver undelivered events; returns how many were completed. Safe to run in several
    threads and processes at once: the processed_event key makes each delivery happen once."""
    if getattr(_local, "dispatching", False):  # a handler's own events: the outer loop takes them
        return 0
    _local.dispatching = True
    done = 0
    db = db or get_database()
    from opensupply.registry import load_event_handlers

    load_event_handlers()
    try:
        while True:
            batch = _claim(db, limit)
            if not batch:
                return done
            unheard = [ev.event_id for ev in batch if not handlers_for(ev.name)]
            if unheard:  # nobody listens: mark them all delivered in one short transaction
                with db.sessionmaker.begin() as s:
                    s.execute(update(OutboxEvent).where(OutboxEvent.event_id.in_(unheard),
                                                        OutboxEvent.dispatched_at.is_(None))
                              .values(dispatched_at=utcnow()))
                done += len(unheard)
            for ev in batch:
                if handlers_for(ev.name) and deliver(db, ev):
                    done += 1
            if len(batch) < limit:
                # events emitted by handlers of this batch are new rows: loop once more
                if not _claim(db, 1):
                    return done
    finally:
        _local.dispatching = False


def _claim(db: Database, limit: int) -> list[Event]:
    with db.readonly_sessionmaker() as s:
        due = OutboxEvent.next_attempt_at.is_(None) | (OutboxEvent.next_attempt_at <= utcnow())
        stmt = (select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None),
                                          OutboxEvent.attempts < MAX_ATTEMPTS, due)
                .order_by(OutboxEvent.id).limit(limit))
        rows = s.scalars(stmt).all()
        return [Event(r.event_id, r.name, r.company_id, r.payload) for r in rows]


def deliver(db: Database, ev: Event) -> bool:
    """Run every handler of one event that has not yet processed it; mark it dispatched
    when all succeeded, else count the attempt, keep the errors and schedule a retry.
    Returns True when the event is fully delivered."""
    errors = []
    for key, fn in handlers_for(ev.name):
        try:
            with UnitOfWork(Actor.system(ev.company_id), db=db) as uow:
                if uow.session.get(ProcessedEvent, (key, ev.event_id)) is not None:
                    continue  # already processed by an earlier dispatch
                try:
                    with uow.session.begin_nested():
                        uow.session.execute(insert(ProcessedEvent).values(
                            handler=key, event_id=ev.event_id, processed_at=utcnow()))
                except IntegrityError:
                    continue  # a concurrent dispatcher got there first
                fn(uow, ev)
        except Exception as exc:  # other handlers still run; this one is retried later
            log.exception("event handler %s failed on %s", key, ev.name)
            errors.append(f"{key}: {exc}")
    with db.sessionmaker.begin() as s:
        row = OutboxEvent.event_id == ev.event_id
        if not errors:
            s.execute(update(OutboxEvent).where(row, OutboxEvent.dispatched_at.is_(None))
                      .values(dispatched_at=utcnow()))
            return True
        attempts = (s.scalar(select(OutboxEvent.attempts).where(row)) or 0) + 1
        wait = min(RETRY_BASE_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS)
        s.execute(update(OutboxEvent).where(row).values(
            attempts=attempts, last_error="\n".join(errors)[:2000],
            next_attempt_at=utcnow() + dt.timedelta(seconds=wait)))
        if attempts >= MAX_ATTEMPTS:
            log.error("event %s (%s) given up after %s attempts", ev.event_id, ev.name, attempts)
    return False
