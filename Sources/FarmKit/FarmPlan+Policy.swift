import Foundation
import SurveyCore

/// The MTA-STS and TLS-RPT facts of one planned domain.
public struct FarmDomainPolicy: Sendable, Hashable {
    public var mtaSTS: MTASTSKind
    public var tlsRPT: TLSRPTKind
    /// The farm host whose address `mta-sts.<domain>` has (its policy server listens there on
    /// `FarmPolicySpec.port`); nil without a policy host.
    public var server: Int?

    public static let nothing = FarmDomainPolicy(mtaSTS: .none, tlsRPT: .none, server: nil)
}

/// What a policy server answers for one policy host.
struct FarmPolicyResponse: Sendable, Hashable {
    var status: Int
    var reason: String
    var contentType: String
    var location: String?
    var body: String
}

extension FarmPlan {
    /// MTA-STS and TLS-RPT kinds, apportioned exactly over the domains with MX records
    /// (own random streams, so the rest of the plan is the same with or without them); the
    /// policy hosts spread round-robin over `servers` host addresses, which are spread evenly
    /// over the farm (so a farm of several worker processes shares the HTTPS work out).
    static func policyServerHosts(spec: FarmSpec, hostCount: Int) -> [Int] {
        let servers = max(1, min(spec.policy.servers, hostCount))
        return (0..<servers).map { $0 * hostCount / servers }
    }

    static func assignPolicies(spec: FarmSpec, domains: [FarmDomain], hosts: [FarmHost]) -> [FarmDomainPolicy]
    {
        var result = Array(repeating: FarmDomainPolicy.nothing, count: domains.count)
        let eligible = domains.indices.filter { domains[$0].status == .ok }
        guard !eligible.isEmpty else { return result }
        var stsRNG = FarmRandom(seed: spec.seed, stream: 200)
        var rptRNG = FarmRandom(seed: spec.seed, stream: 201)
        var sts = spec.policy.mtaSTSMix.apportion(eligible.count)
        stsRNG.shuffle(&sts)
        var rpt = spec.policy.tlsRPTMix.apportion(eligible.count)
        rptRNG.shuffle(&rpt)
        let serverHosts = policyServerHosts(spec: spec, hostCount: hosts.count)
        var nextServer = 0
        for (k, index) in eligible.enumerated() {
            var policy = FarmDomainPolicy(mtaSTS: sts[k], tlsRPT: rpt[k], server: nil)
            if policy.mtaSTS.hasPolicyHost {
                policy.server = serverHosts[nextServer]
                nextServer = (nextServer + 1) % serverHosts.count
            }
            result[index] = policy
        }
        return result
    }

    /// The policy id of domain `index` (letters and digits).
    func policyID(_ index: Int) -> String { "f\(spec.seed)d\(index + 1)" }

    /// `mta-sts.<domain>` of domain `index`.
    func policyHost(_ index: Int) -> String { "mta-sts.\(domains[index].name)" }

    /// The policy's `max_age` for a kind (seconds).
    static func maxAge(_ kind: MTASTSKind) -> Int { kind == .enforce || kind == .wildcard ? 604_800 : 86_400 }

    /// The `mx` lines of the policy domain `index` serves.
    func policyPatterns(_ index: Int) -> [String] {
        let domain = domains[index]
        let names = domain.mx.map { hosts[$0.host].name }
        switch policies[index].mtaSTS {
        case .wildcard:
            var providers: [String] = []
            for record in domain.mx {
                let provider = hosts[record.host].provider ?? hosts[record.host].name
                if !providers.contains(provider) { providers.append(provider) }
            }
            return providers.map { "*." + $0 }
        case .partial: return Array(names.prefix(1))
        case .mismatch: return ["*.mismatch.invalid"]
        default: return names
        }
    }

    /// The HTTP answer for `GET /.well-known/mta-sts.txt` on domain `index`'s policy host.
    func policyResponse(_ index: Int) -> FarmPolicyResponse {
        let kind = policies[index].mtaSTS
        let mode = kind.mode ?? "enforce"
        let valid =
            "version: STSv1\r\nmode: \(mode)\r\n" + policyPatterns(index).map { "mx: \($0)\r\n" }.joined()
            + "max_age: \(Self.maxAge(kind))\r\n"
        switch kind {
        case .notfound:
            return FarmPolicyResponse(
                status: 404, reason: "Not Found", contentType: "text/html", location: nil,
                body: "<html><body>404 Not Found</body></html>\n")
        case .redirect:
            return FarmPolicyResponse(
                status: 301, reason: "Moved Permanently", contentType: "text/html",
                location: "https://www.\(domains[index].name)/.well-known/mta-sts.txt",
                body: "<html><body>301 Moved Permanently</body></html>\n")
        case .badsyntax:
            return FarmPolicyResponse(
                status: 200, reason: "OK", contentType: "text/plain", location: nil,
                body: valid.replacingOccurrences(of: "mode: enforce", with: "mode: strict"))
        case .contenttype:
            return FarmPolicyResponse(
                status: 200, reason: "OK", contentType: "text/html; charset=utf-8", location: nil, body: valid
            )
        default:
            return FarmPolicyResponse(
                status: 200, reason: "OK", contentType: "text/plain", location: nil, body: valid)
        }
    }

    /// The policy hosts (name → domain index) served on host `server`'s address.
    func policySites(server: Int) -> [(name: String, domain: Int)] {
        domains.indices.compactMap { index in
            policies[index].server == server ? (policyHost(index), index) : nil
        }
    }

