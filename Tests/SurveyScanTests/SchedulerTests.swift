import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyScan
@testable import SurveyStore

/// A deterministic DNS stage: `dN.example` has MX `mxK.example` (K = N mod hosts), each MX
/// host one address. These tests check the scheduler's own logic; the real resolver and
/// prober are exercised against unbound and Postfix in the integration tests.
final class TableResolver: DomainResolving, @unchecked Sendable {
    let hosts: Int
    let lock = NSLock()
    var hostQueries: [String: Int] = [:]
    /// Simulated lookup time per domain, so a run lasts long enough to be interrupted.
    let domainDelay: Duration
    init(hosts: Int, domainDelay: Duration = .zero) {
        self.hosts = hosts
        self.domainDelay = domainDelay
    }

    func resolveDomain(_ domain: String) async -> DomainResolution {
        if domainDelay > .zero { try? await Task.sleep(for: domainDelay) }
        guard domain.hasPrefix("d"), let n = Int(domain.dropFirst().prefix { $0.isNumber }) else {
            return DomainResolution(domain: domain, status: .nxdomain)
        }
        return DomainResolution(
            domain: domain, status: .ok, mx: [MXRecord(host: "mx\(n % hosts).example", preference: 10)])
    }

    func resolveHost(_ host: String) async -> HostResolution {
        lock.withLock { hostQueries[host, default: 0] += 1 }
        let k = Int(host.dropFirst(2).prefix { $0.isNumber }) ?? 0
        return HostResolution(host: host, status: .ok, addresses: ["198.51.100.\(k)"])
    }
}

final class RecordingProber: TargetProbing, @unchecked Sendable {
    let lock = NSLock()
    var calls: [String] = []
    /// The RCPT domain each IP's last probe was given.
    var recipients: [String: String] = [:]
    var active: [String: Int] = [:]
    var overlap = false
    let greylistOnce: Set<String>
    init(greylistOnce: Set<String> = []) { self.greylistOnce = greylistOnce }

    func probe(_ target: ProbeTarget) async -> ProbeResult {
        let first: Bool = lock.withLock {
            calls.append(target.ip)
            recipients[target.ip] = target.recipientDomain
            active[target.ip, default: 0] += 1
            if active[target.ip, default: 0] > 1 { overlap = true }
            return calls.filter { $0 == target.ip }.count == 1
        }
        try? await Task.sleep(for: .milliseconds(2))
        lock.withLock { active[target.ip, default: 0] -= 1 }
        var r = ProbeResult(ip: target.ip, sni: target.sni, status: .ok)
        r.starttlsOffered = true
        r.greylisted = first && greylistOnce.contains(target.ip)
        return r
    }
}

func tempPath(_ suffix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("mxs-\(UUID())-\(suffix)").path
}

func writeList(_ count: Int) throws -> String {
    let path = tempPath("list.txt")
    try (0..<count).map { "d\($0).example" }.joined(separator: "\n").write(
        toFile: path, atomically: true, encoding: .utf8)
    return path
}

func quietOptions() -> ScanOptions {
    var o = ScanOptions()
    o.progressInterval = nil
    o.allowPrivate = true
    o.greylistRetry = .milliseconds(50)
    o.perIPInterval = .milliseconds(10)
    return o
}

@Suite struct SchedulerTests {
    @Test func eachHostResolvedOnceAndEachIPProbedOnce() async throws {
        let list = try writeList(300)
        let db = tempPath("s.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        let resolver = TableResolver(hosts: 7)
        let prober = RecordingProber()
        var options = quietOptions()
        options.concurrency = 50
        let summary = try await Scanner(resolver: resolver, prober: prober, store: store, options: options)
            .run(input: list, scanID: scan, resume: false)
        #expect(summary.counters.domainsResolved == 300)
        #expect(resolver.hostQueries.count == 7)
        #expect(resolver.hostQueries.values.allSatisfy { $0 == 1 })
        #expect(prober.calls.count == 7)
        #expect(Set(prober.calls).count == 7)
        let rows = try await store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM results WHERE probe_status = 'ok'")
        }
        #expect(rows == 300)
        #expect(try store.scan(scan)?.status == .done)
    }

