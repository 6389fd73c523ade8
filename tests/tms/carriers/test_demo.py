"""The TMS carriers demo: six carriers with rate cards for every mainland province from 浙江, shipments chosen
by cost, and a freight bill whose overcharged line is flagged."""

from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import demo as md_demo
from opensupply.masterdata.models import Company, Partner
from opensupply.tms import demo, freight, rates
from opensupply.tms.models import TmsRateCard, TmsShipment
from tests import factories as f


def test_demo_carriers_cards_shipments_and_bill(db):
    c = f.company(db)
    with UnitOfWork(Actor.system(c)) as uow:
        company = uow.session.get(Company, c)
        md_demo.seed(uow, company)
        demo.seed(uow, company)
        demo.seed(uow, company)  # idempotent
    with UnitOfWork(Actor.system(c)) as uow:
        names = set(uow.session.scalars(select(Partner.name).where(Partner.company_id == c,
                                                                   Partner.is_carrier.is_(True))))
        assert {"顺丰速运", "中通快递", "圆通速递", "韵达快递", "京东物流", "德邦快递"} <= names
        cards = list(uow.session.scalars(select(TmsRateCard).where(TmsRateCard.company_id == c)))
        assert len(cards) == 6 and all(len(card.lines) >= 29 for card in cards)
        ships = list(uow.session.scalars(select(TmsShipment).where(TmsShipment.company_id == c)))
        assert len(ships) == 8 and all(s.carrier_id for s in ships)
        for s in ships:
            if s.choose_by == "cost":
                eligible = [q["total"] for q in rates.comparison(uow, s.id) if q["eligible"]]
                assert s.quoted_cost == min(map(Decimal, eligible))
        assert sum(1 for s in ships if s.late) == 1
        (bill,) = freight.list_bills(uow)[0]
        assert {ln.status for ln in bill.lines} >= {"over", "unknown"}
        assert uow.session.scalar(select(func.count(TmsShipment.id)).where(TmsShipment.status == "delivered")) == 1
