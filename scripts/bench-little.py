#!/usr/bin/env python3
"""bench-little.py DB FARM_DIR MEASURE.json SCAN.err ASKED_C SERVER_CPU_S OUT.json [DNS_C]: section 4
of scripts/bench.sh (Little's law), computed from the bench database's `probes` table.
SERVER_CPU_S: CPU seconds the farm and unbound used during the scan; DNS_C: the scan's
--dns-concurrency (recorded only).

A session runs from `probed_at` (its start, ISO 8601, whole seconds) for `duration_ms`.
Starts are only known to the second, so the k sessions that started in second S are spread
evenly over [S, S+1) (the j-th at S + (j + 0.5)/k). The pool can only be full between the
first and the last session start (before, it fills; after the last start nothing new is
started, so it drains by construction). The window is the whole seconds strictly inside that
span: [S_first + 1, S_last), so its ends are exact instants and not estimates.

  L (time-averaged sessions in flight in the window) = sum of each session's overlap with
      the window / window length.
  efficiency = L / concurrency asked (and / the concurrency the scanner used after capping
      it to the open-file limit, from its warning on stderr).
  Little's law L = λW: λ = sessions started in the window / window length, W = their mean
      duration; λ is reported next to C/W and next to C/W0, W0 = the farm's mean banner delay
      of the probed hosts (what a session would take on an unloaded machine, roughly).
  The pool cannot be full before C targets exist: the "supplied" window starts at the first
  whole second by which at least C (effective) MX hosts had been resolved (hosts.resolved_at;
  one address per host in this farm) and also ends at S_last.
  CPU: scanner (MEASURE.json) + farm + unbound per session, and the sessions/s the machine's
  cores could carry at that cost.

It also checks the verdicts against the farm's truth (truth.jsonl: probe_status per IP) and
keeps the older whole-run figure (all sessions / wall time of the scan vs C / mean session).
"""
import json
import re
import sqlite3
import sys
from collections import Counter
from datetime import datetime, timezone

import os

db, farm, measure_path, err_path, asked, server_cpu, out_path = sys.argv[1:8]
dns_c = int(sys.argv[8]) if len(sys.argv) > 8 else None
asked, server_cpu = int(asked), float(server_cpu)
measure = json.load(open(measure_path))

# The scanner caps --concurrency to RLIMIT_NOFILE minus its reserve and says so on stderr.
effective = asked
warning = re.search(r"--concurrency (\d+) exceeds the open-file limit \((\d+)\); using (\d+)",
                    open(err_path).read())
if warning:
    effective = int(warning.group(3))

con = sqlite3.connect(db)
rows = con.execute("SELECT ip, status, probed_at, duration_ms, attempts FROM probes ORDER BY id").fetchall()


def epoch(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).replace(
        tzinfo=timezone.utc).timestamp())


seconds = [epoch(r[2]) for r in rows]
durations = [r[3] / 1000 for r in rows]
per_second = Counter(seconds)
seen = Counter()
starts = []
for s in seconds:
    starts.append(s + (seen[s] + 0.5) / per_second[s])
    seen[s] += 1

n = len(rows)
s_first, s_last = min(seconds), max(seconds)
w0, w1 = s_first + 1, s_last
window = w1 - w0
if window < 2:
    sys.exit(f"bench-little: window of {window} s is too short; raise BENCH_LITTLE_HOSTS")


def in_flight(w0, w1):
    """(L, per-second averages, durations of the sessions started in [w0, w1)), from an
    in-flight count per millisecond (difference array)."""
    ms = (w1 - w0) * 1000
    diff = [0] * (ms + 1)
    overlap = 0.0
    started = []
    for st, d in zip(starts, durations):
        a, b = max(st, w0), min(st + d, w1)
        if b > a:
            overlap += b - a
            diff[int(round((a - w0) * 1000))] += 1
            diff[int(round((b - w0) * 1000))] -= 1
        if w0 <= st < w1:
            started.append(d)
    level, per_sec, acc = 0, [], 0
    for i in range(ms):
        level += diff[i]
        acc += level
        if i % 1000 == 999:
            per_sec.append(acc / 1000)
            acc = 0
    return overlap / (w1 - w0), per_sec, started


