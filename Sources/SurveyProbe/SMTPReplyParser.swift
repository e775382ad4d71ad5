import NIOCore
import SurveyCore

/// Bounds on what one SMTP reply may occupy. A peer that exceeds any of them is not
/// talking SMTP (or is trying to exhaust the prober) and the session ends as a
/// protocol violation.
public struct SMTPReplyLimits: Sendable, Hashable {
    /// Longest accepted line, without its CRLF. RFC 5321 §4.5.3.1.5 allows 512 octets
    /// including CRLF; real servers exceed that, so the default is lenient.
    public var maxLineLength: Int
    /// Most lines in one (multi-line) reply.
    public var maxReplyLines: Int
    /// Most octets in one reply, line ends included.
    public var maxReplyBytes: Int

    public init(maxLineLength: Int = 2048, maxReplyLines: Int = 100, maxReplyBytes: Int = 64 * 1024) {
        self.maxLineLength = maxLineLength
        self.maxReplyLines = maxReplyLines
        self.maxReplyBytes = maxReplyBytes
    }
}

/// Why the bytes from a peer are not an acceptable SMTP reply.
public enum SMTPReplyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A line (without CRLF) longer than `SMTPReplyLimits.maxLineLength`.
    case lineTooLong(limit: Int)
    /// A reply with more than `SMTPReplyLimits.maxReplyLines` lines.
    case tooManyLines(limit: Int)
    /// A reply with more than `SMTPReplyLimits.maxReplyBytes` octets.
    case replyTooLarge(limit: Int)
    /// A line that does not start with a reply code and a separator; the line's start,
    /// with non-printable octets escaped.
    case malformedLine(String)
    /// A continuation line whose code differs from the reply's first line.
    case inconsistentCode(expected: Int, found: Int)

    public var description: String {
        switch self {
        case .lineTooLong(let limit): return "reply line longer than \(limit) octets"
        case .tooManyLines(let limit): return "reply with more than \(limit) lines"
        case .replyTooLarge(let limit): return "reply larger than \(limit) octets"
        case .malformedLine(let start): return "not an SMTP reply line: \"\(start)\""
        case .inconsistentCode(let expected, let found):
            return "multi-line reply changes code from \(expected) to \(found)"
        }
    }
}

/// Incremental parser for SMTP replies (RFC 5321 §4.2): `ddd-text` continuation lines
/// followed by one `ddd text` (or bare `ddd`) final line, all with the same code.
///
/// Lines end in CRLF; a bare LF is accepted too. Bytes stay in the caller's buffer until
/// a whole line is there, and the buffer is scanned only once per byte, so a peer that
/// trickles bytes costs no repeated work. No allocation happens per byte: one `String`
/// per line.
public struct SMTPReplyParser: Sendable {
    public let limits: SMTPReplyLimits
    private var code: Int?
    private var lines: [String] = []
    private var replyBytes = 0
    /// Octets at the front of the caller's buffer already searched for a line end.
    private var scanned = 0

    public init(limits: SMTPReplyLimits = SMTPReplyLimits()) {
        self.limits = limits
    }

    /// True while a multi-line reply has begun but not ended.
    public var isInsideReply: Bool { code != nil }

    /// Forgets any partial reply (the caller must also drop the bytes it still holds).
    public mutating func reset() {
        code = nil
        lines = []
        replyBytes = 0
        scanned = 0
    }

