import NIOCore

/// Something with a deadline kept by a `DeadlineWheel`.
protocol DeadlineWheelClient: AnyObject {
    /// Called on the wheel's event loop once the tick it registered for has passed.
    func deadlineTick(_ tick: Int64, now: NIODeadline)
}

/// Coarse deadlines for many sessions on one event loop.
///
/// NIO keeps scheduled tasks in a heap whose `cancel` is a linear search, so one timer per
/// phase for each of 20,000 concurrent sessions would make every cancel (and every connect,
/// whose timeout NIO cancels) scan tens of thousands of entries. The wheel instead files
/// each session under a tick (default 100 ms) and wakes once per tick while it holds any;
/// registering is O(1) and nothing is ever cancelled: a session whose deadline moved simply
/// re-registers when its stale tick comes up. Clients are held weakly.
///
/// Time is the loop's own (`EventLoop.now`): the monotonic clock on a real loop, the
/// virtual clock of an `EmbeddedEventLoop` in tests. Use only on `loop`.
final class DeadlineWheel {
    let loop: any EventLoop
    private let tickNanoseconds: Int64
    private var buckets: [Int64: [Entry]] = [:]
    private var lastProcessedTick: Int64
    private var running = false

    private struct Entry {
        weak var client: (any DeadlineWheelClient)?
    }

    init(loop: any EventLoop, tick: TimeAmount = .milliseconds(100)) {
        self.loop = loop
        self.tickNanoseconds = max(tick.nanoseconds, 1_000_000)
        self.lastProcessedTick =
            Int64(clamping: loop.now.uptimeNanoseconds) / max(tick.nanoseconds, 1_000_000)
    }

    /// The tick at or after `deadline`.
    func tick(for deadline: NIODeadline) -> Int64 {
        let nanoseconds = Int64(clamping: deadline.uptimeNanoseconds)
        return (nanoseconds + tickNanoseconds - 1) / tickNanoseconds
    }

    /// Calls `client.deadlineTick(tick, …)` once `tick` has passed (never earlier, at most
    /// about one tick later).
    func register(_ client: any DeadlineWheelClient, tick: Int64) {
        if !running {
            // Idle until now: nothing is filed, skip the ticks that passed meanwhile.
            running = true
            let currentTick = Int64(clamping: loop.now.uptimeNanoseconds) / tickNanoseconds
            lastProcessedTick = max(lastProcessedTick, currentTick)
            scheduleWakeup()
        }
        let due = max(tick, lastProcessedTick + 1)
        buckets[due, default: []].append(Entry(client: client))
    }

    private func scheduleWakeup() {
        loop.assumeIsolated().scheduleTask(in: .nanoseconds(tickNanoseconds)) { [self] in
            self.advance()
        }
    }

    private func advance() {
        let now = loop.now
        let currentTick = Int64(clamping: now.uptimeNanoseconds) / tickNanoseconds
        while lastProcessedTick < currentTick {
            lastProcessedTick += 1
            guard let entries = buckets.removeValue(forKey: lastProcessedTick) else { continue }
            for entry in entries {
                entry.client?.deadlineTick(lastProcessedTick, now: now)
            }
        }
        if buckets.isEmpty {
            running = false
        } else {
            scheduleWakeup()
        }
    }
}
