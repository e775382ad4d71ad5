import Foundation
internal import GRDB
import SurveyCore

/// One ingested log file as `mxsurvey logs` read it: a row of `passive_files`.
public struct PassiveFileRecord: Sendable, Hashable {
    public var path: String
    /// nil: the format was not recognised and nothing was read.
    public var mta: PassiveMTA?
    public var lines: Int
    public var usedLines: Int
    public var irrelevantLines: Int
    /// Lines not used, by reason (`SkipReason`'s texts).
    public var skipped: [String: Int]
    /// Connections read from the file (including ones already stored).
    public var connections: Int
    /// Rows the file added, or completed (a connection an earlier ingest had only the start of).
    public var storedConnections: Int
    /// First and last time of a line (`YYYY-MM-DDTHH:MM:SSZ`).
    public var firstAt: String?
    public var lastAt: String?
    /// Why the file was not read (to its end).
    public var error: String?

    public init(
        path: String, mta: PassiveMTA?, lines: Int = 0, usedLines: Int = 0, irrelevantLines: Int = 0,
        skipped: [String: Int] = [:], connections: Int = 0, storedConnections: Int = 0,
        firstAt: String? = nil,
        lastAt: String? = nil, error: String? = nil
    ) {
        self.path = path
        self.mta = mta
        self.lines = lines
        self.usedLines = usedLines
        self.irrelevantLines = irrelevantLines
        self.skipped = skipped
        self.connections = connections
        self.storedConnections = storedConnections
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.error = error
    }
}

/// A source of passive data (`--source`): one organisation's or server's logs.
public struct PassiveSourceRecord: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var pseudonymized: Bool
}

/// The source a stream of connections was to be stored under does not exist (any more).
public struct PassiveSourceMissing: Error, CustomStringConvertible {
    public var id: Int64
    public var description: String { "passive source \(id) does not exist" }
}

/// A source exists with peers stored the other way (in clear vs. as keyed hashes): mixing
/// the two would count a peer twice.
public struct PassiveSourceMismatch: Error, CustomStringConvertible {
    public var source: String
    public var storedPseudonymized: Bool
    public var description: String {
        storedPseudonymized
            ? "source '\(source)' holds pseudonymized peers: ingest with --pseudonymize-peers (the same key) or use another --source"
            : "source '\(source)' holds peers in clear: ingest without --pseudonymize-peers or use another --source"
    }
}

extension ResultStore {
    /// The source's id, created if it does not exist yet.
    public func passiveSource(named name: String, pseudonymized: Bool) throws -> Int64 {
        try write { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT id, pseudonymized FROM passive_sources WHERE name = ?", arguments: [name])
            {
                let stored: Bool = row[1]
                guard stored == pseudonymized else {
                    throw PassiveSourceMismatch(source: name, storedPseudonymized: stored)
                }
                return row[0]
            }
            try db.execute(
                sql: "INSERT INTO passive_sources (name, pseudonymized, created_at) VALUES (?, ?, ?)",
                arguments: [name, pseudonymized, ResultStore.timestamp() + "Z"])
            return db.lastInsertedRowID
        }
    }

    /// Stores connections in one transaction. A connection whose key the source already
    /// holds replaces the stored row only when that row is incomplete (its log ended before
    /// the connection did); otherwise it is not stored again. Returns the rows added or replaced.
    @discardableResult
    public func storePassive(source: Int64, _ connections: [PassiveConnection]) throws -> Int {
        guard !connections.isEmpty else { return 0 }
        let batch = PassiveRowBatch(connections)
        return try write { db in try Self.insertPassive(db, source: source, batch) }
    }

    /// What the producer of a passive stream hands the store next.
    public enum PassiveStreamItem {
        /// Connections, and a tag `stored` reports their count under (the file index).
        case batch(PassiveRowBatch, tag: Int)
        /// Nothing ready yet (only when asked not to wait long).
        case notYet
        /// No more batches.
        case end
    }

