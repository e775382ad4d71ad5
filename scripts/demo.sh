#!/usr/bin/env bash
# `make demo`: the whole tool on a machine without internet. Starts a simulated MX farm
# (mxfarm, 127.2.0.0/16; its zones partly DNSSEC-signed with ldns, one deliberately bogus,
# TLSA records of every kind, TLS-RPT records; no MTA-STS policies, whose HTTPS hosts would need
# port 443 and so root) and a private validating unbound serving them, scans datasets/demo.txt,
# prints the summary and the report; then reads a synthetic Postfix log (maillog-gen, fixed
# seed) with `mxsurvey logs` and the mbox fixture Tests/Fixtures/headers/mixed.mbox with
# `mxsurvey headers` into the same store, so the report has its passive section (the
# encrypted share of the own connections and messages, and what enforcing TLS would break).
# Everything it writes goes to demo/ (git-ignored), so a
# clone stays clean; `make sample-report` (SAMPLE=1) also copies the reports over the
# committed reports/sample-report.*, on purpose. Everything it starts is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
OUT=${OUT:-demo}
source scripts/lib.sh
source scripts/lib-dnssec.sh
trap cleanup_all EXIT

FARM_ARGS=(--hosts 60 --domains 400 --seed 1 --base 127.2.0.1 --delay uniform:0-0.2 --tarpit-seconds 30
    --dnssec-mix secure=60,insecure=30,bogus=10 --tlsrpt-mix none=40,valid=55,invalid=5)
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== starting mxfarm ${FARM_ARGS[*]}"
start_farm "$OUT/farm" "${FARM_ARGS[@]}"
if ! cmp -s "$OUT/farm/domains.txt" <(grep -v '^#' datasets/demo.txt); then
    echo "note: datasets/demo.txt differs from the farm's domains (mxfarm changed?); regenerating it" >&2
    { echo "# Demo list: the domains of 'mxfarm ${FARM_ARGS[*]}' (make demo checks this)"; cat "$OUT/farm/domains.txt"; } > datasets/demo.txt
fi
echo "== signing the farm's zones, starting a validating unbound for them"
start_dnssec_unbound "$OUT/unbound" "$OUT/farm" validate

echo "== mxsurvey scan (resolver 127.0.0.1:$UNBOUND_PORT)"
"$BIN/mxsurvey" scan --db "$OUT/demo.db" --resolver "127.0.0.1:$UNBOUND_PORT" \
    --ca-file "$OUT/farm/ca.pem" --allow-private --tag demo --ehlo-name mxsurvey-demo.invalid \
    --mail-from probe@mxsurvey-demo.invalid --banner-timeout 5 --phase-timeout 5 --greylist-retry 3 \
    --progress-interval 2 datasets/demo.txt

echo
echo "== passive data: a synthetic Postfix log (maillog-gen --seed 1) and an mbox fixture"
"$BIN/maillog-gen" --seed 1 --connections 400 --out "$OUT/mail.log" --truth "$OUT/mail-truth.json"
# Plaintext peers under two of the scanned domains (d1.test, d3.test), so that "what
# enforcing TLS would break" shows the join with the scan; dated within the generated log.
cat > "$OUT/mail-scan-peers.log" <<'LOG'
Dec  4 00:18:00 mx1 postfix/smtp[20001]: 20000000A: to=<user@d1.test>, relay=mx1.prov3.test[192.0.2.101]:25, delay=0.3, delays=0.1/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Dec  4 00:18:10 mx1 postfix/smtpd[20002]: connect from mail.d3.test[192.0.2.103]
Dec  4 00:18:11 mx1 postfix/smtpd[20002]: 20000000B: client=mail.d3.test[192.0.2.103]
Dec  4 00:18:11 mx1 postfix/qmgr[900]: 20000000B: from=<a@d3.test>, size=1234, nrcpt=1 (queue active)
Dec  4 00:18:12 mx1 postfix/smtpd[20002]: disconnect from mail.d3.test[192.0.2.103] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
LOG
touch -r "$OUT/mail.log" "$OUT/mail-scan-peers.log"
TZ=UTC "$BIN/mxsurvey" logs --db "$OUT/demo.db" --source demo-mx "$OUT/mail.log" "$OUT/mail-scan-peers.log"
"$BIN/mxsurvey" headers --db "$OUT/demo.db" --source demo-mx Tests/Fixtures/headers/mixed.mbox

echo
echo "== report (Markdown; HTML in $OUT/report.html)"
"$BIN/mxsurvey" report --db "$OUT/demo.db" --format md --out "$OUT/report.md"
"$BIN/mxsurvey" report --db "$OUT/demo.db" --format html --out "$OUT/report.html"
"$BIN/mxsurvey" report --db "$OUT/demo.db" --format json --out "$OUT/report.json"
sed -n '1,60p' "$OUT/report.md"
echo "[...]"
sed -n '/^## Passive figures/,/^### By TLS version/p' "$OUT/report.md"
if [ "${SAMPLE:-0}" = 1 ]; then
    cp "$OUT/report.md" reports/sample-report.md
    cp "$OUT/report.html" reports/sample-report.html
    echo "== reports/sample-report.{md,html} regenerated"
fi
echo
echo "== a ready-made query: queries/probe_status_counts.sql"
"$BIN/mxsurvey" query --db "$OUT/demo.db" queries/probe_status_counts.sql
echo
echo "== what enforcing TLS would break: queries/enforce_tls_would_break.sql (the peers the join matched with the scan)"
"$BIN/mxsurvey" query --db "$OUT/demo.db" queries/enforce_tls_would_break.sql > "$OUT/would-break.txt"
sed -n '1,2p' "$OUT/would-break.txt"
grep -E '\| matched +\|' "$OUT/would-break.txt" || true
echo "(all rows: $OUT/would-break.txt)"
echo
echo "Database: $OUT/demo.db   (sqlite3 $OUT/demo.db 'SELECT * FROM results LIMIT 5')"
