"""The BOM REST API: /api/v1/boms."""

from tests import factories as f
from tests.masterdata import factories as mf


def _setup(db, roles=("production",)):
    c = f.company(db)
    mf.products(db, c, "LAMP", "SHADE", "BULB", "CABLE:m")
    return c, f.api_client(db, f.user(db, c, roles=roles))


def test_create_get_release_copy_explode_delete(db):
    _c, api = _setup(db)
    r = api.post("/api/v1/boms", json={"product": "LAMP", "lines": [
        {"component": "SHADE", "quantity": "1"},
        {"component": "BULB", "quantity": 2, "scrap_pct": "5"},
        {"component": "CABLE", "quantity": "150", "uom": "cm"}]})
    assert r.status_code == 201, r.text
    bom = r.json()
    assert (bom["version"], bom["state"], bom["product_sku"]) == ("V1.0", "draft", "LAMP")
    assert [(ln["component_sku"], ln["quantity"], ln["uom"]) for ln in bom["lines"]] == [
        ("SHADE", "1", "pcs"), ("BULB", "2", "pcs"), ("CABLE", "150", "cm")]

    r = api.patch(f"/api/v1/boms/{bom['id']}", json={"notes": "首版"})
    assert r.status_code == 200 and r.json()["notes"] == "首版"

    assert api.post(f"/api/v1/boms/{bom['id']}/release").json()["state"] == "released"
    r = api.get(f"/api/v1/boms/{bom['id']}/explode", params={"quantity": "10"})
    assert r.status_code == 200
    assert {t["sku"]: t["quantity"] for t in r.json()["totals"]} == {"SHADE": "10", "BULB": "21", "CABLE": "15"}

    r = api.post(f"/api/v1/boms/{bom['id']}/copy")
    assert r.status_code == 201
    v11 = r.json()
    assert (v11["version"], v11["state"], v11["line_count"]) == ("V1.1", "draft", 3)

    listing = api.get("/api/v1/boms", params={"q": "LAMP"}).json()
    assert listing["total"] == 2
    assert api.get("/api/v1/boms", params={"state": "released"}).json()["total"] == 1
    products = api.get("/api/v1/products", params={"q": "LAMP"}).json()["items"]
    assert api.get("/api/v1/boms", params={"product_id": products[0]["id"]}).json()["total"] == 2
    assert api.get("/api/v1/boms", params={"product": "LAMP"}).json()["total"] == 2
    assert api.get("/api/v1/boms", params={"product": "SHADE"}).json()["total"] == 0
    assert len(api.get("/api/v1/boms", params={"limit": 1, "offset": 1}).json()["items"]) == 1

    r = api.post(f"/api/v1/boms/{v11['id']}/release")
    assert r.status_code == 200
    assert api.get(f"/api/v1/boms/{bom['id']}").json()["state"] == "obsolete"

    r = api.delete(f"/api/v1/boms/{bom['id']}")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conflict"
    draft = api.post(f"/api/v1/boms/{v11['id']}/copy").json()
    assert api.delete(f"/api/v1/boms/{draft['id']}").status_code == 200
    assert api.get(f"/api/v1/boms/{draft['id']}").status_code == 404


def test_bad_lines_are_422_with_field(db):
    _c, api = _setup(db)
    r = api.post("/api/v1/boms", json={"product": "LAMP", "lines": [
        {"component": "SHADE", "quantity": "1"}, {"component": "CABLE", "quantity": "1", "uom": "pcs"}]})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "lines.1.uom"
    r = api.post("/api/v1/boms", json={"product": "NOPE", "lines": [{"component": "SHADE", "quantity": 1}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "product"
    r = api.post("/api/v1/boms", json={"product": "LAMP", "lines": [{"component": "SHADE"}]})
    assert r.status_code == 422
    assert api.get("/api/v1/boms").json()["total"] == 0
    assert api.get("/api/v1/boms", params={"state": "weird"}).status_code == 422
    assert api.get("/api/v1/boms/1/explode", params={"quantity": "x"}).status_code in (404, 422)


def test_duplicate_version_is_409(db):
    _c, api = _setup(db)
    body = {"product": "LAMP", "lines": [{"component": "SHADE", "quantity": 1}]}
    assert api.post("/api/v1/boms", json=body).status_code == 201
    r = api.post("/api/v1/boms", json=body)
    assert r.status_code == 409 and r.json()["error"]["field"] == "version"


def test_reading_needs_read_and_writing_needs_bom_permission(db):
    _c, api = _setup(db, roles=("warehouse",))
    assert api.get("/api/v1/boms").status_code == 200
    r = api.post("/api/v1/boms", json={"product": "LAMP", "lines": [{"component": "SHADE", "quantity": 1}]})
    assert r.status_code == 403


def test_other_company_boms_are_invisible(db):
    _c, api = _setup(db)
    other = f.company(db)
    mf.products(db, other, "X", "Y")
    bom_id = mf.bom(db, other, "X", [("Y", "1")])
    assert api.get(f"/api/v1/boms/{bom_id}").status_code == 404
    assert api.post(f"/api/v1/boms/{bom_id}/release").status_code == 404
    assert api.get("/api/v1/boms").json()["total"] == 0
    r = api.post("/api/v1/boms", json={"product": "LAMP", "lines": [{"component": "Y", "quantity": 1}]})
    assert r.status_code == 422  # another company's product is not a component here


def test_where_used_endpoint(db):
    _c, api = _setup(db)
    api.post("/api/v1/boms", json={"product": "LAMP", "lines": [{"component": "BULB", "quantity": 1}]})
    bulb = api.get("/api/v1/products", params={"q": "BULB"}).json()["items"][0]["id"]
    r = api.get(f"/api/v1/boms/where-used/{bulb}")
    assert r.status_code == 200
    assert [(u["sku"], u["version"]) for u in r.json()["items"]] == [("LAMP", "V1.0")]
