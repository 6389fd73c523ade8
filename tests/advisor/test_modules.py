"""Switching modules: a switched-off module's API answers 404 and its menu is gone, its data is kept and
shows unchanged when it is back; dependencies are enforced; "apply the advice" switches on exactly the
recommended set; the questionnaire page and its PDF."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from opensupply.core.uow import UnitOfWork
from tests import factories as f
from tests.mes import factories as fm


def _token(web) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', web.get("/").text).group(1)


def test_switched_off_module_disappears_and_comes_back_with_its_data(db):
    p = fm.plant(db)
    fm.make(p, "YS-TOP-120", "2", "TOP-SW")
    admin = f.user(db, p.company, roles=("admin",))
    api, web = f.api_client(db, admin), f.web_client(db, admin)
    before = api.get("/api/v1/mes/work-orders").json()
    assert before["total"] == 1 and "/mes/work-orders" in web.get("/").text

    r = api.put("/api/v1/admin/modules/plm", json={"enabled": False})  # PLM depends on MES: off first
    assert r.status_code == 200 and r.json()["enabled"] is False
    r = api.put("/api/v1/admin/modules/mes", json={"enabled": False})
    assert r.status_code == 200, r.text
    assert api.get("/api/v1/mes/work-orders").status_code == 404
    assert web.get("/mes/work-orders").status_code == 404
    assert "/mes/work-orders" not in web.get("/").text  # the menu
    assert api.get("/api/v1/products").status_code == 200  # the core is untouched

    refused = api.put("/api/v1/admin/modules/plm", json={"enabled": True})
    assert refused.status_code == 409 and "生产执行" in refused.json()["error"]["message"]
    assert api.put("/api/v1/admin/modules/erp", json={"enabled": False}).status_code == 409
    assert api.put("/api/v1/admin/modules/nope", json={"enabled": False}).status_code == 404

    assert api.put("/api/v1/admin/modules/mes", json={"enabled": True}).status_code == 200
    assert api.get("/api/v1/mes/work-orders").json() == before


def test_switching_is_per_company_and_needs_the_permission(db):
    p = fm.plant(db, stock=False)
    other = f.company(db)
    admin = f.api_client(db, f.user(db, p.company, roles=("admin",)))
    admin.put("/api/v1/admin/modules/tms", json={"enabled": False})
    assert admin.get("/api/v1/tms/shipments").status_code == 404
    elsewhere = f.api_client(db, f.user(db, other, roles=("admin",)))
    assert elsewhere.get("/api/v1/tms/shipments").status_code == 200
    clerk = f.api_client(db, f.user(db, p.company, roles=("warehouse",)))
    assert clerk.put("/api/v1/admin/modules/tms", json={"enabled": True}).status_code == 403


def test_apply_the_advice_switches_on_exactly_the_recommended_set(db):
    p = fm.plant(db, stock=False)
    api = f.api_client(db, f.user(db, p.company, roles=("admin",)))
    answers = {"headcount": 12, "industry": "retail", "channels": ["taobao"], "pain_points": ["order_aggregation"]}
    rec = api.post("/api/v1/advisor/recommend", json=answers).json()
    assert rec["modules"] == ["erp", "crm", "oms"]
    done = api.post("/api/v1/advisor/apply", json=answers).json()
    # every other business module (wms … plm, and those that arrive later: srm, scm) is switched off
    assert done["on"] == ["crm", "oms"] and {"wms", "tms", "mes", "plm"} <= set(done["off"])
    assert not set(done["off"]) & {"erp", "crm", "oms"}
    states = {m["name"]: m["enabled"] for m in api.get("/api/v1/admin/modules").json()["items"]}
    assert {k for k, on in states.items() if on} == {"crm", "oms"} and set(done["off"]) <= set(states)
    assert api.get("/api/v1/wms/waves").status_code == 404 and api.get("/api/v1/oms/orders").status_code == 200
    bad = api.post("/api/v1/advisor/recommend", json={"headcount": 5, "industry": "retail", "color": "red"})
    assert bad.status_code == 422 and "color" in bad.json()["error"]["message"]


def test_questionnaire_page_roadmap_pdf_and_evidence(db):
    p = fm.plant(db)
    web = f.web_client(db, f.user(db, p.company, roles=("admin",)))
    assert "先上哪个系统" in web.get("/advisor").text
    token = _token(web)
    r = web.post("/advisor", data={"csrf_token": token, "headcount": "200", "industry": "manufacturing",
                                   "own_production": "1", "channels": ["taobao", "jd"], "daily_orders": "300",
                                   "pain_points": ["bom_versions"]})
    assert r.status_code == 200
    assert 'data-stage="3"' in r.text and 'data-module="mes"' in r.text and 'data-module="plm"' in r.text
    answers = re.search(r'name="answers" value="([^"]+)"', r.text).group(1)
    import html

    pdf = web.post("/advisor/report.pdf", data={"csrf_token": token, "answers": html.unescape(answers)})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "信息化路线图" in text and "稳定期" in text
    bad = web.post("/advisor", data={"csrf_token": token, "headcount": "lots", "industry": "retail"})
    assert bad.status_code == 422 and "headcount" in bad.text
    with UnitOfWork(f.actor(db, p.company, f.user(db, p.company, roles=("admin",))), db=db, readonly=True) as uow:
        from opensupply.advisor import evidence

        found = evidence.findings(uow)
    assert found["figures"]["skus"] == 6 and found["figures"]["orders"] == 0
