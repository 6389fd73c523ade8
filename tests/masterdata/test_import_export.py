"""Bulk import and export of products and partners, as an office clerk does it with the
spreadsheets Chinese software produces: UTF-8 (with or without BOM), GBK, Excel."""

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from opensupply.core.config import get_settings
from tests import factories as f

PRODUCTS_CSV = (
    "商家编码,名称,单位,成本价,售价,条码\n"
    "YS-CUP-350,不锈钢保温杯 350ml,pcs,32.5,79,6901234567012\n"
    "YS-CUP-500,不锈钢保温杯 500ml,pcs,38,99,6901234567029\n"
    "RM-SS304,304 不锈钢板,kg,16.8,0,\n"
)
PARTNERS_CSV = (
    "编码,名称,客户,供应商,承运商,电话,省,市,区县,详细地址\n"
    "C-HZJY,杭州佳源商贸有限公司,是,否,否,0571-88886666,浙江省,杭州市,上城区,解放路 58 号\n"
    "S-YKSS,永康市宏达不锈钢制品厂,否,是,否,+86 579 8711 2233,浙江省,金华市,永康市,五金城 18 号\n"
)


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rows_of(text: str):
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def api(db):
    c = f.company(db)
    return f.api_client(db, f.user(db, c))


def _import(api, resource, data: bytes, name="data.csv", **params):
    return api.post(f"/api/v1/{resource}/import", params=params, files={"file": (name, data, "text/csv")})


def _skus(api):
    return sorted(p["sku"] for p in api.get("/api/v1/products", params={"limit": 1000}).json()["items"])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_import_products_csv_in_every_encoding(api, encoding):
    r = _import(api, "products", PRODUCTS_CSV.encode(encoding))
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (3, 0, 0)
    cup = api.get("/api/v1/products", params={"q": "YS-CUP-350"}).json()["items"][0]
    assert cup["name"] == "不锈钢保温杯 350ml"  # Chinese text intact whatever the encoding
    assert (cup["cost"], cup["list_price"], cup["uom_code"], cup["barcode"]) == ("32.5", "79", "pcs", "6901234567012")


def test_import_products_xlsx(api):
    data = _xlsx([r for r in _rows_of(PRODUCTS_CSV)])
    r = _import(api, "products", data, name="商品.xlsx")
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3
    assert _skus(api) == ["RM-SS304", "YS-CUP-350", "YS-CUP-500"]


def test_xlsx_with_numeric_cells(api):
    data = _xlsx([["商家编码", "名称", "单位", "成本价"], ["N-1", "数字单元格", "pcs", 12.75],
                  [1001, "编码是数字", "pcs", 3]])
    r = _import(api, "products", data, name="n.xlsx")
    assert r.status_code == 200, r.text
    assert _skus(api) == ["1001", "N-1"]
    assert api.get("/api/v1/products", params={"q": "N-1"}).json()["items"][0]["cost"] == "12.75"


def test_english_and_field_name_headers_are_accepted(api):
    data = b"sku,name,uom_id,cost\nEN-1,English header,pcs,1.5\n"
    assert _import(api, "products", data).json()["created"] == 1


def test_one_bad_row_rejects_the_whole_file_with_line_numbers(api):
    data = (
        "商家编码,名称,单位,成本价\n"       # line 1
        "OK-1,好的商品,pcs,10\n"            # line 2
        "BAD-UOM,未知单位,盒子,10\n"         # line 3
        "BAD-COST,成本不是数字,pcs,十元\n"   # line 4
        "OK-1,重复编码,pcs,12\n"            # line 5
        "OK-2,也是好的,pcs,8\n"             # line 6
    ).encode()
    r = _import(api, "products", data)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "import_rejected"
    rows = {row["line"]: row for row in err["rows"]}
    assert sorted(rows) == [3, 4, 5]
    assert rows[3]["field"] == "uom_id" and "盒子" in rows[3]["reason"]
    assert rows[4]["field"] == "cost" and "十元" in rows[4]["reason"]
    assert rows[5]["field"] == "sku" and "第 2 行" in rows[5]["reason"]
    assert "3" in err["message"]
    assert _skus(api) == []  # nothing from that file


def test_dry_run_reports_without_writing(api):
    r = _import(api, "products", PRODUCTS_CSV.encode(), dry_run="true")
    assert r.status_code == 200
    assert r.json()["created"] == 3
    assert [p["action"] for p in r.json()["preview"]] == ["create"] * 3
    assert _skus(api) == []


def test_replaying_a_good_file_changes_nothing(api):
    assert _import(api, "products", PRODUCTS_CSV.encode()).json()["created"] == 3
    r = _import(api, "products", PRODUCTS_CSV.encode("gbk"))
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 3)
    changed = PRODUCTS_CSV.replace("32.5,79", "33,79")
    r = _import(api, "products", changed.encode())
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 1, 2)
    assert api.get("/api/v1/products", params={"q": "YS-CUP-350"}).json()["items"][0]["cost"] == "33"


