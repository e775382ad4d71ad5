-- Question: Which mail providers serve the most domains in scan :scan?
--
-- Provider = registrable part of the MX host name, approximated as in the report: the last
-- two labels, or the last three when the name ends in a two-letter country code preceded by
-- one of ac, co, com, edu, go, gob, gov, gv, ltd, ne, net, or, org, plc, sch (co.uk,
-- com.au, or.at, …). A domain counts once per provider among its MX hosts, so shares can add
-- up to more than 100%. Share = percent of the domains that take mail.
-- Columns: provider, domains, share, mx_hosts, mx_hosts_with_starttls (all IPs that could be
-- tested offered STARTTLS), mx_hosts_testable.
WITH RECURSIVE params AS (SELECT :scan AS scan_id),
mail AS (
    SELECT count(*) AS n FROM domains
    WHERE scan_id = (SELECT scan_id FROM params) AND dns_status IN ('ok', 'implicit_mx')
),
r AS (
    SELECT * FROM results
    WHERE scan_id = (SELECT scan_id FROM params) AND dns_status IN ('ok', 'implicit_mx') AND mx_host IS NOT NULL
),
hosts AS (
    SELECT mx_host,
           CASE WHEN count(starttls_offered) = 0 THEN NULL ELSE min(starttls_offered) END AS starttls
    FROM (SELECT DISTINCT mx_host, ip, starttls_offered FROM r)
    GROUP BY mx_host
),
-- Every dot-suffix of each host name down to two labels.
suffix(mx_host, rest) AS (
    SELECT mx_host, rtrim(lower(mx_host), '.') FROM hosts
    UNION ALL
    SELECT mx_host, substr(rest, instr(rest, '.') + 1) FROM suffix
    WHERE length(rest) - length(replace(rest, '.', '')) > 1
),
labels AS (
    SELECT mx_host,
           max(CASE WHEN length(rest) - length(replace(rest, '.', '')) = 1 THEN rest END) AS two,
           max(CASE WHEN length(rest) - length(replace(rest, '.', '')) = 2 THEN rest END) AS three,
           max(CASE WHEN length(rest) - length(replace(rest, '.', '')) = 0 THEN rest END) AS one
    FROM suffix GROUP BY mx_host
),
provider_of AS (
    SELECT mx_host,
           CASE
             WHEN two IS NULL THEN one
             WHEN three IS NOT NULL
                  AND length(substr(two, instr(two, '.') + 1)) = 2
                  AND substr(two, 1, instr(two, '.') - 1) IN
                      ('ac', 'co', 'com', 'edu', 'go', 'gob', 'gov', 'gv', 'ltd', 'ne', 'net', 'or', 'org',
                       'plc', 'sch')
               THEN three
             ELSE two
           END AS provider
    FROM labels
)
SELECT p.provider,
       count(DISTINCT r.domain) AS domains,
       (2000 * count(DISTINCT r.domain) + (SELECT n FROM mail))
       / nullif(2 * (SELECT n FROM mail), 0) / 10.0 AS share,
       (SELECT count(*) FROM provider_of p2 WHERE p2.provider = p.provider) AS mx_hosts,
       (SELECT count(*) FROM provider_of p2 JOIN hosts h ON h.mx_host = p2.mx_host
         WHERE p2.provider = p.provider AND h.starttls = 1) AS mx_hosts_with_starttls,
       (SELECT count(*) FROM provider_of p2 JOIN hosts h ON h.mx_host = p2.mx_host
         WHERE p2.provider = p.provider AND h.starttls IS NOT NULL) AS mx_hosts_testable
FROM r JOIN provider_of p ON p.mx_host = r.mx_host
GROUP BY p.provider
ORDER BY domains DESC, p.provider
LIMIT 50;
