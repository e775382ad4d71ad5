/// The `mode` of an MTA-STS policy (RFC 8461 §5).
public enum MTASTSMode: String, Sendable, Hashable, CaseIterable {
    case enforce, testing, none
}

/// The MTA-STS verdict on a domain (`domain_policy.mta_sts_status`).
public enum MTASTSStatus: String, Sendable, Hashable, CaseIterable {
    /// No valid `v=STSv1` TXT record: the domain publishes no MTA-STS policy a sender would
    /// use (RFC 8461 §3.1). With `mta_sts_error` `txt_invalid` there were such records but
    /// more than one, or one that breaks the grammar.
    case none
    /// One valid TXT record and a policy fetched over HTTPS and parsed.
    case valid
    /// The TXT lookup failed (SERVFAIL, timeout), or the policy host could not be resolved,
    /// reached or authenticated, or did not answer 200 with a text/plain body within the
    /// limits.
    case fetchFailed = "fetch_failed"
    /// The policy was fetched but does not follow RFC 8461 §3.2.
    case policyInvalid = "policy_invalid"
}

/// The TLS-RPT verdict on a domain (`domain_policy.tlsrpt_status`, RFC 8460).
public enum TLSRPTStatus: String, Sendable, Hashable, CaseIterable {
    case none, valid, invalid
}

/// What the policy stage learned about one domain: MTA-STS (TXT record, fetched policy) and
/// TLS-RPT. `mtaSTSError` is a short reason code (`txt_invalid`, `http_404`,
/// `cert_hostname_mismatch`, …), `mtaSTSDetail` the longer text (escaped when shown).
public struct DomainPolicyFacts: Sendable, Hashable {
    public var domain: String
    public var mtaSTSStatus: MTASTSStatus
    public var mtaSTSID: String?
    public var mtaSTSMode: MTASTSMode?
    public var mtaSTSMaxAge: Int?
    /// The policy's `mx` patterns in order (empty without a valid policy).
    public var mtaSTSMXPatterns: [String]
    public var mtaSTSError: String?
    public var mtaSTSDetail: String?
    /// The DNSSEC status of the `_mta-sts` TXT answer.
    public var mtaSTSTXTDNSSEC: DNSSECStatus?
    public var tlsRPTStatus: TLSRPTStatus
    /// The `rua` URIs joined with `,` (valid records only).
    public var tlsRPTRUA: String?
    public var tlsRPTError: String?
    /// Per MX host of the domain: does it match one of the policy's `mx` patterns (only with
    /// a valid policy).
    public var mxMatches: [String: Bool]

    public init(
        domain: String, mtaSTSStatus: MTASTSStatus, mtaSTSID: String? = nil, mtaSTSMode: MTASTSMode? = nil,
        mtaSTSMaxAge: Int? = nil, mtaSTSMXPatterns: [String] = [], mtaSTSError: String? = nil,
        mtaSTSDetail: String? = nil, mtaSTSTXTDNSSEC: DNSSECStatus? = nil, tlsRPTStatus: TLSRPTStatus,
        tlsRPTRUA: String? = nil, tlsRPTError: String? = nil, mxMatches: [String: Bool] = [:]
    ) {
        self.domain = domain
        self.mtaSTSStatus = mtaSTSStatus
        self.mtaSTSID = mtaSTSID
        self.mtaSTSMode = mtaSTSMode
        self.mtaSTSMaxAge = mtaSTSMaxAge
        self.mtaSTSMXPatterns = mtaSTSMXPatterns
        self.mtaSTSError = mtaSTSError
        self.mtaSTSDetail = mtaSTSDetail
        self.mtaSTSTXTDNSSEC = mtaSTSTXTDNSSEC
        self.tlsRPTStatus = tlsRPTStatus
        self.tlsRPTRUA = tlsRPTRUA
        self.tlsRPTError = tlsRPTError
        self.mxMatches = mxMatches
    }
}
