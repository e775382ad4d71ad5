-- Question: How did the probes of scan :scan end: how many distinct IPs per outcome?
--
-- results.probe_status: ok, starttls_not_offered, starttls_rejected, tls_failed,
-- connect_refused, connect_timeout, connect_error, banner_timeout, banner_rejected (421 is
-- counted apart as a rate limit), ehlo_failed, timeout, protocol_violation,
-- connection_closed, excluded; NULL (shown as not_probed) when a resolved address has no
-- probe row (interrupted scan). Only IPs of domains that take mail, each counted once.
-- Columns: probe_status, ips, share (percent of all IPs).
WITH params AS (SELECT :scan AS scan_id),
ips AS (
    SELECT DISTINCT ip,
           CASE WHEN probe_status IS NULL THEN 'not_probed'
                WHEN probe_status = 'banner_rejected' AND banner_code = 421 THEN 'banner_rejected (421)'
                ELSE probe_status END AS status
    FROM results
    WHERE scan_id = (SELECT scan_id FROM params) AND dns_status IN ('ok', 'implicit_mx') AND ip IS NOT NULL
)
SELECT status AS probe_status,
       count(*) AS ips,
       (2000 * count(*) + (SELECT count(*) FROM ips)) / (2 * (SELECT count(*) FROM ips)) / 10.0 AS share
FROM ips
GROUP BY status
ORDER BY ips DESC, status;
