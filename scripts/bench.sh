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
# Peers measured side by side: sslscan (Debian) and sslyze (PyPI).
command -v sslscan > /dev/null || apt-get install -y -q sslscan > /dev/null
command -v sslyze > /dev/null || pip install -q sslyze > /dev/null 2>&1 || echo "note: sslyze unavailable" >&2
rm -rf "$OUT"
mkdir -p "$OUT"
results="$OUT/results"
mkdir -p "$results"

echo "== 1. DNS stage: $DNS_N domains (MX + A/AAAA of 1000 shared MX hosts) from a local unbound"
python3 scripts/gen-dns-bench.py "$DNS_N" 1000 "$OUT/dns"
start_unbound "$OUT/dns/unbound" "$OUT/dns/zone" bench.test.
# Baseline: dnsperf sends the same queries (one MX per domain, A+AAAA per host) as fast as
# the server answers them, 1000 outstanding.
dnsperf -s 127.0.0.1 -p "$UNBOUND_PORT" -d "$OUT/dns/dnsperf.txt" -n 1 -q 500 -b 8192 -t 5 > "$OUT/dns/dnsperf.log" 2>&1
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

HOSTS=${BENCH_HOSTS:-20000}
NO_TARPIT_MIX="tls13=40,tls12=32,tls11=2,tls10=3,nostarttls=10,plainrefused=5,greylist=3,starttls454=2,ratelimit421=2"
SCAN_FLAGS=(--allow-private --quiet --ehlo-name mxsurvey-bench.invalid --greylist-retry 1
    --banner-timeout 10 --phase-timeout 10)

echo "== 2. Full probes on a farm of $HOSTS hosts without artificial delay (TLS handshake and verification included)"
start_farm "$OUT/farm" --hosts "$HOSTS" --domains $((HOSTS * 2)) --seed 7 --base 127.64.0.1 \
    --mix "$NO_TARPIT_MIX" --delay 0
start_unbound "$OUT/farm/unbound" "$OUT/farm/zone" test.
python3 scripts/measure.py "$results/probe.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" \
    --db "$OUT/farm/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" --ca-file "$OUT/farm/ca.pem" \
    --concurrency "${BENCH_CONCURRENCY:-2000}" "$OUT/farm/domains.txt" > "$OUT/farm/scan.log"
sqlite3 "$OUT/farm/bench.db" "SELECT count(*), sum(attempts) FROM probes" > "$OUT/farm/probes.txt"

echo "== 3. Peers on the same farm: sslscan --starttls-smtp and sslyze --starttls smtp (${BENCH_PEER_HOSTS:-64} TLS hosts, 8 in parallel)"
python3 - "$OUT/farm/truth.jsonl" "${BENCH_PEER_HOSTS:-64}" > "$OUT/farm/peer-hosts.txt" <<'PY'
import json, sys
n = int(sys.argv[2])
hosts = [json.loads(l) for l in open(sys.argv[1])]
tls = [h["ip"] for h in hosts if h.get("tls_version")]
print("\n".join(tls[:n]))
PY
peer_n=$(wc -l < "$OUT/farm/peer-hosts.txt")
start=$EPOCHREALTIME
xargs -P 8 -I{} sh -c 'sslscan --starttls-smtp --no-colour {}:25 > /dev/null 2>&1 || true' < "$OUT/farm/peer-hosts.txt"
sslscan_s=$(python3 -c "print($EPOCHREALTIME - $start)")
sslyze_s=""
if command -v sslyze > /dev/null; then
    start=$EPOCHREALTIME
    xargs -P 8 -I{} sh -c 'sslyze --starttls smtp --certinfo_ca_file '"$OUT/farm/ca.pem"' {}:25 > /dev/null 2>&1 || true' \
        < "$OUT/farm/peer-hosts.txt"
    sslyze_s=$(python3 -c "print($EPOCHREALTIME - $start)")
fi
cleanup_all

echo "== 4. Little's law: $HOSTS plaintext hosts with banner delays (exponential, mean 1 s), concurrency ${BENCH_LITTLE_C:-10000}"
start_farm "$OUT/little" --hosts "$HOSTS" --domains "$HOSTS" --seed 11 --base 127.64.0.1 \
    --mix nostarttls=1 --delay exp:1
start_unbound "$OUT/little/unbound" "$OUT/little/zone" test.
python3 scripts/measure.py "$results/little.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" --no-plaintext-probe \
    --db "$OUT/little/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" --concurrency "${BENCH_LITTLE_C:-10000}" \
    --dns-concurrency 4000 "$OUT/little/domains.txt" > "$OUT/little/scan.log"
sqlite3 "$OUT/little/bench.db" "SELECT count(*), avg(duration_ms) FROM probes" > "$OUT/little/probes.txt"
cleanup_all

