internal import GRDB

extension Schema {
    /// `mxsurvey headers`: messages, their Received hops, and the store's digest key
    /// (docs/schema.md, "Messages").
    static func registerHeaders(in m: inout DatabaseMigrator) {
        m.registerMigration("passive: message headers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE header_key (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        key BLOB NOT NULL                          -- 32 random bytes, the HMAC key of message digests
                    );
                    CREATE TABLE header_messages (
                        id INTEGER PRIMARY KEY,
                        source TEXT NOT NULL,
                        digest TEXT NOT NULL,                      -- hex HMAC-SHA256 of the Message-ID or the header block
                        hop_count INTEGER NOT NULL,
                        arrival TEXT NOT NULL,                     -- external | no_external_hop | unreadable_hop | not_own_server
                        last_external_hop INTEGER,                 -- header_hops.hop of the last external hop
                        day TEXT,                                  -- UTC date of the last external hop's timestamp
                        ingested_at TEXT NOT NULL,
                        UNIQUE (source, digest)
                    );
                    CREATE TABLE header_hops (
                        message_id INTEGER NOT NULL REFERENCES header_messages(id) ON DELETE CASCADE,
                        hop INTEGER NOT NULL,                      -- 0 = topmost Received field
                        from_host TEXT,
                        from_domain TEXT,                          -- registrable domain of from_host
                        by_host TEXT,
                        protocol TEXT,
                        tls INTEGER,                               -- 1 / 0 / NULL (the line does not say)
                        tls_version TEXT,
                        tls_cipher TEXT,
                        evidence TEXT NOT NULL,                    -- which format said it (TLSEvidence)
                        PRIMARY KEY (message_id, hop)
                    ) WITHOUT ROWID;
                    CREATE VIEW message_hops AS
                    SELECT m.source AS source,
                           m.digest AS message,
                           h.hop AS hop,
                           h.from_host AS from_host,
                           h.by_host AS by_host,
                           h.protocol AS protocol,
                           h.tls AS tls,
                           h.tls_version AS tls_version,
                           h.tls_cipher AS tls_cipher,
                           CASE WHEN m.last_external_hop = h.hop THEN 1 ELSE 0 END AS last_external
                    FROM header_messages m JOIN header_hops h ON h.message_id = m.id;
                    """)
        }
    }
}
