"""Rate-card pricing, every amount computed by hand in the comments."""

import datetime as dt
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from opensupply.tms import pricing as p

DAY = dt.date(2026, 11, 25)
SF_BJ = p.Line("北京市", D(1), D(23), D(1), D(13), lead_days=1)


def sf(**kw) -> p.Card:
    return p.Card(lines=(SF_BJ,), surcharges=(p.Surcharge("insurance", "保价", "value_pct", D("0.5"), optional=True),),
                  **kw)


def test_sf_express_hangzhou_to_beijing_first_kg_plus_additional():
    # 2.3 kg → 3 kg chargeable (1 kg unit) → ¥23 + 2 × ¥13 = ¥49
    r = p.price(sf(), origin="浙江省", dest="北京市", parcels=[p.Parcel(D("2.3"))], on=DAY)
    assert r.eligible and r.chargeable_kg == D(3) and r.freight == D("49.00") and r.total == D("49.00")
    assert r.lead_days == 1
    # exactly the first weight: no additional charge
    assert p.price(sf(), origin=None, dest="北京市", parcels=[p.Parcel(D(1))], on=DAY).total == D("23.00")


def test_insurance_only_when_asked_and_fuel_on_freight():
    # 保价 0.5 % of ¥2,000 = ¥10; fuel 10 % of freight ¥49 = ¥4.90 → ¥63.90
    r = p.price(sf(fuel_surcharge_pct=D(10)), origin=None, dest="北京市", parcels=[p.Parcel(D("2.3"))], on=DAY,
                declared_value=D(2000), options=("insurance",))
    assert r.freight == D("49.00") and r.surcharges == D("14.90") and r.total == D("63.90")
    assert [s["code"] for s in r.breakdown["surcharges"]] == ["insurance", "fuel"]
    no_ins = p.price(sf(), origin=None, dest="北京市", parcels=[p.Parcel(D("2.3"))], on=DAY, declared_value=D(2000))
    assert no_ins.total == D("49.00")


def test_zto_volumetric_8000_beats_actual_weight():
    # 40×30×20 cm = 24,000 cm³ ÷ 8000 = 3 kg > 1 kg actual → ¥8 + 2 × ¥4 = ¥16
    card = p.Card(lines=(p.Line("北京市", D(1), D(8), D(1), D(4), lead_days=3),), volumetric_divisor=8000)
    r = p.price(card, origin=None, dest="北京市", parcels=[p.Parcel(D(1), D(40), D(30), D(20))], on=DAY)
    assert r.chargeable_kg == D(3) and r.total == D("16.00")
    # at divisor 6000 the same box is 4 kg → ¥20
    card6 = p.Card(lines=card.lines, volumetric_divisor=6000)
    assert p.price(card6, origin=None, dest="北京市", parcels=[p.Parcel(D(1), D(40), D(30), D(20))],
                   on=DAY).total == D("20.00")


def test_remote_surcharge_for_xinjiang_only():
    lines = (p.Line("新疆维吾尔自治区", D(1), D(18), D(1), D(12)), p.Line("北京市", D(1), D(8), D(1), D(4)))
    remote = p.Surcharge("remote", "偏远", "fixed", D(10), ("新疆维吾尔自治区", "西藏自治区"))
    card = p.Card(lines=lines, surcharges=(remote,))
    # 2 kg to 新疆: ¥18 + ¥12 + 偏远 ¥10 = ¥40
    assert p.price(card, origin=None, dest="新疆维吾尔自治区", parcels=[p.Parcel(D(2))], on=DAY).total == D("40.00")
    # 2 kg to 北京: ¥8 + ¥4, no 偏远
    assert p.price(card, origin=None, dest="北京市", parcels=[p.Parcel(D(2))], on=DAY).total == D("12.00")


def test_half_kg_unit_rounds_each_package_up_and_sums():
    card = p.Card(lines=(p.Line("上海市", D(1), D(10), D("0.5"), D(3)),))
    # 1.2 kg → 1.5 kg: ¥10 + 1 × ¥3 = ¥13
    assert p.price(card, origin=None, dest="上海市", parcels=[p.Parcel(D("1.2"))], on=DAY).total == D("13.00")
    # two packages 0.3 kg + 0.7 kg → 0.5 + 1.0 = 1.5 kg (per package, not 1.0 on the sum)
    r = p.price(card, origin=None, dest="上海市", parcels=[p.Parcel(D("0.3")), p.Parcel(D("0.7"))], on=DAY)
    assert r.chargeable_kg == D("1.5") and r.total == D("13.00")


def test_per_kg_and_pct_surcharges_and_minimum_charge():
    card = p.Card(lines=(p.Line("浙江省", D(1), D(5), D(1), D(1), min_charge=D(12)),),
                  surcharges=(p.Surcharge("upstairs", "上楼", "per_kg", D("0.5")),))
    # 1 kg: ¥5 + 上楼 ¥0.50 = ¥5.50 → minimum ¥12
    r = p.price(card, origin=None, dest="浙江省", parcels=[p.Parcel(D(1))], on=DAY)
    assert r.total == D("12.00") and r.breakdown["minimum_lift"] == "6.50"
    pct = p.Card(lines=(SF_BJ,), surcharges=(p.Surcharge("peak", "旺季", "pct", D(20)),))
    # ¥49 + 20 % = ¥58.80
    assert p.price(pct, origin=None, dest="北京市", parcels=[p.Parcel(D(3))], on=DAY).total == D("58.80")


def test_origin_specific_line_beats_any_origin():
    card = p.Card(lines=(p.Line("北京市", D(1), D(30), D(1), D(15)),
                         p.Line("北京市", D(1), D(23), D(1), D(13), origin_province="浙江省")))
    assert p.price(card, origin="浙江省", dest="北京市", parcels=[p.Parcel(D(1))], on=DAY).total == D("23.00")
    assert p.price(card, origin="广东省", dest="北京市", parcels=[p.Parcel(D(1))], on=DAY).total == D("30.00")


def test_eligibility_reasons():
    def why(card, dest="北京市", kg=D(1)):
        r = p.price(card, origin=None, dest=dest, parcels=[p.Parcel(kg)], on=DAY)
        assert not r.eligible and r.total is None
        return r.reason

    assert "过期" in why(sf(valid_to=dt.date(2026, 10, 31)))
    assert "生效" in why(sf(valid_from=dt.date(2026, 12, 1)))
    assert "西藏" in why(sf(), dest="西藏自治区")
    assert "上限" in why(sf(max_weight_kg=D(30)), kg=D("30.5"))
    assert "停用" in why(sf(carrier_active=False))

weights = st.decimals(min_value=D("0.01"), max_value=D(60), places=2)


@settings(max_examples=200, deadline=None)
@given(a=weights, b=weights, unit=st.sampled_from([D("0.5"), D(1)]))
def test_price_never_falls_when_weight_rises_and_chargeable_covers_actual(a, b, unit):
    card = p.Card(lines=(p.Line("北京市", D(1), D(8), unit, D(4)),))
    lo, hi = sorted((a, b))
    r_lo = p.price(card, origin=None, dest="北京市", parcels=[p.Parcel(lo)], on=DAY)
    r_hi = p.price(card, origin=None, dest="北京市", parcels=[p.Parcel(hi)], on=DAY)
    assert r_lo.total <= r_hi.total
    assert r_hi.chargeable_kg >= hi and r_hi.chargeable_kg - hi < unit
    assert (r_hi.chargeable_kg / unit) == (r_hi.chargeable_kg / unit).to_integral_value()
