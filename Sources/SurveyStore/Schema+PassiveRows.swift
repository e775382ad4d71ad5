internal import GRDB

extension Schema {
    /// The view `passive_connections` as it reads `passive_connection_rows` with integer
    /// times, MTAs and directions: the same column names and text values as before.
    static let passiveConnectionsView = """
        CREATE VIEW passive_connections AS
        SELECT s.name AS source,
               CASE c.mta WHEN 1 THEN 'postfix' WHEN 2 THEN 'exim' WHEN 3 THEN 'opensmtpd' END AS mta,
               CASE c.direction WHEN 0 THEN 'in' WHEN 1 THEN 'out' END AS direction,
               strftime('%Y-%m-%dT%H:%M:%SZ', c.started, 'unixepoch') AS started_at,
               c.peer_host AS peer_host, c.peer_ip AS peer_ip,
               c.peer_domain AS peer_domain, c.tls AS tls, c.tls_version AS tls_version,
               c.tls_cipher AS tls_cipher, c.trust AS trust, c.messages AS messages
        FROM passive_connection_rows c JOIN passive_sources s ON s.id = c.source_id;
        """

    /// Leaner passive rows for bulk ingest (docs/benchmarks.md §9): the start as seconds
    /// since 1970 and the MTA and direction as small integers (the view formats them), and
    /// no index on the time (no query needs it; every row paid for it). Existing rows are
    /// copied with their ids.
    static func registerPassiveRows(_ m: inout DatabaseMigrator) {
        m.registerMigration("passive: integer times in connection rows") { db in
            try db.execute(
                sql: """
                    CREATE TABLE passive_connection_rows_new (
                        id INTEGER PRIMARY KEY,
                        source_id INTEGER NOT NULL REFERENCES passive_sources(id) ON DELETE CASCADE,
                        key INTEGER NOT NULL,                     -- digest of the opening log line
                        mta INTEGER NOT NULL,                     -- 1 postfix, 2 exim, 3 opensmtpd
                        direction INTEGER NOT NULL,               -- 0 in, 1 out
                        started INTEGER NOT NULL,                 -- seconds since 1970, UTC
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
                    INSERT INTO passive_connection_rows_new (id, source_id, key, mta, direction, started,
                        peer_host, peer_ip, peer_domain, tls, tls_version, tls_cipher, trust, messages, complete)
                    SELECT id, source_id, key,
                           CASE mta WHEN 'postfix' THEN 1 WHEN 'exim' THEN 2 WHEN 'opensmtpd' THEN 3 END,
                           CASE direction WHEN 'in' THEN 0 WHEN 'out' THEN 1 END,
                           CAST(strftime('%s', started_at) AS INTEGER),
                           peer_host, peer_ip, peer_domain, tls, tls_version, tls_cipher, trust, messages, complete
                    FROM passive_connection_rows ORDER BY id;
                    DROP VIEW passive_connections;
                    DROP INDEX passive_rows_time;
                    DROP TABLE passive_connection_rows;
                    ALTER TABLE passive_connection_rows_new RENAME TO passive_connection_rows;
                    """)
            try db.execute(sql: passiveConnectionsView)
        }
    }
}
