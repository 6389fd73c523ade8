"""The access matrix, generated from the application's own routes, so a new endpoint or page is covered the day it
is added:

* anonymous → every API endpoint answers 401 with the JSON error body (never a redirect), every page redirects to
  the login page; only /health, /login, the token endpoint, static files and signed webhooks are open (webhooks
  answer 401 without a valid signature);
* a signed-in user whose role holds no permission → every endpoint and page that names a permission answers 403
  (pages after the CSRF check passes, so it is the permission that refuses; the refusal comes from the route's
  dependency, before the handler runs) and every refusal is in the audit log as `denied`;
* the endpoints and pages that need a login but no permission are exactly the listed ones — a new unguarded route
  fails here until someone decides it should be open to every user.

Per-record isolation (company B's record by id → 404) is checked per module next to its data (e.g.
tests/core/test_api_basics.py, tests/srm/test_asn.py); this file checks the gate in front of every route."""

from __future__ import annotations

import inspect
import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from starlette.routing import Mount

from opensupply.core import auth
from opensupply.core.audit import AuditLog
from opensupply.core.uow import Actor, UnitOfWork
from tests import factories as f

OPEN = {("GET", "/health"), ("GET", "/login"), ("POST", "/login"), ("POST", "/api/v1/auth/token"),
        ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}
# signed-in, no permission needed: the user's own session, settings and home
LOGIN_ONLY = {
    ("GET", "/"), ("POST", "/logout"), ("POST", "/settings/locale"), ("POST", "/settings/company"),
    ("GET", "/api/v1/me"), ("POST", "/api/v1/auth/logout"),
    ("GET", "/dashboards"), ("GET", "/api/v1/dashboards"),  # the dashboards the caller may open: maybe none
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _permission_of(route) -> str | None:
    """The permission a route's dependencies name (`require(p)` / `page_permission(p)` closures), if any."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        call = dep.call
        if call is not None and getattr(call, "__qualname__", "").endswith((
                "require.<locals>.dep", "page_permission.<locals>.dep", "require_any.<locals>.dep")):
            names = inspect.getclosurevars(call).nonlocals
            perm = names.get("permission") or " | ".join(names.get("permissions") or ())
            if perm:
                return perm
        stack.extend(dep.dependencies)
    return None


def _is_page(path: str) -> bool:
    return not path.startswith("/api/")


def _routes(app) -> list[tuple[str, str, object]]:
    """(method, full path, route) of every FastAPI route, included routers flattened."""
    out = []
    for r in app.routes:
        if isinstance(r, Mount):
            continue
        if isinstance(r, APIRoute):
            contexts = [r]
        elif hasattr(r, "effective_route_contexts"):  # FastAPI's included router
            contexts = list(r.effective_route_contexts())
        else:
            continue
        for ctx in contexts:
            for method in sorted(set(ctx.methods or ()) - {"HEAD", "OPTIONS"}):
                out.append((method, ctx.path, ctx))
    return out


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture(scope="module")
def matrix_app():
    from opensupply.app import create_app

    return create_app()


def test_anonymous_callers_get_401_on_the_api_and_the_login_page_on_pages(sqlite_db, matrix_app):
    db = sqlite_db  # about the gate in front of the routes, not SQL: SQLite only
    from fastapi.testclient import TestClient

    f.app(db)  # the process-wide database
    client = TestClient(matrix_app, raise_server_exceptions=True, follow_redirects=False)
    checked = 0
    for method, path, _route in _routes(matrix_app):
        if (method, path) in OPEN or path.startswith("/static"):
            continue
        r = client.request(method, _url(path))
        if path.startswith("/api/v1/webhooks/"):
            assert r.status_code == 401, (method, path, r.status_code)
        elif path.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
            assert r.json()["error"]["code"], (method, path)
        else:
            assert r.status_code in (303, 307, 302), (method, path, r.status_code)
            assert r.headers["location"].startswith("/login"), (method, path, r.headers["location"])
        checked += 1
    assert checked > 300  # the whole application, not a handful


def test_a_user_without_permissions_is_refused_everywhere_a_permission_is_named(sqlite_db, matrix_app):
    db = sqlite_db
    from fastapi.testclient import TestClient

    c = f.company(db)
    with UnitOfWork(Actor.system(c), db=db) as uow:
        auth.ensure_role(uow, "nobody", "无权限", [], "只能登录")
    f.user(db, c, "nobody-user", roles=("nobody",))
    f.app(db)
    web = TestClient(matrix_app, raise_server_exceptions=True, follow_redirects=False)
    r = web.post("/login", data={"username": "nobody-user", "password": f.PASSWORD, "next": "/"})
    assert r.status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/").text).group(1)
    api = TestClient(matrix_app, raise_server_exceptions=True, follow_redirects=False)
    bearer = api.post("/api/v1/auth/token", json={"username": "nobody-user", "password": f.PASSWORD}).json()
    api.headers["Authorization"] = f"Bearer {bearer['access_token']}"

    unguarded, refused = set(), 0
    for method, path, route in _routes(matrix_app):
        if (method, path) in OPEN or path.startswith(("/static", "/api/v1/webhooks/")):
            continue
        permission = _permission_of(route)
        if permission is None:
            unguarded.add((method, path))
            continue
        if _is_page(path):
            r = web.request(method, _url(path), headers={"X-CSRF-Token": token} if method in UNSAFE else None)
        else:
            r = api.request(method, _url(path))
        assert r.status_code == 403, (method, path, permission, r.status_code, r.text[:200])
        refused += 1
    assert refused > 300
    with db.sessionmaker() as session:  # each refusal is audited, one row per request
        denied = session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.username == "nobody-user", AuditLog.action == "denied"))
    assert denied == refused, "a refusal without its audit row (or more rows than refusals)"
    # routes that check their own permission inside (portal, driver, jobs …) are listed with why, and must
    # still refuse this user: they are called too
    loose = sorted(unguarded - LOGIN_ONLY - SELF_CHECKED)
    assert not loose, f"routes naming no permission (guard them, or list them in LOGIN_ONLY/SELF_CHECKED): {loose}"
    for method, path in sorted(SELF_CHECKED & unguarded):
        client = web if not path.startswith("/api/") else api
        r = client.request(method, _url(path), headers={"X-CSRF-Token": token} if method in UNSAFE else None)
        assert r.status_code in (403, 404), (method, path, r.status_code)


# routes without a permission dependency that decide access themselves (filled from the first run; each entry is
# a route whose handler or service checks the caller); they must answer 403/404 to a user without permissions
SELF_CHECKED: set[tuple[str, str]] = {
    # one dashboard: its own permission list (dashboards.ACCESS), checked by dashboards.service.can_open
    ("GET", "/dashboards/{name}"), ("GET", "/api/v1/dashboards/{name}"),
    # the supplier portal: srm.portal and a portal account, checked by portal_web.portal_page (404 otherwise)
    ("GET", "/portal"), ("GET", "/portal/asns"), ("GET", "/portal/bids"), ("GET", "/portal/orders"),
    ("GET", "/portal/orders/{order_id}"), ("GET", "/portal/rfqs"), ("GET", "/portal/rfqs/{rfq_id}"),
    ("GET", "/portal/scorecard"), ("POST", "/portal/asns/{asn_id}/cancel"),
    ("POST", "/portal/orders/{order_id}/asns"), ("POST", "/portal/orders/{order_id}/confirm"),
    ("POST", "/portal/rfqs/{rfq_id}/bid"),
    # a proof-of-delivery photo: the stop's own driver or a TMS reader (tms.dispatch.pod_file)
    ("GET", "/tms/pod/{stop_id}"),
}
