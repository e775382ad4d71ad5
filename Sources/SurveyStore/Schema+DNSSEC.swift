internal import GRDB

extension Schema {
    /// Migration v6: the DNSSEC status of every stored DNS answer, the TLSA records of MX
    /// hosts and the DANE verdicts (docs/schema.md). Old rows keep NULL in the new columns.
    static func registerDNSSEC(_ m: inout DatabaseMigrator) {
        m.registerMigration("v6: DNSSEC and DANE") { db in
            try db.execute(
                sql: """
                    ALTER TABLE domains ADD COLUMN mx_dnssec TEXT;
                    ALTER TABLE hosts ADD COLUMN dnssec TEXT;
                    ALTER TABLE hosts ADD COLUMN tlsa_dnssec TEXT;
                    ALTER TABLE hosts ADD COLUMN tlsa_malformed INTEGER;
                    ALTER TABLE hosts ADD COLUMN tlsa_error TEXT;
                    ALTER TABLE hosts ADD COLUMN dane_status TEXT;
                    CREATE TABLE tlsa_records (
                        host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        usage INTEGER NOT NULL,
                        selector INTEGER NOT NULL,
                        matching_type INTEGER NOT NULL,
                        data BLOB NOT NULL,
                        PRIMARY KEY (host_id, position)
                    ) WITHOUT ROWID;
                    CREATE TABLE dane_checks (
                        probe_id INTEGER NOT NULL REFERENCES probes(id) ON DELETE CASCADE,
                        host TEXT NOT NULL,
                        status TEXT NOT NULL,
                        matched_records TEXT NOT NULL,
                        failed_records TEXT NOT NULL,
                        detail TEXT,
                        PRIMARY KEY (probe_id, host)
                    ) WITHOUT ROWID;
                    DROP VIEW results;
                    """)
            try db.execute(sql: resultsView)
        }
    }

    /// The `results` view as of migration v6: the v1 columns, then `mx_dnssec`,
    /// `host_dnssec` and `dane_status`: the view every migrated store has (v1 in Schema.swift
    /// creates the first one, without them). A later migration that changes the view must not
    /// edit this text — v6 would then create, on an older store, a view over tables that do
    /// not exist yet — but define its own text from this one, run after v6.
    static let resultsView = """
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
               COALESCE(h.dane_status, dc.status) AS dane_status
        FROM domains d
        LEFT JOIN mx m ON m.domain_id = d.id
        LEFT JOIN hosts h ON h.scan_id = d.scan_id AND h.name = m.host
        LEFT JOIN addresses a ON a.host_id = h.id
        LEFT JOIN probes p ON p.scan_id = d.scan_id AND p.ip = a.ip AND a.excluded = 0
        LEFT JOIN probe_names pn ON pn.probe_id = p.id AND pn.name = m.host
        LEFT JOIN dane_checks dc ON dc.probe_id = p.id AND dc.host = m.host
        """
}
