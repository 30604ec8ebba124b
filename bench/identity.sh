#!/usr/bin/env bash
# Identity throughput per core: password sign-ins and OAuth token grants (client_credentials and
# refresh_token with rotation) of onetrip, measured with wrk, and in the same run the node
# `oidc-provider` peer (bench/oidc-peer.sh) measured the same way; then a summary with the ratios
# to the peer and to Keycloak's published sizing (15 password sign-ins/s and 120
# client-credentials grants/s per vCPU; 120 refresh grants/s too).
#
#   1. builds onetrip (cargo build --release -p onetrip; SKIP_BUILD=1 to skip);
#   2. starts `onetrip serve` on a fresh SQLite data directory, pinned to one core
#      (taskset -c $SERVER_CPU), with a random admin token;
#   3. bench/identity_setup.py registers a machine client and a code-flow client, registers two
#      persons (SMS codes read from the sandbox outbox; the second one's stored hash is replaced
#      by one with Keycloak's Argon2 parameters) and mints $REFRESH_TOKENS refresh tokens, each
#      from its own authorization-code flow (half for the warm-up, half for the run);
#   4. wrk pinned to the other core (taskset -c $WRK_CPU), -t1 -c16 -d10s after a 2 s warm-up,
#      for client_credentials (bench/wrk/client_credentials.lua), refresh with rotation
#      (bench/wrk/refresh.lua: every token is sent once) and password sign-in
#      (bench/wrk/sign_in.lua: the correct password only, no cookie: a new session each time),
#      once for the person with onetrip's hash and once for the one with Keycloak's;
#   5. stops onetrip and runs `bash bench/oidc-peer.sh` with the same pinning and wrk settings.
#
# Every request must answer 200: any non-200, socket error, starved refresh request, 200 without
# a rotated refresh token or without a session cookie makes the script exit 1 (after the
# summary), and so does a wrk run that prints no result.
#
# Columns: "server CPU" is the CPU time onetrip used during the measured run divided by its
# duration (1.00 = the whole pinned core); "per CPU-s" = req/s ÷ server CPU, the requests per
# second of CPU time (the per-core figure when a neighbour took part of the core); "faults/req"
# is onetrip's minor page faults per request (a password verification allocates 19 MiB; when
# that memory is not reused it is faulted in again, 4 KiB at a time); "others" is the share of
# the server's core used by other processes (a neighbour's compiler, say) and by softirqs.
# Ratios are computed on the measured req/s (the peer's CPU is not measured), so they are
# conservative when onetrip's server CPU is below 1.
#
# Password hashing: onetrip hashes with Argon2id v19, m=19456 KiB, t=2, p=1 (the argon2 crate's
# defaults, crates/onetrip-app/src/accounts.rs) and verifies with the parameters stored in the
# hash. Keycloak's default (24+) is Argon2id v19, m=7168 KiB, t=5, p=1, 32-byte hash: the
# "sign_in_kc" run signs in a person whose stored hash has those parameters, which is the
# sign-in rate at Keycloak's hash cost, measured. `cargo bench -p onetrip-app --bench passwords`
# times one verification with each; when its results are in $CARGO_TARGET_DIR/criterion the
# summary also prints them.
#
# Usage: bash bench/identity.sh
# Tunables (environment): THREADS=1 CONNECTIONS=16 DURATION=10 WARMUP=2 SERVER_CPU=1 WRK_CPU=0
#   REFRESH_TOKENS=2000 SIGN_IN_TIMEOUT=10 SKIP_PEER=1 (onetrip only) SKIP_BUILD=1 KEEP_WORK=1
#   COMMIT=… (printed as the source's commit when bench/ is not in a git checkout)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

THREADS="${THREADS:-1}"
CONNECTIONS="${CONNECTIONS:-16}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
SERVER_CPU="${SERVER_CPU:-1}"
WRK_CPU="${WRK_CPU:-0}"
REFRESH_TOKENS="${REFRESH_TOKENS:-2000}"
SIGN_IN_TIMEOUT="${SIGN_IN_TIMEOUT:-10}"
SKIP_PEER="${SKIP_PEER:-0}"
WRK_DIR="$ROOT/bench/wrk"

