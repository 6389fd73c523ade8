"""Lifecycle stages through approved requests: what 退市 and 研发 items may still do, four eyes on every change,
one pending request per product, new R&D items, and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from opensupply.core.audit import AuditLog
from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.masterdata import boms
from opensupply.masterdata.lifecycle import LifecycleBlocked
from opensupply.masterdata.models import Product
from opensupply.mes import work_orders as wos
from opensupply.plm import lifecycle
from opensupply.plm.models import LifecycleChange
from tests.mes import factories as fm

from . import factories as pf


def _stage(w: pf.World, product_id: int) -> str:
    with w.uow(readonly=True) as uow:
        return uow.get(Product, product_id).lifecycle_stage


def _move(w: pf.World, sku: str, stage: str) -> None:
    with w.uow("engineer") as uow:
        change_id = lifecycle.request_stage_change(uow, sku, stage, "测试").id
    with w.uow("manager") as uow:
        lifecycle.approve_stage_change(uow, change_id)


def test_an_end_of_life_item_cannot_be_bought_or_sold(db):
    w = pf.world(db)
    customer = fm.partner(db, w.company, "C-HOME", "宜家居家居专营店", is_customer=True)
    _move(w, "RM-LEG-72", "eol")
    _move(w, "YS-DESK-120", "eol")
    api = w.api("admin")
    r = api.post("/api/v1/erp/purchase-orders", json={
        "supplier": w.plant.suppliers["parts"],
        "lines": [{"product": "RM-LEG-72", "quantity": "100", "unit_price": "25"}]})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "lifecycle_blocked" and "RM-LEG-72" in r.json()["error"]["message"]
    r = api.post("/api/v1/erp/sales-orders", json={
        "customer_id": customer, "lines": [{"sku": "YS-DESK-120", "quantity": "1", "unit_price": "899"}]})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "lifecycle_blocked"
    with w.uow() as uow, pytest.raises(LifecycleBlocked):
        wos.create_work_order(uow, product="YS-DESK-120", quantity="5")
    # an item still in mass production is unaffected
    r = api.post("/api/v1/erp/purchase-orders", json={
        "supplier": w.plant.suppliers["parts"],
        "lines": [{"product": "RM-SCREW-M6", "quantity": "100", "unit_price": "0.2"}]})
    assert r.status_code == 201, r.text


def test_a_new_rd_item_is_made_only_as_a_pilot_work_order(db):
    w = pf.world(db)
    r = w.api("engineer").post("/api/v1/plm/rd-items", json={"sku": "YS-DESK-140", "name": "升降书桌 140cm",
                                                           "uom_id": "pcs", "spec": "1400×700", "cost": "0"})
    assert r.status_code == 201, r.text
    assert r.json()["stage"] == "rd" and r.json()["stage_label"] == "研发"
    with w.uow() as uow:
        draft = boms.create_bom(uow, product="YS-DESK-140", lines=[
            {"component": "YS-TOP-120", "quantity": "1"}, {"component": "RM-LEG-72", "quantity": "4"}])
        draft_id = draft.id
    with w.uow() as uow, pytest.raises(LifecycleBlocked, match="只能下试产工单"):
        wos.create_work_order(uow, product="YS-DESK-140", quantity="2", bom_id=draft_id)
    with w.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-DESK-140", quantity="2", kind="pilot", bom_id=draft_id)
        assert wo.bom_id == draft_id
    customer = fm.partner(db, w.company, "C-RD", "样品客户", is_customer=True)
    r = w.api("admin").post("/api/v1/erp/sales-orders", json={
        "customer_id": customer, "lines": [{"sku": "YS-DESK-140", "quantity": "1", "unit_price": "1299"}]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "lifecycle_blocked"
    # duplicate SKU: master data's own validation, nothing created
    r = w.api("engineer").post("/api/v1/plm/rd-items", json={"sku": "YS-DESK-140", "name": "重复"})
    assert r.status_code == 409 and r.json()["error"]["field"] == "sku"


def test_an_approved_change_applies_a_rejected_one_does_not(db):
    w = pf.world(db)
    desk = w.plant.products["desk"]
    eng = w.api("engineer")
    r = eng.post("/api/v1/plm/lifecycle-changes", json={"product": "YS-DESK-120", "to_stage": "eol",
                                                       "reason": "新款 YS-DESK-140 替代"})
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["number"].startswith("LC") and change["state"] == "pending" and change["from_stage"] == "mass"
    assert _stage(w, desk) == "mass"  # nothing changes before approval
    # the requester cannot approve their own request, whatever their permissions
    r = w.api("admin").post("/api/v1/plm/lifecycle-changes", json={"product": "RM-GLUE", "to_stage": "eol",
                                                                  "reason": "换胶"})
    own = r.json()["id"]
    r = w.api("admin").post(f"/api/v1/plm/lifecycle-changes/{own}/approve", json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "own_request"
    # approving needs plm.approve
    r = eng.post(f"/api/v1/plm/lifecycle-changes/{change['id']}/approve", json={})
    assert r.status_code == 403
    r = w.api("manager").post(f"/api/v1/plm/lifecycle-changes/{change['id']}/reject", json={"reason": "库存还有 40 张"})
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert _stage(w, desk) == "mass"
    r = w.api("manager").post(f"/api/v1/plm/lifecycle-changes/{change['id']}/approve", json={})
    assert r.status_code == 409  # decided once
    r = eng.post("/api/v1/plm/lifecycle-changes", json={"product": "YS-DESK-120", "to_stage": "eol",
                                                       "reason": "库存已清"})
    r = w.api("manager").post(f"/api/v1/plm/lifecycle-changes/{r.json()['id']}/approve", json={"comment": "同意"})
    assert r.status_code == 200 and r.json()["state"] == "approved" and r.json()["decided_by"] == w.users["manager"]
    assert _stage(w, desk) == "eol"
    with w.uow(readonly=True) as uow:
        rows = uow.session.scalars(select(AuditLog).where(AuditLog.entity == "product",
                                                          AuditLog.entity_id == str(desk),
                                                          AuditLog.action == "update")).all()
        assert any(a.before.get("lifecycle_stage") == "mass" and a.after.get("lifecycle_stage") == "eol"
                   and a.username == w.users["manager"] for a in rows)
        assert uow.session.scalar(select(AuditLog.id).where(AuditLog.entity == "plm_lifecycle_change",
                                                            AuditLog.action == "create"))
    listed = w.api("viewer").get("/api/v1/plm/lifecycle-changes", params={"state": "rejected"}).json()
    assert listed["total"] == 1 and listed["items"][0]["decision_note"] == "库存还有 40 张"


def test_one_pending_request_per_product_and_only_allowed_moves(db):
    w = pf.world(db)
    with w.uow("engineer") as uow:
        first = lifecycle.request_stage_change(uow, "YS-TOP-120", "eol", "停产").number
    with w.uow("engineer") as uow, pytest.raises(Conflict, match=first):
        lifecycle.request_stage_change(uow, "YS-TOP-120", "eol", "再来一次")
    with w.uow("engineer") as uow, pytest.raises(ValidationFailed, match="不能从量产变更为研发"):
        lifecycle.request_stage_change(uow, "RM-OAK-18", "rd", "回到研发")
    r = w.api("engineer").post("/api/v1/plm/lifecycle-changes", json={"product": "RM-OAK-18", "to_stage": "pilot",
                                                                     "reason": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "to_stage"
    r = w.api("engineer").post("/api/v1/plm/lifecycle-changes", json={"product": "RM-OAK-18", "to_stage": "eol",
                                                                     "reason": " "})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    r = w.api("viewer").post("/api/v1/plm/lifecycle-changes", json={"product": "RM-OAK-18", "to_stage": "eol",
                                                                   "reason": "x"})
    assert r.status_code == 403
    with w.uow(readonly=True) as uow:
        assert uow.session.scalar(select(LifecycleChange.id).where(LifecycleChange.product_id ==
                                                                   w.plant.products["oak"])) is None
    with w.uow("viewer") as uow, pytest.raises(PermissionDenied):
        lifecycle.approve_stage_change(uow, 1)
    summary = w.api("viewer").get("/api/v1/plm/lifecycle/summary").json()
    assert summary["mass"] == 6 and summary["pending"] == 1 and summary["rd"] == 0
    listed = w.api("viewer").get("/api/v1/plm/lifecycle/products", params={"pending": "true"}).json()
    assert [p["sku"] for p in listed["items"]] == ["YS-TOP-120"] and listed["items"][0]["pending"]["number"] == first


def test_lifecycle_page_requests_and_approves(db):
    w = pf.world(db)
    from tests import factories as f

    eng = w.web("engineer")
    token = f.csrf(eng)
    html = eng.get("/plm/lifecycle").text
    assert "量产" in html and "YS-DESK-120" in html and "新建研发物料" in html
    r = eng.post("/plm/lifecycle/requests", data={"product": str(w.plant.products["glue"]), "to_stage": "eol",
                                                  "reason": "换环保胶", "csrf_token": token})
    assert r.status_code == 303 and "error" not in r.headers.get("set-cookie", "")
    no_token = eng.post("/plm/lifecycle/requests", data={"product": "1", "to_stage": "eol", "reason": "x"})
    assert no_token.status_code == 403
    mgr = w.web("manager")
    html = mgr.get("/plm/lifecycle", params={"pending": "1"}).text
    assert "RM-GLUE" in html and "YS-DESK-120" not in html and "批准" in html
    with w.uow(readonly=True) as uow:
        change_id = lifecycle.pending_change(uow, w.plant.products["glue"]).id
    r = mgr.post(f"/plm/lifecycle/requests/{change_id}/approve", data={"csrf_token": f.csrf(mgr)})
    assert r.status_code == 303
    assert _stage(w, w.plant.products["glue"]) == "eol"
    html = mgr.get("/plm/lifecycle", params={"stage": "eol"}).text
    assert "RM-GLUE" in html and "YS-TOP-120" not in html
    r = eng.post("/plm/lifecycle/rd-items/new", data={"sku": "YS-CHAIR-01", "name": "人体工学椅", "uom_id": "pcs",
                                                      "csrf_token": token})
    assert r.status_code == 303
    r = eng.post("/plm/lifecycle/rd-items/new", data={"sku": "YS-CHAIR-01", "name": "重复", "uom_id": "pcs",
                                                      "csrf_token": token})
    assert r.status_code == 422 and "已存在" in r.text
    assert "YS-CHAIR-01" in eng.get("/plm/lifecycle", params={"stage": "rd"}).text
