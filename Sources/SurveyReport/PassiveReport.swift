import Foundation
import SurveyCore
import SurveyStore

// The passive section of a report (docs/reports.md, "Passive figures"). Its keys are part
// of the documented JSON format: add keys, never rename or remove them.

/// The units of the passive figures.
public enum PassiveUnit: String, CaseIterable, Sendable, Codable {
    /// Connections a client opened to the logging server.
    case connectionIn = "connection_in"
    /// Connections the logging server opened to deliver.
    case connectionOut = "connection_out"
    /// Messages received, by their last external `Received:` hop.
    case message
    /// Messages the logging server delivered, by the connection that carried them.
    case delivery
}

/// What a passive figure is broken down by (`by`); `total` is the figure over the whole unit.
public enum PassiveBreakdown: String, CaseIterable, Sendable, Codable {
    case total
    case tlsVersion = "tls_version"
    case trust
    case day
    case peerHost = "peer_host"
    case peerIP = "peer_ip"
    case peerDomain = "peer_domain"
}

/// The figures of the passive section.
public enum PassiveFigureID: String, CaseIterable, Sendable, Codable {
    /// The unit travelled encrypted (with `by` = `tls_version` or `trust`: with that version
    /// or trust level).
    case encrypted
}

/// Why a unit is not in a passive figure's denominator.
public enum PassiveLeftOut: String, CaseIterable, Sendable, Codable {
    /// Message: the last external hop does not say whether TLS was used.
    case tlsNotSaid = "tls_not_said"
    /// Message: every hop was internal.
    case noExternalHop = "no_external_hop"
    /// Message: a hop without a `by` host came before any external hop.
    case unreadableHop = "unreadable_hop"
    /// Message: the topmost `by` host is none of `--own-hosts`.
    case notOwnServer = "not_own_server"
    /// Delivery by trust: encrypted, but the log does not say the trust level.
    case trustNotLogged = "trust_not_logged"
    /// Day breakdown of messages: the last external hop has no date.
    case noDate = "no_date"
}

/// One passive share: `numerator` of `denominator` units of `unit` (in group `group` of
/// breakdown `by`) satisfy `id`; units of the population that could not be counted are in
/// `left_out`. The same keys as a scan figure (`ShareCounts`), plus `by` and `group`.
public struct PassiveFigure: Codable, Sendable, Equatable {
    public var id: PassiveFigureID
    public var unit: PassiveUnit
    public var by: PassiveBreakdown
    /// The breakdown's value (a TLS version, trust level, day or peer); nil for `total`, and
    /// for units without a value (a peer without a host name: `peer_host` = nil).
    public var group: String?
    public var numerator: Int
    public var denominator: Int
    public var share: Double?
    public var leftOut: [String: Int]

    public init(
        id: PassiveFigureID = .encrypted, unit: PassiveUnit, by: PassiveBreakdown = .total,
        group: String? = nil,
        numerator: Int, denominator: Int, leftOut: [String: Int] = [:]
    ) {
        self.id = id
        self.unit = unit
        self.by = by
        self.group = group
        self.numerator = numerator
        self.denominator = denominator
        self.share = denominator == 0 ? nil : Double(numerator) / Double(denominator)
        self.leftOut = leftOut.filter { $0.value > 0 }
    }

    enum CodingKeys: String, CodingKey {
        case id, unit, by, group, numerator, denominator, share
        case leftOut = "left_out"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(unit, forKey: .unit)
        try c.encode(by, forKey: .by)
        try c.encode(group, forKey: .group)
        try ShareCounts.encode(numerator, denominator, share, leftOut, to: encoder)
    }
}

/// One row of "what enforcing TLS would break".
public struct WouldBreakRow: Codable, Sendable, Equatable {
    public var direction: String
    public var peerHost: String?
    public var peerIP: String?
    public var peerDomain: String?
    public var connections: Int
    public var messages: Int
    public var firstSeen: String
    public var lastSeen: String
    /// `matched`, `no_scan`, `no_domain`, `not_in_scan`, `not_tested`.
    public var match: String
    public var mxStarttls: Bool?
    public var mxTLS12: Bool?

