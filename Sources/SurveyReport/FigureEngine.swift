import Foundation
import SurveyCore
import SurveyStore

/// Whether one unit satisfies a figure, does not, or cannot be counted (and why).
enum Outcome: Equatable, Sendable {
    case yes
    case no
    case out(LeftOutReason)
}

/// Decides each figure for one (MX host, IP) pair, and combines pairs into units.
enum Evaluator {
    /// Why a probe did not get far enough to decide a figure.
    static func failureReason(_ p: PairFacts) -> LeftOutReason {
        if p.excluded { return .excluded }
        guard let stored = p.status else { return .notProbed }
        guard case .known(let status) = stored else { return .notTested }
        switch status {
        case .excluded: return .excluded
        case .connectRefused, .connectError: return .connectFailed
        case .connectTimeout, .bannerTimeout, .timeout: return .timeout
        case .bannerRejected: return p.bannerCode == 421 ? .rateLimited : .bannerRejected
        case .ehloFailed: return .ehloFailed
        case .protocolViolation: return .protocolViolation
        case .connectionClosed: return .connectionClosed
        // The session got past the point of failure, or failed on the client's side
        // (`client_error`): the fact a figure needs was not recorded.
        case .ok, .starttlsNotOffered, .starttlsRejected, .tlsFailed, .clientError: return .notTested
        }
    }

    static func starttls(_ p: PairFacts) -> Outcome {
        if p.excluded { return .out(.excluded) }
        guard let offered = p.starttls else { return .out(failureReason(p)) }
        return offered ? .yes : .no
    }

    static func tls(_ p: PairFacts) -> Outcome {
        switch starttls(p) {
        case .out(let r): return .out(r)
        case .no: return .no
        case .yes:
            if p.tlsVersion != nil { return .yes }
            guard case .known(let status)? = p.status else { return .out(failureReason(p)) }
            switch status {
            // STARTTLS was answered and TLS did not come of it.
            case .starttlsRejected, .tlsFailed, .ok: return .no
            case .connectRefused, .connectTimeout, .connectError, .bannerTimeout, .bannerRejected,
                .ehloFailed,
                .starttlsNotOffered, .timeout, .protocolViolation, .connectionClosed, .excluded, .clientError:
                return .out(failureReason(p))
            }
        }
    }

    /// Applies `check` to pairs that negotiated TLS; others are not applicable (or keep
    /// their failure reason when the handshake's outcome is unknown).
    private static func withTLS(_ p: PairFacts, _ check: (TLSVersion) -> Outcome) -> Outcome {
        switch tls(p) {
        case .out(let r): return .out(r)
        case .no: return .out(.notApplicable)
        case .yes: return check(TLSVersion(p.tlsVersion ?? ""))
        }
    }

    private static func withCert(_ p: PairFacts, _ check: () -> Outcome) -> Outcome {
        withTLS(p) { _ in p.certSHA256 == nil ? .out(.notApplicable) : check() }
    }

    private static func flag(_ b: Bool?) -> Outcome {
        guard let b else { return .out(.notTested) }
        return b ? .yes : .no
    }

    static func forwardSecrecy(version: TLSVersion, cipher: String?) -> Outcome {
        if version == .tls13 { return .yes }
        guard let cipher else { return .out(.notTested) }
        let c = cipher.uppercased()
        return c.hasPrefix("ECDHE-") || c.hasPrefix("DHE-") || c.hasPrefix("EDH-") ? .yes : .no
    }

    /// TLS 1.3 suites and TLS 1.2 suites of BSI TR-03116-4 / TR-02102-2 (OpenSSL and IANA names).
    static func bsiSuite(version: TLSVersion, cipher: String?) -> Bool {
        guard let cipher else { return false }
        let c = cipher.uppercased()
        switch version {
        case .tls13:
            return ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_AES_128_CCM_SHA256"].contains(c)
        case .tls12:
            let iana = c.replacingOccurrences(of: "_", with: "-")
            let parts = iana.hasPrefix("TLS-") ? String(iana.dropFirst(4)) : iana
            guard parts.hasPrefix("ECDHE-RSA-") || parts.hasPrefix("ECDHE-ECDSA-") else { return false }
            let rest = parts.hasPrefix("ECDHE-RSA-") ? parts.dropFirst(10) : parts.dropFirst(12)
            let allowed = [
                "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA256", "AES256-SHA384",
                "WITH-AES-128-GCM-SHA256", "WITH-AES-256-GCM-SHA384", "WITH-AES-128-CBC-SHA256",
                "WITH-AES-256-CBC-SHA384",
            ]
            return allowed.contains(String(rest))
        case .ssl, .tls10, .tls11, .other:
            return false
        }
    }

