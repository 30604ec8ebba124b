#!/usr/bin/env bash
# A department's queue with 10 million cases (issue 5: filter, sort by deadline, first 50 in
# p99 ≤ 20 ms), on SQLite and on PostgreSQL.
#
#   bench/queue.sh [sqlite|postgres|both]     (default both)
#
# Builds the databases once with `onetrip generate --cases $CASES --seed 1 --as-of 2026-11-20`:
# SQLite in $QUEUE_DIR (default ~/.cache/onetrip/queue-10m), PostgreSQL in the database
# onetrip_bench_queue (PGHOST 127.0.0.1, PGUSER postgres). Then, per backend: serves the
# database with `onetrip serve`, signs in a department officer of the department with the most
# open cases (a staff session cookie, as the officer's browser would), and measures with wrk:
#   - each queue request (no filter, warning=red, one item, a division prefix, a rare state)
#     one at a time (-c1: the latency the target is about), then CONNECTIONS (16) at once;
#   - the ceiling in the same run: GET /healthz (the same middleware stack, no database), and
#     the bare SQL of the unfiltered queue timed by the database's own client.
# The deadline scanner's lease is taken by the script for the run (as if another replica held
# it), so that the server does not rescan the open cases in the middle of the measurement.
#
# QUEUE_PATH (default /api/v1/departments/{dept}/queue) is the path requested: `{dept}` is
# replaced by the department's credit code and the filters are appended as query parameters,
# so the same script measures an HTML queue page (e.g. QUEUE_PATH='/staff/queue?department={dept}').
# Tunables: CASES=10000000 DURATION=10 WARMUP=2 CONNECTIONS=16 SKIP_BUILD=1 KEEP_WORK=1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
TARGET_DIR="$CARGO_TARGET_DIR"
ONETRIP="$TARGET_DIR/release/onetrip"
export ONETRIP_LOG=warn

CASES="${CASES:-10000000}"
QUEUE_DIR="${QUEUE_DIR:-$HOME/.cache/onetrip/queue-10m}"
PGHOST="${PGHOST:-127.0.0.1}"
PGUSER="${PGUSER:-postgres}"
PG_DB=onetrip_bench_queue
PG_URL="postgres://$PGUSER@$PGHOST:5432/$PG_DB"
QUEUE_PATH="${QUEUE_PATH:-/api/v1/departments/{dept\}/queue}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
AS_OF=2026-11-20
which="${1:-both}"

command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building the release binary…"
  (cd "$ROOT" && cargo build --release --quiet -p onetrip --bin onetrip) || die "build failed"
fi
[[ -x "$ONETRIP" ]] || die "missing $ONETRIP"

WORK="$(mktemp -d -t onetrip-queue-XXXXXX)"
trap cleanup EXIT

machine
echo "commit: $(cd "$ROOT" && git rev-parse --short HEAD)"
printf 'wrk: %s s per run after %s s warm-up; latency with -t1 -c1, throughput with -t2 -c%s\n' \
  "$DURATION" "$WARMUP" "$CONNECTIONS"

# sql BACKEND QUERY → rows (|-separated) from the benchmark database.
sql() {
  if [[ "$1" == sqlite ]]; then
    sqlite3 "$QUEUE_DIR/onetrip.db" "$2"
  else
    psql -h "$PGHOST" -U "$PGUSER" -d "$PG_DB" -qtAX -c "$2"
  fi
}

# run_wrk THREADS CONNECTIONS URL COOKIE → "rps p50 p99 errors" (ms)
run_wrk() {
  local out
  wrk -t"$1" -c"$2" -d"${WARMUP}s" -H "Cookie: $4" "$3" >/dev/null
  out="$(wrk -t"$1" -c"$2" -d"${DURATION}s" --latency -H "Cookie: $4" "$3")"
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  printf '%s\n' "$out" | wrk_summary
}

