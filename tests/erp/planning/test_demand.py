"""Independent demand: the SCM forecast replaces its own rows; replaying the same rows changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from opensupply.core.errors import ValidationFailed
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.planning.demand import set_independent_demand
from opensupply.erp.planning.models import IndependentDemand
from tests import factories as f

D = Decimal


def _rows(db, company):
    with UnitOfWork(Actor.system(company), db=db, readonly=True) as uow:
        return sorted((r.product_id, r.demand_date, r.quantity, r.source) for r in uow.session.scalars(
            select(IndependentDemand).where(IndependentDemand.company_id == company)))


def test_forecast_rows_replace_their_source_and_replay_is_a_no_op(db):
    c = f.company(db)
    cup = f.product(db, c, "YS-CUP-350")
    monday = dt.date(2027, 1, 4)
    rows = [{"product_id": cup, "date": monday, "quantity": D("120")},
            {"sku": "YS-CUP-350", "date": monday + dt.timedelta(days=7), "quantity": D("80")},
            {"product_id": cup, "date": monday + dt.timedelta(days=14), "quantity": D("0")}]
    with UnitOfWork(Actor.system(c), db=db) as uow:
        assert set_independent_demand(uow, source="manual", rows=[{"product_id": cup, "date": monday,
                                                                   "quantity": D("5")}]) == 1
        assert set_independent_demand(uow, source="scm_forecast", rows=rows) == 2
    first = _rows(db, c)
    with UnitOfWork(Actor.system(c), db=db) as uow:
        assert set_independent_demand(uow, source="scm_forecast", rows=rows) == 2
    assert _rows(db, c) == first
    assert sorted((q, s) for _p, _d, q, s in first) == [(D(5), "manual"), (D(80), "scm_forecast"),
                                                         (D(120), "scm_forecast")]
    with UnitOfWork(Actor.system(c), db=db) as uow:
        assert set_independent_demand(uow, source="scm_forecast", rows=[]) == 0
    assert [s for *_x, s in _rows(db, c)] == ["manual"]


def test_unknown_sku_is_refused_with_its_line(db):
    c = f.company(db)
    with UnitOfWork(Actor.system(c), db=db) as uow, pytest.raises(ValidationFailed) as err:
        set_independent_demand(uow, source="scm_forecast", rows=[{"sku": "NOPE", "date": dt.date(2027, 1, 4),
                                                                  "quantity": 3}])
    assert err.value.field == "sku" and "NOPE" in str(err.value)