def test_partners_import_and_replay(api):
    r = _import(api, "partners", PARTNERS_CSV.encode("gbk"))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    s = api.get("/api/v1/partners", params={"q": "S-YKSS"}).json()["items"][0]
    assert (s["is_supplier"], s["is_customer"], s["province"], s["city"]) == (True, False, "浙江省", "金华市")
    assert _import(api, "partners", PARTNERS_CSV.encode()).json()["unchanged"] == 2


def test_partner_rows_without_role_or_with_bad_phone_are_rejected(api):
    data = PARTNERS_CSV + "X-NOROLE,没有角色,否,否,否,0571-1234567,浙江省,杭州市,,\n" \
                          "X-PHONE,电话不对,是,否,否,电话号码,浙江省,杭州市,,\n"
    r = _import(api, "partners", data.encode())
    assert r.status_code == 422
    rows = {row["line"]: row for row in r.json()["error"]["rows"]}
    assert sorted(rows) == [4, 5]
    assert "角色" in rows[4]["reason"] and rows[5]["field"] == "phone"
    assert api.get("/api/v1/partners").json()["total"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_round_trips_through_import(db, api, fmt):
    assert _import(api, "products", PRODUCTS_CSV.encode()).json()["created"] == 3
    assert _import(api, "partners", PARTNERS_CSV.encode()).json()["created"] == 2
    for resource in ("products", "partners"):
        r = api.get(f"/api/v1/{resource}/export", params={"format": fmt})
        assert r.status_code == 200
        data = r.content
        if fmt == "csv":
            assert data.startswith(b"\xef\xbb\xbf")  # BOM so Excel shows the Chinese correctly
        replay = _import(api, resource, data, name=f"{resource}.{fmt}")
        assert replay.status_code == 200, replay.text
        assert (replay.json()["created"], replay.json()["updated"]) == (0, 0)
        assert replay.json()["unchanged"] == (3 if resource == "products" else 2)
    # and into a fresh company, the same records appear
    other = f.company(db)
    api2 = f.api_client(db, f.user(db, other))
    exported = api.get("/api/v1/products/export", params={"format": fmt}).content
    assert _import(api2, "products", exported, name=f"p.{fmt}").json()["created"] == 3
    a = {p["sku"]: (p["name"], p["cost"], p["uom_code"]) for p in api.get("/api/v1/products").json()["items"]}
    b = {p["sku"]: (p["name"], p["cost"], p["uom_code"]) for p in api2.get("/api/v1/products").json()["items"]}
    assert a == b


def test_formula_cells_are_neutralised_in_exports_and_survive_a_round_trip(api):
    data = "商家编码,名称,单位\nF-1,=HYPERLINK(\"http://evil\"),pcs\nF-2,@SUM(A1),pcs\nF-3,+86 电话,pcs\n"
    assert _import(api, "products", data.encode()).json()["created"] == 3
    text = api.get("/api/v1/products/export", params={"format": "csv"}).content.decode("utf-8-sig")
    names = {row[0]: row[1] for row in _rows_of(text)[1:]}
    assert names["F-1"] == "'=HYPERLINK(\"http://evil\")"
    assert names["F-2"] == "'@SUM(A1)"
    assert names["F-3"] == "'+86 电话"
    wb = load_workbook(io.BytesIO(api.get("/api/v1/products/export", params={"format": "xlsx"}).content))
    cells = [row[1] for row in wb.active.iter_rows(min_row=2, values_only=True)]
    assert all(not str(v).startswith(("=", "@", "+")) for v in cells)
    # re-importing the export gives back the original text, not the apostrophe
    replay = _import(api, "products", text.encode("utf-8"))
    assert replay.json()["unchanged"] == 3
    item = api.get("/api/v1/products", params={"q": "F-1"}).json()["items"][0]
    assert item["name"] == "=HYPERLINK(\"http://evil\")"


def test_upload_over_the_size_limit_is_refused(api, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    big = PRODUCTS_CSV.encode() + b"X" * (1024 * 1024 + 10)
    r = _import(api, "products", big)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "file" and "1 MB" in r.json()["error"]["message"]
    assert _skus(api) == []


@pytest.mark.parametrize("name, data", [("商品.exe", b"MZ\x90\x00"), ("商品.pdf", b"%PDF-1.4"),
                                        ("fake.xlsx", b"PK\x03\x04 not really a workbook")])
def test_wrong_file_types_are_refused(api, name, data):
    r = _import(api, "products", data, name=name)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "file"


def test_missing_key_column_and_empty_file(api):
    r = _import(api, "products", "名称,单位\n无编码,pcs\n".encode())
    assert r.status_code == 422 and "商家编码" in r.json()["error"]["message"]
    assert _import(api, "products", b"").status_code == 422


def test_import_needs_write_permission(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c, roles=("warehouse",)))
    assert _import(api, "products", PRODUCTS_CSV.encode()).status_code == 403


# ------------------------------------------------------------------ pages
def _page_upload(web, token, data, name="p.csv", path="/products/import"):
    return web.post(path, data={"csrf_token": token}, files={"file": (name, data, "text/csv")})


def test_import_page_preview_then_confirm(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    token = f.csrf(web)
    page = web.get("/products/import")
    assert page.status_code == 200 and "商家编码" in page.text
    r = _page_upload(web, token, PRODUCTS_CSV.encode("gbk"))
    assert r.status_code == 200
    assert "预览：新建 3 条，更新 0 条，不变 0 条" in r.text
    upload = __import__("re").search(r'name="token" value="([0-9a-f]+)"', r.text).group(1)
    api = f.api_client(db, f.user(db, c))
    assert _skus(api) == []  # preview writes nothing
    r = web.post("/products/import", data={"csrf_token": token, "token": upload, "confirm": "1"})
    assert r.status_code == 303
    assert _skus(api) == ["RM-SS304", "YS-CUP-350", "YS-CUP-500"]
    assert "导入完成" in web.get("/products", cookies=r.cookies).text
    # the same token cannot be replayed
    r = web.post("/products/import", data={"csrf_token": token, "token": upload})
    assert r.status_code == 422 and "上传已过期" in r.text


def test_import_page_lists_bad_rows(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    data = "商家编码,名称,单位,成本价\nA,好,pcs,1\nB,坏,pcs,abc\n".encode("utf-8-sig")
    r = _page_upload(web, f.csrf(web), data)
    assert r.status_code == 422
    assert "导入失败：1 行有错误，未导入任何数据" in r.text
    assert '<td class="num">3</td><td>cost</td>' in r.text
    assert "确认导入" not in r.text


def test_import_page_refuses_wrong_type_and_partners_page_works(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    token = f.csrf(web)
    r = _page_upload(web, token, b"MZ", name="virus.exe")
    assert r.status_code == 422 and "只支持 CSV 或 XLSX 文件" in r.text
    r = _page_upload(web, token, _xlsx(_rows_of(PARTNERS_CSV)), name="p.xlsx", path="/partners/import")
    assert r.status_code == 200 and "新建 2 条" in r.text


def test_rows_without_key_are_each_reported_on_their_own_line(api):
    data = "商家编码,名称,单位\n,无编码一,pcs\n,无编码二,pcs\n".encode()
    rows = _import(api, "products", data).json()["error"]["rows"]
    assert [(r["line"], r["field"]) for r in rows] == [(2, "sku"), (3, "sku")]
    assert all("商家编码" in r["reason"] for r in rows)


def test_locations_import_by_parent_and_round_trip(api):
    data = ("上级库位,编码,名称,类型\n"
            "WH/STOCK,A-01,A 区,internal\n"
            "WH/STOCK/A-01,A-01-01,A 区 1 号位,库内\n").encode("gbk")
    r = _import(api, "locations", data)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    codes = [loc["full_code"] for loc in api.get("/api/v1/locations", params={"q": "A-01"}).json()["items"]]
    assert codes == ["WH/STOCK/A-01", "WH/STOCK/A-01/A-01-01"]
    exported = api.get("/api/v1/locations/export", params={"format": "csv"}).content
    replay = _import(api, "locations", exported)
    assert replay.status_code == 200, replay.text
    assert (replay.json()["created"], replay.json()["updated"]) == (0, 0)
    again = _import(api, "locations", data)  # same rows without full codes: already there
    assert again.status_code == 422
    assert [row["line"] for row in again.json()["error"]["rows"]] == [2, 3]


def test_records_that_cannot_be_imported_say_so(api):
    r = _import(api, "currency-rates", b"currency_code,date,rate\nUSD,2026-01-01,7.1\n")
    assert r.status_code == 422 and r.json()["error"]["field"] == "file"


def test_importer_without_cost_permission_cannot_set_cost(db):
    c = f.company(db)
    f.product(db, c, "YS-CUP-350", name="保温杯", cost="32.5")
    buyer = f.api_client(db, f.user(db, c, roles=("buyer",)))  # may edit products, may not see cost
    r = _import(buyer, "products", PRODUCTS_CSV.replace("32.5,79", "1,79").encode())
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (2, 1)  # list price/barcode changed, not the cost
    admin = f.api_client(db, f.user(db, c))
    assert admin.get("/api/v1/products", params={"q": "YS-CUP-350"}).json()["items"][0]["cost"] == "32.5"
    assert admin.get("/api/v1/products", params={"q": "YS-CUP-500"}).json()["items"][0]["cost"] == "0"
    web = f.web_client(db, f.user(db, c, roles=("buyer",)))
    template = web.get("/products/import/template").content.decode("utf-8-sig")
    assert "商家编码" in template and "成本价" not in template
