"""Units and money, checked against hand-computed examples."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from opensupply.core import i18n
from opensupply.core.errors import ValidationFailed
from opensupply.core.money import CurrencyMismatch, Money, convert
from opensupply.core.units import convert_qty, round_qty
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import CurrencyRate, Uom
from tests import factories as f

D = Decimal


def unit(code, category, ratio, rounding="0.01"):
    return SimpleNamespace(code=code, category_id=category, ratio=D(ratio), rounding=D(rounding))


PCS, BOX = unit("pcs", 1, "1", "1"), unit("box", 1, "12", "1")
KG, G, T = unit("kg", 2, "1"), unit("g", 2, "0.001"), unit("t", 2, "1000", "0.001")


# ------------------------------------------------------------------- units
def test_boxes_to_pieces_and_back():
    assert convert_qty(D("2"), BOX, PCS) == D("24")
    assert convert_qty(D("30"), PCS, BOX) == D("3")  # 2.5 boxes rounds half-up to whole boxes
    assert convert_qty(D("30"), PCS, BOX, round=False) == D("2.5")


def test_weight_rounds_to_target_step():
    assert convert_qty(D("1234.5"), G, KG) == D("1.23")  # 1.2345 kg → 0.01 kg step
    assert convert_qty(D("1235"), G, KG) == D("1.24")    # half-up
    assert convert_qty(D("2.5"), T, KG) == D("2500.00")
    assert convert_qty(D("750"), KG, T) == D("0.750")


def test_same_unit_is_only_rounded():
    assert convert_qty("3.3", PCS, PCS) == D("3")
    assert convert_qty("3.3", PCS, PCS, round=False) == D("3.3")


def test_across_categories_is_a_clear_error():
    with pytest.raises(ValidationFailed) as err:
        convert_qty(D("1"), KG, PCS)
    assert "kg" in err.value.message and "pcs" in err.value.message
    assert err.value.code == "uom_category_mismatch"


def test_round_qty_steps():
    assert round_qty(D("7.26"), D("0.5")) == D("7.5")
    assert round_qty(D("7.24"), D("0.5")) == D("7.0")
    assert round_qty(D("7.24"), None) == D("7.24")


def test_preset_units_in_the_database_convert(db):
    f.company(db)
    with UnitOfWork(f.system(None), db=db, readonly=True) as uow:
        units = {u.code: u for u in uow.session.scalars(select(Uom))}
        assert convert_qty(D("3"), units["box"], units["pcs"]) == D("36")
        assert convert_qty(D("250"), units["ml"], units["l"]) == D("0.25")
        with pytest.raises(ValidationFailed):
            convert_qty(D("1"), units["m"], units["kg"])


# ------------------------------------------------------------------- money
def test_money_adds_within_one_currency():
    assert Money("10.10", "CNY") + Money("0.20", "cny") == Money("10.30", "CNY")
    assert sum([Money("1.5"), Money("2.5")]) == Money("4")
    assert Money("10") - Money("2.5") == Money("7.5")
    assert Money("3.333") * 3 == Money("9.999")
    assert (Money("10") / 4).amount == D("2.5")
    assert -Money("5") < Money("1")


def test_money_refuses_mixing_currencies():
    with pytest.raises(CurrencyMismatch):
        Money("1", "CNY") + Money("1", "USD")
    with pytest.raises(CurrencyMismatch):
        Money("1", "CNY") < Money("1", "USD")
    with pytest.raises(ValidationFailed):
        Money("1", "RMB1")


def test_quantize_to_currency_minor_unit():
    assert Money("1.005", "CNY").quantize().amount == D("1.01")
    assert Money("1.004", "CNY").quantize().amount == D("1.00")
    assert Money("1234.5", "JPY").quantize().amount == D("1235")
    assert Money("2.5", "JPY").quantize().amount == D("3")  # half-up, not banker's


def test_allocate_keeps_the_total():
    parts = Money("100", "CNY").allocate([1, 1, 1])
    assert [p.amount for p in parts] == [D("33.34"), D("33.33"), D("33.33")]
    assert sum(parts) == Money("100")


def test_money_formats_by_locale():
    i18n.set_locale("zh_CN")
    assert Money("1234.5", "CNY").format() == "¥1,234.50"
    i18n.set_locale("en")
    try:
        assert Money("1234.5", "USD").format() == "$1,234.50"
        assert Money("1234", "JPY").format() == "¥1,234"
    finally:
        i18n.set_locale("zh_CN")


def _rate(db, company, code, date, rate):
    with UnitOfWork(f.system(company), db=db) as uow:
        uow.add(CurrencyRate(currency_code=code, date=date, rate=D(rate)))


def test_convert_uses_latest_rate_on_or_before_the_date(db):
    c = f.company(db)
    _rate(db, c, "USD", dt.date(2026, 1, 1), "7.10")
    _rate(db, c, "USD", dt.date(2026, 2, 1), "7.20")
    _rate(db, c, "HKD", dt.date(2026, 1, 15), "0.91")
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        # 100 USD × 7.10 = 710.00 CNY (the February rate is not yet in force on Jan 31)
        assert convert(uow, D("100"), "USD", "CNY", dt.date(2026, 1, 31)) == Money("710.00", "CNY")
        assert convert(uow, D("100"), "USD", "CNY", dt.date(2026, 2, 1)) == Money("720.00", "CNY")
        # 720 CNY / 7.20 = 100 USD
        assert convert(uow, Money("720", "CNY"), "CNY", "USD", dt.date(2026, 3, 1)) == Money("100", "USD")
        # cross rate through CNY: 100 × 7.10 / 0.91 = 780.2197… → 780.22 HKD
        assert convert(uow, D("100"), "USD", "HKD", dt.date(2026, 1, 20)) == Money("780.22", "HKD")
        assert convert(uow, D("5.555"), "CNY", "CNY", dt.date(2026, 1, 1)).amount == D("5.56")


def test_convert_without_a_rate_is_a_clear_error(db):
    c = f.company(db)
    _rate(db, c, "USD", dt.date(2026, 2, 1), "7.20")
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        with pytest.raises(ValidationFailed) as err:  # 422: the books lack a rate
            convert(uow, D("1"), "USD", "CNY", dt.date(2026, 1, 31))
        assert "USD" in err.value.message and "2026-01-31" in err.value.message
        with pytest.raises(ValidationFailed):
            convert(uow, D("1"), "EUR", "CNY", dt.date(2026, 3, 1))


def test_rates_of_another_company_are_not_used(db):
    a, b = f.company(db), f.company(db)
    _rate(db, b, "USD", dt.date(2026, 1, 1), "7.00")
    with UnitOfWork(f.system(a), db=db, readonly=True) as uow, pytest.raises(ValidationFailed):
        convert(uow, D("1"), "USD", "CNY", dt.date(2026, 6, 1))
