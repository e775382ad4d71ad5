import Foundation
internal import GRDB
import SurveyCore

/// Why the join of a plaintext peer with a scan found no MX facts (`WouldBreakPeer.match`).
public enum ScanMatch: String, Sendable, Hashable, CaseIterable, Codable {
    /// The peer's host is an MX host of the scan, or its domain a scanned domain, and at
    /// least one of the MX IPs answered.
    case matched
    /// The store holds no finished scan.
    case noScan = "no_scan"
    /// The peer has no registrable domain (no host name in the log).
    case noDomain = "no_domain"
    /// Neither the peer's host (as an MX host) nor its domain was in the scan.
    case notInScan = "not_in_scan"
    /// The host or domain was scanned, but none of its MX IPs answered the STARTTLS question.
    case notTested = "not_tested"
}

/// A peer that sent (inbound) or received (outbound) mail over plaintext connections — what
/// enforcing TLS would break — joined with a scan: the facts of the peer's host when it is
/// a scanned MX host, else those of its registrable domain's MX hosts.
public struct WouldBreakPeer: Sendable, Hashable {
    public var direction: PassiveDirection
    public var peerHost: String?
    public var peerIP: String?
    public var peerDomain: String?
    /// Plaintext connections, and the messages over them.
    public var connections: Int
    public var messages: Int
    /// `YYYY-MM-DDTHH:MM:SSZ` of the first and last plaintext connection.
    public var firstSeen: String
    public var lastSeen: String
    /// The scan joined (nil: none finished).
    public var scan: Int64?
    public var match: ScanMatch
    /// Every MX IP (of the host, or of the domain's MX hosts) that answered offered STARTTLS
    /// (nil: not matched).
    public var mxStarttls: Bool?
    /// Every MX IP that offered STARTTLS negotiated TLS 1.2 or 1.3 (nil: not matched, or
    /// none offered it).
    public var mxTLS12: Bool?
}

/// The first and last connection of the passive data (UTC timestamps), nil when there is none.
public struct PassivePeriod: Sendable, Hashable {
    public var first: String
    public var last: String
}

extension StoreSnapshot {
    /// The latest scan whose status is `done`.
    public func latestFinishedScan() throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT max(id) FROM scans WHERE status = 'done'")
    }

    /// First and last `started_at` of the passive connections (of `source`, or all).
    public func passivePeriod(source: String? = nil) throws -> PassivePeriod? {
        guard try hasPassiveTables() else { return nil }
        guard
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT min(started_at), max(started_at) FROM passive_connections WHERE ?1 IS NULL OR source = ?1",
                arguments: [source]),
            let first: String = row[0], let last: String = row[1]
        else { return nil }
        return PassivePeriod(first: first, last: last)
    }

    /// The plaintext peers (of `source`, or all) joined with `scan` (default: the latest
    /// finished scan). The rules are those of `queries/enforce_tls_would_break.sql`.
    public func enforceTLSWouldBreak(source: String? = nil, scan: Int64? = nil) throws -> [WouldBreakPeer] {
        guard try hasPassiveTables() else { return [] }
        let scanID = try scan ?? latestFinishedScan()
        let rows = try Row.fetchAll(
            db,
            sql: """
                WITH peers AS (
                    SELECT direction, peer_host, peer_ip, max(peer_domain) AS peer_domain,
                           count(*) AS connections, sum(messages) AS messages,
                           min(started_at) AS first_seen, max(started_at) AS last_seen
                    FROM passive_connections
                    WHERE tls = 0 AND (?1 IS NULL OR source = ?1)
                    GROUP BY direction, peer_host, peer_ip
                ),
                scanned AS (
                    SELECT r.domain,
                           min(r.starttls_offered) AS mx_starttls,
                           min(CASE WHEN r.starttls_offered = 1
                                    THEN r.tls_version IN ('TLSv1.2', 'TLSv1.3') END) AS mx_tls12,
                           count(r.starttls_offered) AS answered
                    FROM results r
                    WHERE r.scan_id = ?2
                    GROUP BY r.domain
                ),
                scanned_host AS (
                    SELECT r.mx_host,
                           min(r.starttls_offered) AS mx_starttls,
                           min(CASE WHEN r.starttls_offered = 1
                                    THEN r.tls_version IN ('TLSv1.2', 'TLSv1.3') END) AS mx_tls12,
                           count(r.starttls_offered) AS answered
                    FROM results r
                    WHERE r.scan_id = ?2 AND r.mx_host IS NOT NULL
                    GROUP BY r.mx_host
                )
                SELECT p.direction, p.peer_host, p.peer_ip, p.peer_domain, p.connections, p.messages,
                       p.first_seen, p.last_seen,
                       CASE WHEN ?2 IS NULL THEN 'no_scan'
                            WHEN h.mx_host IS NOT NULL THEN CASE WHEN h.answered > 0 THEN 'matched' ELSE 'not_tested' END
                            WHEN p.peer_domain IS NULL THEN 'no_domain'
                            WHEN s.domain IS NULL THEN 'not_in_scan'
                            WHEN s.answered = 0 THEN 'not_tested'
                            ELSE 'matched' END AS match,
                       CASE WHEN h.mx_host IS NOT NULL THEN h.mx_starttls ELSE s.mx_starttls END,
                       CASE WHEN h.mx_host IS NOT NULL THEN h.mx_tls12 ELSE s.mx_tls12 END
                FROM peers p
                LEFT JOIN scanned_host h ON h.mx_host = p.peer_host
                LEFT JOIN scanned s ON s.domain = p.peer_domain
                ORDER BY p.direction, p.messages DESC, p.connections DESC, p.peer_host, p.peer_ip
                """, arguments: [source, scanID])
        return rows.compactMap { row in
            guard let direction = PassiveDirection(rawValue: row[0]),
                let match = ScanMatch(rawValue: row[8])
            else { return nil }
            let matched = match == .matched
            return WouldBreakPeer(
                direction: direction, peerHost: row[1], peerIP: row[2], peerDomain: row[3],
                connections: row[4], messages: row[5], firstSeen: row[6], lastSeen: row[7],
                scan: scanID, match: match,
                mxStarttls: matched ? (row[9] as Int?).map { $0 != 0 } : nil,
                mxTLS12: matched ? (row[10] as Int?).map { $0 != 0 } : nil)
        }
    }
}

extension ResultReading {
    public func passivePeriod(source: String? = nil) throws -> PassivePeriod? {
        try read { try $0.passivePeriod(source: source) }
    }

    public func enforceTLSWouldBreak(source: String? = nil, scan: Int64? = nil) throws -> [WouldBreakPeer] {
        try read { try $0.enforceTLSWouldBreak(source: source, scan: scan) }
    }
}
