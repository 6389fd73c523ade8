"""What a caller sees when something goes wrong: one JSON error shape for the API, an error page for people."""

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient

from opensupply.core import errors
from opensupply.core.http import Page, page, require
from opensupply.core.uow import Actor
from tests import factories as f

RAISES = {
    "validation": (errors.ValidationFailed, 422, "validation_error"),
    "not_found": (errors.NotFound, 404, "not_found"),
    "conflict": (errors.Conflict, 409, "conflict"),
    "stock": (errors.InsufficientStock, 409, "insufficient_stock"),
    "forbidden": (errors.PermissionDenied, 403, "forbidden"),
    "busy": (errors.RetryLater, 503, "busy"),
}


@pytest.fixture(scope="module")
def app():
    """The real application plus a few routes that fail on purpose."""
    from opensupply.app import create_app

    app = create_app()

    def api_raise(kind: str, actor: Actor = Depends(require("masterdata.read"))):
        cls = RAISES[kind][0]
        raise cls("库位不存在：A-09-09", field="location")

    def api_crash(actor: Actor = Depends(require("masterdata.read"))):
        raise ZeroDivisionError("secret internals")

    def page_crash(p: Page = Depends(page)):
        raise ZeroDivisionError("secret internals")

    def page_raise(p: Page = Depends(page)):
        raise errors.Conflict("单据已审核，不能修改")

    app.add_api_route("/api/v1/test-errors/raise/{kind}", api_raise)
    app.add_api_route("/api/v1/test-errors/crash", api_crash)
    app.add_api_route("/test-errors/crash", page_crash)
    app.add_api_route("/test-errors/raise", page_raise)
    return app


def login(app, db, client_kind: str) -> TestClient:
    c = f.company(db)
    user = f.user(db, c)
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    if client_kind == "api":
        token = client.post("/api/v1/auth/token", json={"username": user, "password": f.PASSWORD}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
    else:
        assert client.post("/login", data={"username": user, "password": f.PASSWORD}).status_code == 303
    return client


@pytest.mark.parametrize("kind", sorted(RAISES))
def test_domain_errors_become_json_with_their_status(app, db, kind):
    _cls, status, code = RAISES[kind]
    r = login(app, db, "api").get(f"/api/v1/test-errors/raise/{kind}")
    assert r.status_code == status
    assert r.json() == {"error": {"code": code, "message": "库位不存在：A-09-09", "field": "location"}}


def test_not_authenticated_is_401_json(app, db):
    r = TestClient(app).get("/api/v1/test-errors/raise/conflict")
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"code", "message", "field"}


def test_request_validation_errors_have_the_same_shape(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c))
    r = api.get("/api/v1/products", params={"limit": "many"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["field"] == "limit"
    r = api.post("/api/v1/products", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and set(r.json()["error"]) == {"code", "message", "field"}
    r = api.post("/api/v1/auth/token", json={"username": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"


def test_unknown_api_route_is_404_json(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c))
    for client in (api, f.anonymous(db)):
        r = client.get("/api/v1/no-such-thing")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
    r = api.put("/api/v1/me")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_unexpected_api_failure_is_500_json_without_internals(app, db):
    r = login(app, db, "api").get("/api/v1/test-errors/crash")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "secret internals" not in r.text and "Traceback" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"


def test_pages_show_an_error_page_not_a_traceback(app, db):
    web = login(app, db, "web")
    r = web.get("/no-such-page")
    assert r.status_code == 404 and "<html" in r.text and "页面或记录不存在" in r.text
    r = web.get("/test-errors/raise")
    assert r.status_code == 409 and "<html" in r.text and "单据已审核，不能修改" in r.text
    r = web.get("/test-errors/crash")
    assert r.status_code == 500 and "<html" in r.text
    assert "secret internals" not in r.text and "Traceback" not in r.text
    r = web.get("/jobs/not-a-number")
    assert r.status_code == 422 and "<html" in r.text
