#!/usr/bin/env python3
"""measure.py OUT.json -- CMD ARGS…: runs CMD, then writes {"seconds", "max_rss_kib",
"user_s", "sys_s", "exit"} of that child to OUT.json (stdout/stderr pass through)."""
import json
import resource
import subprocess
import sys
import time

out = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
start = time.monotonic()
proc = subprocess.run(cmd)
seconds = time.monotonic() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    json.dump({"seconds": seconds, "max_rss_kib": ru.ru_maxrss, "user_s": ru.ru_utime,
               "sys_s": ru.ru_stime, "exit": proc.returncode}, f)
sys.exit(proc.returncode)
