import Synchronization

/// Ends the sessions of a stopping scan that are still running after its grace period:
/// every session registered when `fire` is called, or registered later, is cut off at once
/// (as a cancelled session is: status `connection_closed`, detail `cancelled`).
public final class SessionCutOff: Sendable {
    private struct State {
        var fired = false
        var next = 0
        var actions: [Int: @Sendable () -> Void] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// Whether the cut-off has happened (results of sessions it ended carry no facts).
    public var isFired: Bool { state.withLock { $0.fired } }

    /// Cuts off every registered session, and every one registered from now on.
    public func fire() {
        let actions: [@Sendable () -> Void] = state.withLock { state in
            state.fired = true
            defer { state.actions = [:] }
            return Array(state.actions.values)
        }
        for action in actions { action() }
    }

    /// Registers a session's cut-off; runs it at once when the cut-off has happened.
    func register(_ action: @escaping @Sendable () -> Void) -> Int? {
        let id: Int? = state.withLock { state in
            guard !state.fired else { return nil }
            state.next += 1
            state.actions[state.next] = action
            return state.next
        }
        if id == nil { action() }
        return id
    }

    func unregister(_ id: Int?) {
        guard let id else { return }
        _ = state.withLock { $0.actions.removeValue(forKey: id) }
    }
}
