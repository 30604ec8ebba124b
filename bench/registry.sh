#!/usr/bin/env bash
# Registry generation throughput (issue 4: at least 100,000 persons/s).
#
#   bench/registry.sh [PEOPLE]            times `onetrip generate` (release) for PEOPLE persons
#                                          (default 1,000,000): the generator alone (--dry-run),
#                                          into a fresh SQLite database and into a fresh
#                                          PostgreSQL database; prints persons/s for each.
#   bench/registry.sh --build-10m PATH     builds a 10-million-person SQLite registry (with
#                                          100,000 organisations, seed 1) in the data directory
#                                          PATH, for the material-resolution benchmark.
#
# PostgreSQL: PGHOST (127.0.0.1), PGUSER (postgres); the database onetrip_bench_registry is
# dropped and created again. SKIP_BUILD=1 reuses the release binary. SKIP_PG=1 skips PostgreSQL.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
TARGET_DIR="$CARGO_TARGET_DIR"
ONETRIP="$TARGET_DIR/release/onetrip"
for v in $(compgen -e | grep '^ONETRIP_' || true); do unset "$v"; done
export ONETRIP_LOG=warn

log() { printf '%s\n' "$*" >&2; }

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building the release binary…"
  (cd "$ROOT" && cargo build --release --quiet -p onetrip --bin onetrip)
fi
[[ -x "$ONETRIP" ]] || { log "missing $ONETRIP"; exit 1; }

SEED=1
AS_OF=2026-11-21

if [[ "${1:-}" == "--build-10m" ]]; then
  DIR="${2:?give the data directory}"
  mkdir -p "$DIR"
  log "generating 10,000,000 persons into $DIR/onetrip.db …"
  /usr/bin/time -v "$ONETRIP" generate --people 10000000 --organisations 100000 \
    --seed "$SEED" --as-of "$AS_OF" --data-dir "$DIR" 2> >(grep -E "Maximum resident|Elapsed|generated" >&2)
  ls -l "$DIR"
  exit 0
fi

PEOPLE="${1:-1000000}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit:  $(cd "$ROOT" && git rev-parse --short HEAD)"
echo "people:  $PEOPLE (seed $SEED, as of $AS_OF)"

echo "--- generator alone (--dry-run)"
"$ONETRIP" generate --dry-run --people "$PEOPLE" --organisations $((PEOPLE / 100)) \
  --seed "$SEED" --as-of "$AS_OF" --data-dir "$WORK/dry" 2>/dev/null

echo "--- SQLite (fresh database)"
"$ONETRIP" generate --people "$PEOPLE" --organisations $((PEOPLE / 100)) \
  --seed "$SEED" --as-of "$AS_OF" --data-dir "$WORK/sqlite" 2>/dev/null
ls -l "$WORK/sqlite" | grep -E "onetrip" || true

if [[ "${SKIP_PG:-0}" != 1 ]]; then
  echo "--- PostgreSQL (fresh database onetrip_bench_registry)"
  PGHOST="${PGHOST:-127.0.0.1}"
  PGUSER="${PGUSER:-postgres}"
  dropdb -h "$PGHOST" -U "$PGUSER" --if-exists onetrip_bench_registry
  createdb -h "$PGHOST" -U "$PGUSER" onetrip_bench_registry
  "$ONETRIP" generate --people "$PEOPLE" --organisations $((PEOPLE / 100)) \
    --seed "$SEED" --as-of "$AS_OF" \
    --database-url "postgres://$PGUSER@$PGHOST/onetrip_bench_registry" 2>/dev/null
  dropdb -h "$PGHOST" -U "$PGUSER" onetrip_bench_registry
fi
