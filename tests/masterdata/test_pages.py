"""Master-data pages through HTTP, as people use them: lists with search, filters, sort and
pages; forms that keep what was typed and say what is wrong; archive; history; who sees cost."""

import re

import pytest

from tests import factories as f


@pytest.fixture
def admin(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    return c, web, f.csrf(web)


def _list_body(html: str) -> str:
    return html.split('id="list-body"')[1]


def _first_column(html: str) -> list[str]:
    body = _list_body(html).split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<tr>\s*<td[^>]*><a href="[^"]+">([^<]+)</a>', body)


def test_product_list_search_filter_sort_and_pages(db, admin):
    c, web, _token = admin
    for i in range(55):
        f.product(db, c, f"P-{i:03d}", name="保温杯" if i % 2 else "毛巾", tracking="lot" if i % 5 == 0 else "none")
    page = web.get("/products")
    assert page.status_code == 200
    assert "共 55 条" in page.text
    assert _first_column(page.text)[:2] == ["P-000", "P-001"] and len(_first_column(page.text)) == 50
    nxt = web.get("/products", params={"offset": 50}).text
    assert _first_column(nxt) == ["P-050", "P-051", "P-052", "P-053", "P-054"]
    assert "上一页" in nxt
    assert "共 27 条" in web.get("/products", params={"q": "保温"}).text
    assert "共 11 条" in web.get("/products", params={"tracking": "lot"}).text
    desc = web.get("/products", params={"sort": "-sku"}).text
    assert _first_column(desc)[0] == "P-054"
    assert web.get("/products", params={"sort": "nope"}).status_code == 422


def test_create_with_field_error_keeps_values_then_succeeds(db, admin):
    _c, web, token = admin
    form = {"csrf_token": token, "sku": "YS-CUP-350", "name": "保温杯 350ml", "uom_id": "", "cost": "abc",
            "list_price": "79", "product_type": "stock", "tracking": "none"}
    r = web.post("/products/new", data=form)
    assert r.status_code == 422
    assert "成本价格式不正确：abc" in r.text
    assert 'value="YS-CUP-350"' in r.text and 'value="保温杯 350ml"' in r.text and 'value="abc"' in r.text
    assert re.search(r'<label class="has-error">成本价', r.text)
    form["cost"] = "32.5"
    r = web.post("/products/new", data=form)
    assert r.status_code == 422 and "请填写单位" in r.text
    form["uom_id"] = "pcs"
    r = web.post("/products/new", data=form)
    assert r.status_code == 303
    detail = web.get(r.headers["location"]).text
    assert "保温杯 350ml" in detail and "32.5" in detail
    r = web.post("/products/new", data=form)
    assert r.status_code == 422 and "商家编码已存在：YS-CUP-350" in r.text


def test_edit_archive_and_audit_trail(db, admin):
    c, web, token = admin
    pid = f.product(db, c, "ARC-1", name="旧名称")
    r = web.post(f"/products/{pid}/edit", data={"csrf_token": token, "sku": "ARC-1", "name": "新名称",
                                                 "uom_id": "pcs", "cost": "-5"})
    assert r.status_code == 422 and "成本不能为负数" in r.text and 'value="新名称"' in r.text
    r = web.post(f"/products/{pid}/edit", data={"csrf_token": token, "sku": "ARC-1", "name": "新名称",
                                                 "uom_id": "pcs", "cost": "5"})
    assert r.status_code == 303
    detail = web.get(f"/products/{pid}").text
    trail = detail.split("变更记录")[1]
    assert "旧名称" in trail and "新名称" in trail and "update" in trail and "create" in trail
    r = web.post(f"/products/{pid}/archive", data={"csrf_token": token})
    assert r.status_code == 303
    assert "ARC-1" not in _list_body(web.get("/products").text)
    assert "ARC-1" in _list_body(web.get("/products", params={"archived": "1"}).text)
    # a form without the CSRF token is refused
    assert web.post(f"/products/{pid}/archive", data={}).status_code == 403


def test_cost_is_hidden_without_cost_permission(db):
    c = f.company(db)
    pid = f.product(db, c, "SECRET-COST", cost="123.45", list_price="199")
    wh_user = f.user(db, c, roles=("warehouse",))
    api = f.api_client(db, wh_user)
    item = api.get(f"/api/v1/products/{pid}").json()
    assert "cost" not in item and item["list_price"] == "199"
    assert all("cost" not in p for p in api.get("/api/v1/products").json()["items"])
    assert api.get("/api/v1/products", params={"sort": "cost"}).status_code == 422
    assert "123.45" not in api.get("/api/v1/products/export", params={"format": "csv"}).text
    web = f.web_client(db, wh_user)
    for url in ("/products", f"/products/{pid}", "/products/export?format=csv"):
        r = web.get(url)
        assert r.status_code == 200
        assert "123.45" not in r.text and "成本价" not in r.content.decode("utf-8-sig")
    # and with the permission it is there
    admin_api = f.api_client(db, f.user(db, c))
    assert admin_api.get(f"/api/v1/products/{pid}").json()["cost"] == "123.45"
    assert "123.45" in f.web_client(db, f.user(db, c)).get(f"/products/{pid}").text


