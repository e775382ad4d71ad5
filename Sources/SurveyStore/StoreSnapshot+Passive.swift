import Foundation
internal import GRDB
import SurveyCore

/// What passive connections can be counted by (`StoreSnapshot.passiveCounts`).
public enum PassiveGrouping: Sendable, Hashable, CaseIterable {
    /// One row per direction.
    case total
    /// The UTC day the connection started (`YYYY-MM-DD`).
    case day
    /// `tls_version` (NULL for plaintext connections).
    case tlsVersion
    /// `trust` (NULL for plaintext connections, or when the log does not say).
    case trust
    case peerHost
    case peerIP
    case peerDomain

    var column: String? {
        switch self {
        case .total: nil
        case .day: "substr(started_at, 1, 10)"
        case .tlsVersion: "tls_version"
        case .trust: "trust"
        case .peerHost: "peer_host"
        case .peerIP: "peer_ip"
        case .peerDomain: "peer_domain"
        }
    }
}

/// Connections and messages of one direction (and group): the numerators and
/// denominators of the passive figures. Units: connection, message.
public struct PassiveCount: Sendable, Hashable {
    public var direction: PassiveDirection
    /// The group's value (nil for `total`, and for connections without one).
    public var group: String?
    public var connections: Int
    public var tlsConnections: Int
    public var messages: Int
    public var tlsMessages: Int
}

/// A peer that sent (inbound) or received (outbound) over plaintext connections: who would
/// fail if TLS were enforced.
public struct PlaintextPeer: Sendable, Hashable {
    public var direction: PassiveDirection
    public var peerHost: String?
    public var peerIP: String?
    public var peerDomain: String?
    /// Plaintext connections, and the messages over them.
    public var connections: Int
    public var messages: Int
    /// `YYYY-MM-DDTHH:MM:SSZ` of its first and last plaintext connection.
    public var firstSeen: String
    public var lastSeen: String
}

extension StoreSnapshot {
    /// Whether the store has the passive tables (stores before migration v5 do not).
    public func hasPassiveTables() throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'view' AND name = 'passive_connections'"
        )
            ?? false
    }

    public func passiveSources() throws -> [PassiveSourceRecord] {
        guard try hasPassiveTables() else { return [] }
        return try Row.fetchAll(db, sql: "SELECT id, name, pseudonymized FROM passive_sources ORDER BY name")
            .map {
                PassiveSourceRecord(id: $0[0], name: $0[1], pseudonymized: $0[2])
            }
    }

    /// Connection and message counts per direction and group, from `passive_connections`
    /// (all sources when `source` is nil), ordered by direction and group.
    public func passiveCounts(source: String? = nil, by grouping: PassiveGrouping = .total) throws
        -> [PassiveCount]
    {
        guard try hasPassiveTables() else { return [] }
        let group = grouping.column.map { "\($0)" } ?? "NULL"
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT direction, \(group) AS grp, count(*), sum(tls), sum(messages), sum(messages * tls)
                FROM passive_connections
                WHERE ?1 IS NULL OR source = ?1
                GROUP BY direction, grp ORDER BY direction, grp
                """, arguments: [source])
        return rows.compactMap { row in
            guard let direction = PassiveDirection(rawValue: row[0]) else { return nil }
            return PassiveCount(
                direction: direction, group: row[1], connections: row[2], tlsConnections: row[3],
                messages: row[4], tlsMessages: row[5])
        }
    }

    /// Peers with plaintext connections, per direction, most messages first.
    public func passivePlaintextPeers(source: String? = nil) throws -> [PlaintextPeer] {
        guard try hasPassiveTables() else { return [] }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT direction, peer_host, peer_ip, max(peer_domain), count(*), sum(messages),
                       min(started_at), max(started_at)
                FROM passive_connections
                WHERE tls = 0 AND (?1 IS NULL OR source = ?1)
                GROUP BY direction, peer_host, peer_ip
                ORDER BY direction, sum(messages) DESC, count(*) DESC, peer_host, peer_ip
                """, arguments: [source])
        return rows.compactMap { row in
            guard let direction = PassiveDirection(rawValue: row[0]) else { return nil }
            return PlaintextPeer(
                direction: direction, peerHost: row[1], peerIP: row[2], peerDomain: row[3],
                connections: row[4],
                messages: row[5], firstSeen: row[6], lastSeen: row[7])
        }
    }

    /// Every ingested file of a source (all sources when nil), in ingest order.
    public func passiveFiles(source: String? = nil) throws -> [PassiveFileRecord] {
        guard try hasPassiveTables() else { return [] }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT f.path, f.mta, f.lines, f.used_lines, f.irrelevant_lines, f.skipped, f.connections,
                       f.stored_connections, f.first_at, f.last_at, f.error
                FROM passive_files f JOIN passive_sources s ON s.id = f.source_id
                WHERE ?1 IS NULL OR s.name = ?1 ORDER BY f.id
                """, arguments: [source])
        return rows.map { row in
            let skippedText: String = row[5]
            let skipped =
                (try? JSONDecoder().decode([String: Int].self, from: Data(skippedText.utf8))) ?? [:]
            return PassiveFileRecord(
                path: row[0], mta: (row[1] as String?).flatMap(PassiveMTA.init(rawValue:)), lines: row[2],
                usedLines: row[3], irrelevantLines: row[4], skipped: skipped, connections: row[6],
                storedConnections: row[7], firstAt: row[8], lastAt: row[9], error: row[10])
        }
    }
}

extension ResultReading {
    public func passiveCounts(source: String? = nil, by grouping: PassiveGrouping = .total) throws
        -> [PassiveCount]
    {
        try read { try $0.passiveCounts(source: source, by: grouping) }
    }

    public func passivePlaintextPeers(source: String? = nil) throws -> [PlaintextPeer] {
        try read { try $0.passivePlaintextPeers(source: source) }
    }

    public func passiveFiles(source: String? = nil) throws -> [PassiveFileRecord] {
        try read { try $0.passiveFiles(source: source) }
    }
}
