/// A TLS (or SSL) protocol version. The raw values are OpenSSL's names (`SSL_get_version`,
/// the `results.tls_version` column): `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`, `SSLv3`.
///
/// One type for every stage: the TLS contexts' version range (`supported`), the farm's
/// pinned versions, and the report's reading of a stored name (`init(_:)`, `title`).
public enum TLSVersion: String, Sendable, Hashable, Codable, CaseIterable {
    /// SSL 3.0 or older (`SSLv3`, `SSLv2`).
    case ssl = "SSLv3"
    case tls10 = "TLSv1"
    case tls11 = "TLSv1.1"
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"
    /// A name that is none of the above (e.g. `DTLSv1.2`).
    case other

    /// The versions a TLS context can be limited to (OpenSSL 3.0: TLS 1.0 to 1.3), oldest first.
    public static let supported: [TLSVersion] = [.tls10, .tls11, .tls12, .tls13]

    /// Reads a version name as OpenSSL writes it, or as people do: case, spaces and the `v`
    /// do not matter (`TLSv1.3`, `TLS 1.3`, `tls13`; `TLSv1`, `TLS1.0`); `SSLv3` and `SSLv2`
    /// are `ssl`, any other name `other`.
    public init(_ name: String) {
        let t = name.uppercased().replacingOccurrences(of: " ", with: "").replacingOccurrences(
            of: "V", with: "")
        switch t {
        case "TLS1.3", "TLS13": self = .tls13
        case "TLS1.2", "TLS12": self = .tls12
        case "TLS1.1", "TLS11": self = .tls11
        case "TLS1", "TLS1.0", "TLS10": self = .tls10
        case "SSL3", "SSL3.0", "SSL2", "SSL2.0": self = .ssl
        default: self = .other
        }
    }

    /// The name reports show (`TLS 1.3`, `SSL 3.0 or older`, `other`).
    public var title: String {
        switch self {
        case .ssl: "SSL 3.0 or older"
        case .tls10: "TLS 1.0"
        case .tls11: "TLS 1.1"
        case .tls12: "TLS 1.2"
        case .tls13: "TLS 1.3"
        case .other: "other"
        }
    }

    /// Older than TLS 1.2 (TLS 1.1, TLS 1.0, SSL).
    public var isLegacy: Bool {
        switch self {
        case .ssl, .tls10, .tls11: true
        case .tls12, .tls13, .other: false
        }
    }

    /// TLS 1.2 or TLS 1.3.
    public var isModern: Bool {
        switch self {
        case .tls12, .tls13: true
        case .ssl, .tls10, .tls11, .other: false
        }
    }
}
