import Foundation
import Logging
import SurveyCore
import SurveyDNS
import SurveyStore

/// Options of one scan (the `scan` subcommand's flags).
public struct ScanOptions: Sendable {
    /// Probe private/loopback/reserved addresses (RFC 6890) too.
    public var allowPrivate = false
    public var exclusions = ExclusionList()
    public var tag: String?
    /// Domains resolved at the same time.
    public var dnsConcurrency = ScanDefaults.dnsConcurrency
    /// SMTP sessions at the same time.
    public var concurrency = ScanDefaults.concurrency
    /// New sessions per second over all targets (0 = unlimited).
    public var rate = ScanDefaults.rate
    /// Minimum time between two sessions to the same IP (applies to re-probes).
    public var perIPInterval = ScanDefaults.perIPInterval
    /// Wait before re-probing a host that greylisted the plaintext probe.
    public var greylistRetry = ScanDefaults.greylistRetry
    /// TCP port of the SMTP probe.
    public var port = ScanDefaults.port
    /// Run the probe stage (false: DNS only).
    public var probe = true
    /// How often to print a status line (nil: quiet).
    public var progressInterval: Duration? = ScanDefaults.progressInterval
    /// Draw a live bar (a TTY) instead of plain status lines.
    public var liveProgress = false
    /// Queries in a row without any reply from the resolver after which the scan stops
    /// (`ScanFailure.resolverStoppedAnswering`) instead of storing `timeout`/`error`
    /// verdicts that describe the resolver, not the domains.
    public var resolverFailureThreshold = 200

    public init() {}
}

/// Why a scan stopped before its end, beyond a signal.
public enum ScanFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The resolver gave no reply to `count` queries in a row: it is down or unreachable.
    /// The verdicts of the lookups that went unanswered were not stored; a resumed scan
    /// asks for them again.
    case resolverStoppedAnswering(count: Int)

    public var description: String {
        switch self {
        case .resolverStoppedAnswering(let count):
            return "the resolver stopped answering (\(count) queries in a row got no reply); "
                + "the lookups it left unanswered were not stored"
        }
    }
}

/// Counts shown while scanning and in the final summary.
public struct ScanCounters: Sendable {
    public var inputLines = 0
    public var inputProblems = 0
    public var domainsSkipped = 0
    public var domainsResolved = 0
    /// Input lines naming a domain an earlier line of this scan named (the first wins).
    public var duplicateLines = 0
    /// Of those, the ones resolved again (the earlier line's answer had come back) whose
    /// record the store turned away; the others were not resolved at all.
    public var duplicatesResolved = 0
    public var hostsResolved = 0
    public var targetsQueued = 0
    public var probesStarted = 0
    public var probesDone = 0
    public var retriesScheduled = 0
    public var domainStatus: [DomainDNSStatus: Int] = [:]
    public var probeStatus: [ProbeStatus: Int] = [:]
    public var excludedAddresses = 0
}

public struct ScanSummary: Sendable {
    public var scanID: Int64
    public var counters: ScanCounters
    public var duration: Duration
    public var interrupted: Bool
    /// The largest scheduling lag of the scanner's tasks (`LagMonitor`), and how many of its
    /// samples lagged by a second or more.
    public var maxLag: Duration = .zero
    public var overloadedSamples = 0

    public var text: String {
        let seconds = max(0.001, duration.inSeconds)
        var lines = [
            "scan \(scanID) \(interrupted ? "interrupted" : "finished") in \(String(format: "%.1f", seconds)) s",
            "  domains resolved: \(counters.domainsResolved) (\(String(format: "%.0f", Double(counters.domainsResolved) / seconds))/s)"
                + (counters.duplicateLines > 0
                    ? ", distinct domains stored: \(counters.domainsResolved - counters.duplicatesResolved)"
                        + ", duplicate input lines: \(counters.duplicateLines) (the first line of a name is stored)"
                    : "")
                + (counters.domainsSkipped > 0 ? ", already stored: \(counters.domainsSkipped)" : "")
                + (counters.inputProblems > 0 ? ", input problems: \(counters.inputProblems)" : ""),
        ]
        for (k, v) in counters.domainStatus.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            lines.append("    \(k.rawValue): \(v)")
        }
        lines.append(
            "  MX hosts resolved: \(counters.hostsResolved), addresses excluded: \(counters.excludedAddresses)"
        )
        lines.append(
            "  probes: \(counters.probesDone) (\(String(format: "%.0f", Double(counters.probesDone) / seconds))/s)"
                + (counters.retriesScheduled > 0 ? ", greylist re-probes: \(counters.retriesScheduled)" : ""))
        for (k, v) in counters.probeStatus.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            lines.append("    \(k.rawValue): \(v)")
        }
        lines.append(
            "  scheduling lag: max \(maxLag.milliseconds) ms"
                + (overloadedSamples > 0
                    ? ", \(overloadedSamples) samples of 1 s or more: this machine was overloaded, so some"
                        + " timeouts may be its own; use a lower --concurrency" : ""))
        return lines.joined(separator: "\n")
    }
}

