"""Unit of work: one transaction per use case, owned by the caller, never by a service.

    with UnitOfWork(actor) as uow:
        product = masterdata.create_product(uow, data)
    # committed here; domain events emitted inside are dispatched after the commit

The unit of work also carries *who* acts (for audit and permission checks) and
*for which company* (every query is scoped by it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from .db import Database, get_database
from .errors import NotFound, PermissionDenied, RetryLater
from .i18n import _

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who is acting and in which company. `system` jobs act as user None."""

    user_id: int | None
    username: str
    company_id: int | None
    company_ids: frozenset[int] = frozenset()
    permissions: frozenset[str] = frozenset()
    is_superuser: bool = False
    locale: str = "zh_CN"
    ip: str | None = None

    @classmethod
    def system(cls, company_id: int | None = None) -> Actor:
        ids = frozenset({company_id}) if company_id else frozenset()
        return cls(None, "system", company_id, ids, frozenset({"*"}), True)

    def can(self, permission: str) -> bool:
        if self.is_superuser or "*" in self.permissions or permission in self.permissions:
            return True
        module = permission.split(".", 1)[0]
        return f"{module}.*" in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(_("没有权限：{permission}", permission=permission))


@dataclass
class UnitOfWork:
    actor: Actor
    db: Database | None = None
    readonly: bool = False
    session: Session = field(init=False)
    _events: list = field(default_factory=list, init=False)
    _after_commit: list[Callable[[], None]] = field(default_factory=list, init=False)

    def __post_init__(self):
        self.db = self.db or get_database()

    # -- transaction ---------------------------------------------------
    def __enter__(self) -> UnitOfWork:
        maker = self.db.readonly_sessionmaker if self.readonly else self.db.sessionmaker
        self.session = maker()
        self.session.info["uow"] = self
        if not self.readonly:
            _open.writers = getattr(_open, "writers", 0) + 1
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.readonly:
            _open.writers -= 1
        try:
            if exc_type is None and not self.readonly:
                self.commit()
            else:
                if exc_type is None:  # read-only: keep what was read usable after the block
                    self.session.expunge_all()  # (a rollback would expire every loaded object)
                self.session.rollback()
        finally:
            self.session.close()
        if exc_type is None:
            for fn in self._after_commit:
                try:
                    fn()
                except Exception:  # an after-commit hook must not undo a committed request
                    log.exception("after-commit hook failed")
        return False

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()

    def after_commit(self, fn: Callable[[], None]) -> None:
        self._after_commit.append(fn)

    # -- scoping --------------------------------------------------------
    @property
    def company_id(self) -> int:
        if self.actor.company_id is None:
            raise PermissionDenied(_("没有可用的公司"))
        return self.actor.company_id

    def get(self, model: type[T], id_: int, *, for_update: bool = False) -> T:
        """Fetch a company-owned row by id; another company's row is simply not found."""
        stmt = select(model).where(model.id == id_)
        if hasattr(model, "company_id"):
            stmt = stmt.where(model.company_id == self.company_id)
        if for_update:
            stmt = stmt.with_for_update(of=model)
        obj = self.session.scalars(stmt).first()
        if obj is None:
            raise NotFound(_("记录不存在：{what} #{id}", what=getattr(model, "__label__", model.__name__), id=id_))
        return obj

    def add(self, obj):
        if hasattr(obj, "company_id") and getattr(obj, "company_id", None) is None:
            obj.company_id = self.company_id
        self.session.add(obj)
        return obj

    # -- events -----------------------------------------------------------
    def emit(self, name: str, **payload) -> None:
        from .events import add_to_outbox

        add_to_outbox(self, name, payload)


_open = threading.local()


def writing_in_this_thread() -> bool:
    """Whether this thread has a writing unit of work open — on SQLite it then holds the only
    write lock, so anything that would open a second writer from here must not wait for it."""
    return getattr(_open, "writers", 0) > 0


RETRYABLE_PG = {"40001", "40P01"}  # serialization failure, deadlock detected


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
        if code in RETRYABLE_PG:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(orig):
            return True
    return False


def atomic(actor: Actor, fn: Callable[..., T], *args, db: Database | None = None, retries: int = 5, **kwargs) -> T:
    """Run `fn(uow, *args, **kwargs)` in its own transaction, retrying serialization
    failures and deadlocks a bounded number of times, then failing clearly."""
    attempt = 0
    while True:
        try:
            with UnitOfWork(actor, db=db) as uow:
                return fn(uow, *args, **kwargs)
        except Exception as exc:
            if not is_retryable(exc):
                raise
            attempt += 1
            if attempt > retries:
                raise RetryLater(_("系统繁忙，请稍后重试")) from exc
            time.sleep(min(0.01 * 2**attempt, 0.5))
