"""PLM pages as people use them: raise an ECO on the form, edit the new version's lines, read the side-by-side
diff, approve per department, release, print; the list with filters and export; documents from the ECO page."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from opensupply.masterdata import boms
from opensupply.mes import work_orders as wos
from opensupply.plm import eco
from tests import factories as f

from . import factories as pf


def _ok(r) -> None:
    assert r.status_code == 303, r.text
    assert "error" not in r.headers.get("set-cookie", ""), r.headers.get("set-cookie")


def test_eco_journey_on_the_pages(db):
    w = pf.world(db)
    f.product(db, w.company, "RM-CAM", name="偏心件连接件", cost="0.5")
    with w.uow() as uow:
        old_wo = wos.create_work_order(uow, product="YS-DESK-120", quantity="3").number
    web = w.web("engineer")
    token = f.csrf(web)
    html = web.get("/plm/ecos/new", params={"product": "YS-DESK-120"}).text
    assert "V1.0" in html and "需要审批的部门" in html
    r = web.post("/plm/ecos/new", data={"product": "YS-DESK-120", "title": "改偏心件", "reason": "客诉螺丝松动",
                                        "departments": ["rd", "purchasing"], "csrf_token": token})
    _ok(r)
    m = re.match(r"/plm/ecos/(\d+)/lines", r.headers["location"])
    eco_id = int(m.group(1))
    html = web.get(r.headers["location"]).text
    assert "RM-SCREW-M6" in html and "V1.1" in html
    lines = {"component": ["YS-TOP-120", "RM-LEG-72", "RM-CAM", ""], "line_quantity": ["1", "4", "-8", ""],
             "line_uom": ["", "", "", ""], "line_scrap_pct": ["", "2", "", ""], "line_byproduct": ["0", "0", "0", "0"],
             "quantity": "1", "csrf_token": token}
    r = web.post(f"/plm/ecos/{eco_id}/lines", data=lines)
    assert r.status_code == 422 and "第 3 行：数量必须大于 0" in r.text and 'aria-invalid="true"' in r.text
    lines["line_quantity"][2] = "8"
    _ok(web.post(f"/plm/ecos/{eco_id}/lines", data=lines))
    html = web.get(f"/plm/ecos/{eco_id}").text
    assert re.search(r'<tr class="diff-added" data-sku="RM-CAM"', html)
    assert re.search(r'<tr class="diff-removed" data-sku="RM-SCREW-M6"', html)
    assert re.search(r'<tr class="diff-changed" data-sku="RM-LEG-72"', html)
    assert re.search(r'<tr class="diff-unchanged" data-sku="YS-TOP-120"', html)
    assert old_wo in html  # open work order still on V1.0
    _ok(web.post(f"/plm/ecos/{eco_id}/submit", data={"csrf_token": token}))
    # the proposer sees no approval buttons; the buyer sees one for purchasing only
    assert 'name="decision" value="approve"' not in web.get(f"/plm/ecos/{eco_id}").text
    buyer = w.web("buyer")
    html = buyer.get(f"/plm/ecos/{eco_id}").text
    assert html.count('name="decision" value="approve"') == 1
    assert "改偏心件" in buyer.get("/plm/ecos", params={"mine": "1"}).text
    _ok(buyer.post(f"/plm/ecos/{eco_id}/approve", data={"department": "purchasing", "decision": "approve",
                                                        "comment": "价格可接受", "csrf_token": f.csrf(buyer)}))
    r = buyer.post(f"/plm/ecos/{eco_id}/approve", data={"department": "rd", "decision": "approve",
                                                        "csrf_token": f.csrf(buyer)})
    assert r.status_code == 303 and "error" in r.headers["set-cookie"]  # not the buyer's department
    rd = w.web("rd_lead")
    _ok(rd.post(f"/plm/ecos/{eco_id}/approve", data={"department": "rd", "decision": "approve",
                                                     "csrf_token": f.csrf(rd)}))
    _ok(web.post(f"/plm/ecos/{eco_id}/comments", data={"body": f"@{w.users['planner']} 旧工单照旧生产",
                                                       "csrf_token": token}))
    _ok(web.post("/plm/documents", data={"product": str(w.plant.products["desk"]), "eco_id": str(eco_id),
                                         "next": f"/plm/ecos/{eco_id}#documents", "title": "偏心件安装图",
                                         "kind": "drawing", "csrf_token": token},
                 files={"file": ("安装图.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}))
    html = web.get(f"/plm/ecos/{eco_id}").text
    assert "价格可接受" in html and "偏心件安装图" in html and "发布变更" in html
    assert '<span class="mention">@' in html
    _ok(web.post(f"/plm/ecos/{eco_id}/release", data={"csrf_token": token}))
    with w.uow(readonly=True) as uow:
        assert boms.released_bom(uow, w.plant.products["desk"]).version == "V1.1"
        assert eco.get_eco(uow, eco_id).state == "released"
    html = web.get(f"/plm/ecos/{eco_id}").text
    assert 'data-state="released"' in html and old_wo in html
    pdf = web.get(f"/plm/ecos/{eco_id}/pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "工程变更单" in text and "RM-CAM" in text


def test_eco_list_filters_and_export(db):
    w = pf.world(db)
    with w.uow("engineer") as uow:
        first = eco.create_eco(uow, "YS-DESK-120", "螺丝加长", "加固", lines=[
            {"component": "YS-TOP-120", "quantity": "1"}, {"component": "RM-LEG-72", "quantity": "4"},
            {"component": "RM-SCREW-M6", "quantity": "20"}])
        eco.create_eco(uow, "YS-TOP-120", "胶水加量", "开胶", lines=[
            {"component": "RM-OAK-18", "quantity": "2", "scrap_pct": "5"}, {"component": "RM-GLUE", "quantity": "0.2"}])
        eco.submit_eco(uow, first.id)
        number = first.number
    web = w.web("viewer")
    html = web.get("/plm/ecos").text
    assert "螺丝加长" in html and "胶水加量" in html and "新建工程变更" not in html
    html = web.get("/plm/ecos", params={"state": "in_review"}).text
    assert "螺丝加长" in html and "胶水加量" not in html
    html = web.get("/plm/ecos", params={"product": "YS-TOP-120"}).text
    assert "胶水加量" in html and "螺丝加长" not in html
    assert "胶水加量" in web.get("/plm/ecos", params={"q": "开胶"}).text
    x = web.get("/plm/ecos/export", params={"format": "xlsx", "state": "in_review"})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    rows = list(load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "变更单号" and len(rows) == 2 and rows[1][0] == number and rows[1][6] == "审批中"
    c = web.get("/plm/ecos/export", params={"format": "csv"})
    assert c.status_code == 200 and c.content.startswith(b"\xef\xbb\xbf")
    assert "胶水加量" in c.content.decode("utf-8-sig")
    # readers may not raise ECOs; forms need the CSRF token
    assert web.get("/plm/ecos/new").status_code == 403
    eng = w.web("engineer")
    assert eng.post(f"/plm/ecos/{first.id}/cancel", data={"reason": "x"}).status_code == 403
    assert w.web("buyer").get("/plm/documents").status_code == 200
    assert web.get("/plm/ecos/999999").status_code == 404
    # the menu shows PLM
    assert "/plm/ecos" in web.get("/").text


def test_plm_pages_speak_english(db):
    w = pf.world(db)
    with w.uow("engineer") as uow:
        eco_id = eco.create_eco(uow, "YS-DESK-120", "螺丝加长", "加固", lines=[
            {"component": "YS-TOP-120", "quantity": "1"}, {"component": "RM-LEG-72", "quantity": "4"},
            {"component": "RM-SCREW-M6", "quantity": "20"}]).id
    web = w.web("engineer")
    web.post("/settings/locale", data={"locale": "en", "next": "/plm/ecos", "csrf_token": f.csrf(web)})
    html = web.get(f"/plm/ecos/{eco_id}").text
    assert "Version comparison" in html and "Department approvals" in html and "Changed" in html
    assert "Purchasing" in html and "Draft" in html
    assert "End-of-life" in web.get("/plm/lifecycle").text
    assert "Product documents" in web.get("/plm/documents").text
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/release", json={})
    assert r.status_code == 409 and "you cannot release it" in r.json()["error"]["message"]


def test_a_draft_eco_is_edited_on_its_page(db):
    w = pf.world(db)
    with w.uow("engineer") as uow:
        eco_id = eco.create_eco(uow, "YS-DESK-120", "螺丝加长", "加固").id
    web = w.web("engineer")
    token = f.csrf(web)
    assert "修改标题、原因和审批部门" in web.get(f"/plm/ecos/{eco_id}").text
    _ok(web.post(f"/plm/ecos/{eco_id}/edit", data={"title": "螺丝改 M8", "reason": "强度不足",
                                                   "departments": ["rd", "production"], "csrf_token": token}))
    r = web.post(f"/plm/ecos/{eco_id}/edit", data={"title": "x", "reason": "y", "csrf_token": token})
    assert r.status_code == 303 and "error" in r.headers["set-cookie"]  # at least one department
    with w.uow(readonly=True) as uow:
        e = eco.get_eco(uow, eco_id)
        assert (e.title, e.departments, [a.department for a in e.approvals]) == (
            "螺丝改 M8", ["rd", "production"], ["rd", "production"])
