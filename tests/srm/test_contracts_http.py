"""Contracts over HTTP: create with price breaks, activate (srm.approve), agreed price, price warning of an ERP
order made through the ERP API, comparison page, list pages in Chinese and English, export."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from tests import factories as f
from tests.srm.factories import registered, shop


def test_contract_api_and_price_warning_on_an_erp_order(db):
    s = shop(db)
    registered(s, "steel")
    api = f.api_client(db, "buyer1")
    r = api.post("/api/v1/srm/contracts", json={
        "partner": "S-GANG", "title": "年度协议", "valid_from": "2026-01-01", "valid_to": "2027-12-31",
        "prices": [{"product": "RM-STEEL", "min_quantity": 0, "unit_price": "50"},
                   {"product": "RM-STEEL", "min_quantity": 100, "unit_price": "46"}]})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    viewer = f.api_client(db, "viewer")
    assert viewer.post(f"/api/v1/srm/contracts/{cid}/activate").status_code == 403
    assert api.post(f"/api/v1/srm/contracts/{cid}/activate").json()["state"] == "active"
    agreed = api.get("/api/v1/srm/contracts/agreed-price?partner=S-GANG&product=RM-STEEL&quantity=150").json()
    assert Decimal(agreed["unit_price"]) == 46 and agreed["contract"] == r.json()["number"]
    po = api.post("/api/v1/erp/purchase-orders", json={"supplier": "S-GANG", "lines": [
        {"product": "RM-STEEL", "quantity": "150", "unit_price": "48"}]})
    assert po.status_code == 201, po.text
    warnings = api.get(f"/api/v1/srm/price-warnings?order_id={po.json()['id']}").json()
    assert warnings["total"] == 1 and warnings["items"][0]["sku"] == "RM-STEEL"
    assert warnings["items"][0]["message"].endswith("的协议价 46.00")
    bad = api.post("/api/v1/srm/contracts", json={"partner": "S-GANG", "title": "x", "valid_from": "2026-01-01",
                                                    "valid_to": "2026-12-31", "prices": []})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "prices"


def test_contract_pages_comparison_and_export(db):
    s = shop(db)
    registered(s, "steel")
    web = f.web_client(db, "buyer1")
    form = web.get("/srm/contracts/new?partner=S-GANG").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = {"csrf_token": token, "partner": "S-GANG", "title": "钢板协议", "currency_code": "CNY",
            "valid_from": "2026-01-01", "valid_to": "2027-12-31", "payment_terms_days": "60",
            "product_0": "RM-STEEL", "min_quantity_0": "0", "unit_price_0": "50",
            "product_1": "RM-STEEL", "min_quantity_1": "100", "unit_price_1": "46"}
    bad = web.post("/srm/contracts/new", data=dict(data, unit_price_1="-1"))
    assert bad.status_code == 422 and "协议单价" in bad.text
    r = web.post("/srm/contracts/new", data=data)
    assert r.status_code == 303
    url = r.headers["location"]
    assert web.post(url + "/activate", data={"csrf_token": token}).status_code == 303
    detail = web.get(url).text
    assert "钢板协议" in detail and "生效" in detail
    page = web.get("/srm/contracts")
    assert page.status_code == 200 and "钢板协议" in page.text
    ws = load_workbook(io.BytesIO(web.get("/srm/contracts/export").content)).active
    assert ws.max_row == 3 and ws["I2"].value == "RM-STEEL"
    assert web.get("/srm/contracts/export?format=csv").content.decode("utf-8-sig").startswith("合同号,供应商")
    cmp = web.get("/srm/price-comparison?product=RM-STEEL")
    assert cmp.status_code == 200 and "宁波钢材贸易有限公司" in cmp.text
    assert web.get("/srm/price-comparison?product=NOPE").status_code == 422
    assert web.get("/srm/price-warnings").status_code == 200
    web.post("/settings/locale", data={"locale": "en", "next": "/srm/contracts", "csrf_token": f.csrf(web)})
    en = web.get("/srm/contracts").text
    assert "Contracts &amp; price agreements" in en and "New contract" in en
    assert "Price breaks" in web.get(url).text