def test_partner_needs_a_role_and_filters_by_role_and_province(db, admin):
    c, web, token = admin
    base = {"csrf_token": token, "is_customer": "0", "is_supplier": "0", "is_carrier": "0"}
    r = web.post("/partners/new", data={**base, "code": "P-1", "name": "无角色单位", "province": "浙江"})
    assert r.status_code == 422 and "请至少选择一个角色" in r.text and 'value="无角色单位"' in r.text
    rows = [("C-HZ", "杭州客户", "is_customer", "浙江"), ("S-NT", "南通供应商", "is_supplier", "江苏省"),
            ("L-SF", "顺丰", "is_carrier", "广东"), ("C-SH", "上海客户", "is_customer", "上海")]
    for code, name, role, prov in rows:
        r = web.post("/partners/new", data={**base, role: "1", "code": code, "name": name, "province": prov,
                                             "city": "某市"})
        assert r.status_code == 303, r.text
    assert "共 2 条" in web.get("/partners", params={"is_customer": "1"}).text
    page = web.get("/partners", params={"province": "浙江省"}).text
    assert "共 1 条" in page and "C-HZ" in _list_body(page)
    assert '<option value="广东省"' in page  # the province filter offers every province
    api = f.api_client(db, f.user(db, c))
    assert [p["code"] for p in api.get("/api/v1/partners", params={"province": "上海市"}).json()["items"]] == [
        "C-SH"]
    r = api.post("/api/v1/partners", json={"code": "X", "name": "x", "is_customer": True, "province": "火星"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "province"
    r = api.post("/api/v1/partners", json={"code": "X", "name": "x", "is_customer": True, "email": "not-mail"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "email"
    r = api.post("/api/v1/partners", json={"code": "X", "name": "x", "is_customer": True, "district": "西湖区"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "city"


def test_new_warehouse_gets_view_and_stock_locations_and_bins_get_full_codes(db, admin):
    c, web, token = admin
    r = web.post("/warehouses/new", data={"csrf_token": token, "code": "SH", "name": "上海仓", "province": "上海"})
    assert r.status_code == 303, r.text
    wh_url = r.headers["location"]
    api = f.api_client(db, f.user(db, c))
    locs = {loc["full_code"]: loc for loc in api.get("/api/v1/locations", params={"q": "SH"}).json()["items"]}
    assert set(locs) == {"SH", "SH/STOCK"}
    assert locs["SH"]["usage"] == "view" and locs["SH/STOCK"]["usage"] == "internal"
    stock_id = locs["SH/STOCK"]["id"]
    r = web.post("/locations/new", data={"csrf_token": token, "code": "A-01", "name": "A 区",
                                         "parent_id": str(stock_id), "usage": "internal"})
    assert r.status_code == 303, r.text
    a01 = api.get("/api/v1/locations", params={"q": "A-01"}).json()["items"][0]
    r = api.post("/api/v1/locations", json={"code": "A-01-01", "parent_id": a01["id"], "usage": "internal"})
    assert r.status_code == 201
    bin_id = r.json()["id"]
    assert r.json()["full_code"] == "SH/STOCK/A-01/A-01-01"
    assert r.json()["warehouse_code"] == "SH"
    bad = api.post("/api/v1/locations", json={"code": "A 01", "parent_id": stock_id, "usage": "internal"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "code"
    dup = api.post("/api/v1/locations", json={"code": "A-01", "parent_id": stock_id, "usage": "internal"})
    assert dup.status_code == 409
    # moving a location moves its children's full codes with it
    r = api.patch(f"/api/v1/locations/{a01['id']}", json={"code": "B-01"})
    assert r.status_code == 200 and r.json()["full_code"] == "SH/STOCK/B-01"
    assert api.get(f"/api/v1/locations/{bin_id}").json()["full_code"] == "SH/STOCK/B-01/A-01-01"
    cycle = api.patch(f"/api/v1/locations/{a01['id']}", json={"parent_id": bin_id})
    assert cycle.status_code == 422
    # the warehouse page shows the tree
    page = web.get(wh_url).text
    tree = page.split('class="list location-tree"')[1].split("</table>")[0]
    codes = re.findall(r"<td>(SH[^<]*)</td>", tree)
    assert codes == ["SH", "SH/STOCK", "SH/STOCK/B-01", "SH/STOCK/B-01/A-01-01"]


def test_renaming_a_warehouse_renames_its_location_codes(db, admin):
    c, _web, _token = admin
    api = f.api_client(db, f.user(db, c))
    wh = api.post("/api/v1/warehouses", json={"code": "BJ", "name": "北京仓"}).json()
    stock = api.get("/api/v1/locations", params={"q": "BJ/STOCK"}).json()["items"][0]
    api.post("/api/v1/locations", json={"code": "A-01-01", "parent_id": stock["id"], "usage": "internal"})
    r = api.patch(f"/api/v1/warehouses/{wh['id']}", json={"code": "BJ2"})
    assert r.status_code == 200, r.text
    codes = sorted(loc["full_code"] for loc in api.get("/api/v1/locations", params={"q": "BJ"}).json()["items"])
    assert codes == ["BJ2", "BJ2/STOCK", "BJ2/STOCK/A-01-01"]


def test_other_pages_render(db, admin):
    _c, web, _token = admin
    for url in ("/product-categories", "/uoms", "/departments", "/employees", "/currency-rates", "/companies",
                "/locations", "/warehouses", "/partners/new", "/products/new", "/warehouses/new", "/locations/new"):
        assert web.get(url).status_code == 200, url


def test_product_page_shows_its_bom_versions_and_where_it_is_used(db, admin):
    from tests.masterdata import factories as mf

    c, web, _token = admin
    ids = mf.products(db, c, "CUP", "STEEL:kg")
    mf.bom(db, c, "CUP", [("STEEL", "0.12")], release=True)
    cup = web.get(f"/products/{ids['CUP']}").text
    assert 'class="list product-boms"' in cup and "V1.0" in cup and "已发布" in cup
    steel = web.get(f"/products/{ids['STEEL']}").text
    used = steel.split('class="list where-used"')[1].split("</table>")[0]
    assert "CUP" in used and "0.12 kg" in used


def test_units_are_global_and_managed_by_company_admins_only(db):
    from tests.masterdata import factories as mf

    c = f.company(db)
    admin_api = f.api_client(db, f.user(db, c))
    r = admin_api.post("/api/v1/uoms", json={"code": "dozen", "name": "打", "ratio": "12", "category_id": "unit"})
    assert r.status_code == 201, r.text
    assert r.json()["category_code"] == "unit"
    dozen = r.json()["id"]
    r = admin_api.post("/api/v1/uoms", json={"code": "bad", "name": "坏", "ratio": "0", "category_id": "unit"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "ratio"
    r = admin_api.post("/api/v1/uoms", json={"code": "nocat", "name": "无类别", "ratio": "1"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "category_id"
    buyer = f.api_client(db, f.user(db, c, roles=("buyer",)))
    assert buyer.get("/api/v1/uoms", params={"category_id": "weight"}).json()["total"] == 3
    assert buyer.patch(f"/api/v1/uoms/{dozen}", json={"ratio": "2"}).status_code == 403
    # a unit counted in a BOM cannot move to another category
    mf.products(db, c, "KIT", "CUP")
    mf.bom(db, c, "KIT", [("CUP", "1", "dozen")])
    r = admin_api.patch(f"/api/v1/uoms/{dozen}", json={"category_id": "weight"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "category_id"
    assert admin_api.get(f"/api/v1/uoms/{dozen}").json()["category_code"] == "unit"


def test_users_see_only_their_companies_and_a_new_company_is_ready_to_use(db):
    a, b = f.company(db, "ACME", "甲公司"), f.company(db, "BETA", "乙公司")
    api = f.api_client(db, f.user(db, a))
    assert [x["code"] for x in api.get("/api/v1/companies").json()["items"]] == ["ACME"]
    other = api.get("/api/v1/companies").json()["items"][0]["id"] + (b - a)
    assert api.get(f"/api/v1/companies/{other}").status_code == 404
    assert api.post("/api/v1/companies", json={"code": "BETA", "name": "重复"}).status_code == 409
    r = api.post("/api/v1/companies", json={"code": "GAMMA", "name": "丙公司"})
    assert r.status_code == 201, r.text
    gamma = r.json()["id"]
    # the creator may switch to it, and it has its warehouse and virtual locations
    api.headers["X-Company-Id"] = str(gamma)
    codes = {loc["full_code"] for loc in api.get("/api/v1/locations", params={"limit": 100}).json()["items"]}
    assert {"WH", "WH/STOCK", "SUPPLIER", "CUSTOMER", "PRODUCTION", "SCRAP"} <= codes
    assert [x["code"] for x in api.get("/api/v1/warehouses").json()["items"]] == ["WH"]


def test_parent_chains_cannot_loop(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c))
    top = api.post("/api/v1/departments", json={"code": "HQ", "name": "总部"}).json()["id"]
    mid = api.post("/api/v1/departments", json={"code": "OPS", "name": "运营", "parent_id": "HQ"}).json()["id"]
    r = api.patch(f"/api/v1/departments/{top}", json={"parent_id": mid})
    assert r.status_code == 422 and r.json()["error"]["field"] == "parent_id"
    assert api.get(f"/api/v1/departments/{top}").json()["parent_id"] is None
    boss = api.post("/api/v1/employees", json={"code": "E1", "name": "王总"}).json()["id"]
    api.post("/api/v1/employees", json={"code": "E2", "name": "李经理", "manager_id": "E1"})
    r = api.patch(f"/api/v1/employees/{boss}", json={"manager_id": "E2"})
    assert r.status_code == 422 and "循环" in r.json()["error"]["message"]
    cat = api.post("/api/v1/product-categories", json={"code": "A", "name": "甲"}).json()["id"]
    api.post("/api/v1/product-categories", json={"code": "B", "name": "乙", "parent_id": "A"})
    assert api.patch(f"/api/v1/product-categories/{cat}", json={"parent_id": "B"}).status_code == 422
