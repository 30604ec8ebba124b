#!/usr/bin/env bash
# Browser tests: builds the debug binary and runs every e2e/*.test.mjs (node:test +
# playwright-core driving Debian's chromium, axe-core on every page), each against its own
# fresh `onetrip demo` on a free port with a throwaway data directory, stopped whatever
# happens.
#
# Needs: cargo, node >= 20, chromium (/usr/bin/chromium, or set CHROMIUM). Installs the npm
# packages of e2e/package-lock.json when they are missing or stale.
# Extra arguments go to `node --test`, e.g. `bash e2e/run.sh --test-name-pattern=keyboard`;
# E2E_FILES=e2e/portal.test.mjs runs one file.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  echo "no chromium at $CHROMIUM: apt-get install -y chromium (or set CHROMIUM)" >&2
  exit 1
fi
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  echo "warning: no CJK font, screenshots will show boxes: apt-get install -y fonts-wqy-microhei" >&2
fi
if [ ! -f e2e/node_modules/.package-lock.json ] ||
  [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
  echo "==> npm ci (e2e)"
  npm ci --prefix e2e --no-audit --no-fund --loglevel=error
fi

echo "==> cargo build -p onetrip"
cargo build -p onetrip
bin="$CARGO_TARGET_DIR/debug/onetrip"

pid=""
data=""
stop_server() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  pid=""
  if [ -n "$data" ]; then rm -rf "$data"; fi
  data=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# A token of our own, so the tests need not parse it from the banner.
admin_token="e2e-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
url=""
log=""
fail() { echo "e2e: $*" >&2; echo "--- server log" >&2; cat "$log" >&2; exit 1; }

# Starts a fresh `onetrip demo` in an empty data directory (no stray ./onetrip.toml), without a
# database URL or public URL from the environment, and waits until it is ready.
start_server() {
  data=$(mktemp -d)
  log="$data/server.log"
  (cd "$data" && exec env -u ONETRIP_DATABASE_URL -u ONETRIP_PUBLIC_URL \
    ONETRIP_ADMIN_TOKEN="$admin_token" ONETRIP_LOG="${ONETRIP_LOG:-warn}" \
    "$bin" demo --listen 127.0.0.1:0 --data-dir "$data") >"$log" 2>&1 &
  pid=$!
  url=""
  for _ in $(seq 1 200); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$log" | head -n1 || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || fail "onetrip demo exited early"
    sleep 0.05
  done
  [ -n "$url" ] || fail "onetrip demo did not print its URL"
  local ready=""
  for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null "${url}readyz" 2>/dev/null; then ready=1; break; fi
    kill -0 "$pid" 2>/dev/null || fail "onetrip demo exited before it was ready"
    sleep 0.05
  done
  [ -n "$ready" ] || fail "${url}readyz did not answer"
}

# Each test file gets its own fresh server: the journeys register the same demo people.
status=0
for file in ${E2E_FILES:-e2e/*.test.mjs}; do
  start_server
  echo "==> $file against $url"
  if ! ONETRIP_E2E_URL="${url%/}" ONETRIP_E2E_ADMIN_TOKEN="$admin_token" \
    node --test --test-reporter=spec "$@" "$file"; then
    status=1
    echo "--- server log ($file)" >&2
    cat "$log" >&2
  fi
  stop_server
done
exit "$status"
