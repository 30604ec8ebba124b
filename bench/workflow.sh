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
# Knobs: BENCH_INSTANCES (per run, default 500), BENCH_CONCURRENCY (space-separated: onetrip
# driver tasks of the N× runs, default "8 32 64"), SPIFF_PROCESSES (space-separated:
# SpiffWorkflow processes of its N× runs, each in both modes, default "2 4 8"). Every onetrip
# N× rate is compared with SpiffWorkflow at the same N (when run) and with SpiffWorkflow's best
# durable configuration of the section. The SpiffWorkflow venv is created in bench/workflow/.venv
# (not committed) from bench/workflow/requirements.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
export ONETRIP_LOG=warn
PGHOST="${PGHOST:-127.0.0.1}"
PGUSER="${PGUSER:-postgres}"
INSTANCES="${BENCH_INSTANCES:-500}"
CONCURRENCY="${BENCH_CONCURRENCY:-8 32 64}"
SPIFF_PROCESSES="${SPIFF_PROCESSES:-2 4 8}"
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
printf 'instances per run: %s; onetrip tasks: 1 %s; SpiffWorkflow processes: 1 %s\n' "$INSTANCES" "$CONCURRENCY" "$SPIFF_PROCESSES"

# onetrip ENV... : runs the bench; prints its lines, remembers the rate of N tasks in RATE[N].
declare -A RATE
onetrip() {
  local out n
  out="$(env "$@" BENCH_INSTANCES="$INSTANCES" BENCH_CONCURRENCY="${CONCURRENCY// /,}" \
    cargo bench -p onetrip-app --bench workflow --quiet)"
  printf '%s\n' "$out"
  printf 'load average after onetrip: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  RATE=()
  for n in 1 $CONCURRENCY; do
    RATE[$n]="$(sed -n "s/^onetrip x$n: .* = \([0-9.]*\) instances\/s.*/\1/p" <<<"$out")"
  done
}

# spiff LABEL ARGS... : runs the driver; prints its JSON line, remembers the rate in
# SPIFF[LABEL] and the best rate of the section in BEST / BEST_LABEL.
declare -A SPIFF
spiff() {
  local label="$1" out rate
  shift
  out="$("$VENV/bin/python" "$ROOT/bench/workflow/spiff_driver.py" --instances "$INSTANCES" "$@")"
  printf '%s\n' "$out"
  rate="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["instances_per_second"])' "$out")"
  SPIFF[$label]="$rate"
  if python3 -c 'import sys; sys.exit(float(sys.argv[1]) <= float(sys.argv[2]))' "$rate" "${BEST:-0}"; then
    BEST="$rate" BEST_LABEL="$label"
  fi
}

ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.1f}x")' "$1" "$2"; }

# spiff_runs ARGS... : SpiffWorkflow with 1 and SPIFF_PROCESSES processes, reload and memory;
# an argument @DB@ becomes a fresh SQLite file for each run.
spiff_runs() {
  local p mode k=0
  SPIFF=() BEST=0 BEST_LABEL=
  for p in 1 $SPIFF_PROCESSES; do
    for mode in reload memory; do
      spiff "$mode x$p" "${@//@DB@/$WORK/spiff-$((k++)).db}" --processes "$p" --mode "$mode"
    done
  done
  printf 'load average after SpiffWorkflow: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# ratios: onetrip at each concurrency against SpiffWorkflow at the same N and at its best.
ratios() {
  local n same
  for n in 1 $CONCURRENCY; do
    [[ -n "${RATE[$n]}" ]] || continue
    same=""
    [[ -n "${SPIFF[reload x$n]:-}" ]] &&
      same="; vs SpiffWorkflow x$n reload/memory $(ratio "${RATE[$n]}" "${SPIFF[reload x$n]}") / $(ratio "${RATE[$n]}" "${SPIFF[memory x$n]}")"
    echo "ratio onetrip x$n (${RATE[$n]}/s): vs SpiffWorkflow best ($BEST_LABEL, $BEST/s) $(ratio "${RATE[$n]}" "$BEST")$same"
  done
}

sqlite_section() {
  local sync="$1" label="$2"
  echo "== $label"
  onetrip BENCH_SQLITE_SYNC="$sync"
  spiff_runs --db @DB@ --sqlite-sync "${sync^^}"
  ratios
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
  spiff_runs --pg "host=$PGHOST user=$PGUSER dbname=onetrip_bench_spiff"
  ratios
  psql -h "$PGHOST" -U "$PGUSER" -d postgres -qc "DROP DATABASE IF EXISTS onetrip_bench_workflow" \
    -c "DROP DATABASE IF EXISTS onetrip_bench_spiff"
fi
if [[ "$which" == nosync || "$which" == all ]]; then
  sqlite_section off "SQLite, WAL, synchronous=OFF (NOT durable: the engines without the fsync)"
fi