/// Shared mutable state of a running scan. A lock, not an actor: the stages touch it for
/// every session started and finished, and an actor hop each time would queue the
/// scheduler behind thousands of probe tasks on the cooperative pool.
final class ScanState: @unchecked Sendable {
    private let lock = NSLock()
    private var current = ScanCounters()
    private var seenIPs: Set<String> = []
    private var stopRequested = false
    let started = ContinuousClock.now

    var counters: ScanCounters { lock.withLock { current } }
    var stopping: Bool { lock.withLock { stopRequested } }

    func stop() { lock.withLock { stopRequested = true } }
    func bump(_ update: (inout ScanCounters) -> Void) { lock.withLock { update(&current) } }

    /// The addresses seen for the first time in this scan, in order; they count as seen now.
    func claim(ips: [String]) -> [String] { lock.withLock { ips.filter { seenIPs.insert($0).inserted } } }
    func markIPsSeen(_ ips: [String]) { lock.withLock { seenIPs.formUnion(ips) } }
}

/// Runs one scan: input → DNS → probes → store, with bounded memory and concurrency.
public final class Scanner: Sendable {
    /// How long sessions in flight may go on once a stop is requested.
    static let stopGrace: Duration = .seconds(2)
    /// How long a result may wait in memory before it is committed.
    static let commitDelay: Duration = .seconds(2)

    let resolver: any DomainResolving
    let prober: (any TargetProbing)?
    let store: ResultStore
    let options: ScanOptions
    let logger: Logger

    public init(
        resolver: any DomainResolving, prober: (any TargetProbing)?, store: ResultStore, options: ScanOptions,
        logger: Logger = Logger(label: "mxsurvey.scan")
    ) {
        self.resolver = resolver
        self.prober = prober
        self.store = store
        self.options = options
        self.logger = logger
    }

