-- Question: What share of IPs, MX hosts and domains offered STARTTLS in scan :scan?
--
-- The same rules as the report's `starttls_offered` figure (docs/reports.md):
--   * only domains that take mail (dns_status ok or implicit_mx) and their MX hosts/IPs;
--   * a unit is testable when its probe recorded whether EHLO advertised STARTTLS
--     (starttls_offered is 0 or 1); excluded, rate-limited, timed-out, … units are left out;
--   * mx_host: all testable IPs of the host offered it; domain_all_mx: all testable MX hosts;
--     domain_any_mx: at least one; domain_primary_mx: all testable hosts of lowest preference.
-- Columns: unit, numerator, denominator, left_out (units not testable), share (percent).
WITH params AS (SELECT :scan AS scan_id),
r AS (
    SELECT * FROM results
    WHERE scan_id = (SELECT scan_id FROM params) AND dns_status IN ('ok', 'implicit_mx')
),
-- One verdict per (MX host, IP): 1 offered, 0 not offered, NULL not testable.
pair AS (SELECT DISTINCT mx_host, ip, starttls_offered AS v FROM r WHERE mx_host IS NOT NULL),
ip_unit AS (
    SELECT ip, CASE WHEN count(v) = 0 THEN NULL ELSE min(v) END AS v
    FROM pair WHERE ip IS NOT NULL GROUP BY ip
),
host_unit AS (
    SELECT mx_host, CASE WHEN count(v) = 0 THEN NULL ELSE min(v) END AS v
    FROM pair GROUP BY mx_host
),
dmx AS (SELECT DISTINCT domain, mx_host, mx_preference FROM r),
-- Lowest MX preference per domain (a join, not a correlated subquery: linear at 10^6 domains).
dmin AS (SELECT domain, min(mx_preference) AS p FROM dmx GROUP BY domain),
primary_unit AS (
    SELECT d.domain, CASE WHEN count(h.v) = 0 THEN NULL ELSE min(h.v) END AS primary_v
    FROM dmx d JOIN dmin m ON m.domain = d.domain AND d.mx_preference = m.p
    LEFT JOIN host_unit h ON h.mx_host = d.mx_host
    GROUP BY d.domain
),
domain_unit AS (
    SELECT a.domain, a.all_v, a.any_v, p.primary_v
    FROM (
        SELECT d.domain,
               CASE WHEN count(h.v) = 0 THEN NULL ELSE min(h.v) END AS all_v,
               CASE WHEN count(h.v) = 0 THEN NULL ELSE max(h.v) END AS any_v
        FROM dmx d LEFT JOIN host_unit h ON h.mx_host = d.mx_host
        GROUP BY d.domain
    ) a
    LEFT JOIN primary_unit p ON p.domain = a.domain
),
units AS (
    SELECT 1 AS ord, 'ip' AS unit, v FROM ip_unit
    UNION ALL SELECT 2, 'mx_host', v FROM host_unit
    UNION ALL SELECT 3, 'domain_all_mx', all_v FROM domain_unit
    UNION ALL SELECT 4, 'domain_any_mx', any_v FROM domain_unit
    UNION ALL SELECT 5, 'domain_primary_mx', primary_v FROM domain_unit
)
SELECT unit,
       sum(v = 1) AS numerator,
       count(v) AS denominator,
       count(*) - count(v) AS left_out,
       (2000 * sum(v = 1) + count(v)) / nullif(2 * count(v), 0) / 10.0 AS share
FROM units
GROUP BY ord, unit
ORDER BY ord;
