"""The audit trail: who changed what, when, from what to what — in the same transaction as the change."""

import pytest
from sqlalchemy import select

from opensupply.core import auth
from opensupply.core.audit import AuditLog
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import ProductCategory
from tests import factories as f


def _trail(db, entity: str, entity_id=None) -> list[AuditLog]:
    with db.sessionmaker() as s:
        stmt = select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id)
        if entity_id is not None:
            stmt = stmt.where(AuditLog.entity_id == str(entity_id))
        return list(s.scalars(stmt))


def test_create_update_delete_each_leave_one_row_with_who_what_and_values(db):
    c = f.company(db)
    alice = f.actor(db, c, f.user(db, c, "alice"))
    with UnitOfWork(alice) as uow:
        cat = uow.add(ProductCategory(code="CUP", name="杯子"))
        uow.flush()
        cat_id = cat.id
    with UnitOfWork(alice) as uow:
        uow.get(ProductCategory, cat_id).name = "保温杯"
    with UnitOfWork(alice) as uow:
        uow.session.delete(uow.get(ProductCategory, cat_id))

    rows = _trail(db, "product_category", cat_id)
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert {(r.username, r.user_id, r.company_id) for r in rows} == {("alice", alice.user_id, c)}
    assert all(r.at is not None for r in rows)
    created, updated, deleted = rows
    assert created.before is None and created.after["code"] == "CUP" and created.after["name"] == "杯子"
    assert updated.before == {"name": "杯子"} and updated.after == {"name": "保温杯"}
    assert deleted.before["name"] == "保温杯" and deleted.after is None


def test_rolled_back_write_leaves_no_audit_row(db):
    c = f.company(db)
    with pytest.raises(RuntimeError), UnitOfWork(f.system(c)) as uow:
        uow.add(ProductCategory(code="GHOST", name="幽灵"))
        uow.flush()
        raise RuntimeError("request failed after the write")
    with db.sessionmaker() as s:
        assert s.scalar(select(ProductCategory).where(ProductCategory.code == "GHOST")) is None
    assert not [r for r in _trail(db, "product_category") if r.after and r.after.get("code") == "GHOST"]


def test_password_hashes_never_reach_the_audit_trail(db):
    c = f.company(db)
    f.user(db, c, "bob")
    with UnitOfWork(f.system(c)) as uow:
        user = uow.session.scalar(select(auth.User).where(auth.User.username == "bob"))
        auth.set_password(uow, user, "Another-pass-2026")
        user_id, new_hash = user.id, user.password_hash
    rows = _trail(db, "auth_user", user_id)
    assert [r.action for r in rows] == ["create", "update"]
    assert "password_hash" not in rows[0].after
    assert rows[1].after == {"password_hash": "******"}  # that it changed is visible, not the value
    dumped = repr([(r.before, r.after) for r in rows])
    assert "argon2" not in dumped and new_hash not in dumped


def test_audit_api_filters_by_entity_and_id(db):
    c = f.company(db)
    client = f.api_client(db, f.user(db, c))
    ids = [client.post("/api/v1/products", json={"sku": sku, "name": "杯", "uom_id": "pcs"}).json()["id"]
           for sku in ("A-1", "A-2")]
    client.patch(f"/api/v1/products/{ids[0]}", json={"name": "大杯"})

    r = client.get("/api/v1/audit", params={"entity": "product", "entity_id": ids[0]})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2
    assert [i["action"] for i in body["items"]] == ["update", "create"]  # newest first
    assert body["items"][0]["after"] == {"name": "大杯"}
    assert {i["entity_id"] for i in body["items"]} == {str(ids[0])}
    assert client.get("/api/v1/audit", params={"entity": "product"}).json()["total"] == 3


def test_audit_api_shows_only_own_company_and_needs_permission(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    f.product(db, b, "B-SECRET")
    admin_a = f.api_client(db, f.user(db, a, "admin_a"))
    items = admin_a.get("/api/v1/audit", params={"entity": "product", "limit": 1000}).json()["items"]
    assert all((i["after"] or {}).get("sku") != "B-SECRET" for i in items)
    clerk = f.api_client(db, f.user(db, a, "clerk", roles=("warehouse",)))
    assert clerk.get("/api/v1/audit").status_code == 403


def test_denied_permission_attempt_is_logged(db):
    c = f.company(db)
    clerk = f.api_client(db, f.user(db, c, "clerk", roles=("warehouse",)))
    assert clerk.post("/api/v1/products", json={"sku": "S", "name": "n", "uom_id": "pcs"}).status_code == 403
    admin = f.api_client(db, f.user(db, c, "boss"))
    items = admin.get("/api/v1/audit", params={"entity": "permission", "username": "clerk"}).json()["items"]
    assert [i["action"] for i in items] == ["denied"]
    assert items[0]["after"]["permission"] == "masterdata.write"


def test_denied_page_visit_is_logged_and_shown_as_an_error_page(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c, "picker", roles=("warehouse",)))
    r = web.get("/jobs")
    assert r.status_code == 403 and "<html" in r.text and "core.jobs" in r.text
    denied = [a for a in _trail(db, "permission") if a.username == "picker"]
    assert [(a.action, a.after["permission"], a.company_id) for a in denied] == [("denied", "core.jobs", c)]
