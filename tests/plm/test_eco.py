"""Engineering change orders: V1.0 → V1.1 with a line-by-line diff, every required department's approval,
a rejection that stops it, and a release that switches the version new work orders use while open work
orders stay on the old one — all through master data's BOM services and in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from opensupply.core.audit import AuditLog
from opensupply.core.errors import Conflict, PermissionDenied
from opensupply.core.events import OutboxEvent as Outbox
from opensupply.masterdata import boms
from opensupply.masterdata.models import Bom
from opensupply.mes import work_orders as wos
from opensupply.plm import eco
from opensupply.plm.models import Eco
from tests import factories as f

from . import factories as pf

NEW_LINES = [  # desk V1.1: same top, legs with 2 % scrap, cam-lock fittings instead of screws, felt pads
    {"component": "YS-TOP-120", "quantity": "1"},
    {"component": "RM-LEG-72", "quantity": "4", "scrap_pct": "2"},
    {"component": "RM-CAM", "quantity": "8"},
    {"component": "RM-FELT", "quantity": "4"},
]


def _parts(w: pf.World) -> None:
    f.product(w.db, w.company, "RM-CAM", name="偏心件连接件", cost="0.5")
    f.product(w.db, w.company, "RM-FELT", name="防滑脚垫", cost="0.3")


def _eco(w: pf.World, **kw) -> int:
    _parts(w)
    with w.uow("engineer") as uow:
        return eco.create_eco(uow, "YS-DESK-120", "桌腿改偏心件连接", "螺丝连接松动，客诉 12 起", lines=NEW_LINES,
                              **kw).id


def _approve(w: pf.World, eco_id: int, *departments: str) -> dict:
    who = {"rd": "rd_lead", "purchasing": "buyer", "production": "planner", "quality": "qa"}
    out = None
    for d in departments:
        r = w.api(who[d]).post(f"/api/v1/plm/ecos/{eco_id}/approve", json={"department": d, "comment": "同意"})
        assert r.status_code == 200, r.text
        out = r.json()
    return out


def test_eco_from_v10_to_v11_shows_the_diff(db):
    w = pf.world(db)
    eco_id = _eco(w)
    d = w.api("viewer").get(f"/api/v1/plm/ecos/{eco_id}").json()
    assert d["number"].startswith("ECO") and d["state"] == "draft"
    assert (d["base_version"], d["new_version"], d["replaced_version"]) == ("V1.0", "V1.1", "V1.0")
    assert [a["department"] for a in d["approvals"]] == ["rd", "purchasing", "production", "quality"]
    rows = {r["sku"]: r for r in d["diff"]["rows"]}
    assert rows["YS-TOP-120"]["status"] == "unchanged"
    assert rows["RM-LEG-72"]["status"] == "changed" and rows["RM-LEG-72"]["changes"] == ["scrap_pct"]
    assert (rows["RM-LEG-72"]["old"]["scrap_pct"], rows["RM-LEG-72"]["new"]["scrap_pct"]) == ("0", "2")
    assert rows["RM-SCREW-M6"]["status"] == "removed" and rows["RM-SCREW-M6"]["new"] is None
    assert rows["RM-SCREW-M6"]["old"]["quantity"] == "16"
    assert rows["RM-CAM"]["status"] == "added" and rows["RM-CAM"]["new"]["quantity"] == "8"
    assert d["diff"]["counts"] == {"added": 2, "removed": 1, "changed": 1, "unchanged": 1}
    # the BOM versions themselves: V1.0 still in force, V1.1 a draft carrying the ECO number
    with w.uow(readonly=True) as uow:
        assert boms.released_bom(uow, w.plant.products["desk"]).version == "V1.0"
        new = boms.get_bom(uow, d["new_bom_id"])
        assert new.state == "draft" and new.notes.startswith(d["number"])
    # quantity and unit changes, by-product flag: editing the draft through the ECO
    r = w.api("engineer").put(f"/api/v1/plm/ecos/{eco_id}/lines", json={"lines": [
        {"component": "YS-TOP-120", "quantity": "1"}, {"component": "RM-LEG-72", "quantity": "4"},
        {"component": "RM-SCREW-M6", "quantity": "20"}, {"component": "RM-GLUE", "quantity": "50", "uom": "g"}]})
    assert r.status_code == 200, r.text
    rows = {x["sku"]: x for x in r.json()["diff"]["rows"]}
    assert rows["RM-SCREW-M6"]["changes"] == ["quantity"] and rows["RM-LEG-72"]["status"] == "unchanged"
    assert rows["RM-GLUE"]["status"] == "added" and rows["RM-GLUE"]["new"]["uom"] == "g"
    assert "RM-CAM" not in rows and "RM-FELT" not in rows  # the whole list was replaced


def test_diff_pairs_lines_by_component():
    L = eco.LineView
    old = [L(1, "A", "a", 2, "pcs", 0, False, 10), L(2, "B", "b", 1, "pcs", 0, False, 20),
           L(3, "C", "c", 1, "pcs", 0, True, 30)]
    new = [L(2, "B", "b", 1, "kg", 0, False, 10), L(1, "A", "a", 2, "pcs", 0, False, 20),
           L(3, "C", "c", 1, "pcs", 0, False, 30), L(4, "D", "d", 1, "pcs", 5, False, 40)]
    rows = eco.diff_lines(old, new)
    assert [(r.sku, r.status, r.changes) for r in rows] == [
        ("B", "changed", ["uom"]), ("A", "unchanged", []), ("C", "changed", ["is_byproduct"]), ("D", "added", [])]


def test_every_required_department_must_approve(db):
    w = pf.world(db)
    eco_id = _eco(w)
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/submit")
    assert r.status_code == 200 and r.json()["state"] == "in_review"
    # a buyer approves for purchasing only
    r = w.api("buyer").post(f"/api/v1/plm/ecos/{eco_id}/approve", json={"department": "quality"})
    assert r.status_code == 403
    d = _approve(w, eco_id, "rd", "purchasing", "production")
    assert d["state"] == "in_review" and d["approved_count"] == 3
    r = w.api("buyer").post(f"/api/v1/plm/ecos/{eco_id}/approve", json={"department": "purchasing"})
    assert r.status_code == 409  # already given
    # release before the last approval is refused
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/release", json={})
    assert r.status_code == 409
    d = _approve(w, eco_id, "quality")
    assert d["state"] == "approved"
    assert {a["department"]: a["decided_by"] for a in d["approvals"]} == {
        "rd": w.users["rd_lead"], "purchasing": w.users["buyer"], "production": w.users["planner"],
        "quality": w.users["qa"]}


def test_the_proposer_cannot_approve_and_an_eco_may_need_fewer_departments(db):
    w = pf.world(db)
    _parts(w)
    with w.uow("admin") as uow:
        eco_id = eco.create_eco(uow, "YS-DESK-120", "改脚垫", "防滑", lines=NEW_LINES,
                                departments=["rd", "quality"]).id
        eco.submit_eco(uow, eco_id)
    with w.uow("admin") as uow, pytest.raises(PermissionDenied, match="不能审批自己"):
        eco.approve_eco(uow, eco_id, "rd")
    r = w.api("buyer").post(f"/api/v1/plm/ecos/{eco_id}/approve", json={"department": "purchasing"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "department"
    assert _approve(w, eco_id, "rd", "quality")["state"] == "approved"


def test_a_rejection_stops_the_eco(db):
    w = pf.world(db)
    eco_id = _eco(w)
    w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/submit")
    _approve(w, eco_id, "rd")
    r = w.api("buyer").post(f"/api/v1/plm/ecos/{eco_id}/reject", json={"department": "purchasing", "reason": " "})
    assert r.status_code == 422  # a rejection needs its reason
    r = w.api("buyer").post(f"/api/v1/plm/ecos/{eco_id}/reject",
                            json={"department": "purchasing", "reason": "偏心件供应商未认证"})
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert "偏心件供应商未认证" in r.json()["closed_reason"]
    r = w.api("qa").post(f"/api/v1/plm/ecos/{eco_id}/approve", json={"department": "quality"})
    assert r.status_code == 409
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/release", json={})
    assert r.status_code == 409
    with w.uow(readonly=True) as uow:
        assert boms.released_bom(uow, w.plant.products["desk"]).version == "V1.0"


def test_release_switches_new_work_orders_and_leaves_open_ones_alone(db):
    w = pf.world(db)
    old_bom = w.plant.boms["desk"]
    with w.uow() as uow:
        old_wo = wos.create_work_order(uow, product="YS-DESK-120", quantity="5")
        old_wo_id, old_components = old_wo.id, sorted((c.product_id, c.required_qty) for c in old_wo.components)
        old_number = old_wo.number
    eco_id = _eco(w)
    d = w.api("viewer").get(f"/api/v1/plm/ecos/{eco_id}").json()
    assert [wo["number"] for wo in d["open_work_orders"]] == [old_number]  # listed before release
    w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/submit")
    _approve(w, eco_id, "rd", "purchasing", "production", "quality")
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/release", json={"effective_date": "2099-01-01"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "effective_date"
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/release", json={})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["state"] == "released" and d["effective_date"]
    assert [wo["number"] for wo in d["open_work_orders"]] == [old_number]  # still listed after release
    with w.uow() as uow:
        new_bom = boms.released_bom(uow, w.plant.products["desk"])
        assert new_bom.version == "V1.1" and new_bom.id == d["new_bom_id"]
        assert new_bom.effective_from.isoformat() == d["effective_date"]
        assert boms.get_bom(uow, old_bom).state == "obsolete"
        new_wo = wos.create_work_order(uow, product="YS-DESK-120", quantity="5")
        assert new_wo.bom_id == new_bom.id
        assert {c.product.sku for c in new_wo.components} == {"YS-TOP-120", "RM-LEG-72", "RM-CAM", "RM-FELT"}
        untouched = wos.get_work_order(uow, old_wo_id)
        assert untouched.bom_id == old_bom and untouched.state == "draft"
        assert sorted((c.product_id, c.required_qty) for c in untouched.components) == old_components
        event = uow.session.scalar(select(Outbox).where(Outbox.name == "plm.eco_released"))
        assert event.payload["open_work_order_ids"] == [old_wo_id] and event.payload["bom_id"] == new_bom.id
        # every step is in the audit trail, by who did it
        audits = uow.session.execute(select(AuditLog.entity, AuditLog.action, AuditLog.username).where(
            AuditLog.company_id == w.company, AuditLog.entity.in_(("plm_eco", "plm_eco_approval", "bom")))).all()
    assert ("plm_eco", "create", w.users["engineer"]) in audits
    assert ("plm_eco_approval", "update", w.users["qa"]) in audits
    assert ("plm_eco", "update", w.users["engineer"]) in audits
    assert ("bom", "update", w.users["engineer"]) in audits  # release: V1.0 obsolete, V1.1 released
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/release", json={})
    assert r.status_code == 409


def test_an_edit_after_submission_is_caught_and_a_stale_eco_cannot_release(db):
    w = pf.world(db)
    eco_id = _eco(w)
    with w.uow("engineer") as uow:
        second = eco.create_eco(uow, "YS-DESK-120", "加长螺丝", "试验", lines=[
            {"component": "YS-TOP-120", "quantity": "1"}, {"component": "RM-LEG-72", "quantity": "4"},
            {"component": "RM-SCREW-M6", "quantity": "20"}]).id
        assert boms.get_bom(uow, eco.get_eco(uow, second).new_bom_id).version == "V1.2"
        eco.submit_eco(uow, eco_id)
        eco.submit_eco(uow, second)
        # someone edits the draft under review on the BOM pages
        boms.update_bom(uow, eco.get_eco(uow, eco_id).new_bom_id, {"lines": NEW_LINES[:3]})
    r = w.api("rd_lead").post(f"/api/v1/plm/ecos/{eco_id}/approve", json={"department": "rd"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "changed_after_submit"
    _approve(w, second, "rd", "purchasing", "production", "quality")
    with w.uow("engineer") as uow:
        eco.withdraw_eco(uow, eco_id)
        eco.submit_eco(uow, eco_id)
    _approve(w, eco_id, "rd", "purchasing", "production", "quality")
    assert w.api("engineer").post(f"/api/v1/plm/ecos/{second}/release", json={}).status_code == 200
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/release", json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_base"


def test_bad_input_writes_nothing(db):
    w = pf.world(db)
    api = w.api("engineer")

    def counts():
        with w.uow(readonly=True) as uow:
            return (uow.session.scalar(select(func.count()).select_from(Eco)),
                    uow.session.scalar(select(func.count()).select_from(Bom)))

    before = counts()
    for body, field in (
            ({"product": "YS-DESK-120", "title": "x", "reason": "y",
              "lines": [{"component": "YS-TOP-120", "quantity": "-1"}]}, "lines.0.quantity"),
            ({"product": "YS-DESK-120", "title": "x", "reason": "y",
              "lines": [{"component": "YS-DESK-120", "quantity": "1"}]}, "lines.0.component"),
            ({"product": "YS-DESK-120", "title": " ", "reason": "y"}, "title"),
            ({"product": "YS-DESK-120", "title": "x", "reason": "y", "departments": ["sales"]}, "departments"),
            ({"product": "NOPE", "title": "x", "reason": "y"}, "product"),
            ({"product": "YS-DESK-120", "title": "x", "reason": "y", "version": "V1.0"}, "version")):
        r = api.post("/api/v1/plm/ecos", json=body)
        assert r.status_code in (409, 422), (body, r.text)
        assert r.json()["error"]["field"] == field, (body, r.text)
    assert counts() == before
    r = w.api("viewer").post("/api/v1/plm/ecos", json={"product": "YS-DESK-120", "title": "x", "reason": "y"})
    assert r.status_code == 403
    # an ECO that changes nothing cannot be submitted
    with w.uow("engineer") as uow:
        same = eco.create_eco(uow, "YS-DESK-120", "无变化", "测试").id
    r = api.post(f"/api/v1/plm/ecos/{same}/submit")
    assert r.status_code == 422 and r.json()["error"]["field"] == "lines"
    with w.uow("engineer") as uow, pytest.raises(Conflict):
        eco.cancel_eco(uow, same, "不需要了")
        eco.cancel_eco(uow, same)


def test_list_search_filter_and_mine(db):
    w = pf.world(db)
    eco_id = _eco(w)
    with w.uow("engineer") as uow:
        eco.create_eco(uow, "YS-TOP-120", "桌面改胶", "甲醛", lines=[
            {"component": "RM-OAK-18", "quantity": "2", "scrap_pct": "5"}, {"component": "RM-GLUE", "quantity": "0.2"}])
    api = w.api("viewer")
    assert api.get("/api/v1/plm/ecos").json()["total"] == 2
    assert [e["sku"] for e in api.get("/api/v1/plm/ecos", params={"q": "偏心"}).json()["items"]] == ["YS-DESK-120"]
    assert api.get("/api/v1/plm/ecos", params={"product": "YS-TOP-120"}).json()["total"] == 1
    assert api.get("/api/v1/plm/ecos", params={"product": "NOPE"}).json()["total"] == 0
    assert api.get("/api/v1/plm/ecos", params={"state": "in_review"}).json()["total"] == 0
    assert api.get("/api/v1/plm/ecos", params={"state": "bogus"}).status_code == 422
    page = api.get("/api/v1/plm/ecos", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/submit")
    mine = w.api("buyer").get("/api/v1/plm/ecos", params={"mine": "true"}).json()
    assert [e["id"] for e in mine["items"]] == [eco_id]
    _approve(w, eco_id, "purchasing")
    assert w.api("buyer").get("/api/v1/plm/ecos", params={"mine": "true"}).json()["total"] == 0
    assert w.api("qa").get("/api/v1/plm/ecos", params={"mine": "true"}).json()["total"] == 1
    assert w.api("engineer").get("/api/v1/plm/ecos", params={"mine": "true"}).json()["total"] == 0
