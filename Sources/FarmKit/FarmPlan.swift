import Foundation
import SurveyCore

/// One simulated mail server: one name, one IP, one behaviour.
public struct FarmHost: Sendable, Hashable {
    public var index: Int
    /// Fully qualified, lower case, without trailing dot (`mx1.prov17.test`, or the domain
    /// name itself for an implicit MX).
    public var name: String
    public var ip: IPv4
    /// `prov17.test`; nil for the host of an implicit-MX domain.
    public var provider: String?
    public var implicitMX: Bool
    public var behaviour: Behaviour
    /// The version the server is pinned to (hosts that negotiate TLS only).
    public var tlsVersion: TLSVersion?
    /// The certificate presented (hosts that negotiate TLS only).
    public var certKind: CertKind?
    /// Delay before the banner (not used by tarpits, which never send one).
    public var bannerDelayMs: Int
    /// Domains whose MX (or implicit MX) this host is.
    public var domainCount: Int
}

/// One MX record of a planned domain.
public struct FarmMX: Sendable, Hashable {
    /// Index into `FarmPlan.hosts`.
    public var host: Int
    public var preference: Int
}

/// One domain of `domains.txt`.
public struct FarmDomain: Sendable, Hashable {
    public var name: String
    /// `.ok` (MX records), `.implicitMX`, `.nullMX` or `.nxdomain` (absent from the zone).
    public var status: DomainDNSStatus
    /// MX records (preference 10 for the first, 20 for backups); for an implicit MX the
    /// domain's own host with preference 0; empty for null MX and NXDOMAIN.
    public var mx: [FarmMX]
}

/// A provider: a group of MX hosts sharing a parent name (`prov17.test`).
public struct FarmProvider: Sendable, Hashable {
    public var name: String
    public var hosts: [Int]
}

/// The generated farm: hosts, domains, truth. A pure function of the `FarmSpec`.
public struct FarmPlan: Sendable {
    public let spec: FarmSpec
    public let hosts: [FarmHost]
    public let domains: [FarmDomain]
    public let providers: [FarmProvider]
    /// MTA-STS and TLS-RPT per domain (index = domain index; FarmPlan+Policy.swift).
    public let policies: [FarmDomainPolicy]
    /// Zones and TLSA records (`spec.dnssec`); nil: one unsigned zone.
    public let dnssec: FarmDNSSECPlan?

    private enum Stream: UInt64 {
        case domainKinds = 1
        case providers, behaviours, versions, certificates, delays, mxChoice
    }

