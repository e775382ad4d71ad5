import Foundation
import NIOCore
import Synchronization
import SurveyCore

/// How late the scanner's own work runs: its tasks (`run`: a task that sleeps `interval`
/// and wakes much later) and the event loops its sessions run on (`watch`: a task repeated
/// every `interval` that fires much later). Lag shows that the machine is overloaded (more
/// sessions than its CPU carries): then the scanner's deadlines also measure its own
/// slowness, e.g. a greeting that arrived in time but was read after its deadline counts as
/// `banner_timeout`. The largest lag goes into the scan's summary and `scans.max_lag_ms`;
/// the first lag of `threshold` or more is reported at once (the scanner logs a warning).
public final class LagMonitor: Sendable {
    public let interval: Duration
    public let threshold: Duration
    /// The largest lag, and how many samples reached the threshold.
    private let samples = Mutex((largest: Duration.zero, over: 0))

    public init(interval: Duration = .milliseconds(100), threshold: Duration = .seconds(1)) {
        self.interval = interval
        self.threshold = threshold
    }

    /// The largest lag seen so far.
    public var maxLag: Duration { samples.withLock { $0.largest } }
    /// How many samples lagged by `threshold` or more.
    public var overloadedSamples: Int { samples.withLock { $0.over } }

    /// Samples until cancelled; `overloaded` gets the first lag of `threshold` or more.
    /// `sleep` is `Task.sleep` (tests give one that wakes late). Pass both by label: an
    /// unlabelled trailing closure would be taken as the first closure parameter.
    public func run(
        overloaded: @Sendable (Duration) -> Void = { _ in },
        sleep: @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) async {
        while !Task.isCancelled {
            let start = ContinuousClock.now
            await sleep(interval)
            if Task.isCancelled { return }
            if record(ContinuousClock.now - start - interval) { overloaded(maxLag) }
        }
    }

    /// Samples each loop until the returned tasks are cancelled: a task repeated `interval`
    /// after the previous one ran, whose lateness is its lag. `overloaded` gets the first
    /// lag of `threshold` or more (of this monitor's samples, whatever their source).
    public func watch(_ loops: [any EventLoop], overloaded: @escaping @Sendable (Duration) -> Void)
        -> [RepeatedTask]
    {
        let step = TimeAmount(interval)
        return loops.map { loop in
            let previous = LoopClock(NIODeadline.now())
            return loop.scheduleRepeatedTask(initialDelay: step, delay: step) { [self] _ in
                let now = NIODeadline.now()
                let late = now - previous.swap(now) - step
                if record(.nanoseconds(late.nanoseconds)) { overloaded(maxLag) }
            }
        }
    }

    /// Adds one sample; true when it is the first at or over the threshold.
    @discardableResult
    func record(_ lag: Duration) -> Bool {
        samples.withLock {
            $0.largest = max($0.largest, lag)
            guard lag >= threshold else { return false }
            $0.over += 1
            return $0.over == 1
        }
    }
}

/// When a watched loop's repeated task last ran.
private final class LoopClock: Sendable {
    private let last: Mutex<NIODeadline>
    init(_ start: NIODeadline) { last = Mutex(start) }
    /// Stores `now`; returns the time it replaces.
    func swap(_ now: NIODeadline) -> NIODeadline {
        last.withLock { last in
            defer { last = now }
            return last
        }
    }
}
