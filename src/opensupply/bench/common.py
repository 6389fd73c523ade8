"""Shared plumbing of the benchmarks: best-known values, gaps, summaries, output files."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path


class BenchError(Exception):
    """A benchmark cannot run (missing data, unknown name); the CLI prints it on stderr and exits with 2."""


def load_bks(folder: Path) -> dict[str, dict]:
    """`bks.csv` (columns at least `instance,bks`, more allowed) → {instance name (lower case): row}."""
    path = folder / "bks.csv"
    if not path.is_file():
        return {}
    out: dict[str, dict] = {}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "instance" not in reader.fieldnames or "bks" not in reader.fieldnames:
            raise BenchError(f"{path}: needs the columns instance,bks")
        for row in reader:
            name = (row.get("instance") or "").strip()
            if name and (row.get("bks") or "").strip():
                out[name.lower()] = {**row, "bks": float(row["bks"])}
    return out


def gap_pct(cost: float, bks: float) -> float:
    return round(100.0 * (cost - bks) / bks, 3) if bks else 0.0


def number(x: float) -> float | int:
    """Integers print as integers in the JSON ("cost": 27591, not 27591.0)."""
    return int(x) if float(x).is_integer() else x


def instance_files(folder: Path, suffixes: tuple[str, ...], only: Iterable[str] | None = None) -> list[Path]:
    if not folder.is_dir():
        raise BenchError(f"--data {folder}: not a folder")
    wanted = {o.lower() for o in only or []}
    files = sorted(
        (
            p
            for p in folder.iterdir()
            if p.is_file() and p.suffix.lower() in suffixes and (not wanted or p.stem.lower() in wanted)
        ),
        key=lambda p: p.stem.lower(),
    )
    if not files:
        raise BenchError(f"--data {folder}: no {'/'.join(suffixes)} instance files")
    return files


def gap_summary(rows: list[dict], time_limit_s: float) -> dict:
    gaps = [r["gap_pct"] for r in rows if r.get("gap_pct") is not None]
    return {
        "instances": len(rows),
        "avg_gap_pct": round(sum(gaps) / len(gaps), 3) if gaps else None,
        "max_gap_pct": round(max(gaps), 3) if gaps else None,
        "time_limit_s": number(time_limit_s),
        "with_bks": len(gaps),
        "feasible": sum(1 for r in rows if r.get("feasible")),
        "seconds": round(sum(r.get("seconds", 0.0) for r in rows), 2),
    }


def emit(obj: dict, out=None) -> None:
    (out or sys.stdout).write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    (out or sys.stdout).flush()


def write_results(path: Path, objects: list[dict]) -> None:
    """`--out FILE.json`: one JSON array holding every object printed (instances first, the summary last)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(objects, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")


def read_results(path: Path) -> list[dict]:
    """Read a results file written by `--out` (JSON array) or captured stdout (JSON lines)."""
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
