"""Customer analytics on plain data: RFM scores and segments, purchase intervals.

No database here: the service gathers each customer's orders (date, amount) and hands them in.

RFM, as Chinese sales teams use it:
* R = days since the last order (fewer is better), F = number of orders, M = revenue.
* Each is scored 1–5 against the company's own customers: the quintile cut points
  (`statistics.quantiles(values, n=5, method="inclusive")`) split the values; a value scores
  1 + the number of cut points it is strictly better than. When the values do not spread at all
  (a single customer, or all alike) everyone gets the middle score 3.
* A dimension is *high* when its score is 3 or more (the upper half around the median); the
  eight high/low combinations are the classic segments 重要价值客户 … 一般挽留客户.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from dataclasses import dataclass
from decimal import Decimal

from opensupply.core.i18n import lazy_gettext as _l

# (R high, F high, M high) → segment code
SEGMENT_OF = {
    (True, True, True): "important_value",
    (True, False, True): "important_develop",
    (False, True, True): "important_keep",
    (False, False, True): "important_retain",
    (True, True, False): "general_value",
    (True, False, False): "general_develop",
    (False, True, False): "general_keep",
    (False, False, False): "general_retain",
}
SEGMENT_LABELS = {
    "important_value": _l("重要价值客户"),
    "important_develop": _l("重要发展客户"),
    "important_keep": _l("重要保持客户"),
    "important_retain": _l("重要挽留客户"),
    "general_value": _l("一般价值客户"),
    "general_develop": _l("一般发展客户"),
    "general_keep": _l("一般保持客户"),
    "general_retain": _l("一般挽留客户"),
    "no_orders": _l("未成交客户"),
}
SEGMENTS = tuple(SEGMENT_LABELS)


@dataclass(frozen=True)
class Order:
    partner_id: int
    date: dt.date
    amount: Decimal


@dataclass
class CustomerStats:
    partner_id: int
    order_count: int = 0
    revenue: Decimal = Decimal(0)
    first_order: dt.date | None = None
    last_order: dt.date | None = None
    recency_days: int | None = None
    avg_interval_days: Decimal | None = None
    median_interval_days: Decimal | None = None
    next_purchase: dt.date | None = None
    r: int | None = None
    f: int | None = None
    m: int | None = None
    segment: str = "no_orders"

    @property
    def rfm(self) -> str:
        return f"{self.r}{self.f}{self.m}" if self.r else ""


def cut_points(values: list) -> list:
    """The four quintile cut points of `values` (all equal when there is a single value)."""
    if not values:
        return []
    if len(values) == 1:
        return [values[0]] * 4
    return statistics.quantiles(values, n=5, method="inclusive")


def score_high_is_good(value, cuts: list) -> int:
    if cuts and cuts[0] == cuts[-1]:
        return 3  # nobody to compare with (one customer, or all alike): the middle score
    return 1 + sum(1 for c in cuts if value > c)


def score_low_is_good(value, cuts: list) -> int:
    if cuts and cuts[0] == cuts[-1]:
        return 3
    return 1 + sum(1 for c in cuts if value < c)


def intervals(dates: list[dt.date]) -> list[int]:
    """Days between consecutive order dates (several orders on one day count as one purchase)."""
    days = sorted(set(dates))
    return [(b - a).days for a, b in itertools.pairwise(days)]


def customer_stats(orders: list[Order], today: dt.date, partner_ids: list[int] = ()) -> dict[int, CustomerStats]:
    """Stats, RFM scores and segment of every customer in `orders` (and of `partner_ids`
    without orders, segment no_orders). Scores are relative to the customers with orders."""
    by_partner: dict[int, list[Order]] = {}
    for o in orders:
        by_partner.setdefault(o.partner_id, []).append(o)
    out = {pid: CustomerStats(pid) for pid in partner_ids}
    for pid, rows in by_partner.items():
        st = out.setdefault(pid, CustomerStats(pid))
        dates = [o.date for o in rows]
        st.order_count = len(rows)
        st.revenue = sum((o.amount for o in rows), Decimal(0))
        st.first_order, st.last_order = min(dates), max(dates)
        st.recency_days = (today - st.last_order).days
        gaps = intervals(dates)
        if gaps:
            st.avg_interval_days = (Decimal(sum(gaps)) / len(gaps)).quantize(Decimal("0.1"))
            median = Decimal(str(statistics.median(gaps)))
            st.median_interval_days = median
            st.next_purchase = st.last_order + dt.timedelta(days=int(median.to_integral_value()))
    active = [s for s in out.values() if s.order_count]
    if active:
        r_cuts = cut_points([s.recency_days for s in active])
        f_cuts = cut_points([s.order_count for s in active])
        m_cuts = cut_points([s.revenue for s in active])
        for s in active:
            s.r = score_low_is_good(s.recency_days, r_cuts)
            s.f = score_high_is_good(s.order_count, f_cuts)
            s.m = score_high_is_good(s.revenue, m_cuts)
            s.segment = SEGMENT_OF[(s.r >= 3, s.f >= 3, s.m >= 3)]
    return out


def segment_label(code: str) -> str:
    return str(SEGMENT_LABELS.get(code, code))
