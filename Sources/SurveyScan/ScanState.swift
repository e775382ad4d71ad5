import Foundation
import SurveyCore
import Synchronization

/// Shared mutable state of a running scan. A lock, not an actor: the stages touch it for
/// every session started and finished, and an actor hop each time would queue the
/// scheduler behind thousands of probe tasks on the cooperative pool.
final class ScanState: Sendable {
    private struct State {
        var counters = ScanCounters()
        var seenIPs: Set<String> = []
        var stopRequested = false
        var domainsTotal: Int?
    }
    private let state = Mutex(State())
    let started = ContinuousClock.now

    var counters: ScanCounters { state.withLock { $0.counters } }
    var stopping: Bool { state.withLock { $0.stopRequested } }

    /// Input lines naming a domain, once counted (for the progress line).
    var domainsTotal: Int? {
        get { state.withLock { $0.domainsTotal } }
        set { state.withLock { $0.domainsTotal = newValue } }
    }

    func stop() { state.withLock { $0.stopRequested = true } }
    func bump(_ update: (inout ScanCounters) -> Void) { state.withLock { update(&$0.counters) } }

    /// The addresses seen for the first time in this scan, in order; they count as seen now.
    func claim(ips: [String]) -> [String] {
        state.withLock { state in ips.filter { state.seenIPs.insert($0).inserted } }
    }
    func markIPsSeen(_ ips: [String]) { state.withLock { $0.seenIPs.formUnion(ips) } }
}

/// The session slots of the probe stage (`--concurrency`). A finished session gives its slot
/// back at once; the scheduler, when it has to wait, is woken only once a few slots are free
/// and then takes them all, so starting sessions costs one wake-up per batch.
final class SessionSlots: Sendable {
    private struct State {
        var free: Int
        var waiter: (wanted: Int, continuation: CheckedContinuation<Int, Never>)?
        var idleWaiter: CheckedContinuation<Void, Never>?
    }
    private let total: Int
    private let wakeBatch: Int
    private let state: Mutex<State>

    init(_ total: Int) {
        self.total = max(1, total)
        state = Mutex(State(free: self.total))
        wakeBatch = max(1, min(64, self.total / 64))
    }

    /// Waits for a free slot; takes up to `wanted` free slots and returns how many (≥ 1).
    func acquire(upTo wanted: Int) async -> Int {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            let granted: Int? = state.withLock { state in
                guard state.free > 0 else {
                    state.waiter = (max(1, wanted), continuation)
                    return nil
                }
                let n = min(state.free, max(1, wanted))
                state.free -= n
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
                state.withLock { state in
                    state.free += n
                    var resume: CheckedContinuation<Int, Never>?
                    var granted = 0
                    if let w = state.waiter, state.free >= min(w.wanted, wakeBatch) {
                        granted = min(state.free, w.wanted)
                        state.free -= granted
                        resume = w.continuation
                        state.waiter = nil
                    }
                    var idle: CheckedContinuation<Void, Never>?
                    if state.free == total, let i = state.idleWaiter {
                        idle = i
                        state.idleWaiter = nil
                    }
                    return (resume, granted, idle)
                }
        resume?.resume(returning: granted)
        idle?.resume()
    }

    /// Returns once every slot is free (no session running).
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle: Bool = state.withLock { state in
                if state.free == total { return true }
                state.idleWaiter = continuation
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

    var isEmpty: Bool { items.isEmpty }

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