    /// Consumes whole lines from `buffer` until one reply is complete and returns it, or
    /// returns nil when more bytes are needed (the incomplete tail stays in `buffer`).
    /// Bytes after the returned reply stay in `buffer` for the next call.
    public mutating func next(from buffer: inout ByteBuffer) throws(SMTPReplyError) -> SMTPReply? {
        while true {
            let readable = buffer.readableBytes
            let lineEnd: Int? = buffer.withUnsafeReadableBytes { raw in
                var index = scanned
                while index < raw.count {
                    if raw[index] == UInt8(ascii: "\n") { return index }
                    index += 1
                }
                return nil
            }
            guard let lineEnd else {
                scanned = readable
                // The line cannot get shorter: fail as soon as it is certainly too long
                // (allowing for its CRLF) instead of buffering a peer's endless line.
                if readable > limits.maxLineLength + 2 { throw .lineTooLong(limit: limits.maxLineLength) }
                if replyBytes + readable > limits.maxReplyBytes {
                    throw .replyTooLarge(limit: limits.maxReplyBytes)
                }
                return nil
            }
            scanned = 0
            let lineOctets = lineEnd + 1
            replyBytes += lineOctets
            if replyBytes > limits.maxReplyBytes { throw .replyTooLarge(limit: limits.maxReplyBytes) }
            let parsed: ParsedLine = try buffer.withUnsafeReadableBytes { raw throws(SMTPReplyError) in
                var contentEnd = lineEnd
                if contentEnd > 0 && raw[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
                return try Self.parseLine(
                    UnsafeRawBufferPointer(rebasing: raw[0..<contentEnd]), limits: limits)
            }
            buffer.moveReaderIndex(forwardBy: lineOctets)
            if let expected = code, expected != parsed.code {
                throw .inconsistentCode(expected: expected, found: parsed.code)
            }
            code = parsed.code
            lines.append(parsed.text)
            if parsed.isLast {
                let reply = SMTPReply(code: parsed.code, lines: lines)
                reset()
                return reply
            }
            if lines.count >= limits.maxReplyLines { throw .tooManyLines(limit: limits.maxReplyLines) }
        }
    }

    private struct ParsedLine {
        var code: Int
        var isLast: Bool
        var text: String
    }

    private static func parseLine(
        _ line: UnsafeRawBufferPointer, limits: SMTPReplyLimits
    ) throws(SMTPReplyError) -> ParsedLine {
        if line.count > limits.maxLineLength { throw .lineTooLong(limit: limits.maxLineLength) }
        func digit(_ index: Int) -> Int? {
            guard index < line.count else { return nil }
            let byte = line[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            return Int(byte - UInt8(ascii: "0"))
        }
        // RFC 5321 §4.2: first digit 2–5, second 0–5, third 0–9.
        guard let d1 = digit(0), (2...5).contains(d1), let d2 = digit(1), d2 <= 5, let d3 = digit(2) else {
            throw .malformedLine(escapedPrefix(line))
        }
        let code = d1 * 100 + d2 * 10 + d3
        if line.count == 3 { return ParsedLine(code: code, isLast: true, text: "") }
        let separator = line[3]
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw .malformedLine(escapedPrefix(line))
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[4...]), as: UTF8.self)
        return ParsedLine(code: code, isLast: separator == UInt8(ascii: " "), text: text)
    }

    /// The first octets of a rejected line, printable ASCII kept and the rest as `\xNN`.
    static func escapedPrefix(_ line: UnsafeRawBufferPointer, max: Int = 40) -> String {
        var out = ""
        for byte in line.prefix(max) {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "\"") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += byte < 0x10 ? "\\x0\(hex)" : "\\x\(hex)"
            }
        }
        if line.count > max { out += "…" }
        return out
    }
}

extension SMTPReply {
    /// The enhanced status code (RFC 3463, `class.subject.detail`) at the start of the
    /// first line's text, if there is one whose class matches the reply code's first digit.
    public var enhancedStatus: (klass: Int, subject: Int, detail: Int)? {
        guard let first = lines.first else { return nil }
        let token = first.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true).first ?? ""
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            parts.allSatisfy({
                !$0.isEmpty && $0.utf8.count <= 3 && $0.utf8.allSatisfy { (48...57).contains($0) }
            }),
            let klass = Int(parts[0]), let subject = Int(parts[1]), let detail = Int(parts[2]),
            klass == code / 100
        else { return nil }
        return (klass, subject, detail)
    }

    /// The reply's text lines joined by newlines.
    public var text: String { lines.joined(separator: "\n") }
}
