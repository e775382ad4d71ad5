import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyScan
@testable import SurveyStore

/// A resolver that stops answering: for domains whose number is in `silent`, the MX query
/// times out and the run of unanswered queries grows; any answer ends the run.
final class FailingResolver: DomainResolving, @unchecked Sendable {
    let silent: (Int) -> Bool
    let lock = NSLock()
    private var unanswered = 0

    init(silent: @escaping (Int) -> Bool) { self.silent = silent }

    var consecutiveUnanswered: Int { lock.withLock { unanswered } }

    func resolveDomain(_ domain: String) async -> DomainResolution {
        let n = Int(domain.dropFirst().prefix { $0.isNumber }) ?? 0
        if silent(n) {
            lock.withLock { unanswered += 1 }
            return DomainResolution(domain: domain, status: .timeout, detail: "no reply")
        }
        lock.withLock { unanswered = 0 }
        return DomainResolution(
            domain: domain, status: .ok, mx: [MXRecord(host: "mx.example", preference: 10)])
    }

    func resolveHost(_ host: String) async -> HostResolution {
        HostResolution(host: host, status: .ok, addresses: ["198.51.100.1"])
    }
}

@Suite struct ResolverFailureTests {
    private func statuses(_ store: ResultStore, _ scan: Int64) async throws -> [String: Int] {
        try await store.pool.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT dns_status, count(*) FROM domains WHERE scan_id = ? GROUP BY 1",
                arguments: [scan])
            {
                out[row[0]] = row[1]
            }
            return out
        }
    }

    /// The resolver dies half-way: the scan stops with `resolverStoppedAnswering`, stores no
    /// `timeout` verdict about the domains it left unanswered, and a resumed scan with a
    /// working resolver completes the list.
    @Test func aDeadResolverStopsTheScanWithoutStoringItsSilenceAsFacts() async throws {
        let list = try writeList(1000)
        let db = tempPath("dead.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        var options = quietOptions()
        options.dnsConcurrency = 20
        options.probe = false
        options.resolverFailureThreshold = 50
        let dying = FailingResolver { $0 >= 300 }
        do {
            _ = try await Scanner(resolver: dying, prober: nil, store: store, options: options)
                .run(input: list, scanID: scan, resume: false)
            Issue.record("the scan must stop")
        } catch let failure as ScanFailure {
            guard case .resolverStoppedAnswering(let count) = failure else { return }
            #expect(count >= 50)
        }
        #expect(try store.scan(scan)?.status == .interrupted)
        let stored = try await statuses(store, scan)
        #expect(stored["timeout"] == nil, "\(stored)")
        #expect((stored["ok"] ?? 0) >= 280 && (stored["ok"] ?? 0) <= 300, "\(stored)")

        let summary = try await Scanner(
            resolver: FailingResolver { _ in false }, prober: nil, store: store, options: options
        ).run(input: list, scanID: scan, resume: true)
        #expect(!summary.interrupted)
        #expect(try await statuses(store, scan) == ["ok": 1000])
    }

    /// A short outage (ten queries unanswered, then answers again) is below the threshold:
    /// the scan goes on and those ten verdicts are stored as what they are.
    @Test func aShortOutageIsStoredAndTheScanGoesOn() async throws {
        let list = try writeList(500)
        let db = tempPath("blip.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        var options = quietOptions()
        options.dnsConcurrency = 5
        options.probe = false
        options.resolverFailureThreshold = 50
        let summary = try await Scanner(
            resolver: FailingResolver { (100..<110).contains($0) }, prober: nil, store: store,
            options: options
        ).run(input: list, scanID: scan, resume: false)
        #expect(!summary.interrupted)
        #expect(try await statuses(store, scan) == ["ok": 490, "timeout": 10])
        #expect(try store.scan(scan)?.status == .done)
    }
}

/// The diagnosis a nightly run exits on when it measured (almost) nothing.
@Suite struct NothingMeasuredTests {
    @Test func blockedPort25IsDiagnosed() {
        var c = ScanCounters()
        c.probeStatus = [.connectTimeout: 98, .ok: 1, .excluded: 50]
        c.domainStatus = [.ok: 99]
        let diagnosis = c.nothingMeasured(minMeasured: 0.05)
        #expect(diagnosis?.contains("1 of 99 SMTP sessions") ?? false, "\(diagnosis ?? "nil")")
        #expect(diagnosis?.contains("port 25") ?? false)
        #expect(c.nothingMeasured(minMeasured: 0) == nil, "0 turns the check off")
        c.probeStatus = [.connectTimeout: 90, .starttlsNotOffered: 10]
        #expect(c.nothingMeasured(minMeasured: 0.05) == nil)
    }

    @Test func noDNSAnswerAtAllIsDiagnosed() {
        var c = ScanCounters()
        c.domainStatus = [.timeout: 10, .servfail: 2, .excluded: 3]
        #expect(
            c.nothingMeasured(minMeasured: 0.05)?.contains("none of 12 domains got a DNS answer") ?? false)
        c.domainStatus[.nxdomain] = 1
        #expect(c.nothingMeasured(minMeasured: 0.05) == nil, "an NXDOMAIN is an answer")
    }
}
