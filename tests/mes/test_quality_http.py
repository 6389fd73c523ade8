"""Quality through HTTP: checklists with items as a list or one per line, recording an inspection (201),
the list with filters and export, dispositions, bad input (4xx with nothing written), permissions (the
warehouse reads but cannot record), and the pages a quality inspector uses."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from opensupply.mes import routings
from opensupply.mes import work_orders as wos
from opensupply.mes.models import QualityCheck, QualityChecklist
from tests import factories as f
from tests.mes import factories as fm


def _plant_with_final_check(db) -> tuple[fm.Plant, int]:
    p = fm.plant(db)
    f.user(db, p.company, "qc1", roles=("production",))
    f.user(db, p.company, "wh1", roles=("warehouse",))
    api = f.api_client(db, "qc1")
    r = api.post("/api/v1/mes/checklists", json={"code": "QC-TOP", "name": "桌面板完工检验", "items": [
        {"name": "长度", "kind": "measure", "min": 99.5, "max": 100.5, "unit": "mm"},
        {"name": "外观", "kind": "check"}]})
    assert r.status_code == 201, r.text
    assert r.json()["items"][0] == {"name": "长度", "kind": "measure", "min": 99.5, "max": 100.5, "unit": "mm"}
    with p.uow() as uow:
        routing = routings.routing_for(uow, p.products["top"], None)
        routings.update_routing(uow, routing.id, {"final_checklist": "QC-TOP"})
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity="10", lot_name="TOP-2612-09")
        wos.release_work_order(uow, wo.id)
        wos.complete_work_order(uow, wo.id, "10")
        return p, wo.id


def _count(p: fm.Plant, model) -> int:
    with p.uow(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_checklists_api_takes_items_as_a_list_or_text_and_rejects_bad_limits(db):
    p = fm.plant(db, stock=False)
    f.user(db, p.company, "qc1", roles=("production",))
    f.user(db, p.company, "wh1", roles=("warehouse",))
    api = f.api_client(db, "qc1")
    r = api.post("/api/v1/mes/checklists", json={"code": "QC-LEG", "name": "桌腿来料",
                                                 "items": "长度 | measure | 719 | 721 | mm\n节疤 | check"})
    assert r.status_code == 201 and [i["kind"] for i in r.json()["items"]] == ["measure", "check"]
    bad = api.post("/api/v1/mes/checklists", json={"code": "QC-BAD", "name": "x", "items": [
        {"name": "长度", "kind": "measure", "min": 3, "max": 1}]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "items"
    assert "下限" in bad.json()["error"]["message"]
    assert _count(p, QualityChecklist) == 1
    lid = r.json()["id"]
    r = api.patch(f"/api/v1/mes/checklists/{lid}", json={"items": [{"name": "节疤", "kind": "check"}]})
    assert r.status_code == 200 and r.json()["items"] == [{"name": "节疤", "kind": "check"}]
    listing = api.get("/api/v1/mes/checklists?q=桌腿").json()
    assert listing["total"] == 1 and listing["items"][0]["code"] == "QC-LEG"
    export = api.get("/api/v1/mes/checklists/export?format=csv")
    assert export.status_code == 200 and "节疤 | check" in export.content.decode("utf-8-sig")
    wh = f.api_client(db, "wh1")
    assert wh.get("/api/v1/mes/checklists").status_code == 200
    assert wh.post("/api/v1/mes/checklists", json={"code": "X", "name": "x", "items": "外观"}).status_code == 403


def test_record_list_and_dispose_through_the_api(db):
    p, wo = _plant_with_final_check(db)
    api = f.api_client(db, "qc1")
    form = api.get(f"/api/v1/mes/quality/inspection-form?work_order_id={wo}").json()
    assert [i["limits"] for i in form["items"]] == ["99.5 – 100.5 mm", ""] and form["suggested_qty"] == "10"
    r = api.post("/api/v1/mes/quality-checks", json={"work_order_id": wo, "qty_inspected": "7", "results": [
        {"name": "长度", "value": "100.1"}, {"name": "外观", "value": "合格"}]})
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "pass" and r.json()["lot"] == "TOP-2612-09"
    r = api.post("/api/v1/mes/quality-checks", json={"work_order": _wo_number(p, wo), "qty_inspected": "2",
                                                     "results": [{"name": "长度", "value": "98"},
                                                                 {"name": "外观", "value": "ok"}]})
    assert r.status_code == 201 and r.json()["result"] == "fail" and r.json()["needs_disposition"]
    failed = r.json()
    # bad input: 4xx with the error shape, nothing written
    before = _count(p, QualityCheck)
    for body, code, field in [({"work_order_id": wo, "qty_inspected": "1", "results": [{"name": "长度", "value": "x"},
                                                                                      {"name": "外观", "value": "ok"}]},
                               422, "results"),
                              ({"work_order_id": wo, "qty_inspected": "-1"}, 422, "qty_inspected"),
                              ({"work_order_id": 999999, "qty_inspected": "1"}, 404, None),
                              ({"work_order_id": wo, "qty_inspected": "1", "colour": "red"}, 422, "colour")]:
        r = api.post("/api/v1/mes/quality-checks", json=body)
        assert r.status_code == code, r.text
        assert set(r.json()["error"]) == {"code", "message", "field"}
        if field:
            assert r.json()["error"]["field"] == field
    assert _count(p, QualityCheck) == before
    listing = api.get("/api/v1/mes/quality-checks?result=fail").json()
    assert listing["total"] == 1 and listing["items"][0]["number"] == failed["number"]
    assert api.get("/api/v1/mes/quality-checks?q=TOP-2612-09").json()["total"] == 2
    assert api.get("/api/v1/mes/quality-checks?open=true").json()["total"] == 1
    assert api.get("/api/v1/mes/quality-checks?stage=sideways").status_code == 422
    status = api.get(f"/api/v1/mes/quality/final-inspection/{wo}").json()
    assert status["required"] and not status["ok"]
    r = api.post(f"/api/v1/mes/quality-checks/{failed['id']}/disposition", json={"action": "scrap"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    r = api.post(f"/api/v1/mes/quality-checks/{failed['id']}/disposition",
                 json={"action": "rework", "reason": "重新裁切"})
    assert r.status_code == 200 and r.json()["disposition"] == "rework" and r.json()["rework_work_order"]
    assert api.get(f"/api/v1/mes/quality/final-inspection/{wo}").json()["ok"]
    lot_checks = api.get(f"/api/v1/mes/quality/lots/{failed['lot_id']}/checks").json()
    assert [c["disposition_label"] for c in lot_checks["items"]] == ["-", "返工"]
    xlsx = api.get("/api/v1/mes/quality-checks/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 3 and sheet.cell(1, 1).value == "质检单号"
    fpy = api.get("/api/v1/mes/quality/first-pass-yield?group_by=product&period=day").json()
    assert fpy["totals"][0]["fpy_pct"] == "77.8"  # 7 of 9 passed the first time


def _wo_number(p: fm.Plant, wo_id: int) -> str:
    with p.uow(readonly=True) as uow:
        return wos.get_work_order(uow, wo_id).number


def test_the_warehouse_reads_checks_but_cannot_record_or_dispose(db):
    p, wo = _plant_with_final_check(db)
    wh = f.api_client(db, "wh1")
    r = wh.post("/api/v1/mes/quality-checks", json={"work_order_id": wo, "qty_inspected": "1", "results": [
        {"name": "长度", "value": "100"}, {"name": "外观", "value": "ok"}]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert _count(p, QualityCheck) == 0
    assert wh.get("/api/v1/mes/quality-checks").json() == {"items": [], "total": 0}
    web = f.web_client(db, "wh1")
    assert web.get("/mes/quality-checks").status_code == 200
    assert web.get(f"/mes/quality-checks/new?work_order_id={wo}").status_code == 403


def test_an_inspector_records_and_disposes_on_the_pages(db):
    p, wo = _plant_with_final_check(db)
    web = f.web_client(db, "qc1")
    token = f.csrf(web)
    page = web.get(f"/mes/quality-checks/new?work_order_id={wo}")
    assert page.status_code == 200 and "99.5 – 100.5 mm" in page.text and 'name="value_1"' in page.text
    bad = web.post("/mes/quality-checks/new", data={"csrf_token": token, "work_order_id": wo, "name_0": "长度",
                                                    "value_0": "100", "name_1": "外观", "qty_inspected": "3"})
    assert bad.status_code == 422 and "请填写检验项目「外观」" in bad.text and _count(p, QualityCheck) == 0
    r = web.post("/mes/quality-checks/new", data={"csrf_token": token, "work_order_id": wo, "name_0": "长度",
                                                  "value_0": "101.2", "name_1": "外观", "value_1": "ok",
                                                  "qty_inspected": "3", "notes": "首件超差"})
    assert r.status_code == 303
    check_url = r.headers["location"]
    detail = web.get(check_url)
    assert detail.status_code == 200 and "101.2" in detail.text and "确认处置" in detail.text
    check_id = int(re.search(r"/(\d+)$", check_url).group(1))
    r = web.post(f"/mes/quality-checks/{check_id}/disposition", data={"csrf_token": token, "action": "accept",
                                                                      "qty": "3", "reason": "客户书面同意"})
    assert r.status_code == 303
    assert "让步接收" in web.get(check_url).text
    listing = web.get("/mes/quality-checks?result=fail&q=TOP")
    assert listing.status_code == 200 and "101.2" not in listing.text and "让步接收" in listing.text
    assert web.get("/mes/quality-checks/export?format=csv").content.decode("utf-8-sig").count("\n") == 2
    assert web.get("/mes/quality/yield?period=week&group_by=work_center").status_code == 200
    assert web.get("/mes/quality/yield?format=xlsx").status_code == 200
    # checklists: rows on the form, the detail shows the items
    r = web.post("/mes/checklists/new", data={"csrf_token": token, "code": "QC-ASM", "name": "组装巡检",
                                              "item_name": ["螺丝扭矩", "晃动", ""],
                                              "item_kind": ["measure", "check", "check"],
                                              "item_min": ["4.5", "", ""], "item_max": ["5.5", "", ""],
                                              "item_unit": ["N·m", "", ""]})
    assert r.status_code == 303, r.text
    detail = web.get(r.headers["location"])
    assert "4.5 – 5.5 N·m" in detail.text
    r = web.post("/mes/checklists/new", data={"csrf_token": token, "code": "QC-BAD", "name": "x",
                                              "item_name": ["厚度"], "item_kind": ["measure"], "item_min": ["3"],
                                              "item_max": ["1"], "item_unit": [""]})
    assert r.status_code == 422 and "下限 3 大于上限 1" in r.text
    assert web.get("/mes/checklists").status_code == 200
    with p.uow(readonly=True) as uow:
        top_list = uow.session.scalar(select(QualityChecklist.id).where(QualityChecklist.code == "QC-TOP"))
    edit = web.get(f"/mes/checklists/{top_list}/edit")
    assert edit.status_code == 200 and "99.5" in edit.text
