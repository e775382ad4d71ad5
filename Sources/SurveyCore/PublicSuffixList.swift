import Foundation

/// The public suffix list (publicsuffix.org) and the registrable domain of a host name
/// under it: the public suffix plus one label (`mail.example.co.uk` → `example.co.uk`).
///
/// Rules as the list's format defines them: a plain rule (`co.uk`), a wildcard (`*.ck`: every
/// label under `ck` is a suffix) and an exception (`!www.ck`: not a suffix, though a wildcard
/// says so); the longest matching rule wins, an exception before the wildcard it undoes, and
/// a name no rule matches has its last label as its suffix (the list's implicit `*`).
/// Names are compared in lower case, label by label; rules in Unicode (IDN) match only names
/// written that way, not their `xn--` form.
public struct PublicSuffixList: Sendable {
    /// Debian's `publicsuffix` package.
    public static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []

    /// Parses the list's text (comments `//`, one rule per line, anything after the first
    /// space ignored).
    public init(text: String) {
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
            guard !line.isEmpty, !line.hasPrefix("//") else { continue }
            let rule = line.lowercased()
            if rule.hasPrefix("!") {
                exceptions.insert(String(rule.dropFirst()))
            } else if rule.hasPrefix("*.") {
                wildcards.insert(String(rule.dropFirst(2)))
            } else {
                rules.insert(rule)
            }
        }
    }

    /// Reads the list from a file (by default Debian's).
    public init(path: String = PublicSuffixList.debianPath) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(
                description: "cannot read the public suffix list \(path) (Debian package publicsuffix)")
        }
        self.init(text: String(decoding: data, as: UTF8.self))
        guard !rules.isEmpty else { throw LoadError(description: "no rules in \(path)") }
    }

    /// The public suffix of `name` (lower case, no trailing dot); nil for an empty name.
    public func publicSuffix(of name: String) -> String? {
        let labels = Self.labels(name)
        guard let start = suffixStart(labels) else { return nil }
        return labels[start...].joined(separator: ".")
    }

    /// The registrable domain of `name`: its public suffix and one more label; nil when the
    /// name is empty, is an IP address literal, or is itself a public suffix.
    public func registrableDomain(of name: String) -> String? {
        let labels = Self.labels(name)
        guard let start = suffixStart(labels), start > 0 else { return nil }
        if labels.count == 4, labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) { return nil }
        if name.contains(":") { return nil }
        return labels[(start - 1)...].joined(separator: ".")
    }

    private static func labels(_ name: String) -> [String] {
        var text = name.lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty else { return [] }
        return text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The index of the first label of the public suffix.
    private func suffixStart(_ labels: [String]) -> Int? {
        guard !labels.isEmpty, !labels.contains(where: \.isEmpty) else { return nil }
        for i in 0..<labels.count {
            let suffix = labels[i...].joined(separator: ".")
            if exceptions.contains(suffix) { return i + 1 }
            if rules.contains(suffix) { return i }
            if i + 1 < labels.count, wildcards.contains(labels[(i + 1)...].joined(separator: ".")) {
                return i
            }
        }
        return labels.count - 1
    }
}
