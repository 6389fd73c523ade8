"""Who is calling: bearer tokens for the API, a server-side session cookie (with CSRF
token) for pages. API calls without valid credentials get 401 JSON; pages redirect to /login.

A caller may pick one of *its* companies per request with the `X-Company-Id` header; a
company the user may not use (or a value that is not a company id) is refused with 403,
never silently replaced by the user's default company.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from .auth import AuthSession, actor_for_user, resolve_token
from .db import get_database
from .errors import NotAuthenticated, PermissionDenied
from .i18n import _, set_locale, set_timezone
from .uow import Actor

SESSION_COOKIE = "os_session"
LOCALE_COOKIE = "os_locale"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):
    """Raised by page dependencies; turned into a redirect to /login."""

    def __init__(self, next_url: str = "/"):
        self.next_url = next_url


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _company_tz(actor: Actor) -> None:
    from opensupply.masterdata.models import Company

    if actor.company_id is None:
        return
    with get_database().readonly_sessionmaker() as s:
        company = s.get(Company, actor.company_id)
        set_timezone(company.timezone if company else None)


def _actor_from(request: Request) -> tuple[Actor, AuthSession | None] | None:
    db = get_database()
    header = request.headers.get("authorization", "")
    with db.readonly_sessionmaker() as s:  # every request passes here: never take the write lock
        if header.lower().startswith("bearer "):
            row = resolve_token(s, header[7:].strip(), "api")
            kind = "api"
        else:
            row = resolve_token(s, request.cookies.get(SESSION_COOKIE, ""), "web")
            kind = "web"
        if row is None:
            return None
        requested = request.headers.get("x-company-id")
        company_id = int(requested) if requested and requested.strip().isdigit() else None
        try:
            actor = actor_for_user(s, row.user_id, company_id or row.company_id, client_ip(request))
        except NotAuthenticated:
            return None
        if requested is not None and (company_id is None or actor.company_id != company_id):
            # refused, not ignored: acting silently in another company than asked could
            # write the caller's data into the wrong books
            raise PermissionDenied(_("无权访问该公司：{company}", company=requested[:20]), field="X-Company-Id")
        request.state.auth_kind = kind
        request.state.auth_session = row
        _check_module(s, request, actor)
        return actor, row


def _check_module(s, request: Request, actor: Actor) -> None:
    """A module switched off for the caller's company does not exist for them: 404, as for any unknown path."""
    from starlette.exceptions import HTTPException

    from .modules import disabled_for, module_of_path

    module = module_of_path(request.url.path)
    if module and module in disabled_for(s, actor.company_id):
        raise HTTPException(status_code=404)


def api_actor(request: Request) -> Actor:
    found = _actor_from(request)
    if found is None:
        raise NotAuthenticated(_("请先登录"))
    actor, row = found
    if request.state.auth_kind == "web" and request.method in UNSAFE:
        check_csrf(request, row)  # the browser's cookie calling the API still needs the token
    set_locale(actor.locale)
    _company_tz(actor)
    request.state.actor = actor
    return actor


def require(permission: str):
    """Dependency: an authenticated API caller holding `permission` (else 401/403)."""

    async def dep(actor: Actor = Depends(api_actor)) -> Actor:
        # api_actor is sync, so it runs in a worker thread whose context (locale) is lost;
        # set it again here, in the request's own context, which the endpoint inherits.
        set_locale(actor.locale)
        if not actor.can(permission):
            await run_in_threadpool(_log_denied, actor, permission)
            raise PermissionDenied(_("没有权限：{permission}", permission=permission))
        return actor

    return dep


def require_any(*permissions: str):
    """Dependency: an authenticated API caller holding at least one of `permissions` (else 401/403)."""

    async def dep(actor: Actor = Depends(api_actor)) -> Actor:
        set_locale(actor.locale)
        if not any(actor.can(p) for p in permissions):
            await run_in_threadpool(_log_denied, actor, " | ".join(permissions))
            raise PermissionDenied(_("没有权限：{permission}", permission=" / ".join(permissions)))
        return actor

    return dep


def _log_denied(actor: Actor, permission: str) -> None:
    from .audit import record

    with get_database().sessionmaker.begin() as s:
        record(s, "denied", "permission", None, after={"permission": permission}, actor=actor)


def check_csrf(request: Request, row: AuthSession, form_token: str | None = None) -> None:
    sent = form_token or request.headers.get("x-csrf-token", "")
    if not sent or not secrets.compare_digest(sent, row.csrf_token):
        raise PermissionDenied(_("页面已过期，请刷新后重试"), code="csrf")


@dataclass
class Page:
    """What a page handler gets: the request, who is acting, and their CSRF token."""

    request: Request
    actor: Actor
    session: AuthSession

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    def require(self, permission: str) -> None:
        if not self.actor.can(permission):
            _log_denied(self.actor, permission)
            raise PermissionDenied(_("没有权限：{permission}", permission=permission))


def _page_auth(request: Request) -> tuple[tuple[Actor, AuthSession] | None, str | None]:
    found = _actor_from(request)
    if found is None:
        return None, None
    from opensupply.masterdata.models import Company

    with get_database().readonly_sessionmaker() as s:
        company = s.get(Company, found[0].company_id) if found[0].company_id else None
        return found, company.timezone if company else None


async def page(request: Request) -> Page:
    # The database reads run in the thread pool: an async dependency must not block the event loop.
    found, timezone = await run_in_threadpool(_page_auth, request)
    if found is None or request.state.auth_kind != "web":
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(nxt)
    actor, row = found
    if request.method in UNSAFE:
        token = request.headers.get("x-csrf-token")
        if not token and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            token = form.get("csrf_token")
        check_csrf(request, row, token)
    set_locale(actor.locale)
    set_timezone(timezone)
    request.state.actor = actor
    return Page(request, actor, row)


def page_permission(permission: str):
    async def dep(p: Page = Depends(page)) -> Page:
        if not p.actor.can(permission):
            await run_in_threadpool(_log_denied, p.actor, permission)
            raise PermissionDenied(_("没有权限：{permission}", permission=permission))
        return p

    return dep
