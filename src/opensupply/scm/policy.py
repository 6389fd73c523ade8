"""Safety stock, reorder point and ABC/XYZ classes per SKU of a forecast run (安全库存 / 再订货点 / ABC-XYZ).

Per SKU, in the run's periods (month or week): mean demand d and its standard deviation s_d over the history
window (from the SKU's first demand on), lead time L and its standard deviation s_L in periods, z from the
service level (cycle service level, normal quantile):

    safety stock  = z · sqrt(L · s_d² + d² · s_L²)
    reorder point = d · L + safety stock

ABC by the share of history value (quantity × product cost; quantity when no cost is kept): A up to 80 %,
B up to 95 %, C the rest. XYZ by the coefficient of variation s_d / d: X ≤ 0.5, Y ≤ 1.0, Z above (or no demand).
Computed on the fly from the run: nothing is stored.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

from sqlalchemy import select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import Product

from .models import ForecastSeries
from .service import _trim_leading_zeros, get_run

A_SHARE, B_SHARE = 0.80, 0.95
X_CV, Y_CV = 0.5, 1.0


def z_value(service_level: float) -> float:
    return NormalDist().inv_cdf(service_level)


def safety_stock(mean: float, std: float, lead_time: float, lead_time_std: float, service_level: float) -> float:
    return z_value(service_level) * math.sqrt(lead_time * std**2 + mean**2 * lead_time_std**2)


def xyz_class(mean: float, std: float) -> str:
    if mean <= 0:
        return "Z"
    cv = std / mean
    return "X" if cv <= X_CV else "Y" if cv <= Y_CV else "Z"


def abc_classes(values: dict[int, float]) -> dict[int, str]:
    total = sum(values.values())
    out, running = {}, 0.0
    for key, v in sorted(values.items(), key=lambda kv: -kv[1]):
        share_before = running / total if total else 1.0
        running += v
        out[key] = "A" if share_before < A_SHARE else "B" if share_before < B_SHARE else "C"
    return out


def _check(service_level, lead_time, lead_time_std) -> tuple[float, float, float]:
    try:
        sl, lt, lts = float(service_level), float(lead_time), float(lead_time_std)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("服务水平、提前期须为数字"), field="service_level") from exc
    if not 0.5 <= sl < 1:
        raise ValidationFailed(_("服务水平须在 50% 到 99.9% 之间"), field="service_level")
    if lt <= 0 or lt > 60:
        raise ValidationFailed(_("提前期须大于 0 且不超过 60 期"), field="lead_time")
    if lts < 0 or lts > lt:
        raise ValidationFailed(_("提前期标准差须在 0 到提前期之间"), field="lead_time_std")
    return sl, lt, lts


def _q(x: float) -> Decimal:
    return Decimal(str(round(x, 2))).quantize(Decimal("0.01"), ROUND_HALF_UP)


def inventory_policy(uow: UnitOfWork, run_id: int, *, service_level=0.95, lead_time=1, lead_time_std=0) -> list[dict]:
    """One row per SKU of the run: mean/std demand per period, classes, safety stock and reorder point."""
    sl, lt, lts = _check(service_level, lead_time, lead_time_std)
    run = get_run(uow, run_id)
    rows = uow.session.execute(select(ForecastSeries, Product.cost)
                               .join(Product, Product.id == ForecastSeries.product_id)
                               .where(ForecastSeries.run_id == run.id)).all()
    stats, values = {}, {}
    for s, cost in rows:
        ys = _trim_leading_zeros([float(v) for v in s.history])
        n = len(ys)
        mean = sum(ys) / n if n else 0.0
        std = math.sqrt(sum((v - mean) ** 2 for v in ys) / (n - 1)) if n > 1 else 0.0
        stats[s.id] = (s, mean, std)
        values[s.id] = sum(ys) * (float(cost) if cost else 1.0)
    abc = abc_classes(values)
    out = []
    for sid, (s, mean, std) in stats.items():
        ss = safety_stock(mean, std, lt, lts, sl)
        out.append({"series_id": sid, "product_id": s.product_id, "sku": s.product.sku, "name": s.product.name,
                    "mean": _q(mean), "std": _q(std), "abc": abc[sid], "xyz": xyz_class(mean, std),
                    "safety_stock": _q(ss), "reorder_point": _q(mean * lt + ss), "value": _q(values[sid])})
    out.sort(key=lambda r: (r["abc"], -r["value"], r["sku"]))
    return out
