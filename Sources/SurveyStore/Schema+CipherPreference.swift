internal import GRDB

extension Schema {
    /// Migration v9: the cipher-preference check of every address that accepts TLS 1.2
    /// (`cipher_preference_checks`), `results.server_cipher_preference`, the TR-03108 views
    /// judging EC leaf keys by their named curve, and `hosts.tlsa_expanded_name` (the
    /// CNAME-expanded name a host's TLSA records came from) (docs/schema.md). Scans stored
    /// before v9 have no check rows: NULL in the new columns.
    static func registerCipherPreference(_ m: inout DatabaseMigrator) {
        m.registerMigration("v9: cipher preference, EC curves, TLSA base name") { db in
            try db.execute(
                sql: """
                    CREATE TABLE cipher_preference_checks (
                        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
                        ip TEXT NOT NULL,
                        port INTEGER NOT NULL,
                        verdict TEXT NOT NULL,
                        first_cipher TEXT,
                        second_cipher TEXT,
                        third_cipher TEXT,
                        sessions INTEGER NOT NULL,
                        detail TEXT,
                        PRIMARY KEY (scan_id, ip, port)
                    ) WITHOUT ROWID;
                    ALTER TABLE hosts ADD COLUMN tlsa_expanded_name TEXT;
                    DROP VIEW domain_policy;
                    DROP VIEW bsi_tr03108_domains;
                    DROP VIEW bsi_tr03108_hosts;
                    DROP VIEW results;
                    """)
            try db.execute(sql: resultsViewV9)
            try db.execute(sql: bsiViewsV9)
        }
    }

    /// The TR-03108 views as of v9: v8's (`bsiViewsV8`) with `approved_key` of an EC key decided
    /// by its named curve (`bsiApprovedCurves`; NULL when the curve was not stored).
    static let bsiViewsV9 = bsiViewsText(policy: true, namedCurves: true)

    /// `results` as of v9: `Schema.resultsViewV8` (every column, same order) with
    /// `server_cipher_preference` added at the end: 1 when the server chose the TLS 1.2 suite
    /// by its own order, 0 when it took the client's order, NULL when the check was
    /// undetermined, not run (`--no-version-scan`, TLS 1.2 not accepted, a scan before v9) or
    /// the address was not probed.
    static let resultsViewV9: String = {
        let lastColumn = "END AS mta_sts_mx_match"
        let column = """
            CASE cp.verdict WHEN 'server' THEN 1 WHEN 'client' THEN 0 END AS server_cipher_preference
            """
        precondition(resultsViewV8.components(separatedBy: lastColumn).count == 2)
        return
            resultsViewV8
            .replacingOccurrences(of: lastColumn, with: lastColumn + ",\n       " + column)
                + """

                LEFT JOIN cipher_preference_checks cp
                    ON cp.scan_id = p.scan_id AND cp.ip = p.ip AND cp.port = p.port
                """
    }()
}
