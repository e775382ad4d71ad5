-- Question: Which domains changed between scan :scan and the scan before it, in whether all
-- their MX hosts offer STARTTLS and whether all of them meet the DSK rule (STARTTLS with
-- TLS 1.2 or newer)?
--
-- Verdicts follow the report's domain_all_mx rule: yes/no over the MX hosts (and IPs) that
-- could be tested; 'untestable' when none could; 'no mail' for null MX, NXDOMAIN, NODATA
-- and DNS failures. Only domains present in both scans; only rows where a verdict changed.
-- Figures for whole scans: `mxsurvey report --compare ID` (trend section).
-- Columns: domain, tag, starttls_before, starttls_now, dsk_before, dsk_now.
WITH latest AS (SELECT :scan AS id),
previous AS (SELECT id FROM scans WHERE id < (SELECT id FROM latest) ORDER BY id DESC LIMIT 1),
r AS (
    SELECT scan_id, domain, tag, dns_status, mx_host, ip,
           starttls_offered AS starttls,
           CASE
             WHEN tls_version IN ('TLSv1.2', 'TLSv1.3') THEN 1
             WHEN starttls_offered = 0 THEN 0
             WHEN tls_version IS NOT NULL THEN 0
             WHEN starttls_offered = 1 AND probe_status IN ('starttls_rejected', 'tls_failed', 'ok') THEN 0
             ELSE NULL
           END AS dsk
    FROM results
    WHERE scan_id IN ((SELECT id FROM latest), (SELECT id FROM previous))
),
host_unit AS (
    SELECT scan_id, mx_host,
           CASE WHEN count(starttls) = 0 THEN NULL ELSE min(starttls) END AS starttls,
           CASE WHEN count(dsk) = 0 THEN NULL ELSE min(dsk) END AS dsk
    FROM (SELECT DISTINCT scan_id, mx_host, ip, starttls, dsk FROM r WHERE mx_host IS NOT NULL)
    GROUP BY scan_id, mx_host
),
domain_unit AS (
    SELECT d.scan_id, d.domain, d.tag,
           CASE WHEN d.dns_status NOT IN ('ok', 'implicit_mx') THEN 'no mail'
                WHEN count(h.starttls) = 0 THEN 'untestable'
                WHEN min(h.starttls) = 1 THEN 'yes' ELSE 'no' END AS starttls,
           CASE WHEN d.dns_status NOT IN ('ok', 'implicit_mx') THEN 'no mail'
                WHEN count(h.dsk) = 0 THEN 'untestable'
                WHEN min(h.dsk) = 1 THEN 'yes' ELSE 'no' END AS dsk
    FROM (SELECT DISTINCT scan_id, domain, tag, dns_status, mx_host FROM r) d
    LEFT JOIN host_unit h ON h.scan_id = d.scan_id AND h.mx_host = d.mx_host
    GROUP BY d.scan_id, d.domain
)
SELECT n.domain,
       n.tag,
       b.starttls AS starttls_before,
       n.starttls AS starttls_now,
       b.dsk AS dsk_before,
       n.dsk AS dsk_now
FROM domain_unit n
JOIN domain_unit b ON b.domain = n.domain AND b.scan_id = (SELECT id FROM previous)
WHERE n.scan_id = (SELECT id FROM latest)
  AND (b.starttls <> n.starttls OR b.dsk <> n.dsk)
ORDER BY n.domain;
