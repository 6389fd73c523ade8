"""The forecasting engine: one function for every series the suite forecasts (product runs and `bench forecast`).

Pure (numpy + statsforecast models, no database). Per series, by demand class:

- **smooth** (few zeros): when the series is seasonal (ACF test at lag `season`, 90 %) and positive, a classical
  multiplicative decomposition removes the seasonal index; then the median of Theta and simple exponential
  smoothing on the adjusted series, re-seasonalised, and seasonal exponential smoothing on the raw series. A
  median of fast, diverse models is as accurate as AutoETS on M3-like data at ten times its speed; adding damped
  ETS gains ≈ 0.01 of MASE ratio for half the speed, and choosing one model per series by a short backtest was
  measured *worse* than the combination (bench/README.md).
- **intermittent** (≥ 30 % zero periods): Croston (optimized), TSB, ADIDA and IMAPA are cheap, so the one with
  the lowest backtest error on the training part is chosen.
- **short** (fewer than 4 points): the mean of what there is.

Forecasts are clipped at zero (demand). With `backtest=True` each series also gets the MASE of its method on the
last `horizon` points of its history (fitted on what comes before), shown on the review page.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

INTERMITTENT_ZERO_SHARE = 0.3
MIN_POINTS = 4


@dataclass(frozen=True)
class SeriesForecast:
    mean: np.ndarray  # `horizon` values, ≥ 0
    model: str  # "combo" | "combo_seasonal" | "croston" | "tsb" | "adida" | "imapa" | "mean" | "zero"
    backtest_mase: float | None = None


def _models():
    # statsforecast imports numba; keep it out of module import time (pages and CLI start fast)
    from statsforecast import models

    return models


def seasonal_index(y: np.ndarray, season: int) -> np.ndarray | None:
    """Multiplicative seasonal index (length `season`, mean 1) when y is positive and significantly seasonal."""
    n = len(y)
    if season < 2 or n < 2 * season or (y <= 0).any():
        return None
    yc = y - y.mean()
    denom = float(np.dot(yc, yc))
    if denom <= 0:
        return None
    acf = np.array([np.dot(yc[:-k], yc[k:]) / denom for k in range(1, season + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    if abs(acf[-1]) <= limit:
        return None
    if season % 2 == 0:
        weights = np.r_[0.5, np.ones(season - 1), 0.5] / season
    else:
        weights = np.ones(season) / season
    trend = np.convolve(y, weights, mode="valid")
    offset = (n - len(trend)) // 2
    ratio = y[offset : offset + len(trend)] / trend
    index = np.array([np.mean(ratio[(k - offset) % season :: season]) for k in range(season)])
    if not np.isfinite(index).all() or (index <= 0).any():
        return None
    return index / index.mean()


def _smooth(y: np.ndarray, h: int, season: int) -> tuple[np.ndarray, str]:
    m = _models()
    n = len(y)
    index = seasonal_index(y, season)
    if index is not None:
        s_in, s_out = index[np.arange(n) % season], index[np.arange(n, n + h) % season]
    else:
        s_in, s_out = np.ones(n), np.ones(h)
    adjusted = y / s_in
    members = [
        (lambda: m.Theta(season_length=1).forecast(adjusted, h)["mean"] * s_out),
        (lambda: m.SimpleExponentialSmoothingOptimized().forecast(adjusted, h)["mean"] * s_out),
        (lambda: m.SeasonalExponentialSmoothingOptimized(season_length=season).forecast(y, h)["mean"])
        if season >= 2 and n > season else
        (lambda: m.SimpleExponentialSmoothingOptimized().forecast(y, h)["mean"]),
    ]
    parts = []
    for member in members:
        try:  # a model may refuse a short or odd series (ETS: "tiny datasets"); the others still vote
            part = np.asarray(member(), dtype=float)
        except Exception:  # noqa: S112 — any model failure only drops that model from the median
            continue
        if len(part) == h and np.isfinite(part).all():
            parts.append(part)
    if not parts:
        return np.full(h, float(y[-min(n, season or 1):].mean())), "mean"
    return np.median(np.vstack(parts), axis=0), "combo_seasonal" if index is not None else "combo"


def _intermittent_model(name: str):
    m = _models()
    return {
        "croston": m.CrostonOptimized,
        "tsb": lambda: m.TSB(alpha_d=0.1, alpha_p=0.1),
        "adida": m.ADIDA,
        "imapa": m.IMAPA,
    }[name]()


INTERMITTENT = ("croston", "tsb", "adida", "imapa")


def _intermittent(y: np.ndarray, h: int) -> tuple[np.ndarray, str]:
    name = "croston"
    holdout = min(h, len(y) // 3)
    if holdout >= 2 and (y[:-holdout] > 0).sum() >= 2:
        train, test = y[:-holdout], y[-holdout:]
        errors = {n: float(np.mean(np.abs(test - _intermittent_model(n).forecast(train, holdout)["mean"])))
                  for n in INTERMITTENT}
        name = min(errors, key=errors.get)
    return np.asarray(_intermittent_model(name).forecast(y, h)["mean"]), name


def _point(y: np.ndarray, h: int, season: int) -> tuple[np.ndarray, str]:
    if len(y) == 0 or not (y != 0).any():
        return np.zeros(h), "zero"
    if len(y) < MIN_POINTS:
        return np.full(h, float(y.mean())), "mean"
    if np.mean(y == 0) >= INTERMITTENT_ZERO_SHARE:
        try:
            return _intermittent(y, h)
        except Exception:  # a failing model must not stop a run of thousands of series
            return np.full(h, float(y.mean())), "mean"
    return _smooth(y, h, season)


def mase_scale(y: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive (lag `season`; lag 1 when the series is too short for it)."""
    lag = season if season >= 1 and len(y) > season else 1
    if len(y) <= lag:
        return float("nan")
    return float(np.mean(np.abs(y[lag:] - y[:-lag])))