    public init(spec: FarmSpec) throws {
        try spec.validate()
        self.spec = spec
        func rng(_ stream: Stream) -> FarmRandom { FarmRandom(seed: spec.seed, stream: stream.rawValue) }
        let suffix = String(spec.normalizedOrigin.dropLast())

        // 1. Domain kinds.
        let m = spec.domains
        var nImplicit = Int((Double(m) * spec.implicitShare).rounded())
        let nNull = Int((Double(m) * spec.nullMXShare).rounded())
        let nNX = Int((Double(m) * spec.nxdomainShare).rounded())
        var nMX = max(0, m - nImplicit - nNull - nNX)
        // Provider hosts need at least one host when some domain has MX records.
        let reserve = nMX > 0 ? 1 : 0
        if nImplicit > spec.hosts - reserve {
            nImplicit = max(0, spec.hosts - reserve)
        }
        nMX = m - nImplicit - nNull - nNX
        var kinds: [DomainDNSStatus] =
            Array(repeating: .implicitMX, count: nImplicit) + Array(repeating: .nullMX, count: nNull)
            + Array(repeating: .nxdomain, count: nNX) + Array(repeating: .ok, count: nMX)
        var kindRNG = rng(.domainKinds)
        kindRNG.shuffle(&kinds)

        // 2. Providers: sizes by rank (a few big ones, a long tail of one- and two-host
        //    providers), never more providers than MX domains so every host can be used.
        let providerHostCount = spec.hosts - nImplicit
        var providerRNG = rng(.providers)
        var sizes: [Int] = []
        var remaining = providerHostCount
        while remaining > 0 {
            let rank = sizes.count + 1
            let natural: Int
            switch rank {
            case 1...3: natural = 5
            case 4...10: natural = 4
            case 11...30: natural = 3
            case 31...100: natural = 2
            default: natural = providerRNG.unit() < 0.3 ? 2 : 1
            }
            let size = min(natural, remaining)
            sizes.append(size)
            remaining -= size
        }
        if nMX > 0, sizes.count > nMX {
            let count = nMX
            sizes = (0..<count).map { providerHostCount / count + ($0 < providerHostCount % count ? 1 : 0) }
        }

        var hosts: [FarmHost] = []
        hosts.reserveCapacity(spec.hosts)
        var providers: [FarmProvider] = []
        for (p, size) in sizes.enumerated() {
            let providerName = "prov\(p + 1).\(suffix)"
            var members: [Int] = []
            for k in 0..<size {
                let index = hosts.count
                members.append(index)
                hosts.append(
                    FarmHost(
                        index: index, name: "mx\(k + 1).\(providerName)",
                        ip: IPv4(value: spec.base.value + UInt32(index)), provider: providerName,
                        implicitMX: false,
                        behaviour: .tls13, tlsVersion: nil, certKind: nil, bannerDelayMs: 0, domainCount: 0))
            }
            providers.append(FarmProvider(name: providerName, hosts: members))
        }

        // 3. Domains → providers: every provider gets one domain (when there are enough),
        //    the rest follow a Zipf law (share ∝ 1/rank).
        var assignments: [Int] = []
        if !providers.isEmpty, nMX > 0 {
            assignments = Array(0..<min(providers.count, nMX))
            var cumulative: [Double] = []
            cumulative.reserveCapacity(providers.count)
            var sum = 0.0
            for rank in 1...providers.count {
                sum += 1 / Double(rank)
                cumulative.append(sum)
            }
            while assignments.count < nMX {
                assignments.append(providerRNG.weightedIndex(cumulative: cumulative))
            }
            providerRNG.shuffle(&assignments)
        }

        var mxRNG = rng(.mxChoice)
        var cursors = Array(repeating: 0, count: providers.count)
        // Domains still to come per provider and hosts not yet named in any MX: the MX
        // counts grow where needed so that every host serves at least one domain.
        var domainsLeft = Array(repeating: 0, count: providers.count)
        for p in assignments { domainsLeft[p] += 1 }
        var uncovered = providers.map(\.hosts.count)
        var domains: [FarmDomain] = []
        domains.reserveCapacity(m)
        var nextAssignment = 0
        for (i, kind) in kinds.enumerated() {
            let name = "d\(i + 1).\(suffix)"
            switch kind {
            case .ok:
                let p = assignments[nextAssignment]
                nextAssignment += 1
                let members = providers[p].hosts
                let size = members.count
                var count = 1
                if size > 1 {
                    let x = mxRNG.unit()
                    count = x < 0.2 ? 1 : (x < 0.85 ? 2 : 3)
                    let needed = (uncovered[p] + domainsLeft[p] - 1) / max(1, domainsLeft[p])
                    count = min(max(count, needed), 3, size)
                }
                domainsLeft[p] -= 1
                uncovered[p] = max(0, uncovered[p] - count)
                var mx: [FarmMX] = []
                for j in 0..<count {
                    let host = members[(cursors[p] + j) % size]
                    mx.append(FarmMX(host: host, preference: j == 0 ? 10 : 20))
                    hosts[host].domainCount += 1
                }
                cursors[p] = (cursors[p] + count) % size
                domains.append(FarmDomain(name: name, status: .ok, mx: mx))
            case .implicitMX:
                let index = hosts.count
                hosts.append(
                    FarmHost(
                        index: index, name: name, ip: IPv4(value: spec.base.value + UInt32(index)),
                        provider: nil,
                        implicitMX: true, behaviour: .tls13, tlsVersion: nil, certKind: nil, bannerDelayMs: 0,
                        domainCount: 1))
                domains.append(
                    FarmDomain(name: name, status: .implicitMX, mx: [FarmMX(host: index, preference: 0)]))
            default:
                domains.append(FarmDomain(name: name, status: kind, mx: []))
            }
        }

        // 4. Behaviours (exact proportions, shuffled over all hosts) and TLS versions.
        var behaviourRNG = rng(.behaviours)
        var behaviours = spec.mix.apportion(hosts.count)
        behaviourRNG.shuffle(&behaviours)
        var versionRNG = rng(.versions)
        let w13 = spec.mix.weight(.tls13)
        let w12 = spec.mix.weight(.tls12)
        let share13 = w13 + w12 > 0 ? w13 / (w13 + w12) : 0.5
        for i in hosts.indices {
            let behaviour = behaviours[i]
            hosts[i].behaviour = behaviour
            if behaviour.negotiatesTLS {
                hosts[i].tlsVersion =
                    behaviour.pinnedVersion ?? (versionRNG.unit() < share13 ? .tls13 : .tls12)
            }
        }

        // 5. Certificates for the hosts that negotiate TLS. Wildcards need a provider name,
        //    so implicit-MX hosts take the next non-wildcard kind from the pool.
        var certRNG = rng(.certificates)
        let tlsHosts = hosts.indices.filter { hosts[$0].behaviour.negotiatesTLS }
        var pool = spec.certMix.apportion(tlsHosts.count)
        certRNG.shuffle(&pool)
        for i in tlsHosts {
            if hosts[i].implicitMX, let position = pool.firstIndex(where: { $0 != .wildcard }) {
                hosts[i].certKind = pool.remove(at: position)
            } else if !pool.isEmpty {
                let kind = pool.removeFirst()
                hosts[i].certKind = (hosts[i].implicitMX && kind == .wildcard) ? .valid : kind
            }
        }

        // 6. Banner delays.
        var delayRNG = rng(.delays)
        for i in hosts.indices {
            let delay = spec.delay.drawMilliseconds(&delayRNG)
            hosts[i].bannerDelayMs = hosts[i].behaviour == .tarpit ? 0 : delay
        }

        // 7. DNSSEC zones and TLSA records (renames providers, hosts and domains).
        dnssec = try spec.dnssec.map {
            try Self.placeInZones($0, spec: spec, hosts: &hosts, domains: &domains, providers: &providers)
        }

        self.hosts = hosts
        self.domains = domains
        self.providers = providers
        self.policies = Self.assignPolicies(spec: spec, domains: domains, hosts: hosts)
    }

