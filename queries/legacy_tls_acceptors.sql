-- Question: Which mail servers still accept TLS 1.0 or TLS 1.1 in scan :scan? RFC 8996
-- deprecates both; BSI TR-03116-4 forbids them. The negotiated version says nothing about
-- this: a server that negotiates TLS 1.3 with a modern client may still accept TLS 1.0 from
-- an old one. The version scan (on by default) tries each older version in its own session.
--
-- One row per (MX host, IP) with tls10_accepted = 1 or tls11_accepted = 1 (1 accepted,
-- 0 refused, NULL not tested). Rows whose versions were not tested do not appear: scans
-- with --no-version-scan list only servers whose negotiated version is itself 1.0/1.1.
-- Columns: mx_host, ip, tls_version (negotiated), tls10_accepted, tls11_accepted,
-- domains (that use the host).
WITH params AS (SELECT :scan AS scan_id)
SELECT r.mx_host, r.ip, r.tls_version,
       r.tls10_accepted,
       r.tls11_accepted,
       count(DISTINCT r.domain) AS domains
FROM results r
WHERE r.scan_id = (SELECT scan_id FROM params)
  AND (r.tls10_accepted = 1 OR r.tls11_accepted = 1)
GROUP BY r.mx_host, r.ip
ORDER BY domains DESC, r.mx_host, r.ip;