    /// Stores the batches `next` hands out (until `.end`) as `storePassive` does, over one
    /// write connection held for the whole ingest (a bulk ingest: docs/benchmarks.md §9),
    /// with foreign key enforcement off for the connection (the source is checked once,
    /// before the first row). `stored` gets each batch's tag and the rows it added or
    /// replaced. A transaction takes batches while they are ready, up to
    /// `rowsPerTransaction` rows: `next(false)` may answer `.notYet` (the producer is
    /// behind), and the transaction then commits before `next(true)` waits for the next
    /// batch, so the write lock is not held while waiting for input (a slow pipe). Each
    /// transaction starts IMMEDIATE (it waits for another process's write lock, and is tried
    /// again like every write), so the statements in it cannot find the database busy.
    /// Memory: the page cache is raised to `cacheMiB` for the ingest (the unique key index of
    /// a large source stays in memory).
    public func storePassiveStream(
        source: Int64, rowsPerTransaction: Int = 250_000, cacheMiB: Int = 64,
        next: (_ wait: Bool) throws -> PassiveStreamItem,
        stored: (_ tag: Int, _ rows: Int) -> Void
    ) throws {
        try pool.writeWithoutTransaction { db in
            // The rows reference `source`, which this store just read or created: SQLite's
            // look-up of the parent per row (foreign key enforcement) is skipped for the
            // ingest; the constraint and its ON DELETE CASCADE stay in the schema.
            try db.execute(sql: "PRAGMA cache_size = \(-1024 * max(2, cacheMiB))")
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer {
                try? db.execute(sql: "PRAGMA foreign_keys = ON")
                try? db.execute(sql: "PRAGMA cache_size = -32768")
            }
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT count(*) > 0 FROM passive_sources WHERE id = ?", arguments: [source])
                    == true
            else { throw PassiveSourceMissing(id: source) }
            var done = false
            while !done {
                // Outside a transaction: wait for the first batch of the next one.
                guard case .batch(let first, let firstTag) = try next(true) else {
                    done = true
                    continue
                }
                try Self.retryingWhenBusy(retries: busyRetries, report: busyReport.call) {
                    try db.execute(sql: "BEGIN IMMEDIATE")
                }
                do {
                    stored(firstTag, try Self.insertPassive(db, source: source, first))
                    var rows = first.count
                    taking: while rows < rowsPerTransaction {
                        switch try next(false) {
                        case .batch(let batch, let tag):
                            stored(tag, try Self.insertPassive(db, source: source, batch))
                            rows += batch.count
                        case .notYet:
                            break taking
                        case .end:
                            done = true
                            break taking
                        }
                    }
                    try db.execute(sql: "COMMIT")
                } catch {
                    if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                    throw error
                }
            }
        }
    }

    private static func insertPassive(_ db: Database, source: Int64, _ batch: PassiveRowBatch) throws -> Int {
        let insert = BoundInsert(
            try db.cachedStatement(
                sql: """
                    INSERT INTO passive_connection_rows (source_id, key, mta, direction, started,
                        peer_host, peer_ip, peer_domain, tls, tls_version, tls_cipher, trust, messages, complete)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (source_id, key) DO UPDATE SET
                        mta = excluded.mta, direction = excluded.direction, started = excluded.started,
                        peer_host = excluded.peer_host, peer_ip = excluded.peer_ip,
                        peer_domain = excluded.peer_domain, tls = excluded.tls,
                        tls_version = excluded.tls_version, tls_cipher = excluded.tls_cipher,
                        trust = excluded.trust, messages = excluded.messages, complete = excluded.complete
                    WHERE passive_connection_rows.complete = 0
                        AND (excluded.complete = 1 OR excluded.messages > passive_connection_rows.messages
                             OR excluded.tls > passive_connection_rows.tls)
                    """), in: db)
        var stored = 0
        defer { insert.clearBindings() }
        try insert.set(1, source)
        // The texts are bound where they lie in the batch's buffer (no copy by SQLite), each
        // row written while the buffer is lent.
        try batch.bytes.withUnsafeBufferPointer { bytes in
            try batch.rows.withUnsafeBufferPointer { rows in
                func text(_ index: Int32, _ t: PassiveRowBatch.Text) throws {
                    guard t.length >= 0 else { return try insert.setBorrowed(index, nil) }
                    try insert.setBorrowed(
                        index, UnsafeBufferPointer(rebasing: bytes[t.start..<(t.start + t.length)]))
                }
                for r in rows {
                    try insert.set(2, r.key)
                    try insert.set(3, r.mta)
                    try insert.set(4, r.direction)
                    try insert.set(5, r.started)
                    try insert.set(9, r.tls)
                    try insert.set(13, r.messages)
                    try insert.set(14, r.complete)
                    try text(6, r.peerHost)
                    try text(7, r.peerIP)
                    try text(8, r.peerDomain)
                    try text(10, r.tlsVersion)
                    try text(11, r.tlsCipher)
                    try text(12, r.trust)
                    try insert.execute()
                    stored += insert.changes
                }
            }
        }
        return stored
    }

    /// Records what `mxsurvey logs` read from one file.
    public func recordPassiveFile(source: Int64, _ file: PassiveFileRecord) throws {
        let skipped =
            "{"
            + file.skipped.sorted { $0.key < $1.key }.map { "\(JSONText.string($0.key)):\($0.value)" }
            .joined(separator: ",") + "}"
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO passive_files (source_id, path, mta, ingested_at, lines, used_lines,
                        irrelevant_lines, skipped, connections, stored_connections, first_at, last_at, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    source, file.path, file.mta?.rawValue, ResultStore.timestamp() + "Z", file.lines,
                    file.usedLines, file.irrelevantLines, skipped, file.connections, file.storedConnections,
                    file.firstAt, file.lastAt, file.error,
                ])
        }
    }

    /// `passive_connection_rows.mta` (the view turns it back into the name).
    static func passiveCode(_ mta: PassiveMTA) -> Int64 {
        switch mta {
        case .postfix: 1
        case .exim: 2
        case .opensmtpd: 3
        }
    }

    /// `passive_connection_rows.direction`.
    static func passiveCode(_ direction: PassiveDirection) -> Int64 {
        switch direction {
        case .inbound: 0
        case .outbound: 1
        }
    }
}
