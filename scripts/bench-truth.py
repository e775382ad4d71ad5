#!/usr/bin/env python3
"""Compares a scan's `results` rows with an mxfarm's ground truth, the rules of the Swift
farm-truth test (Tests/SurveyScanTests/FarmTruthTests.swift) at benchmark size.

Usage: bench-truth.py DB FARM_DIR OUT.json
Every truth host must appear with its IP on rows of exactly its domains, never excluded,
with every fact equal (probe_status, banner_code, STARTTLS, TLS version, certificate
verdicts, plaintext refusal, greylisting, implicit MX); every truth domain with its status
and MX set (host, preference, IP); nothing extra; when the scan ran the policy stage, every
domain's MTA-STS and TLS-RPT facts and every MX host's MTA-STS match (the rules of
FarmPolicyTruthTests). Writes counts and the first differences."""
import json, sqlite3, sys
from collections import defaultdict

db_path, farm, out_path = sys.argv[1:4]
FACTS = ["probe_status", "banner_code", "starttls_offered", "starttls_reply_code", "tls_version",
         "cert_trusted", "cert_hostname_match", "cert_expired", "cert_not_yet_valid",
         "cert_self_signed", "plaintext_refused", "greylisted", "implicit_mx"]
BOOLS = {"b", "starttls_offered", "cert_trusted", "cert_hostname_match", "cert_expired",
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
# The policy stage (farms with --mta-sts-mix / --tlsrpt-mix, and every farm's checked domains):
# domain_policy / domain_policies per domain, mta_sts_mx.pattern_match and
# results.mta_sts_mx_match per MX host. Skipped when the scan ran with --no-policy.
policy_checked = 0
if con.execute("SELECT count(*) FROM domain_policies").fetchone()[0] > 0:
    POLICY = ["mta_sts_status", "mta_sts_mode", "mta_sts_id", "mta_sts_error", "mta_sts_max_age",
              "tlsrpt_status", "tlsrpt_rua"]
    stored = {r["domain"]: r for r in con.execute("""
        SELECT dp.domain, dp.mta_sts_status, dp.mta_sts_mode, dp.mta_sts_id, dp.mta_sts_error,
               dp.tlsrpt_status, dp.tlsrpt_rua, p.mta_sts_max_age
        FROM domain_policy dp
        JOIN domains d ON d.scan_id = dp.scan_id AND d.name = dp.domain
        LEFT JOIN domain_policies p ON p.domain_id = d.id
        WHERE dp.scan_id = (SELECT max(id) FROM scans)""")}
    patterns = {(r["name"], r["host"]): r["pattern_match"] for r in con.execute("""
        SELECT d.name, mm.host, mm.pattern_match FROM mta_sts_mx mm JOIN domains d ON d.id = mm.domain_id
        WHERE d.scan_id = (SELECT max(id) FROM scans)""")}
    for d in domains:
        if "mta_sts_status" not in d:
            continue
        policy_checked += d["mta_sts_status"] is not None
        r = stored.get(d["domain"])
        for c in POLICY:
            got = r[c] if r is not None else None
            if d[c] != got:
                problems.append(f"domain {d['domain']} [{d.get('mta_sts_kind')}/{d.get('tlsrpt_kind')}] {c}: "
                                f"expected {d[c]}, got {got}")
        rows_by_host = {r["mx_host"]: r for r in by_domain.get(d["domain"], []) if r["mx_host"] is not None}
        for m in d["mx"]:
            want_p, want_m = norm("b", m.get("mta_sts_pattern_match")), norm("b", m.get("mta_sts_mx_match"))
            got_p = patterns.get((d["domain"], m["mx_host"]))
            row = rows_by_host.get(m["mx_host"])
            got_m = row["mta_sts_mx_match"] if row is not None else None
            if want_p != (None if got_p is None else bool(got_p)) or want_m != (None if got_m is None else bool(got_m)):
                problems.append(f"domain {d['domain']} {m['mx_host']} [{d.get('mta_sts_kind')}] mta_sts match: "
                                f"expected {want_p}/{want_m}, got {got_p}/{got_m}")
result = {"truth_hosts": len(hosts), "truth_domains": len(domains), "truth_policy_domains": policy_checked,
          "truth_policy_fetches": sum(d.get("policy_fetches") or 0 for d in domains),
          "truth_differences": len(problems),
          "truth_first_differences": problems[:10]}
json.dump(result, open(out_path, "w"), indent=1)
print(f"  truth: {len(hosts)} hosts, {len(domains)} domains ({policy_checked} with policy facts), "
      f"{len(problems)} differences")
for p in problems[:10]:
    print(f"    {p}")
