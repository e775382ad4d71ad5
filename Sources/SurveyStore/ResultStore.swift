import Foundation
import GRDB
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

/// Scan metadata as stored in `scans`.
public struct ScanInfo: Sendable, Hashable, Codable, FetchableRecord {
    public var id: Int64
    public var startedAt: String
    public var finishedAt: String?
    public var status: String
    public var commandLine: String
    public var toolVersion: String
    public var options: String
    public var input: String?
    public var inputLines: Int

    enum CodingKeys: String, CodingKey {
        case id
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case status
        case commandLine = "command_line"
        case toolVersion = "tool_version"
        case options
        case input
        case inputLines = "input_lines"
    }
}

/// The SQLite result store (WAL mode, one writer, readers concurrent with a running scan).
public final class ResultStore: Sendable {
    public let pool: DatabasePool

    public init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        try Schema.migrator.migrate(pool)
        // The writer's working set during a scan is the right edge of each table and index
        // plus one leaf per MX host in `mx_host`: keep it in memory (32 MiB instead of
        // SQLite's 2 MiB default), and checkpoint every 40 MiB of WAL instead of 4 MiB so
        // a hot page is copied into the database file less often.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA cache_size = -32768")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
        }
    }

    public static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false))
    }

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
        return try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO scans (started_at, status, command_line, tool_version, options, input)
                    VALUES (?, 'running', ?, ?, ?, ?)
                    """, arguments: [Self.timestamp(), commandLine, toolVersion, json, input])
            return db.lastInsertedRowID
        }
    }

    /// Marks a scan `done` or `interrupted` and sets its end time.
    public func finishScan(_ id: Int64, status: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE scans SET finished_at = ?, status = ? WHERE id = ?",
                arguments: [Self.timestamp(), status, id])
        }
    }

    /// Marks a resumed scan as running again.
    public func reopenScan(_ id: Int64) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE scans SET status = 'running', finished_at = NULL WHERE id = ?", arguments: [id])
        }
    }

    public func scan(_ id: Int64) throws -> ScanInfo? {
        try pool.read { db in
            try ScanInfo.fetchOne(db, sql: "SELECT * FROM scans WHERE id = ?", arguments: [id])
        }
    }

    public func scans() throws -> [ScanInfo] {
        try pool.read { db in try ScanInfo.fetchAll(db, sql: "SELECT * FROM scans ORDER BY id") }
    }

    /// Writes a batch of records in one transaction.
    public func write(scan: Int64, _ records: [StoreRecord]) throws {
        guard !records.isEmpty else { return }
        try pool.write { db in
            var inserter = BatchInserter(db: db, scan: scan)
            for record in records { try inserter.insert(record) }
        }
    }

    /// Writes a batch in one transaction on the database's writer queue, suspending the
    /// caller instead of blocking its thread. Writes run in the order they are called, so
    /// when one returns, every earlier one has landed (an empty batch is such a barrier).
    public func writeAsync(scan: Int64, _ records: [StoreRecord]) async throws {
        try await pool.write { db in
            var inserter = BatchInserter(db: db, scan: scan)
            for record in records { try inserter.insert(record) }
        }
    }

    /// Queues a batch for one transaction on the database's writer queue and returns at
    /// once; `completion` runs on that queue with the outcome. Batches land in the order
    /// they are queued (with `write`/`writeAsync` calls too).
    public func enqueueWrite(
        scan: Int64, _ records: [StoreRecord], completion: @escaping @Sendable ((any Error)?) -> Void
    ) {
        pool.asyncWrite(
            { db in
                var inserter = BatchInserter(db: db, scan: scan)
                for record in records { try inserter.insert(record) }
            },
            completion: { _, result in
                switch result {
                case .success: completion(nil)
                case .failure(let error): completion(error)
                }
            })
    }

    /// Writes the records of one transaction. The statements of the DNS records (hundreds
    /// of thousands per scan) are prepared once per batch and bound without re-validation.
    struct BatchInserter {
        let db: Database
        let scan: Int64
        let now = ResultStore.timestamp()
        private var domainInsert: Statement?
        private var mxInsert: Statement?
        private var hostInsert: Statement?
        private var addressInsert: Statement?

        init(db: Database, scan: Int64) {
            self.db = db
            self.scan = scan
        }

        private func prepared(_ slot: inout Statement?, _ sql: String) throws -> Statement {
            if let statement = slot { return statement }
            let statement = try db.cachedStatement(sql: sql)
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
                domain.setUncheckedArguments([
                    scan, r.domain, tag, rank, line, r.status.rawValue, r.detail, now,
                ])
                try domain.execute()
                guard db.changesCount > 0, !r.mx.isEmpty else { return }
                let id = db.lastInsertedRowID
                let mxRow = try prepared(
                    &mxInsert,
                    "INSERT OR IGNORE INTO mx (domain_id, host, preference, implicit) VALUES (?, ?, ?, ?)")
                for mx in r.mx {
                    mxRow.setUncheckedArguments([id, mx.host, mx.preference, r.implicitMX ? 1 : 0])
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
                host.setUncheckedArguments([scan, h.host, h.status.rawValue, h.cnameTarget, h.detail, now])
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
                    address.setUncheckedArguments([
                        id, ip, ip.contains(":") ? 6 : 4, reason == nil ? 0 : 1, reason,
                    ])
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
            let names = String(decoding: try JSONEncoder.sorted.encode(cert.dnsNames), as: UTF8.self)
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
                    names, cert.selfSigned ? 1 : 0,
                ])
        }
        let extensions = try p.ehloExtensions.map {
            String(decoding: try JSONEncoder.sorted.encode($0), as: UTF8.self)
        }
        // A re-probe (greylisting retry) replaces the earlier row of the same scan.
        try db.cachedStatement(sql: "DELETE FROM probes WHERE scan_id = ? AND ip = ? AND port = ?").execute(
            arguments: [scan, p.ip, port])
        let values: [(String, (any DatabaseValueConvertible)?)] = [
            ("scan_id", scan), ("ip", p.ip), ("port", port), ("sni", p.sni), ("status", p.status.rawValue),
            ("error_detail", p.errorDetail), ("banner_code", p.bannerCode), ("banner", p.banner),
            ("ehlo_code", p.ehloCode), ("used_helo", p.usedHelo ? 1 : 0), ("ehlo_extensions", extensions),
            ("starttls_offered", bool(p.starttlsOffered)), ("starttls_reply_code", p.starttlsReplyCode),
            ("mail_from_code", p.mailFromCode), ("plaintext_reply_code", p.plaintextReplyCode),
            ("plaintext_refused", bool(p.plaintextRefused)), ("greylisted", p.greylisted ? 1 : 0),
            ("tls_version", p.tlsVersion), ("tls_cipher", p.tlsCipher), ("tls_group", p.tlsGroup),
            ("cert_sha256", p.leaf?.sha256), ("cert_trusted", bool(p.certTrusted)),
            ("cert_verify_error", p.certVerifyError),
            ("cert_not_after", p.leaf?.notAfter.map { timestamp($0) }),
            ("cert_expired", bool(p.certExpired)), ("cert_not_yet_valid", bool(p.certNotYetValid)),
            ("cert_self_signed", bool(p.leaf?.selfSigned)), ("tls_ehlo_code", p.tlsEhloCode),
            ("attempts", p.attempts), ("duration_ms", p.durationMs), ("probed_at", timestamp(p.startedAt)),
        ]
        let columns = values.map(\.0).joined(separator: ", ")
        let marks = values.map { _ in "?" }.joined(separator: ", ")
        try db.cachedStatement(sql: "INSERT INTO probes (\(columns)) VALUES (\(marks))").execute(
            arguments: StatementArguments(values.map { $0.1?.databaseValue ?? .null }))
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
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
