import COpenSSL
import SurveyCore

#if canImport(Glibc)
    import Glibc
#endif

/// Why a line of a log was not used. Lines of other programs, and messages of the known
/// programs that say nothing about connections, are not skipped but `irrelevant`.
public enum SkipReason: String, Sendable, Hashable, CaseIterable, Comparable {
    /// No syslog (or Exim mainlog) prefix: not a line of a mail log, or cut off.
    case noPrefix = "no log prefix"
    /// A line of the known kinds whose fields do not parse.
    case malformed = "malformed line"
    /// A line about a session whose first line is not in this input (it was in an earlier
    /// file, or journald dropped it).
    case sessionNotSeen = "session began before this input"
    /// Postfix's submission services (`postfix/submission/smtpd`): mail clients, not MTAs.
    case submission = "submission service"
    /// Longer than `LogReader.maximumLineLength`.
    case overlong = "line too long"

    public static func < (a: SkipReason, b: SkipReason) -> Bool { a.rawValue < b.rawValue }
}

/// What a parser made of the lines it was given: connections to store, and line counts.
public struct ParseOutput: Sendable {
    /// Connections finished (or given up on) since the last `take`.
    public var connections: [PassiveConnection] = []
    public var lines = 0
    /// Lines that contributed to a connection.
    public var used = 0
    /// Lines of a log that carry nothing this tool counts.
    public var irrelevant = 0
    public var skipped: [SkipReason: Int] = [:]
    /// The first and last time of a line read (seconds since 1970).
    public var firstTime: Int64?
    public var lastTime: Int64?

    public init() {}

    mutating func skip(_ reason: SkipReason) { skipped[reason, default: 0] += 1 }

    @inline(__always)
    mutating func saw(_ time: Int64) {
        if firstTime == nil { firstTime = time }
        lastTime = time
    }

    /// The connections collected so far, leaving none.
    public mutating func takeConnections() -> [PassiveConnection] {
        defer { connections.removeAll(keepingCapacity: true) }
        return connections
    }
}

/// A parser of one MTA's log: a state machine fed one line at a time, in log order.
/// Correlation state (process ids, queue ids) lives in memory only and is bounded.
public protocol PassiveLogParser {
    /// Reads a line; any connections it completes go to `output.connections`.
    mutating func consume(
        _ line: UnsafeBufferPointer<UInt8>, clock: inout LogClock, into output: inout ParseOutput)
    /// The input ended: every connection still open goes out, marked incomplete.
    mutating func finish(into output: inout ParseOutput)
}

/// Connection keys: the first 8 bytes of the SHA-256 of the line that opened the connection
/// (big-endian, as a signed integer).
/// The same process can write the same line twice in one second (two sessions from one
/// client): the n-th repetition of a line within its second gets `#n` appended before
/// hashing, so each connection keeps its own key and a copy of the log gives the same keys.
struct ConnectionKeys {
    private var second: Int64 = .min
    private var seen: [Int64: Int] = [:]
    private let digest = LineDigest()

    mutating func key(_ line: UnsafeBufferPointer<UInt8>, time: Int64) -> Int64 {
        if time != second {
            second = time
            seen.removeAll(keepingCapacity: true)
        }
        let key = digest.key(line)
        let repetition = seen[key, default: 0]
        seen[key] = repetition + 1
        guard repetition > 0 else { return key }
        var bytes = Array(line)
        bytes.append(contentsOf: Array("#\(repetition)".utf8))
        return bytes.withUnsafeBufferPointer { digest.key($0) }
    }
}

/// SHA-256 with one OpenSSL digest context, fetched once and reused for every line (a
/// one-shot `EVP_Digest` looks the algorithm up and allocates a context per call, three
/// times the cost). Owns the context and the fetched algorithm and frees them in `deinit`.
final class LineDigest {
    private let context: OpaquePointer?
    private let algorithm: OpaquePointer?

    init() {
        algorithm = EVP_MD_fetch(nil, "SHA256", nil)
        context = EVP_MD_CTX_new()
    }

    deinit {
        EVP_MD_CTX_free(context)
        EVP_MD_free(algorithm)
    }

    /// `ConnectionKey.of(line)`.
    func key(_ line: UnsafeBufferPointer<UInt8>) -> Int64 {
        guard let context, let algorithm else { return ConnectionKey.of(line) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { digest -> Int64 in
            var size: UInt32 = 0
            guard EVP_DigestInit_ex2(context, algorithm, nil) == 1,
                EVP_DigestUpdate(context, line.baseAddress, line.count) == 1,
                EVP_DigestFinal_ex(context, digest.baseAddress, &size) == 1, size == 32
            else { return ConnectionKey.of(line) }
            return ConnectionKey.first8(digest)
        }
    }
}

/// One String per distinct short field value (TLS version, cipher name): lines that repeat a
/// value share its String instead of allocating their own. 64 slots, the last value per slot.
struct TextCache {
    private var slots = [(hash: Int, text: String)?](repeating: nil, count: 64)

    mutating func text(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let hash = PostfixParser.hash(line, range)
        let slot = hash & 63
        if let cached = slots[slot], cached.hash == hash {
            let bytes = UnsafeBufferPointer(rebasing: line[range.clamped(to: 0..<line.count)])
            var text = cached.text
            let same = text.withUTF8 { stored in
                guard stored.count == bytes.count else { return false }
                guard let a = stored.baseAddress, let b = bytes.baseAddress else { return bytes.isEmpty }
                return memcmp(a, b, bytes.count) == 0
            }
            if same { return cached.text }
        }
        let text = line.text(range)
        slots[slot] = (hash, text)
        return text
    }
}

enum ConnectionKey {
    static func of(_ line: UnsafeBufferPointer<UInt8>) -> Int64 {
        var digest = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        _ = EVP_Digest(line.baseAddress, line.count, &digest, &size, EVP_sha256(), nil)
        return digest.withUnsafeMutableBufferPointer { first8($0) }
    }

    /// The first 8 bytes, big-endian, as a signed integer.
    static func first8(_ digest: UnsafeMutableBufferPointer<UInt8>) -> Int64 {
        var key: UInt64 = 0
        for byte in digest.prefix(8) { key = key << 8 | UInt64(byte) }
        return Int64(bitPattern: key)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `host[ip]` (with an optional `:port` after it) at `range`: the host (nil for `unknown`)
/// and the address. Nil when there are no brackets.
func parsePeer(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> (
    host: String?, ip: String, end: Int
)? {
    guard let open = line.find(byte: UInt8(ascii: "["), from: range.lowerBound), open < range.upperBound,
        let close = line.find(byte: UInt8(ascii: "]"), from: open + 1), close <= range.upperBound
    else { return nil }
    let hostRange = range.lowerBound..<open
    let unknown = hostRange.count == 7 && line.has("unknown", at: hostRange.lowerBound)
    let host = hostRange.isEmpty || unknown ? nil : line.lowercasedText(hostRange)
    var ip = line.text((open + 1)..<close)
    if ip.hasPrefix("IPv6:") { ip.removeFirst(5) }
    return (host, ip, close + 1)
}
