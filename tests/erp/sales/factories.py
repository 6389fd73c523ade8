"""Order-to-cash test helpers: a shop with stock on hand and a customer, the books read back."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from opensupply.accounting import service as gl
from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from opensupply.masterdata import resources
from tests import factories as f
from tests.inventory import factories as fi

D = Decimal


@dataclass
class Shop:
    db: object
    company: int
    customer: int
    cup: int  # 保温杯, moving average, 100 in A-01-01 at 30.00
    towel: int  # 毛巾, lot-tracked FIFO: lot L1 40 at 10.00, lot L2 60 at 12.00 in B-01-01

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)


def customer(db, company: int, code: str = "C-HZJY", name: str = "杭州佳源商贸有限公司", **fields) -> int:
    data = {"code": code, "name": name, "is_customer": True, "tax_id": "91330100MA2B3C4D5E",
            "payment_terms_days": 30, "province": "浙江省", "city": "杭州市", "address": "解放路 58 号"}
    data.update(fields)
    with UnitOfWork(Actor.system(company), db=db) as uow:
        return rs.create_record(uow, resources.partners, data).id


def shop(db, code: str | None = None, **customer_fields) -> Shop:
    s = fi.shop(db, code)
    cup = fi.product(s, "YS-CUP-350", cost="30")
    towel = fi.product(s, "YS-TOWEL-01", tracking="lot", valuation="fifo", cost="10")
    with s.uow() as uow:
        from opensupply.masterdata.models import Product

        uow.get(Product, cup).name = "不锈钢保温杯 350ml"
        uow.get(Product, towel).name = "纯棉毛巾 (3 条装)"
    fi.receive(s, "YS-CUP-350", 100, "A-01-01", unit_cost="30")
    fi.receive(s, "YS-TOWEL-01", 40, "B-01-01", lot="L1", unit_cost="10")
    fi.receive(s, "YS-TOWEL-01", 60, "B-01-01", lot="L2", unit_cost="12")
    return Shop(db, s.company, customer(db, s.company, **customer_fields), cup, towel)


def clients(db, s: Shop):
    """API clients of the sales person, the accountant and an admin of the shop."""
    return (f.api_client(db, f.user(db, s.company, roles=("sales",))),
            f.api_client(db, f.user(db, s.company, roles=("finance",))),
            f.api_client(db, f.user(db, s.company, roles=("admin",))))


def balance(s: Shop, role: str, partner_id: int | None = None) -> Decimal:
    """Debit-minus-credit balance of an account (by role) in the shop's books."""
    with s.uow(readonly=True) as uow:
        return gl.account_balance(uow, (gl.account_code(role),), partner_id=partner_id)


def books_balance(client) -> None:
    """The two ledger-health checks every flow ends with."""
    tb = client.get("/api/v1/accounting/trial-balance").json()
    assert tb["total_debit"] == tb["total_credit"], tb
    val = client.get("/api/v1/inventory/valuation").json()
    assert val["total_value"] == val["gl_inventory_balance"], val


def available(s: Shop, product_id: int) -> Decimal:
    with s.uow(readonly=True) as uow:
        return inv.available(uow, product_id)
