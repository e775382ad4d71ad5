internal import GRDB

extension Schema {
    /// Migration v7: the policy stage's facts per domain — MTA-STS (RFC 8461) and TLS-RPT
    /// (RFC 8460) — in `domain_policies`, the MX pattern match of each MX host in
    /// `mta_sts_mx`, the per-domain view `domain_policy`, and `results.mta_sts_mx_match`
    /// (docs/schema.md). Domains stored before v7 have no policy rows: NULL in the view.
    static func registerMTASTS(_ m: inout DatabaseMigrator) {
        m.registerMigration("v7: MTA-STS and TLS-RPT") { db in
            try db.execute(
                sql: """
                    CREATE TABLE domain_policies (
                        domain_id INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
                        mta_sts_status TEXT NOT NULL,
                        mta_sts_id TEXT,
                        mta_sts_mode TEXT,
                        mta_sts_max_age INTEGER,
                        mta_sts_mx_patterns TEXT,
                        mta_sts_error TEXT,
                        mta_sts_detail TEXT,
                        mta_sts_txt_dnssec TEXT,
                        tlsrpt_status TEXT NOT NULL,
                        tlsrpt_rua TEXT,
                        tlsrpt_error TEXT,
                        checked_at TEXT NOT NULL
                    );
                    CREATE TABLE mta_sts_mx (
                        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
                        host TEXT NOT NULL,
                        pattern_match INTEGER NOT NULL,
                        PRIMARY KEY (domain_id, host)
                    ) WITHOUT ROWID;
                    DROP VIEW results;
                    """)
            try db.execute(sql: resultsViewMTASTS)
            try db.execute(sql: domainPolicyView)
        }
    }

    // MARK: - View definitions of v7 (results and domain_policy)

    /// `results` as of v7: `Schema.resultsView` (v6) with `mta_sts_mx_match` added at the
    /// end: 1 when the MX host matches a pattern of the domain's valid MTA-STS policy and
    /// this address negotiated TLS with a trusted, unexpired certificate whose names cover
    /// the MX host (what an enforcing sender requires, RFC 8461 §4.2); 0 when the pattern
    /// does not match or the certificate would be refused; NULL without a valid policy and
    /// for addresses not probed (excluded) whose host matches.
    static let resultsViewMTASTS = """
        CREATE VIEW results AS
        SELECT d.scan_id AS scan_id,
               d.name AS domain,
               d.tag AS tag,
               d.dns_status AS dns_status,
               m.host AS mx_host,
               m.preference AS mx_preference,
               m.implicit AS implicit_mx,
               a.ip AS ip,
               a.excluded AS excluded,
               CASE WHEN a.excluded = 1 THEN 'excluded' ELSE p.status END AS probe_status,
               p.banner_code AS banner_code,
               p.starttls_offered AS starttls_offered,
               p.starttls_reply_code AS starttls_reply_code,
               p.tls_version AS tls_version,
               p.tls_cipher AS tls_cipher,
               p.tls_group AS tls_group,
               p.cert_sha256 AS cert_sha256,
               p.cert_trusted AS cert_trusted,
               p.cert_verify_error AS cert_verify_error,
               pn.hostname_match AS cert_hostname_match,
               p.cert_not_after AS cert_not_after,
               p.cert_expired AS cert_expired,
               p.cert_self_signed AS cert_self_signed,
               p.plaintext_refused AS plaintext_refused,
               p.plaintext_reply_code AS plaintext_reply_code,
               COALESCE(p.error_detail, a.exclude_reason, h.dns_detail) AS error_detail,
               p.probed_at AS probed_at,
               h.dns_status AS mx_dns_status,
               h.cname_target AS mx_cname_target,
               d.rank AS rank,
               p.greylisted AS greylisted,
               d.mx_dnssec AS mx_dnssec,
               h.dnssec AS host_dnssec,
               COALESCE(h.dane_status, dc.status) AS dane_status,
               CASE
                   WHEN dp.mta_sts_status IS NOT 'valid' OR mm.pattern_match IS NULL THEN NULL
                   WHEN mm.pattern_match = 0 THEN 0
                   WHEN p.id IS NULL THEN NULL
                   WHEN p.tls_version IS NOT NULL AND p.cert_trusted = 1 AND p.cert_expired = 0
                        AND pn.hostname_match = 1 THEN 1
                   ELSE 0
               END AS mta_sts_mx_match
        FROM domains d
        LEFT JOIN mx m ON m.domain_id = d.id
        LEFT JOIN hosts h ON h.scan_id = d.scan_id AND h.name = m.host
        LEFT JOIN addresses a ON a.host_id = h.id
        LEFT JOIN probes p ON p.scan_id = d.scan_id AND p.ip = a.ip AND a.excluded = 0
        LEFT JOIN probe_names pn ON pn.probe_id = p.id AND pn.name = m.host
        LEFT JOIN dane_checks dc ON dc.probe_id = p.id AND dc.host = m.host
        LEFT JOIN domain_policies dp ON dp.domain_id = d.id
        LEFT JOIN mta_sts_mx mm ON mm.domain_id = d.id AND mm.host = m.host
        """

    /// ---- domain_policy view (v7) ----
    /// One row per (scan, domain). The MTA-STS and TLS-RPT columns are NULL for domains the
    /// policy stage did not check (no mail: NXDOMAIN, null MX, …; `--no-probe`; stores
    /// before v7). `dane_protected`: 1 when every MX address row of the domain has
    /// `dane_status` `match`, 0 otherwise, NULL without MX hosts. `bsi_tr03108_compliant`
    /// is NULL here (the TR-03108 checklist fills it).
    static let domainPolicyView = """
        CREATE VIEW domain_policy AS
        SELECT d.scan_id AS scan_id,
               d.name AS domain,
               d.tag AS tag,
               d.mx_dnssec AS mx_dnssec,
               dp.mta_sts_status AS mta_sts_status,
               dp.mta_sts_mode AS mta_sts_mode,
               dp.mta_sts_id AS mta_sts_id,
               dp.mta_sts_error AS mta_sts_error,
               dp.tlsrpt_status AS tlsrpt_status,
               dp.tlsrpt_rua AS tlsrpt_rua,
               (SELECT CASE
                           WHEN COUNT(*) = 0 THEN NULL
                           WHEN SUM(CASE WHEN COALESCE(h.dane_status, dc.status) = 'match'
                                         THEN 0 ELSE 1 END) = 0 THEN 1
                           ELSE 0
                       END
                FROM mx m
                LEFT JOIN hosts h ON h.scan_id = d.scan_id AND h.name = m.host
                LEFT JOIN addresses a ON a.host_id = h.id
                LEFT JOIN probes p ON p.scan_id = d.scan_id AND p.ip = a.ip AND a.excluded = 0
                LEFT JOIN dane_checks dc ON dc.probe_id = p.id AND dc.host = m.host
                WHERE m.domain_id = d.id AND m.host <> '') AS dane_protected,
               NULL AS bsi_tr03108_compliant
        FROM domains d
        LEFT JOIN domain_policies dp ON dp.domain_id = d.id
        """
    /// ---- end of domain_policy view ----
}
