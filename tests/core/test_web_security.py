"""Requests a browser or script could forge: CSRF, open redirects, other companies' data, headers."""

import pytest
from sqlalchemy import select

from opensupply.core.auth import User
from opensupply.masterdata.models import Product
from tests import factories as f


def locale_of(db, username: str) -> str:
    with db.readonly_sessionmaker() as s:
        return s.scalar(select(User.locale).where(User.username == username))


def product_count(db, company_id: int) -> int:
    with db.readonly_sessionmaker() as s:
        return len(s.scalars(select(Product.id).where(Product.company_id == company_id)).all())


def test_page_post_without_csrf_token_is_refused_and_changes_nothing(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c, "alice"))
    r = web.post("/settings/locale", data={"locale": "en", "next": "/"})
    assert r.status_code == 403
    assert "页面已过期" in r.text
    r = web.post("/settings/locale", data={"locale": "en", "next": "/", "csrf_token": "forged"})
    assert r.status_code == 403
    assert locale_of(db, "alice") == "zh_CN"

    r = web.post("/settings/locale", data={"locale": "en", "next": "/", "csrf_token": f.csrf(web)})
    assert r.status_code == 303
    assert locale_of(db, "alice") == "en"


def test_htmx_posts_carry_the_token_in_a_header(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c, "alice"))
    token = f.csrf(web)
    assert f'"X-CSRF-Token": "{token}"' in web.get("/").text  # hx-headers on <body>
    r = web.post("/settings/locale", data={"locale": "en"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 303 and locale_of(db, "alice") == "en"


def test_api_with_bearer_token_needs_no_csrf_token(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c))
    assert api.post("/api/v1/products", json={"sku": "B-1", "name": "杯", "uom_id": "pcs"}).status_code == 201


def test_cookie_authenticated_api_writes_need_the_csrf_header(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    body = {"sku": "C-1", "name": "杯", "uom_id": "pcs"}
    assert web.get("/api/v1/products").status_code == 200  # reading is fine
    r = web.post("/api/v1/products", json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    assert product_count(db, c) == 0
    r = web.post("/api/v1/products", json=body, headers={"X-CSRF-Token": f.csrf(web)})
    assert r.status_code == 201
    assert product_count(db, c) == 1


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/",
                                    "/\t/evil.example/", "javascript:alert(1)", "http:/evil.example"])
def test_next_cannot_send_the_user_off_site(db, target):
    c = f.company(db)
    f.user(db, c, "alice")
    client = f.anonymous(db, follow_redirects=False)
    assert f'value="{target}"' not in client.get("/login", params={"next": target}).text
    r = client.post("/login", data={"username": "alice", "password": f.PASSWORD, "next": target})
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_next_keeps_a_local_path(db):
    c = f.company(db)
    f.user(db, c, "alice")
    client = f.anonymous(db, follow_redirects=False)
    r = client.get("/jobs?page=2")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/jobs%3Fpage%3D2"
    r = client.post("/login", data={"username": "alice", "password": f.PASSWORD, "next": "/jobs?page=2"})
    assert r.headers["location"] == "/jobs?page=2"


@pytest.mark.parametrize("path", ["/login", "/health", "/api/v1/me", "/api/v1/nope", "/nope"])
def test_security_headers_on_every_response(db, path):
    r = f.anonymous(db, follow_redirects=False).get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"


def test_user_of_company_a_gets_404_for_company_b_rows_on_pages_too(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    product_b = f.product(db, b, "B-ONLY")
    web_a = f.web_client(db, f.user(db, a, "usera"))
    r = web_a.get(f"/products/{product_b}")
    assert r.status_code == 404
    assert "B-ONLY" not in r.text


def test_x_company_id_picks_one_of_the_users_companies(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    f.product(db, b, "B-ONLY")
    both = f.api_client(db, f.user(db, a, "group_admin", company_ids=[a, b]))
    assert both.get("/api/v1/products").json()["total"] == 0  # default company: A
    in_b = both.get("/api/v1/products", headers={"X-Company-Id": str(b)}).json()
    assert [p["sku"] for p in in_b["items"]] == ["B-ONLY"]
    assert both.get("/api/v1/me", headers={"X-Company-Id": str(b)}).json()["company_id"] == b


@pytest.mark.parametrize("header", ["other", "garbage", "999999"])
def test_x_company_id_for_a_company_the_user_may_not_use_is_refused(db, header):
    a, b = f.company(db, "A"), f.company(db, "B")
    f.product(db, b, "B-ONLY")
    api_a = f.api_client(db, f.user(db, a, "usera"))
    value = str(b) if header == "other" else header
    r = api_a.get("/api/v1/products", headers={"X-Company-Id": value})
    assert r.status_code == 403
    assert r.json()["error"]["field"] == "X-Company-Id"
    r = api_a.post("/api/v1/products", json={"sku": "X", "name": "x", "uom_id": "pcs"},
                   headers={"X-Company-Id": value})
    assert r.status_code == 403  # never silently written into the default company instead
    assert product_count(db, a) == 0


def test_switching_to_a_company_the_user_may_not_use_is_refused(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    f.product(db, b, "B-ONLY")
    web = f.web_client(db, f.user(db, a, "usera"))
    r = web.post("/settings/company", data={"company_id": str(b), "csrf_token": f.csrf(web)})
    assert r.status_code == 422
    assert web.get("/api/v1/me").json()["company_id"] == a
    assert web.get("/api/v1/products", params={"q": "B-ONLY"}).json()["total"] == 0


def test_switching_between_own_companies_works(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    web = f.web_client(db, f.user(db, a, "group", company_ids=[a, b]))
    r = web.post("/settings/company", data={"company_id": str(b), "csrf_token": f.csrf(web)})
    assert r.status_code == 303
    assert web.get("/api/v1/me").json()["company_id"] == b


def test_another_site_cannot_sign_the_browser_in(db):
    c = f.company(db)
    f.user(db, c, "alice")
    client = f.anonymous(db, follow_redirects=False)
    form = {"username": "alice", "password": f.PASSWORD}
    r = client.post("/login", data=form, headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and "os_session" not in r.cookies
    assert client.post("/login", data=form, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 303
