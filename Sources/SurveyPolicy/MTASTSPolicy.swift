import SurveyCore

/// A parsed MTA-STS policy (RFC 8461 §3.2).
public struct MTASTSPolicy: Sendable, Hashable {
    public var mode: MTASTSMode
    /// The `mx` patterns in order, lower-case, without a trailing dot.
    public var mx: [String]
    /// Seconds, 0…31557600.
    public var maxAge: Int

    public init(mode: MTASTSMode, mx: [String], maxAge: Int) {
        self.mode = mode
        self.mx = mx
        self.maxAge = maxAge
    }

    public static let maxAgeLimit = 31_557_600

    /// Parses the policy body. Lines end in CRLF or LF; each is `key: value` (`":" *WSP`,
    /// trailing whitespace ignored); unknown keys are ignored; `mx` may repeat, the other
    /// keys may not. `version: STSv1`, `mode` and `max_age` are required, `mx` unless the
    /// mode is `none`. The error names the line.
    public static func parse(_ body: [UInt8]) -> Result<MTASTSPolicy, PolicySyntaxError> {
        var version: String? = nil
        var mode: MTASTSMode? = nil
        var maxAge: Int? = nil
        var mx: [String] = []
        var lines = body.split(separator: 0x0A, omittingEmptySubsequences: false)
        // A final line break leaves one empty element behind.
        if lines.last?.isEmpty == true { lines.removeLast() }
        for (index, rawLine) in lines.enumerated() {
            let number = index + 1
            var line = rawLine
            if line.last == 0x0D { line = line.dropLast() }
            guard !line.isEmpty else { continue }
            guard line.allSatisfy({ (0x20...0x7E).contains($0) || $0 == 0x09 }) else {
                return .failure(.init(line: number, reason: "a control or non-ASCII octet"))
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(.init(line: number, reason: "no ':' after the key"))
            }
            let key = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: TagList.trimmed(line[(colon + 1)...]), as: UTF8.self)
            guard !key.isEmpty, key.utf8.allSatisfy({ TagList.isAlphanumeric($0) || $0 == UInt8(ascii: "_") })
            else {
                return .failure(.init(line: number, reason: "invalid key \(TagList.shown(line[..<colon]))"))
            }
            switch key {
            case "version":
                guard version == nil else { return .failure(.init(line: number, reason: "version repeated")) }
                guard value == "STSv1" else {
                    return .failure(.init(line: number, reason: "version is not STSv1"))
                }
                version = value
            case "mode":
                guard mode == nil else { return .failure(.init(line: number, reason: "mode repeated")) }
                guard let parsed = MTASTSMode(rawValue: value) else {
                    return .failure(.init(line: number, reason: "mode is not enforce, testing or none"))
                }
                mode = parsed
            case "max_age":
                guard maxAge == nil else { return .failure(.init(line: number, reason: "max_age repeated")) }
                guard (1...10).contains(value.utf8.count),
                    value.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                    let seconds = Int(value), seconds <= maxAgeLimit
                else {
                    return .failure(
                        .init(line: number, reason: "max_age is not a number 0 to \(maxAgeLimit)"))
                }
                maxAge = seconds
            case "mx":
                guard let pattern = MXPattern.normalized(value) else {
                    return .failure(.init(line: number, reason: "mx is not a host name or *.name pattern"))
                }
                mx.append(pattern)
            default:
                continue
            }
        }
        guard version != nil else { return .failure(.init(line: nil, reason: "no version field")) }
        guard let mode else { return .failure(.init(line: nil, reason: "no mode field")) }
        guard let maxAge else { return .failure(.init(line: nil, reason: "no max_age field")) }
        if mode != .none && mx.isEmpty {
            return .failure(.init(line: nil, reason: "no mx field (required unless mode is none)"))
        }
        return .success(MTASTSPolicy(mode: mode, mx: mx, maxAge: maxAge))
    }

    /// Whether `host` (an MX host name) matches one of the policy's `mx` patterns.
    public func matches(mxHost host: String) -> Bool {
        mx.contains { MXPattern.matches(pattern: $0, host: host) }
    }
}

/// Why a policy body was rejected; `line` is 1-based, nil for a field that is missing.
public struct PolicySyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int?
    public var reason: String
    public init(line: Int?, reason: String) {
        self.line = line
        self.reason = reason
    }
    public var description: String { line.map { "line \($0): \(reason)" } ?? reason }
}

/// The `mx` patterns of a policy (RFC 8461 §4.1): a host name, or `*.` and a host name
/// where the wildcard stands for exactly one leftmost label.
public enum MXPattern {
    /// The pattern lower-case without a trailing dot, or nil when it is not a valid pattern.
    public static func normalized(_ value: String) -> String? {
        var text = value.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        let name = text.hasPrefix("*.") ? String(text.dropFirst(2)) : text
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253, labels.allSatisfy(PatternMatch.isLDHLabel) else {
            return nil
        }
        return text
    }

    /// Whether `host` matches `pattern` (both compared case-insensitively, trailing dots
    /// ignored). `*.example.net` matches `mx1.example.net`, not `example.net` nor
    /// `a.mx1.example.net`.
    public static func matches(pattern: String, host: String) -> Bool {
        var host = host.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        var pattern = pattern.lowercased()
        if pattern.hasSuffix(".") { pattern.removeLast() }
        guard pattern.hasPrefix("*.") else { return host == pattern }
        let suffix = pattern.dropFirst(1)  // ".example.net"
        guard host.hasSuffix(suffix) else { return false }
        let first = host.dropLast(suffix.count)
        return !first.isEmpty && !first.contains(".")
    }
}

enum PatternMatch {
    /// A label of letters, digits, hyphens and underscores, 1–63 octets, no hyphen at either
    /// end.
    static func isLDHLabel(_ label: Substring) -> Bool {
        guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
        return label.utf8.allSatisfy {
            TagList.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
        }
    }
}
