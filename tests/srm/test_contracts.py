"""Price agreements: price breaks and validity decide the agreed price; a PO line above it is warned on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.erp.purchasing import service as purchasing
from opensupply.srm import contracts
from tests.srm.factories import registered, shop

D = Decimal
DAY = dt.date(2026, 12, 7)


def _agreement(s, key="steel", breaks=(("0", "50"), ("100", "46"), ("500", "44")), start="2026-01-01",
               end="2027-12-31", activate=True):
    with s.uow(s.actor("buyer1")) as uow:
        c = contracts.create_contract(uow, {
            "partner": s.partners[key], "title": "2026 年钢板年度协议", "valid_from": start, "valid_to": end,
            "payment_terms_days": 60, "payment_terms": "月结 60 天",
            "prices": [{"product": "RM-STEEL", "min_quantity": q, "unit_price": p} for q, p in breaks]})
        cid = c.id
    if activate:
        with s.uow(s.actor("buyer2")) as uow:
            contracts.activate_contract(uow, cid)
    return cid


def test_agreed_price_follows_the_price_breaks_and_validity(db):
    s = shop(db)
    registered(s, "steel")
    _agreement(s)
    with s.uow(readonly=True) as uow:
        price = lambda q, day=DAY: (contracts.agreed_price(uow, s.partners["steel"], s.products["steel"], q, day)  # noqa: E731
                                    or (None,))[0]
        assert price("10") == D(50)
        assert price("99.9") == D(50)
        assert price("100") == D(46)
        assert price("499") == D(46)
        assert price("500") == D(44)
        assert price("10", dt.date(2028, 1, 1)) is None  # after the validity
        assert contracts.agreed_price(uow, s.partners["steel"], s.products["pp"], 10, DAY) is None


def test_po_line_above_agreed_price_gets_a_warning_not_a_refusal(db):
    s = shop(db)
    registered(s, "steel")
    _agreement(s)
    with s.uow() as uow:
        po = purchasing.create_order(uow, s.partners["steel"], [
            purchasing.OrderLineIn("RM-STEEL", "200", "47.50"),  # break 100 → 46: above
            purchasing.OrderLineIn("RM-STEEL", "20", "50")], order_date=DAY)  # break 0 → 50: at the price
        po_id = po.id
    with s.uow(readonly=True) as uow:
        warnings = contracts.price_warnings(uow, order_id=po_id)
    assert len(warnings) == 1
    w = warnings[0]
    assert (w["quantity"], w["unit_price"], w["agreed_price"], w["over_pct"]) == (D(200), D("47.50"), D(46), D("3.3"))
    assert w["message"] == "单价 47.50 高于合同 HT2026-00001 的协议价 46.00"


def test_contract_rules(db):
    s = shop(db)
    registered(s, "steel")
    with pytest.raises(ValidationFailed) as exc, s.uow() as uow:
        contracts.create_contract(uow, {"partner": s.partners["steel"], "title": "x", "valid_from": "2026-02-01",
                                        "valid_to": "2026-01-01", "prices": [{"product": "RM-STEEL",
                                                                              "unit_price": "1"}]})
    assert exc.value.field == "valid_to"
    with pytest.raises(ValidationFailed, match="协议单价必须大于 0"), s.uow() as uow:
        contracts.create_contract(uow, {"partner": s.partners["steel"], "title": "x", "valid_from": "2026-01-01",
                                        "valid_to": "2026-12-31", "prices": [{"product": "RM-STEEL",
                                                                              "unit_price": "0"}]})
    with pytest.raises(ValidationFailed, match="尚未在供应商管理中建档"), s.uow() as uow:
        contracts.create_contract(uow, {"partner": s.partners["plastic"], "title": "x", "valid_from": "2026-01-01",
                                        "valid_to": "2026-12-31", "prices": []})
    first = _agreement(s)
    second = _agreement(s, start="2027-06-01", end="2028-05-31", activate=False)
    with pytest.raises(Conflict, match="重叠"), s.uow() as uow:
        contracts.activate_contract(uow, second)
    with s.uow() as uow:
        assert contracts.expire_contracts(uow, today=dt.date(2028, 1, 1)) == 1
    with s.uow() as uow:
        contracts.activate_contract(uow, second)
        with pytest.raises(Conflict, match="只有草稿合同可以修改"):
            contracts.update_contract(uow, first, {"title": "改"})


def test_price_comparison_across_suppliers(db):
    s = shop(db)
    registered(s, "steel")
    registered(s, "plastic")
    _agreement(s)
    with s.uow() as uow:
        for key, qty, price, day in (("steel", "100", "46", dt.date(2026, 11, 1)),
                                     ("steel", "50", "49", dt.date(2026, 12, 1)),
                                     ("plastic", "100", "45", dt.date(2026, 12, 2))):
            po = purchasing.create_order(uow, s.partners[key], [purchasing.OrderLineIn("RM-STEEL", qty, price)],
                                         order_date=day)
            purchasing.confirm_order(uow, po.id)
        purchasing.create_order(uow, s.partners["plastic"], [purchasing.OrderLineIn("RM-STEEL", "1", "99")])  # draft
    with s.uow(readonly=True) as uow:
        cmp = contracts.price_comparison(uow, "RM-STEEL")
    rows = {r["code"]: r for r in cmp["suppliers"]}
    assert rows["S-GANG"]["orders"] == 2 and rows["S-GANG"]["last_price"] == D(49)
    assert rows["S-GANG"]["min_price"] == D(46) and rows["S-GANG"]["avg_price"] == D("47.0000")
    assert rows["S-GANG"]["agreed_price"] == D(50)  # the break for the last order's 50 pieces
    assert rows["S-SUXIAO"]["orders"] == 1 and rows["S-SUXIAO"]["agreed_price"] is None
    assert len(cmp["history"]) == 3
