#!/usr/bin/env bash
# DNS stage benchmark: query rate of SurveyDNS.Resolver against a private unbound on
# loopback (started and stopped by the benchmark test itself), next to dnsperf's rate
# against the same server as the reference. Prints one JSON line.
#
# Usage: scripts/dns-bench.sh [QUERIES] [MAX_IN_FLIGHT] [debug|release]
#   defaults: 100000 queries, 1000 outstanding, debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
queries=${1:-100000}
inflight=${2:-1000}
config=${3:-debug}
case "$config" in debug|release) ;; *) echo "build configuration must be debug or release" >&2; exit 2;; esac

swift build -c "$config" --build-tests >&2
MXSURVEY_DNS_BENCH=1 MXSURVEY_DNS_BENCH_QUERIES="$queries" MXSURVEY_DNS_BENCH_INFLIGHT="$inflight" \
    swift test -c "$config" --skip-build --filter 'SurveyDNSTests.DNSBenchmark' 2>&1 |
    grep '"benchmark":"dns"' || { echo "benchmark failed; rerun without the filter for details" >&2; exit 1; }