    enum CodingKeys: String, CodingKey {
        case direction
        case peerHost = "peer_host"
        case peerIP = "peer_ip"
        case peerDomain = "peer_domain"
        case connections, messages
        case firstSeen = "first_seen"
        case lastSeen = "last_seen"
        case match
        case mxStarttls = "mx_starttls"
        case mxTLS12 = "mx_tls12"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(direction, forKey: .direction)
        try c.encode(peerHost, forKey: .peerHost)
        try c.encode(peerIP, forKey: .peerIP)
        try c.encode(peerDomain, forKey: .peerDomain)
        try c.encode(connections, forKey: .connections)
        try c.encode(messages, forKey: .messages)
        try c.encode(firstSeen, forKey: .firstSeen)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(match, forKey: .match)
        try c.encode(mxStarttls, forKey: .mxStarttls)
        try c.encode(mxTLS12, forKey: .mxTLS12)
    }
}

/// The passive section: figures from mail logs (`mxsurvey logs`) and message headers
/// (`mxsurvey headers`) of one source or all.
public struct PassiveSection: Codable, Sendable, Equatable {
    /// `--source`, nil for all sources.
    public var source: String?
    /// First and last day (UTC, `YYYY-MM-DD`) of the connections and messages counted.
    public var firstDay: String?
    public var lastDay: String?
    /// Every passive figure: totals first, then the breakdowns.
    public var figures: [PassiveFigure]
    /// The scan the would-break list is joined with: the scan the report is about when it
    /// names one (`--scan`), else the latest finished scan (nil: the store holds none).
    public var joinedScan: Int64?
    /// When the joined scan started (as `scans.started_at`; nil with `joinedScan`).
    public var joinedScanStartedAt: String?
    /// Plaintext peers, most messages first (at most `wouldBreakLimit` rows).
    public var wouldBreak: [WouldBreakRow]
    /// All plaintext peers, and how many of them the join did not match, by `match`.
    public var wouldBreakTotal: Int
    public var wouldBreakUnmatched: [String: Int]

    enum CodingKeys: String, CodingKey {
        case source
        case firstDay = "first_day"
        case lastDay = "last_day"
        case figures
        case joinedScan = "joined_scan"
        case joinedScanStartedAt = "joined_scan_started_at"
        case wouldBreak = "would_break"
        case wouldBreakTotal = "would_break_total"
        case wouldBreakUnmatched = "would_break_unmatched"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(firstDay, forKey: .firstDay)
        try c.encode(lastDay, forKey: .lastDay)
        try c.encode(figures, forKey: .figures)
        try c.encode(joinedScan, forKey: .joinedScan)
        try c.encode(joinedScanStartedAt, forKey: .joinedScanStartedAt)
        try c.encode(wouldBreak, forKey: .wouldBreak)
        try c.encode(wouldBreakTotal, forKey: .wouldBreakTotal)
        try c.encode(wouldBreakUnmatched, forKey: .wouldBreakUnmatched)
    }

    /// Peers shown per unit and peer breakdown; the rest are `other_peers`.
    public static let peerLimit = 20
    /// Rows of the would-break table.
    public static let wouldBreakLimit = 100

    public func figure(_ unit: PassiveUnit, by: PassiveBreakdown = .total, group: String? = nil)
        -> PassiveFigure?
    {
        figures.first { $0.unit == unit && $0.by == by && $0.group == group }
    }

    public func figures(_ unit: PassiveUnit, by: PassiveBreakdown) -> [PassiveFigure] {
        figures.filter { $0.unit == unit && $0.by == by }
    }
}

/// A report of a store that holds passive data but no scan.
public struct PassiveOnlyReport: Codable, Sendable, Equatable {
    public var formatVersion: Int
    /// Always nil: the store holds no scan.
    public var scan: ScanRecord?
    public var passive: PassiveSection

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case scan, passive
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(scan, forKey: .scan)
        try c.encode(passive, forKey: .passive)
    }
}

