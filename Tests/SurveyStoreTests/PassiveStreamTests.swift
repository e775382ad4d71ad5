import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// `storePassiveStream`, the bulk writer of `mxsurvey logs`: batches across several
/// transactions (ended by the row limit or by a producer that is behind, committed before
/// waiting), per-tag counts, nothing twice, foreign keys back on afterwards, and a missing
/// source refused before any row.
@Suite struct PassiveStreamTests {
    func connection(_ key: Int64, messages: Int = 1, complete: Bool = true) -> PassiveConnection {
        PassiveConnection(
            key: key, mta: .postfix, direction: key % 2 == 0 ? .inbound : .outbound,
            startedAt: 1_796_378_400 + key, peerHost: "mx\(key).example.org", peerIP: "192.0.2.\(key % 250)",
            peerDomain: "example.org", tls: key % 3 != 0, tlsVersion: key % 3 != 0 ? "TLSv1.3" : nil,
            tlsCipher: key % 3 != 0 ? "TLS_AES_256_GCM_SHA384" : nil, trust: key % 3 != 0 ? .anonymous : nil,
            messages: messages, complete: complete)
    }

    @Test func batchesSpanTransactionsAndCountPerTag() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-pstream-\(UUID()).db")
            .path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let store = try ResultStore(path: path)
        let source = try store.passiveSource(named: "mx1", pseudonymized: false)
        // 7 batches of 10 rows; batch 5 repeats batch 0 (nothing stored), batch 6 completes
        // an incomplete row of batch 1.
        var batches: [[PassiveConnection]] = (0..<5).map { b in
            (0..<10).map { connection(Int64(b * 10 + $0)) }
        }
        batches[1][3] = connection(13, messages: 0, complete: false)
        batches.append(batches[0])
        batches.append([connection(13, messages: 2)])
        // What the producer answers, call by call: a `.notYet` ends a transaction early, 25
        // rows end one too; only calls outside a transaction may wait.
        let packed = batches.map(PassiveRowBatch.init)
        let script: [ResultStore.PassiveStreamItem] = [
            .batch(packed[0], tag: 0), .batch(packed[1], tag: 1), .notYet,
            .batch(packed[2], tag: 2), .batch(packed[3], tag: 0), .batch(packed[4], tag: 1),
            .batch(packed[5], tag: 2), .batch(packed[6], tag: 0), .end,
        ]
        let reader = try DatabaseQueue(path: path)
        var call = 0
        var waits: [Bool] = []
        var committedWhenWaiting: [Int] = []
        var stored: [Int: Int] = [:]
        try store.storePassiveStream(
            source: source, rowsPerTransaction: 25,
            next: { wait in
                waits.append(wait)
                if wait {
                    committedWhenWaiting.append(
                        try reader.read {
                            try Int.fetchOne($0, sql: "SELECT count(*) FROM passive_connection_rows")
                        }
                            ?? -1)
                }
                defer { call += 1 }
                return call < script.count ? script[call] : .end
            },
            stored: { tag, rows in stored[tag, default: 0] += rows })
        #expect(waits == [true, false, false, true, false, false, true, false, false])
        #expect(committedWhenWaiting == [0, 20, 50])
        // Tags: batches 0, 3, 6 → 0; 1, 4 → 1; 2, 5 → 2.
        #expect(stored == [0: 21, 1: 20, 2: 10])
        let counts = try store.passiveCounts()
        #expect(counts.map(\.connections).reduce(0, +) == 50)
        #expect(counts.map(\.messages).reduce(0, +) == 51)
        let (foreignKeys, complete, started) = try store.pool.read { db in
            (
                try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM passive_connection_rows WHERE complete = 1"),
                try String.fetchOne(
                    db, sql: "SELECT started_at FROM passive_connections WHERE peer_host = 'mx13.example.org'"
                )
            )
        }
        #expect(foreignKeys == 1)
        #expect(complete == 50)
        #expect(started == "2026-12-04T10:00:13Z")
        // The writer's connection has its foreign keys back on too: a row of no source fails.
        #expect(throws: DatabaseError.self) {
            try store.storePassive(source: 99, [connection(1000)])
        }
        // A source that does not exist is refused before any batch is taken.
        var taken = 0
        #expect(throws: PassiveSourceMissing.self) {
            try store.storePassiveStream(
                source: 99,
                next: { _ in
                    taken += 1
                    return .end
                }, stored: { _, _ in })
        }
        #expect(taken == 0)
    }

    /// `PassiveRowBatch` lays each row's texts out in one buffer: NULL, an empty text and
    /// multi-byte UTF-8 come back as they went in, each in its own column, whatever the
    /// texts beside them.
    @Test func packedTextsKeepNullEmptyAndUTF8Apart() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-pbatch-\(UUID()).db")
            .path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let store = try ResultStore(path: path)
        let source = try store.passiveSource(named: "mx1", pseudonymized: false)
        let rows = [
            PassiveConnection(
                key: 1, mta: .postfix, direction: .inbound, startedAt: 1_796_378_400, peerHost: "",
                peerIP: nil, peerDomain: nil),
            PassiveConnection(
                key: 2, mta: .exim, direction: .outbound, startedAt: 1_796_378_401,
                peerHost: "mx.bücher.example",
                peerIP: "2001:db8::1", peerDomain: "bücher.example", tls: true, tlsVersion: "TLSv1.2",
                tlsCipher: "ECDHE-RSA-AES256-GCM-SHA384", trust: .verified, messages: 3),
            PassiveConnection(
                key: 3, mta: .opensmtpd, direction: .inbound, startedAt: 1_796_378_402, peerHost: nil,
                peerIP: "192.0.2.7", peerDomain: nil, tls: true, tlsVersion: "TLSv1.3", tlsCipher: "",
                trust: nil, complete: false),
        ]
        #expect(PassiveRowBatch(rows).count == 3)
        #expect(try store.storePassive(source: source, rows) == 3)
        let stored = try store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT peer_host, peer_ip, peer_domain, tls_version, tls_cipher, trust, mta, direction,
                        messages, tls FROM passive_connections ORDER BY started_at
                    """)
        }
        #expect(stored.count == 3)
        func text(_ row: Row, _ column: Int) -> String? { row[column] }
        #expect(text(stored[0], 0) == "")
        #expect(stored[0][1] as DatabaseValue == .null)
        #expect(stored[0][2] as DatabaseValue == .null)
        #expect(stored[0][3] as DatabaseValue == .null)
        #expect(text(stored[1], 0) == "mx.bücher.example")
        #expect(text(stored[1], 1) == "2001:db8::1")
        #expect(text(stored[1], 2) == "bücher.example")
        #expect(text(stored[1], 3) == "TLSv1.2")
        #expect(text(stored[1], 4) == "ECDHE-RSA-AES256-GCM-SHA384")
        #expect(text(stored[1], 5) == "verified")
        #expect(text(stored[1], 6) == "exim")
        #expect(text(stored[1], 7) == "out")
        #expect(stored[1][8] as Int == 3)
        #expect(stored[2][0] as DatabaseValue == .null)
        #expect(text(stored[2], 1) == "192.0.2.7")
        #expect(text(stored[2], 4) == "")
        #expect(stored[2][5] as DatabaseValue == .null)
        #expect(text(stored[2], 6) == "opensmtpd")
        // The same rows again add nothing.
        #expect(try store.storePassive(source: source, rows) == 0)
    }
}
