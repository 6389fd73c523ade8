"""The forecasting engine on small synthetic series, and `bench forecast` on a tiny generated CSV."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from opensupply.bench.forecast import read_series, seasonal_naive
from opensupply.scm.forecasting import forecast_many, forecast_series, mase_scale, seasonal_index

H, S = 12, 12


def _seasonal(n: int, rng) -> np.ndarray:
    t = np.arange(n)
    return 100 + 0.8 * t + 25 * np.sin(2 * np.pi * t / S) + rng.normal(0, 3, n)


def _mae(a, f):
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(f))))


def test_seasonal_series_is_detected_and_beats_seasonal_naive():
    rng = np.random.default_rng(1)
    y = _seasonal(72, rng)
    train, test = y[:-H], y[-H:]
    assert seasonal_index(train, S) is not None
    fc = forecast_series(train, H, S, backtest=True)
    assert len(fc.mean) == H and fc.model == "combo_seasonal"
    assert _mae(test, fc.mean) <= _mae(test, seasonal_naive(train, H, S))
    assert fc.backtest_mase is not None and fc.backtest_mase > 0


def test_trend_series_beats_seasonal_naive():
    rng = np.random.default_rng(2)
    y = 50 + 2.0 * np.arange(60) + rng.normal(0, 2, 60)
    train, test = y[:-H], y[-H:]
    fc = forecast_series(train, H, S)
    assert fc.model == "combo"
    assert _mae(test, fc.mean) < _mae(test, seasonal_naive(train, H, S))


def test_intermittent_series_non_negative_and_not_worse_than_naive():
    rng = np.random.default_rng(3)
    y = np.where(rng.random(80) < 0.25, rng.integers(1, 6, 80), 0).astype(float)
    train, test = y[:-H], y[-H:]
    fc = forecast_series(train, H, S)
    assert fc.model in {"croston", "tsb", "adida", "imapa"}
    assert len(fc.mean) == H and (fc.mean >= 0).all()
    assert _mae(test, fc.mean) <= _mae(test, seasonal_naive(train, H, S))


@pytest.mark.parametrize("y", [[], [0, 0, 0], [5.0], [3, 4], [-5, -3, -1, -2, -8, -4]])
def test_degenerate_series_give_horizon_non_negative_points(y):
    fc = forecast_series(y, 5, S)
    assert len(fc.mean) == 5 and (fc.mean >= 0).all() and np.isfinite(fc.mean).all()


def test_forecast_many_keeps_order_and_reports_progress():
    rng = np.random.default_rng(4)
    series = [_seasonal(48, rng) * k for k in (1, 2, 3)]
    seen = []
    out = forecast_many(series, 6, S, chunk_size=2, progress=lambda done, total: seen.append((done, total)))
    assert [len(o.mean) for o in out] == [6, 6, 6]
    assert out[2].mean.mean() > out[0].mean.mean()
    assert seen[-1] == (3, 3)


def test_mase_scale_falls_back_to_lag_one():
    assert mase_scale(np.array([1.0, 2.0, 4.0]), 12) == pytest.approx(1.5)
    assert mase_scale(np.arange(30, dtype=float), 12) == pytest.approx(12.0)


def test_read_series_detects_dates_and_sorts(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("unique_id,ds,y,extra\nA,2024-01-15,3,x\nA,2024-01-01,1,x\nA,2024-01-08,2,x\n", encoding="utf-8")
    assert read_series(p)["A"].tolist() == [1.0, 2.0, 3.0]


def test_bench_forecast_command(tmp_path):
    from opensupply.cli import app

    rng = np.random.default_rng(5)
    lines = ["unique_id,ds,y"]
    for k in range(4):
        y = _seasonal(40, rng) + 10 * k
        lines += [f"S{k},{t + 1},{v:.2f}" for t, v in enumerate(y)]
    lines += ["SHORT,1,3", "SHORT,2,4"]
    (tmp_path / "tiny.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["bench", "forecast", "--data", str(tmp_path), "--horizon", "6", "--jobs", "1",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    summary = rows[-1]["summary"]
    for key in ("series", "mase", "mase_seasonal_naive", "mase_ratio", "series_per_s", "smape",
                "smape_seasonal_naive"):
        assert summary[key] is not None
    assert summary["series"] == 4 and summary["skipped_short"] == 1
    assert rows[0]["file"] == "tiny.csv"
    assert json.loads(out.read_text())[-1]["summary"]["series"] == 4


def test_bench_forecast_without_csv_exits_2(tmp_path):
    from opensupply.cli import app

    result = CliRunner().invoke(app, ["bench", "forecast", "--data", str(tmp_path)])
    assert result.exit_code == 2
