import Foundation
import SurveyCore
import SurveyDNS
import TestSupport
import Testing

/// MX targets whose labels hold octets outside letters, digits and hyphens: the A/AAAA
/// query must ask for exactly the labels of the MX record, and the stored name must say
/// which labels they are (RFC 1035 §5.1 presentation form, see `DNSName`).
@Suite struct WireNameTests {
    /// Domain (below test.) → the MX target as the zone file writes it, the name the
    /// resolver reports for it, and the target's address.
    static let cases: [(domain: String, zoneTarget: String, reported: String, address: String)] = [
        ("tab", #"a\009b.hosts"#, #"a\009b.hosts.test"#, "192.0.2.1"),
        ("nul", #"a\000b.hosts"#, #"a\000b.hosts.test"#, "192.0.2.2"),
        ("space", #"a\032b.hosts"#, #"a\032b.hosts.test"#, "192.0.2.3"),
        ("dot", #"a\.b.hosts"#, #"a\.b.hosts.test"#, "192.0.2.4"),
        ("backslash", #"a\\b.hosts"#, #"a\\b.hosts.test"#, "192.0.2.5"),
        ("utf8", #"caf\195\169.hosts"#, #"caf\195\169.hosts.test"#, "192.0.2.6"),
        ("upper", #"MiX\009ed.hosts"#, #"mix\009ed.hosts.test"#, "192.0.2.7"),
        ("quote", #"a\"b.hosts"#, #"a\"b.hosts.test"#, "192.0.2.8"),
        ("del", #"a\127b.hosts"#, #"a\127b.hosts.test"#, "192.0.2.9"),
        ("escapes", #"\\\.\009.hosts"#, #"\\\.\009.hosts.test"#, "192.0.2.10"),
    ]

    static let zone: String = {
        var lines: [String] = []
        for c in cases {
            lines.append("\(c.domain) MX 10 \(c.zoneTarget)")
            lines.append("\(c.zoneTarget) A \(c.address)")
        }
        lines += [
            // What a query would find if the escapes were lost or misread: a wrong address
            // instead of NXDOMAIN, so a test cannot pass by accident.
            "a009b.hosts A 198.51.100.1",
            "a000b.hosts A 198.51.100.2",
            "a.b.hosts A 198.51.100.4",
            "caf195169.hosts A 198.51.100.6",
            // An alias whose owner and target have a control character.
            #"alias MX 10 al\009ias.hosts"#,
            #"al\009ias.hosts CNAME tar\009get.hosts"#,
            #"tar\009get.hosts A 192.0.2.20"#,
            // An alias into another zone, so the resolver follows it itself.
            #"hop MX 10 h\009op.hosts"#,
            #"h\009op.hosts CNAME in\009side.other."#,
        ]
        return lines.joined(separator: "\n")
    }()

    static func startServer() throws -> UnboundServer {
        try UnboundServer.start(
            zone: zone, zoneName: "test.", extraZones: ["other.": #"in\009side A 192.0.2.30"#],
            servfailZones: [])
    }

    @Test func mxTargetsWithUnusualOctetsResolveToTheirOwnAddresses() async throws {
        let server = try Self.startServer()
        defer { server.stop() }
        let resolver = try Resolver(config: ResolverConfig(servers: [server.address], timeoutMs: 1000))
        defer { resolver.shutdown() }
        for c in Self.cases {
            let domain = await resolver.resolveDomain("\(c.domain).test")
            #expect(domain.status == .ok, "\(c.domain)")
            #expect(domain.mx == [MXRecord(host: c.reported, preference: 10)], "\(c.domain)")
            let host = await resolver.resolveHost(c.reported)
            #expect(host.host == c.reported)
            #expect(host.status == .ok, "\(c.domain): \(host)")
            #expect(host.addresses == [c.address], "\(c.domain)")
        }
    }

    @Test func aliasesWithUnusualOctetsAreFollowedAndReported() async throws {
        let server = try Self.startServer()
        defer { server.stop() }
        let resolver = try Resolver(config: ResolverConfig(servers: [server.address], timeoutMs: 1000))
        defer { resolver.shutdown() }
        let inZone = await resolver.resolveHost(#"al\009ias.hosts.test"#)
        #expect(inZone.status == .ok, "\(inZone)")
        #expect(inZone.cnameTarget == #"tar\009get.hosts.test"#)
        #expect(inZone.addresses == ["192.0.2.20"])
        let across = await resolver.resolveHost(#"h\009op.hosts.test"#)
        #expect(across.status == .ok)
        #expect(across.cnameTarget == #"in\009side.other"#)
        #expect(across.addresses == ["192.0.2.30"])
    }

    /// The scan path: `DomainPipeline` over a `ResolutionStream`.
    @Test func pipelineResolvesEveryUnusualTarget() async throws {
        let server = try Self.startServer()
        defer { server.stop() }
        let resolver = try Resolver(config: ResolverConfig(servers: [server.address], timeoutMs: 1000))
        defer { resolver.shutdown() }
        let pipeline = DomainPipeline(stream: resolver.stream())
        for (index, c) in Self.cases.enumerated() {
            pipeline.submit(domain: "\(c.domain).test", token: index)
        }
        var hosts: [String: HostResolution] = [:]
        var domains = 0
        while let events = await pipeline.next() {
            for event in events {
                switch event {
                case .host(let h, _): hosts[h.host] = h
                case .domain(let d, _):
                    domains += 1
                    #expect(d.status == .ok)
                }
            }
        }
        #expect(domains == Self.cases.count)
        for c in Self.cases {
            #expect(hosts[c.reported]?.addresses == [c.address], "\(c.domain)")
        }
    }
}
