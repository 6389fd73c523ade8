"""`bench web` at a tiny scale on SQLite: a real server, real locust users, the fixed JSON keys, no failures,
and nothing left running afterwards (the server's and locust's process groups are gone)."""

import importlib.util
import json
import os
import subprocess
import time

import pytest
from typer.testing import CliRunner

from opensupply.cli import app

# never import locust here: importing it monkey-patches the process with gevent, which hangs the xdist worker
pytestmark = pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="needs the bench extra (locust)")

GROUPS = {"oms orders search", "oms order detail", "products search", "product detail", "erp sales orders",
          "erp order entry form", "erp order entry post", "login", "home"}


def _gone(pgid: int) -> bool:
    for _ in range(50):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_bench_web_drives_logged_in_users_and_reports_latency(tmp_path, monkeypatch):
    started = []
    real_popen = subprocess.Popen

    class Recording(real_popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    out = tmp_path / "web.json"
    t0 = time.monotonic()
    result = CliRunner().invoke(app, ["bench", "web", "--orders", "200", "--skus", "50", "--users", "3",
                                      "--spawn-rate", "3", "--duration", "6", "--workers", "1", "--out", str(out)])
    seconds = time.monotonic() - t0
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    groups, summary = objects[:-1], objects[-1]["summary"]
    assert {"users", "p50_ms", "p95_ms", "p99_ms", "rps", "failures", "orders", "skus", "db", "workers",
            "duration_s"} <= summary.keys()
    assert summary["users"] == 3 and summary["db"] == "sqlite" and summary["orders"] == 200
    assert summary["skus"] == 50 and summary["workers"] == 1 and summary["duration_s"] == 6
    assert summary["failures"] == 0, summary["errors"]
    assert summary["requests"] > 0 and summary["page_requests"] > 0 and summary["rps"] > 0
    assert summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]
    for g in groups:
        assert {"name", "requests", "failures", "p50_ms", "p95_ms", "p99_ms", "rps"} <= g.keys()
        assert g["name"] in GROUPS and g["failures"] == 0
    assert {g["name"] for g in groups if g.get("phase") == "warm-up"} == {"login", "home"}
    assert summary["logged_in"] == 3 and summary["warmup_failures"] == 0
    assert sum(g["requests"] for g in groups if "phase" not in g) == summary["requests"]
    assert json.loads(out.read_text()) == objects
    # the server (with its workers) and the locust process were started in their own groups and are gone
    assert len(started) == 2
    for proc in started:
        assert proc.poll() is not None and _gone(proc.pid)
    assert seconds < 40


@pytest.mark.parametrize("args", [["--db", "oracle"], ["--users", "0"], ["--reuse"], ["--duration", "0"]])
def test_bench_web_refuses_bad_options(args):
    assert CliRunner().invoke(app, ["bench", "web", *args]).exit_code == 2
