internal import GRDB

/// The result store's schema, built by migrations. `docs/schema.md` documents it; the
/// `results` view is the stable contract analysts and reports query.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE scans (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        started_at TEXT NOT NULL,
                        finished_at TEXT,
                        status TEXT NOT NULL DEFAULT 'running',   -- running | done | interrupted
                        command_line TEXT NOT NULL,
                        tool_version TEXT NOT NULL,
                        options TEXT NOT NULL,                    -- JSON object
                        input TEXT,                               -- input path as given
                        input_lines INTEGER NOT NULL DEFAULT 0    -- lines consumed (for resume)
                    );
                    CREATE TABLE input_problems (
                        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
                        line INTEGER NOT NULL,
                        text TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        PRIMARY KEY (scan_id, line)
                    );
                    CREATE TABLE domains (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        tag TEXT,
                        rank INTEGER,
                        input_line INTEGER,
                        dns_status TEXT NOT NULL,
                        dns_detail TEXT,
                        resolved_at TEXT NOT NULL,
                        UNIQUE (scan_id, name)
                    );
                    CREATE TABLE mx (
                        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
                        host TEXT NOT NULL,
                        preference INTEGER NOT NULL,
                        implicit INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (domain_id, host)
                    );
                    CREATE TABLE hosts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        dns_status TEXT NOT NULL,
                        cname_target TEXT,
                        dns_detail TEXT,
                        resolved_at TEXT NOT NULL,
                        UNIQUE (scan_id, name)
                    );
                    CREATE TABLE addresses (
                        host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
                        ip TEXT NOT NULL,
                        family INTEGER NOT NULL,                  -- 4 or 6
                        excluded INTEGER NOT NULL DEFAULT 0,
                        exclude_reason TEXT,
                        PRIMARY KEY (host_id, ip)
                    );
                    CREATE INDEX addresses_ip ON addresses(ip);
                    CREATE TABLE certificates (
                        sha256 TEXT PRIMARY KEY,
                        der BLOB NOT NULL,
                        subject TEXT NOT NULL,
                        issuer TEXT NOT NULL,
                        not_before TEXT,
                        not_after TEXT,
                        key_type TEXT,
                        key_bits INTEGER,
                        signature_algorithm TEXT,
                        dns_names TEXT NOT NULL,                  -- JSON array of SAN dNSNames
                        self_signed INTEGER NOT NULL
                    );
                    CREATE TABLE probes (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
                        ip TEXT NOT NULL,
                        port INTEGER NOT NULL DEFAULT 25,
                        sni TEXT NOT NULL,
                        status TEXT NOT NULL,
                        error_detail TEXT,
                        banner_code INTEGER,
                        banner TEXT,
                        ehlo_code INTEGER,
                        used_helo INTEGER NOT NULL DEFAULT 0,
                        ehlo_extensions TEXT,                     -- JSON array
                        starttls_offered INTEGER,
                        starttls_reply_code INTEGER,
                        mail_from_code INTEGER,
                        plaintext_reply_code INTEGER,
                        plaintext_refused INTEGER,
                        greylisted INTEGER NOT NULL DEFAULT 0,
                        tls_version TEXT,
                        tls_cipher TEXT,
                        tls_group TEXT,
                        cert_sha256 TEXT REFERENCES certificates(sha256),
                        cert_trusted INTEGER,
                        cert_verify_error TEXT,
                        cert_not_after TEXT,
                        cert_expired INTEGER,
                        cert_not_yet_valid INTEGER,
                        cert_self_signed INTEGER,
                        tls_ehlo_code INTEGER,
                        attempts INTEGER NOT NULL DEFAULT 1,
                        duration_ms INTEGER NOT NULL,
                        probed_at TEXT NOT NULL,
                        UNIQUE (scan_id, ip, port)
                    );
                    CREATE TABLE probe_chain (
                        probe_id INTEGER NOT NULL REFERENCES probes(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,                -- 0 = leaf
                        cert_sha256 TEXT NOT NULL REFERENCES certificates(sha256),
                        PRIMARY KEY (probe_id, position)
                    );
                    CREATE TABLE probe_names (
                        probe_id INTEGER NOT NULL REFERENCES probes(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        hostname_match INTEGER,
                        PRIMARY KEY (probe_id, name)
                    );

                    -- The stable contract: one row per (scan, domain, MX host, IP).
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
                           p.greylisted AS greylisted
                    FROM domains d
                    LEFT JOIN mx m ON m.domain_id = d.id
                    LEFT JOIN hosts h ON h.scan_id = d.scan_id AND h.name = m.host
                    LEFT JOIN addresses a ON a.host_id = h.id
                    LEFT JOIN probes p ON p.scan_id = d.scan_id AND p.ip = a.ip AND a.excluded = 0
                    LEFT JOIN probe_names pn ON pn.probe_id = p.id AND pn.name = m.host;
                    """)
        }
        m.registerMigration("v2: index mx by host") { db in
            // Finding the domains of an MX host (resume picks a recipient domain per host;
            // analysts ask "which domains use this MX") without scanning every MX row.
            try db.execute(sql: "CREATE INDEX mx_host ON mx(host)")
        }
        m.registerMigration("v3: leaner domain and MX rows") { db in
            // Measured (docs/benchmarks.md §1): the store cost about as much CPU as the
            // lookups. Per domain it updated five B-trees and `sqlite_sequence`:
            // - `mx_host` (one entry per MX row keyed by host) rewrote a leaf page per
            //   distinct MX host on every commit. Resume now finds a recipient per host in one
            //   pass over the scan's MX rows; "domains of this MX host" is one scan of `mx`
            //   (the `results` view never used the index: it joins from `domains`).
            // - `mx` kept a rowid table beside its primary key: now WITHOUT ROWID.
            // - `domains.id` was AUTOINCREMENT (a `sqlite_sequence` update per row). Now an id
            //   can come again only after its row was deleted, which happens only with its
            //   scan, and ON DELETE CASCADE removes the MX rows that referred to it.
            // Tables are rebuilt the way SQLite documents (copy, drop, rename); the `results`
            // view is dropped and created again from its stored text, unchanged.
            guard
                let view = try String.fetchOne(
                    db, sql: "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'results'")
            else { throw DatabaseError(message: "migration v3: the results view is missing") }
            try db.execute(
                sql: """
                    DROP VIEW results;
                    CREATE TABLE new_domains (
                        id INTEGER PRIMARY KEY,
                        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        tag TEXT,
                        rank INTEGER,
                        input_line INTEGER,
                        dns_status TEXT NOT NULL,
                        dns_detail TEXT,
                        resolved_at TEXT NOT NULL,
                        UNIQUE (scan_id, name)
                    );
                    INSERT INTO new_domains (id, scan_id, name, tag, rank, input_line, dns_status, dns_detail, resolved_at)
                        SELECT id, scan_id, name, tag, rank, input_line, dns_status, dns_detail, resolved_at FROM domains;
                    DROP TABLE domains;
                    ALTER TABLE new_domains RENAME TO domains;
                    CREATE TABLE new_mx (
                        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
                        host TEXT NOT NULL,
                        preference INTEGER NOT NULL,
                        implicit INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (domain_id, host)
                    ) WITHOUT ROWID;
                    INSERT INTO new_mx (domain_id, host, preference, implicit)
                        SELECT domain_id, host, preference, implicit FROM mx;
                    DROP TABLE mx;
                    ALTER TABLE new_mx RENAME TO mx;
                    """)
            try db.execute(sql: view)
        }
        m.registerMigration("v4: scheduling lag of a scan") { db in
            // The scanner's largest scheduling lag in milliseconds (`LagMonitor`): a lag of
            // seconds means the machine was overloaded and some timeouts may be its own.
            // NULL for scans written before v4.
            try db.execute(sql: "ALTER TABLE scans ADD COLUMN max_lag_ms INTEGER")
        }
        registerLabel(in: &m)
        registerDNSSEC(&m)
        registerHeaders(in: &m)
        registerPassive(&m)
        registerVersions(&m)
        registerShards(in: &m)
        registerMTASTS(&m)
        registerCipherPreference(&m)
        registerPassiveRows(&m)
        return m
    }
}
