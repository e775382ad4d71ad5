import Foundation

/// Why a header line or field was not taken as it stands. Every problem is counted (per
/// reason) and reading goes on.
public enum HeaderProblem: String, Sendable, Hashable, CaseIterable, Comparable {
    /// A line longer than the reader's limit (64 KiB): cut there.
    case lineTooLong = "line_too_long"
    /// The header block grew past 1 MiB or 10,000 lines: the rest of it was skipped.
    case headerTooLarge = "header_too_large"
    /// The block starts with a continuation line (space or tab) that folds into nothing.
    case leadingContinuation = "leading_continuation"
    /// A line that is neither a field (`Name: value`) nor a continuation.
    case missingColon = "missing_colon"
    /// A field name with characters RFC 5322 §3.6.8 does not allow (e.g. a space before the colon).
    case invalidFieldName = "invalid_field_name"
    /// A field whose bytes are not UTF-8 (read with U+FFFD in place of the bad bytes).
    case invalidUTF8 = "invalid_utf8"
    /// A message without any header field.
    case noFields = "no_fields"
    /// A `Received:` field with a comment or quoted string that is never closed.
    case unterminatedComment = "received_unterminated_comment"
    /// A `Received:` field with neither a `from` nor a `by` clause (and not a known
    /// non-hop trace line such as qmail's `invoked from network`).
    case receivedUnparsed = "received_unparsed"
    /// A `Received:` field whose date after `;` is missing or not an RFC 5322 date.
    case receivedBadDate = "received_bad_date"

    public static func < (a: HeaderProblem, b: HeaderProblem) -> Bool { a.rawValue < b.rawValue }
}

/// One header field, unfolded (RFC 5322 §2.2.3: each CRLF before white space removed).
public struct HeaderField: Sendable, Equatable {
    /// The field name as written.
    public var name: String
    /// The unfolded value, without the leading white space after the colon.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The header block of one message: its fields in order, the problems met reading it, and
/// the block's raw bytes (what the message digest is taken over when there is no
/// Message-ID).
public struct HeaderBlock: Sendable {
    public var fields: [HeaderField] = []
    public var problems: [HeaderProblem] = []
    public var rawBytes: [UInt8] = []

    public init() {}

    /// The fields named `name` (case-insensitive), in order.
    public func fields(named name: String) -> [HeaderField] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// Parses a block from its lines (without line ends).
    public init<S: Sequence<[UInt8]>>(lines: S) {
        var currentName: [UInt8]? = nil
        var currentValue: [UInt8] = []
        func finish() {
            guard let name = currentName else { return }
            var value = currentValue
            // Leading and trailing white space of the value.
            while let first = value.first, first == 0x20 || first == 0x09 { value.removeFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
            let text: String
            if let valid = String(validating: value, as: UTF8.self) {
                text = valid
            } else {
                text = String(decoding: value, as: UTF8.self)
                problems.append(.invalidUTF8)
            }
            fields.append(HeaderField(name: String(decoding: name, as: UTF8.self), value: text))
            currentName = nil
            currentValue = []
        }
        var first = true
        for line in lines {
            rawBytes.append(contentsOf: line)
            rawBytes.append(0x0A)
            defer { first = false }
            if let lead = line.first, lead == 0x20 || lead == 0x09 {
                if currentName != nil {
                    currentValue.append(contentsOf: line)
                } else if first {
                    problems.append(.leadingContinuation)
                }
                // A continuation after a line that was not a field belongs to that broken
                // line, already counted.
                continue
            }
            finish()
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                problems.append(.missingColon)
                continue
            }
            let name = line[..<colon]
            // RFC 5322 §3.6.8: printable US-ASCII except colon, at least one character.
            guard !name.isEmpty, name.allSatisfy({ $0 >= 33 && $0 <= 126 }) else {
                problems.append(.invalidFieldName)
                continue
            }
            currentName = Array(name)
            currentValue = Array(line[(colon + 1)...])
        }
        finish()
        if fields.isEmpty && !problems.contains(.noFields) { problems.append(.noFields) }
    }
}

/// RFC 2047 encoded words (`=?charset?B|Q?text?=`), decoded. Where RFC 2047 §5 lets them
/// stand in a structured field — inside comments, as in the comments of a `Received:` trace
/// — the trace parser reads the decoded text. Charsets: UTF-8, US-ASCII, ISO-8859-1 and -2,
/// Windows-1250..1252; an encoded word in any other charset, or one that does not
/// decode, stays as written.
public enum EncodedWords {
    public static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var out = ""
        var rest = Substring(text)
        var lastWasEncoded = false
        var pendingSpace = ""
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            if let (decoded, after) = decodeWord(rest[start.lowerBound...]) {
                // White space between two adjacent encoded words is dropped (§6.2).
                if lastWasEncoded && before.allSatisfy({ $0 == " " || $0 == "\t" }) {
                    pendingSpace = ""
                } else {
                    out += pendingSpace + before
                    pendingSpace = ""
                }
                out += decoded
                rest = after
                lastWasEncoded = true
            } else {
                out += pendingSpace + before + "=?"
                pendingSpace = ""
                rest = rest[start.upperBound...]
                lastWasEncoded = false
            }
        }
        out += pendingSpace + rest
        return out
    }

    /// Decodes one encoded word at the start of `text`; the decoded text and what follows it.
    private static func decodeWord(_ text: Substring) -> (String, Substring)? {
        let parts = text.dropFirst(2)
        guard let q1 = parts.firstIndex(of: "?") else { return nil }
        var charset = String(parts[..<q1]).lowercased()
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 language
        let afterCharset = parts[parts.index(after: q1)...]
        guard let q2 = afterCharset.firstIndex(of: "?") else { return nil }
        let encoding = afterCharset[..<q2].uppercased()
        let payloadStart = afterCharset.index(after: q2)
        guard let end = afterCharset[payloadStart...].range(of: "?=") else { return nil }
        let payload = afterCharset[payloadStart..<end.lowerBound]
        guard !payload.contains(" "), !payload.contains("\t") else { return nil }
        let bytes: [UInt8]
        switch encoding {
        case "B":
            var b64 = String(payload)
            while b64.count % 4 != 0 { b64 += "=" }
            guard let data = Data(base64Encoded: b64) else { return nil }
            bytes = Array(data)
        case "Q":
            var out: [UInt8] = []
            var utf8 = Array(payload.utf8)[...]
            while let c = utf8.popFirst() {
                if c == UInt8(ascii: "_") {
                    out.append(0x20)
                } else if c == UInt8(ascii: "=") {
                    guard utf8.count >= 2,
                        let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
                    else { return nil }
                    out.append(v)
                    utf8 = utf8.dropFirst(2)
                } else {
                    out.append(c)
                }
            }
            bytes = out
        default: return nil
        }
        guard let decoded = string(bytes, charset: charset) else { return nil }
        return (decoded, afterCharset[end.upperBound...])
    }

    private static func string(_ bytes: [UInt8], charset: String) -> String? {
        let encoding: String.Encoding
        switch charset {
        case "utf-8", "utf8": return String(validating: bytes, as: UTF8.self)
        case "us-ascii", "ascii": encoding = .ascii
        case "iso-8859-1", "latin1": encoding = .isoLatin1
        case "iso-8859-2", "latin2": encoding = .isoLatin2
        case "windows-1250", "cp1250": encoding = .windowsCP1250
        case "windows-1251", "cp1251": encoding = .windowsCP1251
        case "windows-1252", "cp1252": encoding = .windowsCP1252
        default: return nil
        }
        return String(bytes: bytes, encoding: encoding)
    }
}
