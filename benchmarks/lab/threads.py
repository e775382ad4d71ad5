#!/usr/bin/env python3
"""threads.py -- CMD ARGS…: runs CMD, samples its threads' CPU (utime + stime from
/proc/PID/task/*/stat, every 50 ms) until it exits, and prints the CPU seconds and share of
wall time per thread name (mxsurvey-dns: the c-ares driver; *-qos.overcommit: GRDB's writer
queue; *default-qos: Swift's cooperative pool). docs/benchmarks.md §1:
    python3 benchmarks/lab/threads.py -- .build/release/mxsurvey scan --no-probe --quiet --db /tmp/s.db \
        --resolver 127.0.0.1:PORT --dns-in-flight 1000 --dns-concurrency 2000 .bench/dns/domains.txt
    python3 benchmarks/lab/threads.py -- .build/release/mxsurvey resolve --resolver 127.0.0.1:PORT \
        --dns-in-flight 1000 --concurrency 2000 --input .bench/dns/domains.txt
"""
import os, subprocess, sys, time, collections
cmd = sys.argv[sys.argv.index("--") + 1:]
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
t0 = time.monotonic(); last = {}
while p.poll() is None:
    try:
        for tid in os.listdir(f"/proc/{p.pid}/task"):
            try:
                f = open(f"/proc/{p.pid}/task/{tid}/stat").read()
                name = f[f.index("(")+1:f.rindex(")")]
                fields = f[f.rindex(")")+2:].split()
                last[tid] = (name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
            except Exception: pass
    except Exception: pass
    time.sleep(0.05)
wall = time.monotonic() - t0
agg = collections.defaultdict(float)
for name, cpu in last.values(): agg[name] += cpu
print(f"wall {wall:.2f} s")
for name, cpu in sorted(agg.items(), key=lambda x: -x[1]):
    print(f"  {name:20} {cpu:6.2f} s  {cpu/wall*100:5.1f}% of wall")
