import Foundation
import NIOCore
import NIOPosix
import SurveyTLS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// State shared by every connection of a farm.
// Unchecked: immutable after init apart from members that are themselves thread-safe.
final class FarmSharedState: @unchecked Sendable {
    let greylist: Greylist
    let counters = FarmCounters()
    let tarpitSeconds: Double
    let sessionTimeout: Double
    private let lock = NSLock()
    private var open: [ObjectIdentifier: Channel] = [:]
    private var nextConnection: UInt64 = 0

    init(spec: FarmSpec) {
        greylist = Greylist(delay: spec.greylistDelay, window: spec.greylistWindow)
        tarpitSeconds = spec.tarpitSeconds
        sessionTimeout = spec.sessionTimeout
    }

    /// Records an accepted connection; returns its number.
    func register(_ channel: Channel, address: String) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        nextConnection += 1
        open[ObjectIdentifier(channel)] = channel
        counters.update {
            $0.connections += 1
            $0.connectionsByAddress[address, default: 0] += 1
        }
        return nextConnection
    }

    func unregister(_ id: ObjectIdentifier) {
        lock.lock()
        open[id] = nil
        lock.unlock()
    }

    var openChannels: [Channel] {
        lock.lock()
        defer { lock.unlock() }
        return Array(open.values)
    }
}

/// The running farm: one listening socket per simulated host, SMTP sessions on the given
/// event loop group. Stop it with `stop()`; the caller owns (and shuts down) the group.
public final class FarmServer: Sendable {
    public let plan: FarmPlan
    private let listeners: [Channel]
    private let shared: FarmSharedState
    private let certificates: FarmCertificates
    private let policy: FarmPolicyServer

    private init(
        plan: FarmPlan, listeners: [Channel], shared: FarmSharedState, certificates: FarmCertificates,
        policy: FarmPolicyServer
    ) {
        self.plan = plan
        self.listeners = listeners
        self.shared = shared
        self.certificates = certificates
        self.policy = policy
    }

    /// Builds every certificate and TLS context, raises the open-file limit, and binds
    /// `base + i : port` for every host `i` in `hosts` (default: all), then the HTTPS policy
    /// servers whose addresses lie in that range (`FarmPolicyServer`). Throws (after closing
    /// what was bound) when a listener cannot be bound.
    public static func start(
        plan: FarmPlan, group: EventLoopGroup, hosts: Range<Int>? = nil, bindConcurrency: Int = 256
    ) async throws -> FarmServer {
        let range = hosts ?? plan.hosts.indices
        guard range.lowerBound >= 0, range.upperBound <= plan.hosts.count else {
            throw FarmSpecError("host range \(range) outside 0..<\(plan.hosts.count)")
        }
        let needed = range.count + connectionReserve
        let limit = ResourceLimits.raiseOpenFiles(to: UInt64(needed))
        guard limit >= UInt64(range.count + 256) else {
            throw FarmSpecError(
                "open-file limit \(limit) is too low for \(range.count) listeners (need about \(needed)); "
                    + "mxfarm splits larger farms over several processes")
        }
        let certificates = try FarmCertificates(plan: plan, range: range)
        let shared = FarmSharedState(spec: plan.spec)
        let port = plan.spec.port

        let bound = ChannelCollector()
        do {
            try await withThrowingTaskGroup(of: Channel.self) { tasks in
                var next = range.lowerBound
                func addTask() {
                    let host = plan.hosts[next]
                    let context = certificates.contexts[next]
                    next += 1
                    tasks.addTask {
                        try await bootstrap(group: group, host: host, tlsContext: context, shared: shared)
                            .bind(host: host.ip.description, port: port).get()
                    }
                }
                while next < range.upperBound && next < range.lowerBound + bindConcurrency { addTask() }
                while let channel = try await tasks.next() {
                    bound.append(channel)
                    if next < range.upperBound { addTask() }
                }
            }
        } catch {
            for channel in bound.all { try? await channel.close() }
            throw FarmSpecError("cannot bind the farm's listeners: \(error)")
        }
        // The HTTPS policy servers of the hosts in `range` (FarmPolicyServer.swift).
        let policy: FarmPolicyServer
        do {
            policy = try await FarmPolicyServer.start(
                plan: plan, group: group, range: range, counters: shared.counters)
        } catch {
            for channel in bound.all { try? await channel.close() }
            throw error
        }
        return FarmServer(
            plan: plan, listeners: bound.all, shared: shared, certificates: certificates, policy: policy)
    }

