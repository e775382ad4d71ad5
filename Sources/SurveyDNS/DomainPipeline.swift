import SurveyCore

/// The DNS stage of a scan: domains in, each domain out once all of its MX hosts are
/// resolved, and every MX host resolved once however many domains share it.
///
/// Events come in dependency order: a host's `.host` event before the `.domain` events of
/// the domains that name it, so a consumer that stores them in order never stores a domain
/// whose hosts are missing (which keeps resume simple). Only one task uses a pipeline;
/// it keeps one entry per distinct MX host name and nothing per finished domain.
public final class DomainPipeline {
    public enum Event: Sendable {
        /// An MX host, the first time any domain named it. `firstDomain` is that domain.
        case host(HostResolution, firstDomain: String)
        /// A domain whose MX hosts all have had their `.host` event (now or earlier).
        case domain(DomainResolution, token: Int)
    }

    private enum HostState {
        /// Being resolved; the tokens of the domains waiting for it.
        case pending(firstDomain: String, waiting: [Int])
        case done
    }

    private let stream: ResolutionStream
    private var iterator: AsyncStream<[ResolutionOutcome]>.Iterator
    private let hostOverride: (String) -> HostResolution?
    private var hosts: [String: HostState] = [:]
    /// Domains resolved but waiting for hosts: the resolution and how many hosts are missing.
    private var waiting: [Int: (resolution: DomainResolution, missing: Int)] = [:]
    private var toSubmit: [ResolutionJob] = []
    /// Host names being resolved, by job token.
    private var hostJobs: [Int: String] = [:]
    private var nextHostToken = 0

    /// Domains submitted whose `.domain` event has not been returned yet.
    public private(set) var outstanding = 0
    /// Distinct MX host names seen (resolved, being resolved, or marked resolved).
    public var hostCount: Int { hosts.count }

    /// `hostOverride` is asked before an MX host is resolved; a non-nil result is used
    /// instead of DNS (e.g. a host on the exclusion list).
    public init(stream: ResolutionStream, hostOverride: @escaping (String) -> HostResolution? = { _ in nil })
    {
        self.stream = stream
        self.iterator = stream.outcomes.makeAsyncIterator()
        self.hostOverride = hostOverride
    }

    deinit { stream.finish() }

    /// Queues `domain` (sent to the resolver with the next call of `next`).
    public func submit(domain: String, token: Int) {
        outstanding += 1
        toSubmit.append(ResolutionJob(.domain, domain, token: token))
    }

    /// Hosts handled before (a resumed scan): they get no `.host` event and no lookup.
    public func markResolved<S: Sequence<String>>(hosts names: S) {
        for name in names where hosts[name] == nil { hosts[name] = .done }
    }

    /// The next events; waits for the resolver. Returns nil when nothing is outstanding.
    public func next() async -> [Event]? {
        var events: [Event] = []
        while events.isEmpty {
            guard outstanding > 0 || !hostJobs.isEmpty else { return nil }
            if !toSubmit.isEmpty {
                stream.submit(toSubmit)
                toSubmit.removeAll(keepingCapacity: true)
            }
            guard let batch = await iterator.next() else { return nil }
            for outcome in batch {
                switch outcome {
                case .domain(let resolution, let token):
                    domainResolved(resolution, token: token, into: &events)
                case .host(let resolution, let token):
                    guard let name = hostJobs.removeValue(forKey: token) else { continue }
                    hostResolved(name, resolution, into: &events)
                }
            }
        }
        if !toSubmit.isEmpty {
            stream.submit(toSubmit)
            toSubmit.removeAll(keepingCapacity: true)
        }
        return events
    }

    private func domainResolved(_ resolution: DomainResolution, token: Int, into events: inout [Event]) {
        var missing = Set<String>()
        for mx in resolution.mx {
            switch hosts[mx.host] {
            case .done:
                continue
            case .pending(let first, var tokens):
                if missing.insert(mx.host).inserted {
                    tokens.append(token)
                    hosts[mx.host] = .pending(firstDomain: first, waiting: tokens)
                }
            case nil:
                if let known = hostOverride(mx.host) {
                    hosts[mx.host] = .done
                    events.append(.host(known, firstDomain: resolution.domain))
                } else {
                    missing.insert(mx.host)
                    hosts[mx.host] = .pending(firstDomain: resolution.domain, waiting: [token])
                    nextHostToken += 1
                    hostJobs[nextHostToken] = mx.host
                    toSubmit.append(ResolutionJob(.host, mx.host, token: nextHostToken))
                }
            }
        }
        if missing.isEmpty {
            outstanding -= 1
            events.append(.domain(resolution, token: token))
        } else {
            waiting[token] = (resolution, missing.count)
        }
    }

    private func hostResolved(_ name: String, _ resolution: HostResolution, into events: inout [Event]) {
        guard case .pending(let first, let tokens) = hosts[name] else { return }
        hosts[name] = .done
        events.append(.host(resolution, firstDomain: first))
        for token in tokens {
            guard var entry = waiting[token] else { continue }
            entry.missing -= 1
            if entry.missing == 0 {
                waiting[token] = nil
                outstanding -= 1
                events.append(.domain(entry.resolution, token: token))
            } else {
                waiting[token] = entry
            }
        }
    }
}
