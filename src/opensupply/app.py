"""Builds the FastAPI application from the enabled modules.

Each module may provide `api.py` with `router` (mounted under /api/v1) and `web.py`
with `router` (pages). Domain errors become `{"error": {code, message, field}}` JSON
for the API and an error page (or a redirect to /login) for pages.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, StarletteHTTPException
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from opensupply import __version__, registry
from opensupply.core.db import Database, set_database
from opensupply.core.errors import DomainError
from opensupply.core.http import LoginRequired
from opensupply.core.i18n import _
from opensupply.modules_state import enabled_modules

log = logging.getLogger(__name__)
API = "/api/v1"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API)


def create_app(db: Database | None = None) -> FastAPI:
    if db is not None:
        set_database(db)
    app = FastAPI(title="OpenSupply", version=__version__, openapi_url=f"{API}/openapi.json",
                  docs_url=f"{API}/docs", redoc_url=None)

    from opensupply.core.idempotency import IdempotencyMiddleware

    app.add_middleware(IdempotencyMiddleware)  # inside the header middleware: replays get the headers too

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        if _is_api(request) or request.headers.get("hx-request"):
            return JSONResponse(exc.as_dict(), status_code=exc.status)
        from opensupply.web import render

        return render(None, "error.html", request=request, status_code=exc.status, status=exc.status,
                      message=exc.message)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        from urllib.parse import quote

        from fastapi.responses import RedirectResponse

        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path")]
        message = _("输入有误：{field} {msg}", field=".".join(loc), msg=first.get("msg", ""))
        if not _is_api(request) and not request.headers.get("hx-request"):
            from opensupply.web import render

            return render(None, "error.html", request=request, status_code=422, status=422, message=message)
        return JSONResponse({"error": {"code": "validation_error", "message": message,
                                       "field": ".".join(loc) or None}}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception):
        # Starlette re-raises the exception after this response, so the server logs the traceback;
        # the caller only learns that it was our fault
        message = _("系统内部错误，请稍后重试或联系管理员")
        if _is_api(request) or request.headers.get("hx-request"):
            response = JSONResponse({"error": {"code": "internal_error", "message": message, "field": None}},
                                    status_code=500)
        else:
            from opensupply.web import render

            response = render(None, "error.html", request=request, status_code=500, status=500, message=message)
        response.headers.update(SECURITY_HEADERS)  # this handler runs outside the header middleware
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404:
            message = _("页面或记录不存在")
        if _is_api(request):
            return JSONResponse({"error": {"code": code, "message": message, "field": None}},
                                status_code=exc.status_code, headers=getattr(exc, "headers", None))
        from opensupply.web import render

        return render(None, "error.html", request=request, status_code=exc.status_code, status=exc.status_code,
                      message=message, actor=None)

    static = Path(__file__).parent / "web" / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    from opensupply.core import admin_api
    from opensupply.core import api as core_api
    from opensupply.web import admin as admin_pages
    from opensupply.web import pages as core_pages

    app.include_router(core_api.public_router)
    app.include_router(core_api.router, prefix=API)
    app.include_router(core_pages.router)
    app.include_router(admin_api.router, prefix=API)
    app.include_router(admin_pages.router)

    on = enabled_modules()
    for m in registry.modules():
        if m.name == "core" or m.name not in on:
            continue
        for part, prefix in (("api", API), ("web", "")):
            try:
                mod = importlib.import_module(f"opensupply.{m.name}.{part}")
            except ModuleNotFoundError as exc:
                if exc.name == f"opensupply.{m.name}.{part}":
                    continue
                raise
            app.include_router(mod.router, prefix=prefix)
    return app
