import SurveyCore
import SurveyDNS

/// The policy stage for one domain: the `_mta-sts` and `_smtp._tls` TXT records through the
/// scan's resolver, then — with a valid `v=STSv1` record — the policy host
/// `mta-sts.<domain>` (A and AAAA through the same resolver, each address admitted by the
/// caller's address rules), one HTTPS fetch of its policy (the next address only when a
/// connection cannot be made), the policy parsed and each MX host matched against its `mx`
/// patterns.
public struct PolicyChecker: Sendable {
    public let resolver: Resolver
    public let fetcher: PolicyFetcher

    public init(resolver: Resolver, fetcher: PolicyFetcher) {
        self.resolver = resolver
        self.fetcher = fetcher
    }

    /// `admitHost` says why the policy host name may not be contacted (exclusion list), or
    /// nil; `admit` the same for an address (exclusion list, special-purpose addresses);
    /// `beforeFetch` is awaited before each connection (the scan's global rate).
    public func check(
        domain: String, mxHosts: [String], admitHost: @Sendable (String) -> String?,
        admit: @Sendable (String) -> String?, beforeFetch: @Sendable () async -> Void
    ) async -> DomainPolicyFacts {
        async let stsAnswer = resolver.query("_mta-sts.\(domain)", type: .txt)
        async let rptAnswer = resolver.query("_smtp._tls.\(domain)", type: .txt)
        let (sts, rpt) = await (stsAnswer, rptAnswer)

        var facts = DomainPolicyFacts(domain: domain, mtaSTSStatus: .none, tlsRPTStatus: .none)
        facts.mtaSTSTXTDNSSEC = sts.dnssec
        switch Self.txtRecords(rpt) {
        case .failure(let detail):
            // Not known to be absent: `none` with the reason beside it.
            facts.tlsRPTStatus = .none
            facts.tlsRPTError = "txt_lookup_failed: \(detail)"
        case .success(let records):
            switch TLSRPTRecord.evaluate(records) {
            case .none: facts.tlsRPTStatus = .none
            case .valid(let rua):
                facts.tlsRPTStatus = .valid
                facts.tlsRPTRUA = rua.joined(separator: ",")
            case .invalid(let reason):
                facts.tlsRPTStatus = .invalid
                facts.tlsRPTError = reason
            }
        }

        let id: String
        switch Self.txtRecords(sts) {
        case .failure(let detail):
            return failed(facts, .fetchFailed, "txt_lookup_failed", detail)
        case .success(let records):
            switch MTASTSRecord.evaluate(records) {
            case .none: return facts
            case .invalid(let reason): return failed(facts, .none, "txt_invalid", reason)
            case .valid(let value): id = value
            }
        }
        facts.mtaSTSID = id

        let policyHost = "mta-sts.\(domain)"
        if let reason = admitHost(policyHost) {
            return failed(facts, .fetchFailed, "policy_host_excluded", reason)
        }
        async let v4 = resolver.query(policyHost, type: .a)
        async let v6 = resolver.query(policyHost, type: .aaaa)
        let (a, aaaa) = await (v4, v6)
        let addresses = a.addresses + aaaa.addresses
        if addresses.isEmpty {
            switch (a.status, aaaa.status) {
            case (.nxdomain, _), (_, .nxdomain):
                return failed(facts, .fetchFailed, "policy_host_nxdomain", "\(policyHost): NXDOMAIN")
            case (.nodata, .nodata):
                return failed(
                    facts, .fetchFailed, "policy_host_no_address", "\(policyHost): no A or AAAA record")
            default:
                return failed(
                    facts, .fetchFailed, "policy_host_dns_error",
                    "\(policyHost): A \(a.status), AAAA \(aaaa.status)")
            }
        }
        var refused: [String] = []
        var outcome: PolicyFetchOutcome? = nil
        for ip in addresses {
            if let reason = admit(ip) {
                refused.append("\(ip): \(reason)")
                continue
            }
            if Task.isCancelled { break }
            await beforeFetch()
            let attempt = await fetcher.fetch(host: policyHost, ip: ip)
            outcome = attempt
            if !attempt.isConnectFailure { break }
        }
        guard let outcome else {
            let detail = refused.isEmpty ? "the scan is stopping" : refused.joined(separator: "; ")
            return failed(facts, .fetchFailed, refused.isEmpty ? "cancelled" : "policy_host_excluded", detail)
        }
        switch outcome {
        case .failed(let code, let detail):
            return failed(facts, .fetchFailed, code, detail)
        case .body(let body):
            switch MTASTSPolicy.parse(body) {
            case .failure(let error):
                return failed(facts, .policyInvalid, "policy_syntax", error.description)
            case .success(let policy):
                facts.mtaSTSStatus = .valid
                facts.mtaSTSMode = policy.mode
                facts.mtaSTSMaxAge = policy.maxAge
                facts.mtaSTSMXPatterns = policy.mx
                for host in mxHosts { facts.mxMatches[host] = policy.matches(mxHost: host) }
                return facts
            }
        }
    }

    private func failed(
        _ facts: DomainPolicyFacts, _ status: MTASTSStatus, _ code: String, _ detail: String
    ) -> DomainPolicyFacts {
        var facts = facts
        facts.mtaSTSStatus = status
        facts.mtaSTSError = code
        facts.mtaSTSDetail = detail
        return facts
    }

    enum TXTLookup {
        case success([[UInt8]])
        case failure(String)
    }

    /// The TXT records of an answer (each one's strings joined); NXDOMAIN and NODATA are no
    /// records; any other outcome is a failed lookup.
    static func txtRecords(_ answer: DNSAnswer) -> TXTLookup {
        switch answer.status {
        case .ok: return .success(answer.txt.map(\.data))
        case .nodata, .nxdomain: return .success([])
        case .servfail, .refused, .timeout, .error:
            return .failure("\(answer.name) TXT: \(answer.status)")
        }
    }
}