    /// Scans `input` into scan `scanID`. With `resume`, work already stored for that scan
    /// is neither repeated nor stored twice, and work that was cut off is finished.
    /// `stop` is polled: once it returns true no new work starts, and what runs is finished
    /// and flushed.
    public func run(
        input: String, scanID: Int64, resume: Bool, stop: @Sendable @escaping () -> Bool = { false }
    )
        async throws -> ScanSummary
    {
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
        let progressTask = Task { await progress.run() }
        // Results older than `commitDelay` are committed even when no batch is full.
        let commitTicker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.commitDelay / 2)
                try? await writer.commitIfOlder(than: Self.commitDelay)
            }
        }
        let lag = LagMonitor()
        let warn: @Sendable (Duration) -> Void = { [logger] worst in
            logger.warning(
                "the scanner's work runs \(worst.milliseconds) ms late: this machine is overloaded, and timeouts measured now may be its own; use a lower --concurrency"
            )
        }
        let lagTask = Task { await lag.run(overloaded: warn) }
        let loopWatch = lag.watch(prober?.eventLoops ?? [], overloaded: warn)
        let probeStage = Task {
            await self.runProbes(queue: queue, retries: retries, state: state, writer: writer)
        }
        let stopWatch = Task {
            while !Task.isCancelled {
                if stop() {
                    state.stop()
                    // Sessions in flight get a short grace period; then they are cut off
                    // (a tarpit would hold the stop for its whole timeout). Cut-off sessions
                    // are not stored, so a resumed scan probes those addresses again.
                    try? await Task.sleep(for: Self.stopGrace)
                    if !Task.isCancelled { probeStage.cancel() }
                    return
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }

        var failure: (any Error)?
        do {
            var storedHosts: [String] = []
            if resume {
                storedHosts = try await repair(
                    scanID: scanID, state: state, writer: writer, queue: queue, retries: retries)
            }
            try await runDNS(
                reader: &reader, scanID: scanID, resume: resume, storedHosts: storedHosts, state: state,
                writer: writer, queue: queue)
        } catch {
            failure = error
            state.stop()
        }
        reader.close()
        await queue.finish()
        await probeStage.value
        stopWatch.cancel()
        do {
            try await writer.flush()
            let storedDuplicates = writer.duplicateDomains
            state.bump {
                $0.duplicateLines += storedDuplicates
                $0.duplicatesResolved += storedDuplicates
            }
            if options.probe { try NameMatchPass(store: store).run(scanID: scanID) }
        } catch {
            failure = failure ?? error
        }
        progressTask.cancel()
        commitTicker.cancel()
        lagTask.cancel()
        for task in loopWatch { task.cancel() }
        await progress.finish()
        let interrupted = state.stopping
        try store.finishScan(
            scanID, status: interrupted || failure != nil ? .interrupted : .done,
            maxLagMs: lag.maxLag.milliseconds)
        if let failure { throw failure }
        return ScanSummary(
            scanID: scanID, counters: state.counters, duration: ContinuousClock.now - state.started,
            interrupted: interrupted, maxLag: lag.maxLag, overloadedSamples: lag.overloadedSamples)
    }

    // MARK: DNS stage

    /// Counts of one round of the DNS stage, added to `ScanState` in one step.
    private struct DNSTally {
        var inputLines: Int?
        var inputProblems = 0
        var domainsSkipped = 0
        var duplicateLines = 0
        var domainsResolved = 0
        var domainStatus: [DomainDNSStatus: Int] = [:]
        var hostsResolved = 0
        var excludedAddresses = 0
        var targetsQueued = 0

        mutating func domain(_ status: DomainDNSStatus) {
            domainsResolved += 1
            domainStatus[status, default: 0] += 1
        }

        func apply(to c: inout ScanCounters) {
            if let inputLines { c.inputLines = inputLines }
            c.inputProblems += inputProblems
            c.domainsSkipped += domainsSkipped
            c.duplicateLines += duplicateLines
            c.domainsResolved += domainsResolved
            for (k, v) in domainStatus { c.domainStatus[k, default: 0] += v }
            c.hostsResolved += hostsResolved
            c.excludedAddresses += excludedAddresses
            c.targetsQueued += targetsQueued
        }
    }

    /// Reads the input, keeps up to `dnsConcurrency` domains in the resolver at a time and
    /// stores what comes back: each MX host once (its addresses queued for probing) before
    /// the domains naming it. One task, one batch of records per round of DNS replies.
    private func runDNS(
        reader: inout InputReader, scanID: Int64, resume: Bool, storedHosts: [String], state: ScanState,
        writer: StoreWriter, queue: BoundedQueue<ProbeTarget>
    ) async throws {
        let exclusions = options.exclusions
        let pipeline = DomainPipeline(stream: resolver.resolutionStream()) { host in
            exclusions.matching(name: host).map {
                HostResolution(host: host, status: .excluded, detail: "exclusion list: \($0)")
            }
        }
        pipeline.markResolved(hosts: storedHosts)
        var inputs: [Int: InputDomain] = [:]
        // Names being resolved: a later line naming one of them is a duplicate and is not
        // resolved again, so the first line's rank and line number are the ones stored. A
        // duplicate of a name already stored is turned away by the store (first one wins).
        var inFlight: Set<String> = []
        // While the resolver leaves queries unanswered, `timeout`/`error` verdicts (and the
        // domains that name such a host) wait here: once it answers again they are stored;
        // if it has stopped answering for good they are dropped, and a resumed scan asks again.
        var held: [StoreRecord] = []
        var heldHosts: Set<String> = []
        let resolver = self.resolver
        var nextToken = 0
        var lastLine = 0
        var inputCounted = false
        // One round's records and counts, stored and added to the state in one step.
        var records: [StoreRecord] = []
        var tally = DNSTally()
        // Keep the resolver busy: input is read until `dnsConcurrency` domains are out.
        try await pipeline.run(window: options.dnsConcurrency) {
            guard let item = reader.next() else { return false }
            switch item {
            case .problem(let p):
                logger.warning("input \(p.description)")
                records.append(.problem(p))
                tally.inputProblems += 1
                lastLine = p.line
            case .domain(let d):
                lastLine = d.line
                if inFlight.contains(d.name) {
                    tally.duplicateLines += 1
                } else if resume, try store.isDomainStored(scan: scanID, name: d.name) {
                    tally.domainsSkipped += 1
                } else if let entry = exclusions.matching(name: d.name) {
                    let resolution = DomainResolution(
                        domain: d.name, status: .excluded, detail: "exclusion list: \(entry)")
                    records.append(.domain(resolution, tag: options.tag, rank: d.rank, line: d.line))
                    tally.domain(.excluded)
                } else {
                    nextToken += 1
                    inputs[nextToken] = d
                    inFlight.insert(d.name)
                    pipeline.submit(domain: d.name, token: nextToken)
                }
            }
            if lastLine % 1000 == 0 {
                records.append(.inputProgress(lines: lastLine))
                tally.inputLines = lastLine
            }
            return true
        } round: { events, inputDone in
            if inputDone && !inputCounted {
                inputCounted = true
                records.append(.inputProgress(lines: lastLine))
                tally.inputLines = lastLine
            }
            for event in events {
                switch event {
                case .host(let resolution, let firstDomain):
                    let unanswered = resolution.status == .timeout || resolution.status == .error
                    if unanswered && resolver.consecutiveUnanswered > 0 {
                        heldHosts.insert(resolution.host)
                        await handleHost(
                            resolution, recipientDomain: firstDomain, state: state, queue: queue,
                            records: &held, tally: &tally)
                    } else {
                        await handleHost(
                            resolution, recipientDomain: firstDomain, state: state, queue: queue,
                            records: &records, tally: &tally)
                    }
                case .domain(let resolution, let token):
                    guard let d = inputs.removeValue(forKey: token) else { continue }
                    inFlight.remove(d.name)
                    let record = StoreRecord.domain(resolution, tag: options.tag, rank: d.rank, line: d.line)
                    let unanswered =
                        resolution.status == .timeout || resolution.status == .error
                        || resolution.mx.contains { heldHosts.contains($0.host) }
                    if unanswered && (resolver.consecutiveUnanswered > 0 || !heldHosts.isEmpty) {
                        held.append(record)
                    } else {
                        records.append(record)
                    }
                    tally.domain(resolution.status)
                }
            }
            let unanswered = resolver.consecutiveUnanswered
            if unanswered >= options.resolverFailureThreshold {
                if !records.isEmpty { try await writer.add(contentsOf: records) }
                throw ScanFailure.resolverStoppedAnswering(count: unanswered)
            }
            if !held.isEmpty && (unanswered == 0 || (inputDone && pipeline.outstanding == 0)) {
                // The resolver answers again (or the input is done with it still answering
                // now and then): the verdicts are the domains' own.
                records = held + records
                held = []
                heldHosts = []
            }
            if !records.isEmpty { try await writer.add(contentsOf: records) }
            state.bump { tally.apply(to: &$0) }
            records.removeAll(keepingCapacity: true)
            tally = DNSTally()
            // A stop reads no more input; domains already asked for are still stored.
            return !state.stopping
        }
    }

    /// Why an address is not probed, or nil.
    func exclusionReason(ip: String) -> String? {
        if let entry = options.exclusions.matching(ip: ip) { return "exclusion list: \(entry)" }
        if !options.allowPrivate, let block = AddressPolicy.specialPurpose(ip) {
            return "special-purpose address (\(block)); use --allow-private"
        }
        return nil
    }

    /// Queues a newly resolved MX host's addresses for probing (each IP once per scan)
    /// and adds its record.
    private func handleHost(
        _ resolution: HostResolution, recipientDomain: String, state: ScanState,
        queue: BoundedQueue<ProbeTarget>,
        records: inout [StoreRecord], tally: inout DNSTally
    ) async {
        var excluded: [String: String] = [:]
        var candidates: [String] = []
        for ip in resolution.addresses {
            if let reason = exclusionReason(ip: ip) {
                excluded[ip] = reason
            } else if options.probe {
                candidates.append(ip)
            }
        }
        let fresh = candidates.isEmpty ? [] : state.claim(ips: candidates)
        tally.hostsResolved += 1
        tally.excludedAddresses += excluded.count
        tally.targetsQueued += fresh.count
        records.append(.host(resolution, excluded: excluded))
        let host = resolution.host
        for ip in fresh {
            await queue.send(
                ProbeTarget(
                    ip: ip, port: options.port, sni: host, names: [host], recipientDomain: recipientDomain))
        }
    }

    // MARK: resume

    /// Finishes what an interrupted run left half done, and tells the state what is stored:
    /// addresses without a probe row are probed; a greylisted first attempt whose re-probe
    /// was cut off gets that re-probe (attempt 2, after the greylisting wait), not a new
    /// first attempt. The plaintext probe's recipient is a stored domain of the MX host, as
    /// in an uninterrupted scan (the host name only when none is stored yet).
    private func repair(
        scanID: Int64, state: ScanState, writer: StoreWriter, queue: BoundedQueue<ProbeTarget>,
        retries: RetryList
    )
        async throws -> [String]
    {
        let stored = try await store.resumeState(scan: scanID)
        let (hosts, probed) = (stored.hosts, stored.probedIPs)
        let regrey = stored.greylisted.map {
            ProbeTarget(
                ip: $0.ip, port: $0.port, sni: $0.sni, names: [$0.sni], recipientDomain: $0.recipientDomain)
        }
        state.markIPsSeen(probed)
        if !hosts.isEmpty || !probed.isEmpty {
            logger.info(
                "resuming scan \(scanID): \(hosts.count) MX hosts and \(probed.count) probes already stored")
        }
        guard options.probe else { return hosts }
        let wait = max(options.greylistRetry, options.perIPInterval)
        for target in regrey {
            state.bump { $0.retriesScheduled += 1 }
            await retries.add(target, due: .now + wait)
        }
        let fresh = Set(state.claim(ips: stored.unprobed.map(\.ip)))
        for p in stored.unprobed where fresh.contains(p.ip) {
            state.bump { $0.targetsQueued += 1 }
            await queue.send(
                ProbeTarget(
                    ip: p.ip, port: options.port, sni: p.host, names: [p.host],
                    recipientDomain: p.recipientDomain))
        }
        return hosts
    }

    // MARK: probe stage

    private func runProbes(
        queue: BoundedQueue<ProbeTarget>, retries: RetryList, state: ScanState, writer: StoreWriter
    )
        async
    {
        guard let prober else {
            while !(await queue.receive(upTo: 1024)).isEmpty {}
            return
        }
        let limiter = options.rate > 0 ? RateLimiter(perSecond: options.rate) : nil
        let slots = SessionSlots(options.concurrency)
        await withDiscardingTaskGroup { group in
            // Slots granted to this loop and not used yet.
            var granted = 0
            func start(_ target: ProbeTarget, attempt: Int, more: Int) async {
                if granted == 0 { granted = await slots.acquire(upTo: more) }
                granted -= 1
                if let limiter { await limiter.acquire() }
                state.bump { $0.probesStarted += 1 }
                group.addTask {
                    defer { slots.release() }
                    var result = await prober.probe(target)
                    // Cut off by a stop: nothing was learned; resume probes it again.
                    if Task.isCancelled { return }
                    result.attempts = attempt
                    // Only a greylisted first attempt is probed again; its row is replaced by
                    // this one, which keeps that fact (the plaintext verdict is this attempt's).
                    if attempt > 1 { result.greylisted = true }
                    try? await writer.add(.probe(result, port: target.port))
                    let status = result.status
                    let retry = result.greylisted && attempt == 1
                    state.bump {
                        $0.probesDone += 1
                        $0.probeStatus[status, default: 0] += 1
                        if retry { $0.retriesScheduled += 1 }
                    }
                    if retry {
                        let wait = max(self.options.greylistRetry, self.options.perIPInterval)
                        await retries.add(target, due: .now + wait)
                    }
                }
            }
            // Targets are taken in batches and sessions started against slots taken in
            // batches: one hop to the queue and one to the retry list per batch, and the loop
            // is woken once several sessions have ended, not once per session, so it keeps
            // `concurrency` sessions going even when the cooperative pool is busy with the
            // sessions' own work.
            while true {
                let batch = await queue.receive(upTo: 256)
                if batch.isEmpty { break }
                if state.stopping { continue }  // drain the queue without probing
                let due = await retries.takeDue()
                for (i, target) in due.enumerated() where !state.stopping {
                    await start(target, attempt: 2, more: due.count - i + batch.count)
                }
                for (i, target) in batch.enumerated() where !state.stopping {
                    await start(target, attempt: 1, more: batch.count - i)
                }
            }
            // Greylisted hosts: wait for their retry time, then probe once more.
            slots.giveBack(granted)
            granted = 0
            while true {
                await slots.waitUntilIdle()
                guard !state.stopping, let (target, due) = await retries.next() else { break }
                try? await Task.sleep(until: due)
                if state.stopping { break }
                await start(target, attempt: 2, more: 1)
            }
        }
    }
}