L, per_sec, started = in_flight(w0, w1)
lam = len(started) / window
W = sum(started) / len(started)

# The supplied window: from the first whole second by which C hosts had been resolved.
resolved = sorted(epoch(r[0]) for r in con.execute("SELECT resolved_at FROM hosts"))
supplied = {}
if len(resolved) >= effective:
    s0 = max(w0, resolved[effective - 1] + 1)
    if w1 - s0 >= 2:
        sL, _, s_started = in_flight(s0, w1)
        supplied = {"little_supplied_window_s": w1 - s0, "little_supplied_mean_in_flight": sL,
                    "little_supplied_efficiency": sL / asked,
                    "little_supplied_efficiency_effective": sL / effective}

truth = {}
for line in open(f"{farm}/truth.jsonl"):
    h = json.loads(line)
    truth[h["ip"]] = h
expected = set()
for line in open(f"{farm}/domains-truth.jsonl"):
    for mx in json.loads(line).get("mx") or []:
        if mx.get("ip"):
            expected.add(mx["ip"])
status = Counter(r[1] for r in rows)
probed = {r[0] for r in rows}
wrong = Counter((truth[r[0]]["probe_status"], r[1]) for r in rows
                if r[0] in truth and truth[r[0]]["probe_status"] != r[1])
nominal = sum(truth[ip]["banner_delay_ms"] for ip in probed if ip in truth) / max(1, len(probed)) / 1000

mean_all = sum(durations) / n
scanner_cpu = measure["user_s"] + measure["sys_s"]
cores = os.cpu_count()
expected_whole = min(asked, n) / mean_all
achieved_whole = n / measure["seconds"]
out = {
    "little_concurrency": asked,
    "little_concurrency_effective": effective,
    "little_dns_concurrency": dns_c,
    "little_sessions": n,
    "little_expected_ips": len(expected),
    "little_missing_ips": len(expected - probed),
    "little_status_counts": dict(sorted(status.items())),
    "little_misclassified": sum(wrong.values()),
    "little_misclassified_by_truth": {f"{t}->{s}": c for (t, s), c in sorted(wrong.items())},
    "little_timeouts": sum(c for s, c in status.items() if "timeout" in s),
    # The farm's longest banner delay among the probed hosts (bench.sh's --banner-timeout is 10 s).
    "little_max_banner_delay_s": max(truth[ip]["banner_delay_ms"] for ip in probed if ip in truth) / 1000,
    # Whole run (the figure before bench4): ramp-up, DNS and drain included.
    "little_mean_session_s": mean_all,
    "little_expected_per_s": expected_whole,
    "little_achieved_per_s": achieved_whole,
    "little_whole_run_efficiency": achieved_whole / expected_whole,
    "little_max_rss_mib": measure["max_rss_kib"] / 1024,
    "little_scan_seconds": measure["seconds"],
    # Window from the first to the last session start (whole seconds strictly inside).
    "little_window_s": window,
    "little_window_sessions_started": len(started),
    "little_window_mean_in_flight": L,
    "little_window_min_in_flight_per_s": min(per_sec),
    "little_efficiency": L / asked,
    "little_efficiency_effective": L / effective,
    "little_window_starts_per_s": lam,
    "little_window_mean_session_s": W,
    "little_window_lambda_w_over_l": lam * W / L,
    "little_window_c_over_w_per_s": effective / W,
    "little_window_throughput_ratio": lam / (effective / W),
    "little_nominal_session_s": nominal,
    "little_window_ratio_to_nominal": lam / (effective / nominal),
    "little_latency_inflation": W / nominal,
    "little_scanner_cpu_ms_per_session": scanner_cpu / n * 1000,
    "little_servers_cpu_ms_per_session": server_cpu / n * 1000,
    # All cores busy with scanner + farm + unbound at this cost per session.
    "little_cpu_bound_sessions_per_s": cores / ((scanner_cpu + server_cpu) / n),
    **supplied,
}
json.dump(out, open(out_path, "w"), indent=1)
