import Foundation
internal import GRDB
import SurveyCore

/// One fact for the store. The scan pipeline sends these to a `StoreWriter`, which writes
/// them in batched transactions.
public enum StoreRecord: Sendable {
    case domain(DomainResolution, tag: String?, rank: Int?, line: Int?)
    /// A resolved MX host; `excluded` maps an address to the reason it is not probed.
    case host(HostResolution, excluded: [String: String])
    case probe(ProbeResult, port: Int)
    case problem(InputProblem)
    /// The accepted TLS versions of one probed address (main probe and version scan).
    case tlsVersions([TLSVersionCheck], ip: String, port: Int)
    /// The cipher-preference verdict of one probed address (docs/schema.md, v9).
    case cipherPreference(CipherPreferenceCheck, ip: String, port: Int)
    /// How many input lines have been consumed (for progress and resume).
    case inputProgress(lines: Int)
}

/// The SQLite result store (WAL mode, one writer, readers concurrent with a running scan):
/// the only owner of the schema and of the SQL over the scan's tables. It opens (and
/// migrates) the database for writing; `ReadOnlyStore` opens one for reading only.
///
/// Another process may hold the database's write lock for a while (an analyst creating an
/// index): each write waits up to `busyTimeout` for it (SQLite's busy handler), and a
/// transaction that still finds the database locked is run again, up to `busyRetries`
/// times, each retry reported through `onBusy`. Readers never block the writer (WAL).
public final class ResultStore: ResultReading {
    /// The database. Internal: every read and write goes through the store's methods (tests
    /// reach it with `@testable import`).
    let pool: DatabasePool
    /// Further tries of a transaction that found the database locked.
    public let busyRetries: Int
    let busyReport: BusyReport

    public init(
        path: String, busyTimeout: Duration = .seconds(5), busyRetries: Int = 60,
        onBusy: (@Sendable (String) -> Void)? = nil
    ) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(max(0, busyTimeout.inSeconds))
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        self.busyRetries = max(0, busyRetries)
        busyReport = BusyReport(onBusy)
        pool = try DatabasePool(path: path, configuration: config)
        try Self.retryingWhenBusy(retries: self.busyRetries, report: busyReport.call) {
            try Schema.migrator.migrate(pool)
        }
        // The writer's working set during a scan is the right edge of each table and index
        // plus one leaf per MX host in `mx_host`: keep it in memory (32 MiB instead of
        // SQLite's 2 MiB default), and checkpoint every 40 MiB of WAL instead of 4 MiB so
        // a hot page is copied into the database file less often.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA cache_size = -32768")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS` in UTC, whole seconds rounded down (`Timestamp.format`).
    public static func timestamp(_ date: Date = Date()) -> String { Timestamp.format(date) }

    /// A JSON array of strings, byte for byte as `JSONEncoder.sorted` encodes `[String]`
    /// (`JSONText.stringArray`).
    static func jsonArray(_ strings: [String]) -> String { JSONText.stringArray(strings) }

    public func read<T>(_ body: (StoreSnapshot) throws -> T) throws -> T {
        try pool.read { db in try body(StoreSnapshot(db: db)) }
    }

    /// The options, input and progress of a scan (what resuming it needs).
    public func definition(ofScan id: Int64) throws -> ScanDefinition? {
        try read { try $0.definition(ofScan: id) }
    }

    /// Writes a batch of records in one transaction.
    public func write(scan: Int64, _ records: [StoreRecord]) throws {
        guard !records.isEmpty else { return }
        try write { db in
            var inserter = BatchInserter(db: db, scan: scan)
            for record in records { try inserter.insert(record) }
        }
    }

    /// Queues a batch for one transaction on the database's writer queue and returns at
    /// once; `completion` runs on that queue with the outcome. Batches land in the order
    /// they are queued (with `write` calls too).
    /// `completion` gets the error, or nil and how many domain records were not stored
    /// because the scan already holds the name (a duplicate input line).
    public func enqueueWrite(
        scan: Int64, _ records: [StoreRecord],
        completion: @escaping @Sendable (_ error: (any Error)?, _ duplicateDomains: Int) -> Void
    ) {
        enqueueWrite(scan: scan, records, attempt: 0, completion: completion)
    }

    private func enqueueWrite(
        scan: Int64, _ records: [StoreRecord], attempt: Int,
        completion: @escaping @Sendable (_ error: (any Error)?, _ duplicateDomains: Int) -> Void
    ) {
        pool.asyncWrite(
            { db in
                var inserter = BatchInserter(db: db, scan: scan)
                for record in records { try inserter.insert(record) }
                return inserter.duplicateDomains
            },
            completion: { [self] _, result in
                switch result {
                case .success(let duplicates): completion(nil, duplicates)
                case .failure(let error):
                    // The transaction was rolled back as a whole: the batch is still here,
                    // and goes again, behind what was queued meanwhile.
                    if Self.isBusy(error), attempt < busyRetries {
                        busyReport.call(Self.busyMessage(error, attempt: attempt + 1, of: busyRetries))
                        enqueueWrite(scan: scan, records, attempt: attempt + 1, completion: completion)
                    } else {
                        completion(error, 0)
                    }
                }
            })
    }

    /// A write transaction that is run again when it finds the database locked.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try Self.retryingWhenBusy(retries: busyRetries, report: busyReport.call) {
            try pool.write(updates)
        }
    }

    static func retryingWhenBusy<T>(retries: Int, report: (String) -> Void, _ body: () throws -> T) throws
        -> T
    {
        var attempt = 0
        while true {
            do { return try body() } catch  where isBusy(error) && attempt < retries {
                attempt += 1
                report(busyMessage(error, attempt: attempt, of: retries))
            }
        }
    }

    static func isBusy(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    private static func busyMessage(_ error: any Error, attempt: Int, of retries: Int) -> String {
        let code = (error as? DatabaseError)?.resultCode == .SQLITE_LOCKED ? "locked" : "busy"
        return
            "the database is \(code) (another process holds its write lock); trying the transaction again (\(attempt) of \(retries))"
    }

}

/// Where busy-database retries are reported (the scan's logger); nothing by default.
final class BusyReport: Sendable {
    private let report: (@Sendable (String) -> Void)?
    init(_ report: (@Sendable (String) -> Void)?) { self.report = report }
    func call(_ message: String) { report?(message) }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
