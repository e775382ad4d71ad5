#!/usr/bin/env bash
# `make bench`, section 11 (docs/benchmarks.md): the cost of sharding and of merging.
# One farm (BENCH_DIST_HOSTS hosts, 10 domains per host, no delay, no tarpits, no greylisting)
# and one unbound; in the same run:
#   baseline: one `mxsurvey scan` of the list;
#   sharded: 4 `scan --no-probe --shard K/4` at the same time, `merge`, 4 `probe --shard K/4`
#            at the same time, `merge` — wall time of the whole chain ÷ the baseline's;
#   merge throughput: rows written ÷ seconds of each merge (as `merge` prints them), and
#            of a second merge of the DNS shards into a fresh store, timed alone.
# Merges the keys into bench-results.json. Touches only 127.0.0.0/8. BIN (.build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
OUT=${OUT:-.bench}/distributed
HOSTS=${BENCH_DIST_HOSTS:-2000}
source scripts/lib.sh
trap cleanup_all EXIT
rm -rf "$OUT"
mkdir -p "$OUT"
start_farm "$OUT/farm" --hosts "$HOSTS" --domains $((HOSTS * 10)) --seed 17 --base 127.65.0.1 \
    --mix "tls13=40,tls12=32,tls11=2,tls10=3,nostarttls=10,plainrefused=5,starttls454=2,ratelimit421=2" --delay 0
start_unbound "$OUT/farm/unbound" "$OUT/farm/zone" test.
opts=(--resolver "127.0.0.1:$UNBOUND_PORT" --allow-private --ca-file "$OUT/farm/ca.pem" --quiet
    --ehlo-name probe.mxsurvey.test --mail-from survey@probe.mxsurvey.test --concurrency 500)
list="$OUT/farm/domains.txt"
now() { python3 -c 'import time; print(time.monotonic())'; }

echo "== 11. Sharding overhead (4 shards vs one process) and merge throughput: $HOSTS hosts, $((HOSTS * 10)) domains"
t0=$(now)
"$BIN/mxsurvey" scan --db "$OUT/one.db" "${opts[@]}" "$list" > "$OUT/one.log"
t1=$(now)
pids=()
for k in 0 1 2 3; do
    "$BIN/mxsurvey" scan --no-probe --shard "$k/4" --vantage bench --db "$OUT/dns-$k.db" "${opts[@]}" "$list" \
        > "$OUT/dns-$k.log" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
ta=$(now)
"$BIN/mxsurvey" merge --db "$OUT/dns.db" "$OUT"/dns-?.db > "$OUT/merge-dns.log"
tb=$(now)
pids=()
for k in 0 1 2 3; do
    "$BIN/mxsurvey" probe --from "$OUT/dns.db" --shard "$k/4" --vantage bench --db "$OUT/probe-$k.db" --quiet \
        --concurrency 125 > "$OUT/probe-$k.log" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
tc=$(now)
"$BIN/mxsurvey" merge --db "$OUT/all.db" "$OUT"/probe-?.db > "$OUT/merge-all.log"
t2=$(now)
"$BIN/mxsurvey" merge --db "$OUT/dns-again.db" "$OUT"/dns-?.db > "$OUT/merge-dns-again.log"

python3 - "$OUT" "$t0" "$t1" "$t2" "$HOSTS" "$ta" "$tb" "$tc" <<'PY'
import json, os, re, sqlite3, sys
out, t0, t1, t2, hosts = sys.argv[1], *map(float, sys.argv[2:5]), int(sys.argv[5])
ta, tb, tc = map(float, sys.argv[6:9])
def merged(name):
    m = re.search(r"(\d+) rows written in ([0-9.]+) s", open(f"{out}/{name}").read())
    return int(m.group(1)), float(m.group(2))
def view(db):
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(results)") if r[1] not in ("scan_id", "probed_at")]
    return con.execute(f"SELECT {', '.join(cols)} FROM results ORDER BY domain, mx_host, ip").fetchall()
one_s, sharded_s = t1 - t0, t2 - t1
rows_dns, s_dns = merged("merge-dns.log")
rows_all, s_all = merged("merge-all.log")
rows_again, s_again = merged("merge-dns-again.log")
r = {
    "dist_hosts": hosts,
    "dist_one_process_s": one_s,
    "dist_4_shards_s": sharded_s,
    "dist_sharding_overhead_ratio": sharded_s / one_s,
    "dist_phase1_dns_s": ta - t1,
    "dist_merge_dns_s": tb - ta,
    "dist_phase2_probe_s": tc - tb,
    "dist_merge_probes_s": t2 - tc,
    "dist_merge_dns_rows": rows_dns,
    "dist_merge_dns_rows_per_s": rows_dns / s_dns,
    "dist_merge_probes_rows": rows_all,
    "dist_merge_probes_rows_per_s": rows_all / s_all,
    "dist_merge_alone_rows_per_s": rows_again / s_again,
    "dist_results_equal": view(f"{out}/one.db") == view(f"{out}/all.db"),
}
path = "bench-results.json"
data = json.load(open(path)) if os.path.exists(path) else {}
data.update(r)
json.dump(data, open(path, "w"), indent=1, sort_keys=True)
for k in sorted(r):
    v = r[k]
    print(f"  {k:44} {v:.3f}" if isinstance(v, float) else f"  {k:44} {v}")
PY
