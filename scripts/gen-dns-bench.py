#!/usr/bin/env python3
"""Writes a DNS benchmark data set: N domains d<i>.bench.test with MX records pointing at
a pool of shared MX hosts (like real providers), the zone for unbound, the scan input and
a dnsperf query file with the same queries the scanner sends (MX per domain, A+AAAA per
host).  Usage: gen-dns-bench.py N HOSTS OUTDIR"""
import os
import sys

n, hosts, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "zone"), "w") as z:
    z.write("$ORIGIN bench.test.\n$TTL 3600\n@ SOA ns.bench.test. admin.bench.test. 1 3600 600 86400 3600\n")
    z.write("@ NS ns\nns A 127.0.0.53\n")
    for k in range(hosts):
        z.write(f"mx{k} A 127.64.{k // 250}.{k % 250 + 1}\n")
    for i in range(n):
        k = i % hosts
        z.write(f"d{i} MX 10 mx{k}\n")
        if i % 10 == 0:
            z.write(f"d{i} MX 20 mx{(k + 1) % hosts}\n")
with open(os.path.join(out, "domains.txt"), "w") as d:
    for i in range(n):
        d.write(f"d{i}.bench.test\n")
with open(os.path.join(out, "dnsperf.txt"), "w") as q:
    for i in range(n):
        q.write(f"d{i}.bench.test MX\n")
    for k in range(hosts):
        q.write(f"mx{k}.bench.test A\nmx{k}.bench.test AAAA\n")
