"""PDA scans recorded once. A handheld resubmits when the network drops; each scan carries a
device-generated `client_scan_id`, and `scan_once` runs the scan's effect only the first time,
returning the first result to every resubmission.

The scan row is claimed *before* the effect runs, inside a savepoint: a concurrent duplicate
waits on the unique key (PostgreSQL) or on the writer lock (SQLite), then finds the row and
replays its result instead of acting twice. A refused scan (DomainError) rolls back with its
transaction, so it is not recorded and a retry is judged afresh.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork

from .models import WmsScan

SCAN = WmsScan.__table__


def _recorded(uow: UnitOfWork, client_scan_id: str) -> dict | None:
    row = uow.session.execute(select(SCAN.c.result).where(SCAN.c.company_id == uow.company_id,
                                                          SCAN.c.client_scan_id == client_scan_id)).first()
    if row is None:
        return None
    return {**(row.result or {}), "replayed": True}


def scan_once(uow: UnitOfWork, client_scan_id: str | None, flow: str, code: str, handle: Callable[[], dict], *,
              task_id: int | None = None) -> dict:
    """Run `handle()` (returns a JSON-able dict) once per `client_scan_id`; without an id, always."""
    if not client_scan_id:
        return handle()
    client_scan_id = client_scan_id[:64]
    seen = _recorded(uow, client_scan_id)
    if seen is not None:
        return seen
    try:
        with uow.session.begin_nested():
            uow.session.execute(insert(SCAN).values(
                company_id=uow.company_id, client_scan_id=client_scan_id, flow=flow, code=(code or "")[:120],
                ok=True, task_id=task_id, user_id=uow.actor.user_id, at=utcnow(), created_at=utcnow(),
                updated_at=utcnow(), created_by_id=uow.actor.user_id, updated_by_id=uow.actor.user_id))
    except IntegrityError:
        seen = _recorded(uow, client_scan_id)
        if seen is not None:
            return seen
        raise
    result = handle()
    uow.session.execute(update(SCAN).where(SCAN.c.company_id == uow.company_id,
                                           SCAN.c.client_scan_id == client_scan_id)
                        .values(result=result, task_id=result.get("task_id", task_id)))
    return result
