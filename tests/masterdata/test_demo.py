"""The demo company's master data: every page has believable content, BOMs included."""

from decimal import Decimal

from sqlalchemy import select

from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms, demo
from opensupply.masterdata.models import Company, Product
from tests import factories as f


def test_demo_master_data_has_released_boms_and_a_draft_change(db):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        demo.seed(uow, uow.session.get(Company, c))
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        cup = uow.session.scalar(select(Product).where(Product.company_id == c, Product.sku == "YS-CUP-500"))
        # 100 cups × 160 g × 1.03 = 16.48 kg of steel plate
        assert [(r.sku, r.quantity, r.uom) for r in boms.explode(uow, cup.id, 100).lines] == [
            ("RM-SS304", Decimal("16.48"), "kg")]
        states = sorted(b.state for b in boms.list_boms(uow, q="YS-CUP-350")[0])
        assert states == ["draft", "released"]
