#!/usr/bin/env bash
# Material resolution (一证通办) on a 10-million-person registry (issue 4: p99 ≤ 5 ms on SQLite
# and on PostgreSQL, at least 2,000 resolutions/s).
#
#   bench/resolution.sh [sqlite|postgres|both]     (default both)
#
# Builds the registries once with `onetrip generate` (seed 1, as of 2026-11-21): SQLite in
# $REGISTRY_DIR (default ~/.cache/onetrip/registry-10m), PostgreSQL in the database
# onetrip_bench_resolution (PGHOST 127.0.0.1, PGUSER postgres). Then runs the whole-flow bench
# crates/onetrip-app/benches/resolution.rs against each: the ceiling (one indexed registry read),
# resolutions one at a time (latency), and BENCH_CONCURRENCY (16) at once for BENCH_SECONDS (10).
# PEOPLE (10000000) changes the registry size.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
for v in $(compgen -e | grep '^ONETRIP_' || true); do unset "$v"; done
export ONETRIP_LOG=warn
PEOPLE="${PEOPLE:-10000000}"
REGISTRY_DIR="${REGISTRY_DIR:-$HOME/.cache/onetrip/registry-10m}"
PGHOST="${PGHOST:-127.0.0.1}"
PGUSER="${PGUSER:-postgres}"
PG_DB=onetrip_bench_resolution
PG_URL="postgres://$PGUSER@$PGHOST:5432/$PG_DB"
which="${1:-both}"

log() { printf '%s\n' "$*" >&2; }

(cd "$ROOT" && cargo build --release --quiet -p onetrip --bin onetrip)
ONETRIP="$CARGO_TARGET_DIR/release/onetrip"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit:  $(cd "$ROOT" && git rev-parse --short HEAD)"

run() {
  (cd "$ROOT" && ONETRIP_BENCH_DATABASE_URL="$1" cargo bench --quiet -p onetrip-app --bench resolution)
}

if [[ "$which" == sqlite || "$which" == both ]]; then
  if [[ ! -s "$REGISTRY_DIR/onetrip.db" ]]; then
    log "generating $PEOPLE persons into $REGISTRY_DIR (SQLite)…"
    mkdir -p "$REGISTRY_DIR"
    "$ONETRIP" generate --people "$PEOPLE" --organisations $((PEOPLE / 100)) --seed 1 \
      --as-of 2026-11-21 --data-dir "$REGISTRY_DIR" 2>/dev/null
  fi
  echo "--- SQLite ($REGISTRY_DIR/onetrip.db)"
  run "sqlite://$REGISTRY_DIR/onetrip.db"
fi

if [[ "$which" == postgres || "$which" == both ]]; then
  if ! psql -h "$PGHOST" -U "$PGUSER" -d "$PG_DB" -qtAc \
      "SELECT 1 FROM population_registry LIMIT 1" 2>/dev/null | grep -q 1; then
    log "generating $PEOPLE persons into $PG_DB (PostgreSQL)…"
    dropdb -h "$PGHOST" -U "$PGUSER" --if-exists "$PG_DB"
    createdb -h "$PGHOST" -U "$PGUSER" "$PG_DB"
    "$ONETRIP" generate --people "$PEOPLE" --organisations $((PEOPLE / 100)) --seed 1 \
      --as-of 2026-11-21 --database-url "$PG_URL" 2>/dev/null
  fi
  echo "--- PostgreSQL ($PG_DB)"
  run "$PG_URL"
fi
