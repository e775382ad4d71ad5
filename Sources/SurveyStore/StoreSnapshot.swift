import Foundation
internal import GRDB
import SurveyCore

/// Read access to a result store. Each `read` is one read-only transaction: what its body
/// reads is one consistent snapshot, however much a running scan commits meanwhile.
public protocol ResultReading: Sendable {
    func read<T>(_ body: (StoreSnapshot) throws -> T) throws -> T
}

extension ResultReading {
    /// Every scan, oldest first.
    public func scans() throws -> [ScanRecord] { try read { try $0.scans() } }

    public func scan(_ id: Int64) throws -> ScanRecord? { try read { try $0.scan(id) } }

    /// Runs user SQL read-only (see `StoreSnapshot.query`).
    public func query(sql: String) throws -> QueryResult { try read { try $0.query(sql: sql) } }
}

/// A result store opened read-only and never migrated, for reports and queries: a store
/// written by an older mxsurvey is read as it is (e.g. scans without `max_lag_ms`).
public final class ReadOnlyStore: ResultReading {
    public let path: String
    private let queue: DatabaseQueue

    public init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        self.path = path
        queue = try DatabaseQueue(path: path, configuration: config)
    }

    public func read<T>(_ body: (StoreSnapshot) throws -> T) throws -> T {
        try queue.read { db in try body(StoreSnapshot(db: db)) }
    }
}

/// One read transaction of a store; valid only inside the `read` that passed it.
public struct StoreSnapshot {
    let db: Database

    // MARK: scans

    /// Every scan, oldest first.
    public func scans() throws -> [ScanRecord] {
        try Row.fetchAll(db, sql: "\(try scanColumns()) ORDER BY id").map(Self.scan)
    }

    public func scan(_ id: Int64) throws -> ScanRecord? {
        try Row.fetchOne(db, sql: "\(try scanColumns()) WHERE id = ?", arguments: [id]).map(Self.scan)
    }

    /// The options, input and progress of a scan.
    public func definition(ofScan id: Int64) throws -> ScanDefinition? {
        try Row.fetchOne(
            db, sql: "SELECT id, options, input, input_lines FROM scans WHERE id = ?", arguments: [id]
        ).map { ScanDefinition(scanID: $0[0], options: $0[1], input: $0[2], inputLines: $0[3]) }
    }

    /// The columns of a `ScanRecord`. A store opened read-only is not migrated: one written
    /// before migration v4 has no `max_lag_ms`, one written before v6 no `label`.
    private func scanColumns() throws -> String {
        let columns = Set(try db.columns(in: "scans").map(\.name))
        let lag = columns.contains("max_lag_ms") ? "max_lag_ms" : "NULL"
        let label = columns.contains("label") ? "label" : "NULL"
        return
            "SELECT id, started_at, finished_at, status, command_line, tool_version, \(lag), \(label) FROM scans"
    }

    private static func scan(_ row: Row) throws -> ScanRecord {
        let text: String = row[3]
        guard let status = ScanStatus(rawValue: text) else {
            throw StoreError("scan \(row[0] as Int64) has an unknown status '\(text)'")
        }
        return ScanRecord(
            id: row[0], startedAt: row[1], finishedAt: row[2], status: status, commandLine: row[4],
            toolVersion: row[5], maxLagMs: row[6], label: row[7])
    }

    // MARK: results

    /// Calls `body` with every row of the `results` view of `scan`, in the view's order (no
    /// ORDER BY: rows of one domain come together, MX hosts and IPs in index order).
    public func forEachResult(scan: Int64, _ body: (ResultRow) throws -> Void) throws {
        // A store opened read-only is not migrated: before v6 the view has no DNSSEC columns.
        let dnssec =
            try db.columns(in: "results").contains { $0.name == "dane_status" }
            ? "mx_dnssec, host_dnssec, dane_status" : "NULL, NULL, NULL"
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT scan_id, domain, tag, dns_status, mx_host, mx_preference, implicit_mx, ip, excluded,
                       probe_status, banner_code, starttls_offered, starttls_reply_code, tls_version,
                       tls_cipher, tls_group, cert_sha256, cert_trusted, cert_verify_error,
                       cert_hostname_match, cert_not_after, cert_expired, cert_self_signed,
                       plaintext_refused, plaintext_reply_code, error_detail, probed_at, mx_dns_status,
                       mx_cname_target, rank, greylisted, \(dnssec)
                FROM results WHERE scan_id = ?
                """, arguments: [scan])
        while let row = try cursor.next() {
            try body(
                ResultRow(
                    scanID: row[0], domain: row[1], tag: row[2], dnsStatus: StoredStatus(text: row[3]),
                    mxHost: row[4], mxPreference: row[5], implicitMX: row[6], ip: row[7], excluded: row[8],
                    probeStatus: (row[9] as String?).map(StoredStatus.init(text:)), bannerCode: row[10],
                    starttlsOffered: row[11], starttlsReplyCode: row[12], tlsVersion: row[13],
                    tlsCipher: row[14], tlsGroup: row[15], certSHA256: row[16], certTrusted: row[17],
                    certVerifyError: row[18], certHostnameMatch: row[19], certNotAfter: row[20],
                    certExpired: row[21], certSelfSigned: row[22], plaintextRefused: row[23],
                    plaintextReplyCode: row[24], errorDetail: row[25], probedAt: row[26],
                    mxDNSStatus: (row[27] as String?).map(StoredStatus.init(text:)), mxCNAMETarget: row[28],
                    rank: row[29], greylisted: row[30],
                    mxDNSSEC: (row[31] as String?).map(StoredStatus.init(text:)),
                    hostDNSSEC: (row[32] as String?).map(StoredStatus.init(text:)),
                    daneStatus: (row[33] as String?).map(StoredStatus.init(text:))))
        }
    }

    /// The greeting of the probe of `ip` in `scan` (the lowest port's), as stored.
    public func banner(scan: Int64, ip: String) throws -> String? {
        try String.fetchOne(
            db, sql: "SELECT banner FROM probes WHERE scan_id = ? AND ip = ? ORDER BY port LIMIT 1",
            arguments: [scan, ip])
    }

    /// The subject of a stored certificate.
    public func certificateSubject(sha256: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT subject FROM certificates WHERE sha256 = ?", arguments: [sha256])
    }

    // MARK: user SQL

    /// Runs every statement of `sql` (an analyst's or `queries/`'s SQL) in this read-only
    /// transaction and returns the columns and rows of the last statement that produces
    /// columns (no columns, no rows when none does). A statement that writes fails. SQL with
    /// parameters needs `query(sql:parameters:defaults:)`.
    public func query(sql: String) throws -> QueryResult {
        try query(sql: sql, parameters: [:])
    }
}

/// A store's content is not what this version can read.
public struct StoreError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
