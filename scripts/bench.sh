#!/usr/bin/env bash
# `make bench`: performance figures, each next to a baseline measured in the same run.
# Touches only 127.0.0.0/8. Writes bench-results.json (keys: docs/benchmarks.md) and prints
# the figures. Sizes: BENCH_DNS_N (200000), BENCH_HOSTS (20000), BENCH_BIG_N (1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
OUT=${OUT:-.bench}
DNS_N=${BENCH_DNS_N:-200000}
source scripts/lib.sh
trap cleanup_all EXIT
rm -rf "$OUT"
mkdir -p "$OUT"
results="$OUT/results"
mkdir -p "$results"

echo "== 1. DNS stage: $DNS_N domains (MX + A/AAAA of 1000 shared MX hosts) from a local unbound"
python3 scripts/gen-dns-bench.py "$DNS_N" 1000 "$OUT/dns"
start_unbound "$OUT/dns/unbound" "$OUT/dns/zone" bench.test.
# Baseline: dnsperf sends the same queries (one MX per domain, A+AAAA per host) as fast as
# the server answers them, 1000 outstanding.
dnsperf -s 127.0.0.1 -p "$UNBOUND_PORT" -d "$OUT/dns/dnsperf.txt" -n 1 -q 1000 -t 5 > "$OUT/dns/dnsperf.log" 2>&1
dnsperf_qps=$(awk '/Queries per second/ {print $4}' "$OUT/dns/dnsperf.log")
dnsperf_lost=$(awk '/Queries lost/ {print $3}' "$OUT/dns/dnsperf.log")
dnsperf_queries=$(awk '/Queries completed/ {print $3}' "$OUT/dns/dnsperf.log")
# mxsurvey: the scan's DNS stage into SQLite (no probes).
python3 scripts/measure.py "$results/dns-scan.json" -- "$BIN/mxsurvey" scan --no-probe --quiet \
    --db "$OUT/dns/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" --dns-in-flight 1000 --dns-concurrency 2000 \
    "$OUT/dns/domains.txt" > "$OUT/dns/scan.log"
# mxsurvey resolve: the resolver alone (JSON lines to /dev/null).
python3 scripts/measure.py "$results/dns-resolve.json" -- "$BIN/mxsurvey" resolve \
    --resolver "127.0.0.1:$UNBOUND_PORT" --dns-in-flight 1000 --concurrency 2000 \
    --input "$OUT/dns/domains.txt" > /dev/null
cleanup_all
python3 - "$results" "$DNS_N" "$dnsperf_qps" "$dnsperf_queries" "$dnsperf_lost" <<'PY'
import json, sys
res, n, qps, q, lost = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
scan = json.load(open(f"{res}/dns-scan.json"))
resolve = json.load(open(f"{res}/dns-resolve.json"))
# Queries per domain that mxsurvey sends: one MX each, plus A and AAAA once per MX host.
queries = n + 2 * 1000
out = {
    "dns_domains": n,
    "dns_baseline_dnsperf_qps": qps,
    "dns_baseline_dnsperf_queries": q,
    "dns_baseline_dnsperf_lost": lost,
    "dns_scan_domains_per_s": n / scan["seconds"],
    "dns_scan_qps": queries / scan["seconds"],
    "dns_scan_ratio_to_dnsperf": queries / scan["seconds"] / qps,
    "dns_scan_max_rss_mib": scan["max_rss_kib"] / 1024,
    "dns_resolve_domains_per_s": n / resolve["seconds"],
    "dns_resolve_ratio_to_dnsperf": queries / resolve["seconds"] / qps,
    "dns_resolve_max_rss_mib": resolve["max_rss_kib"] / 1024,
}
json.dump(out, open(f"{res}/dns.json", "w"), indent=1)
for k, v in out.items():
    print(f"  {k:32} {v:.3f}" if isinstance(v, float) else f"  {k:32} {v}")
PY
