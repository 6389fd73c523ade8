"""Purchasing test helpers: a company with a bin, a supplier, products and the people of
procure-to-pay (buyer, approver, finance, admin), plus HTTP shortcuts that read like the business."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from fastapi.testclient import TestClient

from opensupply.core import auth
from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import resources
from tests import factories as f

D = Decimal


@dataclass
class P2P:
    db: object
    company: int
    supplier: int
    supplier_name: str
    products: dict[str, int] = field(default_factory=dict)
    clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, who: str) -> TestClient:
        if who not in self.clients:
            self.clients[who] = f.api_client(self.db, self.usernames[who])
        return self.clients[who]

    @property
    def usernames(self) -> dict[str, str]:
        return {k: f"{k}{self.company}" for k in ("buyer", "approver", "finance", "admin", "warehouse")}

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)


def partner(db, company: int, code: str, name: str, *, supplier: bool = True, terms: int = 30) -> int:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        return rs.create_record(uow, resources.partners, {"code": code, "name": name, "is_supplier": supplier,
                                                          "is_customer": not supplier,
                                                          "payment_terms_days": terms}).id


def setup(db, code: str | None = None) -> P2P:
    c = f.company(db, code)
    f.bin_location(db, c, "A-01-01")
    sup = partner(db, c, "S-YKSS", "永康市宏达不锈钢制品厂")
    p = P2P(db, c, sup, "永康市宏达不锈钢制品厂")
    p.products["cup"] = f.product(db, c, "YS-CUP-350", name="不锈钢保温杯 350ml", cost=D("30"))
    p.products["towel"] = f.product(db, c, "YS-TOWEL-01", name="纯棉毛巾", cost=D("18"), tracking="lot")
    with UnitOfWork(Actor.system(c), db=db) as uow:
        auth.ensure_preset_roles(uow)
        auth.ensure_role(uow, "purchase_manager", "采购经理", ["erp.read", "erp.purchase", "erp.purchase_approve",
                                                           "inventory.read", "accounting.read"])
    names = p.usernames
    f.user(db, c, names["buyer"], roles=("buyer",))
    f.user(db, c, names["approver"], roles=("purchase_manager",))
    f.user(db, c, names["finance"], roles=("finance",))
    f.user(db, c, names["admin"], roles=("admin",))
    f.user(db, c, names["warehouse"], roles=("warehouse",))
    return p


def ok(r, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def order(p: P2P, lines: list[tuple[str, str, str]], *, who: str = "buyer", **extra) -> dict:
    """A confirmed purchase order: lines of (product key, quantity, unit price)."""
    body = {"supplier": p.supplier, "confirm": True, "location": "A-01-01",
            "lines": [{"product": p.products[k], "quantity": q, "unit_price": price} for k, q, price in lines]}
    body.update(extra)
    return ok(p.client(who).post("/api/v1/erp/purchase-orders", json=body), 201)


def receive(p: P2P, po: dict, quantities: list[str], *, lots: list[str | None] | None = None, date: str | None = None,
            status: int = 201):
    lines = [{"order_line_id": ln["id"], "quantity": q, "lot": (lots or [None] * len(quantities))[i]}
             for i, (ln, q) in enumerate(zip(po["lines"], quantities, strict=True)) if q]
    body = {"order_id": po["id"], "lines": lines}
    if date:
        body["receipt_date"] = date
    r = p.client("buyer").post("/api/v1/erp/receipts", json=body)
    return ok(r, status) if status < 400 else r


def bill(p: P2P, po: dict, lines: list[tuple[str, str]], *, date: str | None = None, who: str = "buyer") -> dict:
    body = {"order_id": po["id"], "supplier_invoice_no": "FP-0001",
            "lines": [{"order_line_id": ln["id"], "quantity": q, "unit_price": price}
                      for ln, (q, price) in zip(po["lines"], lines, strict=True) if q]}
    if date:
        body["bill_date"] = date
    return ok(p.client(who).post("/api/v1/erp/vendor-bills", json=body), 201)


def books(p: P2P) -> dict:
    """What an accountant checks: trial balance, stock value vs GL, and a few account balances."""
    c = p.client("admin")
    tb = ok(c.get("/api/v1/accounting/trial-balance"))
    val = ok(c.get("/api/v1/inventory/valuation"))
    balances = defaultdict(lambda: D(0), {ln["code"]: D(ln["debit"]) - D(ln["credit"]) for ln in tb["lines"]})
    return {"debit": D(tb["total_debit"]), "credit": D(tb["total_credit"]), "stock_value": D(val["total_value"]),
            "gl_stock": D(val["gl_inventory_balance"]), "balances": balances}


def assert_books_balance(p: P2P) -> dict:
    b = books(p)
    assert b["debit"] == b["credit"], b
    assert b["gl_stock"] == b["stock_value"], b  # perpetual inventory: GL stock accounts = valuation
    return b


def grni(b: dict) -> Decimal:
    """Balance of 220201 应付账款-暂估: goods received, not yet invoiced (debit-positive)."""
    return b["balances"]["220201"]
