-- Question: Which MX hosts publish DNSSEC-secure TLSA records (RFC 7672 DANE) that the
-- certificate chain they presented in scan :scan does not match? A sender that
-- validates DANE does not deliver to them.
--
-- One row per (MX host, IP) with dane_status = 'mismatch'. failed_records lists the TLSA
-- records that did not match (positions in tlsa_records, in the order of the DNS reply);
-- detail says why for each record, e.g. a DANE-EE digest that is not the leaf's, or a
-- DANE-TA anchor whose chain does not verify or does not carry the MX host name.
-- Columns: mx_host, ip, tls_version, failed_records, detail, domains (that use the host).
WITH params AS (SELECT :scan AS scan_id)
SELECT r.mx_host, r.ip, r.tls_version,
       dc.failed_records,
       dc.detail,
       count(DISTINCT r.domain) AS domains
FROM results r
JOIN probes p ON p.scan_id = r.scan_id AND p.ip = r.ip
JOIN dane_checks dc ON dc.probe_id = p.id AND dc.host = r.mx_host
WHERE r.scan_id = (SELECT scan_id FROM params)
  AND r.dane_status = 'mismatch'
GROUP BY r.mx_host, r.ip
ORDER BY domains DESC, r.mx_host, r.ip;