# Keycloak's published sizing, per vCPU (keycloak.org, "Concepts for sizing CPU and memory
# resources"), and the goals of issue 3.
KC_SIGN_IN=15
KC_GRANT=120
GOAL_SIGN_IN_X=2  # ≥ 2× Keycloak's sign-in rate at an equal hash cost
GOAL_KC_X=10      # ≥ 10× Keycloak's token-grant rate
GOAL_PEER_X=5     # ≥ 5× oidc-provider's token-grant rate

if ! command -v wrk >/dev/null; then
  log "wrk is missing; installing it with apt-get"
  if ! apt-get install -y -qq wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  fi
fi
command -v wrk >/dev/null || die "wrk is not available"
command -v python3 >/dev/null || die "python3 is not available"
command -v curl >/dev/null || die "curl is not available"

PIN_SERVER=() PIN_WRK=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
  PIN_SERVER=(taskset -c "$SERVER_CPU")
  PIN_WRK=(taskset -c "$WRK_CPU")
else
  log "warning: fewer than 2 CPUs or no taskset; onetrip and wrk are not pinned (not per core)"
fi

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building onetrip (cargo build --release -p onetrip)…"
  (cd "$ROOT" && cargo build --release --quiet -p onetrip) || die "build failed"
fi
[[ -x "$ONETRIP" ]] || die "missing $ONETRIP"

WORK="$(mktemp -d -t onetrip-identity-XXXXXX)"
trap cleanup EXIT
cd "$WORK"

ADMIN_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_server onetrip "$WORK/onetrip" env ONETRIP_ADMIN_TOKEN="$ADMIN_TOKEN" \
  ONETRIP_DATA_DIR="$WORK/data" ONETRIP_LISTEN=127.0.0.1:0 "${PIN_SERVER[@]}" "$ONETRIP" serve
ONETRIP_PID="$SERVER_PID"
ONETRIP_URL="$SERVER_URL"
wait_ok "$ONETRIP_URL/readyz"
DB="$WORK/data/onetrip.db"
[[ -f "$DB" ]] || die "no database at $DB"

machine
# COMMIT=… names the source when $ROOT is not a git checkout (e.g. an exported snapshot).
COMMIT="${COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff \
  --quiet HEAD 2>/dev/null || echo ' (working tree has changes)')}"
printf 'onetrip %s (pid %s, %s), commit %s, SQLite %s\n' "$ONETRIP_URL" "$ONETRIP_PID" \
  "${PIN_SERVER[*]:-not pinned}" "$COMMIT" "$DB"

# CPU time (user + system, all threads, in clock ticks) and minor page faults of a process so
# far (the command name has no spaces: fields counted from the start).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
min_faults() { awk '{print $10}' "/proc/$1/stat"; }
# Busy ticks of the server's core (user nice system irq softirq steal of cpuN in /proc/stat).
core_busy() { awk -v c="cpu$SERVER_CPU" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
CLK_TCK="$(getconf CLK_TCK)"

setup_ticks="$(cpu_ticks "$ONETRIP_PID")"
python3 "$ROOT/bench/identity_setup.py" --url "$ONETRIP_URL" --admin-token "$ADMIN_TOKEN" \
  --db "$DB" --tokens "$REFRESH_TOKENS" --out "$WORK" || die "set-up failed"
setup_ticks=$(($(cpu_ticks "$ONETRIP_PID") - setup_ticks))
printf 'set-up: onetrip used %s s of CPU, %s ms per minted refresh token (authorize + code grant with an RS256 ID token; one password sign-in and one consent per session)\n' \
  "$(awk -v t="$setup_ticks" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", t / hz}')" \
  "$(awk -v t="$setup_ticks" -v hz="$CLK_TCK" -v n="$REFRESH_TOKENS" 'BEGIN {printf "%.2f", t / hz / n * 1000}')"
setup() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' \
  "$WORK/setup.json" "$1" "$2"; }
