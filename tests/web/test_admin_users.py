"""User administration through the API and the pages: what an administrator does and sees."""

import re

from opensupply.core import users
from opensupply.core.uow import UnitOfWork
from tests import factories as f


def _admin(db, company=None, **kw):
    c = company or f.company(db)
    return c, f.user(db, c, kw.pop("username", "boss"), **kw)


def test_create_user_through_api_never_returns_password_hash(db):
    c, admin = _admin(db)
    api = f.api_client(db, admin)
    r = api.post("/api/v1/users", json={"username": "xiaoli", "password": "Cangku-2026", "display_name": "小李",
                                        "email": "li@example.com", "roles": ["warehouse"], "locale": "en"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["roles"] == ["warehouse"]
    assert body["company_ids"] == [c]
    assert body["locale"] == "en"
    assert "password" not in r.text and "argon2" not in r.text
    listing = api.get("/api/v1/users", params={"q": "xiao"}).json()
    assert listing["total"] == 1 and listing["items"][0]["username"] == "xiaoli"
    assert "argon2" not in api.get(f"/api/v1/users/{body['id']}").text
    # the new user can log in with the password the administrator set
    me = f.api_client(db, "xiaoli", "Cangku-2026").get("/api/v1/me").json()
    assert "inventory.write" in me["permissions"]


def test_user_list_is_paginated_and_searchable(db):
    c, admin = _admin(db)
    for i in range(7):
        f.user(db, c, f"clerk{i}", roles=("sales",))
    api = f.api_client(db, admin)
    page = api.get("/api/v1/users", params={"q": "clerk", "limit": 3, "offset": 3}).json()
    assert page["total"] == 7
    assert [u["username"] for u in page["items"]] == ["clerk3", "clerk4", "clerk5"]


def test_password_policy_is_enforced_on_create_and_reset(db):
    _c, admin = _admin(db)
    api = f.api_client(db, admin)
    r = api.post("/api/v1/users", json={"username": "weak", "password": "12345678"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"
    r = api.post("/api/v1/users", json={"username": "shorty", "password": "abc"})
    assert r.status_code == 422
    uid = api.post("/api/v1/users", json={"username": "ok", "password": "Good-pass-99"}).json()["id"]
    r = api.post(f"/api/v1/users/{uid}/password", json={"password": "ok"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"
    assert api.post(f"/api/v1/users/{uid}/password", json={"password": "Better-pass-2027"}).status_code == 200
    f.api_client(db, "ok", "Better-pass-2027")  # logs in with the new password


def test_reset_password_ends_the_users_sessions(db):
    c, admin = _admin(db)
    victim = f.user(db, c, "xiaowang", roles=("sales",))
    victim_api = f.api_client(db, victim)
    assert victim_api.get("/api/v1/me").status_code == 200
    api = f.api_client(db, admin)
    uid = api.get("/api/v1/users", params={"q": "xiaowang"}).json()["items"][0]["id"]
    assert api.post(f"/api/v1/users/{uid}/password", json={"password": "Brand-new-2027"}).status_code == 200
    assert victim_api.get("/api/v1/me").status_code == 401


def test_deactivated_user_cannot_log_in_or_use_old_token(db):
    c, admin = _admin(db)
    f.user(db, c, "leaver", roles=("sales",))
    leaver_api = f.api_client(db, "leaver")
    api = f.api_client(db, admin)
    uid = api.get("/api/v1/users", params={"q": "leaver"}).json()["items"][0]["id"]
    r = api.post(f"/api/v1/users/{uid}/deactivate")
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert leaver_api.get("/api/v1/me").status_code == 401
    r = f.anonymous(db).post("/api/v1/auth/token", json={"username": "leaver", "password": f.PASSWORD})
    assert r.status_code == 401
    assert api.get("/api/v1/users", params={"active": False}).json()["total"] == 1


def test_admin_cannot_deactivate_themselves(db):
    _c, admin = _admin(db)
    api = f.api_client(db, admin)
    me = api.get("/api/v1/me").json()
    r = api.patch(f"/api/v1/users/{me['id']}", json={"is_active": False})
    assert r.status_code == 422


def test_user_can_only_be_given_companies_the_admin_may_access(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    admin = f.user(db, a, "admin_a")
    api = f.api_client(db, admin)
    r = api.post("/api/v1/users", json={"username": "sneaky", "password": "Sneaky-pass-1", "company_ids": [a, b]})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "company_ids"
    uid = api.post("/api/v1/users", json={"username": "fine", "password": "Fine-pass-123"}).json()["id"]
    assert api.patch(f"/api/v1/users/{uid}", json={"company_ids": [b]}).status_code == 422


def test_admin_of_one_company_does_not_see_users_of_another(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    admin_a = f.user(db, a, "admin_a")
    f.user(db, b, "only_in_b")
    api = f.api_client(db, admin_a)
    names = [u["username"] for u in api.get("/api/v1/users", params={"limit": 100}).json()["items"]]
    assert "only_in_b" not in names
    with UnitOfWork(f.actor(db, b, "only_in_b"), db=db, readonly=True) as uow:
        other_id = uow.actor.user_id
    assert api.get(f"/api/v1/users/{other_id}").status_code == 404
    assert api.patch(f"/api/v1/users/{other_id}", json={"display_name": "x"}).status_code == 404


def test_only_a_superuser_can_make_a_superuser(db):
    c, admin = _admin(db)  # has the admin role ("*") but is not a superuser
    api = f.api_client(db, admin)
    r = api.post("/api/v1/users", json={"username": "root2", "password": "Root-pass-123", "is_superuser": True})
    assert r.status_code == 403
    su = f.user(db, c, "root", superuser=True)
    r = f.api_client(db, su).post("/api/v1/users", json={"username": "root2", "password": "Root-pass-123",
                                                         "is_superuser": True})
    assert r.status_code == 201 and r.json()["is_superuser"] is True


def test_user_without_admin_permission_gets_403(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c, "wh", roles=("warehouse",)))
    assert api.get("/api/v1/users").status_code == 403
    assert api.get("/api/v1/roles").status_code == 403
    assert f.web_client(db, "wh").get("/admin/users").status_code == 403


def test_unknown_role_and_bad_email_are_field_errors(db):
    _c, admin = _admin(db)
    api = f.api_client(db, admin)
    r = api.post("/api/v1/users", json={"username": "x1", "password": "Good-pass-99", "roles": ["nope"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "roles"
    r = api.post("/api/v1/users", json={"username": "x2", "password": "Good-pass-99", "email": "not-an-email"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "email"
    r = api.post("/api/v1/users", json={"username": "boss", "password": "Good-pass-99"})
    assert r.status_code == 409


# ------------------------------------------------------------------ pages
def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_admin_creates_user_on_the_page_and_sees_its_audit_trail(db):
    c, admin = _admin(db)
    web = f.web_client(db, admin)
    form = web.get("/admin/users/new")
    assert form.status_code == 200
    assert 'value="warehouse"' in form.text
    r = web.post("/admin/users/new", data={
        "csrf_token": _csrf(form.text), "username": "xiaozhang", "password": "Zhang-pass-2026",
        "display_name": "小张", "email": "", "locale": "zh_CN", "is_active": "1", "roles": ["warehouse", "sales"],
        "company_ids": [str(c)]})
    assert r.status_code == 303, r.text
    detail = web.get(r.headers["location"])
    assert "小张" in detail.text and "用户已创建" in detail.text
    assert "仓管" in detail.text and "销售" in detail.text
    assert "变更记录" in detail.text  # the audit trail of the user
    assert "warehouse" in detail.text.split("变更记录")[1]
    listing = web.get("/admin/users", params={"q": "小张"})
    table = listing.text.split("<tbody>")[1]
    assert "xiaozhang" in table and "boss" not in table


def test_user_form_shows_policy_error_and_keeps_input(db):
    c, admin = _admin(db)
    web = f.web_client(db, admin)
    token = _csrf(web.get("/admin/users/new").text)
    r = web.post("/admin/users/new", data={"csrf_token": token, "username": "newbie", "password": "123",
                                           "display_name": "新人", "locale": "zh_CN", "company_ids": [str(c)]})
    assert r.status_code == 422
    assert "密码至少 8 位" in r.text
    assert 'value="新人"' in r.text


def test_edit_roles_and_deactivate_on_pages(db):
    c, admin = _admin(db)
    f.user(db, c, "temp", roles=("sales",))
    web = f.web_client(db, admin)
    uid = f.api_client(db, admin).get("/api/v1/users", params={"q": "temp"}).json()["items"][0]["id"]
    edit = web.get(f"/admin/users/{uid}/edit")
    token = _csrf(edit.text)
    r = web.post(f"/admin/users/{uid}/edit", data={"csrf_token": token, "display_name": "临时工", "locale": "en",
                                                   "is_active": "1", "roles": ["buyer"], "company_ids": [str(c)]})
    assert r.status_code == 303
    page = web.get(f"/admin/users/{uid}").text
    assert "采购" in page and "临时工" in page
    r = web.post(f"/admin/users/{uid}/deactivate", data={"csrf_token": token})
    assert r.status_code == 303
    assert "已停用" in web.get(f"/admin/users/{uid}").text
    r = web.post(f"/admin/users/{uid}/password", data={"csrf_token": token, "password": "Abcdefg-123",
                                                       "password_confirm": "different-1"})
    assert "两次输入的密码不一致" in web.get(r.headers["location"]).text


def test_service_refuses_without_permission(db):
    c = f.company(db)
    f.user(db, c, "seller", roles=("sales",))
    import pytest

    from opensupply.core.errors import PermissionDenied

    with UnitOfWork(f.actor(db, c, "seller"), db=db, readonly=True) as uow, pytest.raises(PermissionDenied):
        users.list_users(uow)
