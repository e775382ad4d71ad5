#!/usr/bin/env python3
"""Compares a scan's DNSSEC and DANE facts with the truth of an mxfarm written with
--dnssec-mix, the rules of Tests/SurveyScanTests/FarmDNSSECTruthTests.swift at benchmark size.

Usage: bench-dnssec-truth.py DB FARM_DIR OUT.json
Every domain row: dns_status and mx_dnssec as in domains-truth.jsonl; every (domain, MX
host) row of a domain with mail: mx_dns_status, host_dnssec, dane_status (and the IP for a
host that resolves) as in truth.jsonl; exactly the planned (domain, MX host) rows;
domain_policy.dane_protected and mx_dnssec per domain. Writes counts and the first differences."""
import json, sqlite3, sys
from collections import Counter

db_path, farm, out_path = sys.argv[1:4]
hosts = {h["mx_host"]: h for h in map(json.loads, open(f"{farm}/truth.jsonl"))}
domains = {d["domain"]: d for d in map(json.loads, open(f"{farm}/domains-truth.jsonl"))}
con = sqlite3.connect(db_path)
differences = []
seen = set()
for domain, dns_status, mx_dnssec, mx_host, ip, mx_dns_status, host_dnssec, dane_status in con.execute(
        "SELECT domain, dns_status, mx_dnssec, mx_host, ip, mx_dns_status, host_dnssec, dane_status FROM results"):
    d = domains.get(domain)
    if d is None:
        differences.append(f"unknown domain {domain}")
        continue
    if (dns_status, mx_dnssec) != (d["dns_status"], d["mx_dnssec"]):
        differences.append(f"{domain}: {dns_status}/{mx_dnssec} != {d['dns_status']}/{d['mx_dnssec']}")
    if mx_host is None:
        continue
    seen.add((domain, mx_host))
    h = hosts.get(mx_host)
    if h is None:
        differences.append(f"{domain}: unknown MX host {mx_host}")
        continue
    expected = (h["mx_dns_status"], h["host_dnssec"], h["dane_status"],
                h["ip"] if h["mx_dns_status"] == "ok" else None)
    if (mx_dns_status, host_dnssec, dane_status, ip) != expected:
        differences.append(f"{domain} {mx_host} (tlsa {h['tlsa']}, {h.get('cert_kind')}): "
                           f"{(mx_dns_status, host_dnssec, dane_status, ip)} != {expected}")
planned = {(d["domain"], m["mx_host"]) for d in domains.values()
           if d["dns_status"] in ("ok", "implicit_mx") for m in d["mx"]}
differences += [f"no row for {r}" for r in sorted(planned - seen)]
differences += [f"extra row {r}" for r in sorted(seen - planned)]
policies = 0
for domain, mx_dnssec, protected in con.execute("SELECT domain, mx_dnssec, dane_protected FROM domain_policy"):
    policies += 1
    d = domains.get(domain)
    if d is None:
        continue
    got = None if protected is None else bool(protected)
    if (got, mx_dnssec) != (d["dane_protected"], d["mx_dnssec"]):
        differences.append(f"{domain} domain_policy: {got}/{mx_dnssec} != {d['dane_protected']}/{d['mx_dnssec']}")
if policies != len(domains):
    differences.append(f"domain_policy has {policies} rows, truth {len(domains)} domains")
scanned = {h for _, h in planned}
verdicts = Counter(str(hosts[h]["dane_status"]) for h in scanned if h in hosts)
r = {"dnssec_truth_hosts": len(scanned), "dnssec_truth_domains": len(domains),
     "dnssec_truth_differences": len(differences),
     "dnssec_truth_dane_verdicts": dict(sorted(verdicts.items())),
     "dnssec_truth_first_differences": differences[:20]}
json.dump(r, open(out_path, "w"), indent=1)
print(f"  dnssec truth: {len(scanned)} MX hosts, {len(domains)} domains, {len(differences)} differences")
for line in differences[:20]:
    print("   ", line)