/// Builds the passive section from a store's read API.
public enum PassiveSectionBuilder {
    /// The section of `source` (all when nil); nil when the store holds no passive data (of
    /// that source). The would-break list is joined with `joinScan`, or with the latest
    /// finished scan when it is nil.
    public static func build(source: String?, joinScan: Int64? = nil, from snapshot: StoreSnapshot) throws
        -> PassiveSection?
    {
        let total = try snapshot.passiveCounts(source: source, by: .total)
        let messages = try snapshot.messageFigures(source: source)
        guard !total.isEmpty || messages.total > 0 else { return nil }
        var figures: [PassiveFigure] = []

        // Connections and deliveries, from `passive_connections`.
        func counts(_ g: PassiveGrouping) throws -> [PassiveCount] {
            try snapshot.passiveCounts(source: source, by: g)
        }
        let byVersion = try counts(.tlsVersion)
        let byTrust = try counts(.trust)
        let byDay = try counts(.day)
        let byPeer: [(PassiveBreakdown, [PassiveCount])] = [
            (.peerHost, try counts(.peerHost)), (.peerIP, try counts(.peerIP)),
            (.peerDomain, try counts(.peerDomain)),
        ]
        for direction in PassiveDirection.allCases {
            let unit: PassiveUnit = direction == .inbound ? .connectionIn : .connectionOut
            let all = total.first { $0.direction == direction }
            let n = all?.connections ?? 0
            guard n > 0 else { continue }
            figures.append(PassiveFigure(unit: unit, numerator: all?.tlsConnections ?? 0, denominator: n))
            for c in byVersion where c.direction == direction && c.group != nil {
                figures.append(
                    PassiveFigure(
                        unit: unit, by: .tlsVersion, group: c.group, numerator: c.connections, denominator: n)
                )
            }
            for c in byDay where c.direction == direction {
                figures.append(
                    PassiveFigure(
                        unit: unit, by: .day, group: c.group, numerator: c.tlsConnections,
                        denominator: c.connections))
            }
            for (by, rows) in byPeer {
                figures += peerFigures(
                    unit: unit, by: by,
                    rows.filter { $0.direction == direction }.map {
                        ($0.group, $0.tlsConnections, $0.connections)
                    })
            }
        }
        // Deliveries: the messages of outbound connections.
        if let out = total.first(where: { $0.direction == .outbound }), out.messages > 0 {
            let n = out.messages
            figures.append(PassiveFigure(unit: .delivery, numerator: out.tlsMessages, denominator: n))
            for c in byVersion where c.direction == .outbound && c.group != nil && c.messages > 0 {
                figures.append(
                    PassiveFigure(
                        unit: .delivery, by: .tlsVersion, group: c.group, numerator: c.messages,
                        denominator: n))
            }
            // Trust: TLS deliveries whose trust the log does not name are left out.
            let unnamed = byTrust.first { $0.direction == .outbound && $0.group == nil }?.tlsMessages ?? 0
            for trust in PassiveTrust.allCases.reversed() {
                let k =
                    byTrust.first { $0.direction == .outbound && $0.group == trust.rawValue }?.messages ?? 0
                figures.append(
                    PassiveFigure(
                        unit: .delivery, by: .trust, group: trust.rawValue, numerator: k,
                        denominator: n - unnamed,
                        leftOut: [PassiveLeftOut.trustNotLogged.rawValue: unnamed]))
            }
            for c in byDay where c.direction == .outbound && c.messages > 0 {
                figures.append(
                    PassiveFigure(
                        unit: .delivery, by: .day, group: c.group, numerator: c.tlsMessages,
                        denominator: c.messages))
            }
            for (by, rows) in byPeer {
                figures += peerFigures(
                    unit: .delivery, by: by,
                    rows.filter { $0.direction == .outbound && $0.messages > 0 }.map {
                        ($0.group, $0.tlsMessages, $0.messages)
                    })
            }
        }
        // Messages, from `message_hops`.
        if messages.total > 0 {
            var left: [String: Int] = [PassiveLeftOut.tlsNotSaid.rawValue: messages.tlsUnknown]
            for (arrival, k) in messages.withoutExternalHop {
                switch arrival {
                case .external: break
                case .noExternalHop: left[PassiveLeftOut.noExternalHop.rawValue, default: 0] += k
                case .unreadableHop: left[PassiveLeftOut.unreadableHop.rawValue, default: 0] += k
                case .notOwnServer: left[PassiveLeftOut.notOwnServer.rawValue, default: 0] += k
                }
            }
            let n = messages.encrypted + messages.plaintext
            figures.append(
                PassiveFigure(unit: .message, numerator: messages.encrypted, denominator: n, leftOut: left))
            for (version, k) in messages.byVersion.sorted(by: { ($0.key ?? "") > ($1.key ?? "") }) {
                figures.append(
                    PassiveFigure(
                        unit: .message, by: .tlsVersion, group: version, numerator: k, denominator: n,
                        leftOut: left))
            }
            let dated = messages.byDay.filter { $0.day != nil }
            let undated = messages.byDay.filter { $0.day == nil }.reduce(0) {
                $0 + $1.encrypted + $1.plaintext
            }
            for d in dated {
                let said = d.encrypted + d.plaintext
                guard said > 0 else { continue }
                figures.append(
                    PassiveFigure(
                        unit: .message, by: .day, group: d.day, numerator: d.encrypted, denominator: said,
                        leftOut: [
                            PassiveLeftOut.tlsNotSaid.rawValue: d.messages - said,
                            PassiveLeftOut.noDate.rawValue: undated,
                        ]))
            }
            var domains: [String?: (Int, Int)] = [:]
            for p in messages.byPeer {
                let e = domains[p.domain] ?? (0, 0)
                domains[p.domain] = (e.0 + p.encrypted, e.1 + p.encrypted + p.plaintext)
            }
            figures += peerFigures(
                unit: .message, by: .peerHost,
                messages.byPeer.map { ($0.host, $0.encrypted, $0.encrypted + $0.plaintext) }.filter {
                    $0.2 > 0
                })
            figures += peerFigures(
                unit: .message, by: .peerDomain,
                domains.map { ($0.key, $0.value.0, $0.value.1) }.filter { $0.2 > 0 })
        }

        let joined = try (joinScan ?? snapshot.latestFinishedScan()).flatMap { try snapshot.scan($0) }
        let peers = try snapshot.enforceTLSWouldBreak(source: source, scan: joined?.id)
        var unmatched: [String: Int] = [:]
        for p in peers where p.match != .matched { unmatched[p.match.rawValue, default: 0] += 1 }
        let period = try snapshot.passivePeriod(source: source)
        let days = figures.filter { $0.by == .day }.compactMap(\.group).sorted()
        let first = [period.map { String($0.first.prefix(10)) }, days.first].compactMap { $0 }.min()
        let last = [period.map { String($0.last.prefix(10)) }, days.last].compactMap { $0 }.max()
        return PassiveSection(
            source: source, firstDay: first, lastDay: last, figures: figures,
            joinedScan: joined?.id, joinedScanStartedAt: joined?.startedAt,
            wouldBreak: peers.prefix(PassiveSection.wouldBreakLimit).map {
                WouldBreakRow(
                    direction: $0.direction.rawValue, peerHost: $0.peerHost, peerIP: $0.peerIP,
                    peerDomain: $0.peerDomain,
                    connections: $0.connections, messages: $0.messages, firstSeen: $0.firstSeen,
                    lastSeen: $0.lastSeen,
                    match: $0.match.rawValue, mxStarttls: $0.mxStarttls, mxTLS12: $0.mxTLS12)
            }, wouldBreakTotal: peers.count, wouldBreakUnmatched: unmatched)
    }

    /// The peers with the most units first (ties by name), at most `peerLimit`; each row is
    /// (peer, numerator, denominator).
    private static func peerFigures(
        unit: PassiveUnit, by: PassiveBreakdown, _ rows: [(String?, Int, Int)]
    ) -> [PassiveFigure] {
        let sorted = rows.sorted { $0.2 != $1.2 ? $0.2 > $1.2 : ($0.0 ?? "") < ($1.0 ?? "") }
        return sorted.prefix(PassiveSection.peerLimit).map {
            PassiveFigure(unit: unit, by: by, group: $0.0, numerator: $0.1, denominator: $0.2)
        }
    }
}
