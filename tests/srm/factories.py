"""SRM test helpers: a company with supplier partners, products and users, made through the services.

    S-GANG 宁波钢材贸易有限公司 (supplier)      S-SUXIAO 苏州塑料制品厂 (supplier)      C-KEHU 客户 (customer only)
    products RM-STEEL 冷轧钢板 (¥50), RM-PP 聚丙烯颗粒 (¥12)
    users: buyer1 / buyer2 (preset role 采购 = srm.*), viewer (srm.read only)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from opensupply.core import auth
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.srm import suppliers
from tests import factories as f
from tests.mes.factories import partner

D = Decimal


@dataclass
class Shop:
    db: object
    company: int
    partners: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)

    def uow(self, actor: Actor | None = None, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(actor or Actor.system(self.company), db=self.db, readonly=readonly)

    def actor(self, username: str) -> Actor:
        return f.actor(self.db, self.company, username)


def shop(db, code: str | None = None) -> Shop:
    c = f.company(db, code)
    f.bin_location(db, c, "A-01-01")
    s = Shop(db, c)
    s.partners = {"steel": partner(db, c, "S-GANG", "宁波钢材贸易有限公司", is_supplier=True),
                  "plastic": partner(db, c, "S-SUXIAO", "苏州塑料制品厂", is_supplier=True),
                  "customer": partner(db, c, "C-KEHU", "杭州客户", is_customer=True)}
    s.products = {"steel": f.product(db, c, "RM-STEEL", name="冷轧钢板", cost=D(50)),
                  "pp": f.product(db, c, "RM-PP", name="聚丙烯颗粒", cost=D(12))}
    with UnitOfWork(Actor.system(c), db=db) as uow:
        roles = auth.ensure_preset_roles(uow)
        auth.ensure_role(uow, "srm_viewer", "供应商查看", ["srm.read", "masterdata.read", "erp.read"])
        del roles
    f.user(db, c, "buyer1", roles=("buyer",))
    f.user(db, c, "buyer2", roles=("buyer",))
    f.user(db, c, "viewer", roles=("srm_viewer",))
    return s


def registered(s: Shop, key: str, *, qualified: bool = True, categories=("钢材",)) -> int:
    """Register a supplier in SRM; qualify it through onboarding (buyer1 requests, buyer2 approves)."""
    with s.uow(s.actor("buyer1")) as uow:
        sup = suppliers.register_supplier(uow, s.partners[key], {"categories": list(categories)})
        sup_id = sup.id
        ob = suppliers.request_onboarding(uow, sup_id, "资料齐全") if qualified else None
        ob_id = ob.id if ob else None
    if qualified:
        with s.uow(s.actor("buyer2")) as uow:
            suppliers.approve_onboarding(uow, ob_id, "同意")
    return sup_id
