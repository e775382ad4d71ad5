import Foundation
import SurveyCore

/// The DNSSEC status of the zone a farm name lives in, as a validating resolver with the
/// farm's trust anchors sees it (docs/mxfarm.md, *DNSSEC and DANE*).
public enum FarmZoneKind: String, CaseIterable, Sendable, Codable {
    /// `secure.<origin>`: signed, anchored with the DS of its key → answers `secure`.
    case secure
    /// `<origin>` itself: unsigned, no anchor → answers `insecure`.
    case insecure
    /// `bogus.<origin>`: signed, anchored with the DS of a key that signs nothing → SERVFAIL,
    /// the data only with CD: `bogus`.
    case bogus

    /// The zone's name below `origin` (with trailing dot): `secure.test.`, `test.`, `bogus.test.`.
    public func zoneName(origin: String) -> String {
        switch self {
        case .insecure: return origin
        case .secure, .bogus: return "\(rawValue).\(origin)"
        }
    }

    /// The name suffix (no trailing dot) of names in this zone: `secure.test`, `test`.
    func suffix(origin: String) -> String {
        String(zoneName(origin: origin).dropLast())
    }

    /// The `mx_dnssec` / `host_dnssec` value a scan through a validating resolver records.
    public var expectedDNSSEC: DNSSECStatus {
        switch self {
        case .secure: return .secure
        case .insecure: return .insecure
        case .bogus: return .bogus
        }
    }
}

/// The TLSA RRset a farm host publishes at `_25._tcp.<host>` (docs/mxfarm.md). The data is
/// derived from the farm's own seed-derived keys and root, so the zone is a pure function
/// of the spec: the shared ECDSA leaf key and the Ed25519 root `ca.pem` holds.
public enum TLSAKind: String, CaseIterable, Sendable, Codable {
    /// No TLSA record.
    case none
    /// `3 1 1` SHA-256 of the farm's leaf key (DANE-EE, SPKI).
    case eeSPKI = "ee-spki"
    /// `3 1 2` SHA-512 of the farm's leaf key.
    case eeSPKI512 = "ee-spki512"
    /// `2 0 1` SHA-256 of the farm root certificate (DANE-TA); the host sends the root too.
    case taCert = "ta-cert"
    /// `2 1 1` SHA-256 of the farm root's key; the host sends the root too.
    case taSPKI = "ta-spki"
    /// `0 0 1` root certificate (PKIX-TA, unusable for SMTP) next to a matching `3 1 1`.
    case mixed
    /// `3 0 1` and `2 1 1` with data no certificate of the farm has.
    case mismatch
    /// Only PKIX usages: `0 0 1` root certificate and `1 1 1` leaf key → unusable for SMTP.
    case pkix

    /// DANE-TA records: the host's chain includes the root above its intermediate
    /// (RFC 7671 §5.2.2: a server with DANE-TA records sends its trust anchor).
    public var sendsRoot: Bool { self == .taCert || self == .taSPKI }
}

/// DNSSEC zones and DANE records of a farm (`--dnssec-mix`, `--dane-mix`).
public struct FarmDNSSECSpec: Sendable, Equatable {
    /// Shares of providers (with their hosts) and of domains placed in each zone.
    public var zoneMix: Mix<FarmZoneKind>
    /// Shares of hosts publishing each TLSA RRset (in every zone; only `secure` hosts' count).
    public var daneMix: Mix<TLSAKind>

    public static let defaultZoneMix = try! Mix<FarmZoneKind>(parsing: "secure=60,insecure=30,bogus=10")
    public static let defaultDANEMix = try! Mix<TLSAKind>(
        parsing: "none=30,ee-spki=20,ee-spki512=5,ta-cert=10,ta-spki=5,mixed=5,mismatch=15,pkix=10")

    public init(
        zoneMix: Mix<FarmZoneKind> = FarmDNSSECSpec.defaultZoneMix,
        daneMix: Mix<TLSAKind> = FarmDNSSECSpec.defaultDANEMix
    ) {
        self.zoneMix = zoneMix
        self.daneMix = daneMix
    }
}
