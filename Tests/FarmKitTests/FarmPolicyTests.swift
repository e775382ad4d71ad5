import Foundation
import NIOCore
import NIOPosix
import SurveyCore
import SurveyPolicy
import SurveyTLS
import Testing

@testable import FarmKit

/// The farm's policy layer: exact MTA-STS/TLS-RPT mixes, the zone's records, and each
/// kind's HTTPS answer fetched from a live farm with the scanner's own `PolicyFetcher`.
@Suite(.serialized) struct FarmPolicyTests {
    static let everyKind = FarmPolicySpec(
        mtaSTSMix: try! Mix(Dictionary(uniqueKeysWithValues: MTASTSKind.allCases.map { ($0, 1.0) })),
        tlsRPTMix: try! Mix(Dictionary(uniqueKeysWithValues: TLSRPTKind.allCases.map { ($0, 1.0) })),
        servers: 4)

    static func spec(base: String = "127.1.7.1", port: Int = 25, policyPort: Int = 443) throws -> FarmSpec {
        var policy = everyKind
        policy.port = policyPort
        return FarmSpec(
            hosts: 24, domains: 80, seed: 99, base: try #require(IPv4(base)), port: port, policy: policy)
    }

    @Test func mixesAreExactAndTheRestOfThePlanUnchanged() throws {
        let plan = try FarmPlan(spec: try Self.spec())
        let mailDomains = plan.domains.filter { $0.status == .ok }.count
        let counts = Dictionary(grouping: plan.policies.indices.filter { plan.domains[$0].status == .ok }) {
            plan.policies[$0].mtaSTS
        }.mapValues(\.count)
        #expect(counts.values.reduce(0, +) == mailDomains)
        for kind in MTASTSKind.allCases {
            #expect((counts[kind] ?? 0) >= mailDomains / MTASTSKind.allCases.count, "\(kind)")
        }
        // Domains without MX records publish nothing.
        for (index, domain) in plan.domains.enumerated() where domain.status != .ok {
            #expect(plan.policies[index] == .nothing)
        }
        // Policy hosts on `servers` hosts spread over the farm.
        #expect(Set(plan.policies.compactMap(\.server)) == [0, 6, 12, 18])
        // Hosts, domains and host truth do not depend on the policy mixes.
        var plain = try Self.spec()
        plain.policy = FarmPolicySpec()
        let other = try FarmPlan(spec: plain)
        #expect(other.hosts == plan.hosts)
        #expect(other.domains == plan.domains)
        #expect(other.truthText() == plan.truthText())
        #expect(!other.zoneText().contains("mta-sts"))
        #expect(!other.zoneText().contains("_smtp._tls"))
    }

    @Test func zoneHasTheRecordsOfEachKind() throws {
        let plan = try FarmPlan(spec: try Self.spec())
        let zone = plan.zoneText()
        for (index, domain) in plan.domains.enumerated() where domain.status == .ok {
            let kind = plan.policies[index].mtaSTS
            let txt = zone.components(separatedBy: "_mta-sts.\(domain.name).\tIN\tTXT").count - 1
            #expect(txt == (kind == .none ? 0 : kind == .txtmultiple ? 2 : 1), "\(domain.name) \(kind)")
            let a = zone.contains("\nmta-sts.\(domain.name).\tIN\tA\t")
            #expect(a == kind.hasPolicyHost, "\(domain.name) \(kind)")
            let rpt = zone.components(separatedBy: "_smtp._tls.\(domain.name).\tIN\tTXT").count - 1
            let rptKind = plan.policies[index].tlsRPT
            #expect(rpt == (rptKind == .none ? 0 : rptKind == .multiple ? 2 : 1))
        }
        #expect(throws: FarmSpecError.self) { try FarmPlan(spec: try Self.spec(port: 443, policyPort: 443)) }
    }

    /// Every policy host answers as its kind says, as the scanner's fetcher sees it.
    @Test func policyServersAnswerAsTheirKindSays() async throws {
        let base = "127.1.7.1"
        let port = try freePort(on: base)
        var policyPort = try freePort(on: base)
        while policyPort == port { policyPort = try freePort(on: base) }
        let plan = try FarmPlan(spec: try Self.spec(base: base, port: port, policyPort: policyPort))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxfarm-policy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try plan.write(to: dir)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await FarmServer.start(plan: plan, group: group)
        let fetcher = PolicyFetcher(
            tlsContext: try TLSContext.client(
                caFile: dir.appendingPathComponent("ca.pem").path, minVersion: .tls12),
            userAgent: "farm-policy-test", timeout: .seconds(5), port: policyPort, group: group)
        var fetched = 0
        var requests = 0
        do {
            #expect(server.policyListenerCount == 4)
            for (index, domain) in plan.domains.enumerated() {
                let policy = plan.policies[index]
                guard let serverIndex = policy.server else { continue }
                let name = "mta-sts.\(domain.name)"
                let outcome = await fetcher.fetch(host: name, ip: plan.hosts[serverIndex].ip.description)
                fetched += 1
                let label = "\(domain.name) \(policy.mtaSTS)"
                switch policy.mtaSTS {
                case .enforce, .testing, .modenone, .wildcard, .partial, .mismatch, .txtinvalid, .txtmultiple:
                    requests += 1
                    guard case .body(let body) = outcome else {
                        Issue.record("\(label): \(outcome)")
                        continue
                    }
                    let parsed = try MTASTSPolicy.parse(body).get()
                    #expect(parsed.mode.rawValue == (policy.mtaSTS.mode ?? "enforce"), "\(label)")
                    #expect(parsed.mx == plan.policyPatterns(index), "\(label)")
                    #expect(parsed.maxAge == FarmPlan.maxAge(policy.mtaSTS))
                    let hosts = domain.mx.map { plan.hosts[$0.host].name }
                    switch policy.mtaSTS {
                    case .mismatch: #expect(hosts.allSatisfy { !parsed.matches(mxHost: $0) })
                    case .partial: #expect(parsed.matches(mxHost: hosts[0]))
                    default: #expect(hosts.allSatisfy { parsed.matches(mxHost: $0) }, "\(label)")
                    }
                case .badsyntax:
                    requests += 1
                    guard case .body(let body) = outcome else {
                        Issue.record("\(label): \(outcome)")
                        continue
                    }
                    #expect(throws: PolicySyntaxError.self) { try MTASTSPolicy.parse(body).get() }
                case .notfound, .redirect, .contenttype, .wrongname:
                    if policy.mtaSTS != .wrongname { requests += 1 }
                    let code: String =
                        switch policy.mtaSTS {
                        case .notfound: "http_404"
                        case .redirect: "http_redirect"
                        case .contenttype: "content_type"
                        default: "cert_hostname_mismatch"
                        }
                    guard case .failed(let got, _) = outcome else {
                        Issue.record("\(label): \(outcome)")
                        continue
                    }
                    #expect(got == code, "\(label)")
                case .none, .nxdomain:
                    Issue.record("\(label) has a policy server")
                }
            }
            // A name the server does not know gets the wrong-name certificate.
            let unknown = await fetcher.fetch(host: "mta-sts.unknown.test", ip: base)
            #expect(
                unknown
                    == .failed(
                        code: "cert_hostname_mismatch",
                        detail: "certificate names do not cover mta-sts.unknown.test"))
            let stats = server.statistics
            #expect(stats.policyConnections == fetched + 1)
            #expect(stats.policyRequests == requests)
            #expect(stats.policyConnectionsByHost["mta-sts.unknown.test"] == 1)
            #expect(stats.policyConnectionsByHost.values.allSatisfy { $0 == 1 })
        } catch {
            try? await server.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        try await server.stop()
        try await group.shutdownGracefully()
    }
}
