"""Background jobs with visible progress (imports, MRP runs, forecasts, route plans).

A job is a row; `enqueue()` writes it in the caller's transaction. In-process mode
(the default, and SQLite's) starts it on a thread after the commit; `opensupply worker`
claims queued jobs from the database (`SKIP LOCKED` on PostgreSQL) so any number of
worker processes can share the queue.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import JSON, BigInteger, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .audit import json_safe
from .db import Base, Database, get_database
from .errors import DomainError, ValidationFailed
from .i18n import _
from .models import BigId
from .types import UTCDateTime, utcnow
from .uow import Actor, UnitOfWork, writing_in_this_thread

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


class Job(Base):
    __tablename__ = "job"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    company_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default=QUEUED, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # last sign of life from the process running it (claim, progress); see fail_stale_jobs()
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class JobCancelled(Exception):
    pass


@dataclass
class JobContext:
    """Handed to a job function: who it runs for, and how to report progress."""

    job_id: int
    actor: Actor
    db: Database
    params: dict

    def progress(self, percent: float, message: str = "") -> None:
        """Report how far the job is; raises JobCancelled when a user has cancelled it.
        May be called inside the job's own open unit of work: on SQLite, where that
        transaction holds the only write lock, the figure is then skipped (waiting for
        that lock from here would deadlock); report between transactions to show it."""
        with self.db.readonly_sessionmaker() as s:
            if s.scalar(select(Job.status).where(Job.id == self.job_id)) == CANCELLED:
                raise JobCancelled
        if self.db.dialect == "sqlite" and writing_in_this_thread():
            return
        with self.db.side_engine.begin() as conn:  # the job's own unit of work may hold a connection
            conn.execute(update(Job).where(Job.id == self.job_id, Job.status == RUNNING)
                      .values(progress=max(0, min(100, int(percent))), message=message[:500],
                              heartbeat_at=utcnow()))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.actor, db=self.db)


JobFn = Callable[[JobContext], dict | None]
_registry: dict[str, JobFn] = {}
in_process = True  # set False when `opensupply worker` processes take the queue


def job(kind: str):
    def deco(fn: JobFn) -> JobFn:
        _registry[kind] = fn
        return fn

    return deco


def enqueue(uow: UnitOfWork, kind: str, params: dict | None = None) -> Job:
    if kind not in _registry:
        raise ValidationFailed(_("未知的任务类型：{kind}", kind=kind), field="kind")
    j = Job(company_id=uow.actor.company_id, user_id=uow.actor.user_id, kind=kind,
            params=json_safe(params or {}), status=QUEUED, progress=0, message="")
    uow.session.add(j)
    uow.session.flush()
    if in_process:
        db, job_id = uow.db, j.id
        uow.after_commit(lambda: threading.Thread(target=run_job, args=(db, job_id), daemon=True).start())
    return j


def cancel(uow: UnitOfWork, job_id: int) -> Job:
    j = uow.get(Job, job_id)
    if j.status in (QUEUED, RUNNING):
        j.status = CANCELLED
        j.finished_at = utcnow()
    return j


def _claim_one(db: Database, job_id: int | None = None) -> Job | None:
    with db.sessionmaker.begin() as s:
        stmt = select(Job).where(Job.status == QUEUED).order_by(Job.id).limit(1)
        if job_id is not None:
            stmt = stmt.where(Job.id == job_id)
        if db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        j = s.scalars(stmt).first()
        if j is None:
            return None
        j.status, j.started_at = RUNNING, utcnow()
        j.heartbeat_at = j.started_at
        return j


def run_job(db: Database, job_id: int | None = None) -> Job | None:
    """Claim a queued job (a given one, or the oldest) and run it to the end."""
    from opensupply.registry import load_event_handlers

    load_event_handlers()  # a worker process must know every module's job kinds before it claims one
    j = _claim_one(db, job_id)
    if j is None:
        return None
    status, result, error = DONE, None, None
    try:  # everything after the claim is inside: a claimed job never stays "running" forever
        ctx = JobContext(j.id, _actor_for(db, j), db, j.params or {})
        result = json_safe(_registry[j.kind](ctx) or {})  # an unstorable result fails the job, visibly
    except JobCancelled:
        status = CANCELLED
    except Exception as exc:
        # the user sees what went wrong; the traceback goes to the log, not to the page
        status, error = FAILED, (exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}")
        log.exception("job %s (%s) failed", j.id, j.kind)
    with db.sessionmaker.begin() as s:
        values = dict(status=status, result=result, error=error, finished_at=utcnow())
        if status == DONE:
            values |= dict(progress=100)
        s.execute(update(Job).where(Job.id == j.id, Job.status == RUNNING).values(**values))
    return j


def _actor_for(db: Database, j: Job) -> Actor:
    from .auth import actor_for_user

    if j.user_id is None:
        return Actor.system(j.company_id)
    with db.readonly_sessionmaker() as s:
        return actor_for_user(s, j.user_id, j.company_id)


STALE_MINUTES = 30  # a running job silent for this long has lost its process (restart, crash)


def fail_stale_jobs(db: Database, minutes: int = STALE_MINUTES) -> int:
    """Mark running jobs whose process died (no claim or progress for `minutes`) as failed, so
    they do not show "running" for ever; the user can start them again. Returns how many."""
    cutoff = utcnow() - dt.timedelta(minutes=minutes)
    with db.sessionmaker.begin() as s:
        alive = func.coalesce(Job.heartbeat_at, Job.started_at, Job.created_at)
        return s.execute(update(Job).where(Job.status == RUNNING, alive < cutoff).values(
            status=FAILED, finished_at=utcnow(),
            error=_("任务中断：执行它的进程已停止，请重新提交"))).rowcount


def work_forever(db: Database | None = None, poll_seconds: float = 1.0, stop: threading.Event | None = None) -> None:
    """The loop behind `opensupply worker`: run queued jobs and deliver pending events."""
    from .events import dispatch_pending

    db = db or get_database()
    stop = stop or threading.Event()
    last_sweep = 0.0
    while not stop.is_set():
        if time.monotonic() - last_sweep > 60:
            from .auth import purge_expired

            fail_stale_jobs(db)
            purge_expired(db)
            last_sweep = time.monotonic()
        ran = run_job(db)
        dispatched = dispatch_pending(db)
        if ran is None and not dispatched:
            stop.wait(poll_seconds)


def wait_for(db: Database, job_id: int, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        with db.readonly_sessionmaker() as s:
            j = s.get(Job, job_id)
            if j.status in (DONE, FAILED, CANCELLED) or time.monotonic() > deadline:
                return j
        time.sleep(0.05)
