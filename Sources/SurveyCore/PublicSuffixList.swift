import Foundation

/// The Public Suffix List (https://publicsuffix.org/list/) as the Debian `publicsuffix`
/// package ships it, and the registrable domain ("organisation") of a host name under it.
///
/// The list's algorithm: a name matches a rule when the rule's labels equal the name's
/// rightmost labels (`*` matches any one label). Of the matching rules an exception rule
/// (`!`) wins and its public suffix is the rule without its leftmost label; otherwise the
/// rule with the most labels wins; when none matches the default rule `*` applies. The
/// registrable domain is the public suffix plus one label; a name that is itself a public
/// suffix has none. Rules with non-ASCII labels are kept in their `xn--` form, since the
/// store holds names in ASCII.
public struct PublicSuffixList: Sendable {
    /// Debian's copy (package `publicsuffix`).
    public static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []

    /// Builds the list from its text (one rule per line, `//` comments).
    public init(text: String) {
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            guard !line.isEmpty, !line.hasPrefix("//") else { continue }
            let token = line.prefix { $0 != " " && $0 != "\t" }
            guard var rule = Self.ascii(String(token)) else { continue }
            if rule.hasPrefix("!") {
                rule.removeFirst()
                exceptions.insert(rule)
            } else if rule.hasPrefix("*.") {
                wildcards.insert(String(rule.dropFirst(2)))
            } else {
                rules.insert(rule)
            }
        }
    }

    /// Reads the list from a file (by default Debian's).
    public init(path: String = PublicSuffixList.debianPath) throws(LoadError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(
                description: "cannot read the public suffix list '\(path)' (Debian package publicsuffix)")
        }
        self.init(text: String(decoding: data, as: UTF8.self))
        guard !rules.isEmpty else {
            throw LoadError(description: "the public suffix list '\(path)' holds no rules")
        }
    }

    /// The public suffix of `name` (lower-cased, without a trailing dot), e.g. `co.uk` for
    /// `mail.example.co.uk`; nil for an empty name.
    public func publicSuffix(of name: String) -> String? {
        let labels = Self.labels(name)
        guard !labels.isEmpty else { return nil }
        return labels.suffix(suffixLabelCount(labels)).joined(separator: ".")
    }

    /// The registrable domain of `name`: its public suffix plus one label
    /// (`example.co.uk` for `mail.example.co.uk`); nil when the name is itself a public
    /// suffix, empty, or an address literal.
    public func registrableDomain(of name: String) -> String? {
        let labels = Self.labels(name)
        guard !labels.isEmpty, !Self.isAddress(name) else { return nil }
        let count = suffixLabelCount(labels)
        guard labels.count > count else { return nil }
        return labels.suffix(count + 1).joined(separator: ".")
    }

    /// How many of the rightmost labels form the public suffix.
    private func suffixLabelCount(_ labels: [String]) -> Int {
        var best = 1  // the default rule `*`
        // From the longest candidate suffix to the shortest.
        for start in 0..<labels.count {
            let candidate = labels[start...].joined(separator: ".")
            let length = labels.count - start
            if exceptions.contains(candidate) { return length - 1 }
            if rules.contains(candidate) { best = max(best, length) }
            if start + 1 < labels.count {
                // `*.rest` matches `label.rest`.
                let rest = labels[(start + 1)...].joined(separator: ".")
                if wildcards.contains(rest) { best = max(best, length) }
            }
        }
        return best
    }

    private static func labels(_ name: String) -> [String] {
        var n = name.lowercased()
        while n.hasSuffix(".") { n.removeLast() }
        guard !n.isEmpty else { return [] }
        let labels = n.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        return labels.contains(where: \.isEmpty) ? [] : labels
    }

    private static func isAddress(_ name: String) -> Bool {
        IPv4(name) != nil || IPv6(name) != nil
    }

    /// A rule with its Unicode labels in `xn--` form (nil when a label cannot be encoded).
    private static func ascii(_ rule: String) -> String? {
        let lower = rule.lowercased()
        guard lower.unicodeScalars.contains(where: { !$0.isASCII }) else { return lower }
        var out: [String] = []
        for label in lower.split(separator: ".", omittingEmptySubsequences: false) {
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                out.append(String(label))
            } else {
                guard let encoded = Punycode.encode(String(label)) else { return nil }
                out.append("xn--" + encoded)
            }
        }
        return out.joined(separator: ".")
    }
}
