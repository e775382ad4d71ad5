import Foundation

/// How late the scanner's own tasks run. A task that sleeps `interval` and wakes much later
/// shows that the machine is overloaded (more sessions than its CPU carries): then the
/// scanner's deadlines also measure its own slowness, e.g. a greeting that arrived in time
/// but was read after its deadline counts as `banner_timeout`. The largest lag goes into
/// the scan's summary and `scans.max_lag_ms`; the first lag of `threshold` or more is
/// reported at once (the scanner logs a warning).
public final class LagMonitor: @unchecked Sendable {
    public let interval: Duration
    public let threshold: Duration
    private let lock = NSLock()
    private var largest: Duration = .zero
    private var over = 0

    public init(interval: Duration = .milliseconds(100), threshold: Duration = .seconds(1)) {
        self.interval = interval
        self.threshold = threshold
    }

    /// The largest lag seen so far.
    public var maxLag: Duration { lock.withLock { largest } }
    /// How many samples lagged by `threshold` or more.
    public var overloadedSamples: Int { lock.withLock { over } }

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

    /// Adds one sample; true when it is the first at or over the threshold.
    @discardableResult
    func record(_ lag: Duration) -> Bool {
        lock.withLock {
            largest = max(largest, lag)
            guard lag >= threshold else { return false }
            over += 1
            return over == 1
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    public var milliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}
