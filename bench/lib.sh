# Shared helpers of the bench/ scripts (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
TARGET_DIR="$CARGO_TARGET_DIR"
ONETRIP="$TARGET_DIR/release/onetrip"
TRIVIAL="$TARGET_DIR/release/examples/trivial"

# Settings from the environment must not change what is measured.
for v in $(compgen -e | grep '^ONETRIP_' || true); do unset "$v"; done

PIDS=()

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

build_release() {
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    log "building release binaries (cargo build --release -p onetrip -p onetrip-web --bin onetrip --example trivial)…"
    (cd "$ROOT" && cargo build --release --quiet -p onetrip --bin onetrip \
      && cargo build --release --quiet -p onetrip-web --example trivial) || die "build failed"
  fi
  [[ -x "$ONETRIP" ]] || die "missing $ONETRIP"
  [[ -x "$TRIVIAL" ]] || die "missing $TRIVIAL"
}

# start_server NAME LOGPREFIX CMD... : starts CMD in the background with its stdout/stderr in
# LOGPREFIX.out/.err, then waits (up to 60 s) for a line with http://ADDR/ on stdout.
# Sets SERVER_PID and SERVER_URL (without the trailing slash).
start_server() {
  local name="$1" prefix="$2"
  shift 2
  "$@" >"$prefix.out" 2>"$prefix.err" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  SERVER_URL=""
  local i
  for ((i = 0; i < 6000; i++)); do
    SERVER_URL="$(grep -o -m1 'http://[0-9.:]*' "$prefix.out" 2>/dev/null | head -n1 || true)"
    [[ -n "$SERVER_URL" ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$prefix.err" >&2; die "$name exited early"; }
    sleep 0.01
  done
  die "$name did not print its address"
}

# stop_server PID: SIGTERM (both servers shut down gracefully on it), then wait.
stop_server() {
  local pid="$1"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 500; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.01
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop within 5 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_server "$pid"; done
  PIDS=()
  if [[ -n "${WORK:-}" && -d "$WORK" && "${KEEP_WORK:-0}" != 1 ]]; then rm -rf "$WORK"; fi
}

# wait_ok URL: polls until URL answers 200 (10 s max).
wait_ok() {
  local url="$1" i
  for ((i = 0; i < 1000; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" == 200 ]] && return 0
    sleep 0.01
  done
  die "$url never answered 200"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

machine() {
  printf 'machine: %s CPUs, %s, %s MiB RAM, kernel %s\n' "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
    "$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)" "$(uname -r)"
  printf 'load average at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# ensure_wrk: installs wrk with apt-get when it is missing.
ensure_wrk() {
  if ! command -v wrk >/dev/null; then
    log "wrk is missing; installing it with apt-get"
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk is not available"
}

# wrk_summary: reads `wrk --latency` output, prints "rps p50 p99 errors" (ms).
wrk_summary() {
  awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    /^ *50%/ { p50 = ms($2) } /^ *99%/ { p99 = ms($2) }
    /Requests\/sec/ { rps = $2 }
    /Non-2xx/ { err += $NF }
    /Socket errors/ { for (i = 3; i <= NF; i++) { v = $i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) err += v } }
    END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, err }'
}