    @Test func exclusionListAndPrivateRangesAreNeverProbed() async throws {
        let list = try writeList(20)
        let db = tempPath("s.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        var options = quietOptions()
        options.allowPrivate = false
        try options.exclusions.add("198.51.100.1/32  # a host that asked not to be scanned")
        try options.exclusions.add("d5.example")
        let prober = RecordingProber()
        _ = try await Scanner(
            resolver: TableResolver(hosts: 4), prober: prober, store: store, options: options
        )
        .run(input: list, scanID: scan, resume: false)
        // 198.51.100.0/24 is documentation space (RFC 5737): excluded without --allow-private.
        #expect(prober.calls.isEmpty)
        let (reasons, d5) = try await store.pool.read { db in
            (
                try String.fetchAll(
                    db, sql: "SELECT DISTINCT error_detail FROM results WHERE excluded = 1 ORDER BY 1"),
                try String.fetchOne(db, sql: "SELECT dns_status FROM domains WHERE name = 'd5.example'")
            )
        }
        #expect(reasons.contains("exclusion list: 198.51.100.1/32"))
        #expect(reasons.contains { $0.hasPrefix("special-purpose address (documentation)") })
        #expect(d5 == "excluded")
    }

    @Test func greylistedHostsAreProbedOnceMoreAndNeverConcurrently() async throws {
        let list = try writeList(40)
        let db = tempPath("s.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        let prober = RecordingProber(greylistOnce: ["198.51.100.1", "198.51.100.2"])
        _ = try await Scanner(
            resolver: TableResolver(hosts: 4), prober: prober, store: store, options: quietOptions()
        )
        .run(input: list, scanID: scan, resume: false)
        #expect(prober.calls.count == 6)
        #expect(!prober.overlap)
        let attempts = try await store.pool.read { db in
            try Int.fetchAll(db, sql: "SELECT attempts FROM probes ORDER BY ip")
        }
        #expect(attempts == [1, 2, 2, 1])
    }

    @Test func resumeFinishesAnInterruptedScanWithoutRepeatsOrLosses() async throws {
        let list = try writeList(500)
        let db = tempPath("s.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        let first = RecordingProber()
        var options = quietOptions()
        options.dnsConcurrency = 8
        let stopAfter = 120
        // 500 domains × 5 ms over 8 lookups at a time ≈ 0.3 s: the 100 ms stop poll lands mid-run.
        let counter = TableResolver(hosts: 50, domainDelay: .milliseconds(5))
        let s1 = try await Scanner(resolver: counter, prober: first, store: store, options: options)
            .run(
                input: list, scanID: scan, resume: false,
                stop: { counter.lock.withLock { counter.hostQueries.count } >= 20 })
        #expect(s1.interrupted)
        #expect(try store.scan(scan)?.status == .interrupted)
        let stored = try await store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM domains") ?? 0
        }
        #expect(stored < 500)
        _ = stopAfter

        let second = RecordingProber()
        let s2 = try await Scanner(
            resolver: TableResolver(hosts: 50), prober: second, store: store, options: options
        )
        .run(input: list, scanID: scan, resume: true)
        #expect(!s2.interrupted)
        #expect(s2.counters.domainsSkipped == stored)
        // Every IP probed exactly once over both runs.
        #expect(Set(first.calls).isDisjoint(with: Set(second.calls)))
        #expect(first.calls.count + second.calls.count == 50)
        let (domains, probes, rows) = try await store.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM domains") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM probes") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM results WHERE probe_status = 'ok'") ?? 0
            )
        }
        #expect(domains == 500)
        #expect(probes == 50)
        #expect(rows == 500)
        #expect(try store.scan(scan)?.status == .done)
    }
}

