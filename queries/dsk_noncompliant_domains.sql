-- Question: Which domains (that take mail) have an MX host a sender enforcing TLS 1.2+
-- cannot deliver to, in scan :scan (DSK Orientierungshilfe 2021 §5.1, mandatory
-- transport encryption)?
--
-- A host fails when an IP of it that could be tested does not offer STARTTLS, refuses it,
-- fails the handshake, or negotiates TLS older than 1.2 (the report's dsk_compliant rule).
-- Columns: domain, tag, failing_mx_hosts (with the reason per host and IP).
WITH params AS (SELECT :scan AS scan_id),
r AS (
    SELECT * FROM results
    WHERE scan_id = (SELECT scan_id FROM params) AND dns_status IN ('ok', 'implicit_mx') AND ip IS NOT NULL
),
failing AS (
    SELECT DISTINCT domain, tag, mx_host, ip,
           CASE
             WHEN starttls_offered = 0 THEN 'no STARTTLS'
             WHEN tls_version IS NOT NULL THEN tls_version
             ELSE probe_status
           END AS why
    FROM r
    WHERE starttls_offered = 0
       OR (tls_version IS NOT NULL AND tls_version NOT IN ('TLSv1.2', 'TLSv1.3'))
       OR (starttls_offered = 1 AND tls_version IS NULL AND probe_status IN ('starttls_rejected', 'tls_failed', 'ok'))
)
SELECT domain, tag, group_concat(mx_host || ' ' || ip || ' (' || why || ')', '; ') AS failing_mx_hosts
FROM failing
GROUP BY domain, tag
ORDER BY domain;
