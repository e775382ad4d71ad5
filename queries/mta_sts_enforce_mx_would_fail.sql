-- Question: Which domains enforce MTA-STS (RFC 8461, mode enforce) although a sender that
-- honours their policy would refuse to deliver to at least one of their MX addresses, in
-- scan :scan? Such a sender defers the mail instead of delivering it.
--
-- One row per (domain, MX host, IP) with results.mta_sts_mx_match = 0: the MX host matches
-- none of the policy's mx patterns, or this IP did not negotiate TLS with a trusted,
-- unexpired certificate whose names cover the MX host.
-- Columns: domain, mx_host, ip, reason, mx_patterns (the policy's mx values).
WITH params AS (SELECT :scan AS scan_id)
SELECT r.domain, r.mx_host, r.ip,
       CASE
           WHEN mm.pattern_match = 0 THEN 'mx not in policy'
           WHEN r.tls_version IS NULL THEN 'no TLS (' || COALESCE(r.probe_status, 'not probed') || ')'
           WHEN r.cert_trusted = 0 THEN 'certificate untrusted'
           WHEN r.cert_expired = 1 THEN 'certificate expired'
           ELSE 'certificate name mismatch'
       END AS reason,
       dp.mta_sts_mx_patterns AS mx_patterns
FROM results r
JOIN domains d ON d.scan_id = r.scan_id AND d.name = r.domain
JOIN domain_policies dp ON dp.domain_id = d.id
JOIN mta_sts_mx mm ON mm.domain_id = d.id AND mm.host = r.mx_host
WHERE r.scan_id = (SELECT scan_id FROM params)
  AND dp.mta_sts_status = 'valid' AND dp.mta_sts_mode = 'enforce'
  AND r.mta_sts_mx_match = 0
ORDER BY r.domain, r.mx_host, r.ip;