/// The session slots of the probe stage (`--concurrency`). A finished session gives its slot
/// back at once; the scheduler, when it has to wait, is woken only once a few slots are free
/// and then takes them all, so starting sessions costs one wake-up per batch.
final class SessionSlots: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private var free: Int
    private let wakeBatch: Int
    private var waiter: (wanted: Int, continuation: CheckedContinuation<Int, Never>)?
    private var idleWaiter: CheckedContinuation<Void, Never>?

    init(_ total: Int) {
        self.total = max(1, total)
        free = self.total
        wakeBatch = max(1, min(64, self.total / 64))
    }

    /// Waits for a free slot; takes up to `wanted` free slots and returns how many (≥ 1).
    func acquire(upTo wanted: Int) async -> Int {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            let granted: Int? = lock.withLock {
                guard free > 0 else {
                    waiter = (max(1, wanted), continuation)
                    return nil
                }
                let n = min(free, max(1, wanted))
                free -= n
                return n
            }
            if let granted { continuation.resume(returning: granted) }
        }
    }

    func release() { giveBack(1) }

    /// Returns slots that were taken and not used.
    func giveBack(_ n: Int) {
        guard n > 0 else { return }
        let (resume, granted, idle):
            (CheckedContinuation<Int, Never>?, Int, CheckedContinuation<Void, Never>?) =
                lock.withLock {
                    free += n
                    var resume: CheckedContinuation<Int, Never>?
                    var granted = 0
                    if let w = waiter, free >= min(w.wanted, wakeBatch) {
                        granted = min(free, w.wanted)
                        free -= granted
                        resume = w.continuation
                        waiter = nil
                    }
                    var idle: CheckedContinuation<Void, Never>?
                    if free == total, let i = idleWaiter {
                        idle = i
                        idleWaiter = nil
                    }
                    return (resume, granted, idle)
                }
        resume?.resume(returning: granted)
        idle?.resume()
    }

    /// Returns once every slot is free (no session running).
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle: Bool = lock.withLock {
                if free == total { return true }
                idleWaiter = continuation
                return false
            }
            if idle { continuation.resume() }
        }
    }
}

/// Greylisted targets waiting for their re-probe.
actor RetryList {
    private var items: [(ProbeTarget, ContinuousClock.Instant)] = []

    func add(_ target: ProbeTarget, due: ContinuousClock.Instant) { items.append((target, due)) }

    func takeDue() -> [ProbeTarget] {
        let now = ContinuousClock.now
        let due = items.filter { $0.1 <= now }.map(\.0)
        if !due.isEmpty { items.removeAll { $0.1 <= now } }
        return due
    }

    func next() -> (ProbeTarget, ContinuousClock.Instant)? {
        guard let i = items.indices.min(by: { items[$0].1 < items[$1].1 }) else { return nil }
        return items.remove(at: i)
    }
}
