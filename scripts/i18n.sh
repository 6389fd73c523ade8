#!/usr/bin/env bash
# Extract translatable messages with Babel and update the per-module English catalogs.
#
#   scripts/i18n.sh                 # every module that has sources
#   scripts/i18n.sh core web        # just these
#   scripts/i18n.sh --check core    # list untranslated messages, exit 1 if any (changes nothing)
#
# Message ids are the Simplified Chinese text; each module keeps its own
# src/opensupply/locale/en/LC_MESSAGES/<module>.po (all are merged at run time).
# `core` covers src/opensupply/core plus the top-level files (app, cli, registry, demo);
# `web` covers src/opensupply/web (Python and templates); any other name its own package.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-$( [ -x .venv/bin/pybabel ] && echo .venv/bin/pybabel || command -v pybabel )}
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || command -v python3 )}
PKG=src/opensupply
LOCALE_DIR=$PKG/locale/en/LC_MESSAGES

check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi

modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
  modules=(core web)
  for d in "$PKG"/*/; do
    name=$(basename "$d")
    case $name in core|web|locale|__pycache__) continue ;; esac
    modules+=("$name")
  done
fi

sources() {
  case $1 in
    core) echo "$PKG/core"; ls "$PKG"/*.py ;;
    *) echo "$PKG/$1" ;;
  esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$LOCALE_DIR"
status=0
for m in "${modules[@]}"; do
  if [ ! -d "$PKG/$m" ]; then echo "no such module: $m" >&2; exit 2; fi
  # shellcheck disable=SC2046
  "$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext --add-location=file --sort-output --no-wrap \
    --project OpenSupply -o "$tmp/$m.pot" $(sources "$m")
  po=$LOCALE_DIR/$m.po
  if [ "$check" = 1 ]; then
    "$PYTHON" - "$tmp/$m.pot" "$po" "$m" <<'PY' || status=1
import sys
from pathlib import Path
from babel.messages.pofile import read_po
pot_path, po_path, module = sys.argv[1:]
pot = read_po(open(pot_path, "rb"))
# every catalog of the language counts: they are merged at run time (a package such as
# erp may keep one catalog per sub-area, erp_sales.po, erp_purchasing.po …)
have = {}
for other in sorted(Path(po_path).parent.glob("*.po")):
    for m in read_po(open(other, "rb"), locale="en"):
        if m.id and m.string and not m.fuzzy:
            have.setdefault(m.id, m)
missing = [m.id for m in pot if m.id and (m.id not in have or not have[m.id].string or have[m.id].fuzzy)]
for msgid in missing:
    print(f"{module}: untranslated: {msgid if isinstance(msgid, str) else msgid[0]}")
print(f"{module}: {len([m for m in pot if m.id]) - len(missing)}/{len([m for m in pot if m.id])} translated",
      file=sys.stderr)
sys.exit(1 if missing else 0)
PY
    continue
  fi
  if [ -f "$po" ]; then
    "$PYBABEL" -q update -i "$tmp/$m.pot" -o "$po" -l en --no-fuzzy-matching --ignore-obsolete --no-wrap
  else
    "$PYBABEL" -q init -i "$tmp/$m.pot" -o "$po" -l en --no-wrap
  fi
  echo "updated $po" >&2
done
exit $status
