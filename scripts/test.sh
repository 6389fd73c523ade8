#!/usr/bin/env bash
# The whole test suite, from a fresh machine: system packages, Python environment,
# a throwaway PostgreSQL server, then lint and pytest (SQLite + PostgreSQL + Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
uv sync --frozen --extra test --quiet

eval "$(bash scripts/pg-throwaway.sh start)"
trap 'bash scripts/pg-throwaway.sh stop "$PGTMP"' EXIT

export OPENSUPPLY_CHROMIUM=${OPENSUPPLY_CHROMIUM:-$(command -v chromium || true)}
uv run --frozen ruff check src tests bench
# -n 2: both cores. Exit code 5 (no tests collected) fails the run like any other failure.
uv run --frozen pytest -n 2 -p no:cacheprovider "$@"
