import Foundation
import NIOPosix
import SurveyCore
import SurveyProbe
import SurveyTLS
import TestSupport
import Testing

@testable import SurveyScan
@testable import SurveyStore

/// One domain whose MX host is `ip`.
final class SingleHostResolver: DomainResolving, @unchecked Sendable {
    let ip: String
    init(ip: String) { self.ip = ip }
    func resolveDomain(_ domain: String) async -> DomainResolution {
        DomainResolution(
            domain: domain, status: .ok, mx: [MXRecord(host: "mx.tarpit.example", preference: 10)])
    }
    func resolveHost(_ host: String) async -> HostResolution {
        HostResolution(host: host, status: .ok, addresses: [ip])
    }
}

/// Stopping is cancellation: a cancelled scan ends within its grace period even while a
/// session waits on a tarpit, stores nothing about that session and ends `interrupted`.
@Suite struct CancellationTests {
    @Test func cancellingTheScanStopsTheProbeStageAfterTheGracePeriod() async throws {
        let connected = AsyncStream<Void>.makeStream()
        let tarpit = try ScriptedSMTPServer(host: "127.0.26.150") { connection in
            connected.continuation.yield()
            connection.setReadTimeout(seconds: 30)
            _ = connection.readSome()  // no greeting until the client goes away
        }
        defer { tarpit.stop() }
        let list = try writeList(1)
        let db = tempPath("cancel.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        let config = ProbeConfig(
            tlsContext: try TLSContext.client(), ehloName: "probe.test.example",
            mailFrom: "p@probe.test.example",
            bannerTimeout: .seconds(30), sessionDeadline: .seconds(60))
        let prober = Prober(config: config, group: MultiThreadedEventLoopGroup.singleton)
        let scanner = Scanner(
            resolver: SingleHostResolver(ip: "127.0.26.150"), prober: prober, store: store,
            options: quietOptions())
        let task = Task { try await scanner.run(input: list, scanID: scan, resume: false) }
        for await _ in connected.stream { break }  // the session is waiting for a greeting
        let clock = ContinuousClock()
        let cancelled = clock.now
        task.cancel()
        let summary = try await task.value
        let took = clock.now - cancelled
        #expect(summary.interrupted)
        #expect(took >= Scanner.stopGrace, "sessions in flight get the grace period: \(took)")
        #expect(took < Scanner.stopGrace + .seconds(3), "then they are cut off: \(took)")
        #expect(try store.scan(scan)?.status == .interrupted)
        let probes = try await store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM probes")
        }
        #expect(probes == 0, "a cut-off session is not stored (a resumed scan probes it again)")
    }
}
