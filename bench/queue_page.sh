#!/usr/bin/env bash
# The officer queue PAGE (issue 6: server render time with 10 million cases, p99 ≤ 30 ms), next to
# its peer, the JSON queue of the API (the same use case without the HTML), on SQLite.
#
#   bench/queue_page.sh
#
# Builds the database once with `onetrip generate --cases $CASES --seed 1 --as-of 2026-11-20` in
# $QUEUE_DIR (default: 1 M cases in ~/.cache/onetrip/queue-1m; CASES=10000000
# QUEUE_DIR=~/.cache/onetrip/queue-10m for the target, the directory bench/queue.sh uses), and
# prints how long that took. Then serves it with `onetrip serve`, signs in a department officer
# of the department with the most open cases (a staff session cookie, as the officer's
# browser), and measures with wrk, one request at a time (-t1 -c1: the latency the target is
# about), then CONNECTIONS (16) at once:
#   - the page `/work/queue` (HTML: the day's figures, 50 rows, filters, batch form) and the API's
#     `/api/v1/departments/{dept}/queue?limit=50` (JSON, 50 rows), unfiltered;
#   - the page filtered to red cases, to cases due this week, and its second page (keyset);
# and prints p50/p99 of each and the ratio page / API.
# The deadline scanner's lease is taken for the run (as if another replica held it).
# Tunables: CASES=1000000 DURATION=10 WARMUP=2 CONNECTIONS=16 SKIP_BUILD=1 KEEP_WORK=1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
TARGET_DIR="$CARGO_TARGET_DIR"
ONETRIP="$TARGET_DIR/release/onetrip"
export ONETRIP_LOG=warn

CASES="${CASES:-1000000}"
QUEUE_DIR="${QUEUE_DIR:-$HOME/.cache/onetrip/queue-1m}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
AS_OF=2026-11-20

ensure_wrk
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building the release binary…"
  (cd "$ROOT" && cargo build --release --quiet -p onetrip --bin onetrip) || die "build failed"
fi
[[ -x "$ONETRIP" ]] || die "missing $ONETRIP"

WORK="$(mktemp -d -t onetrip-queue-page-XXXXXX)"
trap cleanup EXIT

machine
echo "commit: $(cd "$ROOT" && git rev-parse --short HEAD)"
printf 'wrk: %s s per run after %s s warm-up; latency with -t1 -c1, throughput with -t2 -c%s\n' \
  "$DURATION" "$WARMUP" "$CONNECTIONS"

sql() { sqlite3 "$QUEUE_DIR/onetrip.db" "$1"; }

storage=(--data-dir "$QUEUE_DIR")
if [[ "$(sql 'SELECT COUNT(*) FROM cases' 2>/dev/null || echo 0)" -lt "$CASES" ]]; then
  log "generating $CASES cases into $QUEUE_DIR…"
  rm -rf "$QUEUE_DIR" && mkdir -p "$QUEUE_DIR"
  started=$(date +%s)
  "$ONETRIP" generate --cases "$CASES" --seed 1 --as-of "$AS_OF" "${storage[@]}" | tee -a "$WORK/generate.log"
  echo "generation: $(($(date +%s) - started)) s for $CASES cases"
fi
"$ONETRIP" migrate "${storage[@]}" >/dev/null
echo "database: $(sql 'SELECT COUNT(*) FROM cases') cases, $(sql 'SELECT COUNT(*) FROM cases WHERE closed = 0') open"

IFS='|' read -r dept open < <(sql "SELECT department_code, COUNT(*) FROM cases WHERE closed = 0 GROUP BY department_code ORDER BY 2 DESC LIMIT 1")
division="$(sql "SELECT division_code FROM departments WHERE code = '$dept'")"
red_open="$(sql "SELECT COUNT(*) FROM cases WHERE closed = 0 AND department_code = '$dept' AND warning = 'red'")"
echo "department $dept: $open open cases ($red_open red), division $division"

