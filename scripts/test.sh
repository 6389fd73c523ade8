#!/usr/bin/env bash
# The whole test suite, from a fresh machine: system packages, Python environment,
# a throwaway PostgreSQL server, then lint and pytest (SQLite + PostgreSQL + Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/setup.sh --test

eval "$(bash scripts/pg-throwaway.sh start)"
trap 'bash scripts/pg-throwaway.sh stop "$PGTMP"' EXIT

# Write .pyc files: with PYTHONDONTWRITEBYTECODE set (some images set it) every test worker and every
# server/CLI subprocess a test starts compiles the whole code base again, seconds each.
unset PYTHONDONTWRITEBYTECODE
export OPENSUPPLY_CHROMIUM=${OPENSUPPLY_CHROMIUM:-$(command -v chromium || true)}
if [ -d bench ]; then .venv/bin/ruff check src tests bench; else .venv/bin/ruff check src tests; fi
bash scripts/i18n.sh --check >/dev/null  # every message of the UI has its English
# -n 2: both cores. Exit code 5 (no tests collected) fails the run like any other failure.
.venv/bin/pytest -n 2 -p no:cacheprovider "$@"
