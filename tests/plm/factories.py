"""PLM test helpers: the furniture plant of tests/mes with the people of an engineering change —
an engineer who proposes, one approver per department, a lifecycle approver and a plain reader."""

from __future__ import annotations

from dataclasses import dataclass, field

from opensupply.core import auth
from opensupply.core.uow import Actor, UnitOfWork
from tests import factories as f
from tests.mes import factories as fm

ROLES = {
    "plm_engineer": ("研发工程师", ["plm.read", "plm.write", "masterdata.read", "masterdata.boms", "masterdata.cost",
                               "masterdata.write", "mes.read"]),
    "plm_rd": ("研发主管", ["plm.read", "plm.approve.rd"]),
    "plm_production": ("生产主管", ["plm.read", "plm.approve.production", "mes.read"]),
    "plm_quality": ("质量主管", ["plm.read", "plm.approve.quality"]),
    "plm_manager": ("产品经理", ["plm.read", "plm.write", "plm.approve", "masterdata.read"]),
    "plm_viewer": ("只读", ["plm.read"]),
    "plm_secret": ("机密文档", ["plm.read", "plm.write", "plm.documents.confidential", "masterdata.read"]),
}
PEOPLE = {  # username → role
    "engineer": "plm_engineer", "rd_lead": "plm_rd", "buyer": "buyer", "planner": "plm_production",
    "qa": "plm_quality", "manager": "plm_manager", "viewer": "plm_viewer", "viewer2": "plm_viewer",
    "secret": "plm_secret",
}


@dataclass
class World:
    plant: fm.Plant
    users: dict[str, str] = field(default_factory=dict)  # short name → unique username

    @property
    def db(self):
        return self.plant.db

    @property
    def company(self) -> int:
        return self.plant.company

    def actor(self, who: str) -> Actor:
        return f.actor(self.db, self.company, self.users[who])

    def uow(self, who: str | None = None, readonly: bool = False) -> UnitOfWork:
        actor = Actor.system(self.company) if who is None else self.actor(who)
        return UnitOfWork(actor, db=self.db, readonly=readonly)

    def api(self, who: str):
        return f.api_client(self.db, self.users[who])

    def web(self, who: str):
        return f.web_client(self.db, self.users[who])


def world(db, *, stock: bool = False, suffix: str = "") -> World:
    """A plant with its people; usernames are global, so a second world in one test needs a `suffix`."""
    p = fm.plant(db, stock=stock)
    with UnitOfWork(Actor.system(p.company), db=db) as uow:
        auth.ensure_preset_roles(uow)
        for code, (name, perms) in ROLES.items():
            auth.ensure_role(uow, code, name, perms)
    w = World(p)
    for who, role in PEOPLE.items():
        w.users[who] = f.user(db, p.company, f"{who}{suffix}", roles=(role,))
    w.users["admin"] = f.user(db, p.company, f"boss{suffix}", roles=("admin",))
    return w
