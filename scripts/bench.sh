#!/usr/bin/env bash
# `make bench`: performance figures, each next to a baseline measured in the same run.
# Touches only 127.0.0.0/8. Writes bench-results.json (keys: docs/benchmarks.md) and prints
# the figures. Sizes: BENCH_DNS_N (200000), BENCH_HOSTS (20000), BENCH_LITTLE_HOSTS (60000),
# BENCH_LITTLE_C (20000), BENCH_LITTLE_DNS_C (4000), BENCH_BIG_N (1000000), BENCH_CEILING_SECONDS (10),
# BENCH_CEILING_PAIRS (2 × cores), BENCH_PASSIVE_CONNECTIONS (230000, about 2 million log lines). BIN: directory of the mxsurvey/mxfarm binaries
# (.build/release). BENCH_SECTIONS: the sections to run, e.g. "4 7" (default: all, 1–10 and 12;
# BENCH_VERSION_HOSTS (2000) sizes section 10, BENCH_DNSSEC_HOSTS (2000) section 12; section 11 is scripts/bench-distributed.sh);
# section 3 uses section 2's farm, section 8 exports section 1's store, and section 7's ratio
# needs section 6's crypto floor, so asking for 7 runs 6 as well and asking for 8 runs 1. bench-results.json then holds only the sections that ran
# (key bench_sections).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
OUT=${OUT:-.bench}
DNS_N=${BENCH_DNS_N:-200000}
SECTIONS=" ${BENCH_SECTIONS:-1 2 3 4 5 6 7 8 9 10 12} "
want() { [[ "$SECTIONS" == *" $1 "* ]]; }
if want 7 && ! want 6; then
    SECTIONS+="6 "
    echo "note: section 7 compares with section 6's crypto floor; running section 6 too"
fi
if want 8 && ! want 1; then
    SECTIONS+="1 "
    echo "note: section 8 exports section 1's store; running section 1 too"
fi
source scripts/lib.sh
source scripts/lib-dnssec.sh
trap cleanup_all EXIT
if want 3; then
    # Peers measured side by side: sslscan (Debian) and sslyze (PyPI).
    command -v sslscan > /dev/null || apt-get install -y -q sslscan > /dev/null
    command -v sslyze > /dev/null || pip install -q sslyze > /dev/null 2>&1 || echo "note: sslyze unavailable" >&2
fi
rm -rf "$OUT"
mkdir -p "$OUT"
results="$OUT/results"
mkdir -p "$results"

if want 1; then
echo "== 1. DNS stage: $DNS_N domains (MX + A/AAAA of 1000 shared MX hosts) from a local unbound"
python3 scripts/gen-dns-bench.py "$DNS_N" 1000 "$OUT/dns"
start_unbound "$OUT/dns/unbound" "$OUT/dns/zone" bench.test.
# Baseline: dnsperf sends the same queries (one MX per domain, A+AAAA per host) as fast as
# the server answers them, 1000 outstanding. Two cores are shared by unbound, the client
# and everything else on the machine, so single runs scatter by ±15 %: BENCH_DNS_ROUNDS
# (default 5) rounds of dnsperf → scan → resolve, each ratio taken within its round, and
# the median round reported.
DNS_ROUNDS=${BENCH_DNS_ROUNDS:-5}
# Warm-up (not counted): unbound answers from its message cache after the first pass over
# the names, about a quarter faster; every measured run then sees the same warm server.
dnsperf -s 127.0.0.1 -p "$UNBOUND_PORT" -d "$OUT/dns/dnsperf.txt" -n 1 -q 500 -b 8192 -t 5 \
    > "$OUT/dns/dnsperf-warmup.log" 2>&1
for round in $(seq 1 "$DNS_ROUNDS"); do
    dnsperf -s 127.0.0.1 -p "$UNBOUND_PORT" -d "$OUT/dns/dnsperf.txt" -n 1 -q 500 -b 8192 -t 5 \
        > "$OUT/dns/dnsperf-$round.log" 2>&1
    # mxsurvey: the scan's DNS stage into SQLite (no probes).
    rm -f "$OUT/dns/bench.db"*
    python3 scripts/measure.py "$results/dns-scan-$round.json" -- "$BIN/mxsurvey" scan --no-probe --quiet \
        --db "$OUT/dns/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" --dns-in-flight 1000 --dns-concurrency 2000 \
        "$OUT/dns/domains.txt" > "$OUT/dns/scan.log"
    # mxsurvey resolve: the resolver alone (JSON lines to /dev/null).
    python3 scripts/measure.py "$results/dns-resolve-$round.json" -- "$BIN/mxsurvey" resolve \
        --resolver "127.0.0.1:$UNBOUND_PORT" --dns-in-flight 1000 --concurrency 2000 \
        --input "$OUT/dns/domains.txt" > /dev/null
