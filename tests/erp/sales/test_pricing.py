"""Line arithmetic: every line rounds to the cent, net + VAT = gross, a document's totals are the
sum of its rounded lines, and partial invoices of a line add up to the line exactly."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensupply.core.errors import ValidationFailed
from opensupply.erp.sales import pricing

D = Decimal
CENT = D("0.01")
quantities = st.decimals(min_value=D("0.001"), max_value=D("100000"), places=3, allow_nan=False)
prices = st.decimals(min_value=D("0"), max_value=D("99999.999999"), places=6, allow_nan=False)
rates = st.sampled_from(["13", "9", "6", "0", "0.13", "13%"])
discounts = st.decimals(min_value=D("0"), max_value=D("100"), places=2, allow_nan=False)
line = st.tuples(quantities, prices, rates, discounts)


@settings(max_examples=300, deadline=None)
@given(st.lists(line, min_size=1, max_size=12), st.booleans())
def test_totals_are_the_sum_of_rounded_lines(lines, inclusive):
    amounts = [pricing.line_amounts(q, p, pricing.tax_rate(r), d, price_includes_tax=inclusive) for q, p, r, d in lines]
    for a, (q, p, r, d) in zip(amounts, lines, strict=True):
        assert a.net == a.net.quantize(CENT) and a.tax == a.tax.quantize(CENT)
        assert a.net + a.tax == a.gross
        base = q * p * (100 - d) / 100
        if inclusive:
            assert abs(a.gross - base) <= D("0.005")
        else:
            assert abs(a.net - base) <= D("0.005")
            assert abs(a.tax - a.net * pricing.tax_rate(r)) <= D("0.005")
    total = pricing.totals(amounts)
    assert total.net == sum(a.net for a in amounts)
    assert total.tax == sum(a.tax for a in amounts)
    assert total.gross == sum(a.gross for a in amounts) == total.net + total.tax


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=500), prices, rates, discounts, st.booleans(), st.data())
def test_partial_invoices_add_up_to_the_line(qty, price, rate, disc, inclusive, data):
    rate = pricing.tax_rate(rate)
    whole = pricing.line_amounts(qty, price, rate, disc, price_includes_tax=inclusive)
    left, done = D(qty), pricing.LineAmounts(D(0), D(0), D(0))
    while left > 0:
        part_qty = D(data.draw(st.integers(min_value=1, max_value=int(left))))
        part = pricing.part_of_line(part_qty, left, price, rate, disc, price_includes_tax=inclusive, line=whole,
                                    already=done)
        assert part.net + part.tax == part.gross and part.gross >= 0 and part.net >= 0
        done = pricing.totals([done, part])
        left -= part_qty
    assert done == whole


def test_vat_rates_are_the_chinese_ones():
    assert [pricing.tax_rate(v) for v in ("13", "0.09", "6%", 0)] == [D("0.13"), D("0.09"), D("0.06"), D("0")]
    for bad in ("10", "17", "abc", "-13"):
        with pytest.raises(ValidationFailed):
            pricing.tax_rate(bad)


def test_examples_a_person_can_check():
    # 99.00 including 13 % VAT → 87.61 + 11.39
    assert pricing.line_amounts(1, "99", D("0.13"), price_includes_tax=True) == pricing.LineAmounts(
        D("87.61"), D("11.39"), D("99.00"))
    # 3 × 33.333 less 10 % excluding 6 % → 90.00 + 5.40
    assert pricing.line_amounts(3, "33.333", D("0.06"), 10, price_includes_tax=False) == pricing.LineAmounts(
        D("90.00"), D("5.40"), D("95.40"))
