-- Question: Which MX hosts presented a certificate that expires within 30 days of the start
-- of scan :scan, or had already expired?
--
-- One row per (MX host, IP) that negotiated TLS; days_left is counted from the scan start
-- (negative: expired that many days before the scan). Ordered by expiry.
-- Columns: mx_host, ip, cert_not_after, days_left, subject, domains (that use the host).
WITH params AS (SELECT id AS scan_id, started_at FROM scans WHERE id = :scan),
r AS (
    SELECT * FROM results
    WHERE scan_id = (SELECT scan_id FROM params) AND dns_status IN ('ok', 'implicit_mx')
      AND tls_version IS NOT NULL AND cert_not_after IS NOT NULL
)
SELECT r.mx_host,
       r.ip,
       r.cert_not_after,
       CAST(julianday(r.cert_not_after) - julianday((SELECT started_at FROM params)) AS INTEGER) AS days_left,
       c.subject,
       count(DISTINCT r.domain) AS domains
FROM r
LEFT JOIN certificates c ON c.sha256 = r.cert_sha256
WHERE julianday(r.cert_not_after) <= julianday((SELECT started_at FROM params)) + 30
GROUP BY r.mx_host, r.ip
ORDER BY r.cert_not_after, r.mx_host, r.ip;
