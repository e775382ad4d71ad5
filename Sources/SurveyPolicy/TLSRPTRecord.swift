/// The verdict on the TXT records at `_smtp._tls.<domain>` (RFC 8460 §3).
public enum TLSRPTVerdict: Sendable, Hashable {
    /// No record beginning with `v=TLSRPTv1`.
    case none
    /// Exactly one valid record; `rua` are its reporting URIs in order.
    case valid(rua: [String])
    /// More than one `v=TLSRPTv1` record, or one that breaks the grammar or names a URI
    /// that is neither a valid `mailto:` nor a valid `https:` URI.
    case invalid(reason: String)
}

/// Reads the `_smtp._tls` TXT records of a domain (each element one record's strings joined).
public enum TLSRPTRecord {
    public static func evaluate(_ records: [[UInt8]]) -> TLSRPTVerdict {
        let candidates = records.filter { $0.starts(with: Array("v=TLSRPTv1".utf8)) }
        guard let record = candidates.first else { return .none }
        guard candidates.count == 1 else {
            return .invalid(reason: "\(candidates.count) records begin with v=TLSRPTv1 (exactly one allowed)")
        }
        return parse(record)
    }

    /// `tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]`; the `rua`
    /// field is required (RFC 8460 §3).
    static func parse(_ record: [UInt8]) -> TLSRPTVerdict {
        var fields: [ArraySlice<UInt8>]
        switch TagList.split(record) {
        case .failure(let reason): return .invalid(reason: reason)
        case .success(let parts): fields = parts
        }
        guard fields.first.map({ Array($0) == Array("v=TLSRPTv1".utf8) }) == true else {
            return .invalid(reason: "the version field is not exactly v=TLSRPTv1")
        }
        fields.removeFirst()
        var rua: [String]? = nil
        for field in fields {
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else {
                return .invalid(reason: "a field without '=': \(TagList.shown(field))")
            }
            let name = field[field.startIndex..<equals]
            let value = field[(equals + 1)...]
            if Array(name) == Array("rua".utf8) {
                guard rua == nil else { return .invalid(reason: "more than one rua field") }
                var uris: [String] = []
                for part in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                    let uri = TagList.trimmed(part)
                    if let problem = ReportURI.problem(uri) { return .invalid(reason: problem) }
                    uris.append(String(decoding: uri, as: UTF8.self))
                }
                rua = uris
            } else {
                guard TagList.isExtensionName(name) else {
                    return .invalid(reason: "invalid field name: \(TagList.shown(name))")
                }
                guard !value.isEmpty, value.allSatisfy(TagList.isExtensionValueOctet) else {
                    return .invalid(reason: "invalid value of field \(TagList.shown(name))")
                }
            }
        }
        guard let rua else { return .invalid(reason: "no rua field") }
        return .valid(rua: rua)
    }
}

/// The reporting URIs TLS-RPT allows (RFC 8460 §3): `mailto:` with one address
/// (RFC 6068) and `https:` with a host (RFC 7230). Commas and `!` inside a URI must be
/// percent-encoded, so a comma always separates URIs.
enum ReportURI {
    /// Why `uri` is not a usable reporting URI, or nil when it is.
    static func problem(_ uri: ArraySlice<UInt8>) -> String? {
        let text = String(decoding: uri, as: UTF8.self)
        let shown = TagList.shown(uri)
        guard !uri.isEmpty else { return "an empty URI in rua" }
        guard uri.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "!") }) else {
            return "rua URI with a space, control octet or '!': \(shown)"
        }
        let lower = text.lowercased()
        if lower.hasPrefix("mailto:") {
            let address = text.dropFirst("mailto:".count)
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, isHost(parts[1]) else {
                return "rua mailto: URI without one address local@domain: \(shown)"
            }
            guard !address.contains("?") else { return "rua mailto: URI with header fields: \(shown)" }
            return nil
        }
        if lower.hasPrefix("https://") {
            let rest = text.dropFirst("https://".count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            guard !authority.contains("@") else { return "rua https: URI with user information: \(shown)" }
            var host = authority
            if let colon = authority.lastIndex(of: ":") {
                let port = authority[authority.index(after: colon)...]
                guard !port.isEmpty, port.allSatisfy(\.isASCIIDigit), let number = Int(port), number <= 65535
                else { return "rua https: URI with an invalid port: \(shown)" }
                host = authority[..<colon]
            }
            guard isHost(host) else { return "rua https: URI without a valid host: \(shown)" }
            return nil
        }
        return "rua URI is neither mailto: nor https: \(shown)"
    }

    /// A DNS host name: labels of letters, digits and hyphens (no leading or trailing
    /// hyphen), 1–63 octets each, at least two labels.
    static func isHost(_ host: Substring) -> Bool {
        let name = host.hasSuffix(".") ? host.dropLast() : host
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, name.utf8.count <= 253 else { return false }
        return labels.allSatisfy(PatternMatch.isLDHLabel)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
