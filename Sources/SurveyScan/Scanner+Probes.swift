import Foundation
import Logging
import SurveyCore
import SurveyDNS
import SurveyProbe
import SurveyStore
import Synchronization

extension Scanner {
    // MARK: probe stage

    func runProbes(
        queue: BoundedQueue<ProbeTarget>, retries: RetryList, state: ScanState, writer: StoreWriter,
        cutOff: SessionCutOff
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
                    var result = await prober.probe(target, cutOff: cutOff)
                    // Cut off by a stop: nothing was learned; resume probes it again.
                    if result.status == .connectionClosed && result.errorDetail == "cancelled" { return }
                    result.attempts = attempt
                    // Only a greylisted first attempt is probed again; its row is replaced by
                    // this one, which keeps that fact (the plaintext verdict is this attempt's).
                    if attempt > 1 { result.greylisted = true }
                    try? await writer.add(.probe(result, port: target.port))
                    let status = result.status
                    let retry = result.greylisted && attempt == 1
                    state.bump {
                        $0.probesDone += 1
                        if attempt > 1 { $0.retriesDone += 1 }
                        $0.probeStatus[status, default: 0] += 1
                        if retry { $0.retriesScheduled += 1 }
                    }
                    if retry {
                        let wait = max(self.options.greylistRetry, self.options.perIPInterval)
                        await retries.add(target, due: .now + wait)
                    } else {
                        await self.scanVersions(
                            target, after: result, limiter: limiter, state: state, writer: writer,
                            cutOff: cutOff)
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
                // Sessions in flight may still add a retry: wait for them only when none is
                // pending (not before each retry: a session's version scan keeps its slot for
                // seconds, and waiting for it would run the retries one at a time).
                if await retries.isEmpty { await slots.waitUntilIdle() }
                guard !state.stopping, let (target, due) = await retries.next() else { break }
                try? await Task.sleep(until: due)
                if state.stopping { break }
                await start(target, attempt: 2, more: 1)
            }
        }
    }

    /// The accepted TLS versions of `target` once its main probe (`result`) is final: what
    /// the negotiation says (the negotiated version accepted, newer ones refused), then with
    /// the version scan one session per older version, newest first. The sessions run in
    /// the main probe's slot, one after another, `perIPInterval` apart and each under the
    /// global rate: one session at a time per address. Nothing when TLS was not negotiated.
    func scanVersions(
        _ target: ProbeTarget, after result: ProbeResult, limiter: RateLimiter?, state: ScanState,
        writer: StoreWriter, cutOff: SessionCutOff
    ) async {
        guard result.status == .ok, let name = result.tlsVersion else { return }
        let negotiated = TLSVersion(name)
        var checks = TLSVersionCheck.fromNegotiation(negotiated)
        if let versionProber {
            for version in TLSVersionCheck.versionsToScan(below: negotiated) {
                if state.stopping { break }
                try? await Task.sleep(for: options.perIPInterval)
                if state.stopping { break }
                if let limiter { await limiter.acquire() }
                state.bump { $0.versionSessions += 1 }
                guard let check = await versionProber.check(target, version: version, cutOff: cutOff) else {
                    break
                }
                checks.append(check)
            }
        }
        guard !checks.isEmpty else { return }
        try? await writer.add(.tlsVersions(checks, ip: target.ip, port: target.port))
        if checks.contains(where: { $0.version == .tls12 && $0.verdict == .accepted }) {
            await checkCipherPreference(
                target, limiter: limiter, state: state, writer: writer, cutOff: cutOff)
        }
    }

    /// The cipher-preference check of an address that accepts TLS 1.2: the sessions
    /// `CipherPreferenceScan` asks for (two, or three when both orders gave the same suite),
    /// in the same slot, `perIPInterval` apart, each under the global rate. Nothing is stored
    /// when the scan stops before a verdict.
    func checkCipherPreference(
        _ target: ProbeTarget, limiter: RateLimiter?, state: ScanState, writer: StoreWriter,
        cutOff: SessionCutOff
    ) async {
        guard let cipherPreferenceProber else { return }
        var scan = CipherPreferenceScan()
        var step = scan.start()
        while case .offer(let offer) = step {
            if state.stopping { return }
            try? await Task.sleep(for: options.perIPInterval)
            if state.stopping { return }
            if let limiter { await limiter.acquire() }
            state.bump { $0.cipherPreferenceSessions += 1 }
            guard let result = await cipherPreferenceProber.handshake(target, offering: offer, cutOff: cutOff)
            else { return }
            step = scan.next(after: result)
        }
        guard case .done(let check) = step else { return }
        try? await writer.add(.cipherPreference(check, ip: target.ip, port: target.port))
    }
}
