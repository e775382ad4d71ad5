#!/usr/bin/env python3
"""bench-fds.py PARENT_PID OUT.json [INTERVAL_S]: samples the open file descriptors of
PARENT_PID's child (the scanner that scripts/measure.py runs) until it exits, and writes
{"samples", "max_fds", "max_tcp", "max_other", "other_at_max_tcp", "other_kinds_at_max"}.

Each descriptor of /proc/PID/fd is classified by its link: a socket whose inode is listed in
/proc/net/udp{,6}, /proc/net/unix or /proc/net/netlink is "udp"/"unix"/"netlink", any other
socket is "tcp" (the scanner opens no other kind: these are its SMTP sessions); anything else
(epoll, eventfd, pipes, files such as the SQLite database) is named by its link. "other" =
all descriptors that are not TCP sessions: what --concurrency's reserve must cover.
"""
import json
import os
import re
import sys
import time
from collections import Counter

parent, out = int(sys.argv[1]), sys.argv[2]
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0


def child_of(ppid):
    for task in os.listdir(f"/proc/{ppid}/task"):
        try:
            kids = open(f"/proc/{ppid}/task/{task}/children").read().split()
        except OSError:
            continue
        if kids:
            return int(kids[0])
    return None


def inodes(paths, column):
    found = set()
    for path in paths:
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if len(fields) > column:
                        found.add(fields[column])
        except OSError:
            pass
    return found


pid = None
while pid is None:
    if not os.path.exists(f"/proc/{parent}"):
        sys.exit("bench-fds: the measured process ended before it could be sampled")
    pid = child_of(parent)
    time.sleep(0.05)

samples, best = [], None
socket_re = re.compile(r"socket:\[(\d+)\]")
while True:
    try:
        links = []
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass  # closed meanwhile
    except OSError:
        break  # the scanner exited
    udp = inodes(["/proc/net/udp", "/proc/net/udp6"], 9)
    unix = inodes(["/proc/net/unix"], 6)
    netlink = inodes(["/proc/net/netlink"], 9)
    kinds = Counter()
    for link in links:
        m = socket_re.match(link)
        if m:
            ino = m.group(1)
            kinds["udp" if ino in udp else "unix" if ino in unix else "netlink" if ino in netlink else "tcp"] += 1
        elif link.startswith("anon_inode:"):
            kinds[link] += 1
        elif link.startswith("pipe:"):
            kinds["pipe"] += 1
        else:
            kinds["file " + link] += 1
    sample = {"t": time.monotonic(), "fds": len(links), "tcp": kinds["tcp"],
              "other": len(links) - kinds["tcp"], "kinds": {k: v for k, v in kinds.items() if k != "tcp"}}
    samples.append(sample)
    if best is None or sample["tcp"] > best["tcp"]:
        best = sample
    time.sleep(interval)

if not samples:
    sys.exit("bench-fds: no sample taken")
max_other = max(samples, key=lambda s: s["other"])
json.dump({"samples": len(samples), "max_fds": max(s["fds"] for s in samples),
           "max_tcp": best["tcp"], "other_at_max_tcp": best["other"],
           "max_other": max_other["other"], "other_kinds_at_max": max_other["kinds"]},
          open(out, "w"), indent=1)
