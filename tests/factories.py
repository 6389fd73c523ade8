"""Factories: make just the rows a test needs, through the services, with readable defaults."""

from __future__ import annotations

import itertools
from decimal import Decimal

from fastapi.testclient import TestClient

from opensupply.core import auth
from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import resources
from opensupply.masterdata.service import ensure_bin, setup_company

PASSWORD = "Test-pass-2026"
_seq = itertools.count(1)


def company(db, code: str | None = None, name: str | None = None) -> int:
    code = code or f"C{next(_seq)}"
    with UnitOfWork(Actor.system(), db=db) as uow:
        return setup_company(uow, code=code, name=name or f"公司{code}").id


def system(company_id: int) -> Actor:
    return Actor.system(company_id)


def user(db, company_id: int, username: str | None = None, roles=("admin",), superuser: bool = False,
         company_ids: list[int] | None = None) -> str:
    username = username or f"user{next(_seq)}"
    with UnitOfWork(Actor.system(company_id), db=db) as uow:
        auth.ensure_preset_roles(uow)
        auth.create_user(uow, username=username, password=PASSWORD, roles=list(roles),
                         company_ids=company_ids or [company_id], is_superuser=superuser)
    return username


def actor(db, company_id: int, username: str) -> Actor:
    with db.sessionmaker() as s:
        u = s.scalars(auth.select(auth.User).where(auth.User.username == username)).one()
        return auth.actor_for_user(s, u.id, company_id)


def product(db, company_id: int, sku: str | None = None, **fields) -> int:
    data = {"sku": sku or f"SKU-{next(_seq):04d}", "name": fields.pop("name", "测试商品"), "uom_id": "pcs",
            "cost": Decimal("10")}
    data.update(fields)
    with UnitOfWork(Actor.system(company_id), db=db) as uow:
        return rs.create_record(uow, resources.products, data).id


def bin_location(db, company_id: int, code: str = "A-01-01") -> int:
    from sqlalchemy import select

    from opensupply.masterdata.models import Warehouse

    with UnitOfWork(Actor.system(company_id), db=db) as uow:
        wh = uow.session.scalars(select(Warehouse).where(Warehouse.company_id == company_id)).first()
        return ensure_bin(uow, wh, code).id


_app = None


def app(db):
    """The application, built once per test process (building it is the slow part);
    it reads the process-wide database, which the `db` fixture sets."""
    global _app
    from opensupply.app import create_app
    from opensupply.core.db import set_database

    set_database(db)
    if _app is None:
        _app = create_app()
    return _app


def anonymous(db, **kw) -> TestClient:
    return TestClient(app(db), **kw)


def api_client(db, username: str, password: str = PASSWORD) -> TestClient:
    """A TestClient holding a bearer token for `username`."""
    client = TestClient(app(db), raise_server_exceptions=True)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def web_client(db, username: str, password: str = PASSWORD) -> TestClient:
    """A TestClient logged in through the login form (cookie session)."""
    client = TestClient(app(db), raise_server_exceptions=True, follow_redirects=False)
    r = client.post("/login", data={"username": username, "password": password, "next": "/"})
    assert r.status_code == 303, r.text
    return client


def csrf(client: TestClient) -> str:
    import re

    html = client.get("/").text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# a test of pages, forms, CLI output or validation — nothing SQL-specific — runs on SQLite only, fixtures and all
# (`db` and every fixture built on it); tests of SQL semantics and concurrency keep both backends
SQLITE_ONLY = __import__("pytest").mark.parametrize("db", ["sqlite"], indirect=True)
