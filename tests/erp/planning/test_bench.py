"""`opensupply bench mrp` on a small generated plant prints a row and the summary keys ARCHITECTURE §4 fixes."""

import json

from typer.testing import CliRunner

from opensupply.cli import app


def test_bench_mrp_small_plant():
    result = CliRunner().invoke(app, ["bench", "mrp", "--skus", "200", "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.strip().splitlines()]
    row, summary = lines[0], lines[-1]["summary"]
    assert row["db"] == "sqlite" and row["planned_orders"] > 0 and row["pegging_rows"] >= row["planned_orders"]
    assert {"skus", "levels", "buckets", "seconds", "planned_orders"} <= set(summary)
    assert summary["skus"] == 200 and summary["buckets"] == 52 and summary["levels"] == 5