    /// The host listening on `ip`, if any.
    public func host(at ip: IPv4) -> FarmHost? {
        guard ip.value >= spec.base.value else { return nil }
        let index = Int(ip.value - spec.base.value)
        return index < hosts.count ? hosts[index] : nil
    }

    // MARK: - Files

    /// The auth-zone for `spec.origin` in master-file format (with `spec.dnssec`, the
    /// names outside the child zones: see `zoneFiles`).
    public func zoneText() -> String {
        zoneFiles()[0].text
    }

    /// `$ORIGIN`, `$TTL`, SOA, NS and the name server's address of zone `origin`.
    func zoneHeader(_ origin: String) -> String {
        var out =
            "; mxfarm zone for \(origin) (seed \(spec.seed), \(hosts.count) hosts, \(domains.count) domains)\n"
        out += "$ORIGIN \(origin)\n$TTL 3600\n"
        out += "@\tIN\tSOA\tns.\(origin) hostmaster.\(origin) 1 3600 900 604800 300\n"
        out += "@\tIN\tNS\tns.\(origin)\n"
        out += "ns.\(origin)\tIN\tA\t127.0.0.1\n"
        return out
    }

    /// The A and MX records of the farm, each with its absolute owner name.
    func recordLines() -> [(owner: String, line: String)] {
        var out: [(owner: String, line: String)] = []
        for host in hosts where !host.implicitMX {
            out.append(("\(host.name).", "\(host.name).\tIN\tA\t\(host.ip.description)\n"))
        }
        for domain in domains {
            let owner = "\(domain.name)."
            switch domain.status {
            case .ok:
                for mx in domain.mx {
                    out.append((owner, "\(owner)\tIN\tMX\t\(mx.preference)\t\(hosts[mx.host].name).\n"))
                }
            case .implicitMX:
                if let mx = domain.mx.first {
                    out.append((owner, "\(owner)\tIN\tA\t\(hosts[mx.host].ip.description)\n"))
                }
            case .nullMX:
                out.append((owner, "\(owner)\tIN\tMX\t0\t.\n"))
            default:
                break
            }
        }
        for line in policyZoneText().split(separator: "\n") {
            out.append((String(line.prefix { $0 != "\t" }), line + "\n"))
        }
        return out
    }

    /// `domains.txt`: every domain, one per line, NXDOMAIN ones included.
    public func domainsText() -> String {
        domains.map { $0.name + "\n" }.joined()
    }