MACHINE_ID="$(setup machine client_id)"
MACHINE_SECRET="$(setup machine client_secret)"
RP_ID="$(setup rp client_id)"
RP_SECRET="$(setup rp client_secret)"
LOGIN="$(setup person login)"
PASSWORD="$(setup person password)"
LOGIN_KC="$(setup person_kc login)"
PASSWORD_KC="$(setup person_kc password)"
TOKENS="$WORK/refresh-tokens.txt"
ntok="$(wc -l <"$TOKENS")"
((ntok == REFRESH_TOKENS)) || die "the set-up wrote $ntok refresh tokens, not $REFRESH_TOKENS"
((ntok / 2 >= CONNECTIONS)) || die "REFRESH_TOKENS=$ntok: need at least 2 × CONNECTIONS"
head -n $((ntok / 2)) "$TOKENS" >"$WORK/warm-tokens.txt"
tail -n +$((ntok / 2 + 1)) "$TOKENS" >"$WORK/run-tokens.txt"

# run_wrk DURATION TIMEOUT SCRIPT ARGS... → "rps p50 p99 failures cpu faults others" (latencies
# in ms; cpu = onetrip's CPU seconds per second of the run; faults = its minor page faults per
# request; others = the share of the server's core used by anything else, softirqs included);
# failures = non-200 responses + socket errors + starved refresh requests + 200s without a
# refresh token or without a session cookie (+ 1 when wrk printed no result).
run_wrk() {
  local duration="$1" timeout="$2" script="$3" out t0 t1 c0 c1 f0 f1 b0 b1
  shift 3
  b0="$(core_busy)"
  c0="$(cpu_ticks "$ONETRIP_PID")"
  f0="$(min_faults "$ONETRIP_PID")"
  t0="$EPOCHREALTIME"
  out="$("${PIN_WRK[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${duration}s" --timeout "${timeout}s" \
    --latency -s "$script" "$ONETRIP_URL" -- "$@")"
  t1="$EPOCHREALTIME"
  c1="$(cpu_ticks "$ONETRIP_PID")"
  f1="$(min_faults "$ONETRIP_PID")"
  b1="$(core_busy)"
  printf '$ wrk -t%s -c%s -d%ss --timeout %ss --latency -s %s %s -- …\n%s\n\n' "$THREADS" \
    "$CONNECTIONS" "$duration" "$timeout" "$(basename "$script")" "$ONETRIP_URL" "$out" >>"$WORK/wrk.log"
  printf '%s\n' "$out" | awk -v cpu="$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
    'BEGIN {printf "%.2f", (b - a) / hz / (t1 - t0)}')" -v faults="$((f1 - f0))" \
    -v others="$(awk -v b="$((b1 - b0 - (c1 - c0)))" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
    'BEGIN {v = b / hz / (t1 - t0); printf "%.2f", v < 0 ? 0 : v}')" '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    /^ *50%/ { p50 = ms($2) } /^ *99%/ { p99 = ms($2) }
    /Requests\/sec/ { rps = $2 }
    /^non-200 responses:/ || /^starved:/ || /^200 without refresh_token:/ || /^200 without session cookie:/ { err += $NF }
    /Socket errors/ { for (i = 3; i <= NF; i++) { v = $i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) err += v } }
    /requests in/ { n = $1 }
    END {
      if (rps == "") err += 1
      printf "%.1f %.3f %.3f %d %s %.0f %s\n", rps, p50, p99, err, cpu, (n > 0) ? faults / n : 0, others
    }'
}

printf 'wrk -t%s -c%s -d%ss (%s), %s s warm-up before each run (separate refresh tokens); %s refresh tokens\n\n' \
  "$THREADS" "$CONNECTIONS" "$DURATION" "${PIN_WRK[*]:-not pinned}" "$WARMUP" "$ntok"

FAILED=0
declare -A RPS
printf '%-20s %10s %9s %9s %9s %11s %10s %11s %7s\n' "onetrip" "req/s" "p50 ms" "p99 ms" failures \
  "server CPU" "per CPU-s" "faults/req" "others"
