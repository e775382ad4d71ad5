-- Question: Which MX hosts presented a certificate a sender cannot validate in scan
-- :scan (untrusted chain, expired, self-signed, or not matching the MX host name)?
--
-- One row per (MX host, IP) that negotiated TLS; cert_verify_error is OpenSSL's reason.
-- Name matching follows RFC 6125/7817 (for an implicit MX: the domain).
-- Columns: mx_host, ip, trusted, expired, self_signed, name_match, cert_verify_error,
-- domains (that use the host).
WITH params AS (SELECT :scan AS scan_id)
SELECT mx_host, ip,
       cert_trusted AS trusted,
       cert_expired AS expired,
       cert_self_signed AS self_signed,
       cert_hostname_match AS name_match,
       cert_verify_error,
       count(DISTINCT domain) AS domains
FROM results
WHERE scan_id = (SELECT scan_id FROM params)
  AND dns_status IN ('ok', 'implicit_mx')
  AND tls_version IS NOT NULL AND cert_sha256 IS NOT NULL
  AND (cert_trusted = 0 OR cert_expired = 1 OR cert_self_signed = 1 OR cert_hostname_match = 0)
GROUP BY mx_host, ip
ORDER BY domains DESC, mx_host, ip;