    private static func bootstrap(
        group: EventLoopGroup, host: FarmHost, tlsContext: TLSContext?, shared: FarmSharedState
    ) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPFarmHandler(host: host, tlsContext: tlsContext, shared: shared))
                }
            }
    }

    /// File descriptors kept free for connections (and the event loops) beyond the listeners.
    public static let connectionReserve = 4096

    /// How many listeners one process can hold under its open-file hard limit.
    public static var listenersPerProcess: Int {
        max(1, Int(min(ResourceLimits.openFilesHardLimit, UInt64(Int.max))) - connectionReserve)
    }

    /// Closes every listener, then every open session.
    public func stop() async throws {
        for channel in listeners {
            try? await channel.close()
        }
        await policy.stop()
        for channel in shared.openChannels {
            try? await channel.close()
        }
    }

    /// `DATA`/`BDAT` commands received so far (a well-behaved scanner never sends one).
    public var dataCommandsSeen: Int { shared.counters.snapshot.dataCommands }

    public var statistics: FarmStatistics { shared.counters.snapshot }

    /// Number of listening sockets.
    public var listenerCount: Int { listeners.count }

    /// Distinct server TLS contexts built at start.
    public var tlsContextCount: Int { certificates.contextCount }

    /// HTTPS policy-server listeners, the policy hosts they serve, and their TLS contexts.
    public var policyListenerCount: Int { policy.listenerCount }
    public var policySiteCount: Int { policy.siteCount }
    public var policyContextCount: Int { policy.contextCount }

    /// The leaf certificate host `index` presents (nil for hosts without TLS).
    public func leafCertificate(host index: Int) -> Certificate? {
        certificates.leaves[index]
    }
}

// Unchecked: a list behind a lock.
private final class ChannelCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var channels: [Channel] = []

    func append(_ channel: Channel) {
        lock.lock()
        channels.append(channel)
        lock.unlock()
    }

    var all: [Channel] {
        lock.lock()
        defer { lock.unlock() }
        return channels
    }
}

/// Process resource limits.
public enum ResourceLimits {
    /// Raises RLIMIT_NOFILE's soft limit to `wanted` (raising the hard limit too when the
    /// process may, as root can); returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseOpenFiles(to wanted: UInt64) -> UInt64 {
        var current = rlimit()
        guard getrlimit(resourceNoFile, &current) == 0 else { return 0 }
        if UInt64(current.rlim_cur) >= wanted { return UInt64(current.rlim_cur) }
        if UInt64(current.rlim_max) < wanted {
            var raised = rlimit(rlim_cur: rlim_t(wanted), rlim_max: rlim_t(wanted))
            if setrlimit(resourceNoFile, &raised) == 0 { return wanted }
        }
        var soft = current
        soft.rlim_cur = min(current.rlim_max, rlim_t(wanted))
        _ = setrlimit(resourceNoFile, &soft)
        var after = rlimit()
        guard getrlimit(resourceNoFile, &after) == 0 else { return 0 }
        return UInt64(after.rlim_cur)
    }

    /// The hard RLIMIT_NOFILE (0 when unknown).
    public static var openFilesHardLimit: UInt64 {
        var current = rlimit()
        guard getrlimit(resourceNoFile, &current) == 0 else { return 0 }
        return UInt64(current.rlim_max)
    }

    #if canImport(Glibc)
        private static let resourceNoFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resourceNoFile = RLIMIT_NOFILE
    #endif
}
