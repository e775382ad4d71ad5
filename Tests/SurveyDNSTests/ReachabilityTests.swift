import Foundation
import SurveyCore
import TestSupport
import Testing

@testable import SurveyDNS

/// `Resolver.checkReachable` before a scan, and `consecutiveUnanswered` during one.
@Suite struct ReachabilityTests {
    static func resolver(_ servers: [String], timeoutMs: Int = 1000, tries: Int = 2) throws -> Resolver {
        try Resolver(config: ResolverConfig(servers: servers, timeoutMs: timeoutMs, tries: tries))
    }

    @Test func closedPortIsUnreachableAndNamed() async throws {
        let closed = try RefusingUDPPort()
        let resolver = try Self.resolver([closed.address])
        defer { resolver.shutdown() }
        let started = Date()
        do {
            try await resolver.checkReachable(timeout: .seconds(20))
            Issue.record("a closed port passed the check")
        } catch {
            #expect(
                error == .unreachable([ServerCheck(server: resolver.servers[0], result: .connectionRefused)]))
            #expect(error.description == "resolver \(closed.address) did not answer (connection refused)")
        }
        // ICMP port unreachable ends it at once, long before the timeout (the bound leaves
        // room for a machine busy with the other tests).
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func silentServerTimesOut() async throws {
        let hole = try BlackHoleDNS()
        let resolver = try Self.resolver([hole.address])
        defer { resolver.shutdown() }
        let started = Date()
        do {
            try await resolver.checkReachable(timeout: .milliseconds(300))
            Issue.record("a silent server passed the check")
        } catch {
            #expect(error.description == "resolver \(hole.address) did not answer (no reply within 300 ms)")
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.25 && elapsed < 10, "\(elapsed) s")
    }

    @Test func liveUnboundPasses() async throws {
        let server = try TestZone.startServer()
        defer { server.stop() }
        let resolver = try Self.resolver([server.address])
        defer { resolver.shutdown() }
        let checks = try await resolver.checkReachable()
        #expect(checks.map(\.result) == [.answered])
        #expect(checks.map(\.server.description) == [server.address])
    }

    @Test func refusingUnboundRefusesRecursion() async throws {
        let server = try UnboundServer.start(
            zone: "www A 192.0.2.1", servfailZones: [],
            extraServerConfig: "  access-control: 127.0.0.1/32 refuse")
        defer { server.stop() }
        let resolver = try Self.resolver([server.address])
        defer { resolver.shutdown() }
        do {
            try await resolver.checkReachable()
            Issue.record("a refusing server passed the check")
        } catch {
            guard case .refusesRecursion(let checks) = error else {
                Issue.record("expected refusesRecursion, got \(error)")
                return
            }
            #expect(checks.map(\.result) == [.refused])
            #expect(
                error.description == "resolver \(server.address) refuses recursion for us (REFUSED to '. NS')"
            )
        }
    }

    @Test func oneAnsweringServerIsEnoughAndTheOthersAreReported() async throws {
        let server = try TestZone.startServer()
        defer { server.stop() }
        let closed = try RefusingUDPPort()
        let hole = try BlackHoleDNS()
        let resolver = try Self.resolver([closed.address, hole.address, server.address])
        defer { resolver.shutdown() }
        let checks = try await resolver.checkReachable(timeout: .seconds(1))
        #expect(checks.map(\.result) == [.connectionRefused, .timedOut(after: .seconds(1)), .answered])
        #expect(checks.map(\.server.description) == [closed.address, hole.address, server.address])
    }

    @Test func noServerAnsweringListsEveryServer() async throws {
        let closed = try RefusingUDPPort()
        let hole = try BlackHoleDNS()
        let resolver = try Self.resolver([closed.address, hole.address])
        defer { resolver.shutdown() }
        do {
            try await resolver.checkReachable(timeout: .seconds(1))
            Issue.record("passed without an answering server")
        } catch {
            #expect(
                error.description
                    == "no resolver answered: \(closed.address) (connection refused), \(hole.address) (no reply within 1 s)"
            )
        }
    }

    @Test func refusedAndUnreachableIsRefusesRecursion() async throws {
        let server = try UnboundServer.start(
            zone: "www A 192.0.2.1", servfailZones: [],
            extraServerConfig: "  access-control: 127.0.0.1/32 refuse")
        defer { server.stop() }
        let closed = try RefusingUDPPort()
        let resolver = try Self.resolver([closed.address, server.address])
        defer { resolver.shutdown() }
        do {
            try await resolver.checkReachable()
            Issue.record("passed without a server that resolves for us")
        } catch {
            #expect(error == .refusesRecursion(error.checks))
            #expect(
                error.description
                    == "no resolver will resolve for us: \(closed.address) (connection refused), "
                    + "\(server.address) (REFUSED to '. NS')")
        }
    }

    @Test func systemConfigurationChecksTheServersOfResolvConf() throws {
        let resolver = try Resolver(config: ResolverConfig(servers: []))
        defer { resolver.shutdown() }
        // c-ares falls back to 127.0.0.1:53 when resolv.conf names no server.
        #expect(!resolver.channelServers.isEmpty)
        #expect(resolver.channelServers.allSatisfy { $0.port > 0 })
    }

    /// A resolver that dies in the middle of a scan: every query after that ends without a
    /// reply, and the counter says so; one reply of any kind sets it back.
    @Test func consecutiveUnansweredCountsQueriesWithoutAnyReply() async throws {
        let server = try TestZone.startServer()
        let resolver = try Self.resolver([server.address], timeoutMs: 300, tries: 1)
        defer { resolver.shutdown() }
        #expect(await resolver.resolveDomain("multi.test").status == .ok)
        #expect(resolver.statistics.consecutiveUnanswered == 0)
        // A zone whose servers do not answer: the resolver times out, so do we.
        #expect(await resolver.resolveDomain("x.timeout.invalid").status == .timeout)
        #expect(resolver.statistics.consecutiveUnanswered == 1)
        // Any reply, even NXDOMAIN or SERVFAIL, sets it back.
        #expect(await resolver.resolveDomain("absent.test").status == .nxdomain)
        #expect(resolver.statistics.consecutiveUnanswered == 0)
        #expect(await resolver.resolveDomain("x.servfail.test").status == .servfail)
        #expect(resolver.statistics.consecutiveUnanswered == 0)

        server.stop()
        let domains = (0..<20).map { "bulk\($0).test" }
        let results = await withTaskGroup(of: DomainResolution.self) { group in
            for domain in domains { group.addTask { await resolver.resolveDomain(domain) } }
            var out: [DomainResolution] = []
            for await result in group { out.append(result) }
            return out
        }
        #expect(results.allSatisfy { $0.status == .error || $0.status == .timeout })
        #expect(resolver.statistics.consecutiveUnanswered == 20)
        // Invalid names and shutdown leave it as it is.
        _ = await resolver.query(String(repeating: "a", count: 64) + ".test", type: .a)
        #expect(resolver.statistics.consecutiveUnanswered == 20)
        resolver.shutdown()
        _ = await resolver.query("multi.test", type: .mx)
        #expect(resolver.statistics.consecutiveUnanswered == 20)
    }

    @Test func silentServerCountsTimeouts() async throws {
        let hole = try BlackHoleDNS()
        let resolver = try Self.resolver([hole.address], timeoutMs: 100, tries: 1)
        defer { resolver.shutdown() }
        for expected in 1...3 {
            #expect(await resolver.query("multi.test", type: .mx).status == .timeout)
            #expect(resolver.statistics.consecutiveUnanswered == expected)
        }
    }
}