extension SchedulerTests {
    /// Resume's repair probes an address left without a probe row, and the re-probe of a
    /// greylisted first attempt, with the same recipient an uninterrupted scan would use:
    /// the first stored domain of the MX host by input line (then name).
    @Test func resumedProbesUseTheFirstStoredDomainOfTheirHost() async throws {
        let list = tempPath("list.txt")
        let db = tempPath("r.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        try ["d1.example", "d2.example", "d3.example", "d4.example", "d5.example"].joined(separator: "\n")
            .write(toFile: list, atomically: true, encoding: .utf8)
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        let writer = StoreWriter(store: store, scanID: scan)
        func domain(_ name: String, line: Int, mx: String) -> StoreRecord {
            .domain(
                DomainResolution(domain: name, status: .ok, mx: [MXRecord(host: mx, preference: 10)]),
                tag: nil, rank: nil, line: line)
        }
        func host(_ name: String, _ ip: String) -> StoreRecord {
            .host(HostResolution(host: name, status: .ok, addresses: [ip]), excluded: [:])
        }
        var greylisted = ProbeResult(ip: "198.51.100.3", sni: "mx-c.example", status: .ok)
        greylisted.greylisted = true
        // Stored out of line order, as concurrent lookups finish.
        try await writer.add(contentsOf: [
            host("mx-a.example", "198.51.100.1"), host("mx-b.example", "198.51.100.2"),
            host("mx-c.example", "198.51.100.3"),
            domain("d3.example", line: 3, mx: "mx-a.example"),
            domain("d5.example", line: 5, mx: "mx-c.example"),
            domain("d1.example", line: 1, mx: "mx-a.example"),
            domain("d2.example", line: 2, mx: "mx-b.example"),
            domain("d4.example", line: 4, mx: "mx-c.example"), .probe(greylisted, port: 25),
        ])
        try await writer.flush()
        try store.finishScan(scan, status: .interrupted)

        let prober = RecordingProber()
        _ = try await Scanner(
            resolver: TableResolver(hosts: 1), prober: prober, store: store, options: quietOptions()
        )
        .run(input: list, scanID: scan, resume: true)
        #expect(
            prober.recipients == [
                "198.51.100.1": "d1.example", "198.51.100.2": "d2.example", "198.51.100.3": "d4.example",
            ])
    }
}

/// Counts sessions running at the same time (all IPs together).
final class ConcurrencyProber: TargetProbing, @unchecked Sendable {
    let lock = NSLock()
    var running = 0
    var peak = 0
    var calls = 0

    func probe(_ target: ProbeTarget) async -> ProbeResult {
        lock.withLock {
            running += 1
            calls += 1
            peak = max(peak, running)
        }
        // Long enough that the pool fills even on a loaded machine.
        try? await Task.sleep(for: .milliseconds(50))
        lock.withLock { running -= 1 }
        return ProbeResult(ip: target.ip, sni: target.sni, status: .ok)
    }
}

@Suite struct SessionLimitTests {
    @Test(arguments: [1, 5, 64])
    func neverMoreSessionsThanTheConcurrencyAndThePoolFills(_ concurrency: Int) async throws {
        let list = try writeList(400)
        let db = tempPath("c.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        let prober = ConcurrencyProber()
        var options = quietOptions()
        options.concurrency = concurrency
        let hosts = max(20, concurrency * 3)
        let summary = try await Scanner(
            resolver: TableResolver(hosts: hosts), prober: prober, store: store, options: options
        )
        .run(input: list, scanID: scan, resume: false)
        #expect(summary.counters.probesDone == hosts)
        #expect(prober.calls == hosts)
        #expect(prober.peak <= concurrency)
        #expect(prober.peak == concurrency, "\(hosts) sessions of 50 ms each fill a pool of \(concurrency)")
    }

    @Test func slotsAreGrantedInBatchesAndGivenBack() async {
        let slots = SessionSlots(128)  // wakes a waiter once 2 slots are free
        #expect(await slots.acquire(upTo: 100) == 100)
        #expect(await slots.acquire(upTo: 100) == 28)
        async let waiting = slots.acquire(upTo: 10)
        try? await Task.sleep(for: .milliseconds(20))
        slots.release()  // one free slot: below the wake batch, the waiter sleeps on
        slots.release()
        #expect(await waiting == 2)
        slots.giveBack(128)
        await slots.waitUntilIdle()
    }
}
