"""SRM over HTTP: a PO to a suspended supplier refused by the ERP API, onboarding four-eyes through the API,
supplier pages in Chinese and English, permissions, bank masking on the page and CSV/XLSX export."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from opensupply.srm import suppliers
from tests import factories as f
from tests.srm.factories import registered, shop


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_erp_api_refuses_a_po_to_a_suspended_supplier(db):
    s = shop(db)
    sup = registered(s, "steel")
    api = f.api_client(db, "buyer1")
    r = api.post(f"/api/v1/srm/suppliers/{sup}/status", json={"status": "suspended", "reason": "质量整改"})
    assert r.status_code == 200, r.text
    r = api.post("/api/v1/erp/purchase-orders", json={"supplier": "S-GANG", "lines": [
        {"product": "RM-STEEL", "quantity": "5", "unit_price": "50"}]})
    assert r.status_code == 409
    assert r.json()["error"] == {"code": "supplier_blocked", "field": "supplier",
                                 "message": "供应商 宁波钢材贸易有限公司 已暂停合作（质量整改），不能下采购订单"}


def test_onboarding_through_the_api_needs_another_person(db):
    shop(db)
    b1, b2 = f.api_client(db, "buyer1"), f.api_client(db, "buyer2")
    r = b1.post("/api/v1/srm/suppliers", json={"partner": "S-SUXIAO", "categories": ["塑料"], "grade": "B"})
    assert r.status_code == 201, r.text
    sup = r.json()
    assert sup["status"] == "potential" and sup["categories"] == ["塑料"]
    ob = b1.post(f"/api/v1/srm/suppliers/{sup['id']}/onboarding", json={"note": "样品合格"}).json()
    r = b1.post(f"/api/v1/srm/onboarding/{ob['id']}/approve", json={})
    assert r.status_code == 403 and r.json()["error"]["message"] == "准入申请须由申请人以外的人审批"
    assert b2.post(f"/api/v1/srm/onboarding/{ob['id']}/approve", json={"note": "同意"}).status_code == 200
    assert b1.get(f"/api/v1/srm/suppliers/{sup['id']}").json()["status"] == "qualified"
    listed = b1.get("/api/v1/srm/suppliers?status=qualified").json()
    assert listed["total"] == 1 and listed["items"][0]["partner_code"] == "S-SUXIAO"
    viewer = f.api_client(db, "viewer")
    assert viewer.post("/api/v1/srm/suppliers", json={"partner": "S-GANG"}).status_code == 403
    assert viewer.post(f"/api/v1/srm/suppliers/{sup['id']}/status",
                       json={"status": "suspended", "reason": "x"}).status_code == 403


def test_supplier_pages_chinese_english_masking_and_export(db):
    s = shop(db)
    sup = registered(s, "steel", categories=("钢材", "板材"))
    registered(s, "plastic", qualified=False, categories=("塑料",))
    with s.uow() as uow:
        suppliers.add_bank_account(uow, sup, {"account_name": "宁波钢材", "bank_name": "工商银行",
                                              "account_number": "6222021234567890"})
    web = f.web_client(db, "buyer1")
    page = web.get("/srm/suppliers")
    assert page.status_code == 200 and "供应商档案" in page.text and "宁波钢材贸易有限公司" in page.text
    filtered = web.get("/srm/suppliers?status=potential").text
    assert "苏州塑料制品厂" in filtered and "宁波钢材贸易有限公司" not in filtered
    assert "宁波钢材贸易有限公司" in web.get("/srm/suppliers?category=板材").text
    detail = web.get(f"/srm/suppliers/{sup}")
    assert detail.status_code == 200 and "6222021234567890" in detail.text
    for tab in ("history", "certificates", "contracts", "complaints"):
        assert web.get(f"/srm/suppliers/{sup}?tab={tab}").status_code == 200
    assert "准入审批通过" in web.get(f"/srm/suppliers/{sup}?tab=history").text

    csv = web.get("/srm/suppliers/export?format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("编码,名称,状态") and "钢材、板材" in text
    xlsx = web.get("/srm/suppliers/export?status=qualified")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in ws[2]][:3] == ["S-GANG", "宁波钢材贸易有限公司", "合格供应商"] and ws.max_row == 2

    viewer = f.web_client(db, "viewer")
    shown = viewer.get(f"/srm/suppliers/{sup}").text
    assert "6222 **** 7890" in shown and "6222021234567890" not in shown
    assert viewer.get("/srm/suppliers/new").status_code == 403

    web.post("/settings/locale", data={"locale": "en", "next": "/srm/suppliers", "csrf_token": f.csrf(web)})
    en = web.get("/srm/suppliers").text
    assert "Supplier profiles" in en and "Qualified" in en
    assert "Status history" in web.get(f"/srm/suppliers/{sup}").text


def test_register_and_change_status_through_the_pages(db):
    s = shop(db)
    web = f.web_client(db, "buyer1")
    token = _token(web.get("/srm/suppliers/new").text)
    bad = web.post("/srm/suppliers/new", data={"csrf_token": token, "partner": "C-KEHU"})
    assert bad.status_code == 422 and "不是供应商" in bad.text
    r = web.post("/srm/suppliers/new", data={"csrf_token": token, "partner": "S-GANG", "categories": "钢材"})
    assert r.status_code == 303
    url = r.headers["location"]
    r = web.post(url + "/onboarding", data={"csrf_token": token, "note": "资料齐全"})
    assert r.status_code == 303
    web2 = f.web_client(db, "buyer2")
    onboarding = web2.get("/srm/onboarding").text
    ob_id = re.search(r'/srm/onboarding/(\d+)/approve', onboarding).group(1)
    r = web2.post(f"/srm/onboarding/{ob_id}/approve", data={"csrf_token": _token(onboarding), "note": "同意"})
    assert r.status_code == 303
    r = web.post(url + "/status", data={"csrf_token": token, "status": "suspended", "reason": "交期严重延误"})
    assert r.status_code == 303
    with s.uow(readonly=True) as uow:
        assert suppliers.status_of(uow, s.partners["steel"]) == "suspended"


def test_expiring_page_and_reminder_button(db):
    s = shop(db)
    sup = registered(s, "steel")
    with s.uow() as uow:
        import datetime as dt

        from opensupply.core.sequences import company_today

        soon = company_today(uow) + dt.timedelta(days=10)
        suppliers.add_certificate(uow, sup, {"cert_type": "iso9001", "number": "ISO-77", "expiry_date": soon})
    web = f.web_client(db, "buyer1")
    page = web.get("/srm/certificates/expiring?days=30")
    assert page.status_code == 200 and "ISO-77" in page.text
    assert "ISO-77" not in web.get("/srm/certificates/expiring?days=5").text
    r = web.post("/srm/certificates/remind", data={"csrf_token": _token(page.text), "days": "30"})
    assert r.status_code == 303
    assert "还剩 10 天" in web.get("/srm/certificates/expiring").text
