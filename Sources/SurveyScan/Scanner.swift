import Foundation
import Logging
import SurveyCore
import SurveyDNS
import SurveyPolicy
import SurveyProbe
import SurveyStore
import Synchronization

/// Runs one scan: input → DNS → probes → store, with bounded memory and concurrency.
public final class Scanner: Sendable {
    /// How long sessions in flight may go on once the scan is cancelled.
    static let stopGrace: Duration = .seconds(2)
    /// How long a result may wait in memory before it is committed.
    static let commitDelay: Duration = .seconds(2)

    let resolver: any DomainResolving
    let prober: (any TargetProbing)?
    /// The version scan (nil: off, `--no-version-scan`).
    let versionProber: (any VersionChecking)?
    /// The cipher-preference check after the version scan (nil: off, `--no-version-scan`).
    let cipherPreferenceProber: (any CipherPreferenceChecking)?
    let store: ResultStore
    let options: ScanOptions
    let logger: Logger
    /// The policy stage (MTA-STS, TLS-RPT) after the probes; nil: not run.
    let policyChecker: PolicyChecker?

    public init(
        resolver: any DomainResolving, prober: (any TargetProbing)?,
        versionProber: (any VersionChecking)? = nil,
        cipherPreferenceProber: (any CipherPreferenceChecking)? = nil,
        store: ResultStore, options: ScanOptions,
        policyChecker: PolicyChecker? = nil, logger: Logger = Logger(label: "mxsurvey.scan")
    ) {
        self.resolver = resolver
        self.prober = prober
        self.versionProber = versionProber
        self.cipherPreferenceProber = cipherPreferenceProber
        self.policyChecker = policyChecker
        self.store = store
        self.options = options
        self.logger = logger
    }

    /// Scans `input` into scan `scanID`. With `resume`, work already stored for that scan
    /// is neither repeated nor stored twice, and work that was cut off is finished.
    ///
    /// Stopping is cancellation: when the calling task is cancelled, no new input is read
    /// and no new session starts; sessions in flight get `stopGrace` to finish, then they
    /// are cut off (not stored: a resumed scan probes those addresses again); what was
    /// learned is flushed, and the scan ends `interrupted` with a summary
    /// (`interrupted == true`) instead of an error. Every stage is a child task of this
    /// call: nothing of the scan runs on after it returns.
    public func run(input: String, scanID: Int64, resume: Bool) async throws -> ScanSummary {
        var reader: InputReader
        do { reader = try InputReader(path: input) } catch {
            // Nothing started: the scan stays resumable, not `running` forever.
            try store.finishScan(scanID, status: .interrupted)
            throw error
        }
        let state = ScanState()
        let writer = StoreWriter(store: store, scanID: scanID)
        let queue = BoundedQueue<ProbeTarget>(capacity: max(64, options.concurrency * 2))
        let retries = RetryList()
        let progress = ProgressReporter(state: state, queue: queue, options: options)
        let lag = LagMonitor()
        let warn: @Sendable (Duration) -> Void = { [logger] worst in
            logger.warning(
                "the scanner's work runs \(worst.milliseconds) ms late: this machine is overloaded, and timeouts measured now may be its own; use a lower --concurrency"
            )
        }
        let loopWatch = lag.watch(prober?.eventLoops ?? [], overloaded: warn)
        defer { for task in loopWatch { task.cancel() } }

        let cutOff = SessionCutOff()
        var failure: (any Error)?
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { helpers in
                helpers.addTask { await progress.run() }
                // The progress line shows the number of domains from the start: the input is
                // counted beside the scan (not standard input, which can be read only once).
                if options.progressInterval != nil && input != "-" {
                    helpers.addTask {
                        if let n = try? InputReader.countDomains(path: input, stop: { Task.isCancelled }) {
                            state.domainsTotal = n
                        }
                    }
                }
                // Results older than `commitDelay` are committed even when no batch is full.
                helpers.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.commitDelay / 2)
                        try? await writer.commitIfOlder(than: Self.commitDelay)
                    }
                }
                helpers.addTask { await lag.run(overloaded: warn) }

                await withDiscardingTaskGroup { stages in
                    stages.addTask {
                        await self.runProbes(
                            queue: queue, retries: retries, state: state, writer: writer, cutOff: cutOff)
                    }
                    do {
                        var storedHosts: [String] = []
                        if resume {
                            storedHosts = try await repair(
                                scanID: scanID, state: state, writer: writer, queue: queue, retries: retries)
                        }
                        try await runDNS(
                            reader: &reader, scanID: scanID, resume: resume, storedHosts: storedHosts,
                            state: state, writer: writer, queue: queue)
                    } catch {
                        // A cancelled scan's DNS stream ends early: that is the stop, not a failure.
                        if !Task.isCancelled { failure = error }
                        state.stop()
                    }
                    reader.close()
                    await queue.finish()
                }  // the probe stage has ended

                do {
                    try await writer.flush()
                    let storedDuplicates = writer.duplicateDomains
                    state.bump {
                        $0.duplicateLines += storedDuplicates
                        $0.duplicatesResolved += storedDuplicates
                    }
                    if options.probe {
                        try NameMatchPass(store: store).run(scanID: scanID)
                        try DANEPass(store: store).run(scanID: scanID)
                    }
                    if let policyChecker, !state.stopping {
                        try await PolicyPass(
                            store: store, checker: policyChecker, options: options,
                            exclusionReason: { [self] in exclusionReason(ip: $0) }
                        ).run(scanID: scanID, state: state)
                    }
                } catch {
                    failure = failure ?? error
                }
                helpers.cancelAll()
            }
        } onCancel: {
            state.stop()
            // A timer outside the cancelled task (a sleep in it would end at once).
            let grace = Self.stopGrace.components
            DispatchQueue.global().asyncAfter(
                deadline: .now()
                    + .milliseconds(
                        Int(grace.seconds) * 1000 + Int(grace.attoseconds / 1_000_000_000_000_000))
            ) { cutOff.fire() }
        }
        await progress.finish()
        let interrupted = state.stopping
        try store.finishScan(
            scanID, status: interrupted || failure != nil ? .interrupted : .done,
            maxLagMs: lag.maxLag.milliseconds)
        if let failure, !(failure is CancellationError) { throw failure }
        return ScanSummary(
            scanID: scanID, counters: state.counters, duration: ContinuousClock.now - state.started,
            interrupted: interrupted, maxLag: lag.maxLag, overloadedSamples: lag.overloadedSamples)
    }
}