    /// The zone's MTA-STS and TLS-RPT records (`_mta-sts` TXT, `mta-sts` A, `_smtp._tls` TXT).
    func policyZoneText() -> String {
        var out = ""
        for (index, domain) in domains.enumerated() {
            let policy = policies[index]
            let name = domain.name
            let id = policyID(index)
            switch policy.mtaSTS {
            case .none: break
            case .txtinvalid: out += "_mta-sts.\(name).\tIN\tTXT\t\"v=STSv1; id=\(id)_1\"\n"
            case .txtmultiple:
                out += "_mta-sts.\(name).\tIN\tTXT\t\"v=STSv1; id=\(id)a\"\n"
                out += "_mta-sts.\(name).\tIN\tTXT\t\"v=STSv1; id=\(id)b\"\n"
            default: out += "_mta-sts.\(name).\tIN\tTXT\t\"v=STSv1; id=\(id)\"\n"
            }
            if let server = policy.server {
                out += "mta-sts.\(name).\tIN\tA\t\(hosts[server].ip.description)\n"
            }
            switch policy.tlsRPT {
            case .none: break
            case .valid: out += "_smtp._tls.\(name).\tIN\tTXT\t\"\(tlsRPTRecord(name))\"\n"
            case .invalid:
                out += "_smtp._tls.\(name).\tIN\tTXT\t\"v=TLSRPTv1; rua=ftp://tlsrpt.\(name)/v1\"\n"
            case .multiple:
                out += "_smtp._tls.\(name).\tIN\tTXT\t\"\(tlsRPTRecord(name))\"\n"
                out += "_smtp._tls.\(name).\tIN\tTXT\t\"v=TLSRPTv1; rua=mailto:tlsrpt2@\(name)\"\n"
            }
        }
        return out
    }

    private func tlsRPTRecord(_ name: String) -> String { "v=TLSRPTv1; rua=\(tlsRPTRUA(name))" }
    private func tlsRPTRUA(_ name: String) -> String { "mailto:tlsrpt@\(name),https://tlsrpt.\(name)/v1" }

    /// The policy facts of domain `index` a correct policy stage stores (docs/mxfarm.md);
    /// all null for a domain the stage does not check (null MX, NXDOMAIN).
    func policyTruth(domain index: Int) -> [(String, JSONValue)] {
        let domain = domains[index]
        let policy = policies[index]
        let checked = domain.status == .ok || domain.status == .implicitMX
        let kind = policy.mtaSTS
        var status = "none"
        var error: String? = nil
        switch kind {
        case .none: break
        case .txtinvalid, .txtmultiple: error = "txt_invalid"
        case .enforce, .testing, .modenone, .wildcard, .partial, .mismatch: status = "valid"
        case .notfound: (status, error) = ("fetch_failed", "http_404")
        case .redirect: (status, error) = ("fetch_failed", "http_redirect")
        case .badsyntax: (status, error) = ("policy_invalid", "policy_syntax")
        case .contenttype: (status, error) = ("fetch_failed", "content_type")
        case .wrongname: (status, error) = ("fetch_failed", "cert_hostname_mismatch")
        case .nxdomain: (status, error) = ("fetch_failed", "policy_host_nxdomain")
        }
        let rptStatus: String =
            switch policy.tlsRPT {
            case .none: "none"
            case .valid: "valid"
            case .invalid, .multiple: "invalid"
            }
        func value(_ text: String?) -> JSONValue { checked ? (text.map { .string($0) } ?? .null) : .null }
        return [
            ("mta_sts_kind", checked ? .string(kind.rawValue) : .null),
            ("mta_sts_status", value(status)),
            ("mta_sts_mode", value(status == "valid" ? kind.mode : nil)),
            ("mta_sts_id", value(kind.validRecord ? policyID(index) : nil)),
            ("mta_sts_error", value(error)),
            ("mta_sts_max_age", checked && status == "valid" ? .int(Self.maxAge(kind)) : .null),
            ("policy_host_ip", policy.server.map { .string(hosts[$0].ip.description) } ?? .null),
            ("policy_fetches", .int(kind.fetched ? 1 : 0)),
            ("tlsrpt_kind", checked ? .string(policy.tlsRPT.rawValue) : .null),
            ("tlsrpt_status", value(rptStatus)),
            ("tlsrpt_rua", value(policy.tlsRPT == .valid ? tlsRPTRUA(domain.name) : nil)),
        ]
    }

    /// Per MX record of domain `index`: `mta_sts_pattern_match` (the host matches an `mx`
    /// pattern of a valid policy) and `mta_sts_mx_match` (`results.mta_sts_mx_match`: the
    /// pattern matches and the host negotiates TLS with a trusted, unexpired certificate
    /// whose names cover it); null without a valid policy.
    func policyTruth(domain index: Int, mx record: FarmMX) -> [(String, JSONValue)] {
        let kind = policies[index].mtaSTS
        guard domains[index].status == .ok, kind.mode != nil else {
            return [("mta_sts_pattern_match", .null), ("mta_sts_mx_match", .null)]
        }
        let host = hosts[record.host]
        let patterns = policyPatterns(index)
        let matches = patterns.contains { pattern in
            if pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst(1)
                guard host.name.hasSuffix(suffix) else { return false }
                let first = host.name.dropLast(suffix.count)
                return !first.isEmpty && !first.contains(".")
            }
            return pattern == host.name
        }
        var certificateAccepted = false
        if host.behaviour.negotiatesTLS, let cert = host.certKind {
            certificateAccepted = cert.chainTrusted && cert != .expired && cert != .wrongname
        }
        return [
            ("mta_sts_pattern_match", .bool(matches)),
            ("mta_sts_mx_match", .bool(matches && certificateAccepted)),
        ]
    }
}
