"""`Idempotency-Key` for every creating call of the REST API (POST/PUT/PATCH under /api/v1): a client that
retries after a timeout sends the same key and gets the first answer back instead of a second order,
receipt or payment.

* Keys are scoped to the caller's credential (a hash of the bearer token or session cookie) and to method +
  path: one client cannot see another's answers.
* The first request claims the key in its own committed row (`pending`) before the handler runs; a second
  request with the key while the first is still running gets 409 `idempotency_in_progress`; after it, the
  stored status and body (JSON, up to 1 MB) are replayed with `Idempotent-Replayed: true`.
* The same key with a different body is a client bug: 422 `idempotency_key_reused`.
* Server errors (5xx) are not stored: the claim is released so the client may retry with the same key.
* Known window: the handler's transaction commits before the answer is stored. A process killed in between
  leaves a `pending` claim; after `STALE_SECONDS` such a claim is taken over and the request runs again —
  a crash there can repeat the write once. Document-level guards (client keys on completions, scan ids,
  channel order ids) close that gap where it matters most.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import JSON, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .db import Base, get_database
from .i18n import _
from .models import IdMixin
from .types import UTCDateTime, utcnow

HEADER = "idempotency-key"
METHODS = {"POST", "PUT", "PATCH"}
MAX_BODY = 1_000_000
STALE_SECONDS = 300
KEEP_DAYS = 7


class IdempotencyRecord(IdMixin, Base):
    __tablename__ = "core_idempotency"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(64))  # hash of credential + method + path
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[dict | list | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": "Idempotency-Key"}}, status_code=status)


def _credential(request: Request) -> str | None:
    from .http import SESSION_COOKIE

    auth = request.headers.get("authorization", "")
    return auth or request.cookies.get(SESSION_COOKIE)


class IdempotencyMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        key = request.headers.get(HEADER)
        if not key or request.method not in METHODS or not request.url.path.startswith("/api/v1/"):
            return await call_next(request)
        key = key.strip()
        if not key or len(key) > 200:
            return _error(422, "idempotency_key_invalid", _("Idempotency-Key 必须是 1–200 个字符"))
        credential = _credential(request)
        if not credential:
            return await call_next(request)  # unauthenticated: the endpoint answers 401 itself
        body = await request.body()
        scope = hashlib.sha256(f"{credential}|{request.method}|{request.url.path}".encode()).hexdigest()
        digest = hashlib.sha256(request.url.query.encode() + b"|" + body).hexdigest()
        from starlette.concurrency import run_in_threadpool

        outcome = await run_in_threadpool(_claim, scope, key, digest)
        if isinstance(outcome, Response):
            return outcome
        record_id = outcome
        try:
            response = await call_next(request)
        except Exception:
            await run_in_threadpool(_release, record_id)
            raise
        if response.status_code >= 500:
            await run_in_threadpool(_release, record_id)
            return response
        chunks = [chunk async for chunk in response.body_iterator]
        raw = b"".join(chunks)
        stored = None
        if response.headers.get("content-type", "").startswith("application/json") and len(raw) <= MAX_BODY:
            try:
                stored = json.loads(raw) if raw else None
            except ValueError:
                stored = None
        await run_in_threadpool(_finish, record_id, response.status_code, stored, stored is not None or not raw)
        return Response(raw, status_code=response.status_code, headers=dict(response.headers),
                        media_type=response.media_type)


def _claim(scope: str, key: str, digest: str) -> int | Response:
    db = get_database()
    now = utcnow()
    with db.sessionmaker() as s:
        found = s.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                         IdempotencyRecord.key == key))
        if found is not None:
            if found.request_hash != digest:
                return _error(422, "idempotency_key_reused",
                              _("同一个 Idempotency-Key 已用于内容不同的请求，请换一个"))
            if found.state == "done":
                resp = JSONResponse(found.body, status_code=found.status_code or 200)
                resp.headers["Idempotent-Replayed"] = "true"
                return resp
            created = found.created_at if found.created_at.tzinfo else found.created_at.replace(tzinfo=dt.UTC)
            if (now - created).total_seconds() < STALE_SECONDS:
                return _error(409, "idempotency_in_progress", _("同一个请求正在处理中，请稍后再查询结果"))
            found.created_at = now  # an abandoned claim (the process died): take it over
            s.commit()
            return found.id
        row = IdempotencyRecord(scope=scope, key=key, request_hash=digest, state="pending", created_at=now)
        s.add(row)
        try:
            s.commit()
        except IntegrityError:  # another request claimed the same key a moment ago
            s.rollback()
            return _error(409, "idempotency_in_progress", _("同一个请求正在处理中，请稍后再查询结果"))
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - dt.timedelta(days=KEEP_DAYS)))
        s.commit()
        return row.id


def _finish(record_id: int, status: int, body, replayable: bool) -> None:
    with get_database().sessionmaker() as s:
        row = s.get(IdempotencyRecord, record_id)
        if row is None:
            return
        if replayable:
            row.state, row.status_code, row.body = "done", status, body
        else:  # a non-JSON answer (a PDF, a file) is not kept: let a retry run again
            s.delete(row)
        s.commit()


def _release(record_id: int) -> None:
    with get_database().sessionmaker() as s:
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
        s.commit()
