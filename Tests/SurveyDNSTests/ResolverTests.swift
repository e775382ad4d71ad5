import Foundation
import SurveyCore
import SurveyDNS
import TestSupport
import Testing

/// Starts unbound with the test zone and a resolver pointed at it; stops both afterwards.
func withResolver<T>(
    timeoutMs: Int = 1000, tries: Int = 2, maxInFlight: Int = 500,
    _ body: (Resolver, UnboundServer) async throws -> T
) async throws -> T {
    let server = try TestZone.startServer()
    defer { server.stop() }
    let resolver = try Resolver(
        config: ResolverConfig(
            servers: [server.address], timeoutMs: timeoutMs, tries: tries, maxInFlight: maxInFlight))
    defer { resolver.shutdown() }
    return try await body(resolver, server)
}

@Suite struct QueryTests {
    @Test func mxRecordsComeBackNormalised() async throws {
        try await withResolver { resolver, _ in
            let answer = await resolver.query("Multi.Test.", type: .mx)
            #expect(answer.status == .ok)
            #expect(answer.name == "multi.test")
            #expect(
                Set(answer.mx)
                    == [
                        MXRecord(host: "mx-a.hosts.test", preference: 10),
                        MXRecord(host: "mx-a2.hosts.test", preference: 20),
                        MXRecord(host: "mx-b.hosts.test", preference: 20),
                    ])
        }
    }

    @Test func statusesFollowTheResponseCode() async throws {
        try await withResolver(timeoutMs: 500, tries: 1) { resolver, _ in
            #expect(await resolver.query("nothing-here.test", type: .mx).status == .nxdomain)
            #expect(await resolver.query("txtonly.test", type: .mx).status == .nodata)
            #expect(await resolver.query("txtonly.test", type: .a).status == .nodata)
            let servfail = await resolver.query("x.servfail.test", type: .a)
            #expect(servfail.status == .servfail)
            let refused = await resolver.query("example.com", type: .a)
            #expect(refused.status == .refused)
            #expect(await resolver.query("x.timeout.invalid", type: .a).status == .timeout)
        }
    }

    @Test func txtStringsOfOneRecordAreJoinedAndRecordsKeptApart() async throws {
        try await withResolver { resolver, _ in
            let answer = await resolver.query("spf.test", type: .txt)
            #expect(answer.status == .ok)
            let records = answer.txt
            #expect(records.count == 2)
            #expect(Set(records.map(\.text)) == ["v=spf1 ip4:192.0.2.0/24 -all", "second record"])
            let spf = records.first { $0.strings.count == 3 }
            #expect(
                spf?.strings.map { String(decoding: $0, as: UTF8.self) } == [
                    "v=spf1 ", "ip4:192.0.2.0/24 ", "-all",
                ])
        }
    }

    @Test func addressesOfBothFamilies() async throws {
        try await withResolver { resolver, _ in
            let a = await resolver.query("mx-b.hosts.test", type: .a)
            #expect(Set(a.addresses) == ["10.0.0.5", "127.0.0.1"])
            #expect(a.records.allSatisfy { if case .a = $0 { true } else { false } })
            let aaaa = await resolver.query("mx-b.hosts.test", type: .aaaa)
            #expect(Set(aaaa.addresses) == ["::1", "fd00::5"])
            #expect(aaaa.records.allSatisfy { if case .aaaa = $0 { true } else { false } })
            #expect(a.cnameChain.isEmpty)
        }
    }

    @Test func aliasesAreReported() async throws {
        try await withResolver { resolver, _ in
            let cname = await resolver.query("www.test", type: .cname)
            #expect(cname.status == .ok)
            #expect(cname.records == [.cname("real.hosts.test")])
            let a = await resolver.query("alias.hosts.test", type: .a)
            #expect(a.status == .ok)
            #expect(a.addresses == ["192.0.2.20"])
            #expect(a.canonicalName == "real.hosts.test")
            let noCname = await resolver.query("real.hosts.test", type: .cname)
            #expect(noCname.status == .nodata)
        }
    }

    @Test func unreachableServerIsAnErrorAndBlackHoleATimeout() async throws {
        let hole = try BlackHoleDNS()
        let slow = try Resolver(config: ResolverConfig(servers: [hole.address], timeoutMs: 150, tries: 2))
        defer { slow.shutdown() }
        let started = Date()
        let answer = await slow.query("multi.test", type: .mx)
        #expect(answer.status == .timeout)
        // 150 ms then 300 ms (c-ares doubles the timeout on the second round).
        #expect(Date().timeIntervalSince(started) >= 0.4)
        // The driver publishes its counters at the end of its round, just after the handler
        // that woke this task: wait for that round (asynchronously, bounded).
        for _ in 0..<200 where slow.statistics.timedOut == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let stats = slow.statistics
        #expect(stats.timedOut == 1)
        #expect(stats.retransmissionsAfterTimeout == 2)
    }

    @Test func shutdownFinishesOutstandingAndLaterQueries() async throws {
        let hole = try BlackHoleDNS()
        let resolver = try Resolver(
            config: ResolverConfig(servers: [hole.address], timeoutMs: 30000, tries: 1))
        async let pending = resolver.query("multi.test", type: .mx)
        // Wait until the query is in c-ares.
        while resolver.statistics.queriesSent == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let started = Date()
        resolver.shutdown()
        let answer = await pending
        #expect(answer.status == .error("resolver shut down"))
        // Well below the queries' 30 s timeout: shutdown does not wait for them. (A tighter
        // bound measured how long this task waited for a thread of a busy test run.)
        #expect(Date().timeIntervalSince(started) < 25)
        let later = await resolver.query("multi.test", type: .mx)
        #expect(later.status == .error("resolver shut down"))
        resolver.shutdown()
    }

    @Test func shutdownFinishesStreamedJobs() async throws {
        let hole = try BlackHoleDNS()
        let resolver = try Resolver(
            config: ResolverConfig(servers: [hole.address], timeoutMs: 30000, tries: 1))
        let pipeline = DomainPipeline(stream: resolver.stream())
        pipeline.submit(domain: "multi.test", token: 1)
        async let first = pipeline.next()
        while resolver.statistics.queriesSent == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let started = Date()
        resolver.shutdown()
        let events = await first ?? []
        guard events.count == 1, case .domain(let d, 1) = events[0] else {
            Issue.record("unexpected events \(events)")
            return
        }
        #expect(d.status == .error && d.detail == "MX query: resolver shut down")
        // Well below the queries' 30 s timeout: shutdown does not wait for them. (A tighter
        // bound measured how long this task waited for a thread of a busy test run.)
        #expect(Date().timeIntervalSince(started) < 25)
        // A job submitted after the shutdown finishes at once, with the same verdict.
        pipeline.submit(domain: "other.test", token: 2)
        let later = await pipeline.next() ?? []
        guard later.count == 1, case .domain(let d2, 2) = later[0] else {
            Issue.record("unexpected events \(later)")
            return
        }
        #expect(d2.status == .error && d2.detail == "MX query: resolver shut down")
    }

    @Test func invalidNamesFailWithoutNetwork() async throws {
        try await withResolver { resolver, _ in
            let tooLong = String(repeating: "a", count: 64) + ".test"
            let answer = await resolver.query(tooLong, type: .a)
            if case .error = answer.status {} else { Issue.record("expected an error, got \(answer.status)") }
            let empty = await resolver.query(".", type: .a)
            #expect(empty.status == .error("empty query name"))
        }
    }
}

