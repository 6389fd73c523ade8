"""Pages every installation has: login/logout, home, language and company switch, jobs."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select

from opensupply.core import auth, jobs
from opensupply.core.config import get_settings
from opensupply.core.errors import DomainError, PermissionDenied
from opensupply.core.http import LOCALE_COOKIE, SESSION_COOKIE, Page, client_ip, page, page_permission
from opensupply.core.i18n import _, normalize_locale, set_locale
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.web import landing_for, redirect, render

router = APIRouter(include_in_schema=False)


def _safe_next(url: str | None) -> str:
    """Only same-site relative paths: no open redirects through ?next=. Browsers read `/\\host`
    as `//host` and drop tabs and newlines, so a backslash or control character is refused too."""
    if (not url or not url.startswith("/") or url.startswith("//") or urlparse(url).netloc
            or "\\" in url or any(ord(ch) < 32 or ord(ch) == 127 for ch in url)):
        return "/"
    return url


@router.get("/login")
def login_page(request: Request, next: str = "/", lang: str | None = None):
    loc = set_locale(lang or request.cookies.get(LOCALE_COOKIE) or get_settings().default_locale)
    response = render(None, "login.html", request=request, next_url=_safe_next(next))
    if lang:
        response.set_cookie(LOCALE_COOKIE, loc, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/login")
def login_submit(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")):
    set_locale(request.cookies.get(LOCALE_COOKIE) or get_settings().default_locale)
    if request.headers.get("sec-fetch-site") == "cross-site":
        # login CSRF: another site must not sign the browser in (e.g. into the attacker's account).
        # There is no session yet to hold a token, but browsers say where a form was posted from
        # (unlike Origin vs Host, this survives a reverse proxy that rewrites Host).
        raise PermissionDenied(_("页面已过期，请刷新后重试"), code="csrf")
    try:
        with UnitOfWork(Actor.system()) as uow:
            result = auth.login(uow, username, password, kind="web", ip=client_ip(request))
            token = result.token if result else None
            if result and request.cookies.get(SESSION_COOKIE):  # rotate: drop the pre-login session
                auth.logout(uow, request.cookies[SESSION_COOKIE])
        error = None if token else _("用户名或密码错误")
    except DomainError as exc:
        token, error = None, exc.message
    if error:
        return render(None, "login.html", request=request, status_code=401, error=error, username=username,
                      next_url=_safe_next(next))
    response = redirect(_safe_next(next))
    s = get_settings()
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=s.cookie_secure,
                        max_age=s.session_absolute_hours * 3600)
    return response


@router.post("/logout")
def logout(request: Request, p: Page = Depends(page)):
    with UnitOfWork(p.actor) as uow:
        auth.logout(uow, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(p: Page = Depends(page)):
    landing = landing_for(p.actor)  # e.g. a supplier's portal login, right after signing in
    if landing:
        return redirect(landing)
    return render(p, "home.html")


@router.post("/settings/locale")
def switch_locale(locale: str = Form(...), next: str = Form("/"), p: Page = Depends(page)):
    loc = normalize_locale(locale)
    with UnitOfWork(p.actor) as uow:
        user = uow.session.get(auth.User, p.actor.user_id)
        user.locale = loc
    set_locale(loc)
    response = redirect(_safe_next(next))
    response.set_cookie(LOCALE_COOKIE, loc, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/settings/company")
def switch_company(company_id: int = Form(...), p: Page = Depends(page)):
    with UnitOfWork(p.actor) as uow:
        auth.switch_company(uow, p.session, company_id)
    return redirect("/")


@router.get("/jobs")
def jobs_page(p: Page = Depends(page_permission("core.jobs"))):
    with UnitOfWork(p.actor, readonly=True) as uow:  # a read: never waits for SQLite's write lock
        rows = list(uow.session.scalars(select(jobs.Job).where(jobs.Job.company_id == uow.company_id)
                                        .order_by(jobs.Job.id.desc()).limit(100)))
    return render(p, "core/jobs.html", jobs=rows)


@router.get("/jobs/{job_id}")
def job_page(job_id: int, request: Request, p: Page = Depends(page_permission("core.jobs"))):
    with UnitOfWork(p.actor, readonly=True) as uow:
        j = uow.get(jobs.Job, job_id)
    template = "core/job_progress.html" if request.headers.get("hx-request") else "core/job.html"
    return render(p, template, job=j, running=j.status in (jobs.QUEUED, jobs.RUNNING))


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: int, request: Request, p: Page = Depends(page_permission("core.jobs"))):
    with UnitOfWork(p.actor) as uow:
        j = jobs.cancel(uow, job_id)
    if request.headers.get("hx-request"):
        return render(p, "core/job_progress.html", job=j, running=False)
    return redirect(f"/jobs/{job_id}", _("任务已取消"))
