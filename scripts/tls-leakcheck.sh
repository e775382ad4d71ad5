#!/bin/sh
# Runs the in-memory SurveyTLS suites under heaptrack and fails when memory allocated by
# OpenSSL (libssl/libcrypto) is still held at exit beyond OpenSSL's own per-process and
# per-thread caches (provider fetch caches, per-thread DRBGs, error queues: a few KB).
# A leaked SSL/BIO/X509/EVP_PKEY/X509_STORE_CTX per session would be several KB each;
# the suites run hundreds of sessions, so such a leak exceeds the limit by far.
# Needs: heaptrack (Debian package "heaptrack", installed by scripts/install-deps.sh).
# Usage: scripts/tls-leakcheck.sh [limit-bytes]; SCRATCH_PATH=DIR uses that build directory
# instead of .build. CI runs it after `make test` (whose test build it reuses).
set -eu
cd "$(dirname "$0")/.."
LIMIT="${1:-65536}"
SCRATCH="${SCRATCH_PATH:-.build}"
OUT="$(mktemp -d /tmp/tls-leakcheck.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT
swift build --scratch-path "$SCRATCH" --build-tests >/dev/null
BIN="$(swift build --scratch-path "$SCRATCH" --show-bin-path)/mxsurveyPackageTests.xctest"
heaptrack -o "$OUT/trace" "$BIN" --testing-library swift-testing \
    --filter 'InMemoryHandshakeTests|VerificationTests|CertificateInspectorTests' >"$OUT/run.txt" 2>&1 || {
    cat "$OUT/run.txt"; exit 1; }
heaptrack_print --print-leaks 1 --print-peaks 0 --print-allocators 0 --print-temporary 0 \
    "$OUT"/trace.* >"$OUT/leaks.txt" 2>/dev/null
python3 - "$OUT/leaks.txt" "$LIMIT" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
limit = int(sys.argv[2])
text = text[text.find("MEMORY LEAKS"):]
units = {"B": 1, "K": 1000, "M": 1000**2, "G": 1000**3}
total = 0
worst = []
for block in re.split(r"\n(?=\S[^\n]* leaked over \d+ calls? from:)", text):
    head = block.splitlines()[0] if block else ""
    m = re.match(r"([\d.]+)([BKMG]) leaked over (\d+) calls? from:", head)
    if not m or ("libssl" not in block and "libcrypto" not in block):
        continue
    size = float(m.group(1)) * units[m.group(2)]
    total += size
    worst.append((size, block))
worst.sort(key=lambda x: -x[0])
print(f"OpenSSL memory still held at exit: {int(total)} bytes (limit {limit})")
if total > limit:
    for size, block in worst[:5]:
        print("-" * 60); print("\n".join(block.splitlines()[:40]))
    sys.exit(1)
PY
