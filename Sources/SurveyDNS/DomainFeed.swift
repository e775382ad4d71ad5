extension DomainPipeline {
    /// The resolver's result stream ended while domains were still being resolved: the
    /// resolver's owner finished the stream, or the task running the loop was cancelled.
    public struct StreamEnded: Error, Sendable, CustomStringConvertible {
        /// Domains submitted whose results never came.
        public var outstanding: Int
        public var description: String {
            "the resolver's result stream ended with \(outstanding) domains still being resolved"
        }
    }

    /// The DNS loop of `scan` and `resolve`: keeps up to `window` domains in the resolver,
    /// taking input through `read`, and hands each round of results to `round`.
    ///
    /// - `read` takes one input item and submits (`submit(domain:token:)`) what it wants
    ///   resolved, or nothing (a bad line, a duplicate, an excluded name); it returns false at
    ///   the end of the input. It is called while fewer than `window` domains are outstanding.
    /// - `round` gets the events of one round of replies in dependency order (empty when
    ///   nothing was outstanding) and whether the input is done; it returns false to read no
    ///   more input (a stop: what was submitted is still resolved and handed over).
    ///
    /// Returns once the input is done and every submitted domain has had its event. Throws
    /// `StreamEnded` when the resolver's stream ends before that, instead of waiting for
    /// results that will not come.
    public func run(
        window: Int,
        read: () throws -> Bool,
        round: (_ events: [Event], _ inputDone: Bool) async throws -> Bool
    ) async throws {
        var inputDone = false
        while true {
            while !inputDone && outstanding < window {
                if try !read() { inputDone = true }
            }
            var events: [Event] = []
            // A host lookup is only ever pending for an outstanding domain, so nothing
            // outstanding means nothing to wait for.
            if outstanding > 0 {
                guard let next = await next() else { throw StreamEnded(outstanding: outstanding) }
                events = next
            }
            if try await !round(events, inputDone) { inputDone = true }
            if inputDone && outstanding == 0 { return }
        }
    }
}