bench_backend() {
  local backend="$1" storage
  if [[ "$backend" == sqlite ]]; then
    storage=(--data-dir "$QUEUE_DIR")
    if [[ "$(sql sqlite 'SELECT COUNT(*) FROM cases' 2>/dev/null || echo 0)" -lt "$CASES" ]]; then
      log "generating $CASES cases into $QUEUE_DIR (SQLite)…"
      rm -rf "$QUEUE_DIR" && mkdir -p "$QUEUE_DIR"
      "$ONETRIP" generate --cases "$CASES" --seed 1 --as-of "$AS_OF" "${storage[@]}" | tee -a "$WORK/generate.log"
    fi
  else
    storage=(--database-url "$PG_URL")
    if [[ "$(sql postgres 'SELECT COUNT(*) FROM cases' 2>/dev/null || echo 0)" -lt "$CASES" ]]; then
      log "generating $CASES cases into $PG_DB (PostgreSQL)…"
      dropdb -h "$PGHOST" -U "$PGUSER" --if-exists "$PG_DB"
      createdb -h "$PGHOST" -U "$PGUSER" "$PG_DB"
      "$ONETRIP" generate --cases "$CASES" --seed 1 --as-of "$AS_OF" "${storage[@]}" | tee -a "$WORK/generate.log"
      sql postgres "VACUUM ANALYZE" >/dev/null
    fi
  fi
  "$ONETRIP" migrate "${storage[@]}" >/dev/null
  echo
  echo "=== $backend: $(sql "$backend" 'SELECT COUNT(*) FROM cases') cases, $(sql "$backend" 'SELECT COUNT(*) FROM cases WHERE closed = 0') open"

  # The department with the most open cases, its rarest item with open cases, its division.
  local dept item division state
  IFS='|' read -r dept open < <(sql "$backend" "SELECT department_code, COUNT(*) FROM cases WHERE closed = 0 GROUP BY department_code ORDER BY 2 DESC LIMIT 1")
  IFS='|' read -r item item_open < <(sql "$backend" "SELECT item_code, COUNT(*) FROM cases WHERE closed = 0 AND department_code = '$dept' GROUP BY item_code ORDER BY 2, 1 LIMIT 1")
  division="$(sql "$backend" "SELECT division_code FROM departments WHERE code = '$dept'")"
  IFS='|' read -r state state_open < <(sql "$backend" "SELECT state, COUNT(*) FROM cases WHERE closed = 0 AND department_code = '$dept' GROUP BY state ORDER BY 2, 1 LIMIT 1")
  red_open="$(sql "$backend" "SELECT COUNT(*) FROM cases WHERE closed = 0 AND department_code = '$dept' AND warning = 'red'")"
  echo "department $dept: $open open cases ($red_open red); item $item: $item_open open; state $state: $state_open open; division $division"

  # An officer of that department, signed in with a session cookie.
  local user="bench-queue-$$"
  local password
  password="$("$ONETRIP" staff create --username "$user" --name 基准测试 --department "$dept" \
    --division "$division" --role department_officer "${storage[@]}" 2>/dev/null |
    sed -n 's/^initial password (shown once): //p')"
  [[ -n "$password" ]] || die "could not create the bench officer"
  # Hold the deadline scanner's lease for the run (another replica, as far as the server knows).
  sql "$backend" "DELETE FROM job_leases WHERE name = 'deadline-scanner'; INSERT INTO job_leases (name, owner, until) VALUES ('deadline-scanner', 'bench-queue', 9999999999999999)" >/dev/null

  start_server onetrip "$WORK/$backend" "$ONETRIP" serve --listen 127.0.0.1:0 "${storage[@]}"
  local url="$SERVER_URL" pid="$SERVER_PID"
  wait_ok "$url/readyz"
  local cookie
  cookie="$(curl -sf -c - -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$password\"}" "$url/api/v1/staff/session" |
    awk 'NF == 7 {c = c (c == "" ? "" : "; ") $6 "=" $7} END {print c}')"
  [[ -n "$cookie" ]] || die "sign-in failed"

  local base="${QUEUE_PATH//\{dept\}/$dept}" sep='?'
  [[ "$base" == *\?* ]] && sep='&'
  local -a names=(none "warning=red" "item" "division=${division:0:4}" "state=$state")
  local -a queries=("" "${sep}warning=red" "${sep}item=$item" "${sep}division=${division:0:4}" "${sep}state=$state")
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$url$base")"
  [[ "$code" == 200 ]] || die "$url$base answered $code"

  printf '%-22s %9s %9s %9s %7s | %9s %9s %9s %7s\n' "filter" "req/s" "p50 ms" "p99 ms" errors \
    "req/s c$CONNECTIONS" "p50 ms" "p99 ms" errors
  local i rps1 p501 p991 e1 rps p50 p99 e
  for i in "${!names[@]}"; do
    read -r rps1 p501 p991 e1 < <(run_wrk 1 1 "$url$base${queries[$i]}" "$cookie")
    read -r rps p50 p99 e < <(run_wrk 2 "$CONNECTIONS" "$url$base${queries[$i]}" "$cookie")
    printf '%-22s %9s %9s %9s %7s | %9s %9s %9s %7s\n' "${names[$i]}" "$rps1" "$p501" "$p991" "$e1" \
      "$rps" "$p50" "$p99" "$e"
    [[ "$i" == 0 ]] && QUEUE_RPS="$rps"
  done
  read -r rps1 p501 p991 e1 < <(run_wrk 1 1 "$url/healthz" "$cookie")
  read -r rps p50 p99 e < <(run_wrk 2 "$CONNECTIONS" "$url/healthz" "$cookie")
  printf '%-22s %9s %9s %9s %7s | %9s %9s %9s %7s\n' "ceiling: /healthz" "$rps1" "$p501" "$p991" "$e1" \
    "$rps" "$p50" "$p99" "$e"
  printf 'ratio queue (no filter) / healthz at c%s: %s\n' "$CONNECTIONS" \
    "$(awk -v a="$QUEUE_RPS" -v b="$rps" 'BEGIN {printf "%.2f", a / b}')"

  # The bare SQL of the unfiltered queue, timed by the database's own client (10 runs).
  local q="SELECT number, application_id, member, item_code, item_version, situation, department_code, division_code, state, closed, due_on, warning, status, event_count, last_hash, concluded_on, on_time, handling_days, created_at, updated_at FROM cases WHERE closed = 0 AND department_code = '$dept' ORDER BY due_on, number LIMIT 50"
  if [[ "$backend" == sqlite ]]; then
    python3 - "$QUEUE_DIR/onetrip.db" "$q" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
