#!/usr/bin/env python3
"""Compares a scan's `results` rows with an mxfarm's ground truth, the rules of the Swift
farm-truth test (Tests/SurveyScanTests/FarmTruthTests.swift) at benchmark size.

Usage: bench-truth.py DB FARM_DIR OUT.json
Every truth host must appear with its IP on rows of exactly its domains, never excluded,
with every fact equal (probe_status, banner_code, STARTTLS, TLS version, certificate
verdicts, plaintext refusal, greylisting, implicit MX); every truth domain with its status
and MX set (host, preference, IP); nothing extra. Writes counts and the first differences."""
import json, sqlite3, sys
from collections import defaultdict

db_path, farm, out_path = sys.argv[1:4]
FACTS = ["probe_status", "banner_code", "starttls_offered", "starttls_reply_code", "tls_version",
         "cert_trusted", "cert_hostname_match", "cert_expired", "cert_not_yet_valid",
         "cert_self_signed", "plaintext_refused", "greylisted", "implicit_mx"]
BOOLS = {"starttls_offered", "cert_trusted", "cert_hostname_match", "cert_expired",
         "cert_not_yet_valid", "cert_self_signed", "plaintext_refused", "greylisted", "implicit_mx"}

def norm(column, value):
    if value is None:
        return None
    if column in BOOLS:
        return bool(value)
    return value

hosts = [json.loads(l) for l in open(f"{farm}/truth.jsonl")]
domains = [json.loads(l) for l in open(f"{farm}/domains-truth.jsonl")]
con = sqlite3.connect(db_path)
con.row_factory = sqlite3.Row
rows = con.execute("""
    SELECT r.*, p.cert_not_yet_valid AS cert_not_yet_valid
    FROM results r LEFT JOIN probes p ON p.scan_id = r.scan_id AND p.ip = r.ip
    WHERE r.scan_id = (SELECT max(id) FROM scans)""").fetchall()
problems = []
by_host, by_domain = defaultdict(list), defaultdict(list)
for r in rows:
    by_domain[r["domain"]].append(r)
    if r["mx_host"] is not None:
        by_host[r["mx_host"]].append(r)
truth_hosts = {h["mx_host"]: h for h in hosts}
for h in hosts:
    hr = by_host.get(h["mx_host"])
    if not hr:
        problems.append(f"{h['mx_host']} {h['ip']}: missing from results")
        continue
    if {r["ip"] for r in hr} != {h["ip"]}:
        problems.append(f"{h['mx_host']} ip: expected {h['ip']}, got {sorted({str(r['ip']) for r in hr})}")
    if any(r["excluded"] != 0 for r in hr):
        problems.append(f"{h['mx_host']} {h['ip']}: excluded on some row")
    if len({r["domain"] for r in hr}) != h["domain_count"]:
        problems.append(f"{h['mx_host']} {h['ip']} domain_count: expected {h['domain_count']}")
    reported = set()
    for r in hr:
        for c in FACTS:
            want, got = norm(c, h.get(c)), norm(c, r[c])
            if want != got and (c, got) not in reported:
                reported.add((c, got))
                problems.append(f"{h['mx_host']} {h['ip']} [{h['behaviour']}/{h.get('cert_kind')}] {c}: "
                                f"expected {want}, got {got}")
for name in sorted(set(by_host) - set(truth_hosts)):
    problems.append(f"{name}: in results but not in the truth")
truth_domains = {d["domain"] for d in domains}
for d in domains:
    dr = by_domain.get(d["domain"])
    if not dr:
        problems.append(f"domain {d['domain']}: missing from results")
        continue
    if {r["dns_status"] for r in dr} != {d["dns_status"]}:
        problems.append(f"domain {d['domain']} dns_status: expected {d['dns_status']}")
    got = {(r["mx_host"], r["mx_preference"], r["ip"]) for r in dr if r["mx_host"] is not None}
    want = {(m["mx_host"], m["mx_preference"], m["ip"]) for m in d["mx"]}
    if got != want:
        problems.append(f"domain {d['domain']} mx: expected {sorted(want)}, got {sorted(got)}")
    if d["mx"] and {bool(r["implicit_mx"]) for r in dr} != {d["implicit_mx"]}:
        problems.append(f"domain {d['domain']} implicit_mx: expected {d['implicit_mx']}")
for name in sorted(set(by_domain) - truth_domains):
    problems.append(f"domain {name}: in results but not in the truth")
result = {"truth_hosts": len(hosts), "truth_domains": len(domains), "truth_differences": len(problems),
          "truth_first_differences": problems[:10]}
json.dump(result, open(out_path, "w"), indent=1)
print(f"  truth: {len(hosts)} hosts, {len(domains)} domains, {len(problems)} differences")
for p in problems[:10]:
    print(f"    {p}")
