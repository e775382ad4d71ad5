/// The DNSSEC status of one DNS answer as the validating resolver reported it (RFC 4035
/// §4.3 terms). Stored as `domains.mx_dnssec`, `hosts.dnssec` and `hosts.tlsa_dnssec`.
public enum DNSSECStatus: String, Sendable, Codable, CaseIterable {
    /// The resolver validated the answer (AD set in its reply), data or a proven denial.
    case secure
    /// The resolver answered without AD: the name lies in an unsigned zone (or below an
    /// insecure delegation), or the resolver does not validate at all.
    case insecure
    /// The resolver answered SERVFAIL and the same question with checking disabled (CD)
    /// got an answer: the data exists but its signatures do not validate.
    case bogus
    /// No verdict: no answer (timeout, REFUSED, an error), or SERVFAIL with CD too.
    case indeterminate

    /// The weaker of two statuses, for an answer made of several replies (A and AAAA of a
    /// host; the hops of an alias chain): bogus, then indeterminate, then insecure, then
    /// secure.
    public func combined(with other: DNSSECStatus) -> DNSSECStatus {
        rank >= other.rank ? self : other
    }

    private var rank: Int {
        switch self {
        case .secure: 0
        case .insecure: 1
        case .indeterminate: 2
        case .bogus: 3
        }
    }
}

/// One TLSA record (RFC 6698 §2.1): the three parameter octets and the association data,
/// as received (values this version does not know are kept; DANE matching calls such
/// records unusable, RFC 7671 §4).
public struct TLSARecord: Sendable, Hashable, Codable {
    /// Certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    public var usage: UInt8
    /// 0 the full certificate, 1 its SubjectPublicKeyInfo.
    public var selector: UInt8
    /// 0 exact match, 1 SHA-256, 2 SHA-512.
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// The record's RDATA in wire form read: nil when it is shorter than the three
    /// parameter octets (then it is no TLSA record at all).
    public init?<C: Collection<UInt8>>(rdata: C) {
        let bytes = Array(rdata)
        guard bytes.count >= 3 else { return nil }
        self.init(usage: bytes[0], selector: bytes[1], matchingType: bytes[2], data: Array(bytes[3...]))
    }

    /// Why the record cannot be used for SMTP, or nil when it can (RFC 7672 §3.1, RFC 7671
    /// §4): usage DANE-TA(2) or DANE-EE(3), selector 0 or 1, matching type 0 (data not
    /// empty), 1 (32 octets) or 2 (64 octets).
    public var unusableReason: String? {
        switch usage {
        case 2, 3: break
        case 0, 1: return "usage \(usage) (PKIX) is not used for SMTP"
        default: return "unknown usage \(usage)"
        }
        guard selector <= 1 else { return "unknown selector \(selector)" }
        switch matchingType {
        case 0: return data.isEmpty ? "no association data" : nil
        case 1: return data.count == 32 ? nil : "SHA-256 data of \(data.count) octets"
        case 2: return data.count == 64 ? nil : "SHA-512 data of \(data.count) octets"
        default: return "unknown matching type \(matchingType)"
        }
    }

    /// Presentation form as `dig` prints it: "3 1 1 ABCD…" (hex in upper case).
    public var presentation: String {
        let hex = data.map { byte -> String in
            let digits = Array("0123456789ABCDEF")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
        return "\(usage) \(selector) \(matchingType) \(hex.isEmpty ? "-" : hex)"
    }
}

/// The TLSA RRset of an MX host (`_25._tcp.<host>`, RFC 7672 §2.2), looked up only when
/// the host's address lookup was DNSSEC-secure.
public struct TLSALookup: Sendable, Hashable {
    /// The DNSSEC status of the TLSA answer (a proven denial is `secure`).
    public var dnssec: DNSSECStatus
    /// The records, in the order of the reply; empty for NODATA/NXDOMAIN or a failure.
    public var records: [TLSARecord]
    /// RDATA in the answer too short to be a TLSA record (RFC 7671 §4: unusable).
    public var malformed: Int
    /// Why the lookup gave no usable answer (SERVFAIL, timeout, …); nil for data or a denial.
    public var failure: String?
    /// The CNAME-expanded MX host name the records were looked up at (RFC 7672 §2.2.2); nil
    /// when they are the MX host name's own (no alias, or nothing secure at the expanded name).
    public var expandedName: String?

    public init(
        dnssec: DNSSECStatus, records: [TLSARecord] = [], malformed: Int = 0, failure: String? = nil,
        expandedName: String? = nil
    ) {
        self.dnssec = dnssec
        self.records = records
        self.malformed = malformed
        self.failure = failure
        self.expandedName = expandedName
    }
}

extension DANEStatus {
    /// The verdict for an MX host that its DNS answers decide alone, before any certificate
    /// is seen: `notApplicable`/`bogus` from the DNSSEC status of its address and TLSA
    /// lookups, `none` for a secure denial, `unusable` when no record could ever match.
    /// nil when usable records exist: then the chain each address presents decides
    /// (SurveyTLS `DANE.verify`). `hostDNSSEC` nil (not looked up): nil.
    public static func fromDNS(hostDNSSEC: DNSSECStatus?, tlsa: TLSALookup?) -> DANEStatus? {
        guard let hostDNSSEC else { return nil }
        switch hostDNSSEC {
        case .bogus: return .bogus
        case .insecure, .indeterminate: return .notApplicable
        case .secure: break
        }
        guard let tlsa else { return .notApplicable }
        switch tlsa.dnssec {
        case .bogus: return .bogus
        case .insecure, .indeterminate: return .notApplicable
        case .secure: break
        }
        if tlsa.failure != nil { return .notApplicable }
        if tlsa.records.isEmpty { return tlsa.malformed > 0 ? .unusable : DANEStatus.none }
        return tlsa.records.allSatisfy { $0.unusableReason != nil } ? .unusable : nil
    }
}

/// The DANE verdict for one MX host (RFC 7672), stored per (probe, MX host) and shown as
/// `results.dane_status`.
public enum DANEStatus: String, Sendable, Codable, CaseIterable {
    /// At least one usable TLSA record matched the chain the server presented.
    case match
    /// Usable TLSA records exist and none matched.
    case mismatch
    /// The host's address and a TLSA denial are DNSSEC-secure: no TLSA, DANE not in use.
    case none
    /// Secure TLSA records exist but none is usable for SMTP (usages 0/1, unknown
    /// parameters, data of the wrong length, malformed RDATA).
    case unusable
    /// The host's address or its TLSA answer is not DNSSEC-secure: DANE does not apply.
    case notApplicable = "not_applicable"
    /// The host's address or its TLSA answer is DNSSEC-bogus.
    case bogus
}
