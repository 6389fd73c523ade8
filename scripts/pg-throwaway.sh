#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for one test run and prints its URL on stdout.
# Usage: eval "$(scripts/pg-throwaway.sh start)"  …  scripts/pg-throwaway.sh stop "$PGTMP"
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
  start)
    dir=$(mktemp -d /tmp/opensupply-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    port=${PGPORT_TEST:-$(( 55000 + RANDOM % 5000 ))}
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    echo "export PGTMP=$dir"
    echo "export OPENSUPPLY_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/opensupply_test"
    ;;
  stop)
    dir=${2:?dir}
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
esac
