import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

@Suite struct HeaderStoreTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mxs-headers-\(UUID()).db").path
    }

    static func hop(
        _ index: Int, from: String?, domain: String?, by: String, tls: Bool?, version: String? = nil
    ) -> MessageHopRecord {
        MessageHopRecord(
            hop: index, fromHost: from, fromDomain: domain, byHost: by,
            protocolName: tls == true ? "ESMTPS" : "ESMTP",
            tls: tls, tlsVersion: version, tlsCipher: version == nil ? nil : "TLS_AES_256_GCM_SHA384",
            evidence: "postfix")
    }

    static let messages: [MessageRecord] = [
        MessageRecord(
            source: "mx", digest: "d1",
            hops: [
                hop(0, from: "mx.example.org", domain: "example.org", by: "store.example.org", tls: nil),
                hop(
                    1, from: "a.sender.com", domain: "sender.com", by: "mx.example.org", tls: true,
                    version: "TLSv1.3"),
            ], arrival: .external, lastExternalHop: 1, day: "2026-12-04"),
        MessageRecord(
            source: "mx", digest: "d2",
            hops: [hop(0, from: "a.sender.com", domain: "sender.com", by: "mx.example.org", tls: false)],
            arrival: .external, lastExternalHop: 0, day: "2026-12-05"),
        MessageRecord(
            source: "mx", digest: "d3",
            hops: [
                hop(
                    0, from: "b.other.net", domain: "other.net", by: "mx.example.org", tls: true,
                    version: "TLSv1.2")
            ],
            arrival: .external, lastExternalHop: 0, day: "2026-12-05"),
        MessageRecord(
            source: "mx", digest: "d4",
            hops: [hop(0, from: "x.unknown.net", domain: "unknown.net", by: "mx.example.org", tls: nil)],
            arrival: .external, lastExternalHop: 0, day: "2026-12-05"),
        MessageRecord(
            source: "mx", digest: "d5",
            hops: [hop(0, from: nil, domain: nil, by: "mx.example.org", tls: nil)],
            arrival: .noExternalHop, lastExternalHop: nil, day: nil),
    ]

    @Test func messagesAreStoredOnceAndReadAsFigures() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        #expect(try store.storeMessages(Self.messages) == 5)
        #expect(try store.storeMessages(Self.messages) == 0)
        // Another source keeps its own copy of the same message.
        var copy = Self.messages[1]
        copy.source = "mx2"
        #expect(try store.storeMessages([copy]) == 1)

        let f = try store.messageFigures(source: "mx")
        #expect(f.encrypted == 2)
        #expect(f.plaintext == 1)
        #expect(f.tlsUnknown == 1)
        #expect(f.withoutExternalHop == [.noExternalHop: 1])
        #expect(f.total == 5)
        #expect(f.byVersion == ["TLSv1.3": 1, "TLSv1.2": 1])
        #expect(
            f.byPeer == [
                PeerCount(
                    host: "a.sender.com", domain: "sender.com", messages: 2, encrypted: 1, plaintext: 1),
                PeerCount(host: "b.other.net", domain: "other.net", messages: 1, encrypted: 1, plaintext: 0),
                PeerCount(
                    host: "x.unknown.net", domain: "unknown.net", messages: 1, encrypted: 0, plaintext: 0),
            ])
        #expect(
            f.byDay == [
                DayCount(day: "2026-12-04", messages: 1, encrypted: 1, plaintext: 0),
                DayCount(day: "2026-12-05", messages: 3, encrypted: 1, plaintext: 1),
            ])
        #expect(try store.messageFigures().total == 6)
        #expect(try store.messages(source: "mx") == Self.messages)

        // The contract view, exactly these columns.
        let (columns, rows) = try store.pool.read { db in
            (
                try Row.fetchOne(db, sql: "SELECT * FROM message_hops LIMIT 1").map { Array($0.columnNames) },
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT hop, tls, last_external FROM message_hops WHERE source = 'mx' AND message = 'd1' ORDER BY hop"
                )
            )
        }
        #expect(
            columns == [
                "source", "message", "hop", "from_host", "by_host", "protocol", "tls", "tls_version",
                "tls_cipher",
                "last_external",
            ])
        #expect(rows.map { [$0[0] as Int, $0[1] as Int? ?? -1, $0[2] as Int] } == [[0, -1, 0], [1, 1, 1]])
    }

    @Test func digestKeyIsMadeOnceAndKept() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = try ResultStore(path: path).headerDigestKey()
        #expect(key.count == 32)
        #expect(try ResultStore(path: path).headerDigestKey() == key)
        let other = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: other) }
        #expect(try ResultStore(path: other).headerDigestKey() != key)
    }

    @Test func storesWithoutMessageTablesReadAsEmpty() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try Schema.migrator.migrate(pool, upTo: "v4: scheduling lag of a scan")
        try pool.close()
        let readOnly = try ReadOnlyStore(path: path)
        #expect(try readOnly.messageFigures() == MessageFigures())
        #expect(try readOnly.messages().isEmpty)
    }
}
