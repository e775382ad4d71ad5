/// What the DNS stage found for one input domain (recorded in `domains.dns_status`).
public enum DomainDNSStatus: String, Sendable, Codable, CaseIterable {
    /// MX records were found.
    case ok
    /// No MX but address records: the domain itself is the MX (RFC 5321 §5.1).
    case implicitMX = "implicit_mx"
    /// `MX 0 .` (RFC 7505): the domain accepts no mail.
    case nullMX = "null_mx"
    /// The name does not exist.
    case nxdomain
    /// The name exists but has neither MX nor address records.
    case nodata
    /// The resolver answered SERVFAIL after all tries.
    case servfail
    /// No answer within the deadline after all tries.
    case timeout
    /// The resolver refused the query.
    case refused
    /// Any other failure (malformed reply, …); details in `dns_detail`.
    case error
    /// Not queried: the domain is on the exclusion list.
    case excluded

    /// Domains that take mail and therefore enter the denominators of reports.
    public var acceptsMail: Bool { self == .ok || self == .implicitMX }
}

/// What the DNS stage found for one MX host name (recorded in `hosts.dns_status`).
public enum HostDNSStatus: String, Sendable, Codable, CaseIterable {
    /// At least one A/AAAA record.
    case ok
    /// The name exists but has no address records.
    case noAddress = "no_address"
    case nxdomain
    case servfail
    case timeout
    case refused
    case error
    /// Not queried: the host name is on the exclusion list.
    case excluded
}

public struct MXRecord: Sendable, Hashable, Codable {
    /// The target in RFC 1035 §5.1 presentation form as `dig` prints it, lower-case, without
    /// the trailing dot ("" for the root of a null MX): `.` and `\` inside a label (and
    /// `" ; ( ) @ $`) escaped with a backslash, octets outside 0x21–0x7E as `\DDD`, e.g.
    /// "a\009b.example" for a tab. It names exactly one wire name; the DNS stage asks for
    /// that name (SurveyDNS `DNSName`).
    public var host: String
    public var preference: Int
    public init(host: String, preference: Int) {
        self.host = host
        self.preference = preference
    }
}

/// The DNS stage's answer for one domain.
public struct DomainResolution: Sendable, Hashable {
    public var domain: String
    public var status: DomainDNSStatus
    /// MX records sorted by preference then name; for an implicit MX one record (domain, 0).
    public var mx: [MXRecord]
    public var implicitMX: Bool { status == .implicitMX }
    /// Free text for `error`/`servfail` cases.
    public var detail: String?
    /// The DNSSEC status of the MX answer (for an implicit MX: of the MX denial); nil when
    /// the domain was not looked up.
    public var mxDNSSEC: DNSSECStatus?

    public init(domain: String, status: DomainDNSStatus, mx: [MXRecord] = [], detail: String? = nil) {
        self.domain = domain
        self.status = status
        self.mx = mx
        self.detail = detail
    }
}

/// The DNS stage's answer for one MX host name.
public struct HostResolution: Sendable, Hashable {
    /// The MX host name, in the form of `MXRecord.host`.
    public var host: String
    public var status: HostDNSStatus
    /// Set when the MX target is a CNAME (RFC 5321 §5.1 forbids it; we follow and flag it).
    public var cnameTarget: String?
    /// IPv4 and IPv6 addresses in presentation form, IPv4 first, deduplicated.
    public var addresses: [String]
    public var detail: String?
    /// The DNSSEC status of the address lookup (A and AAAA combined); nil when the host was
    /// not looked up.
    public var dnssec: DNSSECStatus?
    /// The TLSA RRset at `_25._tcp.<host>`: looked up only when `dnssec` is `secure` and
    /// the host has addresses.
    public var tlsa: TLSALookup?

    public init(
        host: String, status: HostDNSStatus, cnameTarget: String? = nil, addresses: [String] = [],
        detail: String? = nil
    ) {
        self.host = host
        self.status = status
        self.cnameTarget = cnameTarget
        self.addresses = addresses
        self.detail = detail
    }
}