done
cleanup_all
# SQLite's own floor for the rows the last scan stored: the same schema and rows, inserted by
# the sqlite3 shell with one INSERT … SELECT per table (scripts/store-floor.py).
python3 scripts/store-floor.py "$OUT/dns/bench.db" "$results/dns-store-floor.json" > /dev/null
python3 - "$results" "$DNS_N" "$DNS_ROUNDS" "$OUT/dns" <<'PY'
import json, re, statistics, sys
res, n, rounds, dns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
# Queries per domain that mxsurvey sends: one MX each, plus A and AAAA once per MX host.
queries = n + 2 * 1000
per_round = []
for r in range(1, rounds + 1):
    log = open(f"{dns}/dnsperf-{r}.log").read()
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", log).group(1))
    lost = int(re.search(r"Queries lost:\s+(\d+)", log).group(1))
    done = int(re.search(r"Queries completed:\s+(\d+)", log).group(1))
    scan = json.load(open(f"{res}/dns-scan-{r}.json"))
    resolve = json.load(open(f"{res}/dns-resolve-{r}.json"))
    per_round.append({
        "dnsperf_qps": qps, "dnsperf_lost": lost, "dnsperf_queries": done,
        "scan_s": scan["seconds"], "scan_cpu_s": scan["user_s"] + scan["sys_s"], "scan_rss_kib": scan["max_rss_kib"],
        "resolve_s": resolve["seconds"], "resolve_cpu_s": resolve["user_s"] + resolve["sys_s"],
        "resolve_rss_kib": resolve["max_rss_kib"],
        "scan_ratio": queries / scan["seconds"] / qps, "resolve_ratio": queries / resolve["seconds"] / qps,
    })