for kind in client_credentials refresh sign_in sign_in_kc; do
  timeout=2
  case $kind in
    client_credentials)
      script="$WRK_DIR/client_credentials.lua"
      warm_args=("$MACHINE_ID" "$MACHINE_SECRET" /oauth2/token)
      run_args=("$MACHINE_ID" "$MACHINE_SECRET" /oauth2/token)
      ;;
    refresh)
      script="$WRK_DIR/refresh.lua"
      warm_args=("$RP_ID" "$RP_SECRET" "$WORK/warm-tokens.txt" /oauth2/token "$THREADS")
      run_args=("$RP_ID" "$RP_SECRET" "$WORK/run-tokens.txt" /oauth2/token "$THREADS")
      ;;
    sign_in)
      script="$WRK_DIR/sign_in.lua"
      timeout="$SIGN_IN_TIMEOUT"
      warm_args=("$LOGIN" "$PASSWORD" /api/v1/session)
      run_args=("$LOGIN" "$PASSWORD" /api/v1/session)
      ;;
    sign_in_kc)
      script="$WRK_DIR/sign_in.lua"
      timeout="$SIGN_IN_TIMEOUT"
      warm_args=("$LOGIN_KC" "$PASSWORD_KC" /api/v1/session)
      run_args=("$LOGIN_KC" "$PASSWORD_KC" /api/v1/session)
      ;;
  esac
  if ((WARMUP > 0)); then
    read -r _ _ _ werr _ _ _ < <(run_wrk "$WARMUP" "$timeout" "$script" "${warm_args[@]}")
    ((werr == 0)) || { log "warm-up of $kind: $werr failed requests"; FAILED=1; }
  fi
  read -r rps p50 p99 err cpu faults others < <(run_wrk "$DURATION" "$timeout" "$script" "${run_args[@]}")
  printf '%-20s %10s %9s %9s %9s %11s %10s %11s %7s\n' "$kind" "$rps" "$p50" "$p99" "$err" "$cpu" \
    "$(awk -v r="$rps" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.1f", r / c; else print "–" }')" \
    "$faults" "$others"
  RPS[$kind]="$rps"
  ((err == 0)) || FAILED=1
done
printf '(sign_in: hash m=19456 t=2; sign_in_kc: hash m=7168 t=5; server: %s threads at the end, VmHWM %s MiB)\n' \
  "$(ls "/proc/$ONETRIP_PID/task" | wc -l)" "$(( $(hwm_kib "$ONETRIP_PID") / 1024 ))"
stop_server "$ONETRIP_PID"
PIDS=()
echo

PEER_CC="" PEER_RT=""
if [[ "$SKIP_PEER" != 1 ]]; then
  log "running the peer: bash bench/oidc-peer.sh (same pinning and wrk settings)…"
  set +e
  THREADS="$THREADS" CONNECTIONS="$CONNECTIONS" DURATION="$DURATION" WARMUP="$WARMUP" \
    PEER_CPU="$SERVER_CPU" WRK_CPU="$WRK_CPU" PEER_REFRESH_TOKENS="$REFRESH_TOKENS" \
    bash "$ROOT/bench/oidc-peer.sh" >"$WORK/peer.txt" 2>"$WORK/peer.err"
  peer_rc=$?
  set -e
  grep -v '^machine:\|^load average' "$WORK/peer.txt" || true
  if ((peer_rc != 0)); then
    cat "$WORK/peer.err" >&2
    log "bench/oidc-peer.sh failed (exit $peer_rc)"
    FAILED=1
  fi
  PEER_CC="$(awk '/^peer client_credentials/ {print $3}' "$WORK/peer.txt")"
  PEER_RT="$(awk '/^peer refresh/ {print $3}' "$WORK/peer.txt")"
  echo
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { if (r == "–") print "–"; else print (r >= g) ? "met" : "MISSED" }'; }

