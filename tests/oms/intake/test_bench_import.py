"""`opensupply bench import --orders 2000`: phases as JSON lines and the summary keys of ARCHITECTURE §4."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from opensupply.cli import app


def test_bench_import_small(tmp_path):
    out = tmp_path / "import.json"
    r = CliRunner().invoke(app, ["bench", "import", "--orders", "2000", "--batch", "500", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    phases = {row.get("phase"): row for row in rows if "phase" in row}
    summary = rows[-1]["summary"]
    assert {"orders", "orders_per_s", "raw_orders_per_s", "ratio"} <= set(summary)
    assert summary["orders"] == 2000 and summary["orders_per_s"] > 0 and summary["raw_orders_per_s"] > 0
    assert summary["ratio"] == round(summary["orders_per_s"] / summary["raw_orders_per_s"], 3)
    imported = phases["import"]
    assert imported["stored_orders"] == 1900 == phases["raw"]["orders"]  # 5 % were re-exported duplicates
    assert imported["created"] == 1900 and imported["unchanged"] + imported["updated"] == 100
    assert imported["audit_rows"] == imported["created"] + imported["updated"]
    assert imported["mergeable_groups"] > 0
    assert json.loads(out.read_text())[-1] == rows[-1]
