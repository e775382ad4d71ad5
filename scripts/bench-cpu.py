#!/usr/bin/env python3
"""bench-cpu.py PID…: prints the CPU seconds (utime + stime, /proc/PID/stat) used so far by
the given processes and all their living descendants (e.g. mxfarm's worker processes)."""
import os
import sys

hz = os.sysconf("SC_CLK_TCK")


def tree(pid):
    yield pid
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for task in tasks:
        try:
            kids = open(f"/proc/{pid}/task/{task}/children").read().split()
        except OSError:
            continue
        for kid in kids:
            yield from tree(int(kid))


ticks = 0
for pid in {p for root in sys.argv[1:] for p in tree(int(root))}:
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    ticks += int(fields[11]) + int(fields[12])
print(ticks / hz)
