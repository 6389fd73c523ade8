"""The fixed interfaces: health, tokens, 401 without login, error body shape, tenant isolation."""

from tests import factories as f


def test_health_needs_no_login(db):
    r = f.anonymous(db).get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_api_without_token_is_401_json_not_redirect(db):
    r = f.anonymous(db, follow_redirects=False).get("/api/v1/products")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


def test_token_with_wrong_password_is_401(db):
    c = f.company(db)
    f.user(db, c, "alice")
    r = f.anonymous(db).post("/api/v1/auth/token", json={"username": "alice", "password": "nope-nope"})
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"code", "message", "field"}


def test_openapi_is_served(db):
    r = f.anonymous(db).get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/products" in r.json()["paths"]


def test_create_and_list_product_through_api(db):
    c = f.company(db)
    client = f.api_client(db, f.user(db, c))
    r = client.post("/api/v1/products", json={"sku": "YS-CUP-350", "name": "保温杯", "uom_id": "pcs",
                                              "cost": "32.5", "list_price": "79"})
    assert r.status_code == 201, r.text
    assert r.json()["uom_code"] == "pcs"
    listing = client.get("/api/v1/products", params={"q": "保温"}).json()
    assert listing["total"] == 1
    assert listing["items"][0]["sku"] == "YS-CUP-350"
    assert listing["items"][0]["cost"] == "32.5"


def test_bad_input_is_a_4xx_with_field(db):
    c = f.company(db)
    client = f.api_client(db, f.user(db, c))
    r = client.post("/api/v1/products", json={"sku": "X1", "name": "测试", "uom_id": "pcs", "cost": "-1"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "cost"
    r = client.post("/api/v1/products", json={"sku": "X1", "name": "测试", "uom_id": "nope"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "uom_id"
    r = client.post("/api/v1/products", json={"name": "no sku"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert client.get("/api/v1/products").json()["total"] == 0  # nothing half-written


def test_duplicate_sku_is_409(db):
    c = f.company(db)
    client = f.api_client(db, f.user(db, c))
    body = {"sku": "DUP", "name": "a", "uom_id": "pcs"}
    assert client.post("/api/v1/products", json=body).status_code == 201
    r = client.post("/api/v1/products", json=body)
    assert r.status_code == 409
    assert r.json()["error"]["field"] == "sku"


def test_user_of_company_a_cannot_see_company_b_product(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    product_b = f.product(db, b, "B-ONLY")
    client_a = f.api_client(db, f.user(db, a, "usera"))
    assert client_a.get(f"/api/v1/products/{product_b}").status_code == 404
    assert client_a.patch(f"/api/v1/products/{product_b}", json={"name": "x"}).status_code == 404
    assert client_a.delete(f"/api/v1/products/{product_b}").status_code == 404
    assert client_a.get("/api/v1/products", params={"q": "B-ONLY"}).json()["total"] == 0


def test_role_without_permission_gets_403(db):
    c = f.company(db)
    client = f.api_client(db, f.user(db, c, "wh", roles=("warehouse",)))
    assert client.get("/api/v1/products").status_code == 200
    r = client.post("/api/v1/products", json={"sku": "S", "name": "n", "uom_id": "pcs"})
    assert r.status_code == 403