    static func plaintextRefused(_ p: PairFacts) -> Outcome {
        if p.excluded { return .out(.excluded) }
        if let refused = p.plaintextRefused { return refused ? .yes : .no }
        if p.greylisted { return .out(.greylistedUnresolved) }
        return .out(failureReason(p))
    }

    /// A DNSSEC status as a figure: secure is yes, any other status no, none stored (a scan
    /// before store v6) not tested.
    static func dnssecSecure(_ status: StoredStatus<DNSSECStatus>?) -> Outcome {
        guard let status else { return .out(.notTested) }
        guard case .known(let s) = status else { return .out(.notTested) }
        switch s {
        case .secure: return .yes
        case .insecure, .bogus, .indeterminate: return .no
        }
    }

    /// DANE protection of a pair: `match` is yes, any other verdict no; without a verdict
    /// (no certificate from the probe, or a scan before store v6) the probe's failure reason.
    static func daneMatch(_ status: StoredStatus<DANEStatus>?, _ p: PairFacts) -> Outcome {
        if p.excluded { return .out(.excluded) }
        guard let status else { return p.hostDNSSEC == nil ? .out(.notTested) : .out(failureReason(p)) }
        guard case .known(let s) = status else { return .out(.notTested) }
        switch s {
        case .match: return .yes
        case .mismatch, .none, .unusable, .notApplicable, .bogus: return .no
        }
    }

    /// A BSI TR-03108 figure (`FigureID.bsiRequirement`) for one domain: the value of its
    /// `bsi_tr03108_domains` row (1 yes, 0 no); NULL there (not measured) and a domain without a
    /// row (a scan stored before the view) are not tested, a domain without MX host rows has
    /// no address.
    static func bsiDomain(_ requirement: BSIRequirement, _ d: DomainRecord) -> Outcome {
        if d.mx.isEmpty { return .out(.noAddress) }
        guard let row = d.bsi, let value = requirement.value(row) else { return .out(.notTested) }
        return value ? .yes : .no
    }

    /// A figure decided by the domain's policy facts (`FigureID.isDomainFact`); a domain the
    /// policy stage did not check, or whose `_mta-sts` TXT lookup failed, is not tested.
    static func domainPolicy(_ figure: FigureID, _ policy: DomainPolicyRow?) -> Outcome {
        guard let policy else { return .out(.notTested) }
        if figure == .tlsRPTPresent {
            guard case .known(let status) = policy.tlsRPTStatus else { return .out(.notTested) }
            switch status {
            case .valid: return .yes
            case .none, .invalid: return .no
            }
        }
        guard case .known(let status) = policy.mtaSTSStatus else { return .out(.notTested) }
        if policy.mtaSTSError == "txt_lookup_failed" { return .out(.notTested) }
        let mode: MTASTSMode? = if case .known(let m)? = policy.mtaSTSMode { m } else { nil }
        switch figure {
        case .mtaSTSEnforce: return status == .valid && mode == .enforce ? .yes : .no
        case .mtaSTSTesting: return status == .valid && mode == .testing ? .yes : .no
        case .mtaSTSInvalid:
            switch status {
            case .fetchFailed, .policyInvalid: return .yes
            case .none: return policy.mtaSTSError == "txt_invalid" ? .yes : .no
            case .valid: return .no
            }
        default: return .out(.notApplicable)
        }
    }

    static func evaluate(_ figure: FigureID, _ p: PairFacts) -> Outcome {
        switch figure {
        case .acceptsTLS10: return withTLS(p) { _ in flag(p.tls10) }
        case .acceptsTLS11: return withTLS(p) { _ in flag(p.tls11) }
        case .dnssecSignedMX: return dnssecSecure(p.hostDNSSEC)
        case .daneProtected: return daneMatch(p.dane, p)
        // Decided per domain (`domainPolicy`), never per (MX host, IP) pair.
        case .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid, .tlsRPTPresent, .bsiTR03108, .bsiTR03108STARTTLS,
            .bsiTR03108TLS12Only, .bsiTR03108ApprovedSuite, .bsiTR03108ApprovedKey,
            .bsiTR03108ValidCertificate,
            .bsiTR03108DNSSEC, .bsiTR03108DANE, .bsiTR03108TLSRPT, .bsiTR03108MTASTS:
            return .out(.notApplicable)
        case .starttlsOffered: return starttls(p)
        case .tlsNegotiated: return tls(p)
        case .tlsV13: return withTLS(p) { $0 == .tls13 ? .yes : .no }
        case .tlsV12: return withTLS(p) { $0 == .tls12 ? .yes : .no }
        case .tlsLegacy: return withTLS(p) { $0.isLegacy ? .yes : .no }
        case .certValid:
            return withCert(p) {
                guard let trusted = p.trusted, let match = p.nameMatch else { return .out(.notTested) }
                return trusted && match && p.expired != true ? .yes : .no
            }
        case .certExpired: return withCert(p) { flag(p.expired) }
        case .certSelfSigned: return withCert(p) { flag(p.selfSigned) }
        case .certUntrusted: return withCert(p) { flag(p.trusted.map { !$0 }) }
        case .certNameMismatch: return withCert(p) { flag(p.nameMatch.map { !$0 }) }
        case .forwardSecrecy: return withTLS(p) { forwardSecrecy(version: $0, cipher: p.cipher) }
        case .plaintextRefused: return plaintextRefused(p)
        case .dskCompliant:
            switch tls(p) {
            case .out(let r): return .out(r)
            case .no: return .no
            case .yes: return TLSVersion(p.tlsVersion ?? "").isModern ? .yes : .no
            }
        case .bsiCompliant:
            switch tls(p) {
            case .out(let r): return .out(r)
            case .no: return .no
            case .yes: return bsiSuite(version: TLSVersion(p.tlsVersion ?? ""), cipher: p.cipher) ? .yes : .no
            }
        }
    }
}

