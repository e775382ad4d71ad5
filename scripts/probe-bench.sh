#!/usr/bin/env bash
# Probe throughput on this machine: many full STARTTLS sessions (banner, EHLO, MAIL, RCPT,
# RSET, STARTTLS, TLS handshake, certificate checks, EHLO, QUIT, close_notify) against an
# in-process NIO server on 127.0.26.50:25, release build. Client and server share the cores.
#   scripts/probe-bench.sh [TOTAL] [CONCURRENCY]     (defaults 10000 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-10000}"
concurrency="${2:-2000}"
swift build -c release --build-tests -Xswiftc -enable-testing >&2
MXSURVEY_PROBE_LOAD_TOTAL="$total" MXSURVEY_PROBE_LOAD_CONCURRENCY="$concurrency" \
    .build/release/mxsurveyPackageTests.xctest SurveyProbeTests.LoadTests 2>&1 |
    grep -E "probe load|error|passed|failed"
