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
    private let busyReport: BusyReport

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

    /// Creates a scan row with string options and returns its id.
    public func beginScan(commandLine: String, toolVersion: String, options: [String: String], input: String?)
        throws -> Int64
    {
        try beginScan(
            commandLine: commandLine, toolVersion: toolVersion, encodedOptions: options, input: input)
    }

    /// Creates a scan row and returns its id.
    public func beginScan(
        commandLine: String, toolVersion: String, encodedOptions options: some Encodable, input: String?
    ) throws -> Int64 {
        let json = String(decoding: try JSONEncoder.sorted.encode(options), as: UTF8.self)
        return try write { db in
            try db.execute(
                sql: """
                    INSERT INTO scans (started_at, status, command_line, tool_version, options, input)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Self.timestamp(), ScanStatus.running.rawValue, commandLine, toolVersion, json, input,
                ])
            return db.lastInsertedRowID
        }
    }

    /// Ends a scan (or a resumed run of it) as `done` or `interrupted` and sets its end time.
    /// `maxLagMs`: the scanner's largest scheduling lag in this run; a resumed scan keeps the
    /// larger of its runs'.
    public func finishScan(_ id: Int64, status: ScanStatus, maxLagMs: Int? = nil) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE scans SET finished_at = ?, status = ?,
                        max_lag_ms = CASE WHEN ? IS NULL THEN max_lag_ms ELSE max(coalesce(max_lag_ms, 0), ?) END
                    WHERE id = ?
                    """,
                arguments: [Self.timestamp(), status.rawValue, maxLagMs, maxLagMs, id])
        }
    }

    /// Marks a resumed scan as running again.
    public func reopenScan(_ id: Int64) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE scans SET status = ?, finished_at = NULL WHERE id = ?",
                arguments: [ScanStatus.running.rawValue, id])
        }
    }

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

    /// Writes the records of one transaction. The statements of the DNS records (hundreds
    /// of thousands per scan) are prepared once per batch and bound without re-validation.
    struct BatchInserter {
        let db: Database
        let scan: Int64
        let now = ResultStore.timestamp()
        /// Domain records not stored because the scan already has the name.
        private(set) var duplicateDomains = 0
        private var domainInsert: BoundInsert?
        private var mxInsert: BoundInsert?
        private var hostInsert: BoundInsert?
        private var addressInsert: BoundInsert?

        init(db: Database, scan: Int64) {
            self.db = db
            self.scan = scan
        }

        private func prepared(_ slot: inout BoundInsert?, _ sql: String) throws -> BoundInsert {
            if let statement = slot { return statement }
            let statement = BoundInsert(try db.cachedStatement(sql: sql), in: db)
            slot = statement
            return statement
        }

        mutating func insert(_ record: StoreRecord) throws {
            switch record {
            case .domain(let r, let tag, let rank, let line):
                let domain = try prepared(
                    &domainInsert,
                    """
                    INSERT INTO domains (scan_id, name, tag, rank, input_line, dns_status, dns_detail, resolved_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (scan_id, name) DO NOTHING
                    """)
                try domain.set(1, scan)
                try domain.set(2, r.domain)
                try domain.set(3, tag)
                try domain.set(4, rank)
                try domain.set(5, line)
                try domain.set(6, r.status.rawValue)
                try domain.set(7, r.detail)
                try domain.set(8, now)
                try domain.execute()
                guard db.changesCount > 0 else {
                    duplicateDomains += 1
                    return
                }
                guard !r.mx.isEmpty else { return }
                let id = db.lastInsertedRowID
                let mxRow = try prepared(
                    &mxInsert,
                    "INSERT OR IGNORE INTO mx (domain_id, host, preference, implicit) VALUES (?, ?, ?, ?)")
                for mx in r.mx {
                    try mxRow.set(1, id)
                    try mxRow.set(2, mx.host)
                    try mxRow.set(3, mx.preference)
                    try mxRow.set(4, r.implicitMX ? 1 : 0)
                    try mxRow.execute()
                }
            case .host(let h, let excluded):
                let host = try prepared(
                    &hostInsert,
                    """
                    INSERT INTO hosts (scan_id, name, dns_status, cname_target, dns_detail, resolved_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (scan_id, name) DO NOTHING
                    """)
                try host.set(1, scan)
                try host.set(2, h.host)
                try host.set(3, h.status.rawValue)
                try host.set(4, h.cnameTarget)
                try host.set(5, h.detail)
                try host.set(6, now)
                try host.execute()
                guard db.changesCount > 0, !h.addresses.isEmpty else { return }
                let id = db.lastInsertedRowID
                let address = try prepared(
                    &addressInsert,
                    """
                    INSERT OR IGNORE INTO addresses (host_id, ip, family, excluded, exclude_reason)
                    VALUES (?, ?, ?, ?, ?)
                    """)
                for ip in h.addresses {
                    let reason = excluded[ip]
                    try address.set(1, id)
                    try address.set(2, ip)
                    try address.set(3, ip.contains(":") ? 6 : 4)
                    try address.set(4, reason == nil ? 0 : 1)
                    try address.set(5, reason)
                    try address.execute()
                }
            case .probe(let p, let port):
                try ResultStore.insertProbe(p, port: port, scan: scan, db: db)
            case .problem(let problem):
                try db.cachedStatement(
                    sql:
                        "INSERT OR IGNORE INTO input_problems (scan_id, line, text, reason) VALUES (?, ?, ?, ?)"
                ).execute(
                    arguments: [scan, problem.line, problem.text, problem.reason])
            case .inputProgress(let lines):
                try db.cachedStatement(sql: "UPDATE scans SET input_lines = max(input_lines, ?) WHERE id = ?")
                    .execute(
                        arguments: [lines, scan])
            }
        }
    }

    fileprivate static func bool(_ b: Bool?) -> Int? { b.map { $0 ? 1 : 0 } }

    fileprivate static func insertProbe(_ p: ProbeResult, port: Int, scan: Int64, db: Database) throws {
        for cert in p.chain {
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO certificates (sha256, der, subject, issuer, not_before, not_after,
                        key_type, key_bits, signature_algorithm, dns_names, self_signed)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    cert.sha256, Data(cert.der), cert.subject, cert.issuer,
                    cert.notBefore.map { timestamp($0) },
                    cert.notAfter.map { timestamp($0) }, cert.keyType, cert.keyBits, cert.signatureAlgorithm,
                    jsonArray(cert.dnsNames), cert.selfSigned ? 1 : 0,
                ])
        }
        let extensions = p.ehloExtensions.map(jsonArray)
        // A re-probe (greylisting retry) replaces the earlier row of the same scan.
        try db.cachedStatement(sql: "DELETE FROM probes WHERE scan_id = ? AND ip = ? AND port = ?").execute(
            arguments: [scan, p.ip, port])
        let values: [DatabaseValue] = [
            scan.databaseValue, p.ip.databaseValue, port.databaseValue, p.sni.databaseValue,
            p.status.rawValue.databaseValue, p.errorDetail.databaseValue, p.bannerCode.databaseValue,
            p.banner.databaseValue, p.ehloCode.databaseValue, (p.usedHelo ? 1 : 0).databaseValue,
            extensions.databaseValue, bool(p.starttlsOffered).databaseValue,
            p.starttlsReplyCode.databaseValue,
            p.mailFromCode.databaseValue, p.plaintextReplyCode.databaseValue,
            bool(p.plaintextRefused).databaseValue, (p.greylisted ? 1 : 0).databaseValue,
            p.tlsVersion.databaseValue, p.tlsCipher.databaseValue, p.tlsGroup.databaseValue,
            p.leaf?.sha256.databaseValue ?? .null, bool(p.certTrusted).databaseValue,
            p.certVerifyError.databaseValue,
            p.leaf?.notAfter.map { timestamp($0) }.databaseValue ?? .null,
            bool(p.certExpired).databaseValue, bool(p.certNotYetValid).databaseValue,
            bool(p.leaf?.selfSigned).databaseValue, p.tlsEhloCode.databaseValue,
            p.attempts.databaseValue, p.durationMs.databaseValue, timestamp(p.startedAt).databaseValue,
        ]
        try db.cachedStatement(sql: insertProbeSQL).execute(arguments: StatementArguments(values))
        let probeID = db.lastInsertedRowID
        for (position, cert) in p.chain.enumerated() {
            try db.cachedStatement(
                sql: "INSERT INTO probe_chain (probe_id, position, cert_sha256) VALUES (?, ?, ?)"
            ).execute(
                arguments: [probeID, position, cert.sha256])
        }
        for (name, match) in p.hostnameMatches.sorted(by: { $0.key < $1.key }) {
            try db.cachedStatement(
                sql: "INSERT INTO probe_names (probe_id, name, hostname_match) VALUES (?, ?, ?)"
            ).execute(
                arguments: [probeID, name, match ? 1 : 0])
        }
    }

    /// The columns of a probe row, in the order `insertProbe` binds them.
    private static let insertProbeSQL = """
        INSERT INTO probes (scan_id, ip, port, sni, status, error_detail, banner_code, banner, ehlo_code,
            used_helo, ehlo_extensions, starttls_offered, starttls_reply_code, mail_from_code,
            plaintext_reply_code, plaintext_refused, greylisted, tls_version, tls_cipher, tls_group,
            cert_sha256, cert_trusted, cert_verify_error, cert_not_after, cert_expired, cert_not_yet_valid,
            cert_self_signed, tls_ehlo_code, attempts, duration_ms, probed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
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
