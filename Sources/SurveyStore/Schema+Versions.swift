import Foundation
internal import GRDB

extension Schema {
    /// Migration v7: the accepted TLS versions of every probed address (main probe and
    /// version scan) and the `results` view with the per-version columns and the leaf's key
    /// facts (docs/schema.md). Old scans have no version rows: their new columns are NULL.
    static func registerVersions(_ m: inout DatabaseMigrator) {
        m.registerMigration("v7: accepted TLS versions and key facts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tls_version_checks (
                        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
                        ip TEXT NOT NULL,
                        port INTEGER NOT NULL,
                        version TEXT NOT NULL,
                        verdict TEXT NOT NULL,
                        detail TEXT,
                        own_session INTEGER NOT NULL,
                        PRIMARY KEY (scan_id, ip, port, version)
                    ) WITHOUT ROWID;
                    ALTER TABLE certificates ADD COLUMN key_curve TEXT;
                    DROP VIEW results;
                    """)
            try db.execute(sql: resultsViewV7)
            try db.execute(sql: bsiViews)
        }
    }

    /// TLS suites approved by BSI TR-03116-4 (2023) for TLS 1.2 (ECDHE with AES-GCM or
    /// AES-CBC with SHA-256/384) and TLS 1.3 (AES-GCM, AES-CCM), as OpenSSL names them
    /// (`probes.tls_cipher`). docs/reports.md gives the reading.
    static let bsiApprovedSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384", "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_CCM_SHA256",
    ]

    /// Smallest approved leaf keys (TR-03116-4 / TR-02102-2, 2023, after the transition
    /// that allowed 2000-bit RSA until the end of 2023): RSA 3000 bits, EC 250 bits.
    static let bsiMinimumRSABits = 3000
    static let bsiMinimumECBits = 250

    /// The named curves approved for EC keys (v9): the curves BSI TR-02102-2 (2023), to which
    /// TR-03116-4 (2023) refers, lists for TLS — secp256r1 (OpenSSL's name: prime256v1),
    /// secp384r1, secp521r1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 — as
    /// `certificates.key_curve` holds them (docs/reports.md gives the reading).
    static let bsiApprovedCurves = [
        "prime256v1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1",
    ]

    /// One requirement over several rows: 0 when any row fails, 1 when every row passes,
    /// NULL (not measured) otherwise.
    private static func all(_ item: String) -> String {
        "CASE WHEN min(\(item)) = 0 THEN 0 WHEN count(\(item)) = count(*) THEN 1 END AS \(item)"
    }

    /// The BSI TR-03108-1 (v2.0, 2023) checklist as of v7: `bsi_tr03108_hosts` (one row per
    /// scan, domain and MX host; each requirement 1 / 0 / NULL not measured, over the host's
    /// addresses), `bsi_tr03108_domains` (the same per domain, over its MX hosts) and
    /// `domain_policy` (the per-domain contract of docs/schema.md; its MTA-STS and TLS-RPT
    /// columns are NULL: not measured).
    static let bsiViews = bsiViewsText(policy: false)

    /// The same views as of v8 (`registerMTASTS`): `mta_sts` and `tlsrpt` from the policy
    /// stage's `domain_policies` (TLS-RPT decides compliance, MTA-STS does not), and the
    /// MTA-STS and TLS-RPT columns of `domain_policy` filled.
    static let bsiViewsV8 = bsiViewsText(policy: true)

    /// `bsi_tr03108_domains` of one scan (the scan id is the query's one `?` parameter), from
    /// the very text of the views `bsiViewsText(policy:namedCurves:)` creates, with the scan
    /// filter at the innermost `results` read: a filter on the view itself is not pushed down
    /// through its aggregates, so every scan of the store would be read for one scan's rows.
    static func bsiDomainsQuery(policy: Bool, namedCurves: Bool) -> String {
        let views = bsiViewsText(policy: policy, namedCurves: namedCurves)
        func between(_ start: String, _ end: String) -> String {
            let parts = views.components(separatedBy: start)
            precondition(parts.count == 2, "the TR-03108 views changed: \(start)")
            let rest = parts[1].components(separatedBy: end)
            precondition(rest.count >= 2, "the TR-03108 views changed: \(end)")
            return rest[0]
        }
        let source = "FROM results WHERE mx_host IS NOT NULL"
        let hosts = between("CREATE VIEW bsi_tr03108_hosts AS\n", ";\n\nCREATE VIEW bsi_tr03108_domains AS")
        let domains = between("CREATE VIEW bsi_tr03108_domains AS\n", ";\n\nCREATE VIEW domain_policy AS")
        precondition(hosts.components(separatedBy: source).count == 2)
        precondition(domains.components(separatedBy: "FROM bsi_tr03108_hosts GROUP BY").count == 2)
        return "WITH bsi_hosts AS (\n"
            + hosts.replacingOccurrences(of: source, with: source + " AND scan_id = ?") + "\n)\n"
            + domains.replacingOccurrences(
                of: "FROM bsi_tr03108_hosts GROUP BY", with: "FROM bsi_hosts GROUP BY")
    }

    /// `policy`: whether the store has `domain_policies` (v8) to read MTA-STS and TLS-RPT from.
    /// `namedCurves`: EC keys are judged by their named curve (`bsiApprovedCurves`, v9)
    /// rather than by their size alone.
    static func bsiViewsText(policy: Bool, namedCurves: Bool = false) -> String {
        let curves = bsiApprovedCurves.map { "'\($0)'" }.joined(separator: ", ")
        let ecRule =
            namedCurves
            ? "WHEN cert_key_type = 'EC' THEN CASE WHEN cert_key_curve IS NULL THEN NULL "
                + "WHEN cert_key_curve IN (\(curves)) THEN 1 ELSE 0 END"
            : "WHEN cert_key_type = 'EC' THEN cert_key_bits >= \(bsiMinimumECBits)"
        let suites = bsiApprovedSuites.map { "'\($0)'" }.joined(separator: ", ")
        let items = [
            "starttls", "tls12_only", "approved_suite", "approved_key", "valid_certificate", "dnssec", "dane",
        ]
        // TLS-RPT is mandatory in TR-03108: 1 for a valid record, 0 for none or an invalid one,
        // NULL where the policy stage did not check the domain (and before v8, when it was
        // not measured): the AND with a NULL makes a host that passes everything else NULL
        // (not known), one that fails anything 0. MTA-STS is optional: shown, never decisive.
        // A failed TXT lookup leaves the fact unknown (NULL), not absent.
        let tlsrpt = """
            CASE WHEN dp.tlsrpt_error LIKE 'txt_lookup_failed%' THEN NULL
                        WHEN dp.tlsrpt_status = 'valid' THEN 1
                        WHEN dp.tlsrpt_status IN ('none', 'invalid') THEN 0 END
            """
        let mtaSTS = """
            CASE WHEN dp.mta_sts_error = 'txt_lookup_failed' THEN NULL
                        WHEN dp.mta_sts_status = 'valid' THEN 1
                        WHEN dp.mta_sts_status IN ('none', 'fetch_failed', 'policy_invalid') THEN 0 END
            """
        let verdict = items.joined(separator: " AND ") + " AND " + (policy ? "(\(tlsrpt))" : "NULL")
        let policyColumns =
            policy ? "\(mtaSTS) AS mta_sts,\n       \(tlsrpt) AS tlsrpt" : "NULL AS mta_sts, NULL AS tlsrpt"
        let hostsFrom =
            policy
            ? """
            FROM hosts
            LEFT JOIN domains d ON d.scan_id = hosts.scan_id AND d.name = hosts.domain
            LEFT JOIN domain_policies dp ON dp.domain_id = d.id
            """
            : "FROM hosts"
        let policyFacts = [
            "mta_sts_status", "mta_sts_mode", "mta_sts_id", "mta_sts_error", "tlsrpt_status", "tlsrpt_rua",
        ]
        .map { policy ? "dp.\($0) AS \($0)" : "NULL AS \($0)" }
        .joined(separator: ",\n       ")
        let policyJoin = policy ? "\nLEFT JOIN domain_policies dp ON dp.domain_id = d.id" : ""
        return """
            CREATE VIEW bsi_tr03108_hosts AS
            WITH per_ip AS (
                SELECT scan_id, domain, tag, mx_host,
                       CASE WHEN tls_version IS NOT NULL THEN 1
                            WHEN probe_status IN ('starttls_not_offered', 'starttls_rejected', 'tls_failed') THEN 0
                       END AS starttls,
                       CASE WHEN tls10_accepted = 1 OR tls11_accepted = 1 THEN 0
                            WHEN tls10_accepted = 0 AND tls11_accepted = 0 THEN 1
                       END AS tls12_only,
                       CASE WHEN tls_cipher IS NULL THEN NULL WHEN tls_cipher IN (\(suites)) THEN 1 ELSE 0
                       END AS approved_suite,
                       CASE WHEN cert_key_type IS NULL OR cert_key_bits IS NULL THEN NULL
                            WHEN cert_key_type IN ('RSA', 'RSA-PSS') THEN cert_key_bits >= \(bsiMinimumRSABits)
                            \(ecRule)
                            ELSE 0
                       END AS approved_key,
                       CASE WHEN tls_version IS NULL THEN NULL
                            WHEN cert_trusted = 1 AND cert_hostname_match = 1 AND cert_expired = 0 THEN 1 ELSE 0
                       END AS valid_certificate,
                       CASE WHEN mx_dnssec IS NULL OR host_dnssec IS NULL THEN NULL
                            WHEN mx_dnssec = 'secure' AND host_dnssec = 'secure' THEN 1 ELSE 0
                       END AS dnssec,
                       CASE WHEN dane_status IS NULL THEN NULL WHEN dane_status = 'match' THEN 1 ELSE 0
                       END AS dane
                FROM results WHERE mx_host IS NOT NULL
            ),
            hosts AS (
                SELECT scan_id, domain, tag, mx_host, \(items.map(all).joined(separator: ", "))
                FROM per_ip GROUP BY scan_id, domain, mx_host
            )
            SELECT hosts.scan_id AS scan_id, hosts.domain AS domain, hosts.tag AS tag, mx_host,
                   \(items.joined(separator: ", ")),
                   \(policyColumns),
                   \(verdict) AS compliant
            \(hostsFrom);

            CREATE VIEW bsi_tr03108_domains AS
            SELECT scan_id, domain, tag, count(*) AS mx_hosts,
                   \((items + ["mta_sts", "tlsrpt", "compliant"]).map(all).joined(separator: ",\n       "))
            FROM bsi_tr03108_hosts GROUP BY scan_id, domain;

            CREATE VIEW domain_policy AS
            SELECT d.scan_id AS scan_id,
                   d.name AS domain,
                   d.tag AS tag,
                   d.mx_dnssec AS mx_dnssec,
                   \(policyFacts),
                   (SELECT CASE WHEN count(*) = 0 THEN NULL
                                WHEN count(*) = sum(r.dane_status = 'match') THEN 1 ELSE 0 END
                    FROM results r
                    WHERE r.scan_id = d.scan_id AND r.domain = d.name AND r.mx_host IS NOT NULL) AS dane_protected,
                   b.compliant AS bsi_tr03108_compliant
            FROM domains d
            LEFT JOIN bsi_tr03108_domains b ON b.scan_id = d.scan_id AND b.domain = d.name\(policyJoin);
            """
    }

    /// 1 accepted, 0 refused, NULL not tested (or no row) for one version of the probe `p`.
    private static func accepted(_ version: String, as column: String) -> String {
        """
        (SELECT CASE v.verdict WHEN 'accepted' THEN 1 WHEN 'refused' THEN 0 END
                FROM tls_version_checks v
                WHERE v.scan_id = p.scan_id AND v.ip = p.ip AND v.port = p.port AND v.version = '\(version)')
               AS \(column)
        """
    }

    /// The `results` view as of migration v7: every v6 column (`resultsView`, unchanged and
    /// in the same order), then `tls10_accepted` … `tls13_accepted`, `cert_key_type`,
    /// `cert_key_bits`, `cert_key_curve`, `cert_signature_algorithm` and `cert_chain_length`. A later
    /// migration that changes the view defines its own text from this one.
    static let resultsViewV7: String = {
        let columns = [
            accepted("TLSv1", as: "tls10_accepted"),
            accepted("TLSv1.1", as: "tls11_accepted"),
            accepted("TLSv1.2", as: "tls12_accepted"),
            accepted("TLSv1.3", as: "tls13_accepted"),
            "lc.key_type AS cert_key_type",
            "lc.key_bits AS cert_key_bits",
            "lc.key_curve AS cert_key_curve",
            "lc.signature_algorithm AS cert_signature_algorithm",
            """
            CASE WHEN p.cert_sha256 IS NOT NULL
                    THEN (SELECT count(*) FROM probe_chain pc WHERE pc.probe_id = p.id) END AS cert_chain_length
            """,
        ]
        let lastColumn = "COALESCE(h.dane_status, dc.status) AS dane_status"
        return
            resultsView
            .replacingOccurrences(
                of: lastColumn, with: lastColumn + ",\n       " + columns.joined(separator: ",\n       "))
            + "\nLEFT JOIN certificates lc ON lc.sha256 = p.cert_sha256"
    }()
}
