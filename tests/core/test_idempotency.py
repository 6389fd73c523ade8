"""Idempotency-Key on creating API calls: a retried request returns the first answer and writes nothing
more; the same key with another body is refused; keys of one user are invisible to another; a request
still running answers 409; a failed request can be retried with its key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from opensupply.core.idempotency import IdempotencyRecord, _claim
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata.models import Product
from tests import factories as f


def _count(db, company: int) -> int:
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Product).where(Product.company_id == company))


def test_a_retried_create_returns_the_first_answer_once(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c, roles=("admin",)))
    body = {"sku": "YS-IDEM-1", "name": "幂等测试商品", "uom_id": "pcs"}
    first = api.post("/api/v1/products", json=body, headers={"Idempotency-Key": "k-001"})
    again = api.post("/api/v1/products", json=body, headers={"Idempotency-Key": "k-001"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert _count(db, c) == 1
    other_body = api.post("/api/v1/products", json={**body, "name": "另一个"}, headers={"Idempotency-Key": "k-001"})
    assert other_body.status_code == 422 and other_body.json()["error"]["code"] == "idempotency_key_reused"
    # without a key the second call is a real second call (and here a clear duplicate error)
    assert api.post("/api/v1/products", json=body).status_code == 409
    # a refused request is replayed as refused too (the client learns the same answer)
    bad = {"sku": "", "name": "x", "uom_id": "pcs"}
    r1 = api.post("/api/v1/products", json=bad, headers={"Idempotency-Key": "k-bad"})
    r2 = api.post("/api/v1/products", json=bad, headers={"Idempotency-Key": "k-bad"})
    assert r1.status_code == r2.status_code == 422 and r1.json() == r2.json()
    assert api.post("/api/v1/products", json=body, headers={"Idempotency-Key": "x" * 201}).status_code == 422


def test_keys_are_per_credential_and_a_running_request_answers_409(db):
    c = f.company(db)
    a = f.api_client(db, f.user(db, c, roles=("admin",)))
    b = f.api_client(db, f.user(db, c, roles=("admin",)))
    a.post("/api/v1/products", json={"sku": "YS-A", "name": "A", "uom_id": "pcs"}, headers={"Idempotency-Key": "same"})
    rb = b.post("/api/v1/products", json={"sku": "YS-B", "name": "B", "uom_id": "pcs"},
                headers={"Idempotency-Key": "same"})
    assert rb.status_code == 201 and rb.json()["sku"] == "YS-B"
    # a claim still pending (the first request has not answered yet) → 409; an abandoned one is taken over
    pending = _claim("scope-x", "k", "h")
    assert isinstance(pending, int)
    busy = _claim("scope-x", "k", "h")
    assert busy.status_code == 409
    with db.sessionmaker() as s:
        row = s.get(IdempotencyRecord, pending)
        row.created_at = row.created_at - dt.timedelta(hours=1)
        s.commit()
    assert _claim("scope-x", "k", "h") == pending
