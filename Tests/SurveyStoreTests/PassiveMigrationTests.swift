import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// A store written before `passive: integer times in connection rows` (times as text, MTA
/// and direction as names, a time index) keeps every `passive_connections` row with the same
/// values after the migration, and ingesting the same connections again adds nothing and
/// completes only the incomplete one.
@Suite struct PassiveMigrationTests {
    @Test func oldPassiveRowsReadTheSameAfterTheMigration() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-pmig-\(UUID()).db").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        do {
            let pool = try DatabasePool(path: path)
            try Schema.migrator.migrate(pool, upTo: "v8: MTA-STS and TLS-RPT")
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO passive_sources (id, name, pseudonymized, created_at)
                            VALUES (1, 'mx1', 0, '2026-12-04T00:00:00Z'), (2, 'mx2', 0, '2026-12-04T00:00:00Z');
                        INSERT INTO passive_connection_rows (source_id, key, mta, direction, started_at, peer_host,
                            peer_ip, peer_domain, tls, tls_version, tls_cipher, trust, messages, complete) VALUES
                            (1, 11, 'postfix', 'in', '2026-12-04T10:00:00Z', 'mx.example.co.uk', '192.0.2.1',
                             'example.co.uk', 1, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'anonymous', 2, 1),
                            (1, -12, 'postfix', 'out', '2026-12-31T23:59:59Z', NULL, '2001:db8::1', NULL,
                             0, NULL, NULL, NULL, 1, 1),
                            (2, 11, 'exim', 'in', '1999-01-01T00:00:00Z', 'b.example', '192.0.2.2', 'b.example',
                             1, 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', 'verified', 0, 0),
                            (2, 13, 'opensmtpd', 'out', '2027-01-07T06:00:01Z', 'c.example', '192.0.2.3',
                             'c.example', 1, 'TLSv1.3', 'TLS_AES_128_GCM_SHA256', NULL, 3, 1);
                        """)
            }
            let query = "SELECT * FROM passive_connections ORDER BY source, started_at"
            let before = try pool.read { db in try Row.fetchAll(db, sql: query) }
            #expect(before.count == 4)
            try Schema.migrator.migrate(pool)
            let (after, tableSQL, timeIndex, types) = try pool.read { db in
                (
                    try Row.fetchAll(db, sql: query),
                    try String.fetchOne(
                        db, sql: "SELECT sql FROM sqlite_master WHERE name = 'passive_connection_rows'"),
                    try String.fetchOne(
                        db, sql: "SELECT name FROM sqlite_master WHERE name = 'passive_rows_time'"),
                    try Row.fetchAll(
                        db,
                        sql:
                            "SELECT typeof(mta), typeof(direction), typeof(started_at), typeof(messages) FROM passive_connections"
                    )
                )
            }
            #expect(after == before)
            #expect(tableSQL?.contains("started INTEGER NOT NULL") == true)
            #expect(timeIndex == nil)
            for row in types {
                #expect(row[0] as String == "text")
                #expect(row[1] as String == "text")
                #expect(row[2] as String == "text")
                #expect(row[3] as String == "integer")
            }
        }
        // Through the store: the same keys again add nothing, the incomplete row is completed.
        let store = try ResultStore(path: path)
        let again = [
            PassiveConnection(
                key: 11, mta: .postfix, direction: .inbound, startedAt: 1_796_378_400,
                peerHost: "mx.example.co.uk",
                peerIP: "192.0.2.1", peerDomain: "example.co.uk", tls: true, tlsVersion: "TLSv1.3",
                tlsCipher: "TLS_AES_256_GCM_SHA384", trust: .anonymous, messages: 2)
        ]
        #expect(try store.storePassive(source: 1, again) == 0)
        let completing = [
            PassiveConnection(
                key: 11, mta: .exim, direction: .inbound, startedAt: 915_148_800, peerHost: "b.example",
                peerIP: "192.0.2.2", peerDomain: "b.example", tls: true, tlsVersion: "TLSv1.2",
                tlsCipher: "ECDHE-RSA-AES256-GCM-SHA384", trust: .verified, messages: 4)
        ]
        #expect(try store.storePassive(source: 2, completing) == 1)
        #expect(try store.storePassive(source: 2, completing) == 0)
        let counts = try store.passiveCounts(source: "mx2")
        #expect(counts.map(\.connections).reduce(0, +) == 2)
        #expect(counts.map(\.messages).reduce(0, +) == 7)
        let days = try store.passiveCounts(source: "mx2", by: .day).compactMap(\.group)
        #expect(days == ["1999-01-01", "2027-01-07"])
    }
}
