"""The demo company has supplier management, a forecast and an MRP run, shown to the demo buyer; seeding
again changes nothing."""

from sqlalchemy import func, select

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.demo import seed_demo
from opensupply.erp.planning.models import MrpRun, PlanningPolicy
from opensupply.scm.models import ForecastRun
from opensupply.srm import suppliers
from opensupply.srm.models import Supplier
from opensupply.srm.tender_models import AdvanceShipNotice, Bid, Rfq, Scorecard
from tests import factories as f

PASSWORD = "Demo-pass-2026"


def _counts(db) -> dict:
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        return {m.__name__: uow.session.scalar(select(func.count()).select_from(m))
                for m in (Supplier, Rfq, Bid, Scorecard, ForecastRun, MrpRun, PlanningPolicy)}


def test_demo_srm_scm_and_planning(sqlite_db, monkeypatch):
    db = sqlite_db
    monkeypatch.setenv("OPENSUPPLY_DEMO_PASSWORD", PASSWORD)
    from opensupply.core.config import get_settings

    get_settings.cache_clear()
    try:
        result = seed_demo()
        assert result["created"]
        assert ("hongda", "supplier portal S-YKSS") in result["users"]
        with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
            s = uow.session
            assert set(s.scalars(select(Supplier.status))) == {"qualified", "potential", "suspended"}
            assert [r.state for r in s.scalars(select(Rfq).order_by(Rfq.id))] == ["awarded", "open"]
            company_id = s.scalar(select(Supplier.company_id).limit(1))
        with UnitOfWork(Actor.system(company_id), db=db, readonly=True) as uow:
            assert [c["supplier"].partner_code for c in suppliers.expiring_certificates(uow, 30)] == ["S-YKSS"]
            runs = list(uow.session.scalars(select(ForecastRun)))
            assert [r.state for r in runs] == ["approved"] and runs[0].series_count > 0
            assert uow.session.scalar(select(MrpRun.state)) == "done"
            notices = list(uow.session.scalars(select(AdvanceShipNotice)))
            assert [(n.state, n.tracking_no) for n in notices] == [("shipped", "DPK2026120801")]
        before = _counts(db)
        assert before["Bid"] == 3 and before["Scorecard"] > 0 and before["PlanningPolicy"] > 0

        buyer = f.web_client(db, "buyer", PASSWORD)
        for url, text in (("/srm/suppliers", "永康市宏达不锈钢制品厂"), ("/srm/rfqs", "收纳箱及衣架补货询价"),
                          ("/scm/forecasts", "FC"), ("/erp/planning", "MRP")):
            r = buyer.get(url)
            assert r.status_code == 200, url
            assert text in r.text, url
        portal = f.web_client(db, "hongda", PASSWORD)
        assert portal.get("/portal").status_code in (200, 303)

        again = seed_demo()
        assert again["created"] is False
        assert _counts(db) == before
    finally:
        get_settings.cache_clear()
