import Foundation
internal import GRDB
import SurveyCore

/// One (probe, MX host) pair whose DANE verdict the certificate chain decides: the host's
/// secure TLSA records and the chain the probe of one of its addresses received.
public struct DANECheck: Sendable {
    public var probeID: Int64
    /// The MX host name (TLSA owner `_25._tcp.<host>`, and the name DANE-TA checks).
    public var host: String
    /// The host's CNAME target, when it is an alias (a second name DANE-TA accepts).
    public var cnameTarget: String?
    public var records: [TLSARecord]
    /// TLSA RDATA too short to read (`hosts.tlsa_malformed`).
    public var malformed: Int
    /// DER of the presented chain, leaf first.
    public var chain: [[UInt8]]
}

/// The DANE verdict of one (probe, MX host) pair, as `dane_checks` stores it.
public struct DANECheckResult: Sendable, Hashable {
    public var probeID: Int64
    public var host: String
    /// `match`, `mismatch` or `unusable`.
    public var status: DANEStatus
    /// Positions (`tlsa_records.position`) of the records that matched / did not match.
    public var matched: [Int]
    public var failed: [Int]
    public var detail: String?

    public init(
        probeID: Int64, host: String, status: DANEStatus, matched: [Int], failed: [Int], detail: String?
    ) {
        self.probeID = probeID
        self.host = host
        self.status = status
        self.matched = matched
        self.failed = failed
        self.detail = detail
    }
}

// The DANE pass's reads and writes.
extension ResultStore {
    /// Every (probe, MX host) pair of `scan` without a stored DANE verdict whose host has
    /// secure, usable TLSA records (`hosts.dane_status` NULL, `tlsa_dnssec` secure) and whose
    /// probe received a certificate chain.
    public func pendingDANEChecks(scan: Int64) throws -> [DANECheck] {
        try pool.read { db in
            let pairs = try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT p.id AS probe_id, h.id AS host_id, h.name AS host, h.cname_target AS cname,
                           COALESCE(h.tlsa_malformed, 0) AS malformed
                    FROM probes p
                    CROSS JOIN addresses a ON a.ip = p.ip
                    CROSS JOIN hosts h ON h.id = a.host_id AND h.scan_id = p.scan_id
                    LEFT JOIN dane_checks dc ON dc.probe_id = p.id AND dc.host = h.name
                    WHERE p.scan_id = ? AND p.cert_sha256 IS NOT NULL AND h.dane_status IS NULL
                          AND h.tlsa_dnssec = 'secure' AND dc.probe_id IS NULL
                    """, arguments: [scan])
            var records: [Int64: [TLSARecord]] = [:]
            var chains: [Int64: [[UInt8]]] = [:]
            var checks: [DANECheck] = []
            for pair in pairs {
                let hostID: Int64 = pair["host_id"]
                let probeID: Int64 = pair["probe_id"]
                if records[hostID] == nil {
                    records[hostID] = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT usage, selector, matching_type, data FROM tlsa_records
                            WHERE host_id = ? ORDER BY position
                            """, arguments: [hostID]
                    ).map {
                        TLSARecord(
                            usage: UInt8(clamping: $0["usage"] as Int),
                            selector: UInt8(clamping: $0["selector"] as Int),
                            matchingType: UInt8(clamping: $0["matching_type"] as Int),
                            data: [UInt8](($0["data"] as Data?) ?? Data()))
                    }
                }
                if chains[probeID] == nil {
                    chains[probeID] = try Data.fetchAll(
                        db,
                        sql: """
                            SELECT c.der FROM probe_chain pc JOIN certificates c ON c.sha256 = pc.cert_sha256
                            WHERE pc.probe_id = ? ORDER BY pc.position
                            """, arguments: [probeID]
                    ).map { [UInt8]($0) }
                }
                checks.append(
                    DANECheck(
                        probeID: probeID, host: pair["host"], cnameTarget: pair["cname"],
                        records: records[hostID] ?? [],
                        malformed: pair["malformed"], chain: chains[probeID] ?? []))
            }
            return checks
        }
    }

    /// Stores DANE verdicts in one transaction; pairs already stored are kept as they are.
    public func storeDANEChecks(_ results: [DANECheckResult]) throws {
        guard !results.isEmpty else { return }
        func list(_ positions: [Int]) -> String {
            "[" + positions.map(String.init).joined(separator: ",") + "]"
        }
        try write { db in
            for r in results {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO dane_checks (probe_id, host, status, matched_records, failed_records, detail)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        r.probeID, r.host, r.status.rawValue, list(r.matched), list(r.failed), r.detail,
                    ])
            }
        }
    }
}