# The criterion bench's single-threaded verification times, when it has been run.
CRIT="$TARGET_DIR/criterion/argon2id_verify"
HASH_NOTE="(cargo bench -p onetrip-app --bench passwords times one verification with each)"
est_ms() { python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print("%.2f" % ((d.get("slope") or d["mean"])["point_estimate"] / 1e6))' "$1"; }
if [[ -f "$CRIT/onetrip_m19456_t2_p1/new/estimates.json" && -f "$CRIT/keycloak_m7168_t5_p1/new/estimates.json" ]]; then
  HASH_NOTE="$(printf 'criterion (%s, single-threaded): one verification %s ms at m=19456 t=2, %s ms at m=7168 t=5' \
    "$(date -r "$CRIT/keycloak_m7168_t5_p1/new/estimates.json" '+%Y-%m-%d %H:%M')" \
    "$(est_ms "$CRIT/onetrip_m19456_t2_p1/new/estimates.json")" "$(est_ms "$CRIT/keycloak_m7168_t5_p1/new/estimates.json")")"
fi

echo "summary (per core: onetrip and the peer each pinned to one core, wrk on the other)"
printf '%-34s %12s %12s %9s %14s %9s\n' "" "onetrip/s" "peer/s" "÷ peer" "Keycloak/vCPU" "÷ Keycloak"
printf '%-34s %12s %12s %9s %14s %9s\n' "client_credentials grants" "${RPS[client_credentials]}" \
  "${PEER_CC:-–}" "$(ratio "${RPS[client_credentials]}" "$PEER_CC")" "$KC_GRANT" \
  "$(ratio "${RPS[client_credentials]}" "$KC_GRANT")"
printf '%-34s %12s %12s %9s %14s %9s\n' "refresh_token grants (rotating)" "${RPS[refresh]}" \
  "${PEER_RT:-–}" "$(ratio "${RPS[refresh]}" "$PEER_RT")" "$KC_GRANT" "$(ratio "${RPS[refresh]}" "$KC_GRANT")"
printf '%-34s %12s %12s %9s %14s %9s\n' "password sign-ins, onetrip's hash" "${RPS[sign_in]}" "–" "–" \
  "$KC_SIGN_IN" "$(ratio "${RPS[sign_in]}" "$KC_SIGN_IN")"
printf '%-34s %12s %12s %9s %14s %9s\n' "password sign-ins, Keycloak's hash" "${RPS[sign_in_kc]}" "–" "–" \
  "$KC_SIGN_IN" "$(ratio "${RPS[sign_in_kc]}" "$KC_SIGN_IN")"
echo "hashes: onetrip's Argon2id v19 m=19456 KiB t=2 p=1; Keycloak's default Argon2id v19 m=7168 KiB t=5 p=1"
echo "$HASH_NOTE"
echo
echo "goals (issue 3):"
for kind in client_credentials refresh; do
  r_kc="$(ratio "${RPS[$kind]}" "$KC_GRANT")"
  if [[ $kind == refresh ]]; then peer="$PEER_RT"; else peer="$PEER_CC"; fi
  r_peer="$(ratio "${RPS[$kind]}" "$peer")"
  printf '  %-19s ≥ %s× Keycloak (%s/s): %s× %s;  ≥ %s× oidc-provider: %s× %s\n' "$kind" "$GOAL_KC_X" \
    "$KC_GRANT" "$r_kc" "$(verdict "$r_kc" "$GOAL_KC_X")" "$GOAL_PEER_X" "$r_peer" "$(verdict "$r_peer" "$GOAL_PEER_X")"
done
r_si="$(ratio "${RPS[sign_in_kc]}" "$KC_SIGN_IN")"
printf '  %-19s ≥ %s× Keycloak (%s/s) at an equal hash cost: %s× %s\n' "sign-in" "$GOAL_SIGN_IN_X" \
  "$KC_SIGN_IN" "$r_si" "$(verdict "$r_si" "$GOAL_SIGN_IN_X")"

if ((FAILED)); then
  log ""
  log "FAILED: some requests did not answer 200 (or the peer failed); wrk output:"
  cat "$WORK/wrk.log" >&2
  exit 1
fi
