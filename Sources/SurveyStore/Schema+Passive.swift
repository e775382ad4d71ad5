internal import GRDB

extension Schema {
    /// Connections read from mail servers' logs (`mxsurvey logs`, docs/passive.md). The
    /// `passive_connections` view is the contract analysts and reports query; the tables
    /// behind it may change.
    static func registerPassive(_ m: inout DatabaseMigrator) {
        m.registerMigration("passive: connections from mail logs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE passive_sources (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        pseudonymized INTEGER NOT NULL,           -- 1: peers stored as keyed hashes
                        created_at TEXT NOT NULL
                    );
                    CREATE TABLE passive_files (
                        id INTEGER PRIMARY KEY,
                        source_id INTEGER NOT NULL REFERENCES passive_sources(id) ON DELETE CASCADE,
                        path TEXT NOT NULL,                       -- as given; '-' for standard input
                        mta TEXT,                                 -- NULL: format not recognised
                        ingested_at TEXT NOT NULL,
                        lines INTEGER NOT NULL,
                        used_lines INTEGER NOT NULL,
                        irrelevant_lines INTEGER NOT NULL,
                        skipped TEXT NOT NULL,                    -- JSON object: reason -> lines
                        connections INTEGER NOT NULL,
                        stored_connections INTEGER NOT NULL,      -- new or completing rows
                        first_at TEXT,
                        last_at TEXT,
                        error TEXT
                    );
                    CREATE TABLE passive_connection_rows (
                        id INTEGER PRIMARY KEY,
                        source_id INTEGER NOT NULL REFERENCES passive_sources(id) ON DELETE CASCADE,
                        key INTEGER NOT NULL,                     -- digest of the opening log line
                        mta TEXT NOT NULL,
                        direction TEXT NOT NULL,                  -- in | out
                        started_at TEXT NOT NULL,
                        peer_host TEXT,
                        peer_ip TEXT,
                        peer_domain TEXT,
                        tls INTEGER NOT NULL,
                        tls_version TEXT,
                        tls_cipher TEXT,
                        trust TEXT,
                        messages INTEGER NOT NULL,
                        complete INTEGER NOT NULL,
                        UNIQUE (source_id, key)
                    );
                    CREATE INDEX passive_rows_time ON passive_connection_rows(source_id, started_at);
                    CREATE VIEW passive_connections AS
                    SELECT s.name AS source, c.mta AS mta, c.direction AS direction,
                           c.started_at AS started_at, c.peer_host AS peer_host, c.peer_ip AS peer_ip,
                           c.peer_domain AS peer_domain, c.tls AS tls, c.tls_version AS tls_version,
                           c.tls_cipher AS tls_cipher, c.trust AS trust, c.messages AS messages
                    FROM passive_connection_rows c JOIN passive_sources s ON s.id = c.source_id;
                    """)
        }
    }
}
