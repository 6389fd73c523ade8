"""RFQ / portal / scorecard test helpers on top of `tests.srm.factories.shop`: a third supplier, supplier portal
logins for two of them, an RFQ for 100 steel plates + 500 kg PP sent to all three, and MRP planned purchases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from opensupply.core.sequences import company_today
from opensupply.core.types import utcnow
from opensupply.erp.planning import service as planning
from opensupply.erp.planning.models import IndependentDemand, PlannedOrder
from opensupply.srm import portal, rfq
from tests import factories as f
from tests.mes.factories import partner
from tests.srm.factories import Shop, shop

D = Decimal


def tender_shop(db, code: str | None = None) -> Shop:
    s = shop(db, code)
    s.partners["third"] = partner(db, s.company, "S-XINDA", "信达金属制品有限公司", is_supplier=True)
    for key, username in (("steel", "gang"), ("plastic", "suxiao"), ("third", "xinda")):
        with s.uow(s.actor("buyer1")) as uow:
            portal.invite_supplier_user(uow, s.partners[key], username=username, password=f.PASSWORD)
    return s


def make_rfq(s: Shop, *, suppliers=("steel", "plastic", "third"), hours: int = 48, open_it: bool = True,
             required: dt.date | None = None) -> int:
    with s.uow(s.actor("buyer1")) as uow:
        r = rfq.create_rfq(uow, title="二季度钢板与PP采购", deadline=utcnow() + dt.timedelta(hours=hours),
                           terms="含税含运费到厂", suppliers=[s.partners[k] for k in suppliers],
                           lines=[rfq.RfqLineIn("RM-STEEL", "100", "张", required),
                                  rfq.RfqLineIn("RM-PP", "500", "kg", required)])
        if open_it:
            rfq.open_rfq(uow, r.id)
        return r.id


def bid(s: Shop, username: str, rfq_id: int, prices: list, *, terms: str = "月结30天", lead: int = 7) -> None:
    with s.uow(s.actor(username)) as uow:
        data = portal.my_rfq(uow, rfq_id)
        portal.submit_bid(uow, rfq_id, [portal.BidLineIn(ln["id"], p, lead) for ln, p in zip(data["lines"], prices,
                                                                                           strict=True)],
                          payment_terms=terms, validity_days=30)


def later(monkeypatch, hours: int) -> dt.datetime:
    """Move the clock of the RFQ and portal services `hours` ahead (the deadline passes without waiting)."""
    moment = utcnow() + dt.timedelta(hours=hours)
    monkeypatch.setattr(rfq, "utcnow", lambda: moment)
    monkeypatch.setattr(portal, "utcnow", lambda: moment)
    return moment


def planned_purchase(s, qty: str = "80", days: int = 21) -> tuple[int, object]:
    """MRP plans a purchase of steel plates for an independent demand `days` out (80 three weeks out)."""
    with s.uow() as uow:
        uow.add(IndependentDemand(product_id=s.products["steel"], quantity=D(qty), source="manual",
                                  demand_date=company_today(uow) + dt.timedelta(days=days)))
        planning.run_mrp(uow)
        po = uow.session.query(PlannedOrder).filter_by(product_id=s.products["steel"], kind="purchase",
                                                      state="planned").one()
        return po.id, po.due_date


def planned_state(s, planned_id: int) -> tuple[str, int | None, int | None]:
    with s.uow(readonly=True) as uow:
        po = uow.get(PlannedOrder, planned_id)
        return po.state, po.purchase_order_id, po.supplier_id

