#!/usr/bin/env bash
# Bundle submission throughput (issue 5: ≥ 1,000 submissions/s and ≥ 50 % of the ceiling, on
# SQLite with synchronous=FULL and on PostgreSQL).
#
#   bench/submission.sh [sqlite|postgres|both]     (default both)
#
# Runs crates/onetrip-app/benches/submission.rs: a fresh demo database, one birth bundle
# submitted (to count the rows it writes), BENCH_SAMPLE (300) submissions one at a time for the
# latency, then BENCH_CONCURRENCY (16) tasks submitting for BENCH_SECONDS (10), then the ceiling —
# one transaction inserting the same number of rows with no logic — with the same concurrency
# and duration, and the ratio. PostgreSQL runs in a fresh database onetrip_bench_submission
# (PGHOST 127.0.0.1, PGUSER postgres), dropped afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
for v in $(compgen -e | grep '^ONETRIP_' || true); do unset "$v"; done
export ONETRIP_LOG=warn
PGHOST="${PGHOST:-127.0.0.1}"
PGUSER="${PGUSER:-postgres}"
PG_DB=onetrip_bench_submission
which="${1:-both}"

cd "$ROOT"
cargo bench -p onetrip-app --bench submission --no-run --quiet
load() { printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"; }
run() { load; cargo bench -p onetrip-app --bench submission --quiet; load; }

printf 'commit: %s\n' "$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty')"

if [ "$which" = sqlite ] || [ "$which" = both ]; then
  echo "== SQLite (WAL, synchronous=FULL)"
  run
fi
if [ "$which" = postgres ] || [ "$which" = both ]; then
  echo "== PostgreSQL"
  psql -h "$PGHOST" -U "$PGUSER" -d postgres -qc "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
  ONETRIP_BENCH_DATABASE_URL="postgres://$PGUSER@$PGHOST:5432/$PG_DB" run
  psql -h "$PGHOST" -U "$PGUSER" -d postgres -qc "DROP DATABASE IF EXISTS $PG_DB"
fi
