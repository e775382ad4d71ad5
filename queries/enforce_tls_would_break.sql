-- Question: What would enforcing TLS break? The peers that sent mail to us (direction `in`)
-- or received mail from us (`out`) over plaintext connections in the passive data
-- (`mxsurvey logs`), joined with scan :scan of the same store (mxsurvey's default: the latest
-- finished scan, as the report joins it).
--
-- A peer is one (direction, peer_host, peer_ip) of `passive_connections` with tls = 0.
-- The join uses scan :scan: when the peer's host name is an MX
-- host of that scan (`results.mx_host`, e.g. the MX the own server delivered to) its facts
-- are that host's; otherwise the peer's registrable domain (`peer_domain`) is matched with
-- a scanned domain (`results.domain`) and its facts are those of the domain's MX hosts.
-- `mx_starttls` is 1 when every IP that answered the STARTTLS question offered it, 0 when
-- one did not, NULL when none answered; `mx_tls12` is 1 when every IP that offered STARTTLS
-- negotiated TLS 1.2 or 1.3, 0 when one did not (older version or failed handshake).
-- `match` says why the join found nothing: `no_scan` (:scan is NULL: no scan to join),
-- `no_domain` (no host name, so no registrable domain), `not_in_scan` (neither host nor
-- domain was in the scan), `not_tested` (in the scan, but no MX IP answered); `matched` else.
-- Columns: direction, peer_host, peer_ip, peer_domain, connections, messages, first_seen,
-- last_seen, scan_id and scan_started_at (the scan joined, as the report's "Joined scan"),
-- match, mx_starttls, mx_tls12.
WITH params AS (SELECT :scan AS scan_id, (SELECT started_at FROM scans WHERE id = :scan) AS started_at),
peers AS (
    SELECT direction, peer_host, peer_ip, max(peer_domain) AS peer_domain,
           count(*) AS connections, sum(messages) AS messages,
           min(started_at) AS first_seen, max(started_at) AS last_seen
    FROM passive_connections
    WHERE tls = 0
    GROUP BY direction, peer_host, peer_ip
),
scanned AS (
    SELECT r.domain,
           min(r.starttls_offered) AS mx_starttls,
           min(CASE WHEN r.starttls_offered = 1
                    THEN r.tls_version IN ('TLSv1.2', 'TLSv1.3') END) AS mx_tls12,
           count(r.starttls_offered) AS answered
    FROM results r
    WHERE r.scan_id = (SELECT scan_id FROM params)
    GROUP BY r.domain
),
scanned_host AS (
    SELECT r.mx_host,
           min(r.starttls_offered) AS mx_starttls,
           min(CASE WHEN r.starttls_offered = 1
                    THEN r.tls_version IN ('TLSv1.2', 'TLSv1.3') END) AS mx_tls12,
           count(r.starttls_offered) AS answered
    FROM results r
    WHERE r.scan_id = (SELECT scan_id FROM params) AND r.mx_host IS NOT NULL
    GROUP BY r.mx_host
)
SELECT p.direction, p.peer_host, p.peer_ip, p.peer_domain, p.connections, p.messages,
       p.first_seen, p.last_seen,
       (SELECT scan_id FROM params) AS scan_id,
       (SELECT started_at FROM params) AS scan_started_at,
       CASE WHEN (SELECT scan_id FROM params) IS NULL THEN 'no_scan'
            WHEN h.mx_host IS NOT NULL THEN CASE WHEN h.answered > 0 THEN 'matched' ELSE 'not_tested' END
            WHEN p.peer_domain IS NULL THEN 'no_domain'
            WHEN s.domain IS NULL THEN 'not_in_scan'
            WHEN s.answered = 0 THEN 'not_tested'
            ELSE 'matched' END AS match,
       CASE WHEN h.mx_host IS NOT NULL THEN h.mx_starttls ELSE s.mx_starttls END AS mx_starttls,
       CASE WHEN h.mx_host IS NOT NULL THEN h.mx_tls12 ELSE s.mx_tls12 END AS mx_tls12
FROM peers p
LEFT JOIN scanned_host h ON h.mx_host = p.peer_host
LEFT JOIN scanned s ON s.domain = p.peer_domain
ORDER BY p.direction, p.messages DESC, p.connections DESC, p.peer_host, p.peer_ip;
