#!/usr/bin/env python3
"""dnsperf-wire.py QUERIES.txt OUT.bin: dnsperf's query list as the wire messages mxsurvey
(c-ares) sends — RD set, an EDNS0 OPT record with a 1,232-byte payload — for `dnsperf -B`
(each message preceded by its 2-byte length). dnsperf's own text input sends neither RD nor
EDNS. Used to check that the simpler queries are not a cheaper ceiling (docs/benchmarks.md §1):

    python3 benchmarks/lab/dnsperf-wire.py .bench/dns/dnsperf.txt /tmp/q.bin
    dnsperf -s 127.0.0.1 -p PORT -d /tmp/q.bin -B -n 1 -q 500 -b 8192 -t 5
"""
import struct
import sys

TYPES = {"A": 1, "MX": 15, "AAAA": 28}
src, dst = sys.argv[1], sys.argv[2]
with open(dst, "wb") as out:
    for line in open(src):
        name, qtype = line.split()
        labels = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split("."))
        message = struct.pack(">HHHHHH", 0, 0x0100, 1, 0, 0, 1) + labels + b"\0"
        message += struct.pack(">HH", TYPES[qtype], 1)
        message += b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)  # OPT: root, type 41, payload, no flags
        out.write(struct.pack(">H", len(message)) + message)
