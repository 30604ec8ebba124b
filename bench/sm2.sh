#!/usr/bin/env bash
# SM2 certificate verification per core: OpenSSL 3 (`openssl speed sm2`, verify column) and
# onetrip-seal (criterion bench `certificate/sm2_verify`: SM2 over SM3 of a certificate's
# canonical signed document with a cached public key), each pinned to the same core in the
# same run. Prints verifications/s for both and the ratio onetrip / OpenSSL.
#
#   bench/sm2.sh            # core 1, 5 s each
#   CORE=0 SECONDS_EACH=10 bench/sm2.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CORE=${CORE:-1}
SECS=${SECONDS_EACH:-5}

echo "== build (bench profile)"
exe=$(cargo bench -p onetrip-seal --bench seal --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable") and m["target"]["name"]=="seal":
        print(m["executable"])' | tail -1)
[ -x "$exe" ] || { echo "bench binary not found" >&2; exit 1; }

echo "== openssl speed -seconds $SECS sm2 (core $CORE)"
ossl_out=$(taskset -c "$CORE" openssl speed -seconds "$SECS" sm2 2>/dev/null)
echo "$ossl_out" | grep -E "sign/s|SM2" || true
# Last line:  " 256 bits SM2 (SM2)   0.0004s   0.0005s   2345.6   2180.3" → verify/s is the last field.
ossl=$(echo "$ossl_out" | awk '/bits SM2/ {v=$NF} END {print v}')

echo "== onetrip-seal certificate/sm2_verify (core $CORE)"
home=$(mktemp -d)
CRITERION_HOME="$home" taskset -c "$CORE" "$exe" --bench 'certificate/sm2_verify' \
  --measurement-time "$SECS" --warm-up-time 2 --noplot | grep -E "time:|sm2_verify" || true
ours=$(python3 -c 'import json,sys
e=json.load(open(sys.argv[1]+"/certificate/sm2_verify/new/estimates.json"))
print("%.1f" % (1e9/e["median"]["point_estimate"]))' "$home")
rm -rf "$home"

echo
echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), core $CORE"
echo "openssl:  $(openssl version)"
printf 'OpenSSL SM2 verify/s:       %s\n' "$ossl"
printf 'onetrip-seal SM2 verify/s:  %s\n' "$ours"
python3 -c 'import sys; print("ratio onetrip/OpenSSL:       %.2f" % (float(sys.argv[1])/float(sys.argv[2])))' "$ours" "$ossl"
