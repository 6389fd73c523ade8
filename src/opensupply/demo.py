"""The demo company: created once by `opensupply demo` / `serve --demo`, idempotently.

Each module adds its own believable data through its services (`DEMO_SEEDERS`), so every
page has content. Demo users: `admin` plus one per preset role; their password is
OPENSUPPLY_DEMO_PASSWORD when set, else generated and printed once at creation.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable

from sqlalchemy import select

from opensupply.core import auth
from opensupply.core.config import get_settings
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata.models import Company

DEMO_USERS = (("admin", "admin"), ("sales", "sales"), ("buyer", "buyer"), ("warehouse", "warehouse"),
              ("production", "production"), ("finance", "finance"))

# module path → seeding function(uow, company) run in order; each must be idempotent-safe
# because it only runs when the company is first created.
DEMO_SEEDERS: list[str] = [
    "opensupply.masterdata.demo:seed",
    "opensupply.inventory.demo:seed",
    "opensupply.erp.purchasing.demo:seed",
    "opensupply.erp.sales.demo:seed",
    "opensupply.crm.demo:seed",
    "opensupply.oms.demo:seed",
    "opensupply.wms.demo:seed",
    "opensupply.tms.demo:seed",
    "opensupply.tms.fleet_demo:seed",
    "opensupply.mes.demo:seed",
    "opensupply.srm.demo:seed",
    "opensupply.scm.demo:seed",
    "opensupply.erp.planning.demo:seed",
]
# supplier portal logins the SRM seeder creates (username, supplier code): printed with the users, same password
DEMO_PORTAL_USERS = (("hongda", "S-YKSS"), ("jinxiu", "S-NTFZ"))


def _load(path: str) -> Callable:
    mod, fn = path.split(":")
    return getattr(importlib.import_module(mod), fn)


def _portal_users(uow: UnitOfWork) -> list[tuple[str, str]]:
    names = [u for u, _c in DEMO_PORTAL_USERS]
    have = set(uow.session.scalars(select(auth.User.username).where(auth.User.username.in_(names))))
    return [(u, f"supplier portal {code}") for u, code in DEMO_PORTAL_USERS if u in have]


def seed_demo(company_code: str = "DEMO", progress=None) -> dict:
    from opensupply.masterdata.service import setup_company

    settings = get_settings()
    with UnitOfWork(Actor.system()) as uow:
        company = uow.session.scalar(select(Company).where(Company.code == company_code))
        created = company is None
        password = settings.demo_password
        users = []
        if created:
            company = setup_company(uow, code=company_code, name="杭州云杉家居用品有限公司",
                                    warehouse_code="WH", warehouse_name="杭州主仓")
            auth.ensure_preset_roles(uow)
            password = password or secrets.token_urlsafe(9)
            for username, role in DEMO_USERS:
                auth.create_user(uow, username=username, password=password, display_name=username,
                                 roles=[role], company_ids=[company.id], is_superuser=(username == "admin"),
                                 check_policy=False)
                users.append((username, role))
        elif password:  # an explicit password resets the demo users to it
            for username in [u for u, _r in DEMO_USERS] + [u for u, _c in DEMO_PORTAL_USERS]:
                user = uow.session.scalar(select(auth.User).where(auth.User.username == username))
                if user and not auth.verify_password(user.password_hash, password):
                    user.password_hash = auth.hash_password(password)
        if created:
            # One transaction for the whole demo: a failed seed leaves no half-made company.
            uow.actor = Actor.system(company.id)
            uow.session.info["demo_password"] = password  # for the logins seeders create (supplier portal)
            for i, path in enumerate(DEMO_SEEDERS):
                if progress:
                    progress.print(f"[dim]demo {i + 1}/{len(DEMO_SEEDERS)}: {path}[/dim]")
                try:
                    seeder = _load(path)
                except ModuleNotFoundError:
                    continue
                seeder(uow, company)
            uow.session.info.pop("demo_password", None)
        portal = _portal_users(uow)
    if not users:
        users = list(DEMO_USERS)
    users += portal
    return {"company": company_code, "created": created, "users": users,
            "password": password if created and not settings.demo_password else None,
            "password_hint": None if created else (
                "password: OPENSUPPLY_DEMO_PASSWORD" if settings.demo_password
                else "password: as printed when the demo was created (set OPENSUPPLY_DEMO_PASSWORD to reset)")}
