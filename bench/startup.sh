#!/usr/bin/env bash
# Cold start and idle memory of `onetrip serve` on an existing database (the demo catalog), side
# by side with the trivial axum peer (crates/onetrip-web/examples/trivial.rs) as the floor.
#
# Start time = from just before the process is launched until GET /readyz answers 200, polled
# with curl every 10 ms (so figures carry ~10 ms of polling granularity plus curl's own start).
# Idle RSS = VmRSS from /proc/PID/status after IDLE seconds without traffic (VmHWM: the peak).
#
# Usage: bench/startup.sh          (builds release binaries first; SKIP_BUILD=1 to skip)
# Tunables (environment): RUNS=5 IDLE=5
# Targets (issue "Foundation"): ready within 1 s; idle resident memory <= 60 MB.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUNS="${RUNS:-5}"
IDLE="${IDLE:-5}"

build_release

WORK="$(mktemp -d -t onetrip-startup-XXXXXX)"
trap cleanup EXIT
cd "$WORK"

machine
# The existing database: run the demo once (it creates the database and loads the catalog).
start_server "onetrip demo" "$WORK/demo" "$ONETRIP" demo --listen 127.0.0.1:0 --data-dir "$WORK/data"
wait_ok "$SERVER_URL/readyz"
ITEMS="$(curl -sf "$SERVER_URL/api/v1/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
stop_server "$SERVER_PID"
PIDS=()
printf 'database: %s (%s items), %s\n\n' "$WORK/data" "$ITEMS" "$(du -sh "$WORK/data" | cut -f1)"

now_ns() { local t="$EPOCHREALTIME"; echo "${t/./}000"; }

# measure NAME READY_PATH CMD... → one line per run, then "NAME ready ms min/median/max; RSS"
measure() {
  local name="$1" path="$2"
  shift 2
  local -a times=() rss=() hwm=()
  local r
  for ((r = 1; r <= RUNS; r++)); do
    local t0 t1 pid url="" code i
    t0="$(now_ns)"
    "$@" >"$WORK/$name.$r.out" 2>"$WORK/$name.$r.err" &
    pid=$!
    PIDS+=("$pid")
    for ((i = 0; i < 3000; i++)); do
      if [[ -z "$url" ]]; then
        url="$(grep -o -m1 'http://[0-9.:]*' "$WORK/$name.$r.out" 2>/dev/null | head -n1 || true)"
      fi
      if [[ -n "$url" ]]; then
        code="$(curl -s -o /dev/null -w '%{http_code}' "$url$path" || true)"
        [[ "$code" == 200 ]] && break
      fi
      kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.$r.err" >&2; die "$name exited"; }
      sleep 0.01
    done
    t1="$(now_ns)"
    [[ "${code:-}" == 200 ]] || die "$name never became ready"
    times+=("$(((t1 - t0) / 1000000))")
    sleep "$IDLE"
    rss+=("$(rss_kib "$pid")")
    hwm+=("$(hwm_kib "$pid")")
    local inner
    inner="$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/$name.$r.err" | grep -o -m1 'ready_ms=[0-9]*' | cut -d= -f2 || true)"
    printf '%-8s run %d: ready in %4d ms%s; idle RSS %6d KiB (peak %6d KiB)\n' \
      "$name" "$r" "${times[-1]}" "${inner:+ (its own log: listening after $inner ms)}" "${rss[-1]}" "${hwm[-1]}"
    stop_server "$pid"
    PIDS=()
  done
  local -a sorted rs
  mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
  mapfile -t rs < <(printf '%s\n' "${rss[@]}" | sort -n)
  SUMMARY+=("$(printf '%-8s ready ms min/median/max %d / %d / %d; idle RSS median %.1f MiB (min %.1f, max %.1f)' \
    "$name" "${sorted[0]}" "${sorted[$((RUNS / 2))]}" "${sorted[-1]}" \
    "$(awk -v k="${rs[$((RUNS / 2))]}" 'BEGIN {print k / 1024}')" \
    "$(awk -v k="${rs[0]}" 'BEGIN {print k / 1024}')" \
    "$(awk -v k="${rs[-1]}" 'BEGIN {print k / 1024}')")")
  LAST_MEDIAN_MS="${sorted[$((RUNS / 2))]}"
  LAST_MEDIAN_RSS="${rs[$((RUNS / 2))]}"
}

SUMMARY=()
measure onetrip /readyz "$ONETRIP" serve --listen 127.0.0.1:0 --data-dir "$WORK/data"
ON_MS="$LAST_MEDIAN_MS" ON_RSS="$LAST_MEDIAN_RSS"
measure trivial /readyz "$TRIVIAL" 127.0.0.1:0
TR_MS="$LAST_MEDIAN_MS" TR_RSS="$LAST_MEDIAN_RSS"

echo
printf '%s\n' "${SUMMARY[@]}"
awk -v a="$ON_MS" -v b="$TR_MS" -v c="$ON_RSS" -v d="$TR_RSS" 'BEGIN {
  printf "ratio onetrip/trivial: start %.1fx, idle RSS %.1fx (onetrip above the floor: %.1f MiB)\n", a / (b ? b : 1), c / d, (c - d) / 1024
  printf "target ready <= 1000 ms: %s\n", (a <= 1000) ? "met" : "MISSED"
  printf "target idle RSS <= 60 MB: %.1f MiB = %.1f MB (10^6 bytes): %s if MB means MiB, %s if MB means 10^6 bytes\n",
    c / 1024, c * 1024 / 1e6, (c <= 60 * 1024) ? "met" : "MISSED", (c * 1024 <= 60e6) ? "met" : "MISSED"
}'