def forecast_series(y: Sequence[float] | np.ndarray, horizon: int, season: int = 12, *,
                    backtest: bool = False) -> SeriesForecast:
    """Forecast `horizon` periods after the history `y` (oldest first)."""
    if horizon < 1:
        raise ValueError("horizon must be ≥ 1")
    y = np.nan_to_num(np.asarray(y, dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean, model = _point(y, horizon, season)
        error = None
        if backtest and len(y) >= 2 * MIN_POINTS:
            holdout = min(horizon, len(y) // 3)
            train, test = y[:-holdout], y[-holdout:]
            bt, _ = _point(train, holdout, season)
            # a perfectly repeating history has no seasonal-naive error: scale by lag 1, then by the level
            scale = mase_scale(train, season) or mase_scale(train, 1) or float(np.mean(np.abs(train)))
            if scale and np.isfinite(scale):
                error = round(float(np.mean(np.abs(test - np.clip(bt, 0, None))) / scale), 4)
    mean = np.clip(np.nan_to_num(np.asarray(mean, dtype=float)), 0, None)
    return SeriesForecast(mean=mean, model=model, backtest_mase=error)


def warm_up(season: int = 12) -> None:
    """Compile the numba kernels of every model once (seasonal, non-seasonal and intermittent paths)."""
    t = np.arange(4 * max(season, 2), dtype=float)
    forecast_series(10 + t + 3 * np.sin(2 * np.pi * t / max(season, 2)), 3, season)
    forecast_series(10 + 0.1 * t, 3, season)
    forecast_series(np.where(t % 3 == 0, 2.0, 0.0), 3, season)


def _chunk(args: tuple[list[np.ndarray], int, int, bool]) -> list[SeriesForecast]:
    series, horizon, season, backtest = args
    return [forecast_series(y, horizon, season, backtest=backtest) for y in series]


def _worker_init(season: int) -> None:
    warm_up(season)


def forecast_many(
    series: Sequence[Sequence[float] | np.ndarray],
    horizon: int,
    season: int = 12,
    *,
    backtest: bool = False,
    n_jobs: int = 1,
    chunk_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[SeriesForecast]:
    """`forecast_series` over many series, on `n_jobs` processes (each warmed up once) when n_jobs > 1.

    Pass a `pool` from `make_pool` to reuse warmed-up workers across calls (the bench times only the forecasts).
    """
    arrays = [np.asarray(y, dtype=float) for y in series]
    total = len(arrays)
    if n_jobs <= 1 and pool is None:
        out = []
        for i, y in enumerate(arrays, 1):
            out.append(forecast_series(y, horizon, season, backtest=backtest))
            if progress and (i % chunk_size == 0 or i == total):
                progress(i, total)
        return out
    own = pool is None
    pool = pool or make_pool(n_jobs, season)
    try:
        # small enough chunks that the workers finish together, big enough to keep the pickling cheap
        size = max(4, min(chunk_size, -(-total // (8 * (pool._max_workers or 1)))))
        chunks = [arrays[i : i + size] for i in range(0, total, size)]
        out, done = [], 0
        for part in pool.map(_chunk, [(c, horizon, season, backtest) for c in chunks]):
            out.extend(part)
            done += len(part)
            if progress:
                progress(done, total)
        return out
    finally:
        if own:
            pool.shutdown()


def make_pool(n_jobs: int, season: int = 12) -> ProcessPoolExecutor:
    """Worker processes that have compiled the models (first use of each pays the JIT once)."""
    import multiprocessing

    # one thread per worker (the workers are the parallelism): spawned children read the environment at start,
    # so it is set only while they start and then put back for this process
    saved = {v: os.environ.get(v) for v in _THREAD_VARS}
    os.environ.update(dict.fromkeys(_THREAD_VARS, "1"))
    try:
        pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_init, initargs=(season,))
        # start every worker and warm it up now, not inside the timed part
        list(pool.map(_chunk, [([np.ones(8)], 1, season, False)] * (n_jobs * 2)))
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    return pool


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
