import Foundation
import SurveyCore
import Synchronization

/// One lookup handed to a `ResolutionStream`; `token` comes back with its outcome.
public struct ResolutionJob: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `DomainResolution` of a domain (MX, implicit MX, null MX …).
        case domain
        /// `HostResolution` of an MX host (A + AAAA).
        case host
    }
    public var kind: Kind
    public var name: String
    public var token: Int

    public init(_ kind: Kind, _ name: String, token: Int) {
        self.kind = kind
        self.name = name
        self.token = token
    }
}

/// The result of one `ResolutionJob`.
public enum ResolutionOutcome: Sendable {
    case domain(DomainResolution, token: Int)
    case host(HostResolution, token: Int)
}

/// Many lookups at once, without a task or a continuation per lookup: jobs go in with
/// `submit` (from any thread), outcomes come out in batches on `outcomes`. The stream has
/// no bound of its own; its consumer limits the jobs it has outstanding.
///
/// `Resolver.stream()` runs every job on the resolver's driver thread and yields one batch
/// per round of replies. `init(resolveDomain:resolveHost:)` runs each job as a task over
/// any pair of async functions (resolvers without a driver, e.g. test doubles).
public final class ResolutionStream: Sendable {
    public let outcomes: AsyncStream<[ResolutionOutcome]>
    private let continuation: AsyncStream<[ResolutionOutcome]>.Continuation
    private let backend: Backend

    private enum Backend: Sendable {
        case driver(Driver, tries: Int, outbox: Outbox)
        case tasks(
            domain: @Sendable (String) async -> DomainResolution,
            host: @Sendable (String) async -> HostResolution)
    }

    init(driver: Driver, tries: Int) {
        let (stream, continuation) = AsyncStream<[ResolutionOutcome]>.makeStream()
        outcomes = stream
        self.continuation = continuation
        backend = .driver(driver, tries: tries, outbox: Outbox(driver: driver, continuation: continuation))
    }

    public init(
        resolveDomain: @escaping @Sendable (String) async -> DomainResolution,
        resolveHost: @escaping @Sendable (String) async -> HostResolution
    ) {
        let (stream, continuation) = AsyncStream<[ResolutionOutcome]>.makeStream()
        outcomes = stream
        self.continuation = continuation
        backend = .tasks(domain: resolveDomain, host: resolveHost)
    }

    /// Starts `jobs`; each one's outcome arrives once on `outcomes`.
    public func submit(_ jobs: [ResolutionJob]) {
        switch backend {
        case .driver(let driver, let tries, let outbox):
            let work: [any ResolverJob] = jobs.map { job in
                let token = job.token
                switch job.kind {
                case .domain:
                    return DomainJob(job.name, tries: tries) { outbox.add(.domain($0, token: token)) }
                case .host:
                    return HostJob(job.name, tries: tries) { outbox.add(.host($0, token: token)) }
                }
            }
            let rejected = driver.submit(work)
            guard !rejected.isEmpty else { return }
            let shutDown = ShutDownSender()
            for job in rejected { job.start(shutDown) }
            outbox.flush()
        case .tasks(let domain, let host):
            let continuation = self.continuation
            for job in jobs {
                Task {
                    switch job.kind {
                    case .domain: continuation.yield([.domain(await domain(job.name), token: job.token)])
                    case .host: continuation.yield([.host(await host(job.name), token: job.token)])
                    }
                }
            }
        }
    }

    /// Ends `outcomes` (outcomes still to come are dropped).
    public func finish() { continuation.finish() }
}

/// Collects a driver-backed stream's outcomes during a round of replies; the driver
/// flushes it at the end of the round, so the consumer wakes once per round.
private final class Outbox: DriverFlushable, Sendable {
    /// Outcomes of the round, and whether a flush is scheduled.
    private let pending = Mutex((items: [ResolutionOutcome](), scheduled: false))
    private let driver: Driver
    private let continuation: AsyncStream<[ResolutionOutcome]>.Continuation

    init(driver: Driver, continuation: AsyncStream<[ResolutionOutcome]>.Continuation) {
        self.driver = driver
        self.continuation = continuation
    }

    func add(_ outcome: ResolutionOutcome) {
        let first: Bool = pending.withLock { pending in
            pending.items.append(outcome)
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if first && !driver.scheduleFlush(self) { flush() }
    }

    func flush() {
        let batch: [ResolutionOutcome] = pending.withLock { pending in
            pending.scheduled = false
            defer { pending.items.removeAll(keepingCapacity: true) }
            return pending.items
        }
        if !batch.isEmpty { continuation.yield(batch) }
    }
}
