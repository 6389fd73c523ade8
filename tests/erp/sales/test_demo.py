"""The demo company's order-to-cash history is believable and its books balance."""

from decimal import Decimal

from sqlalchemy import func, select

from opensupply.accounting import service as gl
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.demo import seed_demo
from opensupply.erp.sales import service as svc
from opensupply.erp.sales.models import CustomerInvoice, CustomerReceipt, SalesDelivery, SalesOrder, SalesQuote
from opensupply.inventory import service as inv
from opensupply.masterdata.models import Company


def test_demo_sales_fill_every_page_and_the_books_balance(sqlite_db, monkeypatch):
    # SQLite only: the demo is the embedded setup (`serve --demo`); its flows run on PostgreSQL in their own tests
    db = sqlite_db
    monkeypatch.setenv("OPENSUPPLY_DEMO_PASSWORD", "Demo-pass-2026")
    from opensupply.core.config import get_settings

    get_settings.cache_clear()
    try:
        assert seed_demo()["created"]
    finally:
        get_settings.cache_clear()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        company_id = uow.session.query(Company.id).filter(Company.code == "DEMO").scalar()
    with UnitOfWork(Actor.system(company_id), db=db, readonly=True) as uow:
        s = uow.session

        def count(model, *where):
            return s.scalar(select(func.count()).select_from(model).where(model.company_id == company_id, *where))

        assert count(SalesOrder) >= 40
        channels = set(s.scalars(select(SalesOrder.channel).where(SalesOrder.company_id == company_id)))
        assert {"direct", "tmall", "jd"} <= channels
        assert count(SalesOrder, SalesOrder.state == "cancelled") >= 1
        assert count(SalesOrder, SalesOrder.state == "draft") >= 1
        assert count(SalesQuote) >= 2
        assert count(SalesDelivery, SalesDelivery.backorder_of_id.is_not(None)) >= 2  # partial deliveries
        assert count(SalesDelivery, SalesDelivery.state == "waiting") >= 1
        assert count(CustomerInvoice, CustomerInvoice.invoice_type == "special") >= 5
        assert count(CustomerInvoice, CustomerInvoice.kind == "credit_note") == 1
        assert count(CustomerReceipt) >= 20
        aging = svc.ar_aging(uow)
        overdue = aging["totals"]["total"] - aging["totals"]["not_due"]
        assert overdue > 1000  # some customers are late
        assert aging["totals"]["credit"] >= Decimal("5000")  # the advance payment
        assert aging["totals"]["total"] == gl.account_balance(uow, ("1122",))
        assert svc.overdue_customers(uow)[0]["last_reminder"] is not None or len(svc.overdue_customers(uow)) > 1
        tb = gl.trial_balance(uow)
        assert tb["total_debit"] == tb["total_credit"]
        v = inv.valuation(uow)
        assert v["total_value"] == v["gl_inventory_balance"]
        assert inv.check_ledger(uow) == []
        revenue = -gl.account_balance(uow, ("6001",))
        assert revenue > 100000
        assert gl.account_balance(uow, ("6401",)) > 0
