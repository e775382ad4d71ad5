-- Question: Per input tag, how many domains take mail, and for how many do all MX hosts
-- offer STARTTLS in scan :scan?
--
-- domain_all_mx rule of the report: over the MX hosts (and their IPs) that could be tested;
-- domains where none could be tested are counted in `untestable` and not in the share.
-- Columns: tag, domains, with_mail, all_mx_starttls, testable, untestable, share (percent).
WITH params AS (SELECT :scan AS scan_id),
r AS (SELECT * FROM results WHERE scan_id = (SELECT scan_id FROM params)),
host_unit AS (
    SELECT mx_host, CASE WHEN count(starttls_offered) = 0 THEN NULL ELSE min(starttls_offered) END AS v
    FROM (SELECT DISTINCT mx_host, ip, starttls_offered FROM r WHERE mx_host IS NOT NULL)
    GROUP BY mx_host
),
domain_unit AS (
    SELECT d.domain, d.tag, d.dns_status IN ('ok', 'implicit_mx') AS mail,
           CASE WHEN count(h.v) = 0 THEN NULL ELSE min(h.v) END AS v
    FROM (SELECT DISTINCT domain, tag, dns_status, mx_host FROM r) d
    LEFT JOIN host_unit h ON h.mx_host = d.mx_host
    GROUP BY d.domain
)
SELECT coalesce(tag, '(none)') AS tag,
       count(*) AS domains,
       sum(mail) AS with_mail,
       sum(CASE WHEN mail AND v = 1 THEN 1 ELSE 0 END) AS all_mx_starttls,
       sum(CASE WHEN mail AND v IS NOT NULL THEN 1 ELSE 0 END) AS testable,
       sum(CASE WHEN mail AND v IS NULL THEN 1 ELSE 0 END) AS untestable,
       (2000 * sum(CASE WHEN mail AND v = 1 THEN 1 ELSE 0 END)
        + sum(CASE WHEN mail AND v IS NOT NULL THEN 1 ELSE 0 END))
       / nullif(2 * sum(CASE WHEN mail AND v IS NOT NULL THEN 1 ELSE 0 END), 0) / 10.0 AS share
FROM domain_unit
GROUP BY tag
ORDER BY tag IS NULL, tag;
