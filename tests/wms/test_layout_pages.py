"""The layout page (generate bins from a spec: preview, then create; the heat map) and the bin
pages (filter, paginate, export, edit)."""

import io
import re

from openpyxl import load_workbook

from tests import factories as f
from tests.wms.factories import warehouse_with_layout


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_warehouse_manager_generates_a_layout_from_the_page(db):
    company = f.company(db)
    web = f.web_client(db, f.user(db, company, roles=("warehouse",)))
    page = web.get("/wms/layout")
    assert page.status_code == 200 and "还没有库位布局" in page.text and "按参数生成库位" in page.text
    token = _csrf(page.text)
    wh = re.search(r'name="warehouse_id">\s*<option value="(\d+)"', page.text) or re.search(
        r'<option value="(\d+)" selected', page.text)
    form = {"csrf_token": token, "warehouse_id": wh.group(1), "zone": "B", "aisles": "4", "bins_per_side": "6",
            "blocks": "2", "levels": "1", "bin_width_m": "1", "aisle_spacing_m": "3", "cross_aisle_m": "2",
            "depot": "", "bin_type": "pick", "capacity_units": "", "action": "preview"}
    r = web.post("/wms/layout", data=form)
    assert r.status_code == 200 and "共 48 个库位，新建 48 个" in r.text and "B-01-01" in r.text
    assert "生成库位</button>" in r.text
    r = web.post("/wms/layout", data={**form, "aisles": "0"})
    assert r.status_code == 422 and 'value="B"' in r.text
    r = web.post("/wms/layout", data={**form, "action": "create"})
    assert r.status_code == 303 and "zone=B" in r.headers["location"]
    page = web.get(r.headers["location"])
    assert 'id="layout-chart"' in page.text and '"code": "B-04-12"' in page.text
    assert web.post("/wms/layout", data={**form, "csrf_token": "forged"}).status_code in (400, 403)


def test_bins_list_filters_paginates_exports_and_edits(db):
    company = f.company(db)
    setup = warehouse_with_layout(db, company, aisles=6, bins_per_side=5)
    web = f.web_client(db, f.user(db, company, roles=("warehouse",)))
    page = web.get("/wms/bins")
    assert page.status_code == 200 and "共 64 条" in page.text and 'rel="next"' in page.text
    assert "共 10 条" in web.get("/wms/bins", params={"aisle": "3"}).text
    assert "共 1 条" in web.get("/wms/bins", params={"q": "A-03-07"}).text
    assert "共 1 条" in web.get("/wms/bins", params={"bin_type": "pack"}).text
    xlsx = web.get("/wms/bins/export", params={"zone": "A", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 61 and rows[1][0] == "A-01-01"

    bin_id = setup.bins["A-03-07"].id
    form = web.get(f"/wms/bins/{bin_id}")
    assert form.status_code == 200 and "空库位" in form.text
    token = _csrf(form.text)
    data = {"csrf_token": token, "bin_type": "reserve", "capacity_units": "12", "capacity_volume_m3": "",
            "capacity_weight_kg": "", "fixed_product_sku": "NOPE", "min_qty": "", "max_qty": "", "abc_class": "A"}
    r = web.post(f"/wms/bins/{bin_id}", data=data)
    assert r.status_code == 422 and "商品不存在" in r.text
    r = web.post(f"/wms/bins/{bin_id}", data={**data, "fixed_product_sku": "", "blocked": "1"})
    assert r.status_code == 303
    assert "共 1 条" in web.get("/wms/bins", params={"blocked": "1"}).text
    assert "共 1 条" in web.get("/wms/bins", params={"bin_type": "reserve"}).text
    r = web.post("/wms/bins/new", data={"csrf_token": token, "code": "bulk-9", "bin_type": "bulk",
                                        "capacity_units": "500"})
    assert r.status_code == 303 and "/wms/bins/" in r.headers["location"]
    assert "共 1 条" in web.get("/wms/bins", params={"bin_type": "bulk"}).text
    again = web.post("/wms/bins/new", data={"csrf_token": token, "code": "BULK-9", "bin_type": "bulk"})
    assert again.status_code == 303 and again.headers["location"] == "/wms/bins"
