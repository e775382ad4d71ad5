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
}
