import Foundation
internal import GRDB
import SurveyCore

/// One `Received:` hop of a message as stored (`header_hops`, the `message_hops` view).
public struct MessageHopRecord: Sendable, Equatable {
    public var hop: Int
    public var fromHost: String?
    /// The registrable domain of `fromHost` (public suffix list), or its pseudonym.
    public var fromDomain: String?
    public var byHost: String?
    public var protocolName: String?
    public var tls: Bool?
    public var tlsVersion: String?
    public var tlsCipher: String?
    /// Which format said what `tls` holds (`SurveyHeaders.TLSEvidence` raw values).
    public var evidence: String

    public init(
        hop: Int, fromHost: String?, fromDomain: String?, byHost: String?, protocolName: String?, tls: Bool?,
        tlsVersion: String?, tlsCipher: String?, evidence: String
    ) {
        self.hop = hop
        self.fromHost = fromHost
        self.fromDomain = fromDomain
        self.byHost = byHost
        self.protocolName = protocolName
        self.tls = tls
        self.tlsVersion = tlsVersion
        self.tlsCipher = tlsCipher
        self.evidence = evidence
    }
}

/// One ingested message: its keyed digest, its hops (0 = topmost) and its last external hop.
public struct MessageRecord: Sendable, Equatable {
    public var source: String
    /// Hex HMAC-SHA256 under the store's key (`headerDigestKey`), never the Message-ID.
    public var digest: String
    public var hops: [MessageHopRecord]
    public var arrival: MessageArrival
    /// The index of the last external hop when `arrival` is `.external`.
    public var lastExternalHop: Int?
    /// `YYYY-MM-DD` (UTC) of the last external hop's timestamp.
    public var day: String?

    public init(
        source: String, digest: String, hops: [MessageHopRecord], arrival: MessageArrival,
        lastExternalHop: Int?,
        day: String?
    ) {
        self.source = source
        self.digest = digest
        self.hops = hops
        self.arrival = arrival
        self.lastExternalHop = lastExternalHop
        self.day = day
    }
}

/// The message figures a report needs, over the messages of one source or all.
public struct MessageFigures: Sendable, Equatable {
    /// Messages by the last external hop's `tls`: encrypted, plaintext, not said.
    public var encrypted = 0
    public var plaintext = 0
    public var tlsUnknown = 0
    /// Messages without a last external hop, by why (`MessageArrival` other than `.external`).
    public var withoutExternalHop: [MessageArrival: Int] = [:]
    /// Encrypted messages by the last external hop's TLS version (nil: the line names none).
    public var byVersion: [String?: Int] = [:]
    /// Messages by the last external hop's client.
    public var byPeer: [PeerCount] = []
    /// Messages by the UTC day of the last external hop (messages whose hop has no date are
    /// under `nil`).
    public var byDay: [DayCount] = []

    /// Every ingested message.
    public var total: Int { encrypted + plaintext + tlsUnknown + withoutExternalHop.values.reduce(0, +) }

    public init() {}
}

public struct PeerCount: Sendable, Equatable {
    public var host: String?
    public var domain: String?
    public var messages: Int
    public var encrypted: Int
    public var plaintext: Int

    public init(host: String?, domain: String?, messages: Int, encrypted: Int, plaintext: Int) {
        self.host = host
        self.domain = domain
        self.messages = messages
        self.encrypted = encrypted
        self.plaintext = plaintext
    }
}

public struct DayCount: Sendable, Equatable {
    public var day: String?
    public var messages: Int
    public var encrypted: Int
    public var plaintext: Int

    public init(day: String?, messages: Int, encrypted: Int, plaintext: Int) {
        self.day = day
        self.messages = messages
        self.encrypted = encrypted
        self.plaintext = plaintext
    }
}

extension ResultStore {
    /// The store's key for message digests: 32 random bytes, made on first use and kept in
    /// `header_key`, so that the same message gives the same digest in every run against
    /// this store, and a digest cannot be checked against a guessed Message-ID without it.
    public func headerDigestKey() throws -> [UInt8] {
        try write { db in
            if let key = try Data.fetchOne(db, sql: "SELECT key FROM header_key WHERE id = 1") {
                return Array(key)
            }
            var generator = SystemRandomNumberGenerator()
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try db.execute(sql: "INSERT INTO header_key (id, key) VALUES (1, ?)", arguments: [Data(key)])
            return key
        }
    }