@Suite struct DomainResolutionTests {
    @Test func severalMXSortedByPreferenceThenName() async throws {
        try await withResolver { resolver, _ in
            let result = await resolver.resolveDomain("MULTI.test.")
            #expect(result.domain == "multi.test")
            #expect(result.status == .ok)
            #expect(
                result.mx == [
                    MXRecord(host: "mx-a.hosts.test", preference: 10),
                    MXRecord(host: "mx-a2.hosts.test", preference: 20),
                    MXRecord(host: "mx-b.hosts.test", preference: 20),
                ])
        }
    }

    @Test func implicitMXFromAOrAAAA() async throws {
        try await withResolver { resolver, _ in
            for domain in ["aonly.test", "aaaaonly.test"] {
                let result = await resolver.resolveDomain(domain)
                #expect(result.status == .implicitMX, "\(domain)")
                #expect(result.implicitMX)
                #expect(result.mx == [MXRecord(host: domain, preference: 0)])
            }
        }
    }

    @Test func nullMXNxdomainNodataServfailRefusedTimeout() async throws {
        try await withResolver(timeoutMs: 300, tries: 1) { resolver, _ in
            let null = await resolver.resolveDomain("nullmx.test")
            #expect(null.status == .nullMX)
            #expect(null.mx.isEmpty)
            #expect(null.detail == nil)
            #expect(await resolver.resolveDomain("absent.test").status == .nxdomain)
            #expect(await resolver.resolveDomain("txtonly.test").status == .nodata)
            #expect(await resolver.resolveDomain("a.servfail.test").status == .servfail)
            #expect(await resolver.resolveDomain("example.org").status == .refused)
            #expect(await resolver.resolveDomain("x.timeout.invalid").status == .timeout)
        }
    }

    @Test func blackHoleServerGivesTimeout() async throws {
        let hole = try BlackHoleDNS()
        let resolver = try Resolver(config: ResolverConfig(servers: [hole.address], timeoutMs: 100, tries: 1))
        defer { resolver.shutdown() }
        let result = await resolver.resolveDomain("multi.test")
        #expect(result.status == .timeout)
        #expect(result.mx.isEmpty)
    }
}