/// An `Outcome` packed in a byte: 0 yes, 1 no, 2 + n the n-th `LeftOutReason` (so a lower
/// code is a reason of higher priority).
enum OutcomeCode {
    static let yes: UInt8 = 0
    static let no: UInt8 = 1
    static let reasons = LeftOutReason.allCases

    static func of(_ o: Outcome) -> UInt8 {
        switch o {
        case .yes: yes
        case .no: no
        case .out(let r): UInt8(2 + r.priority)
        }
    }

    static func reason(_ r: LeftOutReason) -> UInt8 { UInt8(2 + r.priority) }

    static func outcome(_ c: UInt8) -> Outcome {
        switch c {
        case yes: .yes
        case no: .no
        default: .out(reasons[Int(c) - 2])
        }
    }

    /// Combines members (IPs of a host, hosts of a domain): only members that could be
    /// decided count; `all` requires every one of them to satisfy the figure, otherwise one
    /// suffices. With no decided member, the unit is left out with the members' reason of
    /// highest priority (lowest code).
    struct Combiner {
        var anyYes = false
        var anyNo = false
        var best = UInt8.max

        @inline(__always)
        mutating func add(_ c: UInt8) {
            if c == OutcomeCode.yes {
                anyYes = true
            } else if c == OutcomeCode.no {
                anyNo = true
            } else if c < best {
                best = c
            }
        }

        func result(all: Bool) -> UInt8 {
            if anyYes || anyNo { return all ? (anyNo ? no : yes) : (anyYes ? yes : no) }
            return best == UInt8.max ? reason(.noAddress) : best
        }
    }
}

/// Tallies outcome codes into a figure.
struct Tally {
    var yes = 0
    var no = 0
    var out = [Int](repeating: 0, count: LeftOutReason.allCases.count)

    mutating func add(_ c: UInt8) {
        switch c {
        case OutcomeCode.yes: yes += 1
        case OutcomeCode.no: no += 1
        default: out[Int(c) - 2] += 1
        }
    }

    func figure(_ id: FigureID, _ unit: ReportUnit) -> Figure {
        var left: [String: Int] = [:]
        for (i, n) in out.enumerated() where n > 0 { left[LeftOutReason.allCases[i].rawValue] = n }
        return Figure(id: id, unit: unit, numerator: yes, denominator: yes + no, leftOut: left)
    }
}

/// The figures of one subset of a scan's domains (all, or one tag).
struct Computation {
    var domainCounts: DomainCounts
    var figures: [Figure]
    /// The MX hosts (sorted by name) and IPs of the subset's domains with mail.
    var hosts: [Int]
    var ips: [Int]
    var mailDomains: [DomainRecord]
    /// `starttls_offered` per host and `tls_negotiated` per IP (codes), for providers and
    /// distributions.
    var hostStarttls: [Int: UInt8]
    var ipTLS: [Int: UInt8]

    static func counts(_ domains: [DomainRecord]) -> DomainCounts {
        var c = DomainCounts()
        for d in domains {
            c.total += 1
            guard case .known(let status) = d.status else {
                c.dnsFailure += 1  // a status this version does not know
                continue
            }
            switch status {
            case .ok: c.withMail += 1
            case .implicitMX:
                c.withMail += 1
                c.implicitMX += 1
            case .nullMX: c.nullMX += 1
            case .nxdomain: c.nxdomain += 1
            case .nodata: c.nodata += 1
            case .servfail, .timeout, .refused, .error: c.dnsFailure += 1
            // Not queried: on the operator's exclusion list, not a DNS outcome.
            case .excluded: c.excluded += 1
            }
        }
        return c
    }