    /// Stores messages in one transaction; a message already stored (same source and
    /// digest) is left as it is. Returns how many were new.
    @discardableResult
    public func storeMessages(_ messages: [MessageRecord]) throws -> Int {
        guard !messages.isEmpty else { return 0 }
        let now = ResultStore.timestamp()
        return try write { db in
            var added = 0
            for message in messages {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO header_messages
                            (source, digest, hop_count, arrival, last_external_hop, day, ingested_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        message.source, message.digest, message.hops.count, message.arrival.rawValue,
                        message.lastExternalHop, message.day, now,
                    ])
                guard db.changesCount == 1 else { continue }
                let id = db.lastInsertedRowID
                for hop in message.hops {
                    try db.execute(
                        sql: """
                            INSERT INTO header_hops (message_id, hop, from_host, from_domain, by_host, protocol,
                                                     tls, tls_version, tls_cipher, evidence)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            id, hop.hop, hop.fromHost, hop.fromDomain, hop.byHost, hop.protocolName,
                            hop.tls.map { $0 ? 1 : 0 }, hop.tlsVersion, hop.tlsCipher, hop.evidence,
                        ])
                }
                added += 1
            }
            return added
        }
    }
}

extension ResultReading {
    /// The message figures of `source` (all sources when nil); empty for a store without
    /// message tables.
    public func messageFigures(source: String? = nil) throws -> MessageFigures {
        try read { try $0.messageFigures(source: source) }
    }

    /// The hops of every stored message, in order (source, digest, hop).
    public func messages(source: String? = nil) throws -> [MessageRecord] {
        try read { try $0.messages(source: source) }
    }
}

extension StoreSnapshot {
    private func hasMessageTables() throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'header_messages'")
            ?? false
    }

    public func messageFigures(source: String? = nil) throws -> MessageFigures {
        var figures = MessageFigures()
        guard try hasMessageTables() else { return figures }
        let filter = source == nil ? "" : "AND m.source = ?"
        let arguments: StatementArguments = source.map { [$0] } ?? []
        // The last external hop of each message (NULL columns for the others).
        let base = """
            SELECT m.arrival AS arrival, m.day AS day, h.tls AS tls, h.tls_version AS version,
                   h.from_host AS host, h.from_domain AS domain
            FROM header_messages m
            LEFT JOIN header_hops h ON h.message_id = m.id AND h.hop = m.last_external_hop
            WHERE 1 = 1 \(filter)
            """
        for row in try Row.fetchAll(
            db, sql: "SELECT arrival, tls, version, count(*) FROM (\(base)) GROUP BY arrival, tls, version",
            arguments: arguments)
        {
            let count: Int = row[3]
            let arrival = MessageArrival(rawValue: row[0]) ?? .unreadableHop
            switch arrival {
            case .external:
                let tls: Int? = row[1]
                switch tls {
                case 1:
                    figures.encrypted += count
                    figures.byVersion[row[2] as String?, default: 0] += count
                case 0: figures.plaintext += count
                default: figures.tlsUnknown += count
                }
            case .noExternalHop, .unreadableHop, .notOwnServer:
                figures.withoutExternalHop[arrival, default: 0] += count
            }
        }
        figures.byPeer = try Row.fetchAll(
            db,
            sql: """
                SELECT host, domain, count(*), coalesce(sum(tls = 1), 0), coalesce(sum(tls = 0), 0) FROM (\(base))
                WHERE arrival = 'external' GROUP BY host, domain ORDER BY count(*) DESC, host
                """, arguments: arguments
        ).map { PeerCount(host: $0[0], domain: $0[1], messages: $0[2], encrypted: $0[3], plaintext: $0[4]) }
        figures.byDay = try Row.fetchAll(
            db,
            sql: """
                SELECT day, count(*), coalesce(sum(tls = 1), 0), coalesce(sum(tls = 0), 0) FROM (\(base))
                WHERE arrival = 'external' GROUP BY day ORDER BY day
                """, arguments: arguments
        ).map { DayCount(day: $0[0], messages: $0[1], encrypted: $0[2], plaintext: $0[3]) }
        return figures
    }

    public func messages(source: String? = nil) throws -> [MessageRecord] {
        guard try hasMessageTables() else { return [] }
        let filter = source == nil ? "" : "WHERE m.source = ?"
        let arguments: StatementArguments = source.map { [$0] } ?? []
        var out: [MessageRecord] = []
        var byID: [Int64: Int] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT m.id, m.source, m.digest, m.arrival, m.last_external_hop, m.day
                FROM header_messages m \(filter) ORDER BY m.source, m.digest
                """, arguments: arguments)
        {
            byID[row[0]] = out.count
            out.append(
                MessageRecord(
                    source: row[1], digest: row[2], hops: [],
                    arrival: MessageArrival(rawValue: row[3]) ?? .unreadableHop, lastExternalHop: row[4],
                    day: row[5]))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT h.message_id, h.hop, h.from_host, h.from_domain, h.by_host, h.protocol, h.tls,
                       h.tls_version, h.tls_cipher, h.evidence
                FROM header_hops h JOIN header_messages m ON m.id = h.message_id \(filter)
                ORDER BY h.message_id, h.hop
                """, arguments: arguments)
        {
            guard let index = byID[row[0]] else { continue }
            let tls: Int? = row[6]
            out[index].hops.append(
                MessageHopRecord(
                    hop: row[1], fromHost: row[2], fromDomain: row[3], byHost: row[4], protocolName: row[5],
                    tls: tls.map { $0 == 1 }, tlsVersion: row[7], tlsCipher: row[8], evidence: row[9]))
        }
        return out
    }
}
