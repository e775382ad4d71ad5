import SurveyCore

/// Connections laid out for the store's bulk writer: every row's numbers in one array of
/// plain values and its six texts in one byte buffer, so the writer binds the texts where
/// they lie and touches no reference count per row. Built by whoever produces the batch
/// (in `mxsurvey logs`, the parser's thread), which takes that work off the writer's thread
/// (docs/benchmarks.md §9).
public struct PassiveRowBatch: Sendable {
    /// Where a text lies in `bytes`; `length` -1 for NULL.
    struct Text: Sendable {
        var start: Int
        var length: Int
    }

    struct Row: Sendable {
        var key: Int64
        var mta: Int64
        var direction: Int64
        var started: Int64
        var tls: Int64
        var messages: Int64
        var complete: Int64
        var peerHost: Text
        var peerIP: Text
        var peerDomain: Text
        var tlsVersion: Text
        var tlsCipher: Text
        var trust: Text
    }

    var rows: [Row] = []
    var bytes: [UInt8] = []

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    public init(_ connections: [PassiveConnection]) {
        rows.reserveCapacity(connections.count)
        bytes.reserveCapacity(connections.count * 96)
        for c in connections {
            rows.append(
                Row(
                    key: c.key, mta: ResultStore.passiveCode(c.mta),
                    direction: ResultStore.passiveCode(c.direction), started: c.startedAt,
                    tls: c.tls ? 1 : 0, messages: Int64(c.messages), complete: c.complete ? 1 : 0,
                    peerHost: append(c.peerHost), peerIP: append(c.peerIP), peerDomain: append(c.peerDomain),
                    tlsVersion: append(c.tlsVersion), tlsCipher: append(c.tlsCipher),
                    trust: append(c.trust?.rawValue)))
        }
    }

    private mutating func append(_ text: String?) -> Text {
        guard let text else { return Text(start: 0, length: -1) }
        let start = bytes.count
        bytes.append(contentsOf: text.utf8)
        return Text(start: start, length: bytes.count - start)
    }
}