BIG_N=${BENCH_BIG_N:-1000000}
echo "== 5. Peak memory: $BIG_N domains sharing 2000 farm hosts, DNS + probes"
start_farm "$OUT/big" --hosts 2000 --domains "$BIG_N" --seed 13 --base 127.64.0.1 --mix "$NO_TARPIT_MIX" --delay 0
UNBOUND_THREADS=2 start_unbound "$OUT/big/unbound" "$OUT/big/zone" test.
python3 scripts/measure.py "$results/big.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" \
    --db "$OUT/big/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" --ca-file "$OUT/big/ca.pem" \
    --concurrency 1000 --dns-in-flight 1000 --dns-concurrency 2000 "$OUT/big/domains.txt" > "$OUT/big/scan.log"
sqlite3 "$OUT/big/bench.db" "SELECT (SELECT count(*) FROM domains), (SELECT count(*) FROM probes)" > "$OUT/big/counts.txt"
cleanup_all

echo "== 6. OpenSSL crypto floor (openssl speed, same machine, same run)"
openssl speed -seconds 2 ecdhx25519 ecdsap256 ed25519 > "$OUT/speed.txt" 2>/dev/null

python3 - "$OUT" "$results" "$sslscan_s" "$sslyze_s" "$peer_n" "${BENCH_LITTLE_C:-10000}" "$HOSTS" "$BIG_N" <<'PY'
import json, re, sys
out, res, sslscan_s, sslyze_s, peer_n, little_c, hosts, big_n = sys.argv[1:9]
peer_n, little_c, hosts, big_n = int(peer_n), int(little_c), int(hosts), int(big_n)
r = json.load(open(f"{res}/dns.json"))

probe = json.load(open(f"{res}/probe.json"))
ips, sessions = map(int, open(f"{out}/farm/probes.txt").read().split("|"))
cpu = probe["user_s"] + probe["sys_s"]
speed = open(f"{out}/speed.txt").read()
x25519 = float(re.search(r"ecdh \(X25519\)\s+\S+\s+([\d.]+)", speed).group(1))
ecdsa_v = float(re.search(r"ecdsa \(nistp256\)\s+\S+\s+\S+\s+\S+\s+([\d.]+)", speed).group(1))
ed_v = float(re.search(r"EdDSA \(Ed25519\)\s+\S+\s+\S+\s+\S+\s+([\d.]+)", speed).group(1))
# Client-side public-key work of one farm TLS session: X25519 key generation + derivation,
# ECDSA P-256 verifications of the server's CertificateVerify and of the leaf (signed by
# the P-256 intermediate), one Ed25519 verification of the intermediate (Ed25519 root).
floor_ms = (2 / x25519 + 2 / ecdsa_v + 1 / ed_v) * 1000
r.update({
    "probe_hosts": hosts,
    "probe_ips": ips,
    "probe_sessions": sessions,
    "probe_seconds": probe["seconds"],
    "probes_per_s": sessions / probe["seconds"],
    "probe_client_cpu_ms_per_session": cpu / sessions * 1000,
    "probe_max_rss_mib": probe["max_rss_kib"] / 1024,
    "crypto_floor_ms_per_tls_session": floor_ms,
    "probe_cpu_to_floor_ratio": cpu / sessions * 1000 / floor_ms,
    "openssl_speed_x25519_ops": x25519, "openssl_speed_ecdsap256_verify": ecdsa_v,
    "openssl_speed_ed25519_verify": ed_v,
})
mx_rate = sessions / probe["seconds"]
r["peers_hosts"] = peer_n
r["sslscan_hosts_per_s"] = peer_n / float(sslscan_s)
r["mxsurvey_to_sslscan_ratio"] = mx_rate / r["sslscan_hosts_per_s"]
if sslyze_s:
    r["sslyze_hosts_per_s"] = peer_n / float(sslyze_s)
    r["mxsurvey_to_sslyze_ratio"] = mx_rate / r["sslyze_hosts_per_s"]

little = json.load(open(f"{res}/little.json"))
n, avg_ms = open(f"{out}/little/probes.txt").read().split("|")
n, avg_s = int(n), float(avg_ms) / 1000
expected = min(little_c, n) / avg_s          # Little's law: throughput = concurrency / latency
achieved = n / little["seconds"]
r.update({"little_concurrency": little_c, "little_sessions": n, "little_mean_session_s": avg_s,
          "little_expected_per_s": expected, "little_achieved_per_s": achieved,
          "little_efficiency": achieved / expected, "little_max_rss_mib": little["max_rss_kib"] / 1024})

big = json.load(open(f"{res}/big.json"))
domains, probes = map(int, open(f"{out}/big/counts.txt").read().split("|"))
r.update({"big_domains": domains, "big_probes": probes, "big_seconds": big["seconds"],
          "big_domains_per_s": domains / big["seconds"], "big_max_rss_mib": big["max_rss_kib"] / 1024})
json.dump(r, open("bench-results.json", "w"), indent=1, sort_keys=True)
print()
for k in sorted(r):
    v = r[k]
    print(f"  {k:36} {v:.3f}" if isinstance(v, float) else f"  {k:36} {v}")
print("\nwritten: bench-results.json")
PY
