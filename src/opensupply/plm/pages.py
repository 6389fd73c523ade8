"""Helpers shared by the PLM pages: run a use case from a form and come back with a flash message, safe
return addresses, list paging."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError
from opensupply.core.http import Page
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect

PAGE_SIZE = 50


def safe_next(raw: str | None, default: str) -> str:
    """Only a path inside PLM: a form's `next` must not send the user to another site."""
    value = (raw or "").strip()
    if value.startswith("/plm/") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value
    return default


async def act(p: Page, back: str, fn: Callable[[UnitOfWork], object], ok: str):
    """Run `fn` in its own unit of work; a domain error comes back as an error flash (a missing record
    stays a 404 page)."""

    def run():
        with UnitOfWork(p.actor) as uow:
            fn(uow)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(back, exc.message, "error")
    return redirect(back, ok)


def offset_of(raw: str | None) -> int:
    return int(raw) if (raw or "").isdigit() else 0


def pager(request, total: int, offset: int, limit: int = PAGE_SIZE) -> dict:
    params = {k: v for k, v in request.query_params.items() if k != "offset" and v}
    return {"total": total, "offset": offset, "limit": limit, "query": urllib.parse.urlencode(params)}
