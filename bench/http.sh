#!/usr/bin/env bash
# Item reads over HTTP: `GET /api/v1/items/{code}` of `onetrip demo` (SQLite) against a trivial
# axum handler (crates/onetrip-web/examples/trivial.rs, `GET /` → {"ok":true}), measured the same
# way with wrk in the same run, alternating, on loopback. Prints requests/s and latency
# percentiles for both and the ratio. onetrip's GET /healthz (the whole middleware stack, no
# database) is measured too, to tell the cost of the middleware from that of the database read.
#
# Usage: bench/http.sh            (builds release binaries first; SKIP_BUILD=1 to skip)
# Tunables (environment): THREADS=2 CONNECTIONS=64 DURATION=10 WARMUP=2 ROUNDS=3
# Target (issue "Foundation"): >= 20,000 requests/s on a 2-core machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
ROUNDS="${ROUNDS:-3}"

if ! command -v wrk >/dev/null; then
  log "wrk is missing; installing it with apt-get"
  if ! apt-get install -y -qq wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  fi
fi
command -v wrk >/dev/null || die "wrk is not available"

build_release

WORK="$(mktemp -d -t onetrip-http-XXXXXX)"
trap cleanup EXIT
cd "$WORK"

start_server onetrip "$WORK/onetrip" "$ONETRIP" demo --listen 127.0.0.1:0 --data-dir "$WORK/data"
ONETRIP_PID="$SERVER_PID"
ONETRIP_URL="$SERVER_URL"
wait_ok "$ONETRIP_URL/readyz"
CODE="${ITEM_CODE:-$(curl -sf "$ONETRIP_URL/api/v1/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["implementation_code"])')}"
[[ -n "$CODE" && "$CODE" != null ]] || die "no item in /api/v1/items"
ITEM_URL="$ONETRIP_URL/api/v1/items/$CODE"
curl -sf -o /dev/null "$ITEM_URL" || die "$ITEM_URL does not answer 200"

start_server trivial "$WORK/trivial" "$TRIVIAL" 127.0.0.1:0
TRIVIAL_PID="$SERVER_PID"
TRIVIAL_URL="$SERVER_URL/"
wait_ok "$TRIVIAL_URL"

bytes() { curl -s -o /dev/null -w '%{size_download}' "$1"; }

# run_wrk URL → prints "rps p50 p90 p99 errors" (latencies in ms)
run_wrk() {
  local out
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1")"
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  printf '%s\n' "$out" | awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    /^ *50%/ { p50 = ms($2) } /^ *90%/ { p90 = ms($2) } /^ *99%/ { p99 = ms($2) }
    /Requests\/sec/ { rps = $2 }
    /Non-2xx/ { err += $NF }
    /Socket errors/ { for (i = 3; i <= NF; i++) { v = $i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) err += v } }
    END { printf "%.0f %.3f %.3f %.3f %d\n", rps, p50, p90, p99, err }'
}

machine
printf 'onetrip %s (pid %s), item %s (%s bytes)\n' "$ONETRIP_URL" "$ONETRIP_PID" "$CODE" "$(bytes "$ITEM_URL")"
printf 'trivial %s (pid %s) (%s bytes)\n' "$TRIVIAL_URL" "$TRIVIAL_PID" "$(bytes "$TRIVIAL_URL")"
printf 'wrk -t%s -c%s -d%ss --latency, %s s warm-up before each run, %s alternating rounds\n\n' \
  "$THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP" "$ROUNDS"

declare -a ON_RPS TR_RPS HZ_RPS
printf '%-6s %-26s %10s %9s %9s %9s %7s\n' round "server, path" "req/s" "p50 ms" "p90 ms" "p99 ms" errors
for ((r = 1; r <= ROUNDS; r++)); do
  for server in items trivial healthz; do
    case $server in
      items) url="$ITEM_URL" label="onetrip /api/v1/items/{code}" ;;
      trivial) url="$TRIVIAL_URL" label="trivial /" ;;
      healthz) url="$ONETRIP_URL/healthz" label="onetrip /healthz" ;;
    esac
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" >/dev/null
    read -r rps p50 p90 p99 err < <(run_wrk "$url")
    printf '%-6s %-26s %10s %9s %9s %9s %7s\n' "$r" "$label" "$rps" "$p50" "$p90" "$p99" "$err"
    case $server in
      items) ON_RPS+=("$rps") ;;
      trivial) TR_RPS+=("$rps") ;;
      healthz) HZ_RPS+=("$rps") ;;
    esac
  done
done

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
on="$(median "${ON_RPS[@]}")"
tr="$(median "${TR_RPS[@]}")"
hz="$(median "${HZ_RPS[@]}")"
echo
printf 'median req/s: onetrip GET /api/v1/items/{code} %s, trivial %s, ratio onetrip/trivial %s\n' \
  "$on" "$tr" "$(awk -v a="$on" -v b="$tr" 'BEGIN {printf "%.2f", a / b}')"
printf 'median req/s: onetrip GET /healthz (middleware, no database) %s, ratio to trivial %s\n' \
  "$hz" "$(awk -v a="$hz" -v b="$tr" 'BEGIN {printf "%.2f", a / b}')"
printf 'target >= 20000 req/s: %s\n' "$(awk -v a="$on" 'BEGIN {print (a >= 20000) ? "met" : "MISSED"}')"

stop_server "$TRIVIAL_PID"
stop_server "$ONETRIP_PID"
PIDS=()
