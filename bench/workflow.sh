#!/usr/bin/env bash
# Workflow engine throughput, side by side with SpiffWorkflow (issue 5: ≥ 20× SpiffWorkflow),
# both running the same 3-step approval process (accept 受理 → review 审查 → decide 决定) with
# durable state: every transition is its own committed transaction.
#
#   bench/workflow.sh [sqlite|postgres|nosync|all]     (default all)
#
# onetrip: crates/onetrip-app/benches/workflow.rs — real cases of the demo's social-security-card
# item (one review step) driven through App::act_on_case (permissions, state machine, clock,
# SM3 hash chain, store transaction). SpiffWorkflow: bench/workflow/spiff_driver.py running
# bench/workflow/approval.bpmn, the BpmnWorkflowSerializer JSON loaded, advanced and saved
# with a commit per task. On both sides the instances are created before the timed part; the
# timed part is the three transitions of each instance.
#
#   sqlite    SQLite, WAL, synchronous=FULL, on both sides
#   postgres  PostgreSQL (PGHOST 127.0.0.1, PGUSER postgres), fresh databases dropped afterwards
#   nosync    SQLite with synchronous=OFF on both sides: NOT durable; what the engines cost
#             without the fsync both sides wait for
#
# Knobs: BENCH_INSTANCES (per run, default 500), BENCH_CONCURRENCY (onetrip driver tasks and
# SpiffWorkflow processes of the N vs N runs, default 8). The SpiffWorkflow venv is created in
# bench/workflow/.venv (not committed) from bench/workflow/requirements.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
export ONETRIP_LOG=warn
PGHOST="${PGHOST:-127.0.0.1}"
PGUSER="${PGUSER:-postgres}"
INSTANCES="${BENCH_INSTANCES:-500}"
CONCURRENCY="${BENCH_CONCURRENCY:-8}"
which="${1:-all}"
VENV="$ROOT/bench/workflow/.venv"
WORK="$(mktemp -d)"
trap cleanup EXIT

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV…"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r "$ROOT/bench/workflow/requirements.txt"
fi
cd "$ROOT"
cargo bench -p onetrip-app --bench workflow --no-run --quiet

machine
printf 'commit: %s\n' "$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty')"
printf 'SpiffWorkflow %s, %s\n' "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("SpiffWorkflow"))')" "$("$VENV/bin/python" --version)"
printf 'instances per run: %s; N vs N: %s\n' "$INSTANCES" "$CONCURRENCY"

# onetrip ENV... : runs the bench; prints its lines, remembers x1 and xN in ONE and MANY.
onetrip() {
  local out
  out="$(env "$@" BENCH_INSTANCES="$INSTANCES" BENCH_CONCURRENCY="$CONCURRENCY" \
    cargo bench -p onetrip-app --bench workflow --quiet)"
  printf '%s\n' "$out"
  ONE="$(sed -n 's/^onetrip x1: .* = \([0-9.]*\) instances\/s.*/\1/p' <<<"$out")"
  MANY="$(sed -n "s/^onetrip x$CONCURRENCY: .* = \([0-9.]*\) instances\/s.*/\1/p" <<<"$out")"
}

# spiff ARGS... : runs the driver; prints its JSON line, remembers the rate in SPIFF.
spiff() {
  local out
  out="$("$VENV/bin/python" "$ROOT/bench/workflow/spiff_driver.py" --instances "$INSTANCES" "$@")"
  printf '%s\n' "$out"
  SPIFF="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["instances_per_second"])' "$out")"
}

ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.1f}x")' "$1" "$2"; }

sqlite_section() {
  local sync="$1" label="$2" n=0
  echo "== $label"
  onetrip BENCH_SQLITE_SYNC="$sync"
  local one="$ONE" many="$MANY"
  spiff --db "$WORK/spiff-$((n++)).db" --sqlite-sync "${sync^^}"
  local reload="$SPIFF"
  spiff --db "$WORK/spiff-$((n++)).db" --sqlite-sync "${sync^^}" --mode memory
  local memory="$SPIFF"
  echo "ratio 1 vs 1: onetrip/SpiffWorkflow(reload) $(ratio "$one" "$reload"), onetrip/SpiffWorkflow(memory) $(ratio "$one" "$memory")"
  if [[ -n "$many" ]]; then
    spiff --db "$WORK/spiff-$((n++)).db" --sqlite-sync "${sync^^}" --processes "$CONCURRENCY"
    echo "ratio $CONCURRENCY vs $CONCURRENCY: onetrip/SpiffWorkflow(reload) $(ratio "$many" "$SPIFF")"
  fi
}

if [[ "$which" == sqlite || "$which" == all ]]; then
  sqlite_section full "SQLite, WAL, synchronous=FULL (durable)"
fi
if [[ "$which" == postgres || "$which" == all ]]; then
  echo "== PostgreSQL (synchronous_commit on)"
  psql -h "$PGHOST" -U "$PGUSER" -d postgres -qc "DROP DATABASE IF EXISTS onetrip_bench_workflow" \
    -c "DROP DATABASE IF EXISTS onetrip_bench_spiff" -c "CREATE DATABASE onetrip_bench_workflow" \
    -c "CREATE DATABASE onetrip_bench_spiff"
  onetrip ONETRIP_BENCH_DATABASE_URL="postgres://$PGUSER@$PGHOST:5432/onetrip_bench_workflow"
  one="$ONE" many="$MANY"
  dsn="host=$PGHOST user=$PGUSER dbname=onetrip_bench_spiff"
  spiff --pg "$dsn"
  echo "ratio 1 vs 1: onetrip/SpiffWorkflow(reload) $(ratio "$one" "$SPIFF")"
  if [[ -n "$many" ]]; then
    spiff --pg "$dsn" --processes "$CONCURRENCY"
    echo "ratio $CONCURRENCY vs $CONCURRENCY: onetrip/SpiffWorkflow(reload) $(ratio "$many" "$SPIFF")"
  fi
  psql -h "$PGHOST" -U "$PGUSER" -d postgres -qc "DROP DATABASE IF EXISTS onetrip_bench_workflow" \
    -c "DROP DATABASE IF EXISTS onetrip_bench_spiff"
fi
if [[ "$which" == nosync || "$which" == all ]]; then
  sqlite_section off "SQLite, WAL, synchronous=OFF (NOT durable: the engines without the fsync)"
fi
