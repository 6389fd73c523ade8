"""`bench forecast`: the suite's forecasting engine (opensupply.scm.forecasting) on `unique_id,ds,y` CSV files.

Each series loses its last `horizon` points (the M3 holdout convention), the engine forecasts them from the rest,
and the forecasts are scored with MASE (scaled by the in-sample seasonal-naive MAE, lag = season, lag 1 for a
series too short for that) and sMAPE, next to the seasonal naive forecast itself. Only the forecasting step is
timed, after the worker processes have compiled the models.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from opensupply.bench.common import BenchError
from opensupply.scm.forecasting import forecast_many, make_pool, mase_scale


def _period_key(values: list[str]) -> Callable[[str], object]:
    """ds is an integer period or a date/datetime (ISO or anything pandas parses)."""
    try:
        for v in values:
            int(v)
        return int
    except ValueError:
        pass
    import pandas as pd

    try:
        pd.to_datetime(values[:50])
    except (ValueError, TypeError) as exc:
        raise BenchError(f"ds is neither an integer period nor a date: {values[0]!r}") from exc
    return lambda v: pd.Timestamp(v)


def read_series(path: Path) -> dict[str, np.ndarray]:
    """{unique_id: y ordered by ds} from one CSV with at least the columns unique_id,ds,y (more are ignored)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"unique_id", "ds", "y"} <= set(reader.fieldnames):
            raise BenchError(f"{path}: needs the columns unique_id,ds,y")
        rows = [(r["unique_id"], r["ds"].strip(), r["y"]) for r in reader]
    if not rows:
        return {}
    key = _period_key([r[1] for r in rows])
    grouped: dict[str, list[tuple[object, float]]] = {}
    for uid, ds, y in rows:
        try:
            value = float(y) if y.strip() else 0.0
        except ValueError as exc:
            raise BenchError(f"{path}: y is not a number: {y!r}") from exc
        grouped.setdefault(uid, []).append((key(ds), value))
    return {uid: np.array([v for _, v in sorted(points, key=lambda p: p[0])]) for uid, points in grouped.items()}


def seasonal_naive(train: np.ndarray, horizon: int, season: int) -> np.ndarray:
    if season >= 1 and len(train) >= season:
        last = train[-season:]
        return np.array([last[i % season] for i in range(horizon)])
    return np.full(horizon, train[-1])


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(np.abs(actual - forecast), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(200 * np.mean(ratio))


def _scores(trains, tests, forecasts, season) -> dict:
    mase, mase_sn, sm, sm_sn = [], [], [], []
    for train, test, f in zip(trains, tests, forecasts, strict=True):
        sn = seasonal_naive(train, len(test), season)
        scale = mase_scale(train, season)
        if not scale or not np.isfinite(scale):  # a flat history: no scale, sMAPE still counts
            scale = None
        if scale is not None:
            mase.append(float(np.mean(np.abs(test - f))) / scale)
            mase_sn.append(float(np.mean(np.abs(test - sn))) / scale)
        sm.append(smape(test, f))
        sm_sn.append(smape(test, sn))
    m, msn = float(np.mean(mase)) if mase else None, float(np.mean(mase_sn)) if mase_sn else None
    return {"mase": m, "mase_seasonal_naive": msn, "mase_ratio": m / msn if m is not None and msn else None,
            "smape": float(np.mean(sm)) if sm else None, "smape_seasonal_naive": float(np.mean(sm_sn)) if sm else None,
            "n_mase": len(mase)}


def _round(d: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def run_forecast(folder: Path, horizon: int, season: int, n_jobs: int, limit: int | None,
                 on_start: Callable[[str, int, int], None], totals: dict) -> Iterator[dict]:
    if not folder.is_dir():
        raise BenchError(f"--data {folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        raise BenchError(f"--data {folder}: no unique_id,ds,y CSV files")
    all_train, all_test, all_fc, models, seconds, skipped, left = [], [], [], Counter(), 0.0, 0, limit
    pool = make_pool(n_jobs, season) if n_jobs > 1 else None
    if pool is None:
        from opensupply.scm.forecasting import warm_up

        warm_up(season)
    try:
        for i, path in enumerate(files):
            on_start(path.stem, i, len(files))
            series = read_series(path)
            trains, tests = [], []
            for y in series.values():
                if left is not None and left <= 0:
                    break
                if len(y) < horizon + 2:
                    skipped += 1
                    continue
                trains.append(y[:-horizon])
                tests.append(y[-horizon:])
                if left is not None:
                    left -= 1
            if not trains:
                continue
            t0 = time.perf_counter()
            results = forecast_many(trains, horizon, season, n_jobs=n_jobs, pool=pool)
            dt = time.perf_counter() - t0
            seconds += dt
            forecasts = [r.mean for r in results]
            file_models = Counter(r.model for r in results)
            models.update(file_models)
            all_train += trains
            all_test += tests
            all_fc += forecasts
            yield _round({"file": path.name, "series": len(trains), **_scores(trains, tests, forecasts, season),
                          "seconds": dt, "series_per_s": len(trains) / dt if dt else None,
                          "models": dict(file_models)})
    finally:
        if pool is not None:
            pool.shutdown()
    if not all_train:
        raise BenchError(f"--data {folder}: no series longer than horizon + 2 = {horizon + 2} points")
    totals.update(_round({"series": len(all_train), **_scores(all_train, all_test, all_fc, season),
                          "series_per_s": len(all_train) / seconds if seconds else None,
                          "forecast_seconds": seconds, "horizon": horizon, "season": season, "n_jobs": n_jobs,
                          "skipped_short": skipped, "models": dict(models)}))
