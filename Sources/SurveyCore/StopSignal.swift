import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A stop request: SIGINT/SIGTERM (or other signals), EOF on standard input, or the program
/// itself (`fire`). The one stop type of both executables: `mxsurvey scan` polls `isSet`
/// and finishes what is in flight; `mxfarm` waits for it and reports why it stopped.
///
/// While it exists the signals' default action is disabled (they are ignored and delivered
/// to it instead). With `exitOnRepeat`, a second signal ends the process at once with
/// that status, for a stop that takes too long.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private var why: String?
    private var signalCount = 0
    private var waiters: [CheckedContinuation<String, Never>] = []

    /// - `watchStdin`: EOF on standard input fires it too (a worker process whose supervisor
    ///   went away).
    /// - `onFirstSignal`: runs once, on the first signal (a note on stderr).
    public init(
        signals: [Int32] = [SIGINT, SIGTERM], watchStdin: Bool = false, exitOnRepeat: Int32? = nil,
        onFirstSignal: (@Sendable () -> Void)? = nil
    ) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let count: Int = self.lock.withLock {
                    self.signalCount += 1
                    return self.signalCount
                }
                if count > 1, let exitOnRepeat { _exit(exitOnRepeat) }
                if count == 1 { onFirstSignal?() }
                self.fire("signal \(number)")
            }
            source.resume()
            sources.append(source)
        }
        if watchStdin {
            let thread = Thread { [weak self] in
                while !FileHandle.standardInput.availableData.isEmpty {}
                self?.fire("standard input closed")
            }
            thread.start()
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// Whether a stop was requested.
    public var isSet: Bool { lock.withLock { why != nil } }

    /// Why the first stop was requested (nil: not yet).
    public var reason: String? { lock.withLock { why } }

    /// Requests a stop; the first reason is the one kept.
    public func fire(_ reason: String) {
        let (value, waiting): (String, [CheckedContinuation<String, Never>]) = lock.withLock {
            if why == nil { why = reason }
            defer { waiters = [] }
            return (why ?? reason, waiters)
        }
        for waiter in waiting { waiter.resume(returning: value) }
    }

    /// Waits for the stop request and returns its reason.
    public func wait() async -> String {
        await withCheckedContinuation { continuation in
            let now: String? = lock.withLock {
                if let why { return why }
                waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}
