-- Question: Which domains can receive mail without TLS in scan :scan, i.e. have an
-- MX host that does not offer STARTTLS, or one that accepted RCPT TO in plaintext
-- (plaintext_refused = 0)?
--
-- RFC 3207 forbids a public MX to insist on TLS, so accepting plaintext is the norm; the
-- column to look at first is mx_without_starttls (mail to those hosts can only travel in
-- plaintext). Counts are distinct MX host names. Domains that take no mail are skipped.
-- Columns: domain, tag, mx_hosts, mx_without_starttls, mx_accepting_plaintext.
WITH params AS (SELECT :scan AS scan_id),
r AS (
    SELECT * FROM results
    WHERE scan_id = (SELECT scan_id FROM params) AND dns_status IN ('ok', 'implicit_mx')
)
SELECT domain,
       tag,
       count(DISTINCT mx_host) AS mx_hosts,
       count(DISTINCT CASE WHEN starttls_offered = 0 THEN mx_host END) AS mx_without_starttls,
       count(DISTINCT CASE WHEN plaintext_refused = 0 THEN mx_host END) AS mx_accepting_plaintext
FROM r
GROUP BY domain, tag
HAVING mx_without_starttls > 0 OR mx_accepting_plaintext > 0
ORDER BY mx_without_starttls DESC, domain;