    /// The expected `results` facts of one host (see docs/mxfarm.md for the keys).
    public func truth(for host: FarmHost) -> [(String, JSONValue)] {
        let b = host.behaviour
        let reachesEHLO = b != .ratelimit421 && b != .tarpit
        let tls = b.negotiatesTLS
        let kind = host.certKind
        func certFact(_ f: (CertKind) -> Bool) -> JSONValue {
            guard tls, let kind else { return .null }
            return .bool(f(kind))
        }
        func accepted(_ version: TLSVersion) -> JSONValue {
            guard tls, let pinned = host.tlsVersion else { return .null }
            return .bool(pinned == version)
        }
        let bannerCode: JSONValue =
            switch b {
            case .tarpit: .null
            case .ratelimit421: .int(421)
            default: .int(220)
            }
        let starttlsReply: JSONValue =
            switch b {
            case .starttls454: .int(454)
            case _ where tls: .int(220)
            default: .null
            }
        return [
            ("ip", .string(host.ip.description)),
            ("mx_host", .string(host.name)),
            ("behaviour", .string(b.rawValue)),
            ("probe_status", .string(b.expectedProbeStatus)),
            ("banner_code", bannerCode),
            ("starttls_offered", reachesEHLO ? .bool(b != .nostarttls) : .null),
            ("starttls_reply_code", starttlsReply),
            ("tls_version", host.tlsVersion.map { .string($0.rawValue) } ?? .null),
            // Each TLS host's context is pinned to one version (minimum = maximum): that one is
            // accepted, every other refused — what a version scan must find.
            ("tls10_accepted", accepted(.tls10)),
            ("tls11_accepted", accepted(.tls11)),
            ("tls12_accepted", accepted(.tls12)),
            ("tls13_accepted", accepted(.tls13)),
            ("cert_kind", tls ? (kind.map { .string($0.rawValue) } ?? .null) : .null),
            ("cert_trusted", certFact(\.chainTrusted)),
            ("cert_hostname_match", certFact { $0 != .wrongname }),
            ("cert_expired", certFact { $0 == .expired }),
            ("cert_not_yet_valid", certFact { $0 == .notyetvalid }),
            ("cert_self_signed", certFact { $0 == .selfsigned }),
            ("plaintext_refused", reachesEHLO ? .bool(b == .plainrefused) : .null),
            ("greylisted", .bool(b == .greylist)),
            ("implicit_mx", .bool(host.implicitMX)),
            ("provider", host.provider.map { .string($0) } ?? .null),
            ("domain_count", .int(host.domainCount)),
            ("banner_delay_ms", b == .tarpit ? .null : .int(host.bannerDelayMs)),
        ] + dnssecTruth(for: host)
    }

    /// `truth.jsonl`: one object per host, in host order.
    public func truthText() -> String {
        hosts.map { JSONValue.object(truth(for: $0)).serialized + "\n" }.joined()
    }

    /// `domains-truth.jsonl`: one object per domain, in `domains.txt` order.
    public func domainsTruthText() -> String {
        domains.enumerated().map { index, domain in
            let mx: [JSONValue] = domain.mx.map { record in
                .object(
                    [
                        ("mx_host", .string(hosts[record.host].name)),
                        ("mx_preference", .int(record.preference)),
                        ("ip", .string(hosts[record.host].ip.description)),
                    ] + policyTruth(domain: index, mx: record))
            }
            return JSONValue.object(
                [
                    ("domain", .string(domain.name)),
                    ("dns_status", .string(expectedDNSStatus(ofDomain: index))),
                    ("implicit_mx", .bool(domain.status == .implicitMX)),
                    ("mx", .array(mx)),
                ] + policyTruth(domain: index) + dnssecTruth(forDomain: index)
            ).serialized + "\n"
        }.joined()
    }

    /// Writes `zone`, `domains.txt`, `ca.pem`, `truth.jsonl`, `domains-truth.jsonl` into
    /// `dir` (created when missing); with `spec.dnssec` also `zone-secure`, `zone-bogus` and
    /// `zones.txt`.
    public func write(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let authority = try FarmAuthority.root(seed: spec.seed)
        let zones = zoneFiles()
        let files: [(String, String)] =
            zones.map { ($0.file, $0.text) } + (dnssec == nil ? [] : [("zones.txt", zonesManifest())]) + [
                ("domains.txt", domainsText()),
                ("ca.pem", authority.certificatePEM),
                ("truth.jsonl", truthText()),
                ("domains-truth.jsonl", domainsTruthText()),
            ]
        for (name, text) in files {
            try Data(text.utf8).write(to: dir.appendingPathComponent(name), options: .atomic)
        }
    }
}

/// A minimal JSON value with ordered object keys, so truth files are byte-stable.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        a.serialized == b.serialized
    }

    public var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .string(let s): return JSONText.string(s)
        case .array(let items): return "[" + items.map(\.serialized).joined(separator: ",") + "]"
        case .object(let pairs):
            return "{" + pairs.map { JSONText.string($0.0) + ":" + $0.1.serialized }.joined(separator: ",")
                + "}"
        }
    }
}