ts = []
for _ in range(200):
    t = time.perf_counter(); db.execute(sys.argv[2]).fetchall(); ts.append((time.perf_counter() - t) * 1000)
ts.sort()
print(f"ceiling: bare SQL (python sqlite3, 200 runs): p50 {ts[100]:.3f} ms, p99 {ts[197]:.3f} ms")
EOF
    echo "plans:"
    for f in "" "AND warning = 'red'" "AND item_code = '$item'" "AND division_code >= '${division:0:4}' AND division_code < '$(( ${division:0:4} + 1 ))'" "AND state = '$state'"; do
      printf '  %-40s %s\n' "${f:-(none)}" "$(sql sqlite "EXPLAIN QUERY PLAN SELECT number FROM cases WHERE closed = 0 AND department_code = '$dept' $f ORDER BY due_on, number LIMIT 50" | tr '\n' ' ')"
    done
  else
    psql -h "$PGHOST" -U "$PGUSER" -d "$PG_DB" -qtAX -c "EXPLAIN (ANALYZE, BUFFERS) $q" | grep -E 'Index|Execution'
  fi

  stop_server "$pid"
  PIDS=()
  sql "$backend" "DELETE FROM job_leases WHERE name = 'deadline-scanner' AND owner = 'bench-queue'" >/dev/null
}

if [[ "$which" == sqlite || "$which" == both ]]; then bench_backend sqlite; fi
if [[ "$which" == postgres || "$which" == both ]]; then bench_backend postgres; fi
