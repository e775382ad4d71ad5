import Foundation
import SurveyCore

#if canImport(Glibc)
    import Glibc
#endif

/// What `Resolver.checkReachable` found out about one server.
public struct ServerCheck: Sendable, Hashable, CustomStringConvertible {
    public enum Result: Sendable, Hashable, CustomStringConvertible {
        /// A DNS reply other than REFUSED (NOERROR, NXDOMAIN, SERVFAIL …): the server answers.
        case answered
        /// REFUSED: the server is there but does not resolve for us.
        case refused
        /// Nothing listens on the port (ICMP port unreachable).
        case connectionRefused
        /// No reply within the time allowed, the query sent twice.
        case timedOut(after: Duration)
        /// Anything else c-ares reported.
        case failed(String)

        public var description: String {
            switch self {
            case .answered: "answered"
            case .refused: "REFUSED to '. NS'"
            case .connectionRefused: "connection refused"
            case .timedOut(let after):
                milliseconds(after) % 1000 == 0
                    ? "no reply within \(milliseconds(after) / 1000) s"
                    : "no reply within \(milliseconds(after)) ms"
            case .failed(let message): message
            }
        }
    }

    public var server: ServerAddress
    public var result: Result

    public init(server: ServerAddress, result: Result) {
        self.server = server
        self.result = result
    }

    /// "127.0.0.1:1 (connection refused)".
    public var description: String { "\(server) (\(result))" }
}

/// Why `Resolver.checkReachable` judged the resolver unusable; `description` is the message
/// for the user, naming every server and what it did.
public enum ResolverUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    /// No server gave any DNS reply (or there is no server to ask).
    case unreachable([ServerCheck])
    /// No server gave a usable reply and at least one answered REFUSED: the resolver is
    /// there but refuses recursion for us (e.g. an access list without our address).
    case refusesRecursion([ServerCheck])

    /// Each server and what it did.
    public var checks: [ServerCheck] {
        switch self {
        case .unreachable(let checks), .refusesRecursion(let checks): checks
        }
    }

    /// E.g. "resolver 127.0.0.1:1 did not answer (connection refused)", "resolver
    /// 127.0.0.1:5353 refuses recursion for us (REFUSED to '. NS')", "no resolver answered:
    /// 192.0.2.1:53 (no reply within 3 s), 127.0.0.1:1 (connection refused)".
    public var description: String {
        switch self {
        case .unreachable(let checks):
            if checks.isEmpty { return "no resolver is configured" }
            if checks.count == 1 {
                return "resolver \(checks[0].server) did not answer (\(checks[0].result))"
            }
            return "no resolver answered: " + checks.map(\.description).joined(separator: ", ")
        case .refusesRecursion(let checks):
            if checks.count == 1 {
                return "resolver \(checks[0].server) refuses recursion for us (\(checks[0].result))"
            }
            return "no resolver will resolve for us: " + checks.map(\.description).joined(separator: ", ")
        }
    }
}

extension Resolver {
    /// Checks, before a scan, that the resolver answers at all, so that an unreachable or
    /// refusing resolver stops the scan with one clear error instead of turning into a
    /// `timeout` or `error` verdict for every domain.
    ///
    /// Asks every server of the channel (`servers`, or those of resolv.conf) `. NS` with
    /// recursion desired: every recursive resolver has the root's name servers at hand, so
    /// the answer costs it nothing. The servers are asked at the same time, each over a UDP
    /// socket of its own rather than through the channel (which would move on to the next
    /// server, and which drops the header-only REFUSED of an unbound whose access-control
    /// refuses us); servers that have not answered after a third of `timeout` are asked
    /// again; the check takes at most `timeout`.
    ///
    /// Any DNS reply counts as reachable (NXDOMAIN or SERVFAIL too), except REFUSED.
    /// - Returns: what each server did, when at least one gave a reply other than REFUSED;
    ///   the others deserve a warning.
    /// - Throws: `ResolverUnavailable.refusesRecursion` when no server gave such a reply and
    ///   at least one answered REFUSED, `.unreachable` when none gave any reply.
    @discardableResult
    public func checkReachable(timeout: Duration = .seconds(3)) async throws(ResolverUnavailable)
        -> [ServerCheck]
    {
        let targets = channelServers
        guard !targets.isEmpty else { throw .unreachable([]) }
        let edns = config.ednsPayloadSize
        let results = await withCheckedContinuation {
            (continuation: CheckedContinuation<[ServerCheck.Result], Never>) in
            // poll() blocks: a thread of its own rather than one of the cooperative pool's.
            let thread = Thread {
                continuation.resume(
                    returning: RootNSProbe.run(targets, timeout: timeout, edns: edns))
            }
            thread.start()
        }
        let checks = zip(targets, results).map { ServerCheck(server: $0, result: $1) }
        if checks.contains(where: { $0.result == .answered }) { return checks }
        if checks.contains(where: { $0.result == .refused }) { throw .refusesRecursion(checks) }
        throw .unreachable(checks)
    }
}

