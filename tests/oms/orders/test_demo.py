"""The demo company's OMS: three shops, about 40 orders, fulfilments waiting for the warehouse,
held orders, a merged pair, one parcel signed for and a return; the books still balance."""

from sqlalchemy import func, select

from opensupply.accounting import service as gl
from opensupply.core import jobs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.demo import seed_demo
from opensupply.inventory import service as inv
from opensupply.masterdata.models import Company
from opensupply.oms.models import OmsFulfilment, OmsOrder, OmsReturn, OmsShop
from tests import factories as f


def test_demo_orders(sqlite_db, monkeypatch):
    # SQLite only: the demo is the embedded setup (`serve --demo`); its flows run on PostgreSQL in their own tests
    db = sqlite_db
    monkeypatch.setattr(jobs, "in_process", False)
    monkeypatch.setenv("OPENSUPPLY_DEMO_PASSWORD", "Demo-pass-2026")
    from opensupply.core.config import get_settings

    get_settings.cache_clear()
    try:
        assert seed_demo()["created"]
    finally:
        get_settings.cache_clear()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        cid = uow.session.query(Company.id).filter(Company.code == "DEMO").scalar()
    with UnitOfWork(Actor.system(cid), db=db, readonly=True) as uow:
        s = uow.session

        def count(model, *where):
            return s.scalar(select(func.count()).select_from(model).where(model.company_id == cid, *where))

        assert count(OmsShop) >= 3
        assert count(OmsOrder) >= 38
        assert count(OmsOrder, OmsOrder.on_hold.is_(True)) >= 2
        assert count(OmsOrder, OmsOrder.merged_into_id.is_not(None)) >= 1
        assert count(OmsOrder, OmsOrder.status == "pending") >= 1
        live = OmsFulfilment.status.in_(("allocated", "picking", "packed"))  # the WMS demo may have started waves
        assert count(OmsFulfilment, live, OmsFulfilment.shop_id.is_not(None)) >= 10
        assert count(OmsFulfilment, OmsFulfilment.status == "delivered") >= 1
        assert count(OmsReturn) >= 1
        tb = gl.trial_balance(uow)
        assert tb["total_debit"] == tb["total_credit"]
        val = inv.valuation(uow)
        assert val["total_value"] == val["gl_inventory_balance"]
        order_ids = list(s.scalars(select(OmsOrder.id).where(OmsOrder.company_id == cid)))
        ful_ids = list(s.scalars(select(OmsFulfilment.id).where(OmsFulfilment.company_id == cid)))
        ret_ids = list(s.scalars(select(OmsReturn.id).where(OmsReturn.company_id == cid)))
    # every page renders on the demo's varied data (held, merged, split, ERP-entered, returned …)
    web = f.web_client(db, "admin", "Demo-pass-2026")
    urls = ["/oms/orders", "/oms/orders?hold=1", "/oms/orders?status=allocated", "/oms/fulfilments",
            "/oms/returns", "/oms/dashboard"]
    urls += [f"/oms/orders/{i}" for i in order_ids] + [f"/oms/fulfilments/{i}" for i in ful_ids]
    urls += [f"/oms/returns/{i}" for i in ret_ids]
    for url in urls:
        assert web.get(url).status_code == 200, url
