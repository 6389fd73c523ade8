#!/usr/bin/env bash
# Creates .venv with every dependency pinned in uv.lock (`--test` adds the test tools).
# Needs only python3.11: uv itself is taken from PATH or installed into .tools/.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=()
[ "${1:-}" = "--test" ] && extras=(--extra test --extra bench)  # bench: locust for the `bench web` test
uv=$(command -v uv || true)
if [ -z "$uv" ]; then
  if [ ! -x .tools/bin/uv ]; then
    if python3 -m venv .tools 2>/dev/null; then
      .tools/bin/pip install --quiet uv
    else  # Debian without python3-venv: a user install of uv is enough
      rm -rf .tools
      python3 -m pip install --quiet --user uv 2>/dev/null \
        || python3 -m pip install --quiet --user --break-system-packages uv
      mkdir -p .tools/bin && ln -sf "$(python3 -m site --user-base)/bin/uv" .tools/bin/uv
    fi
  fi
  uv=.tools/bin/uv
fi
"$uv" sync --frozen "${extras[@]}" --quiet
