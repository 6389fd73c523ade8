"""The demo's procurement history is believable and the books behind it balance."""

from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core import auth
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import demo
from opensupply.erp.purchasing import service as svc
from opensupply.erp.purchasing.models import GoodsReceipt, PurchaseOrder, PurchaseRequest, SupplierPayment, VendorBill
from opensupply.inventory import demo as inventory_demo
from opensupply.inventory import service as inv
from opensupply.masterdata import demo as masterdata_demo
from opensupply.masterdata.service import setup_company


def test_demo_procurement_spans_months_and_balances(sqlite_db):
    # SQLite only: the demo is the embedded setup (`serve --demo`); its flows run on PostgreSQL in their own tests
    db = sqlite_db
    with UnitOfWork(Actor.system(), db=db) as uow:
        company = setup_company(uow, code="DEMO", name="杭州云杉家居用品有限公司", warehouse_code="WH",
                                warehouse_name="杭州主仓")
        auth.ensure_preset_roles(uow)
        uow.actor = Actor.system(company.id)
        masterdata_demo.seed(uow, company)
        inventory_demo.seed(uow, company)
        demo.seed(uow, company)
        cid = company.id
    with UnitOfWork(Actor.system(cid), db=db, readonly=True) as uow:
        s = uow.session
        dates = list(s.scalars(select(PurchaseOrder.order_date)))
        assert len(dates) >= 6 and (max(dates) - min(dates)).days >= 120
        assert set(s.scalars(select(PurchaseRequest.state))) >= {"ordered", "pending", "rejected", "draft"}
        assert set(s.scalars(select(PurchaseOrder.state))) >= {"done", "confirmed"}
        assert s.scalar(select(func.count()).select_from(GoodsReceipt)) >= 6
        bills = list(s.scalars(select(VendorBill)))
        assert any(b.match_approved_by for b in bills)  # one bill was blocked by the 3-way match, then approved
        assert {b.state for b in bills} >= {"paid", "posted"}
        assert s.scalar(select(func.count()).select_from(SupplierPayment)) >= 3
        aging = svc.ap_aging(uow)
        assert aging["totals"]["total"] > 0
        for row in aging["items"]:
            st = svc.supplier_statement(uow, row["supplier_id"], date_to=svc.company_today(uow))
            assert st["reconciled"] and st["closing_balance"] == row["total"]
        from opensupply.accounting import service as gl

        tb = gl.trial_balance(uow)
        assert tb["total_debit"] == tb["total_credit"]
        v = inv.valuation(uow)
        assert v["gl_inventory_balance"] == v["total_value"] > Decimal(0)
