#!/usr/bin/env bash
# Smoke test of a full-size farm: start mxfarm, wait for "ready", check a few hosts with
# openssl s_client against truth.jsonl, optionally run its load test, stop with SIGTERM and
# require exit 0.
# Usage: scripts/farm-smoke.sh [HOSTS] [BASE]   (defaults: 20000 127.1.64.1; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${1:-20000}
BASE=${2:-127.1.64.1}
BIN=${MXFARM:-.build/release/mxfarm}
OUT=$(mktemp -d /tmp/mxfarm-smoke.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
[ -x "$BIN" ] || swift build -c release --product mxfarm

start=$(date +%s.%N)
"$BIN" --hosts "$HOSTS" --domains $((HOSTS * 3 / 2)) --seed 1 --out "$OUT/farm" --base "$BASE" \
    >"$OUT/stdout" 2>"$OUT/stderr" &
pid=$!
for _ in $(seq 1 600); do
    grep -q '^ready$' "$OUT/stdout" && break
    kill -0 "$pid" 2>/dev/null || { cat "$OUT/stderr"; echo "mxfarm died"; exit 1; }
    sleep 0.2
done
grep -q '^ready$' "$OUT/stdout" || { kill "$pid"; echo "no ready"; exit 1; }
echo "ready after $(echo "$(date +%s.%N) - $start" | bc) s"
cat "$OUT/stderr"

fail=0
# The first host of each TLS version, and the last host (second worker for big farms).
for v in TLSv1.3 TLSv1.2 TLSv1.1 TLSv1; do
    line=$(grep -m1 "\"tls_version\":\"$v\",\"cert_kind\":\"valid\"" "$OUT/farm/truth.jsonl" || true)
    [ -n "$line" ] || continue
    ip=$(sed -E 's/.*"ip":"([^"]+)".*/\1/' <<<"$line")
    name=$(sed -E 's/.*"mx_host":"([^"]+)".*/\1/' <<<"$line")
    got=$(timeout 10 openssl s_client -starttls smtp -connect "$ip:25" -CAfile "$OUT/farm/ca.pem" \
        -verify_hostname "$name" -cipher 'ALL:@SECLEVEL=0' -brief </dev/null 2>&1 || true)
    if grep -q "Protocol version: $v\$" <<<"$got" && grep -q "Verification: OK" <<<"$got"; then
        echo "ok   $ip $name $v"
    else
        echo "FAIL $ip $name $v"; echo "$got"; fail=1
    fi
done
last=$(tail -1 "$OUT/farm/truth.jsonl" | sed -E 's/.*"ip":"([^"]+)".*/\1/')
banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/$last/25; head -c 3 <&3" || true)
echo "last host $last banner: ${banner:-none}"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
cat "$OUT/stderr" | tail -3
echo "mxfarm exit status $rc"
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ]
