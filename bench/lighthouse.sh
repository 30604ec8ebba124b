#!/usr/bin/env bash
# Lighthouse scores of the citizen pages (issue 6: performance ≥ 95 and accessibility ≥ 95 in
# the mobile profile on the home, guide and application pages).
#
#   bench/lighthouse.sh            (LH_OUT=dir keeps the JSON reports; SKIP_BUILD=1 uses the
#                                   release binary already built; LH_BINARY=path another binary)
#
# Starts the release `onetrip demo` on a free port in a throwaway directory, installs the
# pinned Lighthouse and playwright-core of bench/lighthouse/package-lock.json when missing, and
# runs bench/lighthouse/run.mjs against Debian's chromium (/usr/bin/chromium, or $CHROMIUM).
# Lighthouse's scores are absolute (its simulated phone and network, not this machine's load),
# so no peer runs beside them; the table also shows first and largest contentful paint and the
# bytes transferred.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/onetrip/target}"
ONETRIP="${LH_BINARY:-$CARGO_TARGET_DIR/release/onetrip}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] || die "no chromium at $CHROMIUM: apt-get install -y chromium"

if [[ "${SKIP_BUILD:-0}" != 1 && -z "${LH_BINARY:-}" ]]; then
  log "building the release binary (cargo build --release -p onetrip)…"
  (cd "$ROOT" && cargo build --release --quiet -p onetrip --bin onetrip) || die "build failed"
fi
[[ -x "$ONETRIP" ]] || die "missing $ONETRIP"

LH="$ROOT/bench/lighthouse"
if [[ ! -f "$LH/node_modules/.package-lock.json" || "$LH/package-lock.json" -nt "$LH/node_modules/.package-lock.json" ]]; then
  log "npm ci (bench/lighthouse)…"
  npm ci --prefix "$LH" --no-audit --no-fund --loglevel=error
fi

WORK="$(mktemp -d)"
trap cleanup EXIT
machine
start_server onetrip "$WORK/server" env ONETRIP_LOG=warn \
  "$ONETRIP" demo --listen 127.0.0.1:0 --data-dir "$WORK/data"
wait_ok "$SERVER_URL/readyz"
log "demo at $SERVER_URL"
ONETRIP_URL="$SERVER_URL" node "$LH/run.mjs"
