-- Question: Which MX hosts negotiated TLS 1.0 or 1.1 (or an older SSL version) in scan
-- :scan?
--
-- RFC 8996 deprecates TLS 1.0 and 1.1; BSI TR-03116-4 forbids them. The probe offers the
-- legacy versions too, so a host listed here chose one of them: it supports nothing newer.
-- Columns: mx_host, ip, tls_version, tls_cipher, domains (that use the host), banner.
WITH params AS (SELECT :scan AS scan_id)
SELECT r.mx_host,
       r.ip,
       r.tls_version,
       r.tls_cipher,
       count(DISTINCT r.domain) AS domains,
       p.banner
FROM results r
LEFT JOIN probes p ON p.scan_id = r.scan_id AND p.ip = r.ip
WHERE r.scan_id = (SELECT scan_id FROM params)
  AND r.dns_status IN ('ok', 'implicit_mx')
  AND r.tls_version IN ('TLSv1', 'TLSv1.0', 'TLSv1.1', 'SSLv3', 'SSLv2')
GROUP BY r.mx_host, r.ip
ORDER BY domains DESC, r.mx_host, r.ip;
