"""Roles: create one, edit its permission set with the checkboxes, and what a holder may then do."""

import re

from tests import factories as f


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_create_role_via_api_and_give_it_to_a_user(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c, "boss"))
    r = api.post("/api/v1/roles", json={"code": "qc", "name": "质检", "permissions": ["inventory.read",
                                                                                    "masterdata.read"]})
    assert r.status_code == 201, r.text
    role_id = r.json()["id"]
    assert r.json()["permissions"] == ["inventory.read", "masterdata.read"]
    api.post("/api/v1/users", json={"username": "qc1", "password": "Quality-2026", "roles": ["qc"]})
    roles = api.get("/api/v1/roles", params={"q": "qc"}).json()
    assert roles["total"] == 1 and roles["items"][0]["user_count"] == 1
    qc = f.api_client(db, "qc1", "Quality-2026")
    assert qc.get("/api/v1/products").status_code == 200
    assert qc.post("/api/v1/products", json={"sku": "Q", "name": "q", "uom_id": "pcs"}).status_code == 403
    # granting write access takes effect on the next request
    r = api.patch(f"/api/v1/roles/{role_id}", json={"permissions": ["inventory.read", "masterdata.*"]})
    assert r.status_code == 200
    assert qc.post("/api/v1/products", json={"sku": "Q", "name": "q", "uom_id": "pcs"}).status_code == 201


def test_role_validation(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c, "boss"))
    assert api.post("/api/v1/roles", json={"code": "Bad Code", "name": "x"}).json()["error"]["field"] == "code"
    r = api.post("/api/v1/roles", json={"code": "x", "name": "x", "permissions": ["made.up"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "permissions"
    assert api.post("/api/v1/roles", json={"code": "sales", "name": "dup"}).status_code == 409
    assert api.get("/api/v1/roles/999999").status_code == 404


def test_admin_cannot_grant_permissions_they_do_not_hold(db):
    c = f.company(db)
    boss = f.api_client(db, f.user(db, c, "boss"))
    boss.post("/api/v1/roles", json={"code": "useradmin", "name": "用户管理员",
                                     "permissions": ["admin.users", "masterdata.read"]})
    f.user(db, c, "hr", roles=("useradmin",))
    hr = f.api_client(db, "hr")
    r = hr.post("/api/v1/roles", json={"code": "god", "name": "god", "permissions": ["*"]})
    assert r.status_code == 403
    r = hr.post("/api/v1/users", json={"username": "x", "password": "Good-pass-99", "roles": ["admin"]})
    assert r.status_code == 403
    assert hr.post("/api/v1/users", json={"username": "x", "password": "Good-pass-99"}).status_code == 201


def test_permissions_are_grouped_per_module(db):
    c = f.company(db)
    groups = f.api_client(db, f.user(db, c, "boss")).get("/api/v1/permissions").json()["items"]
    by_module = {g["module"]: g["permissions"] for g in groups}
    assert "admin.users" in by_module["core"]
    assert "masterdata.write" in by_module["masterdata"] and "masterdata.*" in by_module["masterdata"]


def test_edit_role_permissions_with_checkboxes(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c, "boss"))
    form = web.get("/admin/roles/new")
    assert form.status_code == 200
    assert 'value="inventory.write"' in form.text and "库存" in form.text  # grouped under the module label
    r = web.post("/admin/roles/new", data={"csrf_token": _csrf(form.text), "code": "picker", "name": "拣货员",
                                           "description": "", "permissions": ["inventory.read", "inventory.write"]})
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"])
    assert "角色已创建" in page.text
    assert re.search(r'value="inventory.write" checked', page.text)
    assert not re.search(r'value="masterdata.read" checked', page.text)
    r = web.post(r.headers["location"], data={"csrf_token": _csrf(page.text), "name": "拣货员",
                                              "permissions": ["inventory.read"]})
    assert r.status_code == 303
    page = web.get(r.headers["location"]).text
    assert not re.search(r'value="inventory.write" checked', page)
    listing = web.get("/admin/roles").text
    assert "picker" in listing and "拣货员" in listing


def test_role_form_error_is_shown(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c, "boss"))
    token = _csrf(web.get("/admin/roles/new").text)
    r = web.post("/admin/roles/new", data={"csrf_token": token, "code": "sales", "name": "重复"})
    assert r.status_code == 409
    assert "角色编码已存在" in r.text
