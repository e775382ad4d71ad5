import Foundation

/// Whether one unit satisfies a figure, does not, or cannot be counted (and why).
enum Outcome: Equatable, Sendable {
    case yes
    case no
    case out(LeftOutReason)
}

/// Negotiated protocol version, normalised from OpenSSL's names (`TLSv1.3`, `TLSv1`, `SSLv3`).
enum TLSVersion: String, Sendable {
    case ssl = "SSL 3.0 or older"
    case tls10 = "TLS 1.0"
    case tls11 = "TLS 1.1"
    case tls12 = "TLS 1.2"
    case tls13 = "TLS 1.3"
    case other = "other"

    init(_ raw: String) {
        let t = raw.uppercased().replacingOccurrences(of: " ", with: "").replacingOccurrences(
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

    var isLegacy: Bool { self == .ssl || self == .tls10 || self == .tls11 }
    var isModern: Bool { self == .tls12 || self == .tls13 }
}

/// Decides each figure for one (MX host, IP) pair, and combines pairs into units.
enum Evaluator {
    /// Why a probe did not get far enough to decide a figure.
    static func failureReason(_ p: PairFacts) -> LeftOutReason {
        if p.excluded { return .excluded }
        guard let status = p.status else { return .notProbed }
        switch status {
        case "excluded": return .excluded
        case "connect_refused", "connect_error": return .connectFailed
        case "connect_timeout", "banner_timeout", "timeout": return .timeout
        case "banner_rejected": return p.bannerCode == 421 ? .rateLimited : .bannerRejected
        case "ehlo_failed": return .ehloFailed
        case "protocol_violation": return .protocolViolation
        case "connection_closed": return .connectionClosed
        default: return .notTested
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
            switch p.status {
            case "starttls_rejected", "tls_failed", "ok": return .no
            default: return .out(failureReason(p))
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
        default:
            return false
        }
    }

    static func plaintextRefused(_ p: PairFacts) -> Outcome {
        if p.excluded { return .out(.excluded) }
        if let refused = p.plaintextRefused { return refused ? .yes : .no }
        if p.greylisted { return .out(.greylistedUnresolved) }
        return .out(failureReason(p))
    }

    static func evaluate(_ figure: FigureID, _ p: PairFacts) -> Outcome {
        switch figure {
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

    /// Combines members (IPs of a host, hosts of a domain): only members that could be
    /// tested count; `all` requires every one of them to satisfy the figure, otherwise one
    /// suffices. With no testable member, the unit is left out with the members' reason of
    /// highest priority.
    static func combine<S: Sequence>(_ outcomes: S, all: Bool) -> Outcome where S.Element == Outcome {
        var anyYes = false
        var anyNo = false
        var reason: LeftOutReason?
        for o in outcomes {
            switch o {
            case .yes: anyYes = true
            case .no: anyNo = true
            case .out(let r):
                if let current = reason, current.priority <= r.priority { continue }
                reason = r
            }
        }
        if anyYes || anyNo { return all ? (anyNo ? .no : .yes) : (anyYes ? .yes : .no) }
        return .out(reason ?? .noAddress)
    }
}

/// Tallies outcomes into a figure.
struct Tally {
    var yes = 0
    var no = 0
    var out: [LeftOutReason: Int] = [:]

    mutating func add(_ o: Outcome) {
        switch o {
        case .yes: yes += 1
        case .no: no += 1
        case .out(let r): out[r, default: 0] += 1
        }
    }

    func figure(_ id: FigureID, _ unit: ReportUnit) -> Figure {
        var left: [String: Int] = [:]
        for (r, n) in out { left[r.rawValue] = n }
        return Figure(
            id: id.rawValue, unit: unit.rawValue, numerator: yes, denominator: yes + no, leftOut: left)
    }
}

/// The figures of one subset of a scan's domains (all, or one tag).
struct Computation {
    var domainCounts: DomainCounts
    var figures: [Figure]
    /// The MX hosts and IPs of the subset's domains with mail.
    var hosts: [String]
    var ips: [String]
    var mailDomains: [DomainRecord]
    var hostStarttls: [String: Outcome]
    var ipTLS: [String: Outcome]

    static func counts(_ domains: [DomainRecord]) -> DomainCounts {
        var c = DomainCounts()
        for d in domains {
            c.total += 1
            switch d.status {
            case "ok": c.withMail += 1
            case "implicit_mx":
                c.withMail += 1
                c.implicitMX += 1
            case "null_mx": c.nullMX += 1
            case "nxdomain": c.nxdomain += 1
            case "nodata": c.nodata += 1
            default: c.dnsFailure += 1
            }
        }
        return c
    }

    /// - Parameter figureIDs: the figures to compute (all by default).
    init(data: ScanData, domains: [DomainRecord], figureIDs: [FigureID] = FigureID.allCases) {
        domainCounts = Self.counts(domains)
        mailDomains = domains.filter(\.acceptsMail)
        var hostSet = Set<String>()
        for d in mailDomains { hostSet.formUnion(d.mx.keys) }
        hosts = hostSet.sorted()
        var ipSet = Set<String>()
        for h in hosts { ipSet.formUnion(data.hosts[h]?.ips ?? []) }
        ips = ipSet.sorted()

        // The pairs of each IP restricted to the subset's hosts.
        var ipPairs: [String: [PairFacts]] = [:]
        for ip in ips {
            ipPairs[ip] = (data.hostsOfIP[ip] ?? []).filter { hostSet.contains($0) }.compactMap {
                data.pairs[PairKey(host: $0, ip: ip)]
            }
        }

        func hostOutcome(_ host: String, _ figure: FigureID) -> Outcome {
            guard let record = data.hosts[host] else { return .out(.notProbed) }
            if record.ips.isEmpty {
                switch record.dnsStatus {
                case nil: return .out(.notProbed)
                case "ok", "no_address", "nxdomain": return .out(.noAddress)
                default: return .out(.dnsFailure)
                }
            }
            return Evaluator.combine(
                record.ips.lazy.map { ip -> Outcome in
                    guard let p = data.pairs[PairKey(host: host, ip: ip)] else { return .out(.notProbed) }
                    return Evaluator.evaluate(figure, p)
                }, all: true)
        }

        var figures: [Figure] = []
        var hostStarttls: [String: Outcome] = [:]
        var ipTLS: [String: Outcome] = [:]
        for figure in figureIDs {
            var ipTally = Tally()
            for ip in ips {
                let o = Evaluator.combine(
                    (ipPairs[ip] ?? []).map { Evaluator.evaluate(figure, $0) }, all: true)
                if figure == .tlsNegotiated { ipTLS[ip] = o }
                ipTally.add(o)
            }
            var hostTally = Tally()
            var byHost: [String: Outcome] = [:]
            for h in hosts {
                let o = hostOutcome(h, figure)
                byHost[h] = o
                hostTally.add(o)
            }
            if figure == .starttlsOffered { hostStarttls = byHost }
            var all = Tally()
            var any = Tally()
            var primary = Tally()
            for d in mailDomains {
                if d.mx.isEmpty {
                    all.add(.out(.noAddress))
                    any.add(.out(.noAddress))
                    primary.add(.out(.noAddress))
                    continue
                }
                let outcomes = d.mx.keys.sorted().map { byHost[$0] ?? .out(.notProbed) }
                all.add(Evaluator.combine(outcomes, all: true))
                any.add(Evaluator.combine(outcomes, all: false))
                let best = d.mx.values.min() ?? 0
                let primaries = d.mx.filter { $0.value == best }.keys.sorted().map {
                    byHost[$0] ?? .out(.notProbed)
                }
                primary.add(Evaluator.combine(primaries, all: true))
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