@Suite struct HostResolutionTests {
    @Test func addressesIPv4FirstIncludingLoopbackAndPrivate() async throws {
        try await withResolver { resolver, _ in
            let host = await resolver.resolveHost("MX-B.hosts.test.")
            #expect(host.host == "mx-b.hosts.test")
            #expect(host.status == .ok)
            #expect(host.cnameTarget == nil)
            #expect(host.addresses.count == 4)
            #expect(Set(host.addresses.prefix(2)) == ["10.0.0.5", "127.0.0.1"])
            #expect(Set(host.addresses.suffix(2)) == ["::1", "fd00::5"])
            let dual = await resolver.resolveHost("mx-a.hosts.test")
            #expect(dual.addresses == ["192.0.2.1", "2001:db8::1"])
        }
    }

    @Test func aliasIsFollowedAndFlagged() async throws {
        try await withResolver { resolver, _ in
            let domain = await resolver.resolveDomain("cnamemx.test")
            #expect(domain.mx == [MXRecord(host: "alias.hosts.test", preference: 10)])
            let host = await resolver.resolveHost("alias.hosts.test")
            #expect(host.status == .ok)
            #expect(host.cnameTarget == "real.hosts.test")
            #expect(host.addresses == ["192.0.2.20", "2001:db8::20"])
        }
    }

    @Test func targetsWithoutAddressesMissingOrFailing() async throws {
        try await withResolver(timeoutMs: 300, tries: 1) { resolver, _ in
            let empty = await resolver.resolveHost("empty.hosts.test")
            #expect(empty.status == .noAddress)
            #expect(empty.addresses.isEmpty)
            let missing = await resolver.resolveHost("missing.hosts.test")
            #expect(missing.status == .nxdomain)
            #expect(missing.cnameTarget == nil)
            let dangling = await resolver.resolveHost("dangling.hosts.test")
            #expect(dangling.status == .nxdomain)
            #expect(dangling.cnameTarget == "gone.hosts.test")
            let loop = await resolver.resolveHost("loop1.hosts.test")
            #expect(loop.status == .error)
            #expect(loop.detail?.contains("alias loop") == true)
            let outside = await resolver.resolveHost("outside.hosts.test")
            #expect(outside.status == .servfail)
            #expect(outside.cnameTarget == "mx.servfail.test")
            let failing = await resolver.resolveHost("mx.servfail.test")
            #expect(failing.status == .servfail)
            let slow = await resolver.resolveHost("mx.timeout.invalid")
            #expect(slow.status == .timeout)
            let refused = await resolver.resolveHost("mx.example.net")
            #expect(refused.status == .refused)
        }
    }

