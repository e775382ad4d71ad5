import Foundation
import Logging
import NIOCore
import NIOPosix
import SurveyStore
import Testing

@testable import SurveyScan

@Suite struct LagMonitorTests {
    @Test func keepsTheLargestLagAndReportsTheFirstOverload() {
        let monitor = LagMonitor(threshold: .seconds(1))
        #expect(!monitor.record(.milliseconds(50)))
        #expect(monitor.record(.milliseconds(1200)))
        #expect(!monitor.record(.milliseconds(1500)))
        #expect(!monitor.record(.milliseconds(10)))
        #expect(monitor.maxLag == .milliseconds(1500))
        #expect(monitor.overloadedSamples >= 2)
        #expect(Duration.milliseconds(1500).milliseconds == 1500)
        #expect(Duration.seconds(2).milliseconds == 2000)
    }

    /// A wake-up that comes late (here a sleep that takes 1.2 s when asked for 50 ms, as on
    /// a machine whose threads are all busy) is measured and reported once.
    @Test func measuresLateWakeUps() async throws {
        let monitor = LagMonitor(interval: .milliseconds(50), threshold: .seconds(1))
        let reports = Reports()
        let calls = Reports()
        let watcher = Task {
            await monitor.run(
                overloaded: { reports.add($0) },
                sleep: { asked in
                    calls.add(asked)
                    // The third and fourth wake-ups are late.
                    let late = (3...4).contains(calls.count)
                    try? await Task.sleep(for: late ? .milliseconds(1200) : asked)
                })
        }
        while calls.count < 6 { try await Task.sleep(for: .milliseconds(20)) }
        watcher.cancel()
        await watcher.value
        #expect(monitor.maxLag >= .milliseconds(1100))
        #expect(monitor.overloadedSamples >= 2)
        #expect(reports.count == 1)
    }

    /// An event loop kept busy for 1.2 s runs its repeated sample that much later: the
    /// monitor sees it and reports it once; cancelled samples stop.
    @Test func seesABlockedEventLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let monitor = LagMonitor(interval: .milliseconds(50), threshold: .seconds(1))
        let reports = Reports()
        let tasks = monitor.watch(Array(group.makeIterator()), overloaded: { reports.add($0) })
        try await Task.sleep(for: .milliseconds(200))
        group.next().execute { usleep(1_200_000) }
        try await Task.sleep(for: .milliseconds(1600))
        for task in tasks { task.cancel() }
        try await group.shutdownGracefully()
        #expect(monitor.maxLag >= .milliseconds(1100))
        #expect(monitor.overloadedSamples >= 1)
        #expect(reports.count == 1)
    }

    /// A scan records its largest lag with the scan and prints it in its summary; its
    /// monitor sleeps between samples and warns at most once (a monitor that took the
    /// warning for its sleep once logged in a tight loop until the scan ended).
    @Test func aScanStoresItsLargestLag() async throws {
        let list = try writeList(200)
        let db = tempPath("lag.db")
        defer { for p in [list, db] { try? FileManager.default.removeItem(atPath: p) } }
        let store = try ResultStore(path: db)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: list)
        let log = CountingLog()
        var options = quietOptions()
        options.dnsConcurrency = 1  // 200 lookups of 2 ms one after another: several samples
        let summary = try await Scanner(
            resolver: TableResolver(hosts: 5, domainDelay: .milliseconds(2)), prober: RecordingProber(),
            store: store, options: options, logger: Logger(label: "test") { _ in log }
        ).run(input: list, scanID: scan, resume: false)
        #expect(log.lagWarnings <= 1)
        #expect(summary.duration > .milliseconds(400))
        #expect(summary.maxLag > .zero)
        #expect(try store.scan(scan)?.maxLagMs == summary.maxLag.milliseconds)
        #expect(summary.text.contains("scheduling lag: max \(summary.maxLag.milliseconds) ms"))
        var overloaded = summary
        overloaded.overloadedSamples = 3
        #expect(overloaded.text.contains("3 samples of 1 s or more: this machine was overloaded"))
    }
}

private final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Duration] = []
    func add(_ d: Duration) { lock.withLock { values.append(d) } }
    var count: Int { lock.withLock { values.count } }
}

/// Counts the scanner's lag warnings.
private struct CountingLog: LogHandler {
    final class Box: @unchecked Sendable {
        let lock = NSLock()
        var count = 0
    }
    let box = Box()
    var lagWarnings: Int { box.lock.withLock { box.count } }
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        if event.message.description.contains("ms late") { box.lock.withLock { box.count += 1 } }
    }
}