user="bench-page-$$"
password="$("$ONETRIP" staff create --username "$user" --name 基准测试 --department "$dept" \
  --division "$division" --role department_officer "${storage[@]}" 2>/dev/null |
  sed -n 's/^initial password (shown once): //p')"
[[ -n "$password" ]] || die "could not create the bench officer"
sql "DELETE FROM job_leases WHERE name = 'deadline-scanner'; INSERT INTO job_leases (name, owner, until) VALUES ('deadline-scanner', 'bench-queue-page', 9999999999999999)" >/dev/null

start_server onetrip "$WORK/server" "$ONETRIP" serve --listen 127.0.0.1:0 "${storage[@]}"
url="$SERVER_URL"
wait_ok "$url/readyz"
cookie="$(curl -sf -c - -H 'content-type: application/json' \
  -d "{\"username\":\"$user\",\"password\":\"$password\"}" "$url/api/v1/staff/session" |
  awk 'NF == 7 {c = c (c == "" ? "" : "; ") $6 "=" $7} END {print c}')"
[[ -n "$cookie" ]] || die "sign-in failed"

# The second page starts after the 50th case of the first.
after="$(sql "SELECT due_on || '~' || number FROM cases WHERE closed = 0 AND department_code = '$dept' ORDER BY due_on, number LIMIT 1 OFFSET 49")"
page="/work/queue?department=$dept"
names=("API JSON (peer)" "page" "page, red" "page, due this week" "page 2 (keyset)")
paths=("/api/v1/departments/$dept/queue?limit=50" "$page" "$page&warning=red" "$page&due=week" "$page&after=$after")
for p in "${paths[@]}"; do
  code="$(curl -s -o "$WORK/body" -w '%{http_code}' -H "Cookie: $cookie" -H 'Accept: text/html' "$url$p")"
  [[ "$code" == 200 ]] || die "$p answered $code: $(head -c 300 "$WORK/body")"
done
echo "page size: $(curl -s -H "Cookie: $cookie" "$url$page" | wc -c) bytes (HTML), API: $(curl -s -H "Cookie: $cookie" "$url${paths[0]}" | wc -c) bytes (JSON)"

# run_wrk THREADS CONNECTIONS URL → "rps p50 p99 errors" (ms)
run_wrk() {
  local out
  wrk -t"$1" -c"$2" -d"${WARMUP}s" -H "Cookie: $cookie" -H 'Accept: text/html' "$3" >/dev/null
  out="$(wrk -t"$1" -c"$2" -d"${DURATION}s" --latency -H "Cookie: $cookie" -H 'Accept: text/html' "$3")"
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  printf '%s\n' "$out" | wrk_summary
}

printf '%-22s %9s %9s %9s %7s | %9s %9s %9s %7s\n' "request" "req/s" "p50 ms" "p99 ms" errors \
  "req/s c$CONNECTIONS" "p50 ms" "p99 ms" errors
declare -a P50 P99
for i in "${!names[@]}"; do
  read -r rps1 p501 p991 e1 < <(run_wrk 1 1 "$url${paths[$i]}")
  read -r rps p50 p99 e < <(run_wrk 2 "$CONNECTIONS" "$url${paths[$i]}")
  printf '%-22s %9s %9s %9s %7s | %9s %9s %9s %7s\n' "${names[$i]}" "$rps1" "$p501" "$p991" "$e1" \
    "$rps" "$p50" "$p99" "$e"
  P50[i]="$p501"
  P99[i]="$p991"
done
printf 'ratio page / API at c1: p50 %s, p99 %s\n' \
  "$(awk -v a="${P50[1]}" -v b="${P50[0]}" 'BEGIN {printf "%.2f", a / b}')" \
  "$(awk -v a="${P99[1]}" -v b="${P99[0]}" 'BEGIN {printf "%.2f", a / b}')"
sql "DELETE FROM job_leases WHERE name = 'deadline-scanner' AND owner = 'bench-queue-page'" >/dev/null
