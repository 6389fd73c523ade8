"""`opensupply bench pickpath` prints one object per route and the summary keys of ARCHITECTURE §4."""

import json

from typer.testing import CliRunner

from opensupply.cli import app

runner = CliRunner()


def test_bench_pickpath_three_scenarios(tmp_path):
    out = tmp_path / "pickpath.json"
    result = runner.invoke(app, ["bench", "pickpath", "--scenarios", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    rows, summary = objects[:-1], objects[-1]["summary"]
    assert len(rows) == 6 and {r["layout"] for r in rows} == {"single_block", "three_block"}
    assert all(r["feasible"] and 10 <= r["lines"] <= 30 for r in rows)
    for r in rows:
        assert r["optimal_m"] <= r["length_m"] <= r["sshape_m"]
        assert r["method"] == ("rr" if r["layout"] == "single_block" else "dp")
        assert r["gap_pct"] == 0 and r["length_m"] <= r["ortools_m"]  # exact, checked by Held–Karp / CP-SAT
    for key in ("scenarios", "avg_gap_to_optimal_pct", "avg_saving_vs_sshape_pct", "avg_ms_per_route"):
        assert summary[key] is not None
    assert summary["scenarios"] == 3 and set(summary["layouts"]) == {"single_block", "three_block"}
    assert summary["avg_saving_vs_sshape_pct"] > 0
    assert json.loads(out.read_text())[-1]["summary"] == summary


def test_same_seed_same_scenarios():
    args = ["bench", "pickpath", "--scenarios", "1", "--layout", "single_block", "--seed", "5", "--min-lines", "5",
            "--max-lines", "8"]
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    strip = [{k: v for k, v in json.loads(line).items() if k not in ("ms", "seconds")}
             for line in first.stdout.splitlines()[:1]]
    again = [{k: v for k, v in json.loads(line).items() if k not in ("ms", "seconds")}
             for line in second.stdout.splitlines()[:1]]
    assert strip == again and first.exit_code == 0


def test_bad_layout_or_missing_data_folder_exits_2():
    result = runner.invoke(app, ["bench", "pickpath", "--layout", "round"])
    assert result.exit_code == 2 and result.stdout == ""
    result = runner.invoke(app, ["bench", "pickpath", "--data", "no-such-folder"])
    assert result.exit_code == 2 and "no such folder" in result.stderr and result.stdout == ""
