import SurveyCore

/// The record types the survey asks for.
public enum RecordType: UInt16, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case a = 1
    case cname = 5
    case mx = 15
    case txt = 16
    case aaaa = 28
    case tlsa = 52

    public var description: String {
        switch self {
        case .a: "A"
        case .cname: "CNAME"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .tlsa: "TLSA"
        }
    }
}

/// Outcome of one query, close to the DNS response code.
public enum DNSStatus: Sendable, Hashable, CustomStringConvertible {
    /// NOERROR with at least one record of the asked type.
    case ok
    /// NXDOMAIN: the name does not exist.
    case nxdomain
    /// NOERROR without a record of the asked type (the name exists).
    case nodata
    /// SERVFAIL after all tries.
    case servfail
    /// REFUSED after all tries.
    case refused
    /// No answer within the deadline after all tries.
    case timeout
    /// Anything else (unreachable server, malformed reply, FORMERR, …).
    case error(String)

    public var description: String {
        switch self {
        case .ok: "ok"
        case .nxdomain: "nxdomain"
        case .nodata: "nodata"
        case .servfail: "servfail"
        case .refused: "refused"
        case .timeout: "timeout"
        case .error(let message): "error: \(message)"
        }
    }
}

/// One TXT record: its character-strings in order. Most users want `data`/`text`, the
/// strings joined without separator (RFC 7208 §3.3, RFC 8461 §3.1).
public struct TXTRecord: Sendable, Hashable {
    public var strings: [[UInt8]]
    public init(strings: [[UInt8]]) { self.strings = strings }
    /// The record from its RDATA (RFC 1035 §3.3.14): one or more character-strings, each a
    /// length octet and that many octets. Nil when the RDATA is empty or a length runs past
    /// its end.
    public init?(rdata: ArraySlice<UInt8>) {
        var strings: [[UInt8]] = []
        var position = rdata.startIndex
        while position < rdata.endIndex {
            let length = Int(rdata[position])
            let start = position + 1
            guard start + length <= rdata.endIndex else { return nil }
            strings.append(Array(rdata[start..<start + length]))
            position = start + length
        }
        guard !strings.isEmpty else { return nil }
        self.strings = strings
    }
    public var data: [UInt8] { strings.flatMap { $0 } }
    /// `data` decoded as UTF-8 (invalid sequences replaced).
    public var text: String { String(decoding: data, as: UTF8.self) }
}

public enum DNSRecord: Sendable, Hashable {
    case mx(MXRecord)
    case a(String)
    case aaaa(String)
    case txt(TXTRecord)
    case cname(String)
    case tlsa(TLSARecord)
}

/// The answer to one query.
public struct DNSAnswer: Sendable, Hashable {
    /// The name as asked, in `DNSName`'s presentation form (lower-case, no trailing dot,
    /// unusual octets escaped as `\DDD`).
    public var name: String
    public var type: RecordType
    public var status: DNSStatus
    /// Records of the asked type, in the order of the reply. For `.cname` queries the
    /// alias target; MX host names in the same form ("" for the root).
    public var records: [DNSRecord]
    /// When `name` is an alias: the CNAME targets the server followed, in order (same form).
    public var cnameChain: [String]
    /// The DNSSEC status the resolver gave the answer: `secure` when its reply had the AD
    /// bit, `insecure` without; `bogus` when it answered SERVFAIL and the same question with
    /// CD got an answer; `indeterminate` without any verdict.
    public var dnssec: DNSSECStatus = .indeterminate
    /// RDATA of the asked type in the reply that could not be read as a record of that type
    /// (TLSA shorter than its three parameter octets, TXT whose character-strings run past
    /// the RDATA); the readable ones are in `records`.
    public var malformedRecords = 0

    public init(
        name: String, type: RecordType, status: DNSStatus, records: [DNSRecord] = [],
        cnameChain: [String] = []
    ) {
        self.name = name
        self.type = type
        self.status = status
        self.records = records
        self.cnameChain = cnameChain
    }

    /// The final target of the alias chain, when the name is an alias.
    public var canonicalName: String? { cnameChain.last }

    public var mx: [MXRecord] {
        records.compactMap { if case .mx(let r) = $0 { r } else { nil } }
    }
    /// A and AAAA addresses in presentation form.
    public var addresses: [String] {
        records.compactMap {
            switch $0 {
            case .a(let s), .aaaa(let s): s
            default: nil
            }
        }
    }
    public var txt: [TXTRecord] {
        records.compactMap { if case .txt(let r) = $0 { r } else { nil } }
    }
    public var tlsa: [TLSARecord] {
        records.compactMap { if case .tlsa(let r) = $0 { r } else { nil } }
    }
}