    /// - Parameter figureIDs: the figures to compute (all by default).
    init(data: ScanData, domains: [DomainRecord], figureIDs: [FigureID] = FigureID.allCases) {
        domainCounts = Self.counts(domains)
        mailDomains = domains.filter(\.acceptsMail)
        var inSubset = [Bool](repeating: false, count: data.hostNames.count)
        for d in mailDomains { for m in d.mx { inSubset[m.host] = true } }
        hosts = inSubset.indices.filter { inSubset[$0] }.sorted { data.hostNames[$0] < data.hostNames[$1] }
        var ipSeen = [Bool](repeating: false, count: data.ipNames.count)
        for h in hosts { for p in data.hostPairs[h] { ipSeen[data.pairIP[p]] = true } }
        ips = ipSeen.indices.filter { ipSeen[$0] }.sorted { data.ipNames[$0] < data.ipNames[$1] }

        // Hosts without addresses are left out by their DNS outcome.
        let noAddressCode: [UInt8] = data.hostDNS.map { stored in
            guard let stored else { return OutcomeCode.reason(.notProbed) }
            guard case .known(let status) = stored else { return OutcomeCode.reason(.dnsFailure) }
            switch status {
            case .ok, .noAddress, .nxdomain: return OutcomeCode.reason(.noAddress)
            case .servfail, .timeout, .refused, .error: return OutcomeCode.reason(.dnsFailure)
            // Not queried: the host name is on the operator's exclusion list.
            case .excluded: return OutcomeCode.reason(.excluded)
            }
        }
        let noMX = OutcomeCode.reason(.noAddress)

        var figures: [Figure] = []
        var hostStarttls: [Int: UInt8] = [:]
        var ipTLS: [Int: UInt8] = [:]
        var hostCode = [UInt8](repeating: noMX, count: data.hostNames.count)
        for figure in figureIDs {
            guard let f = FigureID.allCases.firstIndex(of: figure) else { continue }
            if figure.isDomainFact {
                var tally = Tally()
                for d in mailDomains {
                    let outcome =
                        if let requirement = figure.bsiRequirement {
                            Evaluator.bsiDomain(requirement, d)
                        } else {
                            Evaluator.domainPolicy(figure, d.policy)
                        }
                    tally.add(OutcomeCode.of(outcome))
                }
                figures.append(tally.figure(figure, .domain))
                continue
            }
            let codes = data.codes[f]
            var ipTally = Tally()
            for ip in ips {
                var c = OutcomeCode.Combiner()
                for p in data.ipPairs[ip] where inSubset[data.pairHost[p]] { c.add(codes[p]) }
                let code = c.result(all: true)
                if figure == .tlsNegotiated { ipTLS[ip] = code }
                ipTally.add(code)
            }
            var hostTally = Tally()
            for h in hosts {
                let pairs = data.hostPairs[h]
                var code = noAddressCode[h]
                if figure == .dnssecSignedMX {
                    // A fact of the host's address lookup, with or without addresses.
                    code = OutcomeCode.of(Evaluator.dnssecSecure(data.hostDNSSEC[h]))
                } else if figure == .daneProtected, pairs.isEmpty, data.hostDANE[h] != nil {
                    // A host without addresses whose DNS answers decided (e.g. bogus).
                    code = OutcomeCode.no
                } else if !pairs.isEmpty {
                    var c = OutcomeCode.Combiner()
                    for p in pairs { c.add(codes[p]) }
                    code = c.result(all: true)
                }
                hostCode[h] = code
                hostTally.add(code)
                if figure == .starttlsOffered { hostStarttls[h] = code }
            }
            var all = Tally()
            var any = Tally()
            var primary = Tally()
            for d in mailDomains {
                if d.mx.isEmpty {
                    all.add(noMX)
                    any.add(noMX)
                    primary.add(noMX)
                    continue
                }
                if figure == .dnssecSignedMX, Evaluator.dnssecSecure(d.mxDNSSEC) != .yes {
                    // The domain's own MX answer comes first.
                    let code = OutcomeCode.of(Evaluator.dnssecSecure(d.mxDNSSEC))
                    all.add(code)
                    any.add(code)
                    primary.add(code)
                    continue
                }
                var c = OutcomeCode.Combiner()
                var best = Int.max
                for m in d.mx {
                    c.add(hostCode[m.host])
                    best = min(best, m.preference)
                }
                all.add(c.result(all: true))
                any.add(c.result(all: false))
                var pc = OutcomeCode.Combiner()
                for m in d.mx where m.preference == best { pc.add(hostCode[m.host]) }
                primary.add(pc.result(all: true))
            }
            figures.append(ipTally.figure(figure, .ip))
            figures.append(hostTally.figure(figure, .mxHost))
            figures.append(all.figure(figure, .domainAllMX))
            figures.append(any.figure(figure, .domainAnyMX))
            figures.append(primary.figure(figure, .domainPrimaryMX))
        }
        self.figures = figures
        self.hostStarttls = hostStarttls
        self.ipTLS = ipTLS
    }
}
