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