    @Test func everyCaseFromDomainToHost() async throws {
        try await withResolver(timeoutMs: 300, tries: 1) { resolver, _ in
            let expected: [String: HostDNSStatus] = [
                "noaddrmx.test": .noAddress, "nxmx.test": .nxdomain, "sfmx.test": .servfail,
                "slowmx.test": .timeout, "cnamemx.test": .ok,
            ]
            for (domain, status) in expected {
                let resolution = await resolver.resolveDomain(domain)
                #expect(resolution.status == .ok, "\(domain)")
                guard let mx = resolution.mx.first else {
                    Issue.record("\(domain) has no MX")
                    continue
                }
                #expect(await resolver.resolveHost(mx.host).status == status, "\(domain) → \(mx.host)")
            }
        }
    }
}

@Suite struct ScaleTests {
    @Test func sharedMXHostIsResolvedOnce() async throws {
        try await withResolver { resolver, _ in
            let pipeline = DomainPipeline(stream: resolver.stream())
            for i in 0..<TestZone.sharedCount { pipeline.submit(domain: "shared\(i).test", token: i) }
            var hostEvents: [(HostResolution, String)] = []
            var domains: [Int: DomainResolution] = [:]
            while let events = await pipeline.next() {
                for event in events {
                    switch event {
                    case .host(let h, let first):
                        // Dependency order: no domain naming the host came out before it.
                        #expect(domains.isEmpty)
                        hostEvents.append((h, first))
                    case .domain(let d, let token):
                        #expect(domains[token] == nil)
                        domains[token] = d
                    }
                }
            }
            #expect(pipeline.outstanding == 0)
            #expect(domains.count == TestZone.sharedCount)
            #expect(
                domains.values.allSatisfy { $0.status == .ok && $0.mx.map(\.host) == ["shared.hosts.test"] })
            #expect(hostEvents.count == 1)
            #expect(hostEvents.first?.0.addresses == ["192.0.2.99"])
            #expect(hostEvents.first.map { $0.1.hasPrefix("shared") && $0.1.hasSuffix(".test") } == true)
            #expect(pipeline.hostCount == 1)
            let stats = resolver.statistics
            // One MX query per domain, one A and one AAAA query for the shared host.
            #expect(stats.queriesSent == TestZone.sharedCount + 2)
            #expect(stats.queriesCompleted == stats.queriesSent)
        }
    }

    @Test func pipelineSkipsHostsMarkedResolvedAndUsesOverrides() async throws {
        try await withResolver { resolver, _ in
            let excluded = HostResolution(host: "shared.hosts.test", status: .excluded, detail: "test")
            let overridden = DomainPipeline(stream: resolver.stream()) {
                $0 == "shared.hosts.test" ? excluded : nil
            }
            overridden.submit(domain: "shared0.test", token: 1)
            var events: [DomainPipeline.Event] = []
            while let batch = await overridden.next() { events += batch }
            guard events.count == 2, case .host(let h, let first) = events[0],
                case .domain(let d, 1) = events[1]
            else {
                Issue.record("unexpected events \(events)")
                return
            }
            #expect(h == excluded && first == "shared0.test" && d.status == .ok)

            let resumed = DomainPipeline(stream: resolver.stream())
            resumed.markResolved(hosts: ["shared.hosts.test"])
            resumed.submit(domain: "shared1.test", token: 7)
            var later: [DomainPipeline.Event] = []
            while let batch = await resumed.next() { later += batch }
            guard later.count == 1, case .domain(let d1, 7) = later[0] else {
                Issue.record("unexpected events \(later)")
                return
            }
            #expect(d1.status == .ok)
            // Two MX queries; no address query for the overridden or already resolved host.
            #expect(resolver.statistics.queriesSent == 2)
        }
    }

    @Test func twoThousandDomainsWithAHundredInFlight() async throws {
        try await withResolver(maxInFlight: 100) { resolver, _ in
            let results = await withTaskGroup(of: (Int, DomainResolution).self) { group in
                for i in 0..<TestZone.bulkCount {
                    group.addTask { (i, await resolver.resolveDomain("bulk\(i).test")) }
                }
                var out = [Int: DomainResolution]()
                for await (i, result) in group { out[i] = result }
                return out
            }
            #expect(results.count == TestZone.bulkCount)
            var wrong = 0
            for (i, result) in results {
                let expected = [MXRecord(host: "mx\(i % 50).bulkhosts.test", preference: i % 7)]
                if result.status != .ok || result.mx != expected { wrong += 1 }
            }
            #expect(wrong == 0)
            let stats = resolver.statistics
            #expect(stats.queriesSent == TestZone.bulkCount)
            #expect(stats.answered == TestZone.bulkCount)
            #expect(stats.peakInFlight <= 100)
            #expect(stats.peakInFlight > 1)
            #expect(stats.inFlight == 0)
            #expect(stats.queued == 0)
        }
    }
}

