internal import GRDB

extension Schema {
    /// Migration v8: the policy stage's facts per domain — MTA-STS (RFC 8461) and TLS-RPT
    /// (RFC 8460) — in `domain_policies`, the MX pattern match of each MX host in
    /// `mta_sts_mx`, `results.mta_sts_mx_match`, the MTA-STS and TLS-RPT columns of
    /// `domain_policy` and of the TR-03108 views (docs/schema.md). Domains stored before v8
    /// have no policy rows: NULL in the views.
    static func registerMTASTS(_ m: inout DatabaseMigrator) {
        m.registerMigration("v8: MTA-STS and TLS-RPT") { db in
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
                    DROP VIEW domain_policy;
                    DROP VIEW bsi_tr03108_domains;
                    DROP VIEW bsi_tr03108_hosts;
                    DROP VIEW results;
                    """)
            try db.execute(sql: resultsViewV8)
            try db.execute(sql: bsiViewsV8)
        }
    }

    /// `results` as of v8: `Schema.resultsViewV7` (every column, same order) with
    /// `mta_sts_mx_match` added at the end: 1 when the MX host matches a pattern of the
    /// domain's valid MTA-STS policy and this address negotiated TLS with a trusted, unexpired
    /// certificate whose names cover the MX host (what an enforcing sender requires, RFC 8461
    /// §4.2); 0 when the pattern does not match or the certificate would be refused; NULL
    /// without a valid policy and for addresses not probed (excluded) whose host matches.
    static let resultsViewV8: String = {
        let lastColumn = "END AS cert_chain_length"
        let column = """
            CASE
                       WHEN dp.mta_sts_status IS NOT 'valid' OR mm.pattern_match IS NULL THEN NULL
                       WHEN mm.pattern_match = 0 THEN 0
                       WHEN p.id IS NULL THEN NULL
                       WHEN p.tls_version IS NOT NULL AND p.cert_trusted = 1 AND p.cert_expired = 0
                            AND pn.hostname_match = 1 THEN 1
                       ELSE 0
                   END AS mta_sts_mx_match
            """
        precondition(resultsViewV7.components(separatedBy: lastColumn).count == 2)
        return
            resultsViewV7
            .replacingOccurrences(of: lastColumn, with: lastColumn + ",\n       " + column)
                + """

                LEFT JOIN domain_policies dp ON dp.domain_id = d.id
                LEFT JOIN mta_sts_mx mm ON mm.domain_id = d.id AND mm.host = m.host
                """
    }()
}