/// `. NS` to each server over a UDP socket of its own, without c-ares: c-ares 1.18 drops a
/// reply whose question section differs from the query's, and unbound refuses a client of
/// its `access-control: … refuse` with the bare header (no question), which c-ares would
/// turn into a timeout.
enum RootNSProbe {
    static func run(_ servers: [ServerAddress], timeout: Duration, edns: Int?) -> [ServerCheck.Result] {
        var results = [ServerCheck.Result?](repeating: nil, count: servers.count)
        var sockets = [Int32](repeating: -1, count: servers.count)
        var messages = [[UInt8]](repeating: [], count: servers.count)
        var random = SystemRandomNumberGenerator()
        defer { for fd in sockets where fd >= 0 { close(fd) } }
        for (index, server) in servers.enumerated() {
            let id = UInt16.random(in: 0...UInt16.max, using: &random)
            messages[index] = queryMessage(id: id, name: "", type: 2, ednsPayloadSize: edns) ?? []
            switch connectedSocket(server) {
            case .socket(let fd): sockets[index] = fd
            case .failed(let result): results[index] = result
            }
        }
        func transmit(_ index: Int) {
            let message = messages[index]
            if send(sockets[index], message, message.count, 0) < 0 {
                results[index] = errno == ECONNREFUSED ? .connectionRefused : .failed(errorText("send"))
            }
        }
        for index in servers.indices where results[index] == nil { transmit(index) }

        let clock = ContinuousClock()
        let start = clock.now
        let resendAt = start + timeout / 3
        let deadline = start + timeout
        var resent = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let pending = servers.indices.filter { results[$0] == nil }
            if pending.isEmpty { break }
            let now = clock.now
            if now >= deadline { break }
            if !resent && now >= resendAt {
                resent = true
                for index in pending { transmit(index) }
                continue
            }
            let wait = (resent ? deadline : resendAt) - now
            var fds = pending.map { pollfd(fd: sockets[$0], events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(clamping: milliseconds(wait)))
            guard ready > 0 else { continue }
            for (slot, index) in pending.enumerated() where fds[slot].revents != 0 {
                while results[index] == nil {
                    let received = recv(sockets[index], &buffer, buffer.count, 0)
                    if received < 0 {
                        if errno == ECONNREFUSED {
                            results[index] = .connectionRefused
                        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                            results[index] = .failed(errorText("recv"))
                        }
                        if results[index] == nil && errno != EINTR { break }
                        continue
                    }
                    let message = messages[index]
                    // A reply (QR) with our ID; anything else is ignored.
                    guard received >= 12, buffer[0] == message[0], buffer[1] == message[1],
                        buffer[2] & 0x80 != 0
                    else { continue }
                    results[index] = buffer[3] & 0x0F == 5 ? .refused : .answered
                }
            }
        }
        return results.map { $0 ?? .timedOut(after: timeout) }
    }

    private enum Connected {
        case socket(Int32)
        case failed(ServerCheck.Result)
    }

    /// A non-blocking UDP socket connected to `server`, so that an ICMP port unreachable
    /// comes back as ECONNREFUSED and only the server's datagrams are received.
    private static func connectedSocket(_ server: ServerAddress) -> Connected {
        let family = server.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(family, datagramSocketType, 0)
        guard fd >= 0 else { return .failed(.failed(errorText("socket"))) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let connected: Bool
        switch server.family {
        case .ipv4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = server.port.bigEndian
            guard inet_pton(AF_INET, server.host, &address.sin_addr) == 1 else {
                close(fd)
                return .failed(.failed("not an IPv4 address"))
            }
            connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        case .ipv6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = server.port.bigEndian
            guard inet_pton(AF_INET6, server.host, &address.sin6_addr) == 1 else {
                close(fd)
                return .failed(.failed("not an IPv6 address"))
            }
            connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
                }
            }
        }
        guard connected else {
            let result = ServerCheck.Result.failed(errorText("connect"))
            close(fd)
            return .failed(result)
        }
        return .socket(fd)
    }

    private static let datagramSocketType: Int32 = {
        #if canImport(Glibc)
            Int32(SOCK_DGRAM.rawValue)
        #else
            SOCK_DGRAM
        #endif
    }()

    private static func errorText(_ call: String) -> String {
        "\(call): \(String(cString: strerror(errno)))"
    }
}

/// Whole milliseconds of `duration` (at least 1).
private func milliseconds(_ duration: Duration) -> Int {
    max(1, min(duration.milliseconds, Int(Int32.max)))
}