@Suite struct ServerHandlingTests {
    /// SERVFAIL is asked `tries` times, then once more with CD (is it a validation failure?);
    /// here the CD query fails too, so the answer has no DNSSEC verdict.
    @Test func servfailIsAskedTriesTimes() async throws {
        try await withResolver(tries: 3) { resolver, _ in
            let answer = await resolver.query("again.servfail.test", type: .mx)
            #expect(answer.status == .servfail)
            #expect(answer.dnssec == .indeterminate)
            let stats = resolver.statistics
            #expect(stats.queriesSent == 4)
            #expect(stats.servfail == 4)
        }
    }

    @Test func refusingPortIsAnErrorNotATimeout() async throws {
        let refusing = try RefusingUDPPort()
        // One try of 3 s: only the ICMP port unreachable can end the query with an error.
        let resolver = try Resolver(
            config: ResolverConfig(servers: [refusing.address], timeoutMs: 3000, tries: 1))
        defer { resolver.shutdown() }
        let result = await resolver.resolveDomain("multi.test")
        #expect(result.status == .error)
        #expect(result.detail == "MX query: connection refused by the server")
        #expect(resolver.statistics.otherErrors == 1)
    }

    @Test func secondServerAnswersWhenTheFirstIsSilent() async throws {
        let server = try TestZone.startServer()
        defer { server.stop() }
        let hole = try BlackHoleDNS()
        let resolver = try Resolver(
            config: ResolverConfig(servers: [hole.address, server.address], timeoutMs: 200, tries: 2))
        defer { resolver.shutdown() }
        #expect(resolver.servers.map(\.description) == [hole.address, server.address])
        for domain in ["multi.test", "aonly.test", "nullmx.test"] {
            let result = await resolver.resolveDomain(domain)
            #expect(result.status != .timeout, "\(domain)")
        }
    }

    @Test func emptyTXTStringIsOneRecord() async throws {
        try await withResolver { resolver, _ in
            let answer = await resolver.query("emptytxt.test", type: .txt)
            #expect(answer.status == .ok)
            #expect(answer.txt == [TXTRecord(strings: [[]])])
        }
    }

    @Test func resolverWithoutShutdownIsFreedByDeinit() async throws {
        let server = try TestZone.startServer()
        defer { server.stop() }
        weak var weakResolver: Resolver?
        do {
            let resolver = try Resolver(config: ResolverConfig(servers: [server.address]))
            weakResolver = resolver
            #expect(await resolver.query("multi.test", type: .mx).status == .ok)
        }
        #expect(weakResolver == nil)
    }
}

@Suite struct LifecycleTests {
    @Test func systemConfigurationStartsAndStopsWithoutQuerying() throws {
        let resolver = try Resolver(config: ResolverConfig(servers: []))
        #expect(resolver.servers.isEmpty)
        resolver.shutdown()
        resolver.shutdown()
        #expect(resolver.statistics.queriesSent == 0)
    }

    @Test func concurrentShutdownsAllReturn() async throws {
        let hole = try BlackHoleDNS()
        let resolver = try Resolver(
            config: ResolverConfig(servers: [hole.address], timeoutMs: 30000, tries: 1))
        async let pending = resolver.query("multi.test", type: .a)
        while resolver.statistics.queriesSent == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { resolver.shutdown() } }
        }
        #expect(await pending.status == .error("resolver shut down"))
    }
}
