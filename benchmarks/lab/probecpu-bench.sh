#!/usr/bin/env bash
# Scanner CPU per full probe session (issue #4), several mxsurvey binaries side by side in
# one invocation against the same farm and unbound (ratios, not lone times).
#   benchmarks/lab/probecpu-bench.sh OUTDIR ROUNDS BIN1 [BIN2 …]
# Env: HOSTS (1000), DOMAINS (2×HOSTS), MIX (tls13=100), CONC (200), SEED (3), SCAN_EXTRA
# (more scan flags), FARM (mxfarm binary, default .build/release/mxfarm), STRACE=1 (strace -c
# each run), PERF=1 (perf record each run; PERF_CG, PERF_FREQ). Prints one line per run, then
# per binary the median and minimum and the median of the per-round ratios to the first
# binary. The stored facts of every run (probe rows, chains, names, certificates, the results
# view; times left out) must equal those of the first run ("identical=yes").
# Run it under `flock /tmp/mxsurvey-bench.lock`. CPU time is noisy when other work shares the cores:
# compare paired ratios over several interleaved rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "$1"); rounds=$2; shift 2
bins=("$@")
HOSTS=${HOSTS:-1000}
DOMAINS=${DOMAINS:-$((HOSTS * 2))}
MIX=${MIX:-tls13=100}
CONC=${CONC:-200}
FARM=${FARM:-.build/release/mxfarm}
source scripts/lib.sh
trap cleanup_all EXIT
rm -rf "$out"; mkdir -p "$out"
BIN=$(dirname "$(realpath "$FARM")")
"$FARM" --out "$out/farm" --hosts "$HOSTS" --domains "$DOMAINS" --seed "${SEED:-3}" --base 127.96.0.1 \
    --mix "$MIX" --delay 0 > "$out/farm.out" 2> "$out/farm.err" &
FARM_PID=$!; PIDS+=("$FARM_PID")
for _ in $(seq 1 600); do grep -q '^ready' "$out/farm.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$out/farm.out" || { cat "$out/farm.err" >&2; exit 1; }
start_unbound "$out/unbound" "$out/farm/zone" test.
# SQL of the stored facts that must not change between binaries.
facts="SELECT p.ip, p.sni, p.status, p.error_detail, p.banner_code, p.banner, p.ehlo_code, p.used_helo,
  p.ehlo_extensions, p.starttls_offered, p.starttls_reply_code, p.mail_from_code,
  p.plaintext_reply_code, p.plaintext_refused, p.greylisted, p.tls_version, p.tls_cipher, p.tls_group,
  p.cert_sha256, p.cert_trusted, p.cert_verify_error, p.cert_not_after, p.cert_expired,
  p.cert_not_yet_valid, p.cert_self_signed, p.tls_ehlo_code, p.attempts,
  (SELECT group_concat(position || ':' || cert_sha256, ',') FROM probe_chain WHERE probe_id = p.id),
  (SELECT group_concat(name || '=' || ifnull(hostname_match, 'null'), ',') FROM probe_names WHERE probe_id = p.id)
  FROM probes p ORDER BY p.ip;
  SELECT sha256, hex(der), subject, issuer, not_before, not_after, key_type, key_bits,
  signature_algorithm, dns_names, self_signed FROM certificates ORDER BY sha256;"
for round in $(seq 1 "$rounds"); do
    # Even rounds run the binaries in reverse order (ABBA): a run leaves thousands of
    # TIME_WAIT sockets that make the next run's connects dearer.
    order=("${!bins[@]}")
    if [ $((round % 2)) -eq 0 ]; then order=($(printf '%s\n' "${order[@]}" | tac)); fi
    for i in "${order[@]}"; do
        db="$out/r$round-b$i.db"
        prefix=()
        # PERF=1: profile instead (the CPU figures then include perf's own overhead).
        # STRACE=1: count the scanner's system calls instead (strace -f -c).
        [ -n "${STRACE:-}" ] && prefix=(strace -f -c -o "$out/r$round-b$i.strace" --)
        [ -n "${PERF:-}" ] && prefix=(perf record -F "${PERF_FREQ:-4000}" --call-graph "${PERF_CG:-fp}" -o "$out/r$round-b$i.perf" --)
        python3 scripts/measure.py "$out/r$round-b$i.json" -- "${prefix[@]}" "${bins[$i]}" scan --db "$db" \
            --resolver "127.0.0.1:$UNBOUND_PORT" --ca-file "$out/farm/ca.pem" --allow-private --quiet \
            --concurrency "$CONC" ${SCAN_EXTRA:-} "$out/farm/domains.txt" > /dev/null
        sessions=$(sqlite3 "$db" "SELECT sum(attempts) FROM probes")
        sqlite3 "$db" "$facts" > "$out/r$round-b$i.facts"
        # probed_at is per run: drop the results view's probed_at column before comparing.
        sqlite3 "$db" "SELECT * FROM results ORDER BY domain, mx_host, ip" |
            awk -F'|' -v OFS='|' '{ $27 = ""; print }' > "$out/r$round-b$i.results"
        same=yes
        if [ -e "$out/r1-b0.facts" ]; then
            cmp -s "$out/r1-b0.facts" "$out/r$round-b$i.facts" || same=NO
            cmp -s "$out/r1-b0.results" "$out/r$round-b$i.results" || same=NO
        fi
        python3 - "$out/r$round-b$i.json" "$sessions" "${bins[$i]}" "$same" <<'PY' | tee -a "$out/runs.txt"
import json, sys
r = json.load(open(sys.argv[1])); s = int(sys.argv[2])
cpu = r["user_s"] + r["sys_s"]
print(f'{sys.argv[3]} sessions={s} wall={r["seconds"]:.2f}s user={r["user_s"]:.2f} sys={r["sys_s"]:.2f} '
      f'cpu_ms_per_session={cpu / s * 1000:.3f} identical={sys.argv[4]}')
PY
    done
done
python3 - "$out/runs.txt" "${bins[0]}" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    b = line.split()[0]; v = float(re.search(r"cpu_ms_per_session=([0-9.]+)", line).group(1))
    runs.setdefault(b, []).append(v)
first = runs[sys.argv[2]]
for b, v in runs.items():
    # Paired ratio: each round's run against the first binary's run of the same round.
    ratios = [x / y for x, y in zip(v, first)]
    print(f"{b}: median {statistics.median(v):.3f}, min {min(v):.3f} ms/session over {len(v)} runs; "
          f"paired ratio to the first: median {statistics.median(ratios):.3f}")
PY
