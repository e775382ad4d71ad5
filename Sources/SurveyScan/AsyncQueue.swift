import DequeModule
import Foundation
import SurveyCore

/// A bounded multi-producer, single-consumer queue: `send` suspends while the queue is
/// full, so a fast stage (DNS) cannot run ahead of a slow one (probes) without bound.
public actor BoundedQueue<Element: Sendable> {
    private var items = Deque<Element>()
    private let capacity: Int
    private var waitingSenders: [CheckedContinuation<Void, Never>] = []
    private var waitingReceiver: CheckedContinuation<Element?, Never>?
    private var finished = false

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { items.count }

    /// Appends an element, waiting while the queue is full. Returns `false` if the queue
    /// was finished (the element is dropped).
    @discardableResult
    public func send(_ element: Element) async -> Bool {
        while count >= capacity && !finished {
            await withCheckedContinuation { waitingSenders.append($0) }
        }
        if finished { return false }
        if let receiver = waitingReceiver {
            waitingReceiver = nil
            receiver.resume(returning: element)
        } else {
            items.append(element)
        }
        return true
    }

    /// Takes the next element; `nil` once the queue is finished and empty.
    public func receive() async -> Element? {
        if let e = items.popFirst() {
            if !waitingSenders.isEmpty { waitingSenders.removeFirst().resume() }
            return e
        }
        if finished { return nil }
        return await withCheckedContinuation { waitingReceiver = $0 }
    }

    /// Takes up to `limit` elements at once (waiting for the first); empty once the queue
    /// is finished and empty.
    public func receive(upTo limit: Int) async -> [Element] {
        if items.isEmpty {
            guard let first = await receive() else { return [] }
            return [first]
        }
        let batch = Array(items.prefix(max(1, limit)))
        items.removeFirst(batch.count)
        let wake = min(batch.count, waitingSenders.count)
        for sender in waitingSenders.prefix(wake) { sender.resume() }
        waitingSenders.removeFirst(wake)
        return batch
    }

    /// No more elements will be sent; the receiver drains what is left, then gets `nil`.
    public func finish() {
        finished = true
        if items.isEmpty, let r = waitingReceiver {
            waitingReceiver = nil
            r.resume(returning: nil)
        }
        for s in waitingSenders { s.resume() }
        waitingSenders.removeAll()
    }
}

/// A token bucket for the global rate of new sessions (`--rate`).
public actor RateLimiter {
    private let rate: Double
    private let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    /// `perSecond` ≤ 0 means unlimited.
    public init(perSecond: Double, burst: Double? = nil) {
        rate = perSecond
        self.burst = burst ?? max(1, perSecond / 10)
        tokens = self.burst
        last = .now
    }

    /// Waits until one session may start.
    public func acquire() async {
        guard rate > 0 else { return }
        while true {
            let now = ContinuousClock.now
            let elapsed = now - last
            last = now
            let seconds = elapsed.inSeconds
            tokens = min(burst, tokens + seconds * rate)
            if tokens >= 1 {
                tokens -= 1
                return
            }
            let wait = (1 - tokens) / rate
            try? await Task.sleep(for: .seconds(wait))
        }
    }
}