def median_round(key):
    return sorted(per_round, key=lambda r: r[key])[len(per_round) // 2]
s, v = median_round("scan_ratio"), median_round("resolve_ratio")
out = {
    "dns_domains": n,
    "dns_rounds": rounds,
    "dns_baseline_dnsperf_qps": statistics.median(r["dnsperf_qps"] for r in per_round),
    "dns_baseline_dnsperf_queries": per_round[0]["dnsperf_queries"],
    "dns_baseline_dnsperf_lost": max(r["dnsperf_lost"] for r in per_round),
    "dns_scan_domains_per_s": n / s["scan_s"],
    "dns_scan_qps": queries / s["scan_s"],
    "dns_scan_ratio_to_dnsperf": s["scan_ratio"],
    "dns_scan_cpu_us_per_query": s["scan_cpu_s"] / queries * 1e6,
    "dns_scan_max_rss_mib": max(r["scan_rss_kib"] for r in per_round) / 1024,
    "dns_resolve_domains_per_s": n / v["resolve_s"],
    "dns_resolve_qps": queries / v["resolve_s"],
    "dns_resolve_ratio_to_dnsperf": v["resolve_ratio"],
    "dns_resolve_cpu_us_per_query": v["resolve_cpu_s"] / queries * 1e6,
    "dns_resolve_max_rss_mib": max(r["resolve_rss_kib"] for r in per_round) / 1024,
    "dns_rounds_scan_ratios": [round(r["scan_ratio"], 3) for r in per_round],
    "dns_rounds_resolve_ratios": [round(r["resolve_ratio"], 3) for r in per_round],
    "dns_rounds_dnsperf_qps": [round(r["dnsperf_qps"]) for r in per_round],
    # What storing costs the scan beyond the resolver, per domain (scan CPU minus resolve CPU of
    # the same round, median over rounds; resolve's own JSON output is not subtracted), next
    # to SQLite's own cost for the same rows.
    "dns_scan_store_cpu_us_per_domain": statistics.median(
        (r["scan_cpu_s"] - r["resolve_cpu_s"]) / n * 1e6 for r in per_round),
    "dns_store_floor_us_per_domain": json.load(open(f"{res}/dns-store-floor.json"))["us_per_domain"],
    "dns_warmup_dnsperf_qps": float(
        re.search(r"Queries per second:\s+([\d.]+)", open(f"{dns}/dnsperf-warmup.log").read()).group(1)),
}
json.dump(out, open(f"{res}/dns.json", "w"), indent=1)
for k, val in out.items():
    print(f"  {k:32} {val:.3f}" if isinstance(val, float) else f"  {k:32} {val}")
PY
fi

HOSTS=${BENCH_HOSTS:-20000}
NO_TARPIT_MIX="tls13=40,tls12=32,tls11=2,tls10=3,nostarttls=10,plainrefused=5,greylist=3,starttls454=2,ratelimit421=2"
# Section 2's farm publishes MTA-STS (a quarter of the domains with mail, every kind; the
# policy servers answer HTTPS on port 443 of 16 farm addresses) and TLS-RPT records.
MTA_STS_MIX=${BENCH_MTA_STS_MIX:-none=75,enforce=9,testing=4,modenone=1,wildcard=3,partial=1,mismatch=1,notfound=1,redirect=1,badsyntax=1,contenttype=1,wrongname=0.5,nxdomain=0.5,txtinvalid=0.5,txtmultiple=0.5}
TLSRPT_MIX=${BENCH_TLSRPT_MIX:-none=70,valid=25,invalid=3,multiple=2}
SCAN_FLAGS=(--allow-private --quiet --ehlo-name mxsurvey-bench.invalid --greylist-retry 1
    --banner-timeout 10 --phase-timeout 10)

sslscan_s=""
sslyze_s=""
peer_n=0
if want 2 || want 3; then
start_farm "$OUT/farm" --hosts "$HOSTS" --domains $((HOSTS * 2)) --seed 7 --base 127.64.0.1 \
    --mix "$NO_TARPIT_MIX" --delay 0 --mta-sts-mix "$MTA_STS_MIX" --tlsrpt-mix "$TLSRPT_MIX"
fi
if want 2; then
echo "== 2. Full probes on a farm of $HOSTS hosts without artificial delay (TLS handshake and verification included)"
start_unbound "$OUT/farm/unbound" "$OUT/farm/zone" test.
# Without the version scan: section 8 measures its cost on its own.
python3 scripts/measure.py "$results/probe.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" --no-version-scan \
    --db "$OUT/farm/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" --ca-file "$OUT/farm/ca.pem" \
    --concurrency "${BENCH_CONCURRENCY:-2000}" "$OUT/farm/domains.txt" > "$OUT/farm/scan.log"
sqlite3 "$OUT/farm/bench.db" "SELECT count(*), sum(attempts) FROM probes" > "$OUT/farm/probes.txt"
# The policy stage's cost (MTA-STS/TLS-RPT TXT lookups of every domain with mail, the A/AAAA
# lookups of the policy hosts and one HTTPS fetch per published policy host): the same scan
# with --no-policy, side by side in the same run, into a store of its own (both without the
# version scan).
python3 scripts/measure.py "$results/probe-nopolicy.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" \
    --no-version-scan --no-policy --db "$OUT/farm/bench-nopolicy.db" --resolver "127.0.0.1:$UNBOUND_PORT" --ca-file "$OUT/farm/ca.pem" \
    --concurrency "${BENCH_CONCURRENCY:-2000}" "$OUT/farm/domains.txt" > "$OUT/farm/scan-nopolicy.log"
sqlite3 "$OUT/farm/bench.db" "SELECT count(*) FROM domain_policies" > "$OUT/farm/policy-domains.txt"
# Correctness at scale: the stored results must equal the farm's ground truth exactly.
python3 scripts/bench-truth.py "$OUT/farm/bench.db" "$OUT/farm" "$results/probe-truth.json"
fi

if want 3; then
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
if command -v sslyze > /dev/null; then
    start=$EPOCHREALTIME
    xargs -P 8 -I{} sh -c 'sslyze --starttls smtp --certinfo_ca_file '"$OUT/farm/ca.pem"' {}:25 > /dev/null 2>&1 || true' \
        < "$OUT/farm/peer-hosts.txt"
    sslyze_s=$(python3 -c "print($EPOCHREALTIME - $start)")
fi
fi
cleanup_all

LITTLE_HOSTS=${BENCH_LITTLE_HOSTS:-60000}
LITTLE_C=${BENCH_LITTLE_C:-20000}
# Domains resolved at the same time during section 4. The probe start loop gets less of the
# cooperative thread pool the more DNS tasks run beside it (docs/benchmarks.md, section 4).
LITTLE_DNS_C=${BENCH_LITTLE_DNS_C:-4000}
if want 4; then
echo "== 4. Little's law: $LITTLE_HOSTS plaintext hosts with banner delays (exponential, mean 1 s), concurrency $LITTLE_C"
# At most 5000 hosts per farm process: the scanner's sessions may all go to consecutive hosts,
# and one process must hold its listeners plus all their sessions under the open-file limit.
start_farm "$OUT/little" --hosts "$LITTLE_HOSTS" --domains "$LITTLE_HOSTS" --seed 11 --base 127.64.0.1 \
    --mix nostarttls=1 --delay exp:1 --listeners-per-process 5000
start_unbound "$OUT/little/unbound" "$OUT/little/zone" test.
servers_cpu0=$(python3 scripts/bench-cpu.py "$FARM_PID" "$UNBOUND_PID")
python3 scripts/measure.py "$results/little.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" --no-plaintext-probe \
    --db "$OUT/little/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" --concurrency "$LITTLE_C" \
    --dns-concurrency "$LITTLE_DNS_C" "$OUT/little/domains.txt" > "$OUT/little/scan.log" 2> "$OUT/little/scan.err" &
measure_pid=$!
# The scanner's descriptors besides its sessions (what --concurrency's reserve must cover),
# sampled every 2 s (a few tens of ms of CPU per sample).
python3 scripts/bench-fds.py "$measure_pid" "$results/little-fds.json" 2 &
fds_pid=$!
wait "$measure_pid"
servers_cpu1=$(python3 scripts/bench-cpu.py "$FARM_PID" "$UNBOUND_PID")
wait "$fds_pid" || echo "note: descriptor sampling failed" >&2
cat "$OUT/little/scan.err" >&2
python3 scripts/bench-little.py "$OUT/little/bench.db" "$OUT/little" "$results/little.json" \
    "$OUT/little/scan.err" "$LITTLE_C" "$(python3 -c "print($servers_cpu1 - $servers_cpu0)")" \
    "$results/little-window.json" "$LITTLE_DNS_C"
cleanup_all
fi

BIG_N=${BENCH_BIG_N:-1000000}
if want 5; then
echo "== 5. Peak memory: $BIG_N domains sharing 2000 farm hosts, DNS + probes"
start_farm "$OUT/big" --hosts 2000 --domains "$BIG_N" --seed 13 --base 127.64.0.1 --mix "$NO_TARPIT_MIX" --delay 0
UNBOUND_THREADS=2 start_unbound "$OUT/big/unbound" "$OUT/big/zone" test.
python3 scripts/measure.py "$results/big.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" \
    --db "$OUT/big/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" --ca-file "$OUT/big/ca.pem" \
    --concurrency 1000 --dns-in-flight 1000 --dns-concurrency 2000 "$OUT/big/domains.txt" > "$OUT/big/scan.log"
sqlite3 "$OUT/big/bench.db" "SELECT (SELECT count(*) FROM domains), (SELECT count(*) FROM probes)" > "$OUT/big/counts.txt"
cleanup_all
fi

if want 6; then
echo "== 6. OpenSSL crypto floor (openssl speed, same machine, same run)"
openssl speed -seconds 2 ecdhx25519 ecdsap256 ed25519 > "$OUT/speed.txt" 2>/dev/null
fi

CEIL_S=${BENCH_CEILING_SECONDS:-10}
CEIL_PAIRS=${BENCH_CEILING_PAIRS:-$(( 2 * $(nproc) ))}
if want 7; then
echo "== 7. OpenSSL's own ceiling: openssl s_time against openssl s_server, TLS 1.3, ECDSA P-256 chain"
# A chain shaped like the farm's default: Ed25519 root → ECDSA P-256 intermediate → ECDSA
# P-256 leaf (ecdsa-with-SHA256). s_server sends leaf + intermediate. s_time's -verify only
# sets a depth (s_time never calls SSL_CTX_set_verify), but OpenSSL's client runs
# X509_verify_cert on the server's chain in any case (under SSL_VERIFY_NONE the result is only
# not enforced): with -CAfile root.pem the chain is verified in full, as mxsurvey verifies the
# farm's against ca.pem; with no trust store at all chain building stops at once and only the
# CertificateVerify signature is checked. -no-CApath -no-CAstore in both: without them
# OpenSSL looks issuers up in the system's default store on disk at every handshake (system
# time on every handshake), which mxsurvey --ca-file does not.
# s_client checks once below that the chain does verify.
c="$OUT/ceiling"
mkdir -p "$c"
openssl genpkey -algorithm ed25519 -out "$c/root.key" 2> /dev/null
openssl req -x509 -new -key "$c/root.key" -subj /CN=bench-root -days 2 -out "$c/root.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$c/inter.key" 2> /dev/null
openssl req -new -key "$c/inter.key" -subj /CN=bench-intermediate -out "$c/inter.csr"
printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$c/inter.ext"
openssl x509 -req -in "$c/inter.csr" -CA "$c/root.pem" -CAkey "$c/root.key" -set_serial 2 -days 2 \
    -extfile "$c/inter.ext" -out "$c/inter.pem" 2> /dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$c/leaf.key" 2> /dev/null
openssl req -new -key "$c/leaf.key" -subj /CN=mx.bench.test -out "$c/leaf.csr"
printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:mx.bench.test\n' > "$c/leaf.ext"
openssl x509 -req -in "$c/leaf.csr" -CA "$c/inter.pem" -CAkey "$c/inter.key" -sha256 -set_serial 3 -days 2 \
    -extfile "$c/leaf.ext" -out "$c/leaf.pem" 2> /dev/null
openssl verify -CAfile "$c/root.pem" -untrusted "$c/inter.pem" "$c/leaf.pem" > /dev/null

# start_s_server N → N servers on 127.64.255.1…N (-www: answers an HTTP request if one comes,
# so it never reads stdin; s_time sends none), pids in S_PIDS, ports in S_PORTS.
start_s_servers() {
    S_PIDS=()
    S_PORTS=()
    local i port
    for i in $(seq 1 "$1"); do
        port=$(free_port)
        openssl s_server -accept "127.64.255.$i:$port" -cert "$c/leaf.pem" -key "$c/leaf.key" \
            -cert_chain "$c/inter.pem" -tls1_3 -www -quiet < /dev/null > "$c/s_server$i.log" 2>&1 &
        S_PIDS+=("$!")
        PIDS+=("$!")
        S_PORTS+=("$port")
    done
    for i in $(seq 1 "$1"); do
        for _ in $(seq 1 100); do
            (exec 3<> "/dev/tcp/127.64.255.$i/${S_PORTS[$((i - 1))]}") 2> /dev/null && break
            sleep 0.05
        done
    done
}
# Sum of utime + stime (clock ticks) of S_PIDS, from /proc/PID/stat.
server_ticks() {
    local pid sum=0 stat
    for pid in "${S_PIDS[@]}"; do
        stat=$(< "/proc/$pid/stat")
        read -r -a f <<< "${stat##*) }"
        sum=$((sum + f[11] + f[12]))
    done
    echo "$sum"
}
# run_s_time NAME ARGS… → one s_time client per server, in parallel, measured together.
run_s_time() {
    local name=$1; shift
    local t0 t1 i cmd=""
    for i in $(seq 1 "${#S_PIDS[@]}"); do
        cmd+="openssl s_time -connect 127.64.255.$i:${S_PORTS[$((i - 1))]} -new -time $CEIL_S $* > $c/$name-$i.out 2> $c/$name-$i.err & "
    done
    t0=$(server_ticks)
    python3 scripts/measure.py "$results/ceiling-$name.json" -- bash -c "$cmd wait"
    t1=$(server_ticks)
    cat "$c/$name"-*.out | awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
        '/connections in .* real seconds/ {n += $1} END {print n, ticks / hz}' > "$c/$name.txt"
}
# One client, one server: s_time's per-handshake CPU, with and without chain verification.
start_s_servers 1
openssl s_client -connect "127.64.255.1:${S_PORTS[0]}" -CAfile "$c/root.pem" -verify_return_error \
    -brief < /dev/null > "$c/s_client.log" 2>&1 || { cat "$c/s_client.log" >&2; exit 1; }
run_s_time chain -CAfile "$c/root.pem" -no-CApath -no-CAstore
run_s_time nochain -no-CAfile -no-CApath -no-CAstore
cleanup_all
# Several pairs in parallel: handshakes per second with both cores busy.
start_s_servers "$CEIL_PAIRS"
run_s_time parallel -CAfile "$c/root.pem" -no-CApath -no-CAstore
cleanup_all
cat "$c"/*.err >&2
fi

if want 8; then
echo "== 8. Export: the results rows of section 1's scan as JSON Lines, CSV and Parquet, next to sqlite3 -json"
# Baseline: the sqlite3 shell writes the same rows of the same view as JSON. mxsurvey reads
# them through a cursor and writes them as they come (peak RSS must not grow with the rows);
# Parquet adds pyarrow (its process is counted in the peak RSS: RUSAGE_CHILDREN).
db="$OUT/dns/bench.db"
scan=$(sqlite3 -readonly "$db" "SELECT max(id) FROM scans")
python3 scripts/measure.py "$results/export-sqlite3.json" -- sqlite3 -readonly -json "$db" \
    "SELECT * FROM results WHERE scan_id = $scan" > "$OUT/export-sqlite3.json"
for format in jsonl csv parquet; do
    python3 scripts/measure.py "$results/export-$format.json" -- "$BIN/mxsurvey" export --db "$db" \
        --scan "$scan" --format "$format" --out "$OUT/export.$format" --force 2> "$OUT/export-$format.log"
done
python3 - "$results" "$OUT" <<'PY'
import json, os, re, sys
res, out = sys.argv[1:3]
rows = int(re.search(r"exported (\d+) results rows", open(f"{out}/export-jsonl.log").read()).group(1))
base = json.load(open(f"{res}/export-sqlite3.json"))
r = {"export_rows": rows, "export_sqlite3_s": base["seconds"],
     "export_sqlite3_cpu_s": base["user_s"] + base["sys_s"], "export_sqlite3_max_rss_mib": base["max_rss_kib"] / 1024}
for f in ["jsonl", "csv", "parquet"]:
    m = json.load(open(f"{res}/export-{f}.json"))
    cpu = m["user_s"] + m["sys_s"]
    r.update({
        f"export_{f}_s": m["seconds"], f"export_{f}_cpu_s": cpu,
        f"export_{f}_rows_per_s": rows / m["seconds"], f"export_{f}_max_rss_mib": m["max_rss_kib"] / 1024,
        f"export_{f}_mib": os.path.getsize(f"{out}/export.{f}") / 2**20,
        f"export_{f}_cpu_ratio_to_sqlite3": cpu / r["export_sqlite3_cpu_s"],
    })
json.dump(r, open(f"{res}/export.json", "w"), indent=1)
for k, val in r.items():
    print(f"  {k:36} {val:.3f}" if isinstance(val, float) else f"  {k:36} {val}")
PY
rm -f "$OUT/export-sqlite3.json" "$OUT"/export.*
fi

if want 9; then
PASSIVE_CONN=${BENCH_PASSIVE_CONNECTIONS:-230000}
echo "== 9. Passive: mxsurvey logs next to pflogsumm on one generated Postfix log ($PASSIVE_CONN inbound connections)"
mkdir -p "$OUT/passive"
"$BIN/maillog-gen" --seed 1 --connections "$PASSIVE_CONN" --out "$OUT/passive/mail.log" \
    --truth "$OUT/passive/truth.json"
# Both read the same file from the page cache (read once before either is timed).
cat "$OUT/passive/mail.log" > /dev/null
python3 scripts/measure.py "$results/passive-pflogsumm.json" -- \
    bash -c 'pflogsumm "$0" > "$1"' "$OUT/passive/mail.log" "$OUT/passive/pflogsumm.txt"
python3 scripts/measure.py "$results/passive-mxsurvey.json" -- "$BIN/mxsurvey" logs \
    --db "$OUT/passive/results.db" --source bench "$OUT/passive/mail.log"
python3 - "$OUT/passive" "$results" <<'PY'
import json, os, sqlite3, sys
d, res = sys.argv[1], sys.argv[2]
truth = json.load(open(f"{d}/truth.json"))
lines = truth["lines"]
mx = json.load(open(f"{res}/passive-mxsurvey.json"))
pf = json.load(open(f"{res}/passive-pflogsumm.json"))
db = sqlite3.connect(f"{d}/results.db")
got = {}
for direction, n, tls, msgs, tls_msgs in db.execute(
        "SELECT direction, count(*), sum(tls), sum(messages), sum(messages * tls) FROM passive_connections GROUP BY direction"):
    name = "inbound" if direction == "in" else "outbound"
    got.update({f"{name}_connections": n, f"{name}_tls_connections": tls, f"{name}_messages": msgs,
                f"{name}_tls_messages": tls_msgs})
differences = sum(1 for k, v in got.items() if truth.get(k) != v)
r = {"passive_lines": lines, "passive_mxsurvey_seconds": mx["seconds"],
     "passive_mxsurvey_lines_per_s": lines / mx["seconds"], "passive_mxsurvey_max_rss_mib": mx["max_rss_kib"] / 1024,
     "passive_pflogsumm_seconds": pf["seconds"], "passive_pflogsumm_lines_per_s": lines / pf["seconds"],
     "passive_pflogsumm_max_rss_mib": pf["max_rss_kib"] / 1024,
     "passive_mxsurvey_to_pflogsumm_ratio": pf["seconds"] / mx["seconds"],
     "passive_mxsurvey_cpu_s": mx["user_s"] + mx["sys_s"], "passive_pflogsumm_cpu_s": pf["user_s"] + pf["sys_s"],
     "passive_mxsurvey_to_pflogsumm_cpu_ratio": (pf["user_s"] + pf["sys_s"]) / (mx["user_s"] + mx["sys_s"]),
     "passive_load_average_1m": os.getloadavg()[0],
     "passive_truth_differences": differences}
json.dump(r, open(f"{res}/passive.json", "w"))
print(json.dumps(r, indent=1))
PY
fi

VERSION_HOSTS=${BENCH_VERSION_HOSTS:-2000}
if want 10; then
echo "== 10. The version scan's cost: a farm of $VERSION_HOSTS hosts scanned with --no-version-scan, then with it (fresh farm each)"
for mode in off on; do
    start_farm "$OUT/versions-$mode" --hosts "$VERSION_HOSTS" --domains $((VERSION_HOSTS * 2)) --seed 13 \
        --base 127.65.0.1 --mix "$NO_TARPIT_MIX" --delay 0
    start_unbound "$OUT/versions-$mode/unbound" "$OUT/versions-$mode/zone" test.
    flag=()
    [[ $mode == off ]] && flag=(--no-version-scan)
    python3 scripts/measure.py "$results/versions-$mode.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" \
        "${flag[@]}" --db "$OUT/versions-$mode/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" \
        --ca-file "$OUT/versions-$mode/ca.pem" --concurrency "${BENCH_CONCURRENCY:-2000}" \
        "$OUT/versions-$mode/domains.txt" > "$OUT/versions-$mode/scan.log"
    sqlite3 "$OUT/versions-$mode/bench.db" \
        "SELECT (SELECT count(*) FROM probes) || '|' || (SELECT count(*) FROM tls_version_checks WHERE own_session = 1)
         || '|' || (SELECT count(*) FROM tls_version_checks WHERE own_session = 1 AND verdict = 'not_tested')
         || '|' || (SELECT coalesce(sum(sessions), 0) FROM cipher_preference_checks)" \
        > "$results/versions-$mode.txt"
    cleanup_all
done
fi

DNSSEC_HOSTS=${BENCH_DNSSEC_HOSTS:-2000}
if want 12; then
echo "== 12. DNSSEC and DANE: a farm of $DNSSEC_HOSTS hosts in a signed and an unsigned zone, scanned through a non-validating resolver, then a validating one (fresh farm each)"
# Twins: the same farm, the same signed zones, the same two unbounds (authoritative +
# resolver); only the resolver's validator and trust anchors differ. With them, answers are
# secure, the scan asks each secure host's TLSA RRset and DANE-checks its chain.
for mode in plain validate; do
    start_farm "$OUT/dnssec-$mode" --hosts "$DNSSEC_HOSTS" --domains $((DNSSEC_HOSTS * 2)) --seed 17 \
        --base 127.66.0.1 --mix "$NO_TARPIT_MIX" --delay 0 --dnssec-mix secure=70,insecure=30
    start_dnssec_unbound "$OUT/dnssec-$mode/unbound" "$OUT/dnssec-$mode" "$mode"
    python3 scripts/measure.py "$results/dnssec-$mode.json" -- "$BIN/mxsurvey" scan "${SCAN_FLAGS[@]}" \
        --no-version-scan --db "$OUT/dnssec-$mode/bench.db" --resolver "127.0.0.1:$UNBOUND_PORT" \
        --ca-file "$OUT/dnssec-$mode/ca.pem" --concurrency "${BENCH_CONCURRENCY:-2000}" \
        "$OUT/dnssec-$mode/domains.txt" > "$OUT/dnssec-$mode/scan.log"
    unbound_cpu_seconds "${DNSSEC_UNBOUND_PIDS[@]}" > "$results/dnssec-$mode-unbound.txt"
    sqlite3 "$OUT/dnssec-$mode/bench.db" \
        "SELECT (SELECT count(*) FROM hosts) || '|' || (SELECT count(*) FROM hosts WHERE tlsa_dnssec IS NOT NULL)
         || '|' || (SELECT count(*) FROM probes) || '|' || (SELECT count(*) FROM dane_checks)
         || '|' || (SELECT count(*) FROM hosts WHERE dnssec = 'secure')" > "$results/dnssec-$mode.txt"
    cleanup_all
done
python3 scripts/bench-dnssec-truth.py "$OUT/dnssec-validate/bench.db" "$OUT/dnssec-validate" \
    "$results/dnssec-truth.json"
fi

python3 - "$OUT" "$results" "$sslscan_s" "$sslyze_s" "$peer_n" "$HOSTS" "$BIG_N" "$SECTIONS" "$(nproc)" <<'PY'
import json, os, re, sys
out, res, sslscan_s, sslyze_s, peer_n, hosts, big_n, sections, cores = sys.argv[1:10]
peer_n, hosts, big_n, cores = int(peer_n), int(hosts), int(big_n), int(cores)
sections = [int(s) for s in sections.split()]
r = {"bench_sections": sorted(sections)}
if os.path.exists(f"{res}/dns.json"):
    r.update(json.load(open(f"{res}/dns.json")))
if os.path.exists(f"{res}/export.json"):
    r.update(json.load(open(f"{res}/export.json")))

floor_ms = None
if os.path.exists(f"{out}/speed.txt"):
    speed = open(f"{out}/speed.txt").read()
    x25519 = float(re.search(r"ecdh \(X25519\)\s+\S+\s+([\d.]+)", speed).group(1))
    ecdsa_v = float(re.search(r"ecdsa \(nistp256\)\s+\S+\s+\S+\s+\S+\s+([\d.]+)", speed).group(1))
    ed_v = float(re.search(r"EdDSA \(Ed25519\)\s+\S+\s+\S+\s+\S+\s+([\d.]+)", speed).group(1))
    # Client-side public-key work of one farm TLS session: X25519 key generation + derivation,
    # ECDSA P-256 verifications of the server's CertificateVerify and of the leaf (signed by
    # the P-256 intermediate), one Ed25519 verification of the intermediate (Ed25519 root).
    floor_ms = (2 / x25519 + 2 / ecdsa_v + 1 / ed_v) * 1000
    r.update({"crypto_floor_ms_per_tls_session": floor_ms, "openssl_speed_x25519_ops": x25519,
              "openssl_speed_ecdsap256_verify": ecdsa_v, "openssl_speed_ed25519_verify": ed_v})

if os.path.exists(f"{res}/probe.json"):
    probe = json.load(open(f"{res}/probe.json"))
    ips, sessions = map(int, open(f"{out}/farm/probes.txt").read().split("|"))
    cpu = probe["user_s"] + probe["sys_s"]
    r.update({
        "probe_hosts": hosts,
        "probe_ips": ips,
        "probe_sessions": sessions,
        "probe_seconds": probe["seconds"],
        "probes_per_s": sessions / probe["seconds"],
        "probe_client_cpu_ms_per_session": cpu / sessions * 1000,
        "probe_max_rss_mib": probe["max_rss_kib"] / 1024,
    })
    if floor_ms:
        r["probe_cpu_to_floor_ratio"] = cpu / sessions * 1000 / floor_ms
    if os.path.exists(f"{res}/probe-nopolicy.json"):
        plain = json.load(open(f"{res}/probe-nopolicy.json"))
        checked = int(open(f"{out}/farm/policy-domains.txt").read().strip() or 0)
        r.update({
            "policy_domains_checked": checked,
            "policy_scan_seconds": probe["seconds"],
            "policy_off_scan_seconds": plain["seconds"],
            "policy_scan_time_ratio": probe["seconds"] / plain["seconds"],
            "policy_extra_ms_per_domain": (probe["seconds"] - plain["seconds"]) / max(checked, 1) * 1000,
            "policy_extra_cpu_ms_per_domain":
                (cpu - plain["user_s"] - plain["sys_s"]) / max(checked, 1) * 1000,
        })
    if os.path.exists(f"{res}/probe-truth.json"):
        t = json.load(open(f"{res}/probe-truth.json"))
        r.update({"probe_truth_hosts": t["truth_hosts"], "probe_truth_domains": t["truth_domains"],
                  "probe_truth_differences": t["truth_differences"],
                  "probe_truth_policy_domains": t["truth_policy_domains"]})
        if "policy_domains_checked" in r:
            # HTTPS fetches of the policy stage: one per published policy host whose TXT
            # record is valid (the farm's truth; the truth comparison checks every outcome).
            fetches = t["truth_policy_fetches"]
            r["policy_https_fetches"] = fetches
            if fetches:
                r["policy_extra_cpu_ms_per_fetch"] = (
                    (cpu - plain["user_s"] - plain["sys_s"]) / fetches * 1000)
if sslscan_s:
    mx_rate = r.get("probes_per_s")
    r["peers_hosts"] = peer_n
    r["sslscan_hosts_per_s"] = peer_n / float(sslscan_s)
    if sslyze_s:
        r["sslyze_hosts_per_s"] = peer_n / float(sslyze_s)
    if mx_rate:
        r["mxsurvey_to_sslscan_ratio"] = mx_rate / r["sslscan_hosts_per_s"]
        if sslyze_s:
            r["mxsurvey_to_sslyze_ratio"] = mx_rate / r["sslyze_hosts_per_s"]

if os.path.exists(f"{res}/little-window.json"):
    r.update(json.load(open(f"{res}/little-window.json")))
    if os.path.exists(f"{res}/little-fds.json"):
        fds = json.load(open(f"{res}/little-fds.json"))
        r.update({"little_scanner_max_fds": fds["max_fds"], "little_scanner_max_tcp_sessions": fds["max_tcp"],
                  "little_scanner_max_other_fds": fds["max_other"],
                  "little_scanner_other_fds_kinds": fds["other_kinds_at_max"]})

if os.path.exists(f"{res}/passive.json"):
    r.update(json.load(open(f"{res}/passive.json")))

if os.path.exists(f"{res}/big.json"):
    big = json.load(open(f"{res}/big.json"))
    domains, probes = map(int, open(f"{out}/big/counts.txt").read().split("|"))
    r.update({"big_domains": domains, "big_probes": probes, "big_seconds": big["seconds"],
              "big_domains_per_s": domains / big["seconds"], "big_max_rss_mib": big["max_rss_kib"] / 1024})

if os.path.exists(f"{res}/ceiling-chain.json"):
    def ceiling(name):
        m = json.load(open(f"{res}/ceiling-{name}.json"))
        n, server_cpu = open(f"{out}/ceiling/{name}.txt").read().split()
        n, server_cpu = int(n), float(server_cpu)
        return n, m["user_s"] + m["sys_s"], server_cpu, m["seconds"]
    n, client, server, _ = ceiling("chain")
    nv_n, nv_client, nv_server, _ = ceiling("nochain")
    p_n, p_client, p_server, p_s = ceiling("parallel")
    client_ms = client / n * 1000
    r.update({
        "openssl_ceiling_handshakes": n,
        "openssl_ceiling_client_cpu_ms_per_handshake": client_ms,
        "openssl_ceiling_server_cpu_ms_per_handshake": server / n * 1000,
        "openssl_ceiling_client_cpu_ms_per_handshake_nochain": nv_client / nv_n * 1000,
        "openssl_ceiling_server_cpu_ms_per_handshake_nochain": nv_server / nv_n * 1000,
        # Both ends on the same cores: at most cores / (client + server CPU) handshakes/s.
        "openssl_ceiling_handshakes_per_s_bound": cores / ((client + server) / n),
        "openssl_ceiling_pairs": len([f for f in os.listdir(f"{out}/ceiling")
                                      if f.startswith("parallel-") and f.endswith(".out")]),
        "openssl_ceiling_handshakes_per_s": p_n / p_s,
        "openssl_ceiling_parallel_cpu_ms_per_handshake": (p_client + p_server) / p_n * 1000,
        "openssl_ceiling_parallel_cores_busy": (p_client + p_server) / p_s,
    })
    if floor_ms:
        r["openssl_client_to_floor_ratio"] = client_ms / floor_ms
    if "probe_client_cpu_ms_per_session" in r:
        r["mxsurvey_cpu_to_openssl_client_ratio"] = r["probe_client_cpu_ms_per_session"] / client_ms

if os.path.exists(f"{res}/versions-on.json") and os.path.exists(f"{res}/versions-off.json"):
    on, off = (json.load(open(f"{res}/versions-{m}.json")) for m in ("on", "off"))
    ips, extra, untested, preference = map(int, open(f"{res}/versions-on.txt").read().split("|"))
    off_ips = int(open(f"{res}/versions-off.txt").read().split("|")[0])
    cpu_on, cpu_off = on["user_s"] + on["sys_s"], off["user_s"] + off["sys_s"]
    r.update({
        "versions_ips": ips,
        "versions_extra_sessions": extra,
        "versions_extra_sessions_per_ip": extra / max(ips, 1),
        "versions_not_tested": untested,
        "versions_preference_sessions": preference,
        "versions_preference_sessions_per_ip": preference / max(ips, 1),
        "versions_off_seconds": off["seconds"],
        "versions_on_seconds": on["seconds"],
        "versions_wall_ratio": on["seconds"] / off["seconds"],
        "versions_cpu_ratio": cpu_on / cpu_off,
        "versions_extra_cpu_ms_per_ip": (cpu_on - cpu_off) / max(off_ips, 1) * 1000,
    })

if os.path.exists(f"{res}/dnssec-validate.json") and os.path.exists(f"{res}/dnssec-plain.json"):
    on, off = (json.load(open(f"{res}/dnssec-{m}.json")) for m in ("validate", "plain"))
    hosts_on, tlsa, probes_on, checks, secure = map(int, open(f"{res}/dnssec-validate.txt").read().split("|"))
    hosts_off, _, probes_off, _, secure_off = map(int, open(f"{res}/dnssec-plain.txt").read().split("|"))
    cpu_on, cpu_off = on["user_s"] + on["sys_s"], off["user_s"] + off["sys_s"]
    dns_on, dns_off = (float(open(f"{res}/dnssec-{m}-unbound.txt").read()) for m in ("validate", "plain"))
    truth = json.load(open(f"{res}/dnssec-truth.json"))
    r.update({
        "dnssec_mx_hosts": hosts_on,
        "dnssec_secure_hosts": secure,
        "dnssec_plain_secure_hosts": secure_off,
        "dnssec_tlsa_lookups": tlsa,
        "dnssec_dane_checks": checks,
        "dnssec_probes": probes_on,
        "dnssec_plain_probes": probes_off,
        "dnssec_plain_seconds": off["seconds"],
        "dnssec_validate_seconds": on["seconds"],
        "dnssec_wall_ratio": on["seconds"] / off["seconds"],
        "dnssec_cpu_ratio": cpu_on / cpu_off,
        "dnssec_extra_ms_per_host": (on["seconds"] - off["seconds"]) / max(hosts_on, 1) * 1000,
        "dnssec_extra_cpu_ms_per_host": (cpu_on - cpu_off) / max(hosts_on, 1) * 1000,
        "dnssec_resolver_cpu_s": dns_on,
        "dnssec_plain_resolver_cpu_s": dns_off,
        "dnssec_extra_resolver_cpu_ms_per_host": (dns_on - dns_off) / max(hosts_on, 1) * 1000,
        "dnssec_truth_differences": truth["dnssec_truth_differences"],
        "dnssec_truth_hosts": truth["dnssec_truth_hosts"],
    })

json.dump(r, open("bench-results.json", "w"), indent=1, sort_keys=True)
print()
for k in sorted(r):
    v = r[k]
    print(f"  {k:44} {v:.3f}" if isinstance(v, float) else f"  {k:44} {v}")
print("\nwritten: bench-results.json")
PY
