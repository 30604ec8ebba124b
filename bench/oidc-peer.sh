#!/usr/bin/env bash
# Token grants of the node `oidc-provider` package (bench/oidc-peer/, configured like onetrip:
# client_secret_basic, ES256 JWT access tokens, refresh-token rotation), measured with wrk: the
# peer figures against which onetrip's token endpoint is to be compared. The peer runs on one
# core (taskset -c $PEER_CPU) and wrk on the other (taskset -c $WRK_CPU), on loopback.
#
#   1. client_credentials: client bench-machine, scope api → an ES256 JWT access token;
#   2. refresh_token with rotation: client bench-rp, refresh tokens minted at start-up; every
#      request sends a token never used before (bench/wrk/refresh.lua chains the rotated tokens).
#
# Prints `peer client_credentials <N> req/s` and `peer refresh <N> req/s`, and exits 1 when any
# request failed (non-200, socket error, or a refresh request without an unused token).
#
# Usage: bash bench/oidc-peer.sh        (installs wrk with apt-get and the npm packages if missing)
# Tunables (environment): THREADS=1 CONNECTIONS=16 DURATION=10 WARMUP=2 PORT=7400
#   PEER_REFRESH_TOKENS=2000 (half for the refresh warm-up, half for the measured run)
#   PEER_CPU=1 WRK_CPU=0 KEEP_WORK=1 (keep the temporary directory with the logs)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

THREADS="${THREADS:-1}"
CONNECTIONS="${CONNECTIONS:-16}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
PORT="${PORT:-7400}"
PEER_REFRESH_TOKENS="${PEER_REFRESH_TOKENS:-2000}"
PEER_CPU="${PEER_CPU:-1}"
WRK_CPU="${WRK_CPU:-0}"
PEER_DIR="$ROOT/bench/oidc-peer"
WRK_DIR="$ROOT/bench/wrk"

if ! command -v wrk >/dev/null; then
  log "wrk is missing; installing it with apt-get"
  if ! apt-get install -y -qq wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  fi
fi
command -v wrk >/dev/null || die "wrk is not available"
command -v node >/dev/null || die "node is not available"
command -v npm >/dev/null || die "npm is not available"

if [[ ! -d "$PEER_DIR/node_modules/oidc-provider" \
  || "$PEER_DIR/package-lock.json" -nt "$PEER_DIR/node_modules/.package-lock.json" ]]; then
  log "installing the peer's npm packages (npm ci)…"
  (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi

# Pin the peer and wrk to different cores when there are at least two.
PIN_PEER=() PIN_WRK=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
  PIN_PEER=(taskset -c "$PEER_CPU")
  PIN_WRK=(taskset -c "$WRK_CPU")
else
  log "warning: fewer than 2 CPUs or no taskset; the peer and wrk are not pinned"
fi

WORK="$(mktemp -d -t onetrip-oidc-peer-XXXXXX)"
trap cleanup EXIT

SECRET="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
TOKENS="$WORK/refresh-tokens.txt"

start_server oidc-provider "$WORK/peer" env -C "$PEER_DIR" NODE_ENV=production PORT="$PORT" \
  PEER_SECRET="$SECRET" PEER_REFRESH_TOKENS="$PEER_REFRESH_TOKENS" PEER_TOKENS_FILE="$TOKENS" \
  "${PIN_PEER[@]}" node server.mjs
PEER_PID="$SERVER_PID"
PEER_URL="$SERVER_URL"
[[ "$PEER_URL" == "http://127.0.0.1:$PORT" ]] || die "unexpected peer address $PEER_URL"
wait_ok "$PEER_URL/.well-known/openid-configuration"

# The minted tokens: the first half for the refresh warm-up, the second for the measured run.
ntok="$(wc -l <"$TOKENS")"
((ntok == PEER_REFRESH_TOKENS)) || die "the peer wrote $ntok refresh tokens, not $PEER_REFRESH_TOKENS"
head -n $((ntok / 2)) "$TOKENS" >"$WORK/warm-tokens.txt"
tail -n +$((ntok / 2 + 1)) "$TOKENS" >"$WORK/run-tokens.txt"
((ntok / 2 >= CONNECTIONS)) || die "PEER_REFRESH_TOKENS=$ntok: need at least 2 × CONNECTIONS"

# run_wrk DURATION SCRIPT ARGS... → prints "rps p50 p99 failures" (latencies in ms); failures =
# non-200 responses + socket errors + starved refresh requests + 200s without a refresh token.
run_wrk() {
  local duration="$1" script="$2" out
  shift 2
  out="$("${PIN_WRK[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${duration}s" --latency \
    -s "$script" "$PEER_URL" -- "$@")"
  printf '$ wrk -t%s -c%s -d%ss --latency -s %s %s -- …\n%s\n\n' "$THREADS" "$CONNECTIONS" \
    "$duration" "$(basename "$script")" "$PEER_URL" "$out" >>"$WORK/wrk.log"
  printf '%s\n' "$out" | awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    /^ *50%/ { p50 = ms($2) } /^ *99%/ { p99 = ms($2) }
    /Requests\/sec/ { rps = $2 }
    /^non-200 responses:/ || /^starved:/ || /^200 without refresh_token:/ { err += $NF }
    /Socket errors/ { for (i = 3; i <= NF; i++) { v = $i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) err += v } }
    END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, err }'
}

machine
printf 'peer: oidc-provider %s on node %s (pid %s, %s), NODE_ENV=production\n' \
  "$(node -p 'require(process.argv[1]).version' "$PEER_DIR/node_modules/oidc-provider/package.json")" \
  "$(node --version)" "$PEER_PID" "${PIN_PEER[*]:-not pinned}"
printf 'wrk -t%s -c%s -d%ss (%s), %s s warm-up before each run; %s refresh tokens (half for the warm-up)\n\n' \
  "$THREADS" "$CONNECTIONS" "$DURATION" "${PIN_WRK[*]:-not pinned}" "$WARMUP" "$ntok"

FAILED=0
declare -A RPS
printf '%-20s %10s %9s %9s %9s\n' grant "req/s" "p50 ms" "p99 ms" failures
for grant in client_credentials refresh; do
  case $grant in
    client_credentials)
      script="$WRK_DIR/client_credentials.lua"
      warm_args=(bench-machine "$SECRET" /token)
      run_args=(bench-machine "$SECRET" /token)
      ;;
    refresh)
      script="$WRK_DIR/refresh.lua"
      warm_args=(bench-rp "$SECRET" "$WORK/warm-tokens.txt" /token "$THREADS")
      run_args=(bench-rp "$SECRET" "$WORK/run-tokens.txt" /token "$THREADS")
      ;;
  esac
  if ((WARMUP > 0)); then
    read -r _ _ _ werr < <(run_wrk "$WARMUP" "$script" "${warm_args[@]}")
    ((werr == 0)) || { log "warm-up of $grant: $werr failed requests"; FAILED=1; }
  fi
  read -r rps p50 p99 err < <(run_wrk "$DURATION" "$script" "${run_args[@]}")
  printf '%-20s %10s %9s %9s %9s\n' "$grant" "$rps" "$p50" "$p99" "$err"
  RPS[$grant]="$rps"
  ((err == 0)) || FAILED=1
done
echo
printf 'peer client_credentials %s req/s\n' "${RPS[client_credentials]}"
printf 'peer refresh %s req/s\n' "${RPS[refresh]}"

stop_server "$PEER_PID"
PIDS=()
if ((FAILED)); then
  log "some requests failed; wrk output:"
  cat "$WORK/wrk.log" >&2
  exit 1
fi
