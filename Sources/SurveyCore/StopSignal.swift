import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A stop request: SIGINT/SIGTERM (or other signals), EOF on standard input, or the program
/// itself (`fire`). The one stop type of both executables: `mxsurvey scan` cancels its scan
/// on it (`onStop`); `mxfarm` waits for it and reports why it stopped.
///
/// While it exists the signals' default action is disabled (they are ignored and delivered
/// to it instead). With `exitOnRepeat`, a second signal ends the process at once with
/// that status, for a stop that takes too long.
public final class StopSignal: Sendable {
    private struct State {
        var why: String?
        var signalCount = 0
        var waiters: [CheckedContinuation<String, Never>] = []
        var actions: [@Sendable () -> Void] = []
    }
    private let state = Mutex(State())
    /// The signal sources, kept for `deinit`: set once in `init`, cancelled once in `deinit`
    /// (Dispatch's source types are not marked Sendable; a source is thread-safe).
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    /// - `watchStdin`: EOF on standard input fires it too (a worker process whose supervisor
    ///   went away).
    /// - `onFirstSignal`: runs once, on the first signal (a note on stderr).
    public init(
        signals: [Int32] = [SIGINT, SIGTERM], watchStdin: Bool = false, exitOnRepeat: Int32? = nil,
        onFirstSignal: (@Sendable () -> Void)? = nil
    ) {
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: number, queue: .global()))
        }
        self.sources = sources
        for (number, source) in zip(signals, sources) {
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let count: Int = self.state.withLock {
                    $0.signalCount += 1
                    return $0.signalCount
                }
                if count > 1, let exitOnRepeat { _exit(exitOnRepeat) }
                if count == 1 { onFirstSignal?() }
                self.fire("signal \(number)")
            }
            source.resume()
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
    public var isSet: Bool { state.withLock { $0.why != nil } }

    /// Why the first stop was requested (nil: not yet).
    public var reason: String? { state.withLock { $0.why } }

    /// Requests a stop; the first reason is the one kept.
    public func fire(_ reason: String) {
        let (value, waiting, actions):
            (String, [CheckedContinuation<String, Never>], [@Sendable () -> Void]) =
                state.withLock { state in
                    let first = state.why == nil
                    if first { state.why = reason }
                    defer {
                        state.waiters = []
                        state.actions = []
                    }
                    return (state.why ?? reason, state.waiters, first ? state.actions : [])
                }
        for waiter in waiting { waiter.resume(returning: value) }
        for action in actions { action() }
    }

    /// Runs `action` once when the stop is requested (at once if it already was), e.g.
    /// cancelling the task that does the work.
    public func onStop(_ action: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { state in
            if state.why != nil { return true }
            state.actions.append(action)
            return false
        }
        if now { action() }
    }

    /// Waits for the stop request and returns its reason.
    public func wait() async -> String {
        await withCheckedContinuation { continuation in
            let now: String? = state.withLock { state in
                if let why = state.why { return why }
                state.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}
