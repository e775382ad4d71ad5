import SurveyCore

/// Resolves each MX host name once per scan, however many domains share it: concurrent
/// callers for the same host await the same lookup, later callers get the stored result.
///
/// Only host results are kept (one entry per distinct MX host name, far fewer than
/// domains); nothing per domain.
public actor HostCache {
    private enum Entry {
        case pending(Task<HostResolution, Never>)
        case done(HostResolution)
    }

    /// One lookup's result and whether this caller triggered the DNS queries.
    public struct Lookup: Sendable, Hashable {
        public var resolution: HostResolution
        /// True for exactly one caller per host name: the one whose call resolved it.
        public var isFirst: Bool
    }

    public struct Statistics: Sendable, Hashable {
        /// Calls to `resolve`/`lookup`.
        public var lookups = 0
        /// Distinct host names resolved (or being resolved).
        public var hosts = 0
    }

    private let resolver: Resolver
    private var entries: [String: Entry] = [:]
    private var lookups = 0

    public init(resolver: Resolver) {
        self.resolver = resolver
    }

    public var statistics: Statistics { Statistics(lookups: lookups, hosts: entries.count) }

    public func resolve(_ host: String) async -> HostResolution {
        await lookup(host).resolution
    }

    public func lookup(_ host: String) async -> Lookup {
        let key = normalizedName(host)
        lookups += 1
        switch entries[key] {
        case .done(let result):
            return Lookup(resolution: result, isFirst: false)
        case .pending(let task):
            return Lookup(resolution: await task.value, isFirst: false)
        case nil:
            let resolver = self.resolver
            let task = Task { await resolver.resolveHost(key) }
            entries[key] = .pending(task)
            let result = await task.value
            entries[key] = .done(result)
            return Lookup(resolution: result, isFirst: true)
        }
    }

    /// The stored result for a host, if it has been resolved.
    public func cached(_ host: String) -> HostResolution? {
        if case .done(let result) = entries[normalizedName(host)] { return result }
        return nil
    }
}
